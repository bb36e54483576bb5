// The widget's own texts, one JSON file per language (strings/*.json), and the language of this page. A language
// has every key of en.json (English fills any gap); `bot` holds the bot's fixed lines by their `payload.say` name.
import de from "./strings/de.json";
import en from "./strings/en.json";
import es from "./strings/es.json";
import fr from "./strings/fr.json";
import { ATTRS } from "./page.js";

const STRINGS = { en, de, fr, es };

function pickLanguage(tag) {
  const base = String(tag || "en").toLowerCase().split(/[-_]/)[0];
  return STRINGS[base] ? base : "en";
}

export const LANG = pickLanguage(ATTRS.language || document.documentElement.lang || navigator.language);
/** The widget's own direction, from its language (every language it has is left to right). */
export const DIR = ["ar", "he", "fa", "ur"].includes(LANG) ? "rtl" : "ltr";

/** The text for `key` with its {placeholders} filled from `vars`. */
export function t(key, vars) {
  const text = STRINGS[LANG][key] || STRINGS.en[key];
  return text.replace(/\{(\w+)\}/g, (_, name) => (vars && vars[name] != null ? vars[name] : ""));
}

/** The bot's line named `say` in this language; null for English and unknown names (the stored text shows). */
export function botLine(say) {
  const lines = STRINGS[LANG].bot;
  return lines && typeof say === "string" && Object.prototype.hasOwnProperty.call(lines, say) ? lines[say] : null;
}
