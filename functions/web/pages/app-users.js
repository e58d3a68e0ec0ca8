// Users: the organisation's people, their roles and invitations.
import { $, call, post, say, el, view, denied, ago } from "./app-ui.js";

export function mount(_ctx) {
  function statusBadge(u) {
    if (u.status !== "invited") return el("span", { className: "badge good", textContent: u.status });
    const since = u.invited_at ? `, invited ${ago(u.invited_at)}` : "";
    const cell = el("span", {}, el("span", { className: "badge warn", textContent: "invited" }));
    cell.append(` ${since.slice(2)}${u.invitation_expired ? ", link expired" : ""}`);
    return cell;
  }

  // Where a person of an MSP may work: "all" or some of the organizations it manages, shown
  // under their address and changed there (an admin's default is all, a core user's none).
  function scopeEditor(u, orgs) {
    const names = u.organizations === "all" ? "all organizations" : u.organizations.map((id) => orgs.find((o) => o.id === id)?.name || id).join(", ") || "only this organization";
    const all = el("input", { type: "checkbox", checked: u.organizations === "all" });
    const boxes = orgs.map((o) => {
      const box = el("input", { type: "checkbox", value: o.id, checked: u.organizations === "all" || u.organizations.includes(o.id) });
      return [box, el("label", { className: "check" }, box, ` ${o.name}`)];
    });
    const sync = () => boxes.forEach(([box]) => (box.disabled = all.checked));
    all.addEventListener("change", sync);
    sync();
    const save = el("button", { type: "submit", textContent: "Save where they work" });
    const form = el("form", {}, el("label", { className: "check" }, all, " All organizations, including new ones"), ...boxes.map(([, l]) => l), save);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const organizations = all.checked ? "all" : boxes.filter(([b]) => b.checked).map(([b]) => b.value);
      const res = await call("PATCH", `/api/users/${u.id}`, { organizations });
      say("users-message", res.status === 200 ? `Saved where ${u.email} may work.` : res.message, res.status === 200 ? "success" : "error");
      if (res.status === 200) loadUsers();
    });
    return el("details", {}, el("summary", { textContent: `Works in ${names}` }), form);
  }

  async function loadUsers() {
    const r = await call("GET", "/api/users");
    if (r.status !== 200) return denied(r);
    const msp = r.data.users.some((u) => u.organizations !== undefined);
    const listed = msp ? await call("GET", "/api/organizations") : null;
    const orgs = listed && listed.status === 200 ? listed.data.organizations : [];
    view("view-users");
    $("seats").textContent = `${r.data.user_count} of ${r.data.max_users} users`;
    if (r.data.user_count >= r.data.max_users)
      $("seats").textContent += ". Your organisation has reached its user limit; contact your representative to add more.";
    // Role names come from the API, the one place that knows them.
    const roleOptions = (selected) =>
      r.data.roles.map(({ role, label }) => el("option", { value: role || "", textContent: label, selected: (role || "") === selected }));
    const add = $("add-role");
    add.replaceChildren(...roleOptions(add.value || "core"));
    const rows = r.data.users.map((u) => {
      const role = el("select", { ariaLabel: `Role of ${u.email}` });
      role.append(...roleOptions(u.role || ""));
      role.addEventListener("change", async () => {
        const res = await call("PATCH", `/api/users/${u.id}`, { role: role.value || null });
        say("users-message", res.status === 200 ? `${u.email} is now ${role.selectedOptions[0].textContent}.` : res.message, res.status === 200 ? "success" : "error");
        if (res.status === 401) return window.location.assign("/login?reason=expired");
        loadUsers();
      });
      const actions = el("td");
      if (u.status === "invited") {
        const resend = el("button", { type: "button", textContent: "Resend" });
        resend.addEventListener("click", async () => {
          const res = await post(`/api/users/${u.id}/resend`);
          say("users-message", res.status === 202 ? `A new invitation is on its way to ${u.email}.` : res.message, res.status === 202 ? "success" : "error");
        });
        actions.append(resend);
      }
      const remove = el("button", { type: "button", textContent: "Remove", className: "danger" });
      remove.addEventListener("click", async () => {
        if (!window.confirm(`Remove ${u.email}? Their access ends at once.`)) return;
        const res = await call("DELETE", `/api/users/${u.id}`);
        say("users-message", res.status === 204 ? `${u.email} was removed.` : res.message, res.status === 204 ? "success" : "error");
        loadUsers();
      });
      actions.append(remove);
      const tr = el(
        "tr",
        {},
        el("td", {}, u.email, ...(msp && u.organizations !== undefined ? [scopeEditor(u, orgs)] : [])),
        el("td", {}, role),
        el("td", {}, statusBadge(u)),
        el("td", { textContent: u.mfa_enrolled ? "yes" : "no" }),
        el("td", { textContent: u.last_sign_in ? new Date(u.last_sign_in).toLocaleString() : "never" }),
        actions,
      );
      tr.dataset.email = u.email;
      return tr;
    });
    $("user-rows").replaceChildren(...rows);
  }

  $("add-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const email = $("add-email").value.trim();
    const r = await post("/api/users", { email, role: $("add-role").value || null });
    if (r.status === 201) {
      say("users-message", r.data.invitation_sent ? `${email} was invited.` : r.data.message, r.data.invitation_sent ? "success" : "error");
      $("add-email").value = "";
      loadUsers();
    } else say("users-message", r.message);
  });
  return loadUsers;
}
