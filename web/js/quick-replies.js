// admin/customer-service.html: quick replies. Typing `/` in the composer (at the start or after a space) opens the
// list of the team's and the agent's own replies, filtered by what follows the slash (quick-reply-match.js);
// ↑/↓ move, Enter or a click inserts the reply in place of `/query` (the agent edits it before sending), Esc
// closes. A "manage" dialog adds, edits and deletes the agent's own replies; supervisors also the team's.
import { describeError } from "./api.js";
import { t } from "./i18n.js";
import { insertReply, matchQuickReplies, slashQuery } from "./quick-reply-match.js";
import { h, toast } from "./ui.js";

const REPLIES = "/api/v4/customer-service/quick-replies";
const MAX_SHOWN = 8;

/** Wires the `/` list to the composer's textarea; returns nothing. `supervisor`: may manage team replies. */
export function bindQuickReplies({ call, input, composer, supervisor }) {
  let replies = [];
  let loaded = null;
  let open = null; // {start, matches, index}

  const list = h("ul", { className: "quick-replies", testid: "quick-reply-list", attrs: { role: "listbox", "aria-label": t("qr.title") } });
  list.hidden = true;
  const manage = h("button", { className: "quick-replies-manage", testid: "quick-reply-manage", text: t("qr.manage"),
    attrs: { type: "button", title: t("qr.hint") }, onClick: () => openManager() });
  composer.classList.add("has-quick-replies");
  composer.prepend(list);
  input.after(manage);

  function load() {
    loaded = call(REPLIES).then((page) => { replies = page.items; }, (err) => {
      loaded = null;
      toast(t("qr.load_failed"), describeError(err), { kind: "error" });
    });
    return loaded;
  }

  function close() {
    open = null;
    list.hidden = true;
    input.removeAttribute("aria-activedescendant");
  }

  function draw() {
    list.replaceChildren(...(open.matches.length ? open.matches.map((r, i) => h("li", {
      className: "quick-reply", testid: "quick-reply-item", dataset: { quickReplyId: r.quick_reply_id, scope: r.scope },
      attrs: { role: "option", id: `quick-reply-${r.quick_reply_id}`, "aria-selected": String(i === open.index) } },
    h("strong", { text: r.title }), h("span", { className: "scope", text: t(`qr.scope.${r.scope}`) }),
    h("span", { className: "preview", text: r.content }))) : [h("li", { className: "empty", testid: "quick-reply-none", text: t("qr.none") })]));
    list.hidden = false;
    list.querySelectorAll("[data-testid=quick-reply-item]").forEach((item, i) => {
      item.addEventListener("mousedown", (event) => { event.preventDefault(); pick(i); });
    });
    const chosen = open.matches[open.index];
    if (chosen) {
      input.setAttribute("aria-activedescendant", `quick-reply-${chosen.quick_reply_id}`);
      list.children[open.index].scrollIntoView({ block: "nearest" });
    }
  }

  async function refresh() {
    const found = slashQuery(input.value, input.selectionStart);
    if (!found) { close(); return; }
    if (!loaded) load();
    await loaded;
    const again = slashQuery(input.value, input.selectionStart); // the agent may have typed on while it loaded
    if (!again) { close(); return; }
    open = { start: again.start, matches: matchQuickReplies(replies, again.query).slice(0, MAX_SHOWN), index: 0 };
    draw();
  }

  function pick(index) {
    const reply = open && open.matches[index];
    if (!reply) return;
    const next = insertReply(input.value, open.start, input.selectionStart, reply.content);
    input.value = next.text;
    input.setSelectionRange(next.caret, next.caret);
    close();
    input.focus();
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  input.addEventListener("input", refresh);
  input.addEventListener("blur", () => setTimeout(close, 150));
  // Capture on the form: runs before the composer's own Enter-to-send listener on the textarea, and stops it.
  composer.addEventListener("keydown", (event) => {
    if (!open || event.target !== input || event.isComposing) return;
    const keys = { ArrowDown: 1, ArrowUp: -1 };
    if (event.key in keys && open.matches.length) {
      open.index = (open.index + keys[event.key] + open.matches.length) % open.matches.length;
      draw();
    } else if (event.key === "Enter" && open.matches.length) {
      pick(open.index);
    } else if (event.key === "Escape") {
      close();
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  }, true);

  // --- the manager dialog -------------------------------------------------------------------------------
  const dialog = h("dialog", { className: "quick-reply-dialog", testid: "quick-reply-dialog", attrs: { "aria-label": t("qr.manage") } });
  document.body.append(dialog);

  async function openManager() {
    await load();
    drawManager(null);
    if (!dialog.open) dialog.showModal();
  }

  function drawManager(editing) {
    const title = h("input", { testid: "quick-reply-title", attrs: { maxlength: 60, required: true, "aria-label": t("qr.field_title"), placeholder: t("qr.field_title") } });
    const content = h("textarea", { testid: "quick-reply-content", attrs: { maxlength: 5000, required: true, "aria-label": t("qr.field_content"), placeholder: t("qr.field_content") } });
    const scope = h("select", { testid: "quick-reply-scope", attrs: { "aria-label": t("qr.field_scope") } },
      ...["personal", "team"].filter((s) => s === "personal" || supervisor).map((s) => h("option", { text: t(`qr.scope.${s}`), attrs: { value: s } })));
    if (editing) {
      title.value = editing.title;
      content.value = editing.content;
      scope.value = editing.scope;
      scope.disabled = true;
    }
    const form = h("form", { className: "quick-reply-form", testid: "quick-reply-form" }, title, content, scope,
      h("button", { className: "primary", testid: "quick-reply-save", text: editing ? t("qr.save") : t("qr.add"), attrs: { type: "submit" } }),
      editing ? h("button", { text: t("qr.cancel_edit"), attrs: { type: "button" }, onClick: () => drawManager(null) }) : null);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { title: title.value, content: content.value };
      try {
        if (editing) await call(`${REPLIES}/${editing.quick_reply_id}`, { method: "PUT", body });
        else await call(REPLIES, { method: "POST", body: { ...body, scope: scope.value } });
        await load();
        drawManager(null);
      } catch (err) {
        toast(t("qr.save_failed"), describeError(err), { kind: "error" });
      }
    });
    const mayChange = (r) => r.scope === "personal" || supervisor;
    const rows = replies.map((r) => h("li", { testid: "quick-reply-row", dataset: { quickReplyId: r.quick_reply_id, scope: r.scope } },
      h("strong", { text: r.title }), h("span", { className: "scope", text: t(`qr.scope.${r.scope}`) }),
      h("span", { className: "preview", text: r.content }),
      mayChange(r) ? h("button", { testid: "quick-reply-edit", text: t("qr.edit"), attrs: { type: "button" }, onClick: () => drawManager(r) }) : null,
      mayChange(r) ? h("button", { className: "danger", testid: "quick-reply-delete", text: t("qr.delete"), attrs: { type: "button" },
        onClick: async () => {
          try {
            await call(`${REPLIES}/${r.quick_reply_id}`, { method: "DELETE" });
            await load();
            drawManager(null);
          } catch (err) {
            toast(t("qr.save_failed"), describeError(err), { kind: "error" });
          }
        } }) : null));
    dialog.replaceChildren(h("h2", { text: t("qr.manage") }), h("p", { className: "muted", text: t("qr.hint") }),
      h("ul", { className: "quick-reply-rows" }, ...rows), form,
      h("button", { testid: "quick-reply-close", text: t("qr.close"), attrs: { type: "button" }, onClick: () => dialog.close() }));
  }
}
