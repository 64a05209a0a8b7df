// The HTTP API as the console uses it: the same endpoints and envelope as any client
// ({code, msg, data}, HTTP 200, code 1000 = success). Credentials live in sessionStorage only:
// a tab's session, never written to disk by the console.

const TEAM_KEY = "reelsmith.console.team";
const ADMIN_KEY = "reelsmith.console.admin";

/** A refusal from the API: `code` is its business code, `message` its own `msg`. */
export class ApiError extends Error {
  constructor(code, msg, status = 200) {
    super(msg || `error ${code}`);
    this.code = code;
    this.status = status;
  }
}

export const session = {
  /** {clientId, token} of the signed-in team, or null. */
  get team() {
    const stored = sessionStorage.getItem(TEAM_KEY);
    return stored ? JSON.parse(stored) : null;
  },
  set team(value) {
    if (value) sessionStorage.setItem(TEAM_KEY, JSON.stringify(value));
    else sessionStorage.removeItem(TEAM_KEY);
  },
  /** The operator's admin token, or null. */
  get admin() {
    return sessionStorage.getItem(ADMIN_KEY);
  },
  set admin(value) {
    if (value) sessionStorage.setItem(ADMIN_KEY, value);
    else sessionStorage.removeItem(ADMIN_KEY);
  },
};

function authHeader(auth) {
  if (auth === "team" && session.team) return { Authorization: `Bearer ${session.team.token}` };
  if (auth === "admin" && session.admin) return { Authorization: `Bearer ${session.admin}` };
  return {};
}

/**
 * Calls the API and returns the whole envelope on success (code 1000); throws ApiError with the
 * API's own message otherwise. `auth` is "team", "admin" or "none".
 */
export async function call(path, { method = "GET", body, auth = "team", signal, signOutOnRefusal = true } = {}) {
  const headers = { ...authHeader(auth) };
  if (body !== undefined) headers["content-type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "the server cannot be reached; check your connection");
  }
  let envelope;
  try {
    envelope = await response.json();
  } catch {
    throw new ApiError(response.status, `the server answered HTTP ${response.status}`, response.status);
  }
  if (envelope.code !== 1000) {
    if (signOutOnRefusal && auth !== "none" && (envelope.code === 1101 || envelope.code === 1102 || envelope.code === 1200)) {
      window.dispatchEvent(new CustomEvent("reelsmith:signed-out", { detail: { auth, msg: envelope.msg } }));
    }
    throw new ApiError(envelope.code, envelope.msg, response.status);
  }
  return envelope;
}

/** The `data` of a successful call. */
export async function get(path, options) {
  return (await call(path, options)).data;
}

export async function post(path, body, options = {}) {
  return (await call(path, { ...options, method: "POST", body: body ?? {} })).data;
}

/** Exchanges the clientId and API key for a token (the key itself is not kept). */
export async function signInTeam(clientId, apiKey) {
  const answer = await call("/api/open/v3/getToken", {
    method: "POST",
    body: { clientId, clientSecret: apiKey },
    auth: "none",
  });
  session.team = { clientId, token: answer.token };
  try {
    await get("/api/open/v3/faceswap/quota/info", { signOutOnRefusal: false });
  } catch (error) {
    session.team = null;
    throw error;
  }
}

/** Checks the admin token against the accounts list before keeping it. */
export async function signInOperator(token) {
  session.admin = token;
  try {
    await get("/api/reelsmith/v1/admin/accounts", { auth: "admin", signOutOnRefusal: false });
  } catch (error) {
    session.admin = null;
    throw error;
  }
}

export async function credits() {
  return (await get("/api/open/v3/faceswap/quota/info")).credit;
}

/**
 * Uploads a file (raw body) and resolves to its signed URL. XMLHttpRequest, not fetch, because
 * only it reports upload progress: `onProgress(fraction)`.
 */
export function upload(file, onProgress = () => {}) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", "/api/reelsmith/v1/upload");
    const { Authorization } = authHeader("team");
    if (Authorization) request.setRequestHeader("Authorization", Authorization);
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    request.addEventListener("load", () => {
      let envelope;
      try {
        envelope = JSON.parse(request.responseText);
      } catch {
        reject(new ApiError(request.status, `the upload failed: HTTP ${request.status}`, request.status));
        return;
      }
      if (envelope.code === 1000) resolve(envelope.data.url);
      else reject(new ApiError(envelope.code, envelope.msg, request.status));
    });
    request.addEventListener("error", () => reject(new ApiError(0, "the upload failed: the server cannot be reached")));
    request.send(file);
  });
}

/**
 * The price and pre-flight of a create request, without charging or queueing. Resolves to the
 * quote's data, or to {unavailable: reason} where the server offers no quote (older servers).
 */
export async function quote(endpoint, body) {
  try {
    return await post("/api/reelsmith/v1/quote", { endpoint, body });
  } catch (error) {
    if (error instanceof ApiError) return { unavailable: error.status === 404 ? "" : error.message };
    throw error;
  }
}
