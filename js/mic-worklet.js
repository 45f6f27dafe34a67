// Runs on the audio rendering thread: mixes each 128-frame render quantum to mono and hands the
// samples to the page in blocks of about 0.1 s (fewer, larger messages).

const BLOCK_FRAMES = 4096;

class CaptureProcessor extends AudioWorkletProcessor {
  block = new Float32Array(BLOCK_FRAMES);
  filled = 0;

  constructor() {
    super();
    // Asked for when recording stops: the last, partly filled block.
    this.port.onmessage = () => this.port.postMessage({ last: this.block.slice(0, this.filled) });
  }

  process([input]) {
    const channels = input.length;
    if (channels === 0) return true;
    const frames = input[0].length;
    for (let i = 0; i < frames; i++) {
      let sum = 0;
      for (let c = 0; c < channels; c++) sum += input[c][i];
      this.block[this.filled++] = sum / channels;
      if (this.filled === BLOCK_FRAMES) {
        this.port.postMessage(this.block, [this.block.buffer]);
        this.block = new Float32Array(BLOCK_FRAMES);
        this.filled = 0;
      }
    }
    return true;
  }
}

registerProcessor("sakha-asr-capture", CaptureProcessor);
