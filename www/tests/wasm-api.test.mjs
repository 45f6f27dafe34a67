// The JS API of the wasm package (pkg/, built by scripts/build-wasm.sh), run in Node: what a page
// that uses the package directly relies on — results, progress, and errors as JS Error objects.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { before, test } from "node:test";

const PKG = new URL("../../pkg/", import.meta.url);
const MODEL = new URL("../../crate/models/default/", import.meta.url);
const read = (name) => readFileSync(new URL(name, MODEL));

let asr;
const manifest = () => read("model.json").toString();
const recognizer = () => new asr.Recognizer(manifest(), read("base.gguf"), read("sah.gguf"));

/** The committed speech sample (16 kHz mono PCM16 WAV) as floats. */
function speech() {
  const wav = readFileSync(new URL("../samples/sakha-sample.wav", import.meta.url));
  let chunk = 12; // after "RIFF", size, "WAVE"
  while (wav.toString("latin1", chunk, chunk + 4) !== "data") chunk += 8 + wav.readUInt32LE(chunk + 4);
  const data = wav.subarray(chunk + 8, chunk + 8 + wav.readUInt32LE(chunk + 4));
  return Float32Array.from({ length: data.length / 2 }, (_, i) => data.readInt16LE(2 * i) / 32_768);
}

/** `seconds` of audio: the speech sample again and again, each time followed by half a second of silence
 * (a trained model rightly hears nothing in tones or noise). */
function samples(seconds) {
  const sentence = speech();
  const audio = new Float32Array(seconds * 16_000);
  for (let at = 0; at < audio.length; at += sentence.length + 8_000) {
    audio.set(sentence.subarray(0, Math.min(sentence.length, audio.length - at)), at);
  }
  return audio;
}

before(async () => {
  asr = await import(new URL("sakha_asr.js", PKG));
  asr.initSync({ module: readFileSync(new URL("sakha_asr_bg.wasm", PKG)) });
});

test("parseManifest returns model.json as a plain object", () => {
  const parsed = asr.parseManifest(manifest());
  assert.equal(parsed.format, "sakha-asr-model");
  assert.deepEqual(Object.keys(parsed.languages), ["sah"]);
  assert.equal(parsed.base.bytes, read("base.gguf").length);
});

test("a recognizer transcribes samples into text, words and duration", () => {
  const r = recognizer();
  try {
    assert.equal(asr.sampleRate(), 16_000);
    assert.equal(r.language, "sah");
    assert.deepEqual(r.languages, ["sah"]);
    const transcript = r.transcribe(samples(3));
    assert.ok(transcript.text.length > 0);
    assert.equal(transcript.text, transcript.words.map((w) => w.text).join(" "));
    assert.ok(transcript.words.every((w) => w.start <= w.end && w.end <= transcript.duration));
    // Each word's confidence reaches JS as a number in 0..1, with three decimals at most.
    assert.ok(transcript.words.every((w) => w.confidence >= 0 && w.confidence <= 1 && Math.round(w.confidence * 1000) === w.confidence * 1000));
    // Words handed back without it (an edited transcript) still make subtitles.
    const bare = { ...transcript, words: transcript.words.map(({ text, start, end }) => ({ text, start, end })) };
    assert.equal(asr.toSrt(bare), asr.toSrt(transcript));
    assert.ok(Math.abs(transcript.duration - 3) < 0.05);
    assert.match(asr.toSrt(transcript), /^1\n00:00:\d\d,\d{3} --> 00:00:\d\d,\d{3}\n/);
    assert.match(asr.toVtt(transcript), /^WEBVTT\n\n00:00:\d\d\.\d{3} --> /);
  } finally {
    r.free();
  }
});

test("long audio reports progress and growing partial transcripts chunk by chunk", () => {
  const r = recognizer();
  try {
    const reports = [];
    const transcript = r.transcribe(samples(45), (progress) => reports.push(progress));
    // The sentence repeats after 0.5 s of silence: cut at those pauses, then in chunks of at most 10 s.
    const done = reports.map((p) => p.doneSeconds);
    assert.ok(reports.length >= 5, `${reports.length} reports`);
    assert.ok(done.every((seconds, i) => seconds > (done[i - 1] ?? 0) && seconds - (done[i - 1] ?? 0) <= 10.01), `${done}`);
    assert.ok(Math.abs(done.at(-1) - 45) < 0.03);
    assert.ok(reports.every((p) => p.totalSeconds === 45));
    assert.ok(reports[0].partial.text.length < reports[1].partial.text.length);
    assert.deepEqual(reports.at(-1).partial, transcript);
  } finally {
    r.free();
  }
});

