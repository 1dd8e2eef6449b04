"""Issue 8 item 5: hostile input, property-based (hypothesis) and schema-driven (schemathesis).

Over HTTP, against a dedicated server with a 3-second deadline (a random query may be a runaway; it
must end as a 503, not a hang): random SPARQL text to /sparql, random Turtle / JSON-LD / N-Triples /
RDF/XML to /validate, random query-string values to every named query, random paths under /id/ and
/queries/, and schemathesis over /openapi.json. In process: random CSV files through `wsiskg import`'s
reader and mapper, and random document text through the outcome-document parser.

The rules everywhere: never a 500, never a traceback or an internal path in a response, never a hang;
typed parameter errors are 400. WSISKG_FUZZ_EXAMPLES scales the number of examples (default 100).
"""
from __future__ import annotations

import json
import os
import re
import string
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import REPO, start_server, wsiskg
from httpclient import get, post, request
from timing import allowed

EXAMPLES = int(os.environ.get("WSISKG_FUZZ_EXAMPLES", "100"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.filter_too_much, HealthCheck.data_too_large])
ID = "https://w3id.org/wsis-kg/id/"
WSIS = "https://w3id.org/wsis-kg/ontology#"
LEAKS = ("Traceback", 'File "', "/work/", "site-packages", "/pytest-of-", "/root/", "/home/")


@pytest.fixture(scope="module")
def fuzzed(built_store):
    srv = start_server(["--store", built_store, "serve", "--timeout", "3", "--max-rows", "200"])
    srv.store = str(built_store)
    yield srv
    srv.stop()


def check(reply, sent: str = "", store: str | None = None) -> None:
    """Never a 500; a 503 only for the deadline or a busy pool; nothing internal in the body."""
    text = reply.body.decode("utf-8", "replace")
    assert reply.status < 500 or reply.status == 503, (reply.status, text[:400])
    if reply.status == 503:
        assert "limit" in text or "busy" in text, text[:300]
    for marker in LEAKS + ((store,) if store else ()):
        if marker not in sent:
            assert marker not in text, f"{marker!r} in a {reply.status} answer: {text[:400]}"


# -- SPARQL text ------------------------------------------------------------------------------------

SPARQL_TOKENS = [
    "SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "WHERE", "{", "}", "?s", "?p", "?o", "?x", "$y", ".", ";", ",",
    "*", "FILTER", "(", ")", "OPTIONAL", "UNION", "MINUS", "GRAPH", "SERVICE", "SILENT", "VALUES", "BIND", "AS",
    "LIMIT", "OFFSET", "ORDER BY", "GROUP BY", "HAVING", "COUNT", "DISTINCT", "REGEX", "STR", "LANG", "a",
    "<http://example.org/x>", "<https://w3id.org/wsis-kg/id/theme/ai>", "<>", "<http://127.0.0.1:1/sparql>",
    "<http://169.254.169.254/>", "<file:///etc/passwd>", '"lit"', "'x'@en", '"""long"""', "1", "1.5", "-0",
    "1e999", "true", "PREFIX", "BASE", "wsis:", "wsis:text", "skos:prefLabel", "_:b", "[", "]", "^^", "@en",
    "#c\n", "\n", "\x00", "\\", "INSERT DATA", "DELETE", "DROP ALL", "LOAD", "CLEAR", "ADD", "UNDEF",
    "EXISTS", "NOT", "IN", "CONCAT", "REPLACE", '"("', '"[a-"', "IRI", "BNODE()", "NOW()", "RAND()", "<<", ">>",
    "|", "/", "^", "+", "?", "!", "&&", "||", "=", "!=", "<", ">", "FROM", "NAMED", "SUM", "GROUP_CONCAT",
    "SEPARATOR", "STRDT", "LANGMATCHES", "YEAR", "ENCODE_FOR_URI", "sdgo:Goal", "ex:", "\u202e", "\ufeff",
]
SPARQL_PREFIXES = "PREFIX wsis: <https://w3id.org/wsis-kg/ontology#>\nPREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
VALID = [
    "SELECT ?s WHERE { ?s a wsis:ActionLine } LIMIT 3",
    "ASK { ?s skos:prefLabel \"Access to information and knowledge\"@en }",
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s a wsis:ActionLine ; ?p ?o } LIMIT 5",
    "SELECT (COUNT(*) AS ?n) WHERE { ?s wsis:text ?t FILTER(REGEX(?t, \"(^|\\\\W)AI(\\\\W|$)\")) }",
]


