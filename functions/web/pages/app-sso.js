// Single sign-on.
import { $, call, post, say, view, denied, el } from "./app-ui.js";

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
    $("sso-second-factor").value = c.second_factor || "always";
    showPolicyWarning();
    $("sso-redirect-uri").textContent = c.redirect_uri || "shown once the configuration is saved";
    await loadDomains();
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
  function showPolicyWarning() {
    $("sso-never-warning").hidden = $("sso-second-factor").value !== "never";
  }
  $("sso-second-factor").addEventListener("change", showPolicyWarning);

  // Domains: each with its TXT record until verified, then how and when.
  async function loadDomains() {
    const r = await call("GET", "/api/config/sso/domains");
    const list = $("sso-domain-list");
    list.replaceChildren();
    if (r.status !== 200) return;
    if (r.data.domains.length === 0) list.append(el("li", { className: "hint", textContent: "No domains yet." }));
    for (const d of r.data.domains) list.append(domainItem(d));
  }
  function domainItem(d) {
    const item = el("li", { className: "domain" }, el("strong", { textContent: d.domain }), " ");
    if (d.status === "verified") {
      const by = d.verified_by === "operator" ? "by the operator" : "by DNS";
      item.append(el("span", { className: "badge good", textContent: `Verified ${by}` }));
    } else {
      item.append(
        el("span", { className: "badge warn", textContent: "Not verified" }),
        el("p", { className: "hint", textContent: "Publish this TXT record, then verify:" }),
        el("dl", {},
          el("dt", { textContent: "Name" }), el("dd", {}, el("code", { className: "txt-name", textContent: d.txt_name })),
          el("dt", { textContent: "Value" }), el("dd", {}, el("code", { className: "txt-value", textContent: d.txt_value }))),
      );
      const verify = el("button", { type: "button", textContent: `Verify ${d.domain}` });
      verify.addEventListener("click", async () => {
        const r = await post(`/api/config/sso/domains/${encodeURIComponent(d.domain)}/verify`);
        if (r.status !== 200) return say("sso-domain-message", r.message);
        await loadDomains();
        say("sso-domain-message", `${d.domain} is verified.`, "success");
      });
      item.append(verify);
    }
    const remove = el("button", { type: "button", className: "secondary", textContent: `Remove ${d.domain}` });
    remove.addEventListener("click", async () => {
      const r = await call("DELETE", `/api/config/sso/domains/${encodeURIComponent(d.domain)}`);
      if (r.status !== 204) return say("sso-domain-message", r.message);
      await loadDomains();
      say("sso-domain-message", `${d.domain} was removed.`, "success");
    });
    item.append(" ", remove);
    return item;
  }
  $("sso-domain-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const r = await post("/api/config/sso/domains", { domain: $("sso-new-domain").value.trim() });
    if (r.status !== 201 && r.status !== 200) return say("sso-domain-message", r.message);
    $("sso-new-domain").value = "";
    await loadDomains();
    say("sso-domain-message", `Added ${r.data.domain}. Publish its TXT record, then verify it.`, "success");
  });
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
      body.second_factor = $("sso-second-factor").value;
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
