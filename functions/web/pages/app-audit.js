// The audit log.
import { $, call, el, view, denied, ago } from "./app-ui.js";

export function mount(_ctx) {
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
        // Someone of the MSP working here: "ann@msp.test (Acme IT)".
        el("td", { className: "wrap", textContent: `${ev.actor_email || ev.actor}${ev.via ? ` (${ev.via})` : ""}` }),
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
  return () => loadAudit(false);
}
