// The signed-in console: the top bar, setup, the navigation, and the view the address names
// (a route table; each view is a module of its own, mounted only where it shows).
import { $, call, post, say, el, view, denied, popupMenu } from "./app-ui.js";
import { mount as dashboard } from "./app-dashboard.js";
import { mount as users } from "./app-users.js";
import { mount as audit } from "./app-audit.js";
import { mount as sso } from "./app-sso.js";
import { mount as signin } from "./app-signin.js";
import { mount as account } from "./app-account.js";
import { mount as api } from "./app-api.js";
import { mountOrganizations, mountMyOrganization, switcher } from "./app-organizations.js";

// Which view an address shows: the first route whose test holds.
const ROUTES = [
  [(p) => p === "/app/configuration" || p === "/app/configuration/users", users],
  [(p) => p === "/app/configuration/api", api],
  [(p) => p === "/app/configuration/organizations", mountOrganizations],
  [(p) => p === "/app/configuration/my-organization", mountMyOrganization],
  [(p) => p.startsWith("/app/solutions/"), solution],
  [(p) => p === "/app/configuration/audit", audit],
  [(p) => p === "/app/configuration/sso", sso],
  [(p) => p === "/app/configuration/signin", signin],
  [(p) => p === "/app/account", account],
  [(p) => p.startsWith("/app/configuration/"), () => () => denied({ message: "There is nothing here." })],
  [() => true, dashboard],
];

// A solution or module page: what the licence calls it, and what the product's own route
// (behind Porter's authorizer) is told about the person — or that the licence does not
// include it, as the authorizer refuses it.
function solution({ menu, path }) {
  return async () => {
    const find = (items) => items.flatMap((m) => [m, ...find(m.children || [])]);
    const entry = find(menu).find((m) => m.href === path);
    $("solution-title").textContent = entry ? entry.label : "Not part of your license";
    const r = await call("GET", path.replace(/^\/app/, "/api"));
    const facts = $("solution-context");
    if (r.status === 200) {
      const c = r.data;
      const module = c.module ? ` / ${c.module}` : "";
      facts.replaceChildren(
        ...[
          ["Solution", `${c.solution}${module}`],
          ["Signed in as", `${c.user.email} (${c.user.role})`],
          ["Organisation", c.tenant.id],
          ["Proved by", c.auth_via === "token" ? "an access token" : "the session"],
        ].flatMap(([k, v]) => [el("dt", { textContent: k }), el("dd", { textContent: v })]),
      );
      say("solution-message", "Your organisation is entitled to this part of the product.", "hint");
    } else {
      facts.replaceChildren();
      $("solution-title").textContent = "Not part of your license";
      say("solution-message", "This part of the product is not part of your organisation's license.");
    }
    view("view-solution");
  };
}

(async function () {
  const path = window.location.pathname.replace(/\/+$/, "");


  $("sign-out").addEventListener("click", async () => {
    await post("/api/logout");
    window.location.assign("/login?reason=signed_out");
  });

  // The person's menu in the top bar: My account, Sign out.
  popupMenu("user-menu", "user-button", "user-popup");
  // Below 768 px the navigation folds behind the Menu button.
  $("nav-toggle").addEventListener("click", () => {
    const open = !$("sidenav").classList.contains("open");
    $("sidenav").classList.toggle("open", open);
    $("nav-toggle").setAttribute("aria-expanded", String(open));
  });

  // Back from the organisation's identity provider to a sign-in an app asked for.
  const next = porter.takeNext();
  if (next) return window.location.replace(next);
  const me = await call("GET", "/api/me");
  $("loading").hidden = true;
  $("user-menu").hidden = false;
  if (me.status === 401 || me.code === "mfa_required") return window.location.assign("/login?reason=expired");
  if (me.code === "no_role") {
    $("no-role-message").textContent = me.message;
    $("no-role").hidden = false;
    return;
  }
  if (me.status !== 200) {
    $("loading").hidden = false;
    $("loading").textContent = me.message || "Something went wrong. Please reload the page.";
    return;
  }
  const { user, tenant, menu } = me.data;
  const isAdmin = user.role === "admin";

  if (isAdmin && !tenant.setup_done) {
    if (path !== "/app/setup") return window.location.assign("/app/setup");
    $("setup").hidden = false;
    $("setup-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const r = await post("/api/setup", { organisation_name: $("organisation_name").value });
      if (r.status === 200) return window.location.assign("/app/configuration/users");
      say("setup-error", r.message);
    });
    return;
  }

  $("org-name").textContent = tenant.name;
  switcher(me.data);
  $("who").textContent = `Signed in as ${user.email} (${user.role_label})`;
  const here = path === "/app" ? "/app/dashboard" : path;
  const menuItem = (m) => {
    const a = el("a", { href: m.href, textContent: m.label });
    a.dataset.menu = m.id;
    if (m.href === here || (m.id === "dashboard" && path === "/app")) a.setAttribute("aria-current", "page");
    const li = el("li", {}, a);
    if (m.children) li.append(el("ul", {}, ...m.children.map(menuItem)));
    return li;
  };
  const renderMenu = (items) => $("menu").replaceChildren(...items.map(menuItem));
  renderMenu(menu);
  $("sidenav").hidden = false;
  $("nav-toggle").hidden = false;
  $("shell").hidden = false;

  const ctx = { me, menu, path, renderMenu };
  const [, mountView] = ROUTES.find(([matches]) => matches(path));
  mountView(ctx)();
})();
