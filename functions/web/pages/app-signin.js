// Sign-in options.
import { $, call, say, view, denied } from "./app-ui.js";

export function mount(_ctx) {
  // Sign-in options for the whole organisation: emailed codes instead of the password,
  // passkeys alone, codes by text message as a second factor.
  async function loadSignIn() {
    const r = await call("GET", "/api/config/signin");
    if (r.status !== 200) return denied(r);
    view("view-signin");
    $("email-pin").checked = r.data.email_pin;
    $("passkey-sign-in-on").checked = r.data.passkey_sign_in;
    $("sms-mfa").checked = r.data.sms_mfa;
    const was = r.data;
    $("signin-form").onsubmit = async (e) => {
      e.preventDefault();
      const s = await call("PUT", "/api/config/signin", {
        email_pin: $("email-pin").checked,
        passkey_sign_in: $("passkey-sign-in-on").checked,
        sms_mfa: $("sms-mfa").checked,
      });
      if (s.status !== 200) return say("signin-message", s.message);
      // Say what changed (the emailed code first, as before).
      const said = [];
      const changed = (k) => s.data[k] !== was[k];
      if (changed("email_pin") || (!changed("passkey_sign_in") && !changed("sms_mfa"))) said.push(s.data.email_pin ? "Sign-in with an emailed code is on." : "Sign-in with an emailed code is off.");
      if (changed("passkey_sign_in")) said.push(s.data.passkey_sign_in ? "Sign-in with a passkey is on." : "Sign-in with a passkey is off.");
      if (changed("sms_mfa")) said.push(s.data.sms_mfa ? "Text messages are allowed as a second factor." : "Text messages are no longer allowed as a second factor.");
      Object.assign(was, s.data);
      say("signin-message", said.join(" "), "success");
    };
  }
  return loadSignIn;
}