test("setChunking sets the window length of long audio and refuses values out of the library's bounds", () => {
  const r = recognizer();
  try {
    // A tone under a syllable-rate envelope has no pause to cut at: only the window length cuts it.
    const tone = Float32Array.from({ length: 20 * 16_000 }, (_, i) => {
      const t = i / 16_000;
      return 0.3 * (0.5 + 0.5 * Math.sin(2 * Math.PI * 4 * t)) * Math.sin(2 * Math.PI * 220 * t);
    });
    const steps = () => {
      const done = [];
      r.transcribe(tone, (progress) => done.push(progress.doneSeconds));
      return done.map((seconds, i) => seconds - (done[i - 1] ?? 0));
    };
    assert.equal(steps().length, 2, "10 s windows by default");
    r.setChunking(5, 1);
    const five = steps();
    assert.ok(five.length === 4 && five.every((step) => step <= 5.01), `${five}`);
    r.setChunking(20, 2);
    assert.equal(steps().length, 1);
    // The library's bounds, named as this API's options; the windows before stay in force.
    assert.throws(() => r.setChunking(0.5, 2), (e) => e instanceof Error && e.message === "chunkSeconds must be a number of seconds from 1 to 60 (got 0.5)");
    assert.throws(() => r.setChunking(10, -1), (e) => e instanceof Error && e.message === "contextSeconds must be a number of seconds from 0 to 30 (got -1)");
    assert.throws(() => r.setChunking(NaN, 2), (e) => e instanceof Error && /chunkSeconds .*\(got NaN\)/.test(e.message));
    assert.throws(() => r.setChunking(1e30, 2), (e) => e instanceof Error && /chunkSeconds/.test(e.message));
    assert.equal(steps().length, 1, "still 20 s windows");
  } finally {
    r.free();
  }
});

/** `bytes` streamed into `sink` (a PackageFile) in odd-sized pieces, then finished. */
function fed(sink, bytes) {
  for (let at = 0; at < bytes.length; at += 4099) sink.push(bytes.subarray(at, at + 4099));
  sink.finish();
  return sink;
}

/** The tiny word LM fixture (crate/tests/fixtures/lm: a dozen Sakha words). */
const TINY_LM = readFileSync(new URL("../../crate/tests/fixtures/lm/tiny.lm", import.meta.url));

/** The built-in package's model.json with the tiny LM listed as Sakha's language model. */
function manifestWithLm() {
  const listed = JSON.parse(manifest());
  const sha256 = createHash("sha256").update(TINY_LM).digest("hex");
  listed.language_models = { sah: { file: "sah.lm", bytes: TINY_LM.length, sha256 } };
  return JSON.stringify(listed);
}

const sakhaLm = () => fed(asr.PackageFile.languageModel(manifestWithLm(), "sah"), TINY_LM);

test("a recognizer decodes with the package's language model, greedily when told, and drops it with its language", () => {
  const r = recognizer();
  try {
    const audio = samples(12);
    assert.equal(r.hasLanguageModel, false);
    const greedy = r.transcribe(audio);
    r.setLanguageModel(sakhaLm());
    assert.equal(r.hasLanguageModel, true);
    const reports = [];
    const withLm = r.transcribe(audio, (progress) => reports.push(progress));
    // Partials come from the best beam so far (the final scoring of the sentence's end may still change it).
    assert.ok(reports.length >= 2 && reports.every((p) => p.partial.text.length > 0), `${reports.length} reports`);
    assert.notEqual(withLm.text, greedy.text, "a dozen words' LM changes the text");
    assert.equal(withLm.text, withLm.words.map((w) => w.text).join(" "));
    r.setDecoding({ languageModel: false });
    assert.deepEqual(r.transcribe(audio), greedy);
    r.setDecoding({ languageModel: true });
    assert.deepEqual(r.transcribe(audio), withLm);

    r.setLanguageFile(fed(asr.PackageFile.language(manifest(), "sah"), read("sah.gguf")));
    assert.equal(r.hasLanguageModel, false, "a language switch drops the old language's model");
    assert.deepEqual(r.transcribe(audio), greedy);
  } finally {
    r.free();
  }
});

