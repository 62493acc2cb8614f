// admin/customer-service.html: private notes on the open session, under its header. Admins only: notes are never
// messages (the user's page never gets them, by REST or socket); `chat:note` reaches the session's agent, the
// note's author and supervisors. A note written with a transfer is flagged for the receiving agent, who also gets
// a toast when it arrives for a session they are not looking at.
import { describeError } from "./api.js";
import { t } from "./i18n.js";
import { h, timeNode, toast } from "./ui.js";

const SESSIONS = "/api/v4/customer-service/sessions";

/** Builds the notes panel after `anchor` (the conversation header); returns {show(sessionId, canWrite), hide()}. */
export function bindNotes({ call, socket, anchor, me }) {
  let current = null;
  const list = h("ul", { className: "notes-list", testid: "notes-list" });
  const input = h("textarea", { testid: "note-input", attrs: { maxlength: 5000, rows: 2, placeholder: t("notes.placeholder"), "aria-label": t("notes.placeholder") } });
  const add = h("button", { testid: "note-add", text: t("notes.add"), attrs: { type: "submit" } });
  const form = h("form", { className: "notes-form" }, input, add);
  const count = h("span", { className: "badge neutral", testid: "notes-count", text: "0", dataset: { count: 0 } });
  const panel = h("details", { className: "notes", testid: "notes-panel" },
    h("summary", {}, h("span", { text: t("notes.title") }), " ", count, " ", h("span", { className: "muted", text: t("notes.private_hint") })),
    list, form);
  panel.hidden = true;
  anchor.after(panel);

  function item(note) {
    const who = note.author_id === me ? t("notes.by_you") : t("cs.admin", { id: note.author_id });
    return h("li", { className: note.transfer_to ? "note note-transfer" : "note", testid: "note-item", dataset: { noteId: note.note_id } },
      h("span", { className: "who", text: note.transfer_to ? t("notes.transfer_from", { who, to: note.transfer_to }) : who }),
      timeNode(note.created_at, { className: "time" }),
      h("div", { className: "note-content", text: note.content }));
  }

  function append(note) {
    if (list.querySelector(`[data-note-id="${note.note_id}"]`)) return;
    list.append(item(note));
    const n = list.children.length;
    count.textContent = String(n);
    count.dataset.count = String(n);
    if (note.transfer_to) panel.open = true;
  }

  async function show(sessionId, canWrite) {
    current = sessionId;
    list.replaceChildren();
    count.textContent = "0";
    count.dataset.count = "0";
    form.hidden = !canWrite;
    panel.hidden = false;
    try {
      const page = await call(`${SESSIONS}/${sessionId}/notes`);
      if (current === sessionId) page.items.forEach(append);
    } catch (err) {
      toast(t("notes.load_failed"), describeError(err), { kind: "error" });
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const content = input.value.trim();
    if (!content || !current) return;
    add.disabled = true;
    try {
      append(await call(`${SESSIONS}/${current}/notes`, { method: "POST", body: { content } }));
      input.value = "";
    } catch (err) {
      toast(t("notes.save_failed"), describeError(err), { kind: "error" });
    } finally {
      add.disabled = false;
    }
  });

  socket.on("chat:note", (note) => {
    if (note.session_id === current) append(note);
    else if (note.transfer_to === me) toast(t("notes.transfer_toast", { session: note.session_id }), note.content);
  });

  return { show, hide: () => { current = null; panel.hidden = true; } };
}
