// jobctl's pages work without this file; it adds what needs a script:
// opening the confirm dialogs as modals, "select this page", and keeping
// ticked rows ticked when the live stream swaps a row. It is a static file
// because the pages' CSP allows no inline script.
(function () {
  "use strict";

  // Ticked job IDs, so a row the stream re-renders stays ticked.
  var ticked = new Set();

  function restoreTicks(root) {
    root.querySelectorAll('input[name="ids"]').forEach(function (box) {
      box.checked = ticked.has(box.value);
    });
  }

  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.name === "ids") {
      if (t.checked) { ticked.add(t.value); } else { ticked.delete(t.value); }
      if (t.checked) { var all = document.getElementById("select-all"); if (all) { all.checked = false; } }
    }
    if (t.id === "select-page") {
      document.querySelectorAll('input[name="ids"]').forEach(function (box) {
        box.checked = t.checked;
        if (t.checked) { ticked.add(box.value); } else { ticked.delete(box.value); }
      });
    }
    if (t.id === "select-all" && t.checked) {
      // "Select all matching" acts by filter: single ticks would narrow it.
      document.querySelectorAll('input[name="ids"]').forEach(function (box) { box.checked = false; });
      ticked.clear();
      var page = document.getElementById("select-page");
      if (page) { page.checked = false; }
    }
  });

  // A dialog htmx swapped in (the bulk confirm) opens as a modal.
  document.addEventListener("htmx:afterSwap", function (e) {
    var target = e.detail && (e.detail.target || e.detail.elt);
    if (!target || !target.querySelector) { return; }
    var d = target.querySelector("dialog");
    if (d && !d.open) { d.showModal(); var ok = d.querySelector(".primary") || d.querySelector("button"); if (ok) { ok.focus(); } }
  });
  function restoreFrom(e) {
    var el = e.detail && (e.detail.elt || e.detail.target);
    restoreTicks(el && el.querySelectorAll ? el : document);
  }
  document.addEventListener("htmx:sseMessage", restoreFrom);
  document.addEventListener("htmx:afterSettle", restoreFrom);

  // Forms with data-confirm (the details page's buttons) ask first, in
  // the layout's <dialog>.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var msg = form.getAttribute && form.getAttribute("data-confirm");
    if (!msg || form.dataset.confirmed === "1") { return; }
    var d = document.getElementById("confirm-generic");
    if (!d || typeof d.showModal !== "function") { return; }
    e.preventDefault();
    document.getElementById("confirm-generic-text").textContent = msg;
    d.returnValue = "";
    d.addEventListener("close", function once() {
      d.removeEventListener("close", once);
      if (d.returnValue === "ok") {
        form.dataset.confirmed = "1";
        form.requestSubmit ? form.requestSubmit() : form.submit();
      }
    });
    d.showModal();
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".js-only[hidden]").forEach(function (el) { el.hidden = false; });
  });
})();
