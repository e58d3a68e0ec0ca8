// API management and the licence check.
import { $, call, post, say, view, denied } from "./app-ui.js";

export function mount({ renderMenu }) {
  // API management: the connection is described, never shown back; Check license fills the menu.
  async function loadApi() {
    const r = await call("GET", "/api/config/platform");
    if (r.status !== 200) return denied(r);
    view("view-api");
    const c = r.data;
    $("api-hostname").value = c.hostname || "";
    $("api-client-id").value = c.client_id || "";
    $("api-kid").value = c.kid || "";
    $("api-token-endpoint").value = c.token_endpoint || "";
    $("api-key").value = "";
    $("api-key-password").value = "";
    $("api-certificate").value = "";
    $("api-key-hint").hidden = !c.configured;
    // Once a connection is saved, the key and certificate stay out of the way until asked for.
    $("api-update-row").hidden = !c.configured;
    $("api-update-cert").checked = false;
    $("api-secret-fields").hidden = !!c.configured;
    if (c.configured) {
      const key = c.key.type === "ec" ? `EC ${c.key.curve}` : `RSA ${c.key.bits} bits`;
      const cert = c.certificate ? `; certificate ${c.certificate.subject}, valid until ${new Date(c.certificate.not_after).toLocaleDateString()}` : "";
      $("api-status").textContent = `Connected to ${c.hostname} with an ${key} key (${c.key.encrypted ? "encrypted" : "not encrypted"})${cert}.`;
    } else $("api-status").textContent = "Not configured yet: the platform connection is needed to check the license.";
    $("license-check").disabled = !c.configured;
    $("license-status").textContent = c.configured ? "" : "Save the platform connection first.";
  }
  $("api-update-cert").addEventListener("change", () => {
    $("api-secret-fields").hidden = !$("api-update-cert").checked;
  });
  $("api-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = {
      hostname: $("api-hostname").value.trim(),
      client_id: $("api-client-id").value.trim(),
      kid: $("api-kid").value.trim(),
    };
    if ($("api-token-endpoint").value.trim()) body.token_endpoint = $("api-token-endpoint").value.trim();
    if (!$("api-secret-fields").hidden) {
      if ($("api-key").value.trim()) body.private_key_pem = $("api-key").value;
      if ($("api-key-password").value) body.private_key_password = $("api-key-password").value;
      if ($("api-certificate").value.trim()) body.certificate_pem = $("api-certificate").value;
    }
    const r = await call("PUT", "/api/config/platform", body);
    if (r.status !== 200) return say("api-message", r.message);
    await loadApi();
    say("api-message", "Saved.", "success");
  });
  $("license-check").addEventListener("click", async () => {
    $("license-check").disabled = true;
    const r = await post("/api/license/check");
    $("license-check").disabled = false;
    if (r.status !== 200) return say("license-message", r.message);
    say("license-message", r.data.message, "success");
    const fresh = await call("GET", "/api/me");
    if (fresh.status === 200) renderMenu(fresh.data.menu);
  });
  return loadApi;
}
