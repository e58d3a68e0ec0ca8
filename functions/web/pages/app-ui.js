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

// A menu behind a button in the top bar: the button toggles it, a click elsewhere closes it,
// Escape closes it and gives the button its focus back. `onOpen` runs as it opens. Returns
// the function that opens (true) or closes (false) it.
export function popupMenu(menuId, buttonId, popupId, onOpen = () => {}) {
  function open(yes) {
    $(popupId).hidden = !yes;
    $(buttonId).setAttribute("aria-expanded", String(yes));
    if (yes) onOpen();
  }
  $(buttonId).addEventListener("click", (e) => {
    e.stopPropagation();
    open($(popupId).hidden);
  });
  document.addEventListener("click", (e) => {
    if (!$(menuId).contains(e.target)) open(false);
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !$(popupId).hidden) {
      open(false);
      $(buttonId).focus();
    }
  });
  return open;
}
