// Sign-in options.
import { $, call, say, view, denied } from "./app-ui.js";

export function mount(_ctx) {
  // Sign-in options for the whole organisation: emailed codes instead of the password,
  // passkeys alone, codes by text message as a second factor.
  async function loadSignIn() {
    const [r, o] = await Promise.all([call("GET", "/api/config/signin"), call("GET", "/api/config/signin/options")]);
    if (r.status !== 200) return denied(r);
    if (o.status !== 200) return denied(o);
    view("view-signin");
    $("email-pin").checked = r.data.email_pin;
    $("passkey-sign-in-on").checked = o.data.passkey_sign_in;
    $("sms-mfa").checked = o.data.sms_mfa;
    const was = { ...r.data, ...o.data };
    $("signin-form").onsubmit = async (e) => {
      e.preventDefault();
      const pin = $("email-pin").checked;
      const options = { passkey_sign_in: $("passkey-sign-in-on").checked, sms_mfa: $("sms-mfa").checked };
      const changed = (k, v) => v !== was[k];
      const optionsChanged = changed("passkey_sign_in", options.passkey_sign_in) || changed("sms_mfa", options.sms_mfa);
      // Say what changed (the emailed code when nothing else did, as before).
      const said = [];
      if (changed("email_pin", pin) || !optionsChanged) {
        const s = await call("PUT", "/api/config/signin", { email_pin: pin });
        if (s.status !== 200) return say("signin-message", s.message);
        said.push(s.data.email_pin ? "Sign-in with an emailed code is on." : "Sign-in with an emailed code is off.");
        was.email_pin = s.data.email_pin;
      }
      if (optionsChanged) {
        const s = await call("PUT", "/api/config/signin/options", options);
        if (s.status !== 200) return say("signin-message", s.message);
        if (changed("passkey_sign_in", s.data.passkey_sign_in)) said.push(s.data.passkey_sign_in ? "Sign-in with a passkey is on." : "Sign-in with a passkey is off.");
        if (changed("sms_mfa", s.data.sms_mfa)) said.push(s.data.sms_mfa ? "Text messages are allowed as a second factor." : "Text messages are no longer allowed as a second factor.");
        Object.assign(was, s.data);
      }
      say("signin-message", said.join(" "), "success");
    };
  }
  return loadSignIn;
}
