// Audio files read, decoded and resampled piece by piece, so that a file of any length costs the
// page about as much memory as a minute of it: WAV by reading its samples in slices (no decoder
// needed), MP3 by splitting it into frames and decoding them with WebCodecs' AudioDecoder where the
// browser has one. Other formats, and MP3 without AudioDecoder, are decoded whole by the browser, at
// the file's own rate. Either way the samples are mixed down by audio.js and resampled by a
// StreamResampler, so one recording gives the same samples in any container.

import { downmix } from "./audio.js";
import { AsrError, ErrorKind, Stage } from "./protocol.js";
import { StreamResampler } from "./stream-resampler.js";
import { transcriptOf } from "./transcript.js";

/** Bytes read from the file at a time. */
const SLICE_BYTES = 1 << 20;
/** Frames of a file decoded whole that are mixed down and resampled at a time. */
const DECODED_BLOCK_FRAMES = 1 << 16;
/** Seconds of resampled audio in each piece handed out (the recognizer's stream takes any size; each
 * push is a message to the worker and a progress report). */
const PIECE_SECONDS = 30;

/**
 * Transcribes the audio file `file` (a Blob) on `client` (a loaded AsrClient whose recognizer hears
 * `sampleRate`): piece by piece through a stream of its own in the worker where filePieces reads the
 * format, the whole file at once otherwise. Options and result as `client.transcribe`'s;
 * `onPartial(transcript)` gets the words of the pieces finished so far. The stream recognises each
 * piece once, when a pause or the end closes it, so the file costs what its samples cost. A failure,
 * an exception from a callback or an abort of `signal` drops the stream; a piecewise decoder that
 * fails hands the file to the whole-file path.
 */
export async function transcribeFile(client, file, sampleRate, options = {}) {
  const audio = await filePieces(file, sampleRate);
  if (!audio) return transcribeWhole(client, file, sampleRate, options);
  try {
    return await transcribePieces(client, audio, sampleRate, options);
  } catch (e) {
    if (!(e instanceof DecoderFailed)) throw e;
    // A browser's decoder may claim the format and then refuse the data (WebKit's WebCodecs picks an
    // MP3 decoder that rejects MP3 frames): its whole-file decoder may still read the file.
    return transcribeWhole(client, file, sampleRate, options);
  }
}

/** `file` decoded whole by the browser, then transcribed as samples. */
async function transcribeWhole(client, file, sampleRate, { languageModel = true, onProgress, onPartial, signal }) {
  const samples = await decodeFile(await file.arrayBuffer(), sampleRate);
  signal?.throwIfAborted();
  return client.transcribe(samples, { languageModel, onProgress, onPartial, signal });
}

/** `audio` (from filePieces) pushed piece by piece into a file stream of its own in the worker. */
async function transcribePieces(client, audio, sampleRate, { languageModel = true, onProgress, onPartial, signal }) {
  signal?.throwIfAborted();
  const stream = await client.startStream({ languageModel });
  const words = [];
  let pushed = 0;
  let previous = Promise.resolve();
  let transcript, srt, vtt;
  const show = ({ final }, seconds) => {
    for (const segment of final) words.push(...segment.words);
    onProgress?.({ stage: Stage.TRANSCRIBE, loaded: seconds, total: Math.max(audio.duration, seconds) });
    if (final.length) onPartial?.(transcriptOf(words, final.at(-1).end));
  };
  try {
    // The next piece is decoded while the worker recognises this one; one push at a time, so no more
    // than two pieces are ever held.
    for await (const piece of audio.pieces) {
      await previous;
      signal?.throwIfAborted();
      pushed += piece.length / sampleRate;
      const seconds = pushed;
      previous = client.pushStream(stream, piece, { signal }).then((update) => show(update, seconds));
      // A failed push is thrown by the next `await previous`, not reported as unhandled meanwhile.
      previous.catch(() => {});
    }
    await previous;
    ({ transcript, srt, vtt } = await client.finishStream(stream, undefined, { signal }));
  } catch (e) {
    // Not waited for: the worker frees the stream once the push in flight is done, and an abort
    // is reported at once.
    client.closeStream(stream).catch(() => {});
    throw e;
  }
  if (pushed === 0) throw AsrError.of(ErrorKind.AUDIO, "error.noSamples");
  return { transcript, srt, vtt };
}

