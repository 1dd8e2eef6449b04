"""`search`, `statement-provenance` and `uptake` through the page index give the page each query
gives alone (issue 17).

A server worker finds the page's statements beside its copy of the store (graph/pageindex.py) and
hands the engine those statements only. The answer must be the query's own: the same rows in the
same order, for any parameters and any page, and after a write (the index is per version of the data).
"""
from __future__ import annotations

import json
import random

import pyoxigraph as ox
import pytest

from wsiskg.graph import library, pageindex
from wsiskg.graph import namespaces as ns
from wsiskg.graph.store import EmbeddedStore
from wsiskg.server.app import create_app
from wsiskg.server.backend import Backend
from wsiskg.server.config import ServerConfig

SEARCH = library.get("search")
PROVENANCE = library.get("statement-provenance")
UPTAKE = library.get("uptake")
TOKEN = "page-index-token-0123456789abcdef"
PAGES = [(100, 0), (7, 3), (25, 40), (0, 5)]
WORDS = ["digital divide", "youth participation", "AI ethics", "ai", "govern", "e-government", "data data",
         "a b", "!!!", "", "zzzqqq", "C7 e-health", "one two three four five six seven eight nine digital",
         "gender", "Ã©", "égalité", "the of and", "2025", "sdg 16"]
PIECES_AFTER = ["ΟΔΟΣ", "égalité NUM", "İstanbul", "health²", "youth"]
PIECES = ["youth", "e\x00", "Youth scorecards", " ", "digital divide", "É", "zzzqqq", "C7", "e-", "(", "the "]


@pytest.fixture(scope="module")
def seed(built_store):
    with EmbeddedStore.open(built_store, read_only=True) as disk:
        store = disk.to_memory()
    kept = pageindex.Kept()
    yield store, lambda kind: kept.get(store, "seed", kind)


