// Password reset from the emailed link.
"use strict";

(function () {
  const { $, show, post, say } = porter;
  const states = ["reset-form-state", "reset-done", "reset-dead"];
  const token = new URLSearchParams(window.location.search).get("token") || "";
  if (token) window.history.replaceState(null, "", "/reset");
  if (!token) {
    $("reset-dead-message").textContent = "Open the whole link from the email, or ask for a new one from the sign-in page.";
    show(states, "reset-dead");
    return;
  }
  $("reset-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const password = $("password").value;
    const confirm = $("password_confirm").value;
    if (password !== confirm) return say("reset-error", "The two passwords do not match.");
    const r = await post("/api/password/reset", { token, password, password_confirm: confirm });
    if (r.status === 200) return show(states, "reset-done");
    if (["token_invalid", "token_used", "token_expired"].includes(r.code)) {
      $("reset-dead-message").textContent = r.message;
      return show(states, "reset-dead");
    }
    say("reset-error", r.message || "Something went wrong. Please try again.");
  });
})();
