// PackageFile, the wasm API the worker streams a package's files into as it reads them (from the
// Cache API or the network): any cutting of the files gives the recognizer that whole files give, and
// a file that is not the one model.json lists fails with an Error named "FileMismatch", which the
// worker answers by downloading it again. Run in Node on pkg/, as wasm-api.test.mjs is.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { before, test } from "node:test";

const PKG = new URL("../../pkg/", import.meta.url);
const MODEL = new URL("../../crate/models/default/", import.meta.url);
const read = (name) => readFileSync(new URL(name, MODEL));
const manifest = read("model.json").toString();

let asr;

before(async () => {
  asr = await import(new URL("sakha_asr.js", PKG));
  asr.initSync({ module: readFileSync(new URL("sakha_asr_bg.wasm", PKG)) });
});

/** Three seconds of the committed speech sample (16 kHz mono PCM16 WAV) as floats. */
function speech() {
  const wav = readFileSync(new URL("../samples/sakha-sample.wav", import.meta.url));
  let chunk = 12; // after "RIFF", size, "WAVE"
  while (wav.toString("latin1", chunk, chunk + 4) !== "data") chunk += 8 + wav.readUInt32LE(chunk + 4);
  const data = wav.subarray(chunk + 8, chunk + 8 + Math.min(wav.readUInt32LE(chunk + 4), 3 * 32_000));
  return Float32Array.from({ length: data.length / 2 }, (_, i) => data.readInt16LE(2 * i) / 32_768);
}

/** `file` fed `bytes` in pieces whose sizes cycle through `sizes`, then finished. */
function fed(file, bytes, sizes) {
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length];
    file.push(bytes.subarray(at, at + size));
    at += size;
  }
  file.finish();
  return file;
}

test("any cutting of the files transcribes as whole files do", () => {
  const samples = speech();
  const whole = new asr.Recognizer(manifest, read("base.gguf"), read("sah.gguf"));
  const expected = whole.transcribe(samples);
  whole.free();
  assert.ok(expected.text.length > 0);
  for (const sizes of [[1], [7, 3], [65_536], [1 << 20, 17]]) {
    const base = fed(asr.PackageFile.base(manifest), read("base.gguf"), sizes);
    const language = fed(asr.PackageFile.language(manifest, "sah"), read("sah.gguf"), sizes);
    const recognizer = asr.Recognizer.fromFiles(manifest, base, language);
    try {
      assert.deepEqual(recognizer.transcribe(samples), expected, `pieces of ${sizes}`);
      // A language switch from a streamed file too.
      recognizer.setLanguageFile(fed(asr.PackageFile.language(manifest), read("sah.gguf"), sizes));
      assert.equal(recognizer.language, "sah");
      assert.deepEqual(recognizer.transcribe(samples), expected);
    } finally {
      recognizer.free();
    }
  }
});

test("a damaged, short or overlong file fails with an Error named FileMismatch", () => {
  const base = read("base.gguf");
  const mismatch = (pattern) => (e) => e instanceof Error && e.name === "FileMismatch" && pattern.test(e.message);
  // A flipped byte in the header, whose parse then fails, still reads as a damaged download.
  for (const at of [0, 100, base.length >> 1]) {
    const damaged = Buffer.from(base);
    damaged[at] ^= 0x20;
    const file = asr.PackageFile.base(manifest);
    assert.throws(() => fed(file, damaged, [4096]), mismatch(/^base\.gguf: sha256 \w+ does not match the manifest's/));
    file.free();
  }
  const short = asr.PackageFile.base(manifest);
  assert.throws(() => fed(short, base.subarray(0, 1000), [333]), mismatch(/^base\.gguf: 1000 bytes, but the manifest says/));
  short.free();
  const overlong = asr.PackageFile.base(manifest);
  overlong.push(base);
  assert.equal(overlong.isOverlong, false);
  overlong.push(Uint8Array.of(0));
  assert.equal(overlong.isOverlong, true, "the worker stops reading here");
  assert.throws(() => overlong.finish(), mismatch(/bytes, but the manifest says/));
  overlong.free();
});

test("a file must be finished before the recognizer takes it", () => {
  const base = asr.PackageFile.base(manifest);
  base.push(read("base.gguf"));
  const language = fed(asr.PackageFile.language(manifest), read("sah.gguf"), [1 << 20]);
  assert.throws(() => asr.Recognizer.fromFiles(manifest, base, language), /must be finished/);
});
