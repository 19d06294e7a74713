/* "Back" links (a[data-back]) go back in the browser's history when there is one; without
   JavaScript they lead where their href says. A file, not inline, for the Content-Security-Policy. */
(function () {
  "use strict";
  document.querySelectorAll("a[data-back]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (window.history.length > 1) {
        event.preventDefault();
        window.history.back();
      }
    });
  });
})();
