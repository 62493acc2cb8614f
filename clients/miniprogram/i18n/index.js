// The mini program's translations: zh-CN first, English when WeChat's language is English. The same rules as the
// pages' web/js/i18n-core.js (a flat catalogue; `{name}` placeholders; a plural entry {other, one?} chosen by
// params.count; a key a catalogue lacks falls back to zh-CN, then shows the key itself), in CommonJS for the
// mini program. Plain JS, no wx: Node's tests run it.
const catalogues = { "zh-CN": require("./zh-CN.js"), en: require("./en.js") };

const LOCALES = ["zh-CN", "en"];
const DEFAULT_LOCALE = "zh-CN";
const PLACEHOLDER = /\{(\w+)\}/g;

/** The locale for WeChat's `language` (wx.getAppBaseInfo().language: "zh_CN", "en", "zh_HK", ...). */
function pickLocale(language) {
  const lower = String(language || "").toLowerCase().replace("_", "-");
  if (lower === "en" || lower.startsWith("en-")) return "en";
  return DEFAULT_LOCALE;
}

function pluralForm(locale, count) {
  try {
    return new Intl.PluralRules(locale).select(count);
  } catch (err) {
    return count === 1 ? "one" : "other"; // a runtime without Intl.PluralRules
  }
}

/** A `t(key, params)` for `locale`. */
function makeTranslator(locale) {
  const catalogue = catalogues[locale] || catalogues[DEFAULT_LOCALE];
  const fallback = catalogues[DEFAULT_LOCALE];
  const t = (key, params = {}) => {
    let entry = key in catalogue ? catalogue[key] : fallback[key];
    if (entry === undefined) return key;
    if (typeof entry === "object") entry = entry[pluralForm(locale, Number(params.count))] || entry.other;
    return entry.replace(PLACEHOLDER, (whole, name) => (name in params ? String(params[name]) : whole));
  };
  t.has = (key) => key in catalogue || key in fallback;
  t.locale = locale;
  return t;
}

const MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** A wire time (ISO 8601 in Beijing time, `+08:00`) the way people read it: 12月7日 09:00 / Dec 7, 09:00. */
function beijingTime(locale, value) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(String(value));
  if (!m || !String(value).endsWith("+08:00")) return String(value);
  const [, , month, day, hour, minute] = m;
  return locale === "en" ? `${MONTHS_EN[Number(month) - 1]} ${Number(day)}, ${hour}:${minute}`
    : `${Number(month)}月${Number(day)}日 ${hour}:${minute}`;
}

/** A system message for people: `system.<code>` with its params, else the server's own text. As on the web pages
 * (web/js/i18n.js systemText): a `*_at` parameter is a time in Beijing time, and a text given in every language
 * (`text_zh_cn`, `text_en`: the greeting) fills `{text}` with this page's one. */
function systemText(t, code, params, fallback) {
  const key = `system.${code}`;
  if (!code || !t.has(key)) return fallback;
  const values = {};
  for (const [name, value] of Object.entries(params || {})) {
    values[name] = name.endsWith("_at") ? beijingTime(t.locale, value) : value;
  }
  const own = `text_${String(t.locale).toLowerCase().replace("-", "_")}`;
  if (own in values) values.text = values[own];
  return t(key, values);
}

/** An error (an ApiError-like {code, status} or an ack error) in words. */
function describeError(t, err) {
  const code = err && err.code;
  if (code && t.has(`error.${code}`)) return t(`error.${code}`);
  if (err && err.status === 0) return t("error.network");
  if (err && err.status >= 500) return t("error.server");
  if (err && err.status) return t("error.http", { status: err.status });
  return t("error.generic");
}

module.exports = { LOCALES, DEFAULT_LOCALE, catalogues, pickLocale, makeTranslator, systemText, describeError };
