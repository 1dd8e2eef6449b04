"""A worker that meets new data reloads it before the query; that reload is not the query's time.

Found by CI: after a write, the first query a worker ran copied the whole store into memory again
(1.4 s for 170k quads) inside the client's 2 s deadline, and a plain COUNT was stopped as a runaway.
The pool is run in process here against the built store: the process boundary that matters (the
worker) is real.
"""
from __future__ import annotations

import time

import pytest

from wsiskg.server.executor import Executor, Job, QueryTimeout, WorkerSpec, client_address, current_key

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
RUNAWAY = ("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?x { ?a ?b ?c } GRAPH ?y { ?d ?e ?f } "
           "FILTER(STR(?c) = CONCAT(STR(?f), \"#\")) }")
DEADLINE = 0.3  # shorter than copying the seed store into memory takes on any machine we run on


@pytest.fixture(scope="module")
def pool(built_store):
    spec = WorkerSpec(store_root=str(built_store), timeout=DEADLINE, memory="always", workers=1)
    executor = Executor(spec, size=1, timeout=DEADLINE)
    wait_ready(executor)
    token = client_address.set("192.0.2.7")  # a client's query, not the server's own work
    yield executor
    client_address.reset(token)
    executor.close()


def wait_ready(executor) -> None:
    """A worker's first copy of the data is its start-up, not a query."""
    started = time.monotonic()
    while executor.stats()["ready"] < executor.size:
        assert time.monotonic() - started < 120, "the worker did not start"
        time.sleep(0.1)


def count(result) -> int:
    return int(result.rows[0][0].value)


def test_a_reload_for_new_data_does_not_count_against_the_deadline(pool, built_store):
    first = count(pool.run(Job(COUNT, key=current_key(str(built_store), None))))
    assert first > 100_000
    for version in (1, 2):  # each new version makes the worker copy the store again
        assert count(pool.run(Job(COUNT, key=current_key(str(built_store), version)))) == first


def test_the_query_after_a_reload_still_has_its_deadline(pool, built_store):
    with pytest.raises(QueryTimeout):
        pool.run(Job(RUNAWAY, key=current_key(str(built_store), 3)))
    # the stopped worker is replaced, and the pool answers again
    wait_ready(pool)
    assert count(pool.run(Job(COUNT, key=current_key(str(built_store), 3)))) > 100_000
