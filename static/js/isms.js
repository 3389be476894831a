// Behaviour shared by every page, kept out of the HTML so the Content-Security-Policy can refuse inline script
// and inline style (isms/settings.py, CONTENT_SECURITY_POLICY).
(function () {
  "use strict";

  // Positions drawn from data (the coverage strip, the certification timeline): the server writes
  // data-left / data-width ("12.5%"); setting them here is allowed where a style="" attribute is not.
  function place(root) {
    root.querySelectorAll("[data-left], [data-width]").forEach(function (el) {
      if (el.dataset.left) el.style.left = el.dataset.left;
      if (el.dataset.width) el.style.width = el.dataset.width;
    });
  }

  // A field whose whole value is to be copied (a new API token): select it all on focus.
  function selectOnFocus(root) {
    root.querySelectorAll("[data-select-on-focus]").forEach(function (el) {
      el.addEventListener("focus", function () {
        el.select();
      });
    });
  }

  function enhance(root) {
    place(root);
    selectOnFocus(root);
  }

  // htmx requests carry Django's CSRF token in a header (static/js, not an attribute in the page: an hx-headers
  // attribute is not valid HTML and would copy the token into the markup). It is read from Django's CSRF cookie,
  // else from a form on the page.
  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : null;
  }
  document.addEventListener("htmx:configRequest", function (event) {
    var token = csrfToken();
    if (token) event.detail.headers["X-CSRFToken"] = token;
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      enhance(document);
    });
  } else {
    enhance(document);
  }
  // Content swapped in by htmx (a filtered list, a partial) gets the same treatment.
  document.addEventListener("htmx:load", function (event) {
    if (event.target && event.target.querySelectorAll) enhance(event.target);
  });
})();
