"""Issue 7: the build validates entries in batches (one pyshacl run and one context query each), in
several processes, and reports exactly the problems that validating each entry alone reports, with
the same file and line."""
from __future__ import annotations

import pytest
from rdflib import BNode

from test_build_validate import BROKEN, DOC, GOOD, PREFIXES
from wsiskg.graph.build import BuildFailed, build, entry_files
from wsiskg.graph.keep import kept_graph_files
from wsiskg.graph.store import EmbeddedStore, database_path
from wsiskg.graph.validate import (Entry, context_for, read_entry_file, read_problems, shacl_results, validate,
                                   validate_entries)

ID = "https://w3id.org/wsis-kg/id/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
# An entry that defines an action line: its shape checks the SDG links' classes with a nested sh:or,
# so it must be validated in a full run.
ACTION_LINE = f"""<{ID}action-line/C99> a <https://w3id.org/wsis-kg/ontology#ActionLine> ;
    <{SKOS}notation> "C99" ; <{SKOS}prefLabel> "A test action line"@en ;
    <https://w3id.org/wsis-kg/ontology#mapsToSDG> <http://metadata.un.org/sdg/C170601> .
"""


def broken_entries(folder) -> None:
    """Each broken case twice: with the shared test-doc IRIs (so the files share subjects and must not
    be validated together) and renamed to a document of its own (so they can be)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "good.ttl").write_text(PREFIXES + DOC + GOOD)
    (folder / "action-line.ttl").write_text(PREFIXES + ACTION_LINE)
    for n, case in enumerate(sorted(BROKEN)):
        body = PREFIXES + DOC + BROKEN[case][0]
        (folder / f"broken-{n}-shared.ttl").write_text(body)
        (folder / f"broken-{n}-own.ttl").write_text(body.replace("/test-doc", f"/test-doc-{n}"))


def alone(g, text: str, file: str, store) -> list[tuple]:
    """What validating one entry in a full pyshacl run, then keeping its subjects' problems (the
    build's former way) reports."""
    subjects = {s for s in g.subjects() if not isinstance(s, BNode)}
    return [as_tuple(p) for p in read_problems(shacl_results([g, context_for(g, store)]), text, file, subjects)]


def one_at_a_time(paths, store) -> list[tuple]:
    return [problem for path in paths for problem in alone(*read_entry_file(path), str(path), store)]


def as_tuple(p) -> tuple:
    return p.file, p.line, p.severity, p.message, p.focus, p.path, p.value, p.shape


def test_failed_build_reports_what_each_entry_alone_reports(fresh_store):
    broken_entries(fresh_store / "entries")
    with pytest.raises(BuildFailed) as failed:
        build(fresh_store)
    # The build's store is gone with the failure; the entries point only to reference data, which
    # the current store describes the same way.
    files = entry_files(fresh_store)
    with EmbeddedStore.open(fresh_store, read_only=True) as store:
        expected = one_at_a_time(files.values(), store)
    entry_paths = {str(path) for path in files.values()}
    reported = [as_tuple(p) for p in failed.value.report.problems if p.file in entry_paths]
    assert reported == expected
    # the rest comes from the shipped texts (addressee phrases naming none of our entities): never violations
    assert all(p.severity != "Violation" for p in failed.value.report.problems if p.file not in entry_paths)
    violations = {(file.rsplit("/", 1)[1], line) for file, line, severity, *_ in reported if severity == "Violation"}
    statement_line = 1 + PREFIXES.count("\n") + DOC.count("\n")
    assert {f"broken-{n}-{kind}.ttl" for n in range(len(BROKEN)) for kind in ("shared", "own")} \
        <= {file for file, line in violations if line == statement_line}
    assert not any(file == "good.ttl" for file, _ in violations)
    assert any(file.endswith("action-line.ttl") and (path or "").endswith("#mapsToSDG") for file, _, _, _, _, path, *_ in reported)


def test_one_entry_checked_alone_reports_what_a_full_run_reports(fresh_store):
    """`validate` checks only the entry's own nodes when that is exact (pyshacl's focus_nodes), and
    runs in full when a shape checks other nodes against shapes (the action line's SDG links)."""
    folder = fresh_store / "extra"
    broken_entries(folder)
    paths = [*entry_files(None).values(), *sorted(folder.glob("*.ttl"))]
    with EmbeddedStore.open(fresh_store, read_only=True) as store:
        for path in paths:
            g, text = read_entry_file(path)
            assert [as_tuple(p) for p in validate(g, context_for(g, store), text, str(path)).problems] == \
                alone(g, text, str(path), store), path


SUBCLASS = f"""<{ID}class/special-session> <http://www.w3.org/2000/01/rdf-schema#subClassOf> <https://w3id.org/wsis-kg/ontology#Session> .
<{ID}session/special> a <{ID}class/special-session> .
"""


