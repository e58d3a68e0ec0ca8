// The dashboard: the admin's setup checklist and the solutions the licence includes, as cards.
import { $, el, view } from "./app-ui.js";

export function mount({ me, menu }) {
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
  return loadDashboard;
}
