// The platform's REST API over wx.request / wx.uploadFile. A mini program has no cookies and no origin: every
// call carries `Authorization: Bearer <access token>` and goes to the whitelisted https base URL. A 401 renews the
// token once (the TokenKeeper's refresh flow) and tries again; refused again: `onUnauthorized(code)`. Errors are
// ApiError with the service's code (`{"error": {"code", "message"}}`), status 0 for a network failure.

class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.status = status;
    this.code = code;
  }
}

function parse(data) {
  if (typeof data !== "string") return data;
  try {
    return data ? JSON.parse(data) : null;
  } catch (err) {
    return null;
  }
}

function errorOf(statusCode, data) {
  const error = (data && data.error) || {};
  return new ApiError(statusCode, error.code || `http_${statusCode}`, error.message);
}

/** One wx.request; resolves {statusCode, data} whatever the status, rejects ApiError(0, "network") on a failure. */
function wxRequest(wx, options) {
  return new Promise((resolve, reject) => wx.request({
    ...options,
    success: (res) => resolve({ statusCode: res.statusCode, data: parse(res.data) }),
    fail: (err) => reject(new ApiError(0, "network", err && err.errMsg)),
  }));
}

function wxUpload(wx, options) {
  return new Promise((resolve, reject) => wx.uploadFile({
    ...options,
    success: (res) => resolve({ statusCode: res.statusCode, data: parse(res.data) }),
    fail: (err) => reject(new ApiError(0, "network", err && err.errMsg)),
  }));
}

/** A random Idempotency-Key (the mini program has no crypto.randomUUID everywhere). */
function newIdempotencyKey() {
  const hex = () => Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, "0");
  return `mp-${Date.now().toString(16)}-${hex()}${hex()}`;
}

/**
 * @param {{wx: object, baseUrl: string, token: () => string, renew: () => Promise<string>,
 *          onUnauthorized?: (code: string) => void}} deps
 */
function createApi({ wx, baseUrl, token, renew, onUnauthorized }) {
  async function withRenewal(send) {
    let res = await send(token());
    if (res.statusCode === 401 && renew) {
      const renewed = await renew().catch(() => null);
      if (renewed) res = await send(renewed);
    }
    if (res.statusCode >= 200 && res.statusCode < 300) return res.data;
    const err = errorOf(res.statusCode, res.data);
    if (res.statusCode === 401 && onUnauthorized) onUnauthorized(err.code);
    throw err;
  }

  return {
    /** `path` under the base URL; `body` is sent as JSON. */
    request(path, { method = "GET", body, headers = {} } = {}) {
      return withRenewal((bearer) => wxRequest(wx, {
        url: `${baseUrl}${path}`, method, data: body,
        header: { "content-type": "application/json", authorization: `Bearer ${bearer}`, ...headers },
      }));
    },
    /** A multipart upload of a local file (wx.chooseMedia's tempFilePath) as the field `name`. */
    upload(path, filePath, { name = "file" } = {}) {
      return withRenewal((bearer) => wxUpload(wx, {
        url: `${baseUrl}${path}`, filePath, name, header: { authorization: `Bearer ${bearer}` },
      }));
    },
  };
}

module.exports = { ApiError, createApi, wxRequest, newIdempotencyKey };
