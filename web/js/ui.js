// DOM helpers. Everything that comes from people or services is put in the page as text (textContent /
// text nodes), never parsed as HTML: no innerHTML anywhere in web/. Text put in by h() is also bidi-neutralised.
// Words come from the catalogues (i18n.js `t`), never from literals here.
import { formatTime, systemText, t } from "./i18n.js";

// Bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) reorder what is shown around them: a
// name or message could read differently from what was written ("invoice\u202Egnp.exe" shows as
// "invoiceexe.png"). People's text keeps every other character; these are shown as a visible "[U+202E]".
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;

/** `value` as text with every bidi control character replaced by a visible marker like "[U+202E]". */
export function neutralizeBidi(value) {
  return String(value).replace(BIDI_CONTROLS, (ch) => `[U+${ch.codePointAt(0).toString(16).toUpperCase()}]`);
}

/** h("li", {className, testid, dataset, attrs, text, onClick}, ...children): children are nodes or text. */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  const { className, testid, dataset, attrs, text, onClick } = props;
  if (className) node.className = className;
  if (testid) node.dataset.testid = testid;
  if (dataset) for (const [k, v] of Object.entries(dataset)) node.dataset[k] = String(v);
  if (attrs) for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : String(v));
  if (text !== undefined && text !== null) node.textContent = neutralizeBidi(text);
  if (onClick) node.addEventListener("click", onClick);
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(neutralizeBidi(child)));
  }
  return node;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function byTestId(id, root = document) {
  return root.querySelector(`[data-testid="${id}"]`);
}

/** A time for people: Beijing time in the page's language, relative when recent ("刚刚", "3分钟前"). */
export function fmtTime(iso, { relative = true } = {}) {
  return formatTime(iso, { relative });
}

/** A <time> whose relative text ("3分钟前") is kept current while the page stays open. */
export function timeNode(iso, props = {}) {
  return h("time", { ...props, text: fmtTime(iso), attrs: { ...(props.attrs || {}), datetime: iso }, dataset: { relative: "true" } });
}

const RELATIVE_REFRESH_MS = 30000;
setInterval(() => {
  document.querySelectorAll("time[data-relative]").forEach((node) => { node.textContent = fmtTime(node.getAttribute("datetime")); });
}, RELATIVE_REFRESH_MS);

/** A link target we are willing to put in href: http(s) URLs and same-origin paths only. */
export function safeHref(url) {
  if (typeof url !== "string") return null;
  if (/^\/(?!\/)/.test(url)) return url;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** A toast in the page's [data-testid=toasts] container; gone after `ms`. */
export function toast(title, body, { kind = "info", ms = 6000 } = {}) {
  let box = byTestId("toasts");
  if (!box) {
    box = h("div", { className: "toasts", testid: "toasts", attrs: { "aria-live": "polite" } });
    document.body.append(box);
  }
  const item = h("div", { className: `toast toast-${kind}`, testid: "toast", attrs: { role: "status" } },
    h("strong", { className: "toast-title", text: title }),
    body ? h("div", { className: "toast-body", text: body }) : null);
  const close = () => item.remove();
  item.addEventListener("click", close);
  box.append(item);
  setTimeout(close, ms);
  return item;
}

/** A dismissible banner at the top of the page (system alerts, maintenance, status changes). */
export function banner(container, { key, level, title, message }) {
  if (!container) return;
  const old = key ? container.querySelector(`[data-key="${CSS.escape(key)}"]`) : null;
  const node = h("div", { className: `banner banner-${level}`, testid: "system-banner", dataset: { level, key: key || "" },
    attrs: { role: level === "critical" ? "alert" : "status" } },
  h("strong", { text: title }), " ", h("span", { text: message }),
  h("button", { className: "banner-close", text: "×", attrs: { type: "button", "aria-label": t("banner.dismiss") },
    onClick: () => node.remove() }));
  if (old) old.replaceWith(node);
  else container.prepend(node);
}

/** Wires the `system:*` events to banners. Call once per page. */
export function bindSystemBanners(client, container) {
  const STATUS_LEVEL = { operational: "info", degraded: "warning", maintenance: "warning", down: "critical" };
  client.on("system:alert", (a) => {
    const title = a.code && t.has(`alert_title.${a.code}`) ? t(`alert_title.${a.code}`) : a.title;
    banner(container, { key: `alert-${a.code || ""}-${a.alert_id}`, level: a.level, title: t("banner.alert", { title }), message: systemText(a.code, a.params, a.message) });
  });
  client.on("system:maintenance", (m) => {
    banner(container, { key: `maintenance-${m.maintenance_id}`, level: "warning", title: t("banner.maintenance", { title: m.title }),
      message: t("banner.maintenance_window", { message: m.message, starts: fmtTime(m.starts_at, { relative: false }),
        ends: fmtTime(m.ends_at, { relative: false }) }) });
  });
  client.on("system:status_change", (s) => {
    const level = STATUS_LEVEL[s.status] || "info";
    const status = t.has(`component_status.${s.status}`) ? t(`component_status.${s.status}`) : s.status;
    banner(container, { key: `status-${s.component}`, level, title: t("banner.status", { component: s.component, status }),
      message: systemText(s.code, s.params, s.message) });
  });
}

/** Puts a button into a busy state while `work` runs. */
export async function busy(button, work) {
  button.disabled = true;
  try {
    return await work();
  } finally {
    button.disabled = false;
  }
}
