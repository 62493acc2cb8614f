// The pages' own picture helpers, free of the DOM (unit-tested under Node). The signed links of a picture and
// which messages are pictures (`PictureLinks`, `isPictureMessage`) are the client SDK's (clients/sdk/src/pictures.ts,
// /sdk/index.js), shared with the mini program.

export const IMAGE_PREVIEW = "[image]"; // chat-svc's stored last_message of a picture (chat_svc.store.IMAGE_PREVIEW)

/** The files among what was picked, pasted or dropped. All of them go up: chat-svc judges a picture by its
 * bytes (not its name or declared type) and says in its error code why it refuses one. */
export function filesIn(list) {
  return [...(list || [])].filter((file) => file && typeof file.size === "number" && "name" in file);
}

/** A session's last_message for people: the stored picture marker becomes the catalogue's word. */
export function previewText(lastMessage, t) {
  return lastMessage === IMAGE_PREVIEW ? t("chat.picture") : lastMessage;
}
