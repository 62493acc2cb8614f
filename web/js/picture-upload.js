// Uploading a picture into a session: multipart POST /api/v4/customer-service/sessions/{id}/attachments.
// XMLHttpRequest rather than fetch: fetch reports no upload progress, and a photo from a phone takes a while.
// Errors are api.js's ApiError with the service's code (unsupported_image, image_too_large, ...), so pages
// describe them with describeError like any other.
import { ApiError } from "./api.js";

const BASE = "/api/v4/customer-service";
const FIELD = "file"; // the route's multipart field
const UNNAMED = "picture"; // a pasted screenshot may come without a file name

function post(url, file, bearer, onProgress) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("Accept", "application/json");
    if (bearer) xhr.setRequestHeader("Authorization", `Bearer ${bearer}`);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && onProgress) onProgress(Math.round((100 * event.loaded) / event.total));
    });
    xhr.addEventListener("load", () => resolve({ status: xhr.status, text: xhr.responseText }));
    xhr.addEventListener("error", () => resolve({ status: 0, text: "" }));
    xhr.addEventListener("abort", () => resolve({ status: 0, text: "" }));
    const form = new FormData();
    form.append(FIELD, file, file.name || UNNAMED);
    xhr.send(form);
  });
}

function parse(text) {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/**
 * Uploads `file`; resolves to the attachment (attachment_id, url, thumbnail_url, width, height, expires_at...).
 * `token()` gives the bearer, `renew()` a new one after a 401 (tried once), as for api.js's api().
 */
export async function uploadPicture(sessionId, file, { token, renew, onProgress, onUnauthorized } = {}) {
  const url = `${BASE}/sessions/${sessionId}/attachments`;
  let answer = await post(url, file, await token(), onProgress);
  if (answer.status === 401 && renew) {
    const renewed = await renew().catch(() => null);
    if (renewed) answer = await post(url, file, renewed, onProgress);
  }
  const data = parse(answer.text);
  if (answer.status >= 200 && answer.status < 300 && data) return data;
  if (answer.status === 0) throw new ApiError(0, "network", "network");
  const error = (data && data.error) || {};
  // The edge's own 413 (a body beyond EDGE_UPLOAD_MAX_BODY) has no JSON: it is the same refusal as chat-svc's.
  const code = error.code || (answer.status === 413 ? "image_too_large" : `http_${answer.status}`);
  const err = new ApiError(answer.status, code, error.message || "", error.details);
  if (answer.status === 401 && onUnauthorized) onUnauthorized(err.code);
  throw err;
}
