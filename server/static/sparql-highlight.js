/* A small SPARQL syntax highlighter (no dependencies; written for this project, Apache-2.0).
   highlightSparql(text) returns HTML with <span class="tok-KIND"> around tokens; every character
   of the input is escaped, so the result is safe to assign to innerHTML. */
(function (global) {
  "use strict";
  var KEYWORDS = ("BASE PREFIX SELECT DISTINCT REDUCED AS CONSTRUCT DESCRIBE ASK FROM NAMED WHERE ORDER BY ASC DESC " +
    "LIMIT OFFSET VALUES OPTIONAL GRAPH UNION MINUS SERVICE SILENT FILTER BIND UNDEF NOT EXISTS IN GROUP HAVING " +
    "INSERT DELETE DATA WITH USING DEFAULT ALL LOAD CLEAR CREATE DROP COPY MOVE ADD INTO TO LATERAL").split(" ");
  var FUNCTIONS = ("STR LANG LANGMATCHES DATATYPE BOUND IRI URI BNODE RAND ABS CEIL FLOOR ROUND CONCAT STRLEN UCASE " +
    "LCASE ENCODE_FOR_URI CONTAINS STRSTARTS STRENDS STRBEFORE STRAFTER YEAR MONTH DAY HOURS MINUTES SECONDS " +
    "TIMEZONE TZ NOW UUID STRUUID MD5 SHA1 SHA256 SHA384 SHA512 COALESCE IF STRLANG STRDT SAMETERM ISIRI ISURI " +
    "ISBLANK ISLITERAL ISNUMERIC REGEX SUBSTR REPLACE COUNT SUM MIN MAX AVG SAMPLE GROUP_CONCAT SEPARATOR").split(" ");
  var KW = {}, FN = {};
  KEYWORDS.forEach(function (k) { KW[k] = true; });
  FUNCTIONS.forEach(function (k) { FN[k] = true; });
  var TOKEN = new RegExp([
    "(#[^\\n]*)",                                            // 1 comment
    "(<[^<>\"{}|^`\\\\\\s]*>)",                              // 2 IRI
    "(\"\"\"[\\s\\S]*?(?:\"\"\"|$)|'''[\\s\\S]*?(?:'''|$)|\"(?:[^\"\\\\\\n]|\\\\.)*\"?|'(?:[^'\\\\\\n]|\\\\.)*'?)", // 3 string
    "([?$][A-Za-z0-9_\\u00B7\\u00C0-\\uFFFF]+)",             // 4 variable
    "((?:[A-Za-z\\u00C0-\\uFFFF][\\w.\\-]*)?:[\\w\\-.:%]*[\\w\\-:%]|(?:[A-Za-z\\u00C0-\\uFFFF][\\w.\\-]*)?:)", // 5 prefixed name
    "(@[A-Za-z]+(?:-[A-Za-z0-9]+)*)",                        // 6 language tag
    "([+-]?(?:\\d+\\.?\\d*(?:[eE][+-]?\\d+)?|\\.\\d+(?:[eE][+-]?\\d+)?))", // 7 number
    "([A-Za-z_][A-Za-z0-9_]*)",                              // 8 word
    "(\\s+)",                                                // 9 space
    "([\\s\\S])"                                             // 10 anything else
  ].join("|"), "g");

  function escapeHtml(s) {
    return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  function span(kind, text) {
    return '<span class="tok-' + kind + '">' + escapeHtml(text) + "</span>";
  }

  function highlightSparql(text) {
    var out = [], m;
    TOKEN.lastIndex = 0;
    while ((m = TOKEN.exec(text)) !== null) {
      if (m[0] === "") { TOKEN.lastIndex++; continue; }
      if (m[1] !== undefined) out.push(span("comment", m[1]));
      else if (m[2] !== undefined) out.push(span("iri", m[2]));
      else if (m[3] !== undefined) out.push(span("string", m[3]));
      else if (m[4] !== undefined) out.push(span("var", m[4]));
      else if (m[5] !== undefined) out.push(span("pname", m[5]));
      else if (m[6] !== undefined) out.push(span("lang", m[6]));
      else if (m[7] !== undefined) out.push(span("number", m[7]));
      else if (m[8] !== undefined) {
        var upper = m[8].toUpperCase();
        if (KW[upper] || m[8] === "a") out.push(span("keyword", m[8]));
        else if (FN[upper]) out.push(span("function", m[8]));
        else if (upper === "TRUE" || upper === "FALSE") out.push(span("number", m[8]));
        else out.push(escapeHtml(m[8]));
      }
      else out.push(escapeHtml(m[0]));
    }
    return out.join("");
  }

  global.highlightSparql = highlightSparql;
})(window);
