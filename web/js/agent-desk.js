// admin/customer-service.html: the agent's desk, wired to the console through one object so the console needs only
// small hooks: quick replies in the composer (quick-replies.js).
import { bindQuickReplies } from "./quick-replies.js";

/** `el`: the console's elements (input, composer). */
export function bindAgentDesk({ call, supervisor, el }) {
  bindQuickReplies({ call, input: el.input, composer: el.composer, supervisor });
  return {};
}