test("decode(logits(samples)) is transcribe(samples), greedy and with the language model", () => {
  const r = recognizer();
  try {
    const audio = samples(3);
    const logits = r.logits(audio);
    assert.ok(logits instanceof Float32Array);
    const frames = logits.length / r.labelCount;
    assert.ok(Number.isInteger(frames) && Math.abs(frames - 150) <= 2, `${frames} frames for 3 s (20 ms each)`);
    const greedy = r.decode(logits);
    assert.deepEqual(greedy, r.transcribe(audio));
    r.setLanguageModel(sakhaLm());
    const withLm = r.decode(logits);
    assert.deepEqual(withLm, r.transcribe(audio));
    assert.notEqual(withLm.text, greedy.text);
    assert.throws(
      () => r.decode(logits.subarray(1)),
      (e) => e instanceof Error && e.message === `decode takes frames × ${r.labelCount} logits; got ${logits.length - 1} values`,
    );
    assert.throws(() => r.decode(new Float32Array(0)), Error);
  } finally {
    r.free();
  }
});

test("a file stream fed in pieces of any size gives transcribe's words and times; a live one shows the open piece", () => {
  const r = recognizer();
  try {
    // The sentence, half a second of silence, again: a final piece at each pause.
    const audio = samples(20);
    const sizes = [1, 1_600, 333, 16_000, 7, 48_000, 24_000];
    for (const withLm of [false, true]) {
      if (withLm) r.setLanguageModel(sakhaLm());
      const whole = r.transcribe(audio);
      for (const live of [false, true]) {
        const stream = r.startStream(live);
        const finals = [];
        for (let at = 0, i = 0; at < audio.length; i++) {
          const piece = audio.subarray(at, at + sizes[i % sizes.length]);
          at += piece.length;
          const update = stream.push(piece);
          assert.deepEqual(Object.keys(update).sort(), ["final", "partial"]);
          finals.push(...update.final);
          const { partial } = update;
          if (!live) {
            assert.equal(partial, null, "a file stream shows no partial text");
          } else {
            assert.equal(partial.start, finals.at(-1)?.end ?? 0, "the partial is the open piece");
            assert.ok(partial.end <= at / 16_000, `partial to ${partial.end} s, audio to ${at / 16_000} s`);
            assert.ok(partial.words.every((w) => w.start >= partial.start && w.end <= partial.end));
          }
          // the open piece, the second after its cut, this push
          assert.ok(stream.heldSamples <= 21 * 16_000 + piece.length, `${stream.heldSamples} samples held`);
        }
        assert.equal(stream.seconds, 20);
        finals.push(...stream.finish());
        assert.ok(finals.length >= 4, `${finals.length} pieces`);
        // A live stream's text comes from shorter windows (tests/streaming.rs measures it); a file stream's is transcribe's.
        if (!live) {
          assert.deepEqual(finals.flatMap((s) => s.words), whole.words);
          assert.equal(finals.map((s) => s.text).filter((t) => t).join(" "), whole.text);
        }
        assert.throws(() => stream.push(new Float32Array(10)), (e) => e instanceof Error && /stream was finished/.test(e.message));
        stream.free();
      }
    }
    // The last samples may come with the end: the same text as pushing them first.
    const pushedFirst = r.startStream(false);
    const first = [...pushedFirst.push(audio.subarray(0, 100_000)).final, ...pushedFirst.push(audio.subarray(100_000)).final, ...pushedFirst.finish()];
    const withEnd = r.startStream(false);
    const ended = [...withEnd.push(audio.subarray(0, 100_000)).final, ...withEnd.finish(audio.subarray(100_000))];
    assert.deepEqual(ended, first);
    withEnd.free();
    pushedFirst.free();
    const stream = r.startStream(true);
    assert.throws(
      () => stream.push(Float32Array.of(0, 0.5, NaN)),
      (e) => e instanceof Error && e.message === "sample 2 of the stream is not a finite number" && e.kind === "audio",
    );
    assert.deepEqual(stream.push(new Float32Array(100)).partial, { start: 0, end: 0, text: "", words: [] }, "too little audio for a frame");
    // As transcribe fails for the same samples.
    assert.throws(() => stream.finish(), (e) => /the audio is too short: 100 samples/.test(e.message) && e.kind === "audio");
    stream.free();
  } finally {
    r.free();
  }
});

