// Sending pictures from a page's composer: the ways a picture comes in (a file picked with the composer's button,
// pasted from the clipboard, dropped on the conversation) and the one way it goes out (upload with progress into
// the pending bubble, then the image message whose content is the attachment_id).
import { describeError } from "./api.js";
import { filesIn } from "./picture-links.js";

/**
 * Uploads `file` and sends it as an image message, in a pending bubble of `view` (ChatView).
 * `upload(file, onProgress)` resolves to the attachment; `deliver(pending, attachmentId)` sends the message and
 * settles the bubble. A retry after a failed send sends the same upload again instead of uploading anew.
 */
export function sendPicture(view, sessionId, file, { upload, deliver }) {
  let attachment = null;
  const attempt = () => {
    const pending = view.addPendingPicture(sessionId, attempt);
    const ready = attachment ? Promise.resolve(attachment) : upload(file, (percent) => view.progress(pending, percent));
    ready.then((uploaded) => {
      attachment = uploaded;
      view.uploaded(pending, uploaded);
      deliver(pending, uploaded.attachment_id);
    }, (err) => view.fail(pending, describeError(err)));
  };
  attempt();
}

/**
 * Wires the ways in: `button` opens `fileInput`; a paste anywhere on the page (a screenshot) and a drop on
 * `dropZone` (if given) hand their files to `onFiles(files)` when `enabled()` says a conversation
 * is open. Returns nothing; the listeners live as long as the page.
 */
export function bindPictureInputs({ button, fileInput, dropZone = null, enabled, onFiles }) {
  button.addEventListener("click", () => fileInput.click());
  fileInput.addEventListener("change", () => {
    const files = filesIn(fileInput.files);
    fileInput.value = ""; // the same file can be picked again
    if (files.length && enabled()) onFiles(files);
  });
  document.addEventListener("paste", (event) => {
    const files = filesIn(event.clipboardData && event.clipboardData.files);
    if (!files.length || !enabled()) return; // text pastes go on as usual
    event.preventDefault();
    onFiles(files);
  });
  if (!dropZone) return;
  const carriesFiles = (event) => event.dataTransfer && [...event.dataTransfer.types].includes("Files");
  dropZone.addEventListener("dragover", (event) => {
    if (!carriesFiles(event) || !enabled()) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    dropZone.dataset.dropping = "true";
  });
  dropZone.addEventListener("dragleave", (event) => {
    if (!dropZone.contains(event.relatedTarget)) delete dropZone.dataset.dropping;
  });
  dropZone.addEventListener("drop", (event) => {
    delete dropZone.dataset.dropping;
    if (!carriesFiles(event)) return;
    event.preventDefault();
    const files = filesIn(event.dataTransfer.files);
    if (files.length && enabled()) onFiles(files);
  });
}
