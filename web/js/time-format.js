// Times for people: Beijing time (Asia/Shanghai) whatever the viewer's clock says, written the way the page's
// language writes them. Recent ones relative ("刚刚", "3分钟前"), then "10:14" today, "昨天 18:02", "12月7日 10:14",
// and with the year when it is not this year. The wire keeps ISO 8601 with +08:00; this is display only.
// `t` is a translator (i18n-core.js) for the words; Intl.DateTimeFormat writes the dates.

export const TIME_ZONE = "Asia/Shanghai";
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const formats = new Map();
function format(locale, options) {
  const key = `${locale}|${JSON.stringify(options)}`;
  if (!formats.has(key)) formats.set(key, new Intl.DateTimeFormat(locale, { timeZone: TIME_ZONE, ...options }));
  return formats.get(key);
}

/** {year, month, day} of `date` on Beijing's calendar. */
function beijingDay(date) {
  const parts = Object.fromEntries(format("en-US", { year: "numeric", month: "numeric", day: "numeric" })
    .formatToParts(date).map((p) => [p.type, Number(p.value)]));
  return { year: parts.year, month: parts.month, day: parts.day };
}

/** Whole days from Beijing's calendar day of `a` to that of `b`. */
function dayDiff(a, b) {
  const da = beijingDay(a);
  const db = beijingDay(b);
  return Math.round((Date.UTC(db.year, db.month - 1, db.day) - Date.UTC(da.year, da.month - 1, da.day)) / (24 * HOUR));
}

const clock = (locale, date) => format(locale, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(date);

/** The absolute form: "12月7日 10:14" (this year) or "2025年12月7日 10:14"; "Dec 7 10:14", "Dec 7, 2025 10:14". */
export function formatAbsolute(date, { now = new Date(), t }) {
  const sameYear = beijingDay(date).year === beijingDay(now).year;
  const day = format(t.locale, sameYear ? { month: "short", day: "numeric" } : { year: "numeric", month: "short", day: "numeric" })
    .format(date);
  return t("time.date_time", { date: day, time: clock(t.locale, date) });
}

/**
 * `iso` (ISO 8601) as a person reads it, relative to `now`: within a minute "刚刚", within an hour "N分钟前",
 * later today the clock, yesterday "昨天 HH:mm", else the date. `relative: false` (and times in the future, such
 * as a maintenance window) give the absolute form. Empty for what is not a time.
 */
export function formatTime(iso, { now = new Date(), t, relative = true }) {
  const date = new Date(iso);
  if (!iso || Number.isNaN(date.getTime())) return "";
  const ago = now.getTime() - date.getTime();
  if (!relative || ago < -MINUTE) return formatAbsolute(date, { now, t });
  if (ago < MINUTE) return t("time.just_now");
  if (ago < HOUR) return t("time.minutes_ago", { count: Math.floor(ago / MINUTE) });
  const days = dayDiff(date, now);
  if (days === 0) return clock(t.locale, date);
  if (days === 1) return t("time.yesterday", { time: clock(t.locale, date) });
  return formatAbsolute(date, { now, t });
}

/**
 * An estimated wait in seconds as a person reads it: "预计等待约 2 分钟" (rounded to whole minutes), "预计等待不到
 * 1 分钟" under a minute, "正在估算" when the estimate is null (not enough recent history to measure it).
 */
export function formatWait(seconds, { t }) {
  if (seconds === null || seconds === undefined) return t("time.wait_estimating");
  if (seconds < 60) return t("time.wait_under_minute");
  return t("time.wait_minutes", { count: Math.round(seconds / 60) });
}

/** Beijing's calendar day of `date` as "YYYY-MM-DD", `days` later (or earlier, when negative). */
export function beijingDate(date = new Date(), days = 0) {
  const d = beijingDay(date);
  return new Date(Date.UTC(d.year, d.month - 1, d.day + days)).toISOString().slice(0, 10);
}

/** A duration in seconds as a person reads it: "45秒", "3分20秒", "2小时5分"; empty when there is none. */
export function formatDuration(seconds, { t }) {
  if (seconds === null || seconds === undefined) return "";
  const s = Math.round(seconds);
  if (s < 60) return t("time.duration_seconds", { s });
  if (s < 3600) return t("time.duration_minutes", { m: Math.floor(s / 60), s: s % 60 });
  return t("time.duration_hours", { h: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60) });
}