def corpus_words(store, count: int, seed: int) -> list[str]:
    """Words of the statements' own texts, and their first letters: searches that find something."""
    texts = [row[0].value for row in store.query(f"SELECT ?t WHERE {{ ?s <{ns.WSIS}text> ?t }}").rows]
    rng = random.Random(seed)
    words = sorted({w for text in texts for w in pageindex.words_of(text)})
    picked = rng.sample(words, count)
    return picked + [w[:rng.randint(2, 4)] for w in picked[:count // 2]] + \
        [" ".join(rng.sample(words, 3)) for _ in range(count // 4)]


def both(store, index, query, **params):
    """The query's rows alone, its rows with the page found in the index, and the text it ran."""
    bindings = query.bind({k: str(v) for k, v in params.items()})
    filled = pageindex.fill(query.text, bindings, store, index)
    return store.query(query.text, bindings=bindings).rows, store.query(filled, bindings=bindings).rows, filled


def agreeing_pages(store, index, query, cases, pages=PAGES, canonical=list) -> int:
    """Each case on each page: the answer with the index is the query's alone. How many had rows."""
    found = 0
    for case in cases:
        for limit, offset in pages:
            alone, indexed, filled = both(store, index, query, limit=limit, offset=offset, **case)
            assert filled != query.text, "the index was not used"
            assert canonical(indexed) == canonical(alone), (case, limit, offset)
            found += bool(alone)
    return found


def test_the_index_gives_the_page_the_query_gives_alone(seed):
    store, index = seed
    cases = [{"words": words} for words in WORDS + corpus_words(store, 20, seed=17)]
    assert agreeing_pages(store, index, SEARCH, cases) > 100, "too few searches found anything to compare"


def corpus_pieces(store, count: int, seed: int) -> list[str]:
    """Pieces of the statements' own texts (across words, punctuation and case), and their upper case."""
    texts = sorted(row[0].value for row in store.query(f"SELECT ?t WHERE {{ ?s <{ns.WSIS}text> ?t }}").rows)
    rng = random.Random(seed)
    pieces = []
    for text in rng.sample(texts, count):
        start = rng.randrange(len(text))
        pieces.append(text[start:start + rng.randint(2, 14)])
    return pieces + [p.upper() for p in pieces[:count // 4]]


def test_the_index_gives_statement_provenance_the_page_it_gives_alone(seed):
    store, index = seed
    cases = [{"text": piece} for piece in PIECES + corpus_pieces(store, 24, seed=29)]
    assert agreeing_pages(store, index, PROVENANCE, cases) > 40, "too few pieces found anything to compare"
    # a statement named: looked up, as written
    named = store.query(f"SELECT ?s WHERE {{ ?s <{ns.WSIS}text> ?t }} ORDER BY ?s LIMIT 1").rows[0][0].value
    alone, indexed, filled = both(store, index, PROVENANCE, statement=named, text="e", limit=5, offset=0)
    assert filled == PROVENANCE.text and alone == indexed


def test_the_index_gives_uptake_the_page_it_gives_alone(seed):
    store, index = seed
    def iris(sparql):
        return [row[0].value for row in store.query(sparql).rows]
    documents = iris(f"SELECT DISTINCT ?d WHERE {{ ?s <{ns.PROV}wasDerivedFrom> ?d }} ORDER BY ?d")
    lines = iris(f"SELECT DISTINCT ?a WHERE {{ ?s <{ns.WSIS}addressesActionLine> ?a }} ORDER BY ?a")
    groups = iris(f"SELECT DISTINCT ?g WHERE {{ ?s <{ns.WSIS}voicedBy> ?g }} ORDER BY ?g")
    assert len(documents) >= 5 and len(lines) > 5 and len(groups) > 3
    rng = random.Random(41)
    cases = [{}] + [{"document": d} for d in documents] + [{"actionLine": a} for a in rng.sample(lines, 6)] \
        + [{"stakeholderGroup": g} for g in groups] \
        + [{"document": rng.choice(documents), "actionLine": rng.choice(lines), "stakeholderGroup": rng.choice(groups)}
           for _ in range(6)] + [{"actionLine": rng.choice(lines), "stakeholderGroup": rng.choice(groups)} for _ in range(6)]
    pages = [(500, 0), (40, 0), (17, 23), (0, 3)]
    assert agreeing_pages(store, index, UPTAKE, cases, pages, canon) > 40, "too few pages had rows to compare"


def test_a_page_deeper_than_the_index_serves_and_a_text_without_parameters_are_left_as_written(seed):
    store, index = seed
    deep = SEARCH.bind({"words": "digital", "limit": "100", "offset": str(pageindex.MAX_ROWS)})
    assert pageindex.fill(SEARCH.text, deep, store, index) == SEARCH.text
    # the query's text posted to /sparql with the words written in: nothing to fill
    assert pageindex.fill(SEARCH.text, None, store, index) == SEARCH.text


def canon(rows) -> list[tuple]:
    """Rows with the parts of each list in order (a GROUP_CONCAT's order is the engine's), in their order."""
    return [tuple(None if t is None else ("; ".join(sorted(t.value.split("; "))) if isinstance(t, ox.Literal) else str(t))
                  for t in row) for row in rows]


def app_rows(client, words: str, limit: int = 100, offset: int = 0, query: str = "search", param: str = "words"):
    reply = client.get(f"/queries/{query}", query_string={param: words, "limit": limit, "offset": offset},
                       headers={"Accept": "application/sparql-results+json", "Cache-Control": "no-cache"})
    assert reply.status_code == 200, reply.get_data(as_text=True)
    body = json.loads(reply.get_data())
    names = body["head"]["vars"]
    return [tuple(row.get(n, {}).get("value") for n in names) for row in body["results"]["bindings"]]


def store_rows(store_root, words: str, limit: int = 100, offset: int = 0, query=SEARCH, param: str = "words"):
    bindings = query.bind({param: words, "limit": str(limit), "offset": str(offset)})
    with EmbeddedStore.open(store_root, read_only=True) as store:
        return [tuple(None if t is None else t.value for t in row)
                for row in store.query(query.text, bindings=bindings).rows]


def test_a_server_worker_searches_with_its_index_and_keeps_one_per_version(fresh_store):
    """Through the app: the answers equal the query's alone, and after an /update the new words are
    found (an index of the old version would miss them), with letters the normalisation must treat as
    the engine does."""
    with EmbeddedStore.open(fresh_store, read_only=True) as store:
        statement, graph, old = store.query(
            f"SELECT ?s ?g ?t WHERE {{ GRAPH ?g {{ ?s <{ns.WSIS}text> ?t ; <{ns.PROV}wasDerivedFrom> ?d }} "
            f"FILTER(STRSTARTS(STR(?g), '{ns.ID}graph/doc/')) }} ORDER BY ?s LIMIT 1").rows[0]
    text = "Égalité numérique: ΟΔΟΣ straße_x İstanbul e-Health² zyxwvutsq-network"
    config = ServerConfig(store_root=fresh_store, workers=1, warm=False, cache_mb=0, timeout=60, token=TOKEN)
    backend = Backend(config)
    searches = ["digital divide", "youth", "zyxwvutsq", "égalité numerique", "οδος", "straße", "x", "istanbul",
                "health2", "e health", "network"]
    try:
        client = create_app(config, backend).test_client()
        before = {w: app_rows(client, w, 9, 2) for w in searches}
        update = (f"DELETE DATA {{ GRAPH {graph} {{ {statement} <{ns.WSIS}text> {old} }} }} ;\n"
                  f"INSERT DATA {{ GRAPH {graph} {{ {statement} <{ns.WSIS}text> {json.dumps(text)}@en }} }}")
        reply = client.post("/update", data=update, headers={"Content-Type": "application/sparql-update",
                                                             "Authorization": f"Bearer {TOKEN}"})
        assert reply.status_code == 200, reply.get_data(as_text=True)
        after = {w: app_rows(client, w, 9, 2) for w in searches}
        after_first_page = app_rows(client, "zyxwvutsq")
        pieces = {p: app_rows(client, p, 3, 0, "statement-provenance", "text") for p in PIECES_AFTER}
    finally:
        backend.close()
    assert [row[3] for row in after_first_page] == [statement.value]
    for words in searches:
        assert after[words] == store_rows(fresh_store, words, 9, 2), words
    assert {row[0] for row in pieces["ΟΔΟΣ"]} == {statement.value}
    for piece in PIECES_AFTER:
        assert pieces[piece] == store_rows(fresh_store, piece, 3, 0, PROVENANCE, "text"), piece
    assert before["digital divide"] and before["digital divide"] == after["digital divide"]


def test_statements_without_a_line_or_file_come_where_the_engine_puts_them():
    """The seed graph gives every statement a file and a line; the orders must also hold without them
    (unbound first in ORDER BY, "" and 0 under search's COALESCE), and with two titles or two files."""
    w, p, d, i = ns.WSIS, ns.PROV, ns.DCTERMS, ns.ID
    doc_a, doc_b, doc_c, doc_d = f"<{i}doc/a>", f"<{i}doc/b>", f"<{i}doc/c>", f"<{i}doc/d>"
    lines = [f'{doc_a} <{d}title> "Alpha" ; <{d}identifier> "a.txt", "a2.txt" .',
             f'{doc_b} <{d}identifier> "b.txt" .',  # b has no title: its IRI stands for it
             f'{doc_c} <{d}title> "Alpha" .', f'{doc_d} <{d}identifier> "" ; <{d}title> "Alpha" .',  # no file; ""
             f'<{w}KeyIssue> <{ns.RDFS}label> "Key issue"@en ; <{ns.RDFS}subClassOf> <{w}Statement> .']
    for n, (doc, line, text) in enumerate([(doc_a, 0, "Youth voices"), (doc_a, 4, "youth and data"),
                                           (doc_b, None, "YOUTH first"), (doc_b, 2, "data youth"),
                                           (None, None, "youthful data"), (doc_a, None, "youth with no line"),
                                           (doc_c, 9, "youth in c"), (doc_d, 1, "youth in d")]):
        s = f"<{i}statement/t/{n}>"
        lines.append(f'{s} a <{w}KeyIssue> ; <{w}text> "{text}"@en .')
        if doc:
            lines.append(f"{s} <{p}wasDerivedFrom> {doc} .")
        if line is not None:
            lines.append(f"{s} <{w}sourceLine> {line} .")
    raw = ox.Store()
    raw.load("\n".join(lines).encode(), ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(f"{i}graph/doc/t"))
    store = EmbeddedStore(raw)
    kept = pageindex.Kept()
    index = lambda kind: kept.get(store, "t", kind)  # noqa: E731
    small = [(10, 0), (1, 0), (2, 0), (1, 1), (2, 3), (3, 2)]
    assert agreeing_pages(store, index, SEARCH, [{"words": "youth data"}, {"words": "data"}], small) >= 8
    assert agreeing_pages(store, index, PROVENANCE, [{"text": "youth"}, {"text": "DATA"}], small) >= 8
    assert agreeing_pages(store, index, UPTAKE, [{}, {"document": "id:doc/a"}], small, canon) >= 8
