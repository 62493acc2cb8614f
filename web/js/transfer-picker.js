// admin/customer-service.html: transfer by picking an agent from a live list (availability and load), with an
// optional note for the receiving agent (stored as a private note: notes.js), instead of typing an id. The list
// is GET /agents (any admin may read it), read when the picker opens and again every few seconds while it is
// open; supervisors' consoles also apply `chat:agent_update` at once (agents do not get those for others).
import { describeError } from "./api.js";
import { t } from "./i18n.js";
import { h, toast } from "./ui.js";

const AGENTS = "/api/v4/customer-service/agents";
const REFRESH_MS = 5000;

function statusText(status) {
  const key = status === "offline" ? "agents.status.offline" : `agents.availability.${status}`;
  return t(key);
}

/** Who can take a transfer now: online (socket open, availability online) with a free seat. */
export function canTake(agent) {
  return agent.status === "online" && agent.active_sessions < agent.capacity;
}

/** Returns {open()}: `transfer(adminId, note)` does the transfer (a promise; note may be undefined). */
export function bindTransferPicker({ call, socket, me, transfer }) {
  const agents = new Map();
  let chosen = null;
  let timer = null;
  const list = h("ul", { className: "transfer-agents", testid: "transfer-agents", attrs: { role: "listbox", "aria-label": t("transfer.choose") } });
  const empty = h("p", { className: "muted", testid: "transfer-empty", text: t("transfer.none") });
  const note = h("textarea", { testid: "transfer-note", attrs: { maxlength: 5000, rows: 3, placeholder: t("transfer.note_placeholder"), "aria-label": t("transfer.note_label") } });
  const confirm = h("button", { className: "primary", testid: "transfer-confirm", text: t("transfer.confirm"), attrs: { type: "submit", disabled: true } });
  const form = h("form", { className: "transfer-form" }, h("h2", { text: t("transfer.title") }), list, empty,
    h("label", { className: "muted", text: t("transfer.note_label") }), note,
    h("div", { className: "transfer-actions" },
      h("button", { testid: "transfer-cancel", text: t("transfer.cancel"), attrs: { type: "button" }, onClick: () => close() }), confirm));
  const dialog = h("dialog", { className: "transfer-dialog", testid: "transfer-picker" }, form);
  document.body.append(dialog);

  function draw() {
    const shown = [...agents.values()].filter((a) => a.admin_id !== me)
      .sort((a, b) => Number(canTake(b)) - Number(canTake(a)) || a.active_sessions - b.active_sessions || a.admin_id - b.admin_id);
    if (chosen !== null && !(agents.has(chosen) && canTake(agents.get(chosen)))) chosen = null;
    list.replaceChildren(...shown.map((a) => {
      const option = h("li", { className: `transfer-agent agent-${a.status}`, testid: "transfer-agent",
        dataset: { adminId: a.admin_id, status: a.status, available: canTake(a) },
        attrs: { role: "option", "aria-selected": String(a.admin_id === chosen), "aria-disabled": String(!canTake(a)), tabindex: canTake(a) ? 0 : -1 } },
      h("span", { className: "who", text: t("agents.agent", { id: a.admin_id }) }),
      h("span", { className: `agent-status agent-${a.status}`, testid: "transfer-agent-status", text: statusText(a.status) }),
      h("span", { className: "load", testid: "transfer-agent-load", text: t("transfer.load", { active: a.active_sessions, capacity: a.capacity }) }));
      if (canTake(a)) {
        const pick = () => { chosen = a.admin_id; draw(); };
        option.addEventListener("click", pick);
        option.addEventListener("keydown", (event) => { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); pick(); } });
      }
      return option;
    }));
    empty.hidden = shown.some(canTake);
    confirm.disabled = chosen === null;
  }

  async function load() {
    try {
      const { items } = await call(AGENTS);
      agents.clear();
      items.forEach((a) => agents.set(a.admin_id, a));
      draw();
    } catch (err) {
      toast(t("agents.load_failed"), describeError(err), { kind: "error" });
    }
  }

  function close() {
    clearInterval(timer);
    timer = null;
    if (dialog.open) dialog.close();
  }

  socket.on("chat:agent_update", (agent) => {
    agents.set(agent.admin_id, agent);
    if (dialog.open) draw();
  });
  dialog.addEventListener("close", close);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (chosen === null) return;
    confirm.disabled = true;
    const done = await transfer(chosen, note.value.trim() || undefined);
    if (done) close();
    else confirm.disabled = false;
  });

  return {
    open() {
      chosen = null;
      note.value = "";
      agents.clear();
      draw();
      dialog.showModal();
      load();
      timer = setInterval(load, REFRESH_MS);
    },
  };
}
