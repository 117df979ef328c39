// The new-request form: choosing a type fills the details with its questions, unless
// the requester already wrote something of their own. Without JavaScript the type
// links above the title do the same through the server.
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var data = document.getElementById("type-templates");
    var type = document.getElementById("type_id");
    var details = document.getElementById("details");
    if (!data || !type || !details) return;
    var templates = {};
    JSON.parse(data.textContent).forEach(function (kind) { templates[kind.id] = kind.text; });
    var untouched = function () {
      var text = details.value.trim();
      return !text || Object.keys(templates).some(function (id) { return templates[id].trim() === text; });
    };
    var fill = function () {
      if (untouched() && templates[type.value] !== undefined) details.value = templates[type.value];
    };
    type.addEventListener("change", fill);
    // A type chosen before this ran (a quick hand on a slow line, or the browser
    // restoring the form) fills the details too.
    fill();
  });
})();
