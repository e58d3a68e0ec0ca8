// Helpers shared by Porter's pages. No framework: a few fetch calls and DOM toggles.
"use strict";

// "Show password" buttons: `data-reveal` names the field they show or hide.
document.addEventListener("click", (e) => {
  const button = e.target.closest && e.target.closest("button[data-reveal]");
  if (!button) return;
  const field = document.getElementById(button.dataset.reveal);
  const shown = field.type === "password";
  field.type = shown ? "text" : "password";
  button.setAttribute("aria-pressed", String(shown));
  button.textContent = shown ? "Hide password" : "Show password";
});

// Where a sign-in returns to (`/login?next=…`): a path of this origin only, never another
// site, kept for this tab (and for 15 minutes) while the sign-in goes through its steps and
// the organisation's identity provider.
const NEXT_KEY = "porter.next";

const porter = {
  /** `raw` as a path of this origin, or null for anything that leads elsewhere. */
  safeNext(raw) {
    if (typeof raw !== "string" || !raw.startsWith("/") || raw.startsWith("//") || raw.includes("\\")) return null;
    let url;
    try {
      url = new URL(raw, window.location.origin);
    } catch (_) {
      return null;
    }
    return url.origin === window.location.origin ? url.pathname + url.search : null;
  },

  /** Keeps `raw` (if it is safe) as where the sign-in returns to; returns it. */
  rememberNext(raw) {
    const next = porter.safeNext(raw);
    if (next) sessionStorage.setItem(NEXT_KEY, JSON.stringify({ path: next, at: Date.now() }));
    else sessionStorage.removeItem(NEXT_KEY);
    return next;
  },

  /** The path kept by `rememberNext` (once: it is forgotten), or null. */
  takeNext() {
    const next = porter.keptNext();
    sessionStorage.removeItem(NEXT_KEY);
    return next;
  },

  /** The path kept by `rememberNext`, still kept, or null. */
  keptNext() {
    const raw = sessionStorage.getItem(NEXT_KEY);
    try {
      const kept = JSON.parse(raw);
      if (kept && Date.now() - kept.at < 15 * 60 * 1000) return porter.safeNext(kept.path);
    } catch (_) {
      // Nothing usable was kept.
    }
    return null;
  },

  $(id) {
    return document.getElementById(id);
  },

  /** Shows the section `id` of `ids` and hides the rest. */
  show(ids, id) {
    for (const s of ids) porter.$(s).hidden = s !== id;
  },

  async call(method, path, body) {
    const init = { method, credentials: "same-origin", headers: {} };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const resp = await fetch(path, init);
    let data = {};
    try {
      data = await resp.json();
    } catch (_) {
      /* empty body */
    }
    return { status: resp.status, data, code: data.error && data.error.code, message: data.error && data.error.message };
  },

  post(path, body) {
    return porter.call("POST", path, body === undefined ? {} : body);
  },

  /** Writes `text` into element `id` and shows it (or hides it when text is empty). */
  say(id, text, kind) {
    const el = porter.$(id);
    el.textContent = text || "";
    el.className = kind || "error";
    el.hidden = !text;
  },

  // WebAuthn: the server speaks base64url, the browser ArrayBuffers.
  b64urlToBuf(s) {
    const pad = "=".repeat((4 - (s.length % 4)) % 4);
    const bin = atob((s + pad).replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0)).buffer;
  },

  bufToB64url(buf) {
    const bin = String.fromCharCode(...new Uint8Array(buf));
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  },

  /** The parts every PublicKeyCredential sends back, whatever the ceremony. */
  credentialFields(cred) {
    return {
      id: cred.id,
      rawId: porter.bufToB64url(cred.rawId),
      type: cred.type,
      extensions: cred.getClientExtensionResults(),
    };
  },

  async createCredential(options) {
    const pk = options.publicKey;
    pk.challenge = porter.b64urlToBuf(pk.challenge);
    pk.user.id = porter.b64urlToBuf(pk.user.id);
    for (const c of pk.excludeCredentials || []) c.id = porter.b64urlToBuf(c.id);
    const cred = await navigator.credentials.create({ publicKey: pk });
    return {
      ...porter.credentialFields(cred),
      response: {
        attestationObject: porter.bufToB64url(cred.response.attestationObject),
        clientDataJSON: porter.bufToB64url(cred.response.clientDataJSON),
      },
    };
  },

  /** `mediation` "conditional": the passkeys are offered in the email field's autofill. */
  async getAssertion(options, mediation, signal) {
    const pk = options.publicKey;
    pk.challenge = porter.b64urlToBuf(pk.challenge);
    for (const c of pk.allowCredentials || []) c.id = porter.b64urlToBuf(c.id);
    const ask = { publicKey: pk, signal };
    if (mediation) ask.mediation = mediation;
    const cred = await navigator.credentials.get(ask);
    const r = cred.response;
    return {
      ...porter.credentialFields(cred),
      response: {
        authenticatorData: porter.bufToB64url(r.authenticatorData),
        clientDataJSON: porter.bufToB64url(r.clientDataJSON),
        signature: porter.bufToB64url(r.signature),
        userHandle: r.userHandle ? porter.bufToB64url(r.userHandle) : null,
      },
    };
  },

  /**
   * The security key answers a challenge (sign-in's second step, or re-authentication):
   * `{credential}` to send as `{method: "webauthn", credential}`, or `{message}` saying why not.
   */
  async keyAssertion() {
    const o = await porter.post("/api/login/webauthn/options");
    if (o.status !== 200) return { message: o.message || "Something went wrong. Please try again." };
    try {
      return { credential: await porter.getAssertion(o.data) };
    } catch (_) {
      return { message: "The security key did not answer. Try again." };
    }
  },

  /**
   * Registers a security key, or a passkey (`passkey`: a discoverable credential that signs in
   * on its own), named `name` if given: the server's answer, as `call` gives it.
   */
  async registerKey(name, passkey) {
    const path = passkey ? "/api/mfa/passkey" : "/api/mfa/webauthn";
    const what = passkey ? "passkey" : "security key";
    const o = await porter.post(`${path}/options`);
    if (o.status !== 200) return o;
    try {
      const credential = await porter.createCredential(o.data);
      return await porter.post(path, name === undefined ? { credential } : { credential, name });
    } catch (_) {
      const why = passkey ? " Your device must be able to keep a passkey and check it is you (fingerprint, face or PIN)." : "";
      return { status: 400, message: `The ${what} could not be registered.${why} Try again.` };
    }
  },
};
