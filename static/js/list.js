// The customer list: ticks for bulk assignment kept across pages (per list, for this
// tab), "select the whole page", the "N selected" count, and the phone's filter drawer
// closing once it has applied. Without JavaScript the ticks on one page still post.
(function () {
  "use strict";

  var form = document.getElementById("bulk-assign");

  function storageKey() {
    return "salesdesk:selection:" + form.dataset.selectionKey;
  }

  function load() {
    try {
      return new Set(JSON.parse(sessionStorage.getItem(storageKey()) || "[]"));
    } catch (error) {
      return new Set();
    }
  }

  function save(selected) {
    sessionStorage.setItem(storageKey(), JSON.stringify(Array.from(selected)));
  }

  function boxes() {
    return Array.prototype.slice.call(
      document.querySelectorAll('input[name="customer_ids"][form="bulk-assign"]')
    );
  }

  function showCount(selected) {
    var count = form.querySelector(".selected-count");
    if (count) count.textContent = form.dataset.countTemplate.replace("{n}", selected.size);
  }

  function syncPage(selected) {
    var all = boxes();
    all.forEach(function (box) { box.checked = selected.has(box.value); });
    var pageBox = document.querySelector(".select-page");
    if (pageBox) {
      pageBox.hidden = all.length === 0;
      pageBox.checked = all.length > 0 && all.every(function (box) { return box.checked; });
    }
    showCount(selected);
  }

  if (form) {
    var selected = load();
    syncPage(selected);

    document.addEventListener("change", function (event) {
      var target = event.target;
      if (target.matches('input[name="customer_ids"][form="bulk-assign"]')) {
        if (target.checked) selected.add(target.value); else selected.delete(target.value);
      } else if (target.matches(".select-page")) {
        boxes().forEach(function (box) {
          box.checked = target.checked;
          if (target.checked) selected.add(box.value); else selected.delete(box.value);
        });
      } else {
        return;
      }
      save(selected);
      syncPage(selected);
    });

    // Ticks from other pages go along as hidden fields; the stored set is cleared once
    // the form is sent (a refused form comes back with its own page).
    form.addEventListener("submit", function () {
      var onPage = new Set(boxes().map(function (box) { return box.value; }));
      selected.forEach(function (id) {
        if (onPage.has(id)) return;
        var hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = "customer_ids";
        hidden.value = id;
        form.append(hidden);
      });
      sessionStorage.removeItem(storageKey());
    });

    document.addEventListener("htmx:afterSwap", function () { syncPage(selected); });
  }

  // On a phone the filters open as a drawer: close it once a change has applied.
  document.addEventListener("htmx:afterRequest", function (event) {
    var drawer = document.querySelector(".filter-drawer[open]");
    if (drawer && event.detail.elt.closest && event.detail.elt.closest(".customer-filters") &&
        window.matchMedia("(max-width: 699px)").matches && event.detail.requestConfig &&
        event.detail.requestConfig.triggeringEvent && event.detail.requestConfig.triggeringEvent.type === "submit") {
      drawer.open = false;
    }
  });
})();
