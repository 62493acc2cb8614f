// admin/reports.html: the supervisors' report for a range of Beijing days (chat-svc GET /reports/summary): in
// total and per agent, sessions opened / assigned / closed, first response and resolution (p50, p90), messages
// per session, satisfaction, and the share answered within the first reply deadline; charts (Chart.js, served
// by the edge at /vendor/chart.js/, loaded by the page as a classic script) and the CSV export (/summary.csv).
import { ApiError, describeError, query } from "./api.js";
import { freshToken } from "./auth.js";
import { call, startConsolePage } from "./console-page.js";
import { t } from "./i18n.js";
import { beijingDate, formatDuration } from "./time-format.js";
import { busy, byTestId, h } from "./ui.js";

const BASE = "/api/v4/customer-service/reports";
const DEFAULT_DAYS = 7;
const COLUMNS = [
  ["opened", (f) => f.opened],
  ["assigned", (f) => f.assigned],
  ["closed", (f) => f.closed],
  ["first_response_p50", (f) => formatDuration(f.first_response_p50_seconds, { t })],
  ["first_response_p90", (f) => formatDuration(f.first_response_p90_seconds, { t })],
  ["resolution_p50", (f) => formatDuration(f.resolution_p50_seconds, { t })],
  ["resolution_p90", (f) => formatDuration(f.resolution_p90_seconds, { t })],
  ["messages_per_session", (f) => (f.messages_per_session === null ? "" : f.messages_per_session.toFixed(1))],
  ["satisfaction", (f) => (f.satisfaction_average === null ? "" : t("rep.satisfaction_value",
    { average: f.satisfaction_average.toFixed(2), count: f.satisfaction_count }))],
  ["within_deadline", (f) => (f.answered_within_deadline === null ? "" : t("rep.percent",
    { value: Math.round(f.answered_within_deadline * 100) }))],
];

const el = {};
const charts = {};

function range() {
  return { from: el.form.elements.from.value, to: el.form.elements.to.value };
}

function row(label, figures, agent) {
  return h("tr", { testid: "report-row", dataset: { agent } },
    h("th", { text: label, attrs: { scope: "row" } }),
    COLUMNS.map(([name, show]) => h("td", { text: show(figures), dataset: { field: name } })));
}

function draw(name, canvas, config) {
  if (!globalThis.Chart) return; // the charts library did not load: the table still shows every number
  if (charts[name]) charts[name].destroy();
  charts[name] = new globalThis.Chart(canvas, config);
}

function show(report) {
  el.note.textContent = t("rep.note", { seconds: report.first_reply_deadline_seconds });
  el.rows.replaceChildren(row(t("rep.total"), report.total, "total"),
    ...report.agents.map((a) => row(t("rep.agent", { id: a.admin_id }), a, String(a.admin_id))));
  draw("days", el.chartDays, {
    type: "bar",
    data: { labels: report.days.map((d) => d.date), datasets: [
      { label: t("rep.col.opened"), data: report.days.map((d) => d.opened) },
      { label: t("rep.col.closed"), data: report.days.map((d) => d.closed) },
    ] },
    options: { animation: false, responsive: true, maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
  draw("agents", el.chartAgents, {
    type: "bar",
    data: { labels: report.agents.map((a) => t("rep.agent", { id: a.admin_id })), datasets: [
      { label: t("rep.col.closed"), data: report.agents.map((a) => a.closed), yAxisID: "y" },
      { label: t("rep.satisfaction_axis"), data: report.agents.map((a) => a.satisfaction_average), yAxisID: "score" },
    ] },
    options: { animation: false, responsive: true, maintainAspectRatio: false,
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } }, score: { position: "right", min: 0, max: 5, grid: { drawOnChartArea: false } } } },
  });
}

async function load() {
  el.error.textContent = "";
  el.table.setAttribute("aria-busy", "true");
  try {
    show(await call(`${BASE}/summary${query(range())}`));
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) el.error.textContent = describeError(err);
  } finally {
    el.table.setAttribute("aria-busy", "false");
  }
}

async function exportCsv() {
  el.error.textContent = "";
  const { from, to } = range();
  try {
    const response = await fetch(`${BASE}/summary.csv${query({ from, to })}`,
      { headers: { Authorization: `Bearer ${await freshToken("admin")}` }, credentials: "same-origin" });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw new ApiError(response.status, body.error && body.error.code, "", body.error && body.error.details);
    }
    const url = URL.createObjectURL(await response.blob());
    const link = h("a", { attrs: { href: url, download: `report-${from}-${to}.csv` } });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (err) {
    el.error.textContent = err instanceof ApiError ? describeError(err) : t("error.network");
  }
}

function init() {
  const page = startConsolePage();
  if (!page) return;
  for (const [key, id] of Object.entries({
    form: "report-range", note: "report-note", error: "report-error", table: "report-table", head: "report-head",
    rows: "report-rows", chartDays: "chart-days", chartAgents: "chart-agents", csv: "report-csv",
  })) el[key] = byTestId(id);
  el.head.replaceChildren(h("th", { text: t("rep.col.agent"), attrs: { scope: "col" } }),
    ...COLUMNS.map(([name]) => h("th", { text: t(`rep.col.${name}`), attrs: { scope: "col" } })));
  el.form.elements.to.value = beijingDate();
  el.form.elements.from.value = beijingDate(new Date(), 1 - DEFAULT_DAYS);
  el.form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(byTestId("report-load"), load);
  });
  el.csv.addEventListener("click", (event) => busy(event.currentTarget, exportCsv));
  load();
}

init();
