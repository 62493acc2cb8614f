// A picture message in the conversation: its thumbnail (from signed URLs, picture-links.js), a button that opens
// the full-size view (lightbox.js). The URLs are asked for when the bubble is drawn; a thumbnail that fails to
// load (its URL expired while the page stayed open) gets fresh URLs once before it says it cannot be shown.
import { t } from "./i18n.js";
import { openLightbox } from "./lightbox.js";
import { h } from "./ui.js";

/** The bubble's content for picture message `m`; `onLoad()` runs when the thumbnail has its size. */
export function pictureNode(m, links, { onLoad } = {}) {
  const sessionId = m.session_id;
  const id = m.message_content;
  const image = h("img", { className: "picture-thumb", testid: "message-image", attrs: { alt: t("chat.picture_alt") } });
  const button = h("button", { className: "picture", testid: "message-picture",
    attrs: { type: "button", "aria-label": t("chat.picture_open") }, dataset: { attachmentId: id } }, image);
  let retried = false;

  const show = (attachment) => {
    if (attachment.thumbnail_width && attachment.thumbnail_height) {
      image.width = attachment.thumbnail_width;
      image.height = attachment.thumbnail_height;
    }
    image.src = attachment.thumbnail_url;
  };
  const unavailable = () => {
    button.dataset.state = "unavailable";
    image.alt = t("chat.picture_unavailable");
    image.removeAttribute("src");
    button.replaceChildren(image, h("span", { className: "picture-missing", text: t("chat.picture_unavailable") }));
  };
  image.addEventListener("load", () => {
    button.dataset.state = "loaded";
    if (onLoad) onLoad();
  });
  image.addEventListener("error", () => {
    if (retried || !image.getAttribute("src")) return unavailable();
    retried = true;
    links.refresh(sessionId, id).then(show, unavailable);
  });
  links.get(sessionId, id).then(show, unavailable);

  button.addEventListener("click", async () => {
    try {
      const attachment = await links.get(sessionId, id);
      openLightbox(attachment.url, {
        returnTo: button,
        refresh: () => links.refresh(sessionId, id).then((fresh) => fresh.url),
      });
    } catch {
      unavailable();
    }
  });
  return button;
}
