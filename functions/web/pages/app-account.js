// My account.
import { $, call, post, say, el, view, denied } from "./app-ui.js";

export function mount(_ctx) {
  // My account. A change of sign-in methods may answer 403 reauth_required: the page then
  // asks for the second factor and runs the change again once it is confirmed.
  let pendingChange = null;
  async function guarded(change) {
    const r = await change();
    if (r.code !== "reauth_required") return r;
    pendingChange = change;
    $("reauth").hidden = false;
    $("reauth-code").focus();
    return null;
  }
  async function reauthWith(body) {
    const r = await post("/api/account/reauth", body);
    if (r.status !== 200) return say("reauth-error", r.message);
    say("reauth-error", "");
    $("reauth").hidden = true;
    const change = pendingChange;
    pendingChange = null;
    if (change) await afterChange(await change());
  }
  $("reauth-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const code = $("reauth-code").value.trim();
    $("reauth-code").value = "";
    const six = /^\d{6}$/.test(code);
    reauthWith(six ? { method: texted ? "sms" : "totp", code } : { method: "recovery", code });
  });
  // After "Text me a code", a six-digit code is the texted one.
  let texted = false;
  $("reauth-sms").addEventListener("click", async () => {
    const r = await post("/api/account/reauth", { method: "sms" });
    if (r.status !== 202) return say("reauth-error", r.message);
    texted = true;
    say("reauth-error", r.data.message, "success");
    $("reauth-code").focus();
  });
  $("reauth-key").addEventListener("click", async () => {
    const k = await porter.keyAssertion();
    if (!k.credential) return say("reauth-error", k.message);
    reauthWith({ method: "webauthn", credential: k.credential });
  });
  async function afterChange(r) {
    if (!r) return;
    if (r.status >= 400) return say("factors-error", r.message);
    say("factors-error", "");
    // A code texted to a number being added: its confirmation comes next.
    if (r.status === 202 && r.data && r.data.phone) {
      $("phone-confirm").hidden = false;
      $("phone-code").focus();
    }
    if (r.data && r.data.recovery_codes) {
      $("new-codes").replaceChildren(...r.data.recovery_codes.map((c) => el("li", { textContent: c })));
      $("new-codes").hidden = false;
    }
    if (r.data && r.data.message) say("account-message", r.data.message, "success");
    loadAccount();
  }

  const when = (t) => (t ? new Date(t).toLocaleString() : "never");
  async function loadAccount() {
    const r = await call("GET", "/api/account");
    if (r.status !== 200) return denied(r);
    view("view-account");
    const a = r.data;
    $("account-email").textContent = a.email;
    $("password-managed").hidden = !a.password.managed_by_idp;
    $("password-change").hidden = a.password.managed_by_idp;
    $("totp-state").textContent = a.factors.totp ? "Authenticator app: on" : "Authenticator app: not set up";
    $("totp-remove").hidden = !a.factors.totp;
    $("codes-left").textContent = `${a.factors.recovery_codes_left} recovery codes left`;
    // Codes by text message: where the organisation allows them, or the person has a number.
    $("phone-section").hidden = !a.factors.sms_allowed && !a.factors.phone;
    $("phone-state").textContent = a.factors.phone ? `Codes are texted to ${a.factors.phone}.` : "No phone number is set up.";
    $("phone-remove").hidden = !a.factors.phone;
    $("phone-add").hidden = !a.factors.sms_allowed;
    $("key-rows").replaceChildren(
      ...a.factors.security_keys.map((k) => {
        const rename = el("button", { type: "button", textContent: "Rename" });
        rename.setAttribute("aria-label", `Rename ${k.name}`);
        rename.onclick = async () => {
          const name = window.prompt("New name for this key", k.name);
          if (name) afterChange(await guarded(() => call("PATCH", `/api/account/security-keys/${encodeURIComponent(k.id)}`, { name })));
        };
        const remove = el("button", { type: "button", textContent: "Remove" });
        remove.setAttribute("aria-label", `Remove ${k.name}`);
        remove.onclick = async () => afterChange(await guarded(() => call("DELETE", `/api/account/security-keys/${encodeURIComponent(k.id)}`)));
        const kind = k.passkey ? `${k.name} (passkey)` : k.name;
        return el("tr", {}, el("td", { textContent: kind }), el("td", { textContent: when(k.created_at) }), el("td", { textContent: when(k.last_used_at) }), el("td", {}, rename, remove));
      }),
    );
    $("session-rows").replaceChildren(
      ...a.sessions.map((s) => {
        const cell = el("td");
        if (s.current) cell.textContent = "This browser";
        else {
          const end = el("button", { type: "button", textContent: "Sign out" });
          end.setAttribute("aria-label", `Sign out the session from ${s.ip}`);
          // Ending another session needs a recent proof: asked for when it is stale.
          end.onclick = async () => afterChange(await guarded(() => call("DELETE", `/api/account/sessions/${s.id}`)));
          cell.append(end);
        }
        return el("tr", {}, el("td", { textContent: s.user_agent || "Unknown browser" }), el("td", { textContent: s.ip }), el("td", { textContent: when(s.created_at) }), el("td", { textContent: when(s.last_seen_at) }), cell);
      }),
    );
    $("device-rows").replaceChildren(
      ...(a.devices || []).map((d) => {
        const forget = el("button", { type: "button", textContent: "Forget" });
        const name = d.user_agent || "Unknown browser";
        forget.setAttribute("aria-label", d.current ? "Forget this browser" : `Forget the device ${name}`);
        // Forgetting a device needs a recent proof: asked for when it is stale.
        forget.onclick = async () => afterChange(await guarded(() => call("DELETE", `/api/account/devices/${d.id}`)));
        const label = d.current ? `${name} (this browser)` : name;
        return el("tr", {}, el("td", { textContent: label }), el("td", { textContent: when(d.created_at) }), el("td", { textContent: when(d.last_used_at) }), el("td", {}, forget));
      }),
    );
  }
  $("password-change").addEventListener("submit", async (e) => {
    e.preventDefault();
    const r = await post("/api/account/password", {
      current_password: $("current-password").value,
      password: $("new-password").value,
      password_confirm: $("new-password-confirm").value,
    });
    if (r.status !== 200) return say("password-change-error", r.message);
    for (const id of ["current-password", "new-password", "new-password-confirm"]) $(id).value = "";
    say("password-change-error", "");
    say("account-message", r.data.message, "success");
    loadAccount();
  });
  async function addKey(passkey) {
    const name = $("key-name").value.trim();
    const r = await guarded(() => porter.registerKey(name || undefined, passkey));
    $("key-name").value = "";
    afterChange(r);
  }
  $("key-add").addEventListener("submit", async (e) => {
    e.preventDefault();
    addKey(false);
  });
  $("passkey-add").addEventListener("click", () => addKey(true));
  $("phone-add").addEventListener("submit", async (e) => {
    e.preventDefault();
    const r = await guarded(() => post("/api/mfa/sms", { phone: $("phone-number").value.trim() }));
    afterChange(r);
  });
  $("phone-confirm").addEventListener("submit", async (e) => {
    e.preventDefault();
    const r = await guarded(() => post("/api/mfa/sms/confirm", { code: $("phone-code").value.trim() }));
    $("phone-code").value = "";
    if (r && r.status === 200) {
      $("phone-confirm").hidden = true;
      $("phone-number").value = "";
    }
    afterChange(r);
  });
  $("phone-remove").addEventListener("click", async () => afterChange(await guarded(() => call("DELETE", "/api/account/phone"))));
  $("codes-new").addEventListener("click", async () => afterChange(await guarded(() => post("/api/account/recovery-codes"))));
  $("totp-remove").addEventListener("click", async () => afterChange(await guarded(() => call("DELETE", "/api/account/totp"))));
  $("sessions-end-others").addEventListener("click", async () => afterChange(await guarded(() => call("DELETE", "/api/account/sessions"))));
  return loadAccount;
}