def mutate(text: str, edits: list[tuple[int, str, int]]) -> str:
    for position, insert, delete in edits:
        at = position % (len(text) + 1)
        text = text[:at] + insert + text[at + delete:]
    return text


# A small grammar: well-formed queries with random expressions, to reach the engine's evaluation
# (bad regular expressions, ill-typed literals, overflowing numbers, odd IRIs), not just its parser.
FUNCTIONS = {1: ["STR", "LANG", "LCASE", "UCASE", "STRLEN", "ENCODE_FOR_URI", "IRI", "URI", "BNODE", "ABS", "ROUND",
                 "CEIL", "FLOOR", "YEAR", "MONTH", "DAY", "HOURS", "TZ", "TIMEZONE", "MD5", "SHA1", "SHA256",
                 "SHA512", "isIRI", "isBlank", "isLiteral", "isNumeric", "DATATYPE", "BOUND", "xsd:integer",
                 "xsd:double", "xsd:dateTime", "xsd:boolean", "xsd:date", "xsd:decimal", "xsd:string"],
             2: ["REGEX", "CONTAINS", "STRSTARTS", "STRENDS", "STRBEFORE", "STRAFTER", "STRDT", "STRLANG",
                 "LANGMATCHES", "sameTerm", "SUBSTR", "CONCAT", "COALESCE"],
             3: ["REPLACE", "REGEX", "SUBSTR", "IF", "CONCAT", "TRIPLE"]}
LITERALS = ['"x"', '""', '"a"@en', '"A"@en-GB', "1", "-1", "0", "1.5", "1e308", "-1e308", "1e-400",
            "99999999999999999999999999", '"2024-13-99"^^xsd:date', '"abc"^^xsd:integer', '"NaN"^^xsd:double',
            '"INF"^^xsd:float', '"("', '"[a-"', '"*"', '"\\\\"', '"$1$2"', '"\\u0000"', '"(a+)+$"', "true",
            '"2025-07-09T10:00:00Z"^^xsd:dateTime', '"P1Y"^^xsd:duration', "<http://example.org/x>", "<a:b>",
            f"<{ID}theme/ai>", '"\u202e"', "UNDEF", "RAND()", "NOW()", "UUID()", "STRUUID()"]
expressions = st.recursive(
    st.one_of(st.sampled_from(LITERALS), st.sampled_from(["?s", "?t", "?o", "?x", "?nothing"])),
    lambda inner: st.one_of(
        st.tuples(st.sampled_from(FUNCTIONS[1]), inner).map(lambda a: f"{a[0]}({a[1]})"),
        st.tuples(st.sampled_from(FUNCTIONS[2]), inner, inner).map(lambda a: f"{a[0]}({a[1]}, {a[2]})"),
        st.tuples(st.sampled_from(FUNCTIONS[3]), inner, inner, inner).map(lambda a: f"{a[0]}({a[1]}, {a[2]}, {a[3]})"),
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "=", "!=", "<", ">=", "&&", "||"]), inner)
          .map(lambda a: f"({a[0]} {a[1]} {a[2]})"),
        st.tuples(inner, st.lists(inner, max_size=3)).map(lambda a: f"({a[0]} IN ({', '.join(a[1])}))"),
        inner.map(lambda e: f"(!{e})"),
    ),
    max_leaves=6)
