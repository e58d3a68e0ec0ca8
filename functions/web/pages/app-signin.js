// Sign-in options.
import { $, call, say, view, denied } from "./app-ui.js";

export function mount(_ctx) {
  // Sign-in options: emailed codes instead of the password, for the whole organisation.
  async function loadSignIn() {
    const r = await call("GET", "/api/config/signin");
    if (r.status !== 200) return denied(r);
    view("view-signin");
    $("email-pin").checked = r.data.email_pin;
    $("signin-form").onsubmit = async (e) => {
      e.preventDefault();
      const s = await call("PUT", "/api/config/signin", { email_pin: $("email-pin").checked });
      if (s.status === 200) say("signin-message", s.data.email_pin ? "Sign-in with an emailed code is on." : "Sign-in with an emailed code is off.", "success");
      else say("signin-message", s.message);
    };
  }
  return loadSignIn;
}
