/* Highlights every <pre class="sparql"> block on the page. */
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("pre.sparql code"), function (code) {
    code.innerHTML = window.highlightSparql(code.textContent);
  });
})();
