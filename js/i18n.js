// The interface's languages: one catalogue of strings per language (i18n-sah.js, i18n-ru.js,
// i18n-en.js), each a plain module exporting an object of key → text. A text may hold placeholders,
// `{name}` or `{name:format}`, filled from `params`: format "size" (bytes as "5.0 MB"), "fixed1" and
// "fixed2" (a number with that many decimals), "list" (an array as "a, b and c"); a parameter that is
// itself {key, params} is translated too; anything else is written as it is. A text that depends on a number is an object of Intl.PluralRules categories
// (one, few, many, other) chosen by `params.count`.
// Every key is written out in full where it is used (translate(lang, "status.ready")), so that
// www/tests/interface-languages.test.mjs can find the unused ones.

import en from "./i18n-en.js";
import ru from "./i18n-ru.js";
import sah from "./i18n-sah.js";

const CATALOGUES = { sah, ru, en };

/** The interface languages, each named in itself, in the order a language switcher lists them. */
export const LANGUAGES = Object.freeze({ sah: "Саха тыла", ru: "Русский", en: "English" });

/**
 * The locales Intl formats each language's numbers, lists and plurals with: a browser whose ICU
 * lacks Sakha falls back to Russian, whose numbers Sakha texts write alike. English is the British
 * kind, whose lists have no comma before "and", as the messages always had.
 */
const INTL_LOCALES = { sah: ["sah", "ru"], ru: ["ru"], en: ["en-GB"] };

/** The interface language for a language tag ("ru-RU" → "ru"), or null where there is none for it. */
export function interfaceLanguage(tag) {
  const base = String(tag ?? "").toLowerCase().split(/[-_]/)[0];
  return Object.hasOwn(CATALOGUES, base) ? base : null;
}

/** The first of `tags` (say, navigator.languages) that the interface has, else English. */
export function preferredLanguage(tags) {
  for (const tag of tags ?? []) {
    const language = interfaceLanguage(tag);
    if (language) return language;
  }
  return "en";
}

/** The text of `key` in `lang` (English where the interface lacks that language), `params` filled in. */
export function translate(lang, key, params = {}) {
  const language = interfaceLanguage(lang) ?? "en";
  let text = CATALOGUES[language][key];
  if (text === undefined) throw new Error(`no text "${key}" in the ${language} catalogue`);
  const locales = INTL_LOCALES[language];
  if (typeof text === "object") text = text[new Intl.PluralRules(locales).select(params.count)] ?? text.other;
  return text.replace(/\{(\w+)(?::(\w+))?\}/g, (_, name, format) => formatValue(params[name], format, language, locales));
}

function formatValue(value, format, language, locales) {
  if (typeof value?.key === "string") return translate(language, value.key, value.params);
  switch (format) {
    case "size":
      return formatSize(value, language);
    case "fixed1":
    case "fixed2": {
      const digits = Number(format.at(-1));
      return new Intl.NumberFormat(locales, { minimumFractionDigits: digits, maximumFractionDigits: digits, useGrouping: false }).format(value);
    }
    case "list":
      return new Intl.ListFormat(locales, { type: "conjunction" }).format(value);
    default:
      return String(value);
  }
}

/** A byte count as people read it in `lang`: "112 kB", "5.0 MB", "1.3 GB" in English. */
export function formatSize(bytes, lang = "en") {
  if (bytes >= 1e9) return translate(lang, "size.gigabytes", { value: bytes / 1e9 });
  if (bytes >= 1e6) return translate(lang, "size.megabytes", { value: bytes / 1e6 });
  return translate(lang, "size.kilobytes", { value: Math.ceil(bytes / 1e3) });
}
