// The pages' requests to the server: JSON in and out, CSRF token, never a thrown error.

/** The CSRF token Django put in the page ({% csrf_token %}), sent with every POST. */
export function csrfToken() {
  return document.querySelector('input[name="csrfmiddlewaretoken"]')?.value || "";
}

/**
 * Send a request and read its JSON answer. Resolves to { ok, status, data }: status 0
 * when the connection failed (offline, server gone), data {} when the body is not JSON.
 */
export async function request(url, { method = "GET", json = undefined, form = undefined } = {}) {
  const headers = { Accept: "application/json" };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  try {
    const response = await fetch(url, { method, body, headers, credentials: "same-origin" });
    const data = await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, data };
  } catch {
    return { ok: false, status: 0, data: {} };
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
