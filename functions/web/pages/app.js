// The signed-in app: setup, dashboard, user management and the audit log.
"use strict";

(async function () {
  const { $, call, post, say } = porter;
  const path = window.location.pathname.replace(/\/+$/, "");
  const views = ["view-dashboard", "view-users", "view-audit", "view-sso", "view-api", "view-solution", "view-account", "view-signin", "view-denied"];

  function el(tag, props, ...children) {
    const e = Object.assign(document.createElement(tag), props || {});
    e.append(...children);
    return e;
  }

  $("sign-out").addEventListener("click", async () => {
    await post("/api/logout");
    window.location.assign("/login?reason=signed_out");
  });

  // The person's menu in the top bar: My account, Sign out. Escape or a click elsewhere
  // closes it.
  function userMenu(open) {
    $("user-popup").hidden = !open;
    $("user-button").setAttribute("aria-expanded", String(open));
  }
  $("user-button").addEventListener("click", (e) => {
    e.stopPropagation();
    userMenu($("user-popup").hidden);
  });
  document.addEventListener("click", (e) => {
    if (!$("user-menu").contains(e.target)) userMenu(false);
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !$("user-popup").hidden) {
      userMenu(false);
      $("user-button").focus();
    }
  });
  // Below 768 px the navigation folds behind the Menu button.
  $("nav-toggle").addEventListener("click", () => {
    const open = !$("sidenav").classList.contains("open");
    $("sidenav").classList.toggle("open", open);
    $("nav-toggle").setAttribute("aria-expanded", String(open));
  });

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

  // Dashboard: the admin's setup checklist (ticked from what is stored) and the solutions
  // the organisation is entitled to, as cards.
  function loadDashboard() {
    view("view-dashboard");
    const steps = me.data.checklist || [];
    $("checklist-panel").hidden = steps.length === 0;
    const done = steps.filter((s) => s.done).length;
    $("checklist-progress").textContent = `${done} of ${steps.length} done`;
    $("checklist").replaceChildren(
      ...steps.map((s) =>
        el(
          "li",
          { className: s.done ? "done" : "todo" },
          el("span", { className: "tick", textContent: s.done ? "✓" : "○", ariaHidden: "true" }),
          el("a", { href: s.href, textContent: s.label }),
          el("span", { className: `badge ${s.done ? "good" : "muted"}`, textContent: s.done ? "Done" : "To do" }),
        ),
      ),
    );
    for (const li of $("checklist").children) li.dataset.step = steps[[...$("checklist").children].indexOf(li)].id;
    const solutions = menu.filter((m) => m.id.startsWith("solution:"));
    $("solution-cards").replaceChildren(
      ...solutions.map((s) =>
        el(
          "li",
          {},
          el("h3", {}, el("a", { href: s.href, textContent: s.label })),
          el("p", { className: "hint", textContent: (s.children || []).map((c) => c.label).join(" · ") || "Included in your license" }),
        ),
      ),
    );
    $("no-solutions").hidden = solutions.length > 0;
  }

  function view(id) {
    porter.show(views, id);
  }

  function denied(r) {
    $("denied-message").textContent = r.message;
    view("view-denied");
  }

  const ago = (t) => {
    const secs = Math.max(0, (Date.now() - new Date(t).getTime()) / 1000);
    if (secs < 90) return "just now";
    if (secs < 5400) return `${Math.round(secs / 60)} minutes ago`;
    if (secs < 129600) return `${Math.round(secs / 3600)} hours ago`;
    return `${Math.round(secs / 86400)} days ago`;
  };
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

  // The audit log in words: who and whom by address, what happened as a sentence (the
  // server's `label`), the outcome as a badge, the time relative with the exact time on hover.
  const methods = ["totp", "webauthn", "recovery", "pin", "sso"];
  const outcomeBadge = (o) => {
    const good = o === "success" || methods.includes(o);
    const kind = o === "failure" ? "bad" : good ? "good" : "muted";
    return el("span", { className: `badge ${kind}`, textContent: good ? "success" : o });
  };
  // The filter's choices, from the first page's `actions`.
  function offerActions(actions) {
    const select = $("audit-action");
    if (select.options.length > 1) return;
    select.append(...actions.map(({ action, label }) => el("option", { value: action, textContent: `${label} (${action})` })));
  }
  let auditNext = null;
  function auditQuery() {
    const q = new URLSearchParams();
    if ($("audit-action").value) q.set("action", $("audit-action").value);
    if ($("audit-person").value.trim()) q.set("person", $("audit-person").value.trim());
    return q;
  }
  async function loadAudit(more) {
    const q = auditQuery();
    q.set("limit", "50");
    if (more && auditNext) q.set("next", auditNext);
    const r = await call("GET", `/api/audit?${q}`);
    if (r.status !== 200) return denied(r);
    view("view-audit");
    offerActions(r.data.actions || []);
    const csv = auditQuery();
    csv.set("format", "csv");
    $("audit-csv").href = `/api/audit?${csv}`;
    const rows = r.data.events.map((ev) =>
      el(
        "tr",
        {},
        el("td", { textContent: ago(ev.at), title: new Date(ev.at).toLocaleString() }),
        el("td", { textContent: ev.label }),
        el("td", {}, outcomeBadge(ev.outcome)),
        el("td", { className: "wrap", textContent: ev.actor_email || ev.actor }),
        el("td", { className: "wrap", textContent: ev.target_email || (ev.target && !ev.target.startsWith("u_") ? ev.target : "") }),
        el("td", { className: "wrap", textContent: ev.source_ip }),
      ),
    );
    if (more) $("audit-rows").append(...rows);
    else $("audit-rows").replaceChildren(...rows);
    auditNext = r.data.next;
    $("audit-more").hidden = !auditNext;
    $("audit-empty").hidden = $("audit-rows").children.length > 0;
  }
  $("audit-more").addEventListener("click", () => loadAudit(true));
  $("audit-filters").addEventListener("submit", (e) => {
    e.preventDefault();
    loadAudit(false);
  });

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

  // API management: the connection is described, never shown back; Check license fills the menu.
  async function loadSignIn() {
    const r = await call("GET", "/api/config/signin");
    if (r.status !== 200) return denied(r);
    view("view-signin");
    $("email-pin").checked = r.data.email_pin;
    $("signin-form").onsubmit = async (e) => {
      e.preventDefault();
      const s = await call("PUT", "/api/config/signin", { email_pin: $("email-pin").checked });
      if (s.status === 200) say("signin-message", s.data.email_pin ? "Sign-in with an emailed code is on." : "Sign-in with an emailed code is off.", "success");
      else say("signin-message", s.message);
    };
  }

  // My account. A change of sign-in methods may answer 403 reauth_required: the page then
  // asks for the second factor and runs the change again once it is confirmed.
  let pendingChange = null;
  async function guarded(change) {
    const r = await change();
    if (r.code !== "reauth_required") return r;
    pendingChange = change;
    $("reauth").hidden = false;
    $("reauth-code").focus();
    return null;
  }
  async function reauthWith(body) {
    const r = await post("/api/account/reauth", body);
    if (r.status !== 200) return say("reauth-error", r.message);
    say("reauth-error", "");
    $("reauth").hidden = true;
    const change = pendingChange;
    pendingChange = null;
    if (change) await afterChange(await change());
  }
  $("reauth-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const code = $("reauth-code").value.trim();
    $("reauth-code").value = "";
    reauthWith(/^\d{6}$/.test(code) ? { method: "totp", code } : { method: "recovery", code });
  });
  $("reauth-key").addEventListener("click", async () => {
    const k = await porter.keyAssertion();
    if (!k.credential) return say("reauth-error", k.message);
    reauthWith({ method: "webauthn", credential: k.credential });
  });
  async function afterChange(r) {
    if (!r) return;
    if (r.status >= 400) return say("factors-error", r.message);
    say("factors-error", "");
    if (r.data && r.data.recovery_codes) {
      $("new-codes").replaceChildren(...r.data.recovery_codes.map((c) => el("li", { textContent: c })));
      $("new-codes").hidden = false;
    }
    if (r.data && r.data.message) say("account-message", r.data.message, "success");
    loadAccount();
  }

  const when = (t) => (t ? new Date(t).toLocaleString() : "never");
  async function loadAccount() {
    const r = await call("GET", "/api/account");
    if (r.status !== 200) return denied(r);
    view("view-account");
    const a = r.data;
    $("account-email").textContent = a.email;
    $("password-managed").hidden = !a.password.managed_by_idp;
    $("password-change").hidden = a.password.managed_by_idp;
    $("totp-state").textContent = a.factors.totp ? "Authenticator app: on" : "Authenticator app: not set up";
    $("totp-remove").hidden = !a.factors.totp;
    $("codes-left").textContent = `${a.factors.recovery_codes_left} recovery codes left`;
    $("key-rows").replaceChildren(
      ...a.factors.security_keys.map((k) => {
        const rename = el("button", { type: "button", textContent: "Rename" });
        rename.setAttribute("aria-label", `Rename ${k.name}`);
        rename.onclick = async () => {
          const name = window.prompt("New name for this key", k.name);
          if (name) afterChange(await guarded(() => call("PATCH", `/api/account/security-keys/${encodeURIComponent(k.id)}`, { name })));
        };
        const remove = el("button", { type: "button", textContent: "Remove" });
        remove.setAttribute("aria-label", `Remove ${k.name}`);
        remove.onclick = async () => afterChange(await guarded(() => call("DELETE", `/api/account/security-keys/${encodeURIComponent(k.id)}`)));
        return el("tr", {}, el("td", { textContent: k.name }), el("td", { textContent: when(k.created_at) }), el("td", { textContent: when(k.last_used_at) }), el("td", {}, rename, remove));
      }),
    );
    $("session-rows").replaceChildren(
      ...a.sessions.map((s) => {
        const cell = el("td");
        if (s.current) cell.textContent = "This browser";
        else {
          const end = el("button", { type: "button", textContent: "Sign out" });
          end.setAttribute("aria-label", `Sign out the session from ${s.ip}`);
          end.onclick = async () => {
            const e = await call("DELETE", `/api/account/sessions/${s.id}`);
            if (e.status === 204) loadAccount();
            else say("account-message", e.message);
          };
          cell.append(end);
        }
        return el("tr", {}, el("td", { textContent: s.user_agent || "Unknown browser" }), el("td", { textContent: s.ip }), el("td", { textContent: when(s.created_at) }), el("td", { textContent: when(s.last_seen_at) }), cell);
      }),
    );
  }
  $("password-change").addEventListener("submit", async (e) => {
    e.preventDefault();
    const r = await post("/api/account/password", {
      current_password: $("current-password").value,
      password: $("new-password").value,
      password_confirm: $("new-password-confirm").value,
    });
    if (r.status !== 200) return say("password-change-error", r.message);
    for (const id of ["current-password", "new-password", "new-password-confirm"]) $(id).value = "";
    say("password-change-error", "");
    say("account-message", r.data.message, "success");
    loadAccount();
  });
  $("key-add").addEventListener("submit", async (e) => {
    e.preventDefault();
    const name = $("key-name").value.trim();
    const r = await guarded(() => porter.registerKey(name));
    $("key-name").value = "";
    afterChange(r);
  });
  $("codes-new").addEventListener("click", async () => afterChange(await guarded(() => post("/api/account/recovery-codes"))));
  $("totp-remove").addEventListener("click", async () => afterChange(await guarded(() => call("DELETE", "/api/account/totp"))));
  $("sessions-end-others").addEventListener("click", async () => {
    const r = await call("DELETE", "/api/account/sessions");
    if (r.status !== 200) return say("account-message", r.message);
    say("account-message", r.data.message, "success");
    loadAccount();
  });

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

  if (path === "/app/configuration" || path === "/app/configuration/users") loadUsers();
  else if (path === "/app/configuration/api") loadApi();
  else if (path.startsWith("/app/solutions/")) {
    const find = (items) => items.flatMap((m) => [m, ...find(m.children || [])]);
    const entry = find(menu).find((m) => m.href === path);
    $("solution-title").textContent = entry ? entry.label : "Not available";
    view("view-solution");
  }
  else if (path === "/app/configuration/audit") loadAudit(false);
  else if (path === "/app/configuration/sso") loadSso();
  else if (path === "/app/configuration/signin") loadSignIn();
  else if (path === "/app/account") loadAccount();
  else if (path.startsWith("/app/configuration/")) denied({ message: "There is nothing here." });
  else loadDashboard();
})();
