// What the console's views share: the page helpers of common.js, building elements, showing
// one view, and times in words.
export const { $, call, post, say } = porter; // common.js, a classic script loaded before the modules

export const views = ["view-dashboard", "view-users", "view-audit", "view-sso", "view-api", "view-solution", "view-account", "view-signin", "view-organizations", "view-my-organization", "view-denied"];

export function el(tag, props, ...children) {
  const e = Object.assign(document.createElement(tag), props || {});
  e.append(...children);
  return e;
}

export function view(id) {
  porter.show(views, id);
}

export function denied(r) {
  $("denied-message").textContent = r.message;
  view("view-denied");
}

export const ago = (t) => {
  const secs = Math.max(0, (Date.now() - new Date(t).getTime()) / 1000);
  if (secs < 90) return "just now";
  if (secs < 5400) return `${Math.round(secs / 60)} minutes ago`;
  if (secs < 129600) return `${Math.round(secs / 3600)} hours ago`;
  return `${Math.round(secs / 86400)} days ago`;
};
