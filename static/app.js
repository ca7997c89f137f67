// Phones: the main navigation folds behind its Menu button (without scripts it stays open).
document.documentElement.classList.add("js");
document.addEventListener("click", function (event) {
  var toggle = event.target.closest && event.target.closest(".menu-toggle");
  if (!toggle) { return; }
  var nav = document.getElementById(toggle.getAttribute("aria-controls"));
  var open = nav.classList.toggle("open");
  toggle.setAttribute("aria-expanded", open ? "true" : "false");
});
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
// Evidence inputs: list the chosen files with their sizes, refuse oversize ones before sending,
// and show upload progress (the form is sent with XMLHttpRequest when files are chosen).
function formatSize(bytes) {
  if (bytes >= 1048576) { return (bytes / 1048576).toFixed(1) + " MB"; }
  return Math.max(1, Math.round(bytes / 1024)) + " KB";
}
document.addEventListener("change", function (event) {
  var input = event.target;
  if (!input.classList || !input.classList.contains("file-input")) { return; }
  var list = input.parentNode.querySelector(".chosen-files");
  list.textContent = "";
  Array.prototype.forEach.call(input.files, function (file) {
    var li = document.createElement("li");
    li.textContent = file.name + " (" + formatSize(file.size) + ")";
    if (file.size > Number(input.getAttribute("data-max-file"))) {
      li.className = "too-large";
      li.textContent = input.getAttribute("data-too-large") + " " + li.textContent;
    }
    list.appendChild(li);
  });
});
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (event.defaultPrevented || !form.classList.contains("upload-form")) { return; }
  var input = form.querySelector(".file-input");
  if (!input || !input.files.length || !window.FormData) { return; }
  var total = 0, tooLarge = false;
  Array.prototype.forEach.call(input.files, function (file) {
    total += file.size;
    if (file.size > Number(input.getAttribute("data-max-file"))) { tooLarge = true; }
  });
  if (tooLarge || total > Number(input.getAttribute("data-max-total"))) {
    event.preventDefault();
    window.alert(tooLarge ? input.getAttribute("data-too-large") : input.getAttribute("data-too-much"));
    return;
  }
  event.preventDefault();
  var bar = form.querySelector(".upload-progress");
  bar.hidden = false;
  var xhr = new XMLHttpRequest();
  xhr.open("POST", form.action);
  xhr.upload.addEventListener("progress", function (e) {
    if (e.lengthComputable) { bar.value = Math.round(100 * e.loaded / e.total); }
  });
  xhr.addEventListener("load", function () {
    // Show the page the server answered with (its messages were flashed into that very page;
    // loading the URL again would lose them), under the URL it came from.
    var url = xhr.responseURL || form.action;
    document.open(); document.write(xhr.responseText); document.close();
    if (window.history && url !== form.action) { window.history.replaceState(null, "", url); }
  });
  xhr.addEventListener("error", function () { bar.hidden = true; form.submit(); });
  xhr.send(new FormData(form));
});

// Long texts: how many characters of the limit are used; over the limit the count turns red (the
// form refuses it on sending and keeps the text).
function countChars(input) {
  var counter = document.querySelector('.counter[data-counts="' + input.id + '"]');
  if (!counter) { return; }
  var used = Array.from(input.value).length, limit = Number(input.getAttribute("data-max-chars"));
  counter.textContent = used + " / " + limit;
  counter.classList.toggle("over", used > limit);
}
document.addEventListener("input", function (event) {
  if (event.target.hasAttribute && event.target.hasAttribute("data-max-chars")) { countChars(event.target); }
});
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-max-chars]").forEach(countChars);
});
// The ledger's "tick every item on this page" box (shown only with scripts: without them the
// bulk form's "all on this page" choice does the same).
document.querySelectorAll("[data-select-all]").forEach(function (box) { box.hidden = false; });
document.addEventListener("change", function (event) {
  var box = event.target;
  if (!box.hasAttribute || !box.hasAttribute("data-select-all")) { return; }
  var selector = "input[type=checkbox][name=" + box.getAttribute("data-select-all") + "][form=" + box.getAttribute("form") + "]";
  document.querySelectorAll(selector).forEach(function (row) { row.checked = box.checked; });
});
