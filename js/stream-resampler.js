// The one resampler of every browser input path (files read whole or in pieces, samples given to
// `transcribe`, the microphone), so the same recording gives the recognizer the same samples whatever
// its container: Web Audio's resampler differs between browsers and from this one. It resamples audio
// that arrives in blocks with the same output as resampling it all at once: each output sample is a
// windowed sinc over the input around it, and the input a later output needs is kept between blocks.

/** Input samples on each side of an output sample that its filter reads, at the output's rate. */
const HALF_WIDTH = 16;
/** The filter passes up to this fraction of the output's Nyquist frequency. */
const PASSBAND = 0.92;

/** Mono `samples` at `fromRate` (Hz) at `toRate`: a copy, resampled where the rates differ. */
export function resample(samples, fromRate, toRate) {
  if (fromRate === toRate) return samples.slice();
  const resampler = new StreamResampler(fromRate, toRate);
  const body = resampler.push(samples);
  const tail = resampler.flush();
  const resampled = new Float32Array(body.length + tail.length);
  resampled.set(body);
  resampled.set(tail, body.length);
  return resampled;
}

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

  /** The filter's taps for each phase (see #taps). */
  #tables = new Map();
  /** fromRate / toRate in lowest terms: output n falls `(n * #step) % #phases / #phases` past an input sample. */
  #step;
  #phases;

  constructor(fromRate, toRate) {
    if (!(Number.isInteger(fromRate) && Number.isInteger(toRate) && fromRate > 0 && toRate > 0)) {
      throw new RangeError(`sample rates must be positive whole numbers (got ${fromRate} and ${toRate})`);
    }
    this.#ratio = fromRate / toRate;
    // In cycles per input sample; below the input's own Nyquist frequency when upsampling.
    this.#cutoff = (0.5 * PASSBAND) / Math.max(this.#ratio, 1);
    this.#halfWidth = HALF_WIDTH * Math.max(this.#ratio, 1);
    const divisor = gcd(fromRate, toRate);
    this.#step = fromRate / divisor;
    this.#phases = toRate / divisor;
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
      outputs.push(this.#sample(this.#next));
      this.#next++;
    }
    // Keep the input that the next output's window reaches back to.
    const keepFrom = Math.max(this.#first, Math.floor(this.#next * this.#ratio - this.#halfWidth) - 1);
    this.#input = this.#input.subarray(keepFrom - this.#first);
    this.#first = keepFrom;
    return Float32Array.from(outputs);
  }

  /** Output `n`: the input around it through the filter's taps for its phase. */
  #sample(n) {
    const position = n * this.#step;
    const whole = Math.floor(position / this.#phases);
    const { first, taps } = this.#taps(position % this.#phases);
    // Near the stream's start and end the window is cut to the input there is.
    const from = Math.max(0, whole + first);
    const to = Math.min(this.#received - 1, whole + first + taps.length - 1);
    const input = this.#input;
    const inputAt = -this.#first;
    const tapAt = -whole - first;
    let sum = 0;
    for (let k = from; k <= to; k++) sum += input[k + inputAt] * taps[k + tapAt];
    return sum;
  }

  /** For outputs `phase / #phases` of an input sample past input `whole`: the taps on inputs
   * `whole + first …`. Computed once per phase, since the filter is evaluated for every output
   * (88 sines for each at 44.1 kHz, too slow for an hour-long file). */
  #taps(phase) {
    let table = this.#tables.get(phase);
    if (!table) {
      const offset = phase / this.#phases;
      const first = Math.ceil(offset - this.#halfWidth);
      const last = Math.floor(offset + this.#halfWidth);
      const taps = new Float64Array(last - first + 1);
      for (let j = 0; j < taps.length; j++) taps[j] = this.#tap(offset - (first + j));
      table = { first, taps };
      this.#tables.set(phase, table);
    }
    return table;
  }

  /** The low-pass filter at `d` input samples from its centre: a sinc in a Blackman window. */
  #tap(d) {
    const x = 2 * this.#cutoff * d;
    const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    const blackman = 0.42 + 0.5 * Math.cos((Math.PI * d) / this.#halfWidth) + 0.08 * Math.cos((2 * Math.PI * d) / this.#halfWidth);
    return 2 * this.#cutoff * sinc * blackman;
  }
}

function gcd(a, b) {
  return b === 0 ? a : gcd(b, a % b);
}
