// The full-size view of a chat picture: an overlay over the page (a modal dialog), closed by its button, a click
// beside the picture or Esc; focus goes back to the thumbnail that opened it.
import { t } from "./i18n.js";
import { h } from "./ui.js";

let open = null; // { overlay, returnTo, onKey }

export function closeLightbox() {
  if (!open) return;
  const { overlay, returnTo, onKey } = open;
  open = null;
  document.removeEventListener("keydown", onKey, true);
  overlay.remove();
  if (returnTo && returnTo.isConnected) returnTo.focus();
}

/**
 * Shows `url` full size. `refresh()` (optional) gives a new URL if this one fails to load (it expired);
 * it is asked once.
 */
export function openLightbox(url, { alt, returnTo, refresh } = {}) {
  closeLightbox();
  const image = h("img", { className: "lightbox-image", testid: "lightbox-image", attrs: { alt: alt || t("chat.picture_full_alt") } });
  let retried = false;
  image.addEventListener("error", async () => {
    if (retried || !refresh) return;
    retried = true;
    try {
      image.src = await refresh();
    } catch {
      image.alt = t("chat.picture_unavailable");
    }
  });
  image.src = url;
  const close = h("button", { className: "lightbox-close", testid: "lightbox-close", text: "×",
    attrs: { type: "button", "aria-label": t("chat.lightbox_close") }, onClick: () => closeLightbox() });
  const overlay = h("div", { className: "lightbox", testid: "lightbox",
    attrs: { role: "dialog", "aria-modal": "true", "aria-label": t("chat.lightbox_label") } }, close, image);
  overlay.addEventListener("click", (event) => {
    if (event.target === overlay) closeLightbox();
  });
  const onKey = (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      closeLightbox();
    }
  };
  document.addEventListener("keydown", onKey, true);
  document.body.append(overlay);
  open = { overlay, returnTo, onKey };
  close.focus();
  return overlay;
}
