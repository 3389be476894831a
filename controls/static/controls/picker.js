// A search box over a long multi-select (the requirement picker on the control form): type part of a number
// or a title to narrow the list; chosen options stay visible and chosen. Loaded as a file, so it runs under the
// Content-Security-Policy without inline script. Without script the plain multi-select still works.
(function () {
  "use strict";
  document.querySelectorAll("select[multiple][data-picker]").forEach(function (select) {
    var search = document.createElement("input");
    search.type = "search";
    search.className = "form-control form-control-sm mb-1";
    search.placeholder = select.dataset.picker;
    search.setAttribute("aria-label", select.dataset.picker);
    search.setAttribute("aria-controls", select.id);
    var status = document.createElement("div");
    status.className = "form-text";
    status.setAttribute("aria-live", "polite");

    function update() {
      var words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      Array.prototype.forEach.call(select.options, function (option) {
        var text = option.text.toLowerCase();
        var match = option.selected || words.every(function (w) { return text.indexOf(w) !== -1; });
        option.hidden = !match;
        if (match) shown += 1;
      });
      var chosen = select.selectedOptions.length;
      var matches = shown - chosen;
      status.textContent =
        chosen + " chosen" +
        (words.length ? (matches > 0 ? " · " + matches + " more match" : " · nothing else matches “" + search.value.trim() + "”") : "") +
        ". Click a line to add or remove it.";
    }

    // A click adds or removes one line and keeps the others: a plain click on a multi-select would otherwise
    // replace every earlier choice with the one clicked, silently.
    select.addEventListener("mousedown", function (event) {
      var option = event.target;
      if (option.tagName !== "OPTION" || event.shiftKey) return;
      event.preventDefault();
      option.selected = !option.selected;
      select.focus();
      select.dispatchEvent(new Event("change", { bubbles: true }));
    });

    search.addEventListener("input", update);
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") event.preventDefault(); // searching never sends the form
    });
    select.addEventListener("change", update);
    select.parentNode.insertBefore(search, select);
    select.parentNode.insertBefore(status, select.nextSibling);
    update();
  });
})();
