// Packages that lie, through the wasm API in Node: a page can be pointed at any package (`?model=`),
// and a manifest whose sizes and sha256 match its files says nothing about what they hold. Each lie is
// crafted here from the built-in package, with the manifest rewritten so every checksum matches, and
// `new Recognizer(...)` must throw an Error naming the file and the field: never a wasm trap
// (RuntimeError "unreachable", a division by zero) or an out-of-memory.
// Needs pkg/ from scripts/build-wasm.sh, as wasm-api.test.mjs does.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { crc32 } from "node:zlib";
import { before, test } from "node:test";

const PKG = new URL("../../pkg/", import.meta.url);
const MODEL = new URL("../../crate/models/default/", import.meta.url);
const read = (name) => readFileSync(new URL(name, MODEL));

let asr;

before(async () => {
  asr = await import(new URL("sakha_asr.js", PKG));
  asr.initSync({ module: readFileSync(new URL("sakha_asr_bg.wasm", PKG)) });
});

const GGUF_U32 = 4;
const GGUF_STRING = 8;

/** A GGUF file as the converter writes it (version 2, u32 and string metadata, 32-byte alignment). */
function parseGguf(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const u32 = () => ((at += 4), view.getUint32(at - 4, true));
  const u64 = () => ((at += 8), view.getBigUint64(at - 8, true));
  const string = () => {
    const length = Number(u64());
    return bytes.toString("utf8", at, (at += length));
  };
  assert.equal(bytes.toString("latin1", 0, 4), "GGUF");
  at = 8;
  const tensorCount = Number(u64());
  const metadataCount = Number(u64());
  const metadata = [];
  for (let i = 0; i < metadataCount; i++) {
    const key = string();
    const type = u32();
    assert.ok(type === GGUF_U32 || type === GGUF_STRING, `${key}: type ${type}`);
    metadata.push({ key, type, value: type === GGUF_U32 ? u32() : string() });
  }
  const tensors = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = string();
    const dims = Array.from({ length: u32() }, u64);
    tensors.push({ name, dims, type: u32(), offset: u64() });
  }
  return { metadata, tensors, data: bytes.subarray(Math.ceil(at / 32) * 32) };
}

function writeGguf({ metadata, tensors, data }) {
  const parts = [];
  const u32 = (v) => parts.push(Buffer.from(new Uint32Array([v]).buffer));
  const u64 = (v) => parts.push(Buffer.from(new BigUint64Array([BigInt(v)]).buffer));
  const string = (s) => {
    const bytes = Buffer.from(s, "utf8");
    u64(bytes.length);
    parts.push(bytes);
  };
  parts.push(Buffer.from("GGUF", "latin1"));
  u32(2);
  u64(tensors.length);
  u64(metadata.length);
  for (const { key, type, value } of metadata) {
    string(key);
    u32(type);
    type === GGUF_U32 ? u32(value) : string(value);
  }
  for (const { name, dims, type, offset } of tensors) {
    string(name);
    u32(dims.length);
    dims.forEach(u64);
    u32(type);
    u64(offset);
  }
  const header = Buffer.concat(parts);
  return Buffer.concat([header, Buffer.alloc(Math.ceil(header.length / 32) * 32 - header.length), data]);
}

/** One of the built-in files, its parsed form changed by `patch`. */
function patched(file, patch) {
  const gguf = parseGguf(read(file));
  patch(gguf);
  return writeGguf(gguf);
}

const meta = (gguf, key) => gguf.metadata.find((m) => m.key === key);

/** The built-in package with some files replaced, and a manifest whose sizes and sha256 match them. */
function pkg({ base = read("base.gguf"), language = read("sah.gguf"), manifest: patchManifest = () => {} } = {}) {
  const manifest = JSON.parse(read("model.json").toString());
  for (const [entry, bytes] of [[manifest.base, base], [manifest.languages.sah, language]]) {
    entry.bytes = bytes.length;
    entry.sha256 = createHash("sha256").update(bytes).digest("hex");
  }
  patchManifest(manifest);
  return { manifest: JSON.stringify(manifest), base, language };
}

/** A recognizer from the package's files pushed in odd-sized pieces, as the worker streams them. */
function streamedRecognizer({ manifest, base, language }) {
  const files = [asr.PackageFile.base(manifest), asr.PackageFile.language(manifest)];
  try {
    for (const [file, bytes] of [[files[0], base], [files[1], language]]) {
      for (let at = 0; at < bytes.length; at += 4099) file.push(bytes.subarray(at, at + 4099));
      file.finish();
    }
  } catch (e) {
    for (const file of files) file.free();
    throw e;
  }
  return asr.Recognizer.fromFiles(manifest, files[0], files[1]);
}