/** A piecewise decoder that failed: the file may still be read whole. */
class DecoderFailed extends AsrError {}

/**
 * The audio of `file` (a Blob) as mono pieces at `sampleRate`: {duration, pieces}, `pieces` an
 * async iterator of Float32Arrays and `duration` the file's length in seconds (an estimate for MP3
 * without a frame count). Null when this browser cannot read the file's format piecewise.
 */
export async function filePieces(file, sampleRate) {
  const head = new DataView(await file.slice(0, 64 * 1024).arrayBuffer());
  const source = readWav(file, head) ?? (await readMp3(file, head));
  if (!source) return null;
  return { duration: source.duration, pieces: resampled(source, sampleRate) };
}

/**
 * An encoded audio file (an ArrayBuffer, which decodeAudioData takes) decoded whole by the browser, as
 * mono samples at `sampleRate`. It is decoded at the rate its header gives, so that Web Audio does not
 * resample it, and then mixed down and resampled as the pieces are.
 */
export async function decodeFile(encoded, sampleRate) {
  const format = headerFormat(new DataView(encoded));
  const context = new OfflineAudioContext(1, 1, contextRate(format?.sampleRate));
  let decoded;
  try {
    decoded = await context.decodeAudioData(encoded);
  } catch {
    throw AsrError.of(ErrorKind.AUDIO, "error.undecodable");
  }
  if (decoded.length === 0) throw AsrError.of(ErrorKind.AUDIO, "error.noSamples");
  async function* blocks() {
    for (let from = 0; from < decoded.length; from += DECODED_BLOCK_FRAMES) {
      const to = Math.min(decoded.length, from + DECODED_BLOCK_FRAMES);
      const channels = Array.from({ length: decoded.numberOfChannels }, (_, c) => decoded.getChannelData(c).subarray(from, to));
      yield downmix(format?.integerBits ? channels.map((channel) => asReadByWav(channel, format.integerBits)) : channels);
    }
  }
  const pieces = [];
  for await (const piece of resampled({ sampleRate: decoded.sampleRate, blocks }, sampleRate)) pieces.push(piece);
  const samples = new Float32Array(pieces.reduce((length, piece) => length + piece.length, 0));
  let offset = 0;
  for (const piece of pieces) {
    samples.set(piece, offset);
    offset += piece.length;
  }
  return samples;
}

/**
 * Samples that decodeAudioData made of `bits`-bit integers, scaled as the WAV reader scales them,
 * by 1 / 2^(bits - 1). Browsers differ here: Chromium multiplies positive 8- and 16-bit integers by
 * 1 / (2^(bits - 1) - 1), and Firefox does too for WAV but not FLAC, so without this a FLAC file
 * would give other samples than the same WAV read in slices. A sample on neither grid is kept.
 */
function asReadByWav(samples, bits) {
  const full = 2 ** (bits - 1);
  const rescaled = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const sample = samples[i];
    const short = sample * (full - 1);
    // Off the 1 / 2^(bits - 1) grid, and on the other up to float32's rounding of the browser's product.
    const onShortGrid = !Number.isInteger(sample * full) && Math.abs(short - Math.round(short)) < 0.01;
    rescaled[i] = onShortGrid ? Math.round(short) / full : sample;
  }
  return rescaled;
}

/** A rate for decodeAudioData's context: the file's own where every browser's OfflineAudioContext
 * takes it. Without one, 48 kHz, at or above most recordings' rate, so that Web Audio's resampling
 * keeps all the recognizer hears. */
function contextRate(fileRate) {
  return Math.min(Math.max(fileRate ?? 48000, 8000), 192000);
}

