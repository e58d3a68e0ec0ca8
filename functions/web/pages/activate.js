// The activation page: set a password with the token from the invitation link.
"use strict";

(function () {
  const params = new URLSearchParams(window.location.search);
  const token = params.get("token") || "";
  // Keep the token out of the address bar (screenshots, shoulder-surfing, history sync).
  if (token) window.history.replaceState(null, "", "/activate");

  const $ = (id) => document.getElementById(id);
  const states = ["form-state", "success-state", "expired-state", "used-state", "invalid-state", "failure-state"];
  function show(id) {
    for (const s of states) $(s).hidden = s !== id;
  }

  async function post(path, body) {
    const resp = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    let data = {};
    try { data = await resp.json(); } catch (_) { /* empty body */ }
    return { status: resp.status, data };
  }

  function fail(message) {
    if (message) $("failure-message").textContent = message;
    show("failure-state");
  }

  if (!token) {
    show("invalid-state");
    return;
  }

  $("activate-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = $("form-error");
    error.hidden = true;
    const password = $("password").value;
    const confirm = $("password_confirm").value;
    if (password !== confirm) {
      error.textContent = "The two passwords do not match.";
      error.hidden = false;
      return;
    }
    $("submit").disabled = true;
    try {
      const { status, data } = await post("/api/activation", { token, password, password_confirm: confirm });
      const code = data.error && data.error.code;
      if (status === 200) show("success-state");
      else if (code === "token_expired") show("expired-state");
      else if (code === "token_used") show("used-state");
      else if (code === "token_invalid") show("invalid-state");
      else if (status === 422 || status === 400) {
        error.textContent = (data.error && data.error.message) || "Please check the password.";
        error.hidden = false;
      } else fail(data.error && data.error.message);
    } catch (_) {
      fail("We could not reach the service. Check your connection and try again.");
    } finally {
      $("submit").disabled = false;
    }
  });

  $("resend").addEventListener("click", async () => {
    const result = $("resend-result");
    $("resend").disabled = true;
    try {
      const { status, data } = await post("/api/activation/resend", { token });
      if (status === 202) {
        result.className = "success";
        result.textContent = "A new link is on its way. Check your inbox; this old link no longer works.";
      } else {
        result.className = "error";
        result.textContent = (data.error && data.error.message) || "We could not send a new link. Try again shortly.";
        $("resend").disabled = false;
      }
    } catch (_) {
      result.className = "error";
      result.textContent = "We could not reach the service. Check your connection and try again.";
      $("resend").disabled = false;
    }
    result.hidden = false;
  });
})();
