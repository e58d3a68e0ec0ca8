// Managed organizations (an MSP's admins): list, add, rename, remove (the name typed to
// confirm), open one; My organization: the MSP's own details and the way back to it; and the
// switcher in the top bar that moves the session between organizations.
import { $, call, post, say, el, view, denied, popupMenu } from "./app-ui.js";

// Moves the session to organization `id` and reloads the console there: every view then
// applies to it.
export async function workIn(id, where = "/app/dashboard") {
  const r = await post("/api/session/organization", { id });
  if (r.status === 200) return window.location.assign(where);
  if (r.status === 401) return window.location.assign("/login?reason=expired");
  return r;
}

// The top bar's organization switcher (only for people who may work in more than one) and the
// banner while working in an organization the MSP manages.
export function switcher(me) {
  const { organization, organizations } = me;
  if (organization.managed_by) {
    $("acting-text").textContent = `Working in ${organization.name} (managed by ${organization.managed_by})`;
    const home = organizations[0];
    $("acting-home").textContent = `Back to ${home.name}`;
    $("acting-home").addEventListener("click", () => workIn(home.id));
    $("acting-banner").hidden = false;
  }
  if (organizations.length < 2) return;
  $("org-name").hidden = true;
  $("org-current").textContent = organization.name;
  const open = popupMenu("org-menu", "org-button", "org-popup", () => $("org-popup").querySelector("[aria-current]")?.focus());
  const items = organizations.map((o) => {
    const current = o.id === organization.id;
    const b = el("button", { type: "button", textContent: current ? `${o.name} (current)` : o.name });
    if (current) b.setAttribute("aria-current", "true");
    b.addEventListener("click", () => (current ? open(false) : workIn(o.id)));
    return el("li", {}, b);
  });
  $("org-popup").replaceChildren(...items);
  // Arrow keys move between the organizations.
  $("org-popup").addEventListener("keydown", (e) => {
    const buttons = [...$("org-popup").querySelectorAll("button")];
    const at = buttons.indexOf(document.activeElement);
    if ((e.key === "ArrowDown" || e.key === "ArrowUp") && at >= 0) {
      e.preventDefault();
      buttons[(at + (e.key === "ArrowDown" ? 1 : buttons.length - 1)) % buttons.length].focus();
    }
  });
  $("org-menu").hidden = false;
}

export function mountOrganizations(_ctx) {
  let removing = null;
  const dialog = $("org-remove-dialog");
  $("org-remove-confirm").addEventListener("input", () => {
    $("org-remove-go").disabled = !removing || $("org-remove-confirm").value.trim() !== removing.name;
  });
  $("org-remove-cancel").addEventListener("click", () => dialog.close());
  $("org-remove-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!removing || $("org-remove-confirm").value.trim() !== removing.name) return;
    const { id, name } = removing;
    dialog.close();
    const r = await call("DELETE", `/api/organizations/${id}`);
    say("org-message", r.status === 204 ? `${name} was removed, with its users and settings.` : r.message, r.status === 204 ? "success" : "error");
    load();
  });

  function row(o) {
    const name = el("td", { textContent: o.name });
    const open = el("button", { type: "button", textContent: "Open" });
    open.setAttribute("aria-label", `Open ${o.name}`);
    open.addEventListener("click", async () => {
      const r = await workIn(o.id, "/app/configuration/users");
      if (r) say("org-message", r.message);
    });
    const rename = el("button", { type: "button", textContent: "Rename", className: "secondary" });
    rename.setAttribute("aria-label", `Rename ${o.name}`);
    rename.addEventListener("click", () => {
      const input = el("input", { value: o.name, maxLength: 100, ariaLabel: `New name of ${o.name}` });
      const save = el("button", { type: "submit", textContent: "Save" });
      const form = el("form", { className: "inline" }, input, save);
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        const r = await call("PATCH", `/api/organizations/${o.id}`, { name: input.value.trim() });
        say("org-message", r.status === 200 ? `${o.name} is now called ${r.data.name}.` : r.message, r.status === 200 ? "success" : "error");
        if (r.status === 200) load();
      });
      name.replaceChildren(form);
      input.focus();
    });
    const remove = el("button", { type: "button", textContent: "Remove", className: "danger" });
    remove.setAttribute("aria-label", `Remove ${o.name}`);
    remove.addEventListener("click", () => {
      removing = o;
      $("org-remove-title").textContent = `Remove ${o.name}`;
      $("org-remove-warning").textContent = `${o.name}'s users, their sessions, its settings and secrets go at once. Its audit log stays readable to you.`;
      $("org-remove-confirm").value = "";
      $("org-remove-go").disabled = true;
      dialog.showModal();
      $("org-remove-confirm").focus();
    });
    const tr = el(
      "tr",
      {},
      name,
      el("td", { textContent: `${o.users} of ${o.max_users}` }),
      el("td", { textContent: o.checked_at ? new Date(o.checked_at).toLocaleString() : "not yet" }),
      el("td", { textContent: new Date(o.created_at).toLocaleDateString() }),
      el("td", {}, open, rename, remove),
    );
    tr.dataset.organization = o.name;
    return tr;
  }

  async function load() {
    const r = await call("GET", "/api/organizations");
    if (r.status !== 200) return denied(r);
    view("view-organizations");
    const { organizations, limit } = r.data;
    $("org-limit").textContent = `${organizations.length} of ${limit} organizations`;
    $("org-rows").replaceChildren(...organizations.map(row));
    $("org-empty").hidden = organizations.length > 0;
  }

  $("org-add").addEventListener("submit", async (e) => {
    e.preventDefault();
    const name = $("org-add-name").value.trim();
    const r = await post("/api/organizations", { name });
    if (r.status === 201) {
      say("org-message", `${r.data.name} was added. Open it to invite its admin.`, "success");
      $("org-add-name").value = "";
      load();
    } else say("org-message", r.message);
  });
  return load;
}

// My organization: the MSP's own details; while working elsewhere, the way back, since its
// users, single sign-on and sign-in settings are changed from there.
export function mountMyOrganization({ me }) {
  return () => {
    const { organization, organizations } = me.data;
    const home = organizations[0];
    const here = organization.id === home.id;
    $("my-org-facts").replaceChildren(
      ...[
        ["Name", home.name],
        ["Organization id", home.id],
        ["Kind", "Managed service provider"],
        ["Organizations you may work in", String(organizations.length - 1)],
      ].flatMap(([k, v]) => [el("dt", { textContent: k }), el("dd", { textContent: v })]),
    );
    $("my-org-away").hidden = here;
    $("my-org-home").hidden = here;
    $("my-org-links").hidden = !here;
    if (!here) {
      $("my-org-away").textContent = `You are working in ${organization.name}. Go back to ${home.name} to change its own users and settings.`;
      $("my-org-home").textContent = `Back to ${home.name}`;
      $("my-org-home").onclick = () => workIn(home.id, "/app/configuration/my-organization");
    } else {
      const links = [
        ["Users", "/app/configuration/users"],
        ["Single sign-on", "/app/configuration/sso"],
        ["Sign-in options", "/app/configuration/signin"],
        ["Audit log", "/app/configuration/audit"],
      ];
      $("my-org-links").replaceChildren(...links.map(([label, href]) => el("li", {}, el("a", { href, textContent: `${home.name}: ${label}` }))));
    }
    view("view-my-organization");
  };
}
