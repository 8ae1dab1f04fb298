// Requests to azemu's control API; an answer that is not 2xx becomes an Error carrying the
// API's own message.
export async function getJSON(path) {
  return answer(await fetch(path, { headers: { Accept: "application/json" } }));
}

export async function postJSON(path, body) {
  return answer(await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  }));
}

async function answer(response) {
  const text = await response.text();
  const body = text ? JSON.parse(text) : null;
  if (!response.ok) {
    throw new Error(body?.error?.message ?? `${response.status} ${response.statusText}`);
  }
  return body;
}