/**
 * `new Recognizer` on the package, and the same package streamed into `PackageFile`s, throw a JS
 * Error (not a trap) whose message matches `pattern`.
 */
function assertRefused(pkg, pattern) {
  const { manifest, base, language } = pkg;
  for (const load of [() => new asr.Recognizer(manifest, base, language), () => streamedRecognizer(pkg)]) {
    assert.throws(
      () => load().free(),
      (e) => {
        assert.ok(!(e instanceof WebAssembly.RuntimeError), `a wasm trap: ${e.stack}`);
        assert.ok(e instanceof Error, `not an Error: ${e}`);
        assert.match(e.message, pattern);
        return true;
      },
    );
  }
}

const withConfig = (patch) =>
  patched("base.gguf", (gguf) => {
    const entry = meta(gguf, "sakha_asr.config");
    const config = JSON.parse(entry.value);
    patch(config);
    entry.value = JSON.stringify(config);
  });

test("the crafted copy of the built-in package loads when nothing is changed", () => {
  const { manifest, base, language } = pkg({ base: patched("base.gguf", () => {}), language: patched("sah.gguf", () => {}) });
  assert.deepEqual(base, read("base.gguf"), "the GGUF writer here reproduces the converter's bytes");
  assert.deepEqual(language, read("sah.gguf"));
  new asr.Recognizer(manifest, base, language).free();
});

test("config values that would divide by zero or size absurdly are refused", () => {
  const cases = [
    [(c) => (c.conv_stride[2] = 0), /^base\.gguf: sakha_asr\.config: conv_stride\[2\] is 0/],
    [(c) => (c.conv_kernel[0] = 0), /sakha_asr\.config: conv_kernel\[0\] is 0/],
    [(c) => (c.num_attention_heads = 0), /sakha_asr\.config: num_attention_heads is 0/],
    [(c) => (c.num_conv_pos_embedding_groups = 0), /sakha_asr\.config: num_conv_pos_embedding_groups is 0/],
    [(c) => c.conv_stride.pop(), /sakha_asr\.config: .*equal length/],
    [(c) => (c.conv_stride = c.conv_stride.map(() => 1000)), /sakha_asr\.config: .*longer than a second/],
    // Huge but consistent: a multiple of the heads and groups.
    [(c) => (c.hidden_size = 1_000_000_000), /sakha_asr\.config: hidden_size is 1000000000/],
  ];
  for (const [patch, pattern] of cases) assertRefused(pkg({ base: withConfig(patch) }), pattern);
});

test("a GGUF alignment of 0 is refused before candle's reader divides by it", () => {
  const base = patched("base.gguf", (gguf) => gguf.metadata.push({ key: "general.alignment", type: GGUF_U32, value: 0 }));
  assertRefused(pkg({ base }), /^base\.gguf: general\.alignment: 0; it must be a power of two/);
});

