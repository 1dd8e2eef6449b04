"""Issue 16 item 5: the linker's precision on hand-labelled links, and where a trigger word stands.

The labelled set (bench/linker_labels.json) was judged by hand before the linker changed; the shipped
linker must reach strict precision >= 0.8 on action-line links while keeping at least nine in ten of
the links that were right. The unit cases are the analyst's findings: trigger words inside the names
of bodies and documents, a generic trigger ("platforms"), and the speaker taken for the topic.
"""
from __future__ import annotations

import importlib.util
import json

import pytest

from conftest import REPO
from wsiskg.graph import namespaces as ns
from wsiskg.graph.linker import Linker
from wsiskg.graph.reference import reference_graph
from wsiskg.graph.store import EmbeddedStore

W = ns.WSIS
ID = ns.ID
AL = W + "addressesActionLine"
GDC = W + "relatesToGDC"


def _bench():
    spec = importlib.util.spec_from_file_location("linker_precision", REPO / "bench" / "linker_precision.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    return _bench()


@pytest.fixture(scope="module")
def result(bench):
    return bench.evaluate()


@pytest.fixture(scope="module")
def linker():
    store = EmbeddedStore.in_memory()
    store.bulk_load([(ns.GRAPH_REFERENCE, reference_graph().serialize(format="nt", encoding="utf-8"))])
    return Linker.from_store(store)


def links(linker, text, predicate=None):
    return {(l.predicate, l.target) for l in linker.link(ID + "statement/t/1", text)
            if predicate is None or l.predicate == predicate}


# -- the labelled set --------------------------------------------------------------------------------

def test_labelled_set_is_large_and_fully_judged():
    rows = json.loads((REPO / "bench" / "linker_labels.json").read_text(encoding="utf-8"))["links"]
    assert len(rows) >= 150
    assert sum(r["predicate"] == AL for r in rows) >= 97
    assert all(r["label"] in ("correct", "incorrect") and r["reason"] and r["text"] for r in rows)
    assert {r["split"] for r in rows} == {"dev", "held-out"}


def test_action_line_precision_reaches_the_target_and_keeps_nine_in_ten(result, bench):
    before, after = result["before"]["all"]["action line"], result["after"]["all"]["action line"]
    # the labelled linker: every link it made was judged, 60 of 111 right
    assert (before["made"], before["made_correct"]) == (111, 60)
    assert after["precision"] >= bench.TARGET_PRECISION
    assert after["kept"] >= bench.TARGET_KEPT
    assert after["unjudged"] == 0


def test_speakers_are_voiced_by_not_concerned(result):
    before, after = result["before"]["all"], result["after"]["all"]
    assert before["concerns"]["precision"] < 0.5
    assert after["concerns"]["precision"] >= 0.8 and after["concerns"]["kept"] == 1.0
    # every group labelled as the one who spoke is now found as the speaker, and no other
    assert after["voicedBy"]["kept"] == 1.0 and after["voicedBy"]["precision"] == 1.0


# -- names are not topics ----------------------------------------------------------------------------

def test_science_in_the_cstd_name_is_not_e_science(linker):
    text = ("we request the Commission on Science and Technology for Development to establish a dedicated "
            "working group to engage in a comprehensive and inclusive multi-stakeholder dialogue on data governance")
    found = links(linker, text)
    assert (AL, ID + "action-line/C7-e-science") not in found
    assert (W + "mentionsEntity", ID + "org/cstd") in found
    assert (GDC, ID + "gdc/objective/4") in found  # what the text is about still links


@pytest.mark.parametrize("name", [
    "United Nations Educational, Scientific and Cultural Organization",
    "United Nations Educational and Cultural Organisation (UNESCO)",  # as misspelt in the questionnaire
])
def test_unesco_name_is_not_e_learning_or_culture(linker, name):
    found = links(linker, f"The ITU has served as a lead facilitator, along with the {name}, for the "
                          "multistakeholder implementation of the Geneva Plan of Action.", AL)
    assert not found & {(AL, ID + "action-line/" + c) for c in ("C7-e-learning", "C8", "C7-e-science")}


def test_internet_governance_forum_name_is_not_internet_governance(linker):
    assert (AL, ID + "action-line/C6") not in links(
        linker, "Many called for strengthening and institutionalising the Internet Governance Forum by granting it "
                "a permanent mandate, sustainable funding and a dedicated secretariat.")
    assert (AL, ID + "action-line/C6") in links(
        linker, "We acknowledge the Internet Governance Forum as the primary platform for discussion of Internet governance issues.")


def test_the_same_words_outside_a_name_still_link(linker):
    assert (AL, ID + "action-line/C7-e-science") in links(linker, "Open science and scientific research networks expanded.")
    assert (AL, ID + "action-line/C8") in links(linker, "Cultural diversity and local content online.")
    assert (AL, ID + "action-line/C7-e-learning") in links(linker, "Educational institutions moved to e-learning.")


@pytest.mark.parametrize("text", [
    "Growth of open knowledge platforms.", "E-Gov platforms enhanced transparency & service delivery.",
    "Global e-learning platforms and open online courses.", "Open science platforms & Al-driven research expanded.",
])
def test_platforms_alone_is_not_gdc_objective_2(linker, text):
    assert (GDC, ID + "gdc/objective/2") not in links(linker, text, GDC)


def test_dominant_platforms_are_gdc_objective_2(linker):
    assert (GDC, ID + "gdc/objective/2") in links(linker, "Tax the dominant platforms.", GDC)


def test_digital_public_infrastructure_is_not_network_infrastructure(linker):
    found = links(linker, "Develop safeguards for inclusive, responsible, safe, secure and user-centred digital public infrastructure.")
    assert (AL, ID + "action-line/C2") not in found and (GDC, ID + "gdc/objective/1") in found


# -- who spoke and whom it concerns ------------------------------------------------------------------

@pytest.mark.parametrize("text, group", [
    ("Business associations welcomed references to the digital economy in the elements paper.", "private-sector"),
    ("Member-state representatives noted that spectrum management matters.", "government"),
    ("According to civil society organisations, the draft ignores data justice.", "civil-society"),
    ("Youth networks called for digital skills programmes.", "youth"),
])
def test_the_speaker_is_voiced_by(linker, text, group):
    found = links(linker, text)
    assert (W + "voicedBy", ID + "stakeholder/" + group) in found
    assert (W + "concerns", ID + "stakeholder/" + group) not in found


def test_whom_a_statement_is_about_still_concerns(linker):
    found = links(linker, "Speakers urged governments to fund programmes for persons with disabilities.")
    assert {(W + "concerns", ID + "stakeholder/government"),
            (W + "concerns", ID + "stakeholder/persons-with-disabilities")} <= found
    assert not any(p == W + "voicedBy" for p, _ in found)