test("a manifest without a language model, bad decoding options and a wrong file are JS Errors", () => {
  const expectError = (run, pattern) => assert.throws(run, (e) => e instanceof Error && pattern.test(e.message));
  const bare = JSON.parse(manifest());
  delete bare.language_models;
  expectError(() => asr.PackageFile.languageModel(JSON.stringify(bare), "sah"), /no word LM for "sah" \(model\.json lists none\)/);
  expectError(() => asr.PackageFile.languageModel(manifestWithLm(), "kaz"), /no language "kaz"; it has: sah/);
  const r = recognizer();
  try {
    r.setLanguageModel(sakhaLm());
    expectError(() => r.setDecoding({ beem: 8 }), /setDecoding takes \{languageModel, beam, lmWeight, wordBonus, unknownWordPenalty\}: unknown option "beem"/);
    expectError(() => r.setDecoding({ beam: 0 }), /beam must be 1 to 1024/);
    expectError(() => r.setDecoding({ lmWeight: NaN }), /lmWeight, wordBonus and unknownWordPenalty must be finite numbers/);
    expectError(() => r.setDecoding({ unknownWordPenalty: 2 }), /unknownWordPenalty must be at most 0/);
    expectError(() => r.setDecoding({ languageModel: "yes" }), /setDecoding takes \{languageModel, .*invalid type/);
    expectError(() => r.setLanguageModel(fed(asr.PackageFile.language(manifest(), "sah"), read("sah.gguf"))), /sah\.gguf is a model file, not a word LM/);
    assert.ok(r.transcribe(samples(1)).text.length > 0, "the recognizer still works");
  } finally {
    r.free();
  }
});

test("every failure is a JS Error with the library's message and the kind of remedy it calls for", () => {
  const expectError = (run, pattern, kind) => assert.throws(run, (e) => e instanceof Error && pattern.test(e.message) && e.kind === kind);
  expectError(() => asr.parseManifest("{}"), /not a sakha-asr model manifest/, "format");
  expectError(
    () => asr.parseManifest(manifest().replace('"format_version": 1', '"format_version": 7')),
    /format version 7 is newer than this sakha-asr understands/,
    "version",
  );
  const damaged = read("base.gguf");
  damaged[1000] ^= 1;
  expectError(() => new asr.Recognizer(manifest(), damaged, read("sah.gguf")), /base\.gguf: sha256 .* does not match/, "corrupt");
  expectError(() => new asr.Recognizer(manifest(), read("base.gguf"), read("sah.gguf"), "kaz"), /no language "kaz"; it has: sah/, "settings");

  const r = recognizer();
  try {
    expectError(() => r.transcribe(new Float32Array(0)), /the audio is empty/, "audio");
    expectError(() => r.transcribe(new Float32Array(100)), /the audio is too short/, "audio");
    expectError(() => r.transcribe(Float32Array.of(...samples(1).subarray(0, 999), NaN)), /sample 999 is not a finite number/, "audio");
    expectError(() => r.setLanguage("sah", read("base.gguf")), /sah\.gguf: \d+ bytes, but the manifest says/, "corrupt");
    expectError(() => asr.toSrt({ words: "none" }), /not a transcript/, "settings");
    expectError(() => r.setChunking(0, 2), /chunkSeconds must be a number of seconds from 1 to 60/, "settings");
    // The recognizer still works after all of these.
    assert.ok(r.transcribe(samples(1)).text.length > 0);
  } finally {
    r.free();
  }
});

// That the library stops computing there, crate/tests/package.rs checks (its callback asks to stop).
test("an exception thrown by the progress callback reaches the caller, and the callback is not called again", () => {
  const r = recognizer();
  try {
    let calls = 0;
    const failing = () => {
      calls++;
      throw new RangeError("stop here");
    };
    assert.throws(() => r.transcribe(samples(45), failing), { name: "RangeError", message: "stop here" });
    assert.equal(calls, 1, "not called again after throwing");
  } finally {
    r.free();
  }
});

test("free() releases the recognizer; using it afterwards throws instead of crashing", () => {
  const r = recognizer();
  r.free();
  assert.throws(() => r.transcribe(samples(1)), Error);
});

// Lying LM files (damaged, truncated, newer, inconsistent) that match model.json: hostile-packages.test.mjs.
test("a word LM download that is not the file model.json lists is a FileMismatch, as for the model's files", () => {
  const flipped = Buffer.from(TINY_LM);
  flipped[100] ^= 0x40;
  const download = asr.PackageFile.languageModel(manifestWithLm(), "sah");
  try {
    download.push(flipped);
    assert.throws(() => download.finish(), (e) => e.name === "FileMismatch" && /sah\.lm: sha256/.test(e.message));
  } finally {
    download.free();
  }
});
