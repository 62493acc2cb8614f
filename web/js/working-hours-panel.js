// admin/customer-service.html, supervisors: the working hours (a weekly schedule in Beijing time plus dated
// exceptions) and the greeting sent when a session is assigned, in Chinese and English
// (GET/PUT /api/v4/customer-service/working-hours; rules in chat-svc's chat_svc/working_hours.py).
// A day's hours are written "09:00-12:00, 13:00-18:00" (empty: closed); an exception per line,
// "2026-10-01" (closed all day) or "2026-10-08 09:00-12:00".
import { describeError } from "./api.js";
import { formatTime, t } from "./i18n.js";
import { h, toast } from "./ui.js";

const HOURS = "/api/v4/customer-service/working-hours";
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

const showIntervals = (intervals) => intervals.map((i) => `${i.start}-${i.end}`).join(", ");

function parseIntervals(textValue) {
  return textValue.split(/[,，\s]+/).filter(Boolean).map((part) => {
    const [start, end] = part.split("-");
    return { start: (start || "").trim(), end: (end || "").trim() };
  });
}

function parseExceptions(textValue) {
  return textValue.split("\n").map((line) => line.trim()).filter(Boolean).map((line) => {
    const [date, ...rest] = line.split(/\s+/);
    return { date, intervals: parseIntervals(rest.join(" ")) };
  });
}

/** The form inside `panel` (a <details> hidden to agents); `call` is the console's authenticated fetch. */
export function bindWorkingHoursPanel({ call, panel }) {
  panel.hidden = false;
  const alwaysOpen = h("input", { testid: "hours-always-open", attrs: { type: "checkbox" } });
  const days = Object.fromEntries(DAYS.map((day) => [day, h("input", { testid: `hours-${day}`, attrs: {
    type: "text", placeholder: t("hours.day_placeholder"), "aria-label": t(`hours.day.${day}`) } })]));
  const exceptions = h("textarea", { testid: "hours-exceptions", attrs: { rows: 3, placeholder: t("hours.exceptions_placeholder") } });
  const greetingZh = h("input", { testid: "hours-greeting-zh", attrs: { type: "text", maxlength: 500 } });
  const greetingEn = h("input", { testid: "hours-greeting-en", attrs: { type: "text", maxlength: 500 } });
  const status = h("div", { className: "muted", testid: "hours-status" });
  const save = h("button", { className: "primary", testid: "hours-save", text: t("hours.save"), attrs: { type: "submit" } });
  const form = h("form", { className: "hours-form", testid: "hours-form" },
    h("label", {}, alwaysOpen, " ", t("hours.always_open")),
    ...DAYS.map((day) => h("label", { className: "hours-day" }, h("span", { text: t(`hours.day.${day}`) }), days[day])),
    h("label", { className: "hours-block" }, h("span", { text: t("hours.exceptions") }), exceptions),
    h("label", { className: "hours-block" }, h("span", { text: t("hours.greeting_zh") }), greetingZh),
    h("label", { className: "hours-block" }, h("span", { text: t("hours.greeting_en") }), greetingEn),
    status, save);
  panel.append(form);

  const syncDays = () => DAYS.forEach((day) => { days[day].disabled = alwaysOpen.checked; });
  alwaysOpen.addEventListener("change", syncDays);

  function show(config) {
    alwaysOpen.checked = config.weekly === null;
    DAYS.forEach((day) => { days[day].value = config.weekly ? showIntervals(config.weekly[day]) : ""; });
    exceptions.value = config.exceptions.map((e) => `${e.date} ${showIntervals(e.intervals)}`.trim()).join("\n");
    greetingZh.value = config.greeting.zh_cn;
    greetingEn.value = config.greeting.en;
    status.textContent = config.open_now ? t("hours.open_now")
      : t("hours.closed_now", { next: formatTime(config.next_open_at, { relative: false }) });
    syncDays();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const weekly = alwaysOpen.checked ? null
      : Object.fromEntries(DAYS.map((day) => [day, parseIntervals(days[day].value)]));
    const body = { weekly, exceptions: parseExceptions(exceptions.value),
      greeting: { zh_cn: greetingZh.value, en: greetingEn.value } };
    try {
      show(await call(HOURS, { method: "PUT", body }));
      toast(t("hours.saved"));
    } catch (err) {
      toast(t("hours.save_failed"), describeError(err), { kind: "error" });
    }
  });

  call(HOURS).then(show, (err) => toast(t("hours.load_failed"), describeError(err), { kind: "error" }));
}
