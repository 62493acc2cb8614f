// The translation machinery, free of the DOM (unit-tested under Node): choosing a language, looking a key up in a
// catalogue, filling `{name}` placeholders and choosing a plural form with Intl.PluralRules.
//
// A catalogue (web/js/i18n/<locale>.js) is one flat object: key -> text, or key -> {one, other, ...} (the plural
// forms its language has, chosen by the `count` parameter). Our own few lines rather than i18next: the pages need
// interpolation, plurals and a fallback, which Intl already half provides; a library would add a vendored bundle,
// a plugin system and an init lifecycle to every page for none of which we have a use.

export const LOCALES = ["zh-CN", "en"];
export const DEFAULT_LOCALE = "zh-CN";

/** The page's language on a first visit: the first of the browser's languages we have, zh-CN otherwise. */
export function pickLocale(stored, browserLanguages = []) {
  if (LOCALES.includes(stored)) return stored;
  for (const tag of browserLanguages) {
    const lower = String(tag).toLowerCase();
    if (lower === "zh" || lower.startsWith("zh-")) return "zh-CN";
    if (lower === "en" || lower.startsWith("en-")) return "en";
  }
  return DEFAULT_LOCALE;
}

const PLACEHOLDER = /\{(\w+)\}/g;

/**
 * A `t(key, params)` for one catalogue: the text for `key` with `{name}` replaced by params.name; for a plural
 * entry, the form Intl.PluralRules gives for params.count. A key the catalogue lacks falls back to `fallback`'s
 * text, then to the key itself (visible, so a missing entry is noticed, never a blank).
 */
export function makeTranslator(locale, catalogue, fallback = {}) {
  const plurals = new Intl.PluralRules(locale);
  const numbers = new Intl.NumberFormat(locale);
  const t = (key, params = {}) => {
    let entry = key in catalogue ? catalogue[key] : fallback[key];
    if (entry === undefined) return key;
    if (typeof entry === "object") entry = entry[plurals.select(Number(params.count))] ?? entry.other;
    return entry.replace(PLACEHOLDER, (whole, name) => {
      if (!(name in params)) return whole;
      const value = params[name];
      return typeof value === "number" ? numbers.format(value) : String(value);
    });
  };
  t.has = (key) => key in catalogue || key in fallback;
  t.locale = locale;
  return t;
}