test("tensor dims that overflow or outgrow the file are refused before anything is allocated", () => {
  const huge = 1n << 32n;
  for (const dims of [[huge, huge, huge], [1n << 20n, 1n << 12n]]) {
    const base = patched("base.gguf", (gguf) => (gguf.tensors[0].dims = dims));
    assertRefused(pkg({ base }), /^base\.gguf: .*: dims \[.*\] need more bytes than the \d+-byte file has/);
  }
  const overlapping = patched("base.gguf", (gguf) => (gguf.tensors[1].offset = gguf.tensors[0].offset));
  assertRefused(pkg({ base: overlapping }), /^base\.gguf: .*overlaps the previous tensor's/);
});

test("a vocabulary id far beyond the CTC head is refused without allocating for it", () => {
  const language = patched("sah.gguf", (gguf) => {
    const entry = meta(gguf, "sakha_asr.vocab");
    entry.value = JSON.stringify({ ...JSON.parse(entry.value), "ꙗ": 4_000_000_000 });
  });
  assertRefused(pkg({ language }), /token "ꙗ" has id 4000000000, but the CTC head in sah\.gguf scores only \d+/);
});

test("tensors whose shapes the config does not imply are refused, naming the file", () => {
  const base = withConfig((c) => (c.conv_dim[0] /= 2));
  assertRefused(pkg({ base }), /^base\.gguf: tensor wav2vec2\.feature_extractor\.conv_layers\.0\.conv\.weight has shape \[64, 1, 10\] but the config implies \[32, 1, 10\]/);
  const language = patched("sah.gguf", (gguf) => {
    const head = gguf.tensors.find((t) => t.name === "lm_head.weight");
    const [hidden, rows] = head.dims; // innermost first
    head.dims = [hidden / 2n, rows * 2n];
  });
  assertRefused(pkg({ language }), /^sah\.gguf: tensor lm_head\.bias has shape \[\d+\] but the config implies/);
});

test("a manifest whose file names leave the package folder is refused", () => {
  for (const [patch, pattern] of [
    [(m) => (m.base.file = "../../etc/passwd"), /^model\.json: base\.file: "\.\.\/\.\.\/etc\/passwd" is not a plain file name/],
    [(m) => (m.languages.sah.file = "/etc/passwd"), /^model\.json: languages\.sah\.file: /],
    [(m) => (m.default_language = "kaz"), /^model\.json: default_language: "kaz" is not one of the package's languages/],
  ]) {
    assertRefused(pkg({ manifest: patch }), pattern);
  }
});

/** A word LM file's sections (a 32-byte header, then u32/f32 arrays, then the words' text; scripts/build_lm.py). */
function lmLayout(bytes) {
  const words = bytes.readUInt32LE(12);
  const bigrams = bytes.readUInt32LE(16);
  const at = (u32s) => 32 + 4 * u32s;
  return { words, bigrams, wordEnd: at(0), unigram: at(words), bigramWord: at(4 * words), text: at(4 * words + 2 * bigrams) };
}

/** `bytes` with the header's checksum (CRC-32 of everything after the header) made to match again. */
function withLmChecksum(bytes) {
  bytes.writeUInt32LE(crc32(bytes.subarray(32)), 28);
  return bytes;
}

/**
 * A language model file streamed into `PackageFile.languageModel` of a manifest whose size and sha256
 * match it throws a JS Error (not a trap, not a "FileMismatch") whose message matches `pattern`.
 */
function assertLmRefused(bytes, pattern) {
  const manifest = JSON.parse(read("model.json").toString());
  manifest.language_models = { sah: { file: "sah.lm", bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") } };
  const file = asr.PackageFile.languageModel(JSON.stringify(manifest), "sah");
  try {
    for (let at = 0; at < bytes.length; at += 4099) file.push(bytes.subarray(at, at + 4099));
    assert.throws(
      () => file.finish(),
      (e) => {
        assert.ok(!(e instanceof WebAssembly.RuntimeError), `a wasm trap: ${e.stack}`);
        assert.ok(e instanceof Error && e.name !== "FileMismatch", `${e.name}: ${e.message}`);
        assert.match(e.message, pattern);
        return true;
      },
    );
  } finally {
    file.free();
  }
}

test("a language model file that lies is refused with an Error, never a trap or a huge allocation", () => {
  // Copies of the tiny LM fixture (crate/tests/fixtures/lm).
  const lm = () => readFileSync(new URL("../../crate/tests/fixtures/lm/tiny.lm", import.meta.url));
  const { words, wordEnd, unigram, bigramWord, text } = lmLayout(lm());
  // Each lie changes the file in place and returns the bytes to serve.
  const cases = [
    [(b) => (b.write("NOT-AnLM", 0, "latin1"), b), /^sah\.lm: magic: not a sakha-asr word LM file/],
    [(b) => (b.writeUInt32LE(2, 8), b), /^sah\.lm: version: LM format version 2, but this sakha-asr reads version 1: update sakha-asr/],
    [(b) => ((b[text] ^= 0x20), b), /^sah\.lm: checksum: .*damaged/],
    [(b) => b.subarray(0, text), /^sah\.lm: size: .*truncated or damaged/],
    // Counts that would need gigabytes; the checksum does not cover the header.
    [(b) => (b.writeUInt32LE(0xffff_fff0, 12), b), /^sah\.lm: size: .*4294967280 words.*truncated or damaged/],
    [(b) => (b.writeUInt32LE(words, bigramWord), withLmChecksum(b)), /^sah\.lm: next_word\[0\]: not a word id/],
    [(b) => (b.writeUInt32LE(b.readUInt32LE(wordEnd), wordEnd + 4), withLmChecksum(b)), /^sah\.lm: word_end\[1\]: empty word/],
    [(b) => (b.writeFloatLE(NaN, unigram + 8), withLmChecksum(b)), /^sah\.lm: unigram\[2\]: not a finite log probability/],
  ];
  for (const [lie, pattern] of cases) assertLmRefused(lie(lm()), pattern);
});

test("after all the lies, the untouched package still loads and transcribes", () => {
  const r = new asr.Recognizer(read("model.json").toString(), read("base.gguf"), read("sah.gguf"));
  try {
    assert.equal(r.transcribe(new Float32Array(16_000)).duration > 0.9, true);
  } finally {
    r.free();
  }
});
