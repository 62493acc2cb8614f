// admin/system.html: supervisors raise a system alert (`system:alert` to every admin) and schedule a maintenance
// window (`system:maintenance`: to admins, or to admins and every end user), through notification-svc's REST
// (POST /api/v4/system/alerts, /maintenance; agents get 403 `supervisors_only`). Times are entered and shown in
// Beijing time.
import { describeError, newIdempotencyKey } from "./api.js";
import { call, startConsolePage } from "./console-page.js";
import { t } from "./i18n.js";
import { busy, byTestId, fmtTime } from "./ui.js";

/** A datetime-local value ("2026-12-07T22:00") read as Beijing time, as the API's ISO form with offset. */
export function beijingIso(value) {
  if (!value) return null;
  return `${value.length === 16 ? `${value}:00` : value}+08:00`;
}

async function submit(form, prefix, path, body, done) {
  const error = byTestId(`${prefix}-error`);
  const result = byTestId(`${prefix}-result`);
  error.textContent = "";
  result.textContent = "";
  await busy(byTestId(`${prefix}-submit`), async () => {
    try {
      const created = await call(path, { method: "POST", body, headers: { "Idempotency-Key": newIdempotencyKey() } });
      result.textContent = done(created);
      form.reset();
    } catch (err) {
      error.textContent = describeError(err);
    }
  });
}

function init() {
  const page = startConsolePage();
  if (!page) return;
  byTestId("supervisors-only").hidden = page.isSupervisor;

  const alertForm = byTestId("alert-form");
  alertForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const f = alertForm.elements;
    submit(alertForm, "alert", "/api/v4/system/alerts",
      { level: f.level.value, title: f.title.value.trim(), message: f.message.value.trim() },
      (alert) => t("sys.alert_done", { title: alert.title }));
  });

  const windowForm = byTestId("maintenance-form");
  windowForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const f = windowForm.elements;
    submit(windowForm, "maintenance", "/api/v4/system/maintenance", {
      title: f.title.value.trim(), message: f.message.value.trim(), audience: f.audience.value,
      starts_at: beijingIso(f.starts_at.value), ends_at: beijingIso(f.ends_at.value),
    }, (w) => t("sys.maintenance_done", { title: w.title, starts: fmtTime(w.starts_at, { relative: false }),
      ends: fmtTime(w.ends_at, { relative: false }) }));
  });
}

init();
