// The interface in English (i18n.js says how texts are written). The worker's and the loader's
// messages in English are these texts too: an AsrError's `message`.

export default {
  "page.title": "sakha-asr — Sakha speech recognition in your browser",
  "page.description": "Transcribe Sakha (Yakut) speech on your own device. The audio never leaves this page.",
  "page.intro": "Speech recognition for Sakha (Yakut) that runs on this device. Your audio never leaves the page.",
  "page.interfaceLanguage": "Interface language",

  "model.heading": "Model",
  "model.label": "Model",
  "model.demo": "Demo model (synthetic speech, 12 MB with its language model)",
  "model.custom": "Other model (URL of its model.json)…",
  "model.customUrl": "model.json URL",
  "model.language": "Language",
  "model.load": "Load",
  "lm.switch": "Language model",
  "lm.none": "This model has no language model for {language}: words are spelled letter by letter.",
  "lm.on": "Words are chosen with the help of a word list and word-pair statistics (beam search).",
  "lm.off": "Off: words are spelled letter by letter, as the acoustic model hears them (greedy).",

  "progress.download": "Downloading",
  "progress.cache": "From this device",
  "progress.transcribe": "Transcribing",
  "progress.bytes": "{file}: {loaded:size} of {total:size}",
  "progress.decoding": "decoding",
  "progress.seconds": "{loaded:fixed1} of {total:fixed1} s",

  "status.loading": "Loading the model…",
  "status.cleared": "Downloaded models removed from this browser; they download again when next loaded.",
  "status.ready": "Ready: {url} · {language} · {quantization} ({source}).",
  "status.switched": "Ready: {url} · {language} · {quantization}.",
  "status.switching": "Switching to {language}…",
  "status.stillUsing": "Still using {language}.",
  "status.failed": "No model loaded.",
  "status.wasm": { one: "Running on {build}, {count} thread.", other: "Running on {build}, {count} threads." },
  "source.downloadedStored": "downloaded {bytes:size}, now stored for offline use",
  "source.downloadedNotStored": "downloaded {bytes:size}, not stored on this device",
  "source.local": "from this device, no download",
  "wasm.simd128": "wasm SIMD",
  "wasm.relaxed": "wasm relaxed SIMD",
  "wasm.threads": "wasm relaxed SIMD + threads",

  "audio.heading": "Audio",
  "audio.drop": "Drop an audio file here, or",
  "audio.choose": "Choose a file",
  "audio.record": "● Record",
  "audio.stop": "■ Stop",
  "record.seconds": "{seconds:fixed1} s",

  "transcript.heading": "Transcript",
  "transcript.empty": "Nothing transcribed yet.",
  "transcript.listening": "Listening…",
  "transcript.none": "No speech recognised.",
  "transcript.recording": "— recording",
  "transcript.wordTime": "{start:fixed2}–{end:fixed2} s",
  "transcript.copy": "Copy",
  "transcript.downloadTxt": "Download .txt",
  "transcript.downloadSrt": "Download .srt",
  "transcript.downloadVtt": "Download .vtt",
  "copy.done": "Copied.",
  "copy.refused": "Copying was refused: select the text and copy it by hand.",

  "player.play": "▶ Play",
  "player.pause": "❚❚ Pause",
  "player.time": "{current:fixed1} of {total:fixed1} s",
  "player.hint": "Click a word, or press Enter on it, to play from there; F2 or a double-click corrects it. The arrow keys move between words.",
  "player.correct": "Correct the word “{word}”",
  "player.unsure": "{start:fixed2}–{end:fixed2} s · recognised with low confidence ({percent} %): worth checking",

  "footer.stored": "Models are stored in this browser after the first download, for offline use.",
  "footer.clear": "Remove downloaded models",
  "footer.embed": "Embed it in your site",

  "widget.file": "Audio file…",
  "widget.loading": "Loading speech recognition…",
  "widget.ready": "Ready ({language}).",
  "widget.readyNotStored": "Ready ({language}), not stored for offline use.",
  "widget.opening": "Opening the microphone…",
  "widget.recording": "Recording…",
  "widget.recordingTime": "Recording… {seconds:fixed1} s",
  "widget.transcribing": "Transcribing…",
  "widget.done": "Done.",

  "size.kilobytes": "{value} kB",
  "size.megabytes": "{value:fixed1} MB",
  "size.gigabytes": "{value:fixed1} GB",

  "title.notFound": "Model file not found",
  "title.http": "Download failed",
  "title.network": "Connection lost",
  "title.corrupt": "Corrupt model file",
  "title.format": "This model cannot be used",
  "title.audio": "Cannot use this audio",
  "title.version": "Versions do not match",
  "title.settings": "Setting out of range",
  "title.aborted": "Stopped",
  "title.recognizer": "Recognition failed",
  "title.unknown": "Something went wrong",
  "error.retry": "Try again",

  "error.unreachable": "Could not download {file}: the server cannot be reached. Check the connection and try again.",
  "error.notFound": "{file} was not found on the server (HTTP 404 for {url}).",
  "error.httpStatus": "Could not download {file}: the server answered HTTP {status}.",
  "error.brokeOff":
    "The download of {file} broke off after {loaded:size} of {total:size}. Nothing was saved; try again to download it from the start.",
  "error.corrupt":
    "{file} is corrupt: it does not match the size and sha256 in model.json, even after downloading it again. " +
    "The copy on the server is damaged or belongs to another model. Nothing was saved.",
  "error.tooLarge":
    "This model is too large for a browser: {files:list} take {total:size}, and a WebAssembly page can hold at most " +
    "{limit:size}. Use the sakha-asr command-line tool for it.",
  "error.otherSite": "model.json names a file on another site ({origin}); refused.",
  "error.noLanguage": 'This model has no language "{language}"; it has: {available}.',
  "notice.noSpace":
    "The model could not be kept for offline use, so it runs from this download and will be downloaded again next time: " +
    "there is not enough storage. Keeping it needs {needed:size}. Free up disk space or remove other sites' data to keep it.",
  "notice.noSpaceLeft":
    "The model could not be kept for offline use, so it runs from this download and will be downloaded again next time: " +
    "there is not enough storage. Keeping it needs {needed:size}, and this browser lets the site store only {free:size} more. " +
    "Free up disk space or remove other sites' data to keep it.",
  "notice.refused":
    "The model could not be kept for offline use, so it runs from this download and will be downloaded again next time: " +
    'the browser refused to store {file} ("{detail}"). Keeping it needs {needed:size}. Private windows keep storage in ' +
    "memory and refuse large files; in a normal window it is kept.",

  "error.undecodable": "This browser cannot decode the file as audio. Try WAV, MP3, OGG, FLAC or M4A, or convert it first.",
  "error.noSamples": "The file contains no audio samples.",
  "error.mp3Failed": "This browser could not decode the MP3 file: {detail}",
  "error.noMicrophoneAccess": "This browser gives no access to a microphone (it needs a secure, https page).",
  "error.microphoneDenied": "Cannot record: permission was denied.",
  "error.microphoneNotFound": "Cannot record: no microphone was found.",
  "error.microphoneFailed": "Cannot record: {detail}.",
  "error.recordingStopped": "This recording was already stopped or cancelled.",
  "error.sampleRate": "sampleRate must be a positive number of samples per second, an integer (got {value}).",
  "error.transcribeInput": "transcribe takes a File, a Blob, an ArrayBuffer of an audio file, or a Float32Array of samples.",
  "error.noModelAttribute": "No model: set the element's model attribute to the URL of a package's model.json.",

  "error.workerStart": "The recognizer could not start: {detail}.",
  "error.threadsStalled": "The threaded build's {threads} threads did not start within {seconds} s.",
  "error.stopped": "The recognizer was stopped.",
  "error.noModel": "No model is loaded yet.",
  "error.noStream": "No open stream {stream}: it was finished or closed, or never started (startStream).",
  "error.unknownRequest": 'Unknown request "{type}".',
  "error.abortedBeforeStart": "Aborted before it started.",
  "error.abortedAfter": "Aborted after {seconds:fixed2} s of {total:fixed2} s of audio.",
  "error.crashed":
    "The recognizer crashed ({detail}), most likely out of memory. Reload the page; for long recordings, try a shorter file.",
  "error.versionMismatch":
    "This page and its recognizer come from different versions of the app (protocol {page} and {worker}): it was updated " +
    "while the page was open. Reload the page.",
};
