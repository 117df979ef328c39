// The knowledge-base editor: paste an image, or choose one, and its Markdown goes into
// the text where the cursor is. Without this script the editor still works: 预览
// posts the form back, and an image is uploaded in its own tab (kb/_editor.html).
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function setUp(editor) {
    var textarea = editor.querySelector("textarea");
    var picker = editor.querySelector('input[type="file"]');
    var status = editor.querySelector(".kb-editor-status");
    var uploadForm = document.getElementById(picker ? picker.getAttribute("form") : "");
    if (!textarea || !picker || !uploadForm) return;
    editor.classList.add("kb-editor-js");

    function say(message, isError) {
      status.textContent = message || "";
      status.classList.toggle("error", !!isError);
    }

    // The Markdown at the cursor, on a line of its own; htmx then refreshes the preview.
    function insert(markdown) {
      var start = textarea.selectionStart, end = textarea.selectionEnd;
      var before = textarea.value.slice(0, start), after = textarea.value.slice(end);
      var text = (before && !/\n$/.test(before) ? "\n" : "") + markdown + (/^\n/.test(after) ? "" : "\n");
      textarea.value = before + text + after;
      textarea.selectionStart = textarea.selectionEnd = start + text.length;
      textarea.focus();
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    }

    function upload(file) {
      if (file.size > Number(editor.dataset.maxBytes)) {
        say(editor.dataset.tooLarge, true);
        return Promise.resolve();
      }
      say(editor.dataset.uploading);
      var data = new FormData();
      data.append("image", file, file.name || "image");
      return fetch(uploadForm.action, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() }
      }).then(function (response) {
        if (response.redirected) {  // to the login page: the session ended
          say(editor.dataset.loggedOut, true);
          return;
        }
        return response.json().catch(function () { return {}; }).then(function (answer) {
          if (!response.ok || !answer.markdown) {
            // 400/401 without a message of ours: the session (and its CSRF token) ended.
            var loggedOut = response.status === 400 || response.status === 401;
            say(answer.error || (loggedOut ? editor.dataset.loggedOut : editor.dataset.failed), true);
            return;
          }
          insert(answer.markdown);
          say(editor.dataset.uploaded);
        });
      }).catch(function () { say(editor.dataset.failed, true); });
    }

    function uploadAll(files) {
      return files.reduce(function (done, file) {
        return done.then(function () { return upload(file); });
      }, Promise.resolve());
    }

    function imagesIn(list) {
      return Array.prototype.filter.call(list || [], function (file) {
        return /^image\//.test(file.type);
      });
    }

    // A preview asked after the session ended: htmx would follow the answer to the
    // login page, and the text typed here would be lost. Say so instead.
    editor.addEventListener("htmx:beforeOnLoad", function (event) {
      if (event.detail.xhr && event.detail.xhr.status === 401) {
        event.preventDefault();
        say(editor.dataset.loggedOut, true);
      }
    });

    textarea.addEventListener("paste", function (event) {
      var files = imagesIn(event.clipboardData && event.clipboardData.files);
      if (!files.length) return;  // plain text pastes as usual
      event.preventDefault();
      uploadAll(files);
    });

    textarea.addEventListener("drop", function (event) {
      var files = imagesIn(event.dataTransfer && event.dataTransfer.files);
      if (!files.length) return;
      event.preventDefault();
      uploadAll(files);
    });

    picker.addEventListener("change", function () {
      var files = Array.prototype.slice.call(picker.files || []);
      uploadAll(files).then(function () { picker.value = ""; });
    });
  }

  function start() {
    document.querySelectorAll("[data-kb-editor]").forEach(setUp);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
