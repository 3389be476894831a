// The emailed task link: the token travels after the # so it never reaches server or proxy logs;
// this posts it in the form body and takes it out of the address bar and the history.
(function () {
  "use strict";
  var token = window.location.hash.slice(1);
  history.replaceState(null, "", window.location.pathname);
  if (!token) {
    document.getElementById("opening").classList.add("d-none");
    document.getElementById("no-token").classList.remove("d-none");
    return;
  }
  document.getElementById("token").value = token;
  document.getElementById("task-link-form").submit();
})();
