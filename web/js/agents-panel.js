// admin/customer-service.html: the agent's own availability in the header (online / busy / away), the activity
// ping that keeps an agent from being made "away" while at work, and, for supervisors, every agent's
// availability and load, live (chat:agent_update), with their capacity and availability to set.
import { describeError } from "./api.js";
import { t } from "./i18n.js";
import { h, toast } from "./ui.js";

const AGENTS = "/api/v4/customer-service/agents";
const AVAILABILITIES = ["online", "busy", "away"];
// The server makes an agent "away" after CHAT_AGENT_IDLE_AWAY_SECONDS (15 min by default) without activity;
// the console reports the agent's own input at most this often.
const ACTIVITY_PING_MS = 60000;

function statusText(status) {
  const key = status === "offline" ? "agents.status.offline" : `agents.availability.${status}`;
  return t(key);
}

function availabilityOptions(select) {
  select.replaceChildren(...AVAILABILITIES.map((a) => h("option", { text: t(`agents.availability.${a}`), attrs: { value: a } })));
}

/** The header's availability select; `onOwnUpdate` is given every chat:agent_update about this agent. */
export function bindAvailability({ call, client, select, me }) {
  availabilityOptions(select);
  let current = null;
  const show = (agent) => {
    current = agent.availability;
    select.value = agent.availability;
    select.dataset.availability = agent.availability;
    select.dataset.status = agent.status;
  };
  call(`${AGENTS}/me`).then(show, () => { select.value = "online"; });
  select.addEventListener("change", async () => {
    const wanted = select.value;
    try {
      show(await call(`${AGENTS}/me/availability`, { method: "PUT", body: { availability: wanted } }));
    } catch (err) {
      if (current) select.value = current;
      toast(t("agents.availability_failed"), describeError(err), { kind: "error" });
    }
  });
  client.on("chat:agent_update", (agent) => {
    if (agent.admin_id !== me) return;
    const changed = agent.availability !== current;
    show(agent);
    if (!changed) return;
    if (agent.changed_by === "idle") toast(t("agents.went_away_idle"), t("agents.went_away_idle_hint"));
    else if (agent.changed_by === "supervisor") toast(t("agents.set_by_supervisor", { status: statusText(agent.availability) }));
  });

  let lastPing = 0;
  const ping = () => {
    const now = Date.now();
    if (now - lastPing < ACTIVITY_PING_MS) return;
    lastPing = now;
    call(`${AGENTS}/me/activity`, { method: "POST" }).catch(() => { lastPing = 0; });
  };
  for (const type of ["keydown", "pointerdown", "wheel"]) document.addEventListener(type, ping, { passive: true });
  ping();
}

/** Supervisors: a table of every agent, kept current by chat:agent_update. */
export function bindAgentsPanel({ call, client, panel, list, empty }) {
  panel.hidden = false;
  const rows = new Map();

  function row(agent) {
    const availability = h("select", { testid: "agent-availability", attrs: { "aria-label": t("agents.set_availability", { id: agent.admin_id }) } });
    availabilityOptions(availability);
    availability.value = agent.availability;
    availability.addEventListener("change", () => update(agent.admin_id, "availability", { availability: availability.value }));
    const capacity = h("input", { testid: "agent-capacity", attrs: { type: "number", min: 1, max: 1000, step: 1, value: agent.capacity,
      "aria-label": t("agents.capacity_of", { id: agent.admin_id }) } });
    const save = h("button", { testid: "agent-capacity-save", text: t("agents.save"), attrs: { type: "button" },
      onClick: () => update(agent.admin_id, "capacity", { capacity: Number(capacity.value) }) });
    return h("tr", { testid: "agent-row", dataset: { adminId: agent.admin_id, status: agent.status, availability: agent.availability } },
      h("td", { text: t("agents.agent", { id: agent.admin_id }) }),
      h("td", {}, h("span", { className: `agent-status agent-${agent.status}`, testid: "agent-status", text: statusText(agent.status) })),
      h("td", { testid: "agent-load", text: t("agents.load", { active: agent.active_sessions, capacity: agent.capacity }) }),
      h("td", {}, availability),
      h("td", {}, capacity, save));
  }

  function put(agent) {
    const node = row(agent);
    const old = rows.get(agent.admin_id);
    rows.set(agent.admin_id, node);
    if (old) old.replaceWith(node);
    else list.replaceChildren(...[...rows.entries()].sort((a, b) => a[0] - b[0]).map(([, n]) => n));
    empty.hidden = rows.size > 0;
  }

  async function update(adminId, what, body) {
    try {
      put(await call(`${AGENTS}/${adminId}/${what}`, { method: "PUT", body }));
    } catch (err) {
      toast(t("agents.update_failed", { id: adminId }), describeError(err), { kind: "error" });
      load();
    }
  }

  async function load() {
    try {
      const { items } = await call(AGENTS);
      rows.clear();
      list.replaceChildren();
      items.forEach(put);
      empty.hidden = items.length > 0;
    } catch (err) {
      toast(t("agents.load_failed"), describeError(err), { kind: "error" });
    }
  }

  client.on("chat:agent_update", put);
  load();
  return { reload: load };
}
