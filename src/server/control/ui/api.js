// Requests to azemu's control API. An answer that is not 2xx becomes an Error carrying the
// API's own message; a 401 also tells the page to ask for a sign-in.
export const unauthorized = new EventTarget();

export async function getJSON(path) {
  return send("GET", path);
}

export async function postJSON(path, body) {
  return send("POST", path, body);
}

export async function send(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (response.status === 401) unauthorized.dispatchEvent(new Event("signin"));
  if (!response.ok) {
    const error = new Error(parsed?.error?.message ?? `${response.status} ${response.statusText}`);
    error.code = parsed?.error?.code;
    error.status = response.status;
    throw error;
  }
  return parsed;
}

/** A path and query from one of the API's absolute `nextLink`s. */
export function local(link) {
  const url = new URL(link);
  return url.pathname + url.search;
}
