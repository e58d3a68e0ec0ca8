// Sign-in: email, password, then the second factor (or its mandatory enrolment).
"use strict";

(function () {
  const { $, show, post, say } = porter;
  const steps = ["email-step", "password-step", "pin-step", "verify-step", "enrol-step", "codes-step", "forgot-step"];
  let email = "";
  let afterCodes = "/app";

  // A step of this page: `/login?step=…` in an answer's `path`. The person's own factors
  // decide whether a code by text message is offered.
  function showStep(step) {
    if (step === "mfa_verify") {
      show(steps, "verify-step");
      $("totp-code").focus();
      offerTexts((m) => m.sms, "use-sms");
    } else if (step === "mfa_enroll") {
      show(steps, "enrol-step");
      offerTexts((m) => m.sms_allowed, "choose-sms");
    }
  }

  async function offerTexts(offered, id) {
    const r = await porter.call("GET", "/api/mfa/methods");
    $(id).hidden = !(r.status === 200 && offered(r.data));
  }

  // Where a sign-in step's answer says to go (`path`): a step of this page, or another page;
  // once signed in, back where the sign-in was asked for (an app signing in with Porter).
  function go(data) {
    const to = new URL(data.path || "/app", window.location.origin);
    if (to.pathname === "/login") return showStep(to.searchParams.get("step"));
    leave(to.pathname + to.search);
  }

  function leave(path) {
    window.location.assign(porter.takeNext() || path);
  }

  // "Sign in to continue to <app>": the name the operator registered for the client.
  async function continueTo(next) {
    const url = new URL(next, window.location.origin);
    const client = url.pathname === "/oauth2/authorize" && url.searchParams.get("client_id");
    if (!client || !/^c_[0-9a-z]{16}$/.test(client)) return;
    const r = await porter.call("GET", `/oauth2/clients/${client}`);
    if (r.status !== 200) return;
    $("continue-to").textContent = `Sign in to continue to ${r.data.name}`;
    $("continue-to").hidden = false;
  }

  function askPassword() {
    $("password-for").textContent = email;
    show(steps, "password-step");
    $("password").focus();
  }

  function problem(id, r) {
    say(id, r.message || "Something went wrong. Please try again.");
  }

  $("email-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    email = $("email").value.trim();
    const r = await post("/api/login/identify", { email });
    if (r.status !== 200) return problem("email-error", r);
    say("email-error", "");
    if (r.data.next === "sso" && r.data.redirect) return window.location.assign(r.data.redirect);
    askPassword();
  });

  $("password-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const r = await post("/api/login/password", { email, password: $("password").value });
    $("password").value = "";
    // Said to everyone who fails, registered or not: it reveals nothing.
    $("not-registered").hidden = r.code !== "invalid_credentials";
    if (r.status !== 200) return problem("password-error", r);
    say("password-error", "");
    go(r.data);
  });

  // A code by email instead of the password. The answer is the same for everyone; only the
  // people of organisations that allow it receive a code.
  async function askForPin() {
    const r = await post("/api/login/pin/request", { email });
    if (r.status !== 202) return problem("pin-error", r);
    $("pin-sent").textContent = r.data.message;
    show(steps, "pin-step");
    $("pin").focus();
  }
  $("pin-instead").addEventListener("click", askForPin);
  $("pin-again").addEventListener("click", askForPin);

  $("pin-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const r = await post("/api/login/pin", { email, pin: $("pin").value.trim() });
    $("pin").value = "";
    if (r.status !== 200) return problem("pin-error", r);
    say("pin-error", "");
    go(r.data);
  });

  // A passkey alone: offered in the email field's autofill when the browser can
  // (conditional mediation), and by its button. Only one request may wait at a time: the
  // button ends the autofill's first.
  let waiting = null;
  async function passkey(mediation) {
    if (!window.PublicKeyCredential) {
      if (mediation !== "conditional") say("passkey-error", "This browser cannot use passkeys. Sign in with your email address.");
      return;
    }
    if (waiting) {
      waiting.abort();
      await waiting.done;
    }
    const controller = new AbortController();
    let finished;
    controller.done = new Promise((resolve) => { finished = resolve; });
    waiting = controller;
    try {
      const o = await post("/api/login/passkey/options");
      if (o.status !== 200) return mediation === "conditional" || problem("passkey-error", o);
      let credential;
      try {
        credential = await porter.getAssertion(o.data, mediation, controller.signal);
      } catch (_) {
        if (!controller.signal.aborted && mediation !== "conditional") {
          say("passkey-error", "No passkey was used. Try again, or sign in with your email address.");
        }
        return;
      }
      const r = await post("/api/login/passkey", { credential });
      if (r.status !== 200) return problem("passkey-error", r);
      say("passkey-error", "");
      go(r.data);
    } finally {
      if (waiting === controller) waiting = null;
      finished();
    }
  }
  $("passkey-sign-in").addEventListener("click", () => passkey());
  if (window.PublicKeyCredential && PublicKeyCredential.isConditionalMediationAvailable) {
    PublicKeyCredential.isConditionalMediationAvailable().then((yes) => {
      if (yes) passkey("conditional");
    }, () => {});
  }

  async function verify(body) {
    const r = await post("/api/login/mfa", body);
    if (r.status !== 200) return problem("verify-error", r);
    go(r.data);
  }

  // After "Text me a code", the code field takes the texted code.
  let texted = false;
  $("totp-form").addEventListener("submit", (e) => {
    e.preventDefault();
    verify({ method: texted ? "sms" : "totp", code: $("totp-code").value.trim() });
    $("totp-code").value = "";
  });

  $("use-sms").addEventListener("click", async () => {
    const r = await post("/api/login/mfa", { method: "sms" });
    if (r.status !== 202) return problem("verify-error", r);
    say("verify-error", "");
    texted = true;
    document.querySelector('label[for="totp-code"]').textContent = "Code from the text message";
    say("sms-sent", r.data.message, "success");
    $("totp-code").focus();
  });

  $("recovery-form").addEventListener("submit", (e) => {
    e.preventDefault();
    verify({ method: "recovery", code: $("recovery-code").value.trim() });
  });

  $("use-key").addEventListener("click", async () => {
    const k = await porter.keyAssertion();
    if (!k.credential) return say("verify-error", k.message);
    verify({ method: "webauthn", credential: k.credential });
  });

  function showCodes(r) {
    const list = $("codes");
    list.replaceChildren(...r.data.recovery_codes.map((c) => Object.assign(document.createElement("li"), { textContent: c })));
    afterCodes = r.data.path || "/app";
    show(steps, "codes-step");
  }

  $("choose-totp").addEventListener("click", async () => {
    const r = await post("/api/mfa/totp");
    if (r.status !== 200) return problem("enrol-error", r);
    $("qr").src = "data:image/svg+xml;base64," + btoa(r.data.qr_svg);
    $("totp-secret").textContent = r.data.secret;
    $("totp-setup").hidden = false;
    $("confirm-code").focus();
  });

  $("confirm-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const r = await post("/api/mfa/totp/confirm", { code: $("confirm-code").value.trim() });
    if (r.status !== 200) return problem("enrol-error", r);
    showCodes(r);
  });

  $("choose-key").addEventListener("click", async () => {
    const r = await porter.registerKey();
    if (r.status !== 200) return problem("enrol-error", r);
    showCodes(r);
  });

  $("choose-passkey").addEventListener("click", async () => {
    const r = await porter.registerKey(undefined, true);
    if (r.status !== 200) return problem("enrol-error", r);
    showCodes(r);
  });

  $("choose-sms").addEventListener("click", () => {
    $("sms-setup").hidden = false;
    $("enrol-phone").focus();
  });
  $("sms-setup").addEventListener("submit", async (e) => {
    e.preventDefault();
    const r = await post("/api/mfa/sms", { phone: $("enrol-phone").value.trim() });
    if (r.status !== 202) return problem("enrol-error", r);
    say("enrol-error", r.data.message, "success");
    $("sms-confirm").hidden = false;
    $("enrol-sms-code").focus();
  });
  $("sms-confirm").addEventListener("submit", async (e) => {
    e.preventDefault();
    const r = await post("/api/mfa/sms/confirm", { code: $("enrol-sms-code").value.trim() });
    $("enrol-sms-code").value = "";
    if (r.status !== 200) return problem("enrol-error", r);
    showCodes(r);
  });

  $("saved").addEventListener("change", () => {
    $("codes-done").disabled = !$("saved").checked;
  });
  $("codes-done").addEventListener("click", () => leave(afterCodes));

  for (const id of ["forgot-link", "forgot-link-2"]) {
    $(id).addEventListener("click", (e) => {
      e.preventDefault();
      $("forgot-email").value = email || $("email").value;
      show(steps, "forgot-step");
    });
  }

  $("forgot-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const r = await post("/api/password/forgot", { email: $("forgot-email").value.trim() });
    if (r.status === 202) say("forgot-result", r.data.message, "success");
    else problem("forgot-result", r);
  });

  const params = new URLSearchParams(window.location.search);
  // Asked to sign in by an app (`next`, a path of this site only): say which, and go back
  // there once signed in. A fresh visit forgets an earlier one's; a step of a sign-in under
  // way (back from the identity provider) keeps it.
  if (params.has("next")) {
    const next = porter.rememberNext(params.get("next"));
    if (next) continueTo(next);
  } else if (params.has("step")) {
    const kept = porter.keptNext();
    if (kept) continueTo(kept);
  } else {
    porter.takeNext();
  }
  const reason = params.get("reason");
  if (reason === "signed_out") say("notice", "You are signed out.", "success");
  if (reason === "expired") say("notice", "Your session has ended. Sign in to continue.", "error");
  // Back from the organisation's identity provider without a session: say why, in words.
  const ssoErrors = {
    sso_not_registered: "Your account is not registered; ask your administrator.",
    sso_cancelled: "The sign-in at your company's identity provider was cancelled.",
    sso_expired: "The sign-in took too long or was started in another browser. Please try again.",
    sso_failed: "We could not complete the sign-in with your company's identity provider. Please try again, or ask your administrator.",
    service_unavailable: "The service is temporarily unavailable. Please try again in a moment.",
    tenant_suspended: "Your organisation's access is suspended. Contact your representative.",
  };
  const error = params.get("error");
  if (error) say("notice", ssoErrors[error] || ssoErrors.sso_failed, "error");
  // From an invitation to sign in with a company account: the address is filled in.
  if (params.get("email")) $("email").value = params.get("email");
  // Back from the provider when the organisation also asks for Porter's second factor.
  showStep(params.get("step"));
})();
