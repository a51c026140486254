/* The widget builder: keeps the snippets, the preview and the URL in step with the form, and copies
   a snippet on request. Without JavaScript the form is submitted and the server renders the same. */
(function () {
  "use strict";
  var form = document.getElementById("builder-form");
  if (!form) return;
  var base = form.getAttribute("data-base");
  var title = form.getAttribute("data-iframe-title");
  var preview = document.getElementById("preview");
  var ORDER = ["venue", "category", "district", "q", "free", "available", "highlight", "sort", "limit", "lang"];

  function escapeAttribute(value) {
    return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#x27;");
  }

  function chosen() {
    var found = [];
    ORDER.forEach(function (name) {
      var input = form.querySelector('[data-attribute="' + name + '"]');
      if (!input) return;
      var value = input.type === "checkbox" ? (input.checked ? input.value : "") : input.value.trim().slice(0, 120);
      if (name === "limit" && !(/^\d+$/.test(value) && +value >= 1 && +value <= 50)) value = "";
      if (value) found.push([name, value]);
    });
    return found;
  }

  function update() {
    var attributes = chosen();
    var element = attributes.map(function (a) { return " " + a[0] + '="' + escapeAttribute(a[1]) + '"'; }).join("");
    document.getElementById("snippet").textContent = '<script src="' + base + '/embed/widget.js" defer></script>\n' +
      "<stadtkalender-events" + element + "></stadtkalender-events>";
    var query = new URLSearchParams(attributes).toString();
    var src = base + "/embed" + (query ? "?" + query : "");
    document.getElementById("iframe-snippet").textContent = '<iframe src="' + escapeAttribute(src) + '" title="' +
      escapeAttribute(title) + '" width="100%" height="480" style="border:0" loading="lazy"></iframe>';
    if (preview) {
      ORDER.forEach(function (name) { preview.removeAttribute(name); });
      attributes.forEach(function (a) { preview.setAttribute(a[0], a[1]); });
    }
    var state = new URLSearchParams(new FormData(form)).toString();
    history.replaceState(null, "", location.pathname + (state ? "?" + state : ""));
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  form.addEventListener("submit", function (event) { event.preventDefault(); update(); });

  var status = document.querySelector(".copy-status");
  Array.prototype.forEach.call(document.querySelectorAll("button.copy"), function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var code = document.getElementById(button.getAttribute("data-copy"));
      var done = function () { status.textContent = status.getAttribute("data-copied"); };
      var select = function () {
        var range = document.createRange();
        range.selectNodeContents(code);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(code.textContent).then(done, select);
      } else {
        select();
      }
    });
  });
  update();
})();