/** `source.blocks` (mono at `source.sampleRate`) resampled and regrouped into pieces. */
async function* resampled(source, sampleRate) {
  const resampler = source.sampleRate === sampleRate ? null : new StreamResampler(source.sampleRate, sampleRate);
  const pieceLength = PIECE_SECONDS * sampleRate;
  let piece = new Float32Array(pieceLength);
  let filled = 0;
  const add = function* (samples) {
    for (let offset = 0; offset < samples.length; ) {
      const count = Math.min(samples.length - offset, pieceLength - filled);
      piece.set(samples.subarray(offset, offset + count), filled);
      filled += count;
      offset += count;
      if (filled === pieceLength) {
        yield piece;
        piece = new Float32Array(pieceLength);
        filled = 0;
      }
    }
  };
  for await (const block of source.blocks()) yield* add(resampler ? resampler.push(block) : block);
  if (resampler) yield* add(resampler.flush());
  if (filled > 0) yield piece.slice(0, filled);
}

// --- WAV ---

const WAVE_PCM = 1;
const WAVE_FLOAT = 3;
const WAVE_EXTENSIBLE = 0xfffe;

/** A WAV file's samples, read slice by slice; null if `head` is not a WAV header this reads. */
function readWav(file, head) {
  if (!isWav(head)) return null;
  let format = null;
  for (const { id, at, size } of riffChunks(head)) {
    if (id === "fmt " && at + 24 <= head.byteLength) {
      let code = head.getUint16(at + 8, true);
      // WAVE_FORMAT_EXTENSIBLE names the real format in the first two bytes of its sub-format GUID.
      if (code === WAVE_EXTENSIBLE && at + 34 <= head.byteLength) code = head.getUint16(at + 32, true);
      format = {
        code,
        channels: head.getUint16(at + 10, true),
        sampleRate: head.getUint32(at + 12, true),
        blockAlign: head.getUint16(at + 20, true),
        bits: head.getUint16(at + 22, true),
      };
    } else if (id === "data") {
      if (!format || !sampleReader(format)) return null;
      const start = at + 8;
      // A header written before the length was known (streamed WAV) says 0 or 0xFFFFFFFF.
      const end = size === 0 || size === 0xffffffff ? file.size : Math.min(file.size, start + size);
      const { channels, sampleRate, blockAlign } = format;
      if (!channels || !sampleRate || blockAlign !== channels * (format.bits / 8)) return null;
      const frames = Math.floor((end - start) / blockAlign);
      const read = sampleReader(format);
      async function* blocks() {
        const step = Math.max(1, Math.floor(SLICE_BYTES / blockAlign)) * blockAlign;
        for (let from = start; from + blockAlign <= end; from += step) {
          const bytes = new DataView(await file.slice(from, Math.min(end, from + step)).arrayBuffer());
          const count = Math.floor(bytes.byteLength / blockAlign);
          const width = format.bits / 8;
          const planes = Array.from({ length: channels }, (_, c) => {
            const plane = new Float32Array(count);
            for (let i = 0; i < count; i++) plane[i] = read(bytes, i * blockAlign + c * width);
            return plane;
          });
          yield downmix(planes);
        }
      }
      return { sampleRate, duration: frames / sampleRate, blocks };
    }
  }
  return null;
}

function isWav(view) {
  return view.byteLength >= 12 && tag(view, 0) === "RIFF" && tag(view, 8) === "WAVE";
}

/** A RIFF file's chunks in `view`, each {id, at, size}, `at` where its 8-byte header starts. */
function* riffChunks(view) {
  for (let at = 12; at + 8 <= view.byteLength; ) {
    const size = view.getUint32(at + 4, true);
    yield { id: tag(view, at), at, size };
    at += 8 + size + (size & 1);
  }
}

/** Reads one sample as a float in [-1, 1), or null for a format this does not read. */
function sampleReader({ code, bits }) {
  if (code === WAVE_PCM && bits === 8) return (view, at) => (view.getUint8(at) - 128) / 128;
  if (code === WAVE_PCM && bits === 16) return (view, at) => view.getInt16(at, true) / 32768;
  if (code === WAVE_PCM && bits === 24) {
    return (view, at) => ((view.getUint8(at + 2) << 24) | (view.getUint8(at + 1) << 16) | (view.getUint8(at) << 8)) / 2147483648;
  }
  if (code === WAVE_PCM && bits === 32) return (view, at) => view.getInt32(at, true) / 2147483648;
  if (code === WAVE_FLOAT && bits === 32) return (view, at) => view.getFloat32(at, true);
  if (code === WAVE_FLOAT && bits === 64) return (view, at) => view.getFloat64(at, true);
  return null;
}

