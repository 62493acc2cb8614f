// REST calls to /api/v4/... on this origin. Errors come back as ApiError with the service's stable code
// ({"error": {"code", "message"}}); a network failure is ApiError(0, "network", ...).

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details || [];
  }
}

/** Plain-words text for an ApiError, for the person looking at the page. */
export function describeError(err) {
  if (!(err instanceof ApiError)) return "Something went wrong. Please try again.";
  if (err.status === 0) return "Cannot reach the server. Check your network and try again.";
  if (err.status === 422 && err.details.length) {
    return err.details.map((d) => `${d.field ? d.field + ": " : ""}${d.message}`).join("; ");
  }
  if (err.status >= 500) return "The service is having trouble right now. Please try again in a moment.";
  return err.message || `Request failed (${err.status}).`;
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
    throw new ApiError(0, "network", "Cannot reach the server.");
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
