// The workbench's quick picks (明天 / 3天后 / 下周) fill the next follow-up date beside
// them. They stay hidden without JavaScript, where the date field works as usual.
(function () {
  "use strict";

  function showPicks(root) {
    root.querySelectorAll("[data-date-picks]").forEach(function (picks) { picks.hidden = false; });
  }

  document.addEventListener("DOMContentLoaded", function () { showPicks(document); });
  // The due panel is swapped by htmx after each follow-up.
  document.addEventListener("htmx:load", function (event) { showPicks(event.target); });

  document.addEventListener("click", function (event) {
    var pick = event.target.closest("[data-fill-date]");
    if (!pick) return;
    var input = document.getElementById(pick.getAttribute("aria-controls"));
    if (!input) return;
    input.value = pick.dataset.fillDate;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });
})();