function tag(view, at) {
  return String.fromCharCode(view.getUint8(at), view.getUint8(at + 1), view.getUint8(at + 2), view.getUint8(at + 3));
}

// --- MP3 ---

/** Kilobits per second by bitrate index: MPEG-1 Layer III, then MPEG-2/2.5 Layer III. */
const BITRATES_V1 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const BITRATES_V2 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const SAMPLE_RATES_V1 = [44100, 48000, 32000];
/** The decoder's own delay in samples, which LAME's encoder delay does not include (as ffmpeg counts it). */
const DECODER_DELAY = 529;

/** An MPEG audio Layer III frame header at `at`, or null. */
function mp3Frame(view, at) {
  if (at + 4 > view.byteLength) return null;
  const header = view.getUint32(at);
  if ((header & 0xffe00000) >>> 0 !== 0xffe00000) return null;
  const version = (header >>> 19) & 3; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
  const layer = (header >>> 17) & 3; // 1: Layer III
  const bitrateIndex = (header >>> 12) & 15;
  const rateIndex = (header >>> 10) & 3;
  if (version === 1 || layer !== 1 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return null;
  const mpeg1 = version === 3;
  const sampleRate = SAMPLE_RATES_V1[rateIndex] / (mpeg1 ? 1 : version === 2 ? 2 : 4);
  const bitrate = (mpeg1 ? BITRATES_V1 : BITRATES_V2)[bitrateIndex] * 1000;
  const samples = mpeg1 ? 1152 : 576;
  const padding = (header >>> 9) & 1;
  const channels = ((header >>> 6) & 3) === 3 ? 1 : 2;
  return { length: Math.floor((samples / 8) * bitrate / sampleRate) + padding, samples, sampleRate, channels, mpeg1, bitrate };
}

/** Where the audio starts: after any ID3v2 tags. */
function id3End(view) {
  let at = 0;
  while (at + 10 <= view.byteLength && tag(view, at).slice(0, 3) === "ID3") {
    const size = ((view.getUint8(at + 6) & 127) << 21) | ((view.getUint8(at + 7) & 127) << 14) | ((view.getUint8(at + 8) & 127) << 7) | (view.getUint8(at + 9) & 127);
    at += 10 + size + (view.getUint8(at + 5) & 0x10 ? 10 : 0);
  }
  return at;
}

/**
 * The Xing/Info (or VBRI) frame an encoder writes first, which holds no audio: {frames, delay,
 * padding} from it (LAME's tag gives the samples the encoder added at the start and end), or null.
 */
function infoFrame(view, at, frame) {
  const sideInfo = frame.mpeg1 ? (frame.channels === 1 ? 17 : 32) : frame.channels === 1 ? 9 : 17;
  const xing = at + 4 + sideInfo;
  if (xing + 8 <= view.byteLength && ["Xing", "Info"].includes(tag(view, xing))) {
    const flags = view.getUint32(xing + 4);
    let field = xing + 8;
    const frames = flags & 1 ? view.getUint32(field) : null;
    field += (flags & 1 ? 4 : 0) + (flags & 2 ? 4 : 0) + (flags & 4 ? 100 : 0) + (flags & 8 ? 4 : 0);
    // LAME's tag: 9 bytes of version, then 12 more bytes, then 12 bits of delay and 12 of padding.
    if (field + 24 <= view.byteLength && tag(view, field) === "LAME") {
      const bits = (view.getUint8(field + 21) << 16) | (view.getUint8(field + 22) << 8) | view.getUint8(field + 23);
      return { frames, delay: bits >>> 12, padding: bits & 0xfff };
    }
    return { frames, delay: null, padding: null };
  }
  if (at + 40 <= view.byteLength && tag(view, at + 36) === "VBRI") return { frames: view.getUint32(at + 50), delay: null, padding: null };
  return null;
}

/** An MP3 file decoded frame by frame by AudioDecoder; null if it is not MP3 or the browser cannot. */
async function readMp3(file, head) {
  if (typeof AudioDecoder === "undefined") return null;
  const start = id3End(head);
  const first = mp3Frame(head, start);
  // The header's claim is checked by the next frame's sync, as a lone 0xFFE could be anything.
  if (!first || !mp3Frame(head, start + first.length)) return null;
  const config = { codec: "mp3", sampleRate: first.sampleRate, numberOfChannels: first.channels };
  try {
    if (!(await AudioDecoder.isConfigSupported(config)).supported) return null;
  } catch {
    return null;
  }
  const info = infoFrame(head, start, first);
  const audioStart = info ? start + first.length : start;
  const duration = info?.frames
    ? (info.frames * first.samples - (info.delay ?? 0) - (info.padding ?? 0)) / first.sampleRate
    : ((file.size - audioStart) * 8) / first.bitrate;
  async function* blocks() {
    // The encoder's and decoder's delay are cut from the start and the encoder's padding from the end,
    // as the CLI's decoder does with LAME's tag.
    let skip = info?.delay != null ? info.delay + DECODER_DELAY : 0;
    let left = info?.frames && info.delay != null ? info.frames * first.samples - info.delay - (info.padding ?? 0) : Infinity;
    let decoded = [];
    let failure = null;
    const decoder = new AudioDecoder({
      output: (data) => {
        try {
          decoded.push(monoOf(data));
        } finally {
          data.close();
        }
      },
      error: (e) => (failure ??= e),
    });
    decoder.configure(config);
    const trimmed = () => {
      const out = [];
      for (let block of decoded) {
        if (skip > 0) {
          const cut = Math.min(skip, block.length);
          skip -= cut;
          block = block.subarray(cut);
        }
        if (block.length > left) block = block.subarray(0, left);
        left -= block.length;
        if (block.length) out.push(block);
      }
      decoded = [];
      return out;
    };
    try {
      let carry = new Uint8Array(0);
      let timestamp = 0;
      for (let from = audioStart; from < file.size; from += SLICE_BYTES) {
        const slice = new Uint8Array(await file.slice(from, from + SLICE_BYTES).arrayBuffer());
        const bytes = new Uint8Array(carry.length + slice.length);
        bytes.set(carry);
        bytes.set(slice, carry.length);
        const view = new DataView(bytes.buffer);
        const atEnd = from + SLICE_BYTES >= file.size;
        let at = 0;
        while (at + 4 <= bytes.length) {
          const frame = mp3Frame(view, at);
          // Not a frame (a tag at the end, garbage): look for the next sync.
          if (!frame || frame.sampleRate !== first.sampleRate) {
            at++;
            continue;
          }
          if (at + frame.length > bytes.length) break;
          decoder.decode(new EncodedAudioChunk({ type: "key", timestamp, data: bytes.subarray(at, at + frame.length) }));
          timestamp += (frame.samples / frame.sampleRate) * 1e6;
          at += frame.length;
        }
        carry = atEnd ? new Uint8Array(0) : bytes.slice(at);
        // Wait for the decoder to take this slice's frames, so that no more than a slice is held.
        while (decoder.decodeQueueSize > 0 && !failure) await new Promise((resolve) => decoder.addEventListener("dequeue", resolve, { once: true }));
        if (failure) break;
        yield* trimmed();
      }
      if (!failure) await decoder.flush();
      if (failure) throw DecoderFailed.of(ErrorKind.AUDIO, "error.mp3Failed", { detail: failure.message });
      yield* trimmed();
    } finally {
      if (decoder.state !== "closed") decoder.close();
    }
  }
  return { sampleRate: first.sampleRate, duration, blocks };
}

/** An AudioData's channels mixed down. */
function monoOf(data) {
  const planes = Array.from({ length: data.numberOfChannels }, (_, c) => {
    const plane = new Float32Array(data.numberOfFrames);
    data.copyTo(plane, { planeIndex: c, format: "f32-planar" });
    return plane;
  });
  return downmix(planes);
}

// --- What a file's header says, for decodeFile ---

/**
 * From an audio file's header (WAV, FLAC, MP3, Ogg Vorbis, Opus or FLAC, MP4): {sampleRate,
 * integerBits}, `integerBits` the width of a lossless format's integer samples (null for floats and
 * lossy formats). Null for another format or a header cut short.
 */
function headerFormat(view) {
  try {
    if (isWav(view)) return wavFormat(view);
    if (view.byteLength >= 8 && tag(view, 0) === "OggS") return oggFormat(view);
    if (view.byteLength >= 8 && tag(view, 4) === "ftyp") return mp4Format(view);
    const start = id3End(view);
    // The first metadata block of a FLAC stream, after its 4-byte header, is the STREAMINFO.
    if (start + 4 <= view.byteLength && tag(view, start) === "fLaC") return streamInfo(view, start + 8);
    const frame = mp3Frame(view, start);
    return frame && mp3Frame(view, start + frame.length) ? { sampleRate: frame.sampleRate, integerBits: null } : null;
  } catch (e) {
    if (e instanceof RangeError) return null;
    throw e;
  }
}

function wavFormat(view) {
  for (const { id, at } of riffChunks(view)) {
    if (id !== "fmt ") continue;
    let code = view.getUint16(at + 8, true);
    if (code === WAVE_EXTENSIBLE) code = view.getUint16(at + 32, true);
    return { sampleRate: view.getUint32(at + 12, true), integerBits: code === WAVE_PCM ? view.getUint16(at + 22, true) : null };
  }
  return null;
}

/** A FLAC STREAMINFO block whose data starts at `at`: 20 bits of rate, 3 of channels, 5 of bits - 1. */
function streamInfo(view, at) {
  const sampleRate = (view.getUint8(at + 10) << 12) | (view.getUint8(at + 11) << 4) | (view.getUint8(at + 12) >>> 4);
  const integerBits = (((view.getUint8(at + 12) & 1) << 4) | (view.getUint8(at + 13) >>> 4)) + 1;
  return { sampleRate, integerBits };
}

/** From the identification header, the first packet of an Ogg stream's first page. */
function oggFormat(view) {
  const packet = 27 + view.getUint8(26);
  if (view.getUint8(packet) === 1 && tag(view, packet + 1) + tag(view, packet + 5).slice(0, 2) === "vorbis") {
    return { sampleRate: view.getUint32(packet + 12, true), integerBits: null };
  }
  // Opus is decoded at 48 kHz whatever rate the recording had.
  if (tag(view, packet) + tag(view, packet + 4) === "OpusHead") return { sampleRate: 48000, integerBits: null };
  // Ogg FLAC: 0x7F "FLAC", a version, a header count, "fLaC", then the STREAMINFO block.
  if (view.getUint8(packet) === 0x7f && tag(view, packet + 1) === "FLAC") return streamInfo(view, packet + 17);
  return null;
}

/** Sample entries (in 'moov' → … → 'stsd') of audio an MP4 file holds, by four-character code. */
const MP4_AUDIO_ENTRIES = ["mp4a", "alac", "fLaC", "Opus"];

/** From the first audio sample entry in the 'moov' box, which may come after the media data. */
function mp4Format(view) {
  let at = 0;
  while (at + 8 <= view.byteLength && tag(view, at + 4) !== "moov") {
    const size = view.getUint32(at);
    if (size === 0) return null;
    at += size === 1 ? Number(view.getBigUint64(at + 8)) : size;
  }
  if (at + 8 > view.byteLength) return null;
  const end = Math.min(view.byteLength, at + view.getUint32(at));
  for (let entry = at + 8; entry + 34 <= end; entry++) {
    const code = tag(view, entry + 4);
    if (!MP4_AUDIO_ENTRIES.includes(code)) continue;
    // Opus is decoded at 48 kHz; the others' rate is the whole part of the entry's 16.16 field.
    return { sampleRate: code === "Opus" ? 48000 : view.getUint16(entry + 32), integerBits: null };
  }
  return null;
}
