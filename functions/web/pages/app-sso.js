// Single sign-on.
import { $, call, post, say, view, denied } from "./app-ui.js";

export function mount(_ctx) {
  // Single sign-on: the form shows the newest configuration; a saved provider stays pending
  // (sign-in keeps the previous method) until the admin's own test sign-in succeeds.
  const ssoReasons = {
    sso_other_person: "The identity provider signed in someone else. Sign in there as yourself and test again.",
    sso_not_registered: "The identity provider's account does not match a user of your organisation.",
    sso_cancelled: "The sign-in at the identity provider was cancelled.",
    sso_expired: "The test took too long or was started in another browser. Try again.",
    sso_failed: "The identity provider's answer could not be verified. Check the client id, secret and provider, then try again.",
    service_unavailable: "The service is temporarily unavailable. Try the test again in a moment.",
  };
  function showMethodFields() {
    const method = document.querySelector('input[name="sso-method"]:checked')?.value || "porter";
    $("sso-idp-fields").hidden = method === "porter";
    $("sso-oidc-fields").hidden = method !== "oidc";
    $("sso-entra-fields").hidden = method !== "entra_id";
  }
  async function loadSso() {
    const r = await call("GET", "/api/config/sso");
    if (r.status !== 200) return denied(r);
    view("view-sso");
    const c = r.data;
    for (const radio of document.querySelectorAll('input[name="sso-method"]')) radio.checked = radio.value === c.method;
    $("sso-client-id").value = c.client_id || "";
    $("sso-client-secret").value = "";
    $("sso-secret-hint").hidden = !c.has_secret;
    $("sso-discovery-url").value = c.method === "oidc" ? c.discovery_url || "" : "";
    $("sso-directory-id").value = c.directory_id || "";
    $("sso-domains").value = (c.domains || []).join(", ");
    $("sso-mfa-after").checked = !!c.mfa_after_sso;
    $("sso-redirect-uri").textContent = c.redirect_uri;
    const names = { porter: "Porter (password and second factor)", oidc: "OpenID Connect", entra_id: "Microsoft Entra ID" };
    $("sso-status").textContent =
      c.status === "pending"
        ? `Saved, not yet tested: people still sign in with ${names[c.sign_in_method]}. Test the sign-in to turn it on.`
        : `People sign in with ${names[c.sign_in_method]}.`;
    $("sso-test").hidden = c.status !== "pending";
    showMethodFields();
    const params = new URLSearchParams(window.location.search);
    if (params.get("tested") === "ok") say("sso-tested", "The test sign-in worked: single sign-on is on.", "success");
    else if (params.get("tested") === "failed") say("sso-tested", ssoReasons[params.get("reason")] || ssoReasons.sso_failed, "error");
  }
  for (const radio of document.querySelectorAll('input[name="sso-method"]')) radio.addEventListener("change", showMethodFields);
  $("sso-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const method = document.querySelector('input[name="sso-method"]:checked')?.value || "porter";
    const body = { method };
    if (method !== "porter") {
      body.client_id = $("sso-client-id").value.trim();
      const secret = $("sso-client-secret").value;
      if (secret) body.client_secret = secret;
      if (method === "oidc") body.discovery_url = $("sso-discovery-url").value.trim();
      else body.directory_id = $("sso-directory-id").value.trim();
      body.domains = $("sso-domains").value.split(",").map((d) => d.trim()).filter(Boolean);
      body.mfa_after_sso = $("sso-mfa-after").checked;
    }
    const r = await call("PUT", "/api/config/sso", body);
    if (r.status !== 200) return say("sso-message", r.message);
    $("sso-tested").hidden = true;
    await loadSso();
    say("sso-message", method === "porter" ? "Saved: people sign in with their password." : "Saved. Now test the sign-in.", "success");
  });
  $("sso-test").addEventListener("click", async () => {
    const r = await post("/api/config/sso/test");
    if (r.status === 200) return window.location.assign(r.data.redirect);
    say("sso-message", r.message);
  });
  return loadSso;
}
