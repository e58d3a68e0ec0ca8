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

  async function loadUsers() {
    const r = await call("GET", "/api/users");
    if (r.status !== 200) return denied(r);
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
        el("td", { textContent: u.email }),
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
