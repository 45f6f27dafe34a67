// Resampling audio that arrives in blocks (the microphone's) to the recognizer's rate, block by block,
// with the same output as resampling the whole recording at once: each output sample is a windowed
// sinc over the input around it, and the input a later output needs is kept between blocks. Files are
// resampled whole by the browser (audio.js); a live recording cannot be, or each update would cost
// as much as the recording so far.

/** Input samples on each side of an output sample that its filter reads, at the output's rate. */
const HALF_WIDTH = 16;
/** The filter passes up to this fraction of the output's Nyquist frequency. */
const PASSBAND = 0.92;

export class StreamResampler {
  #ratio;
  #cutoff;
  #halfWidth;
  /** Input from sample `#first` on (indices over the whole stream). */
  #input = new Float32Array(0);
  #first = 0;
  #received = 0;
  /** The next output sample. */
  #next = 0;

  constructor(fromRate, toRate) {
    if (!(fromRate > 0 && toRate > 0)) throw new RangeError(`sample rates must be positive (got ${fromRate} and ${toRate})`);
    this.#ratio = fromRate / toRate;
    // In cycles per input sample; below the input's own Nyquist frequency when upsampling.
    this.#cutoff = (0.5 * PASSBAND) / Math.max(this.#ratio, 1);
    this.#halfWidth = HALF_WIDTH * Math.max(this.#ratio, 1);
  }

  /** The output that `block` (input samples, in order) completes. */
  push(block) {
    const input = new Float32Array(this.#input.length + block.length);
    input.set(this.#input);
    input.set(block, this.#input.length);
    this.#input = input;
    this.#received += block.length;
    return this.#produce(false);
  }

  /** The rest of the output, once the input has ended (as if silence followed). */
  flush() {
    return this.#produce(true);
  }

  /** The outputs whose filter window the input has reached the end of (once it has `ended`, every
   * output whose time is inside the input). */
  #produce(ended) {
    const outputs = [];
    for (;;) {
      const t = this.#next * this.#ratio;
      if (ended ? t >= this.#received : Math.floor(t + this.#halfWidth) >= this.#received) break;
      outputs.push(this.#sample(t));
      this.#next++;
    }
    // Keep the input that the next output's window reaches back to.
    const keepFrom = Math.max(this.#first, Math.floor(this.#next * this.#ratio - this.#halfWidth) - 1);
    this.#input = this.#input.subarray(keepFrom - this.#first);
    this.#first = keepFrom;
    return Float32Array.from(outputs);
  }

  #sample(t) {
    const from = Math.max(0, Math.ceil(t - this.#halfWidth));
    const to = Math.min(this.#received - 1, Math.floor(t + this.#halfWidth));
    let sum = 0;
    for (let k = from; k <= to; k++) {
      const d = t - k;
      sum += this.#input[k - this.#first] * this.#tap(d);
    }
    return sum;
  }

  /** The low-pass filter at `d` input samples from its centre: a sinc in a Blackman window. */
  #tap(d) {
    const x = 2 * this.#cutoff * d;
    const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    const blackman = 0.42 + 0.5 * Math.cos((Math.PI * d) / this.#halfWidth) + 0.08 * Math.cos((2 * Math.PI * d) / this.#halfWidth);
    return 2 * this.#cutoff * sinc * blackman;
  }
}