grammar_query = st.builds(
    lambda form, anchor, filt, bind, agg, modifiers:
        "PREFIX wsis: <https://w3id.org/wsis-kg/ontology#>\nPREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n"
        + form.replace("{agg}", agg) + " WHERE { " + anchor + f" FILTER({filt}) BIND({bind} AS ?x) }} " + modifiers,
    st.sampled_from(["SELECT ?s ?x", "SELECT DISTINCT ?x", "SELECT ({agg} AS ?a)", "ASK",
                     "CONSTRUCT { ?s <http://example.org/p> ?x }", "SELECT * "]),
    st.sampled_from(["?s wsis:text ?t .", "VALUES ?s { <http://example.org/a> }", "?s a wsis:ActionLine ; ?p ?o .",
                     "OPTIONAL { ?s wsis:sourceLine ?o }", "{ ?s wsis:text ?t } UNION { ?s wsis:sourceLine ?o }"]),
    expressions, expressions,
    st.sampled_from(["COUNT(*)", "SUM(?x)", "AVG(?x)", "MIN(?x)", "MAX(?x)", "GROUP_CONCAT(?x; SEPARATOR=\"|\")",
                     "SAMPLE(?x)", "COUNT(DISTINCT ?x)"]),
    st.sampled_from(["", "LIMIT 5", "ORDER BY ?x LIMIT 3", "ORDER BY DESC(STR(?x)) OFFSET 2 LIMIT 2",
                     "GROUP BY ?x LIMIT 4", "LIMIT 0"]),
)

sparql_text = st.one_of(
    grammar_query, grammar_query,
    st.text(max_size=300),
    st.lists(st.one_of(st.sampled_from(SPARQL_TOKENS), st.text(max_size=6)), max_size=30).map(" ".join),
    st.lists(st.sampled_from(SPARQL_TOKENS), max_size=30).map(lambda t: SPARQL_PREFIXES + " ".join(t)),
    st.tuples(st.sampled_from(VALID), st.lists(st.tuples(st.integers(0, 400), st.sampled_from(SPARQL_TOKENS + ["", "}", "\""]),
                                                         st.integers(0, 3)), max_size=4))
      .map(lambda v: SPARQL_PREFIXES + mutate(v[0], v[1])),
)


@FUZZ
@given(text=sparql_text, how=st.sampled_from(["get", "form", "direct"]),
       accept=st.sampled_from(["application/json", "text/html", "text/csv", "application/sparql-results+xml",
                               "text/turtle", "*/*", "image/png", ""]))
def test_random_sparql_never_breaks_the_server(fuzzed, text, how, accept):
    headers = {"Accept": accept} if accept else {}
    if how == "get":
        reply = get(fuzzed.url + "/sparql", params={"query": text}, headers=headers, timeout=30)
    elif how == "form":
        reply = post(fuzzed.url + "/sparql", form={"query": text}, headers=headers, timeout=30)
    else:
        reply = post(fuzzed.url + "/sparql", data=text.encode("utf-8", "surrogatepass"),
                     headers={**headers, "Content-Type": "application/sparql-query"}, timeout=30)
    check(reply, text, fuzzed.store)


@FUZZ
@given(body=st.binary(max_size=300))
def test_random_bytes_as_a_query_body(fuzzed, body):
    reply = post(fuzzed.url + "/sparql", data=body, headers={"Content-Type": "application/sparql-query"}, timeout=30)
    check(reply, body.decode("utf-8", "replace"), fuzzed.store)


# -- RDF to /validate ----------------------------------------------------------------------------------

TURTLE_TOKENS = ["@prefix", "@base", "PREFIX", "wsis:", "ex:", "<https://w3id.org/wsis-kg/ontology#>", "<http://ex/>",
                 "<>", "<#a>", f"<{ID}statement/x/1>", f"<{ID}action-line/C3>", "wsis:KeyIssue", "wsis:text",
                 "wsis:sourceLine", "wsis:addressesActionLine", "a", ";", ",", ".", "[", "]", "(", ")", '"x"',
                 '"x"@en', '"1"^^<http://www.w3.org/2001/XMLSchema#positiveInteger>', '"""a\nb"""', "'y'", "0",
                 "-1", "1.0", "1e5", "true", "_:b", "^^", "@en-GB", "\\u0041", "#c\n", "\n", "\x00", "<<", ">>",
                 "{|", "|}", "~", "GRAPH", "{", "}"]
JSONLD_KEYS = ["@context", "@id", "@type", "@value", "@language", "@list", "@set", "@graph", "@base", "@vocab",
               "@reverse", "@index", "@nest", "@included", "@json", "@direction", "@import", "@protected", "name",
               "http://ex/p", "wsis:text", "wsis"]
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20),
              st.sampled_from([ID + "x", "http://ex/p", "http://127.0.0.1:1/context.jsonld", "_:b", "@id", "wsis:text",
                               "https://w3id.org/wsis-kg/ontology#", "file:///etc/passwd"])),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.one_of(st.sampled_from(JSONLD_KEYS), st.text(max_size=8)),
                                               children, max_size=5)),
    max_leaves=25)