def class_entries(folder) -> None:
    """Two entries that each check alone differently than together: `uses-special` links to a session
    of a subclass of wsis:Session, which it does not describe (so, alone, wsis:fromSession fails);
    `names-special` mentions the subclass, so its context describes it as a subclass of wsis:Session."""
    uses = (PREFIXES + DOC + GOOD).replace("/test-doc", "/uses-special").replace(
        "wsis:sourceLine", f"wsis:fromSession <{ID}session/special> ;\n    wsis:sourceLine")
    names = (PREFIXES + DOC + GOOD).replace("/test-doc", "/names-special").replace(
        "a wsis:Recommendation ;", f"a wsis:Recommendation , <{ID}class/special-session> ;")
    (folder / "uses-special.ttl").write_text(uses)
    (folder / "names-special.ttl").write_text(names)


@pytest.mark.parametrize("workers", [1, 2])
def test_batches_match_one_at_a_time(fresh_store, workers):
    """The shipped entries, the broken ones, two entries whose class descriptions would interfere,
    and a kept links graph about a shipped document's statements (it shares subjects with that
    document's entry), in one or two processes."""
    folder = fresh_store / "extra"
    broken_entries(folder)
    class_entries(folder)
    with EmbeddedStore.open(fresh_store) as store:
        store.replace_graphs({f"{ID}graph/import/test-classes": SUBCLASS.encode()})
        statements = store.query(f"SELECT ?s WHERE {{ ?s <http://www.w3.org/ns/prov#wasDerivedFrom> "
                                 f"<{ID}doc/wsis-forum-2025-session-440> }} ORDER BY ?s LIMIT 3").values("s")
        kept = fresh_store / "graphs" / "links" / "test-links.nt"
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.write_text("".join(f"<{s}> <https://w3id.org/wsis-kg/ontology#mentionsEntity> <{ID}action-line/C3> .\n"
                                for s in statements))
        store.replace_graphs({iri: path.read_bytes() for iri, path in kept_graph_files(fresh_store).items()})
        paths = [*entry_files(None).values(), *sorted(folder.glob("*.ttl"))]
        entries = [Entry(*read_entry_file(path), str(path)) for path in paths]
        g, _ = read_entry_file(kept)
        entries.append(Entry(g, "", str(kept)))
        expected = one_at_a_time(paths, store) + alone(g, "", str(kept), store)
        reported = [as_tuple(p) for p in validate_entries(entries, store, workers=workers)]
    assert reported == expected
    assert sum(1 for file, *_ in reported if file == str(kept)) == 3  # each link to an action line, not a UN body or process
    assert any(file.endswith("uses-special.ttl") and (path or "").endswith("#fromSession") and severity == "Violation"
               for file, _, severity, _, _, path, *_ in reported)


def test_a_build_loads_many_graphs_without_a_file_per_graph(fresh_store):
    """The graphs go in through a few bulk loads, not one per graph: a load per graph left a few
    database files per graph, which every later open (each ingest, validate and server worker) paid for."""
    def database_files() -> int:
        return sum(1 for p in database_path(fresh_store).iterdir() if p.is_file())

    build(fresh_store)
    before = database_files()
    folder = fresh_store / "entries"
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(60):
        (folder / f"many-{n}.ttl").write_text((PREFIXES + DOC + GOOD).replace("/test-doc", f"/many-{n}"))
    result = build(fresh_store)
    assert sum(1 for g in result.graph_sizes if "/graph/doc/many-" in g) == 60
    with EmbeddedStore.open(fresh_store, read_only=True) as store:
        assert store.query(f"ASK {{ GRAPH <{ID}graph/doc/many-59> {{ <{ID}doc/many-59> ?p ?o }} }}").boolean
    assert database_files() - before < 20


def test_a_bulk_load_in_several_loads_keeps_every_quad_in_its_graph(monkeypatch):
    from wsiskg.graph import store as store_module
    monkeypatch.setattr(store_module, "BULK_LOAD_QUADS", 7)  # loads end mid-graph and on a graph's edge
    graphs = {f"{ID}graph/doc/chunk-{g}": "".join(f"<{ID}s/{g}-{n}> <{ID}p> \"{n}\" .\n" for n in range(size)).encode()
              for g, size in (("a", 14), ("b", 3), ("c", 0), ("d", 11))}
    store = EmbeddedStore.in_memory()
    store.bulk_load(graphs.items())
    assert store.graph_sizes() == {f"{ID}graph/doc/chunk-{g}": n for g, n in (("a", 14), ("b", 3), ("d", 11))}
    assert store.quad_count() == 28
