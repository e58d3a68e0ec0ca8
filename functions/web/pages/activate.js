// The activation page: set a password with the token from the invitation link.
"use strict";

(function () {
  const { $, show, post, say } = porter;
  const token = new URLSearchParams(window.location.search).get("token") || "";
  // Keep the token out of the address bar (screenshots, shoulder-surfing, history sync).
  if (token) window.history.replaceState(null, "", "/activate");
  const states = ["form-state", "success-state", "expired-state", "used-state", "invalid-state", "failure-state"];

  function fail(message) {
    if (message) $("failure-message").textContent = message;
    show(states, "failure-state");
  }

  if (!token) return show(states, "invalid-state");

  $("activate-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    say("form-error", "");
    const password = $("password").value;
    const confirm = $("password_confirm").value;
    if (password !== confirm) return say("form-error", "The two passwords do not match.");
    $("submit").disabled = true;
    try {
      const r = await post("/api/activation", { token, password, password_confirm: confirm });
      if (r.status === 200) show(states, "success-state");
      else if (r.code === "token_expired") show(states, "expired-state");
      else if (r.code === "token_used") show(states, "used-state");
      else if (r.code === "token_invalid") show(states, "invalid-state");
      else if (r.status === 422 || r.status === 400) say("form-error", r.message || "Please check the password.");
      else fail(r.message);
    } catch (_) {
      fail("We could not reach the service. Check your connection and try again.");
    } finally {
      $("submit").disabled = false;
    }
  });

  $("resend").addEventListener("click", async () => {
    $("resend").disabled = true;
    try {
      const r = await post("/api/activation/resend", { token });
      if (r.status === 202) {
        say("resend-result", "A new link is on its way. Check your inbox; this old link no longer works.", "success");
        return;
      }
      say("resend-result", r.message || "We could not send a new link. Try again shortly.");
    } catch (_) {
      say("resend-result", "We could not reach the service. Check your connection and try again.");
    }
    $("resend").disabled = false;
  });
})();