@FUZZ
@given(data=st.one_of(
    st.text(max_size=300).map(lambda t: ("text/turtle", t)),
    st.lists(st.sampled_from(TURTLE_TOKENS), max_size=40).map(lambda t: ("text/turtle", " ".join(t))),
    st.lists(st.sampled_from(TURTLE_TOKENS), max_size=40).map(lambda t: ("application/n-triples", " ".join(t))),
    json_values.map(lambda v: ("application/ld+json", json.dumps(v))),
    st.text(max_size=200).map(lambda t: ("application/rdf+xml", f'<?xml version="1.0"?><rdf:RDF '
                                          f'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">{t}</rdf:RDF>')),
), accept=st.sampled_from(["application/json", "text/html", "text/turtle"]))
def test_random_rdf_to_validate(fuzzed, data, accept):
    content_type, body = data
    reply = post(fuzzed.url + "/validate", data=body.encode("utf-8", "surrogatepass"),
                 headers={"Content-Type": content_type, "Accept": accept}, timeout=30)
    check(reply, body, fuzzed.store)
    assert reply.status in (200, 400, 503), (reply.status, reply.text[:300])


def test_xml_entities_are_not_expanded_or_fetched(fuzzed):
    """RDF/XML with an external entity (XXE) and with nested entities (a "billion laughs")."""
    xxe = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
           '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:s="http://www.w3.org/2004/02/skos/core#">'
           f'<rdf:Description rdf:about="{ID}x"><s:prefLabel>&e;</s:prefLabel></rdf:Description></rdf:RDF>')
    laughs = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8)) + ']>' \
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:s="http://www.w3.org/2004/02/skos/core#">' \
        f'<rdf:Description rdf:about="{ID}x"><s:prefLabel>&i;</s:prefLabel></rdf:Description></rdf:RDF>'
    import time
    for body in (xxe, laughs):
        started = time.monotonic()
        reply = post(fuzzed.url + "/validate", data=body, headers={"Content-Type": "application/rdf+xml",
                                                                   "Accept": "application/json"}, timeout=30)
        check(reply, body)
        # refused at once, not expanded until the deadline stops the worker
        assert reply.status == 400, reply.text[:300]
        assert "entit" in reply.text.lower()
        assert time.monotonic() - started < allowed(2)
        assert "root:x:0:0" not in reply.text and len(reply.body) < 100_000


# -- named-query parameters --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def named_queries(fuzzed):
    reply = get(fuzzed.url + "/queries", headers={"Accept": "application/json"})
    assert reply.status == 200
    return reply.json()["queries"]


hostile_text = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.sampled_from(['") } ; DROP ALL ; #', "> ; DROP ALL", "id:theme/ai", f"{ID}action-line/C3", "sdg:4", "1", "-1",
                     "1.5", "true", "2025-07-09", "", " ", "%", "%00", "\x00", "\ufffd", "a" * 2001, "<script>",
                     "http://169.254.169.254/", "javascript:alert(1)", "id:../../etc/passwd"]),
)
LEXICAL = {"integer": re.compile(r"\s*[+-]?[0-9]+\s*", re.ASCII),
           "decimal": re.compile(r"\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*", re.ASCII)}


