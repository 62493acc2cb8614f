// admin/customer-service.html: the agent's desk, wired to the console through one object so the console needs only
// small hooks: quick replies in the composer (quick-replies.js), private notes on the open session (notes.js),
// transfer to an agent picked from a live list (transfer-picker.js), the customer panel beside the conversation
// (customer-panel.js) and the search that opens a session at the matching message (search.js).
import { bindCustomerPanel } from "./customer-panel.js";
import { t } from "./i18n.js";
import { bindNotes } from "./notes.js";
import { bindQuickReplies } from "./quick-replies.js";
import { bindSearch } from "./search.js";
import { bindTransferPicker } from "./transfer-picker.js";
import { toast } from "./ui.js";

const MAX_PAGES_BACK = 100;

/**
 * `el`: the console's elements (input, composer, head, messages); `console`: {open(sessionId) (a promise),
 * loadOlder() (a promise), hasMore()}; `transfer(adminId, note)`: resolves to true when the transfer went through.
 * Returns {show(session), pickTransfer()}: `show` after every change of the open session.
 */
export function bindAgentDesk({ call, socket, me, supervisor, el, console: chat, transfer }) {
  bindQuickReplies({ call, input: el.input, composer: el.composer, supervisor });
  const notes = bindNotes({ call, socket, anchor: el.head, me });
  const picker = bindTransferPicker({ call, socket, me, transfer });
  const panel = bindCustomerPanel({ call, grid: el.head.closest(".cs"), open: (sessionId) => chat.open(sessionId) });

  /** Opens the session, pages back until the message is shown, and highlights it. */
  async function openAt(sessionId, messageId) {
    await chat.open(sessionId);
    const find = () => el.messages.querySelector(`[data-testid="message"][data-message-id="${messageId}"]`);
    for (let pages = 0; !find() && chat.hasMore() && pages < MAX_PAGES_BACK; pages += 1) {
      await chat.loadOlder();
      if (!find()) await new Promise((resolve) => setTimeout(resolve, 50)); // a load already under way
    }
    const node = find();
    if (!node) {
      toast(t("search.not_found_in_session"));
      return;
    }
    el.messages.querySelectorAll("[data-highlight]").forEach((n) => n.removeAttribute("data-highlight"));
    node.dataset.highlight = "true";
    node.scrollIntoView({ block: "center" });
  }
  bindSearch({ call, side: el.sessions.closest(".cs-side"), openAt });

  let shown = null;
  return {
    show(s) {
      if (shown === s.session_id) return;
      shown = s.session_id;
      notes.show(s.session_id, true);
      panel.show(s);
    },
    pickTransfer: () => picker.open(),
  };
}
