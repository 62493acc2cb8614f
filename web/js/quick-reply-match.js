// Quick replies in the composer, the pure part (no DOM, tested under Node): which `/query` the agent is typing
// and which replies it finds. A substring of the title or the content, case-insensitive for Latin letters and
// width-insensitive (NFKC: "ＶＩＰ" finds "vip"); Chinese needs no folding ("退款" finds "退款进度查询").

function fold(text) {
  return String(text).normalize("NFKC").toLocaleLowerCase("en-US");
}

/** The replies `query` finds: title matches first, then content-only ones, each in the given order. */
export function matchQuickReplies(replies, query) {
  const wanted = fold(query).trim();
  if (!wanted) return replies.slice();
  const byTitle = [];
  const byContent = [];
  for (const reply of replies) {
    if (fold(reply.title).includes(wanted)) byTitle.push(reply);
    else if (fold(reply.content).includes(wanted)) byContent.push(reply);
  }
  return byTitle.concat(byContent);
}

/** The `/query` right before the caret: {start, query} (start: the slash's index), or null when the caret is not
 * in one. The slash starts the text or follows white space; the query has no white space in it. */
export function slashQuery(text, caret) {
  const before = text.slice(0, caret);
  const at = before.lastIndexOf("/");
  if (at < 0 || (at > 0 && !/\s/.test(before[at - 1]))) return null;
  const query = before.slice(at + 1);
  return /\s/.test(query) ? null : { start: at, query };
}

/** `text` with the `/query` at `start` (up to `caret`) replaced by `content`: {text, caret} (after the insert). */
export function insertReply(text, start, caret, content) {
  return { text: text.slice(0, start) + content + text.slice(caret), caret: start + content.length };
}