@FUZZ
@given(data=st.data())
def test_random_values_for_every_named_query_parameter(fuzzed, named_queries, data):
    q = data.draw(st.sampled_from([q for q in named_queries if q["parameters"]] or named_queries))
    values = {}
    for p in q["parameters"]:
        if data.draw(st.booleans()):
            values[p["name"]] = data.draw(hostile_text)
    extra = data.draw(st.one_of(st.none(), st.text(alphabet=string.ascii_letters, min_size=1, max_size=8)))
    if extra and extra not in {p["name"] for p in q["parameters"]} | {"format", "output"}:
        values[extra] = "x"
    fmt = data.draw(st.sampled_from([None, "json", "csv", "xml", "tsv", "html", "turtle", "nonsense"]))
    params = {**values, **({"format": fmt} if fmt else {})}
    reply = get(f"{fuzzed.url}/queries/{q['name']}", params=params, timeout=30)
    sent = " ".join(params.values())
    check(reply, sent, fuzzed.store)
    assert reply.status in (200, 400, 406, 503), (q["name"], params, reply.status, reply.text[:300])
    graph_form = q["form"] in ("CONSTRUCT", "DESCRIBE")
    if fmt not in ({None, "turtle", "html"} if graph_form else {None, "json", "csv", "xml", "tsv", "html"}):
        return  # a format the query cannot give: 406 / 400 before the parameters are read
    if extra in values:
        assert reply.status == 400 and extra in reply.text
    for p in q["parameters"]:
        value = values.get(p["name"])
        if value is None or value == "":
            continue
        ill_typed = (p["type"] in LEXICAL and not LEXICAL[p["type"]].fullmatch(value)) or len(value) > 2000 or (
            p["type"] == "iri" and re.search(r"[\s<>\"{}|\\^`]", value.strip()))
        if ill_typed:
            assert reply.status == 400, (q["name"], p["name"], value, reply.status)


# -- paths -----------------------------------------------------------------------------------------

path_segments = st.lists(st.one_of(st.text(max_size=12), st.sampled_from(
    ["..", ".", "%2e%2e", "%2f", "%5c", "..%2f", "%00", "etc", "passwd", "queries", "search.rq", "search",
     "conftest.py", "~", "%252e%252e%252f", "\\..\\", "//", "?x=1", "#frag"])), min_size=1, max_size=6)


@FUZZ
@given(prefix=st.sampled_from(["/id/", "/queries/", "/reports/duplication/", "/static/", "/"]),
       segments=path_segments, accept=st.sampled_from(["text/html", "application/json", "text/turtle", "*/*"]))
def test_random_paths(fuzzed, prefix, segments, accept):
    path = prefix + "/".join(urllib.parse.quote(s, safe="%/.~?#=") for s in segments)
    reply = request("GET", fuzzed.url + path, headers={"Accept": accept}, timeout=30)
    check(reply, path, fuzzed.store)
    assert reply.status in (200, 303, 400, 404, 405, 406), (path, reply.status, reply.text[:200])
    assert "root:x:0:0" not in reply.text
    if prefix == "/queries/" and reply.status == 200:
        name = urllib.parse.unquote(path[len("/queries/"):].split("?")[0].split("#")[0])
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", name), f"{path} was served"


# -- schemathesis over the OpenAPI description -----------------------------------------------------------

def test_schemathesis_over_the_openapi_description(fuzzed):
    import schemathesis
    from hypothesis import given as hgiven
    from schemathesis.checks import not_a_server_error

    schema = schemathesis.openapi.from_url(fuzzed.url + "/openapi.json")
    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(max_examples=max(3, EXAMPLES // 6), deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @hgiven(case=operation.as_strategy())
        def run(case):
            response = case.call(base_url=fuzzed.url, timeout=30)
            body = response.content.decode("utf-8", "replace")
            for marker in ("Traceback", 'File "', "site-packages", fuzzed.store):
                assert marker not in body, (case.path, marker)
            case.validate_response(response, checks=[not_a_server_error])

        try:
            run()
        except Exception as exc:  # collect, so one run covers every operation
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:500]}")
    assert operations >= 20, f"only {operations} operations in /openapi.json"
    assert not failures, "\n".join(failures)


# -- CSV imports (in process, and once through the command line) ----------------------------------------

HEADER = ["Project ID", "Title", "Organisation", "Country", "Action Lines", "SDGs", "Year", "Website"]
cell = st.one_of(st.text(max_size=20), st.sampled_from(
    ["C3", "C7-e-health", "C99", "4.4", "4.4.1", "9.c", "2024", "1999", "twenty", "https://example.org/x",
     "javascript:alert(1)", "ST-1", "ST-1", "=cmd|' /C calc'!A0", "\x00", "a,b", '"q"', "a\nb", " ", ";", "%2F..%2F"]))


