// A transcript as every request resolves to it and every partial reports it, made in one place so
// that files, pieces and the microphone join words alike.

/** `words` (each {text, start, end}) whose audio lasts `duration` seconds, as {text, words, duration}. */
export function transcriptOf(words, duration) {
  return { text: words.map((word) => word.text).join(" "), words: [...words], duration };
}
