// REST calls to /api/v4/... on this origin. Errors come back as ApiError with the service's stable code
// ({"error": {"code", "message"}}); a network failure is ApiError(0, "network", ...). The server's `message` is
// for developers (English); people read the catalogue's words for the `code` (describeError / describeCode).
import { t } from "./i18n.js";

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details || [];
  }
}

/** The catalogue's words for an error `code` (API, socket ack or connection refusal), or null if it has none. */
export function describeCode(code) {
  return code && t.has(`error.${code}`) ? t(`error.${code}`) : null;
}

/** Plain words, in the page's language, for an error, for the person looking at the page. */
export function describeError(err) {
  if (!(err instanceof ApiError)) return t("error.generic");
  if (err.status === 0) return t("error.network");
  const fields = err.status === 422 ? [...new Set(err.details.map((d) => d.field).filter(Boolean))] : [];
  if (err.code === "validation_error" && fields.length) {
    const names = fields.map((f) => (t.has(`field.${f}`) ? t(`field.${f}`) : f));
    return t("error.invalid_fields", { fields: new Intl.ListFormat(t.locale, { type: "conjunction" }).format(names) });
  }
  const known = describeCode(err.code);
  if (known) return known;
  if (err.status >= 500) return t("error.server");
  return t("error.http", { status: err.status });
}

/** Plain words for a failed socket ack ({code, message}): the code's words, else a generic text. */
export function describeAckError(error) {
  return describeCode(error && error.code) || t("error.generic");
}

export function newIdempotencyKey() {
  if (globalThis.crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/**
 * fetch + JSON. `token` adds the Bearer header (a string, or a function that returns one or a promise of
 * one); on a 401, `renew()` (a promise of a new token) is tried once and the request sent again with it;
 * `onUnauthorized(code)` runs on a 401 that renewing did not cure (then the error is thrown anyway, so
 * callers stop what they were doing).
 */
export async function api(path, { method = "GET", body, token, renew, headers = {}, onUnauthorized } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, credentials: "same-origin" };
  const bearer = typeof token === "function" ? await token() : token;
  if (bearer) init.headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (cause) {
    throw new ApiError(0, "network", "network");
  }
  let data = null;
  const text = await response.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    const err = new ApiError(response.status, error.code || `http_${response.status}`,
      error.message || response.statusText, error.details);
    if (response.status === 401 && renew) {
      let renewed = null;
      try {
        renewed = await renew();
      } catch (cause) {
        if (cause instanceof ApiError && cause.status === 0) throw cause; // offline: not a reason to log out
      }
      if (renewed) return api(path, { method, body, token: renewed, headers, onUnauthorized });
    }
    if (response.status === 401 && onUnauthorized) onUnauthorized(err.code);
    throw err;
  }
  return data;
}

/** Query string from an object, leaving out empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "" && value !== false) search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
