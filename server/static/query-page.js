/* The query page: a textarea with a highlighted copy behind it, example loading, Ctrl+Enter. */
(function () {
  "use strict";
  var textarea = document.getElementById("query");
  var code = document.getElementById("highlight");
  var form = document.getElementById("query-form");
  if (!textarea || !code || !form) return;

  function render() {
    // a trailing newline keeps the last line visible while typing
    code.innerHTML = window.highlightSparql(textarea.value) + "\n";
    sync();
  }
  function sync() {
    code.parentNode.scrollTop = textarea.scrollTop;
    code.parentNode.scrollLeft = textarea.scrollLeft;
  }
  textarea.addEventListener("input", render);
  textarea.addEventListener("scroll", sync);
  textarea.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); submit(); }
    if (e.key === "Tab" && !e.shiftKey) {
      e.preventDefault();
      var s = textarea.selectionStart, t = textarea.selectionEnd;
      textarea.value = textarea.value.slice(0, s) + "  " + textarea.value.slice(t);
      textarea.selectionStart = textarea.selectionEnd = s + 2;
      render();
    }
  });

  function submit() {
    // long queries do not fit in a URL: send them form-encoded in the body instead
    form.method = textarea.value.length > 6000 ? "post" : "get";
    form.submit();
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    submit();
  });

  var examples = [];
  try { examples = JSON.parse(document.getElementById("examples-data").textContent) || []; } catch (err) { examples = []; }
  var prefixes = "";
  try { prefixes = JSON.parse(document.getElementById("prefixes-data").textContent) || ""; } catch (err) { prefixes = ""; }
  Array.prototype.forEach.call(document.querySelectorAll("button.example"), function (button) {
    button.addEventListener("click", function () {
      var q = examples[Number(button.getAttribute("data-index"))];
      if (!q) return;
      textarea.value = q.text;
      render();
      textarea.focus();
      window.scrollTo(0, 0);
    });
  });
  var reset = document.getElementById("reset-prefixes");
  if (reset) reset.addEventListener("click", function () { textarea.value = prefixes + "\nSELECT * WHERE {\n  ?s ?p ?o\n}\nLIMIT 10\n"; render(); });
  render();
})();
