// A password chosen from an emailed link: activation and reset. The page's form says where it
// posts (`data-endpoint`), which section shows each outcome and where errors go; the token is
// kept out of the address bar (screenshots, shoulder-surfing, history sync).
"use strict";

(function () {
  const { $, show, post, say } = porter;
  const form = document.querySelector("form[data-endpoint]");
  const d = form.dataset;
  const states = d.states.split(" ");
  const token = new URLSearchParams(window.location.search).get("token") || "";
  if (token) window.history.replaceState(null, "", window.location.pathname);

  // A link that cannot work: its own section (expired, used, invalid) or the common one, which
  // then says what the server said.
  function dead(kind, message) {
    const section = d[kind] || d.dead;
    if (d.deadMessage && message) $(d.deadMessage).textContent = message;
    show(states, section);
  }

  function fail(message) {
    if (!d.failure) return say(d.error, message || "Something went wrong. Please try again.");
    if (message) $(d.failureMessage).textContent = message;
    show(states, d.failure);
  }

  if (!token) return dead("invalid", d.noToken);

  const submit = form.querySelector('button[type="submit"]');
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    say(d.error, "");
    const password = $("password").value;
    const confirm = $("password_confirm").value;
    if (password !== confirm) return say(d.error, "The two passwords do not match.");
    submit.disabled = true;
    try {
      const r = await post(d.endpoint, { token, password, password_confirm: confirm });
      if (r.status === 200) show(states, d.done);
      else if (["token_expired", "token_used", "token_invalid"].includes(r.code)) dead(r.code.slice(6), r.message);
      else if (r.status === 422 || r.status === 400) say(d.error, r.message || "Please check the password.");
      else fail(r.message);
    } catch (_) {
      fail("We could not reach the service. Check your connection and try again.");
    } finally {
      submit.disabled = false;
    }
  });

  // Activation only: an expired invitation offers a new link.
  const resend = $("resend");
  if (resend && d.resend) {
    resend.addEventListener("click", async () => {
      resend.disabled = true;
      try {
        const r = await post(d.resend, { token });
        if (r.status === 202) {
          say("resend-result", "A new link is on its way. Check your inbox; this old link no longer works.", "success");
          return;
        }
        say("resend-result", r.message || "We could not send a new link. Try again shortly.");
      } catch (_) {
        say("resend-result", "We could not reach the service. Check your connection and try again.");
      }
      resend.disabled = false;
    });
  }
})();
