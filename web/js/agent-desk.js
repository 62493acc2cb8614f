// admin/customer-service.html: the agent's desk, wired to the console through one object so the console needs only
// small hooks: quick replies in the composer (quick-replies.js), private notes on the open session (notes.js) and
// transfer to an agent picked from a live list (transfer-picker.js).
import { bindNotes } from "./notes.js";
import { bindQuickReplies } from "./quick-replies.js";
import { bindTransferPicker } from "./transfer-picker.js";

/**
 * `el`: the console's elements (input, composer, head); `transfer(adminId, note)`: resolves to true when the
 * transfer went through. Returns {show(session), pickTransfer()}: `show` after every change of the open session.
 */
export function bindAgentDesk({ call, socket, me, supervisor, el, transfer }) {
  bindQuickReplies({ call, input: el.input, composer: el.composer, supervisor });
  const notes = bindNotes({ call, socket, anchor: el.head, me });
  const picker = bindTransferPicker({ call, socket, me, transfer });
  let shown = null;
  return {
    show(s) {
      if (shown === s.session_id) return;
      shown = s.session_id;
      notes.show(s.session_id, true);
    },
    pickTransfer: () => picker.open(),
  };
}