@pytest.fixture(scope="module")
def import_context(built_store):
    from wsiskg.graph.store import EmbeddedStore
    from wsiskg.graph.import_csv import load_table_mapping
    store = EmbeddedStore.open(built_store, read_only=True).to_memory()
    return store, load_table_mapping(REPO / "graph" / "mappings" / "stocktaking.yaml")


@FUZZ
@given(header=st.one_of(st.just(HEADER), st.lists(st.one_of(st.sampled_from(HEADER), st.text(max_size=10)), max_size=9)),
       rows=st.lists(st.lists(cell, max_size=10), max_size=6), raw=st.one_of(st.none(), st.binary(max_size=200)),
       skip=st.booleans())
def test_random_csv_rows_through_import(import_context, tmp_path_factory, header, rows, raw, skip):
    import csv
    import io

    from wsiskg.graph.mapping import MappingError
    from wsiskg.graph.import_csv import ImportFailed, ImportResult, run_import
    store, mapping = import_context
    path = tmp_path_factory.mktemp("csv") / "projects.csv"
    if raw is not None:
        path.write_bytes(raw)
    else:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
        path.write_text(out.getvalue(), encoding="utf-8", errors="surrogatepass")
    try:
        result = run_import(path, mapping, store, None, skip_bad_rows=skip, write=False)
    except (ImportFailed, MappingError) as exc:
        assert str(exc)
        return
    assert isinstance(result, ImportResult) and result.loaded >= 1


def test_hostile_csv_files_through_the_command_line(fresh_store, tmp_path):
    mapping = REPO / "graph" / "mappings" / "stocktaking.yaml"
    files = {
        "nul.csv": b"Project ID,Title,Action Lines\x00\nST-1,\x00x,C3\n",
        "latin1.csv": "Project ID,Title,Action Lines\nST-1,Caf\xe9,C3\n".encode("latin-1"),
        "quotes.csv": b'Project ID,Title,Action Lines\nST-1,"never closed,C3\n',
        "wide.csv": b"Project ID,Title,Action Lines\n" + b"ST-1," + b"x" * 200_000 + b",C3\n",
        "empty.csv": b"",
        "formula.csv": b"Project ID,Title,Action Lines\n=1+1,@SUM(A1),C3;C99;<script>\n",
    }
    for name, data in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        result = wsiskg("import", path, "--mapping", mapping, store=fresh_store, timeout=120)
        assert result.returncode in (0, 1), (name, result.returncode, result.stderr[-500:])
        assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, (name, result.stderr[-2000:])


# -- outcome-document text -----------------------------------------------------------------------------

DOC_LINES = ["Session Outcome Document", "Session Title: A session", "Session Title:", "Key Issues Discussed",
             "Tangible Outcomes of the Session", "Key achievements", "Agreements / commitments", "Recommendations",
             "Actionable Plans", "Wednesday, 9 July 2025 — 10:00–11:30 (Room K)", "31 February 2025 25:99",
             "<https://www.itu.int/net4/wsis/forum/2025/Agenda/Session/9999>", "<http://[zz/>", "- a bullet",
             "• a bullet", "1. numbered", "a) lettered", "-", "•", "", " ", "\t", "ALL CAPS HEADING", "Report of the",
             "Introduction", "I. Introduction", "Summary", "Participants recommended that", "\f", "\r", "\x00",
             "Mr. Dr. e.g. i.e. etc.", "?!.", "\u2028", "\ufeff"]
document_text = st.one_of(
    st.text(max_size=500),
    st.lists(st.one_of(st.sampled_from(DOC_LINES), st.text(max_size=40)), max_size=40).map("\n".join),
    st.lists(st.one_of(st.sampled_from(DOC_LINES), st.text(max_size=40)), max_size=40).map("\r\n".join),
)


@settings(max_examples=EXAMPLES * 4, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(text=st.one_of(document_text, st.binary(max_size=300)), filename=st.sampled_from(["", "x.txt", "report.txt"]))
def test_random_document_text_parses_or_says_why(text, filename):
    from wsiskg.graph.parse import ParsedDocument, ParseError, parse_document
    try:
        parsed = parse_document(text, filename)
    except ParseError as exc:
        assert str(exc)
        return
    assert isinstance(parsed, ParsedDocument)
