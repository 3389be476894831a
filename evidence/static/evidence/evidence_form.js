// Show only the field the chosen kind of evidence needs; without script every field stays visible.
(function () {
  "use strict";
  var fields = { file: "div_id_file", link: "div_id_url", note: "div_id_note" };
  function show() {
    var chosen = document.querySelector('input[name="type"]:checked');
    Object.keys(fields).forEach(function (kind) {
      var el = document.getElementById(fields[kind]);
      if (el && chosen) el.hidden = kind !== chosen.value;
    });
  }
  document.querySelectorAll('input[name="type"]').forEach(function (radio) {
    radio.addEventListener("change", show);
  });
  show();
})();
