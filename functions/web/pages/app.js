// The signed-in shell: who you are, your menu, sign-out.
"use strict";

(async function () {
  const { $, call, post } = porter;
  const me = await call("GET", "/api/me");
  $("loading").hidden = true;
  $("sign-out").hidden = false;
  $("sign-out").addEventListener("click", async () => {
    await post("/api/logout");
    window.location.assign("/login?reason=signed_out");
  });
  if (me.status === 401 || me.code === "mfa_required") {
    window.location.assign("/login?reason=expired");
    return;
  }
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
  $("welcome").textContent = tenant.name;
  $("who").textContent = `Signed in as ${user.email} (${user.role_label})`;
  const items = [];
  for (const m of menu) {
    const li = document.createElement("li");
    const a = Object.assign(document.createElement("a"), { href: m.href, textContent: m.label });
    a.dataset.menu = m.id;
    li.append(a);
    if (m.children) {
      const ul = document.createElement("ul");
      for (const c of m.children) {
        const cli = document.createElement("li");
        const ca = Object.assign(document.createElement("a"), { href: c.href, textContent: c.label });
        ca.dataset.menu = c.id;
        cli.append(ca);
        ul.append(cli);
      }
      li.append(ul);
    }
    items.push(li);
  }
  $("menu").replaceChildren(...items);
  $("dashboard").hidden = false;
})();
