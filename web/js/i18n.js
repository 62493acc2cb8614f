// The pages' language: chosen once per load (the remembered choice, else the browser's languages, else zh-CN),
// `t()` for code, data-i18n attributes for the HTML's static text, and the language switch in each header.
// Switching stores the choice (localStorage) and reloads the page, so everything on it is drawn in one language.
import { DEFAULT_LOCALE, LOCALES, makeTranslator, pickLocale } from "./i18n-core.js";
import en from "./i18n/en.js";
import zhCN from "./i18n/zh-CN.js";
import { formatTime as formatTimeIn } from "./time-format.js";

export const CATALOGUES = { "zh-CN": zhCN, en };
const STORAGE_KEY = "platform.locale";

function storedLocale() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export const locale = pickLocale(storedLocale(), navigator.languages || [navigator.language]);
export const t = makeTranslator(locale, CATALOGUES[locale], CATALOGUES[DEFAULT_LOCALE]);
document.documentElement.lang = locale;

/** `iso` in Beijing time, as this page's language writes it (time-format.js). */
export function formatTime(iso, options = {}) {
  return formatTimeIn(iso, { ...options, t });
}

const ATTRIBUTES = { "data-i18n-placeholder": "placeholder", "data-i18n-title": "title", "data-i18n-aria-label": "aria-label" };

/** Fills the static text under `root`: [data-i18n] text, and placeholder / title / aria-label from their keys. */
export function applyI18n(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const [source, target] of Object.entries(ATTRIBUTES)) {
    for (const node of root.querySelectorAll(`[${source}]`)) node.setAttribute(target, t(node.getAttribute(source)));
  }
}

/** A header's language switch: a <select> listing each language by its own name. */
export function mountLanguageSwitch(select) {
  select.replaceChildren(...LOCALES.map((code) => {
    const option = document.createElement("option");
    option.value = code;
    option.lang = code;
    option.textContent = CATALOGUES[code]["lang.name"];
    option.selected = code === locale;
    return option;
  }));
  select.addEventListener("change", () => {
    try {
      localStorage.setItem(STORAGE_KEY, select.value);
    } catch {
      return; // storage refused (private mode): the choice cannot be remembered, stay as we are
    }
    location.reload();
  });
}

applyI18n();
document.querySelectorAll('[data-testid="lang-switch"]').forEach(mountLanguageSwitch);

/**
 * Text the server wrote for people (a system message, an alert) in this page's language: the catalogue's
 * `system.<code>` filled with `params` (contracts.payloads.system_text); `fallback` (the server's own rendering)
 * for a message without a code or with one this page does not know yet. Ids are shown as they are (no grouping);
 * a parameter named `*_at` is a time, shown in Beijing time as this page writes times (formatTime, absolute);
 * a text given in every language (`text_zh_cn`, `text_en`: the greeting) fills `{text}` with this page's one.
 */
export function systemText(code, params, fallback) {
  const key = `system.${code}`;
  if (!code || !t.has(key)) return fallback;
  const shown = (name, value) => (name.endsWith("_at") ? formatTime(value, { relative: false }) : String(value));
  const values = Object.fromEntries(Object.entries(params || {}).map(([name, value]) => [name, shown(name, value)]));
  const own = `text_${t.locale.toLowerCase().replace("-", "_")}`;
  if (own in values) values.text = values[own];
  return t(key, values);
}
