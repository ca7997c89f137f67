// Destructive actions ask before they post (forms carry data-confirm); no inline handlers (CSP).
document.addEventListener("submit", function (event) {
  var form = event.target;
  var message = form.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
// A form posts once: the submit button is disabled after the first submission.
document.addEventListener("submit", function (event) {
  if (event.defaultPrevented) { return; }
  var buttons = event.target.querySelectorAll("button[type=submit], input[type=submit]");
  setTimeout(function () { buttons.forEach(function (b) { b.disabled = true; }); }, 0);
});
