// Salesdesk's own behaviour: CSRF for htmx, toasts, confirmations. Everything
// here enhances pages that already work without JavaScript.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // Every htmx request carries the token in a header (htmx 2 puts DELETE
  // parameters in the URL, where a form field would not be seen).
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRFToken"] = csrfToken();
  });

  function showToast(message, level) {
    var region = document.getElementById("toasts");
    if (!region || !message) return;
    var toast = document.createElement("div");
    toast.className = "toast toast-" + (level || "info");
    toast.setAttribute("role", level === "error" ? "alert" : "status");
    var text = document.createElement("span");
    text.textContent = message;
    var close = document.createElement("button");
    close.type = "button";
    close.setAttribute("aria-label", region.dataset.closeLabel || "×");
    close.textContent = "×";
    close.addEventListener("click", function () { toast.remove(); });
    toast.append(text, close);
    region.append(toast);
    setTimeout(function () { toast.remove(); }, level === "error" ? 9000 : 5000);
  }

  // Server messages arrive as HX-Trigger: {"toast": [{message, level}, ...]}.
  document.addEventListener("toast", function (event) {
    var detail = event.detail || {};
    var toasts = Array.isArray(detail.value) ? detail.value : [detail];
    toasts.forEach(function (t) { showToast(t.message, t.level); });
  });

  // Texts come translated from the page (data-* on the toast region).
  document.addEventListener("htmx:sendError", function () {
    var region = document.getElementById("toasts");
    showToast(region && region.dataset.networkError, "error");
  });

  // <form data-confirm="…"> asks before submitting, with or without htmx.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // Close an open menu (user, export, 我的) on a click elsewhere or Escape.
  var MENUS = "details.menu, details.tabbar-more, details.action-call";
  function closeMenus(except) {
    document.querySelectorAll(MENUS).forEach(function (menu) {
      if (menu.open && menu !== except) menu.removeAttribute("open");
    });
  }
  document.addEventListener("click", function (event) {
    closeMenus(event.target.closest && event.target.closest(MENUS));
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closeMenus(null);
  });

  // After a refused htmx submission (not a search: it would steal the caret), focus
  // the first invalid field.
  document.addEventListener("htmx:afterSettle", function (event) {
    var config = event.detail.requestConfig;
    if (!config || config.verb === "get") return;
    var target = event.detail.target;
    var invalid = target && target.querySelector('[aria-invalid="true"]');
    if (invalid && !(document.activeElement && document.activeElement.matches('[aria-invalid="true"]'))) {
      invalid.focus();
    }
  });
})();
