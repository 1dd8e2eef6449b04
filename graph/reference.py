"""Reference data: the gathered tables in `graph/reference/` turned into RDF.

Each table becomes triples under the contract's IRIs. Tables are the data; this module only says
how a column maps to a property, so a new GDC paragraph or UN body is a new row, not new code.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Iterator

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS

from . import namespaces as ns
from .paths import REFERENCE_DIR

WSIS = Namespace(ns.WSIS)
SDGO = Namespace(ns.SDGO)
SCHEMA = Namespace(ns.SCHEMA)
ORG = Namespace(ns.ORG)
PROV = Namespace(ns.PROV)

UN_LANGS = ("en", "fr", "es", "ar", "ru", "zh")

# Rows of un_bodies.csv that are processes or forums rather than bodies (contract: id:process/...).
PROCESS_ROWS = {
    "WSIS": "wsis", "WSISFORUM": "wsis-forum", "WSISSTOCKTAKING": "wsis-stocktaking",
    "IGF": "igf", "GDAIG": "global-dialogue-ai-governance",
}


def read_table(name: str, folder: Path = REFERENCE_DIR) -> list[dict[str, str]]:
    with open(folder / name, newline="", encoding="utf-8") as handle:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]


def org_iri(ref_id: str) -> URIRef:
    ref_id = ref_id.strip()
    if ref_id in PROCESS_ROWS:
        return URIRef(ns.entity("process", PROCESS_ROWS[ref_id]))
    return URIRef(ns.entity("org", ref_id.lower().replace("_", "-")))


def known_org_ids(folder: Path = REFERENCE_DIR) -> dict[str, URIRef]:
    """Every way the tables name a body (id or acronym), to its IRI."""
    names: dict[str, URIRef] = {}
    for row in read_table("un_bodies.csv", folder):
        iri = org_iri(row["id"])
        names[row["id"]] = iri
        if row["acronym"]:
            names[row["acronym"]] = iri
    return names


def _org_names(cell: str) -> Iterator[str]:
    """'ITU;WMO;UNEP (Basel Convention Secretariat)' -> ITU, WMO, UNEP."""
    for part in cell.split(";"):
        name = re.sub(r"\s*\(.*$", "", part).strip()
        if name:
            yield name


def action_lines(g: Graph, folder: Path) -> None:
    scheme = URIRef(ns.entity("action-line"))
    g.add((scheme, RDF.type, SKOS.ConceptScheme))
    g.add((scheme, SKOS.prefLabel, Literal("WSIS Action Lines", lang="en")))
    g.add((scheme, DCTERMS.source, URIRef("https://www.itu.int/net4/wsis/sdg/")))
    orgs = known_org_ids(folder)
    for row in read_table("wsis_action_lines.csv", folder):
        al = URIRef(ns.action_line(row["id"]))
        g.add((al, RDF.type, WSIS.ActionLine))
        g.add((al, RDF.type, SKOS.Concept))
        g.add((al, SKOS.inScheme, scheme))
        g.add((al, SKOS.notation, Literal(ns.action_line_notation(row["id"]))))
        g.add((al, SKOS.prefLabel, Literal(row["label_en"], lang="en")))
        g.add((al, SKOS.altLabel, Literal(row["full_label_en"], lang="en")))
        if row["gpoa_heading_en"]:
            g.add((al, SKOS.altLabel, Literal(row["gpoa_heading_en"], lang="en")))
        _web_page(g, al, row)
        if row["parent"]:
            g.add((al, SKOS.broader, URIRef(ns.action_line(row["parent"]))))
            g.add((URIRef(ns.action_line(row["parent"])), SKOS.narrower, al))
        else:
            g.add((scheme, SKOS.hasTopConcept, al))
        for name in _org_names(row["lead_facilitator_confirmed"]):
            if name in orgs:
                g.add((orgs[name], WSIS.leadFacilitator, al))
        for name, role in re.findall(r"([A-Za-z][\w -]*?)\s*\((co-facilitator[^)]*)\)", row["other_roles_confirmed"]):
            if name.strip() in orgs:
                g.add((orgs[name.strip()], WSIS.coFacilitator, al))


def facilitation_evidence(g: Graph, folder: Path) -> None:
    """One qualified node per piece of evidence, so every facilitator claim can show its source."""
    orgs = known_org_ids(folder)
    for number, row in enumerate(read_table("wsis_action_line_facilitators.csv", folder), start=2):
        node = URIRef(ns.entity("facilitation", f"row-{number}"))
        g.add((node, RDF.type, WSIS.Facilitation))
        for al_id in row["action_line"].split(";"):
            if al_id == "ALL":
                g.add((node, WSIS.scope, Literal("all action lines (Geneva Plan of Action)")))
            else:
                g.add((node, WSIS.actionLine, URIRef(ns.action_line(al_id))))
        for name in _org_names(row["organization"]):
            g.add((node, WSIS.facilitator, orgs[name]) if name in orgs
                  else (node, WSIS.facilitatorName, Literal(name)))
        g.add((node, WSIS.role, Literal(row["role_as_stated"])))
        if row["period"]:
            g.add((node, WSIS.period, Literal(row["period"])))
        g.add((node, DCTERMS.source, _iri_or_literal(row["source"])))


def sdg_matrix(g: Graph, folder: Path) -> None:
    for number, row in enumerate(read_table("wsis_sdg_matrix.csv", folder), start=2):
        al = URIRef(ns.action_line(row["action_line"]))
        sdg = URIRef(ns.SDG + (row["sdg_target"] or row["sdg_goal"]))
        g.add((al, WSIS.mapsToSDG, sdg))
        node = URIRef(ns.entity("matrix-link", f"row-{number}"))
        g.add((node, RDF.type, WSIS.MatrixLink))
        g.add((node, WSIS.actionLine, al))
        g.add((node, WSIS.sdg, sdg))
        g.add((node, WSIS.status, Literal(row["status"])))
        if row["rationale_en"]:
            g.add((node, WSIS.rationale, Literal(row["rationale_en"], lang="en")))
        if row["note"]:
            g.add((node, SKOS.note, Literal(row["note"], lang="en")))
        g.add((node, DCTERMS.source, URIRef("https://www.itu.int/net4/wsis/sdg/")))


def gdc(g: Graph, folder: Path) -> None:
    scheme = URIRef(ns.entity("gdc"))
    g.add((scheme, RDF.type, SKOS.ConceptScheme))
    g.add((scheme, SKOS.prefLabel, Literal("Global Digital Compact (A/RES/79/1, annex I)", lang="en")))
    g.add((scheme, SCHEMA.url, URIRef("https://www.un.org/global-digital-compact/en")))
    objectives = {}
    for row in read_table("gdc_objectives.csv", folder):
        obj = URIRef(ns.entity("gdc", "objective", row["number"]))
        objectives[row["number"]] = obj
        g.add((obj, RDF.type, WSIS.GDCObjective))
        g.add((obj, RDF.type, SKOS.Concept))
        g.add((obj, SKOS.inScheme, scheme))
        g.add((scheme, SKOS.hasTopConcept, obj))
        g.add((obj, SKOS.notation, Literal(row["number"])))
        g.add((obj, SKOS.prefLabel, Literal(row["title_en"], lang="en")))
        g.add((obj, WSIS.verification, Literal(row["verification"])))
        _web_page(g, obj, row)
        for src in row["source"].split(" ; "):
            g.add((obj, DCTERMS.source, _iri_or_literal(src)))
    # Every paragraph and lettered item, parsed from the official text (graph/texts.py).
    from .texts import gdc_paragraphs
    gdc_paragraphs(g, scheme, objectives)


def un_entities(g: Graph, folder: Path) -> None:
    rows = read_table("un_bodies.csv", folder)
    ids = {row["id"] for row in rows}
    for row in rows:
        iri = org_iri(row["id"])
        is_process = row["id"] in PROCESS_ROWS
        if not is_process:
            g.add((iri, RDF.type, WSIS.UNEntity))
            g.add((iri, RDF.type, ORG.Organization))
            g.add((iri, SKOS.prefLabel, Literal(row["name_en"], lang="en")))
        # Processes get their labels from vocabularies.ttl; the table adds identifiers only.
        if row["acronym"]:
            g.add((iri, SKOS.altLabel, Literal(row["acronym"], lang="en")))
        g.add((iri, SKOS.notation, Literal(row["id"])))
        if row["kind"]:
            g.add((iri, WSIS.entityKind, Literal(row["kind"])))
        if row["wikidata_qid"]:
            g.add((iri, SKOS.exactMatch, URIRef(ns.WIKIDATA + row["wikidata_qid"])))
            g.add((iri, WSIS.wikidataEvidence, Literal(row["qid_evidence"])))
        if row["url"] and not is_process:
            g.add((iri, SCHEMA.url, URIRef(row["url"])))
        if row["hq"]:
            g.add((iri, SCHEMA.location, Literal(row["hq"])))
        if row["roles_confirmed"]:
            g.add((iri, WSIS.rolesConfirmed, Literal(row["roles_confirmed"], lang="en")))
        parent = row["parent_or_host"]
        if parent in ids and not is_process:
            g.add((iri, ORG.subOrganizationOf, org_iri(parent)))
    # The UN System Chart's entities, principal organs and parents (graph/unsystem.py).
    from .unsystem import un_system_chart
    un_system_chart(g, folder)


def sdg(g: Graph, folder: Path) -> None:
    """The UN's SDG KOS as published, plus labels in the three UN languages it lacks."""
    g.parse(folder / "sdg_kos_metadata_un_org_2020.ttl", format="turtle")
    for row in read_table("sdg_goals_targets_indicators.csv", folder):
        if not row["uri"]:
            continue
        iri = URIRef(row["uri"])
        if row["type"] == "goal":
            g.add((iri, SKOS.altLabel, Literal(row["label_en"], lang="en")))
            for lang in UN_LANGS[1:]:
                if row[f"short_{lang}"]:
                    g.add((iri, SKOS.altLabel, Literal(row[f"short_{lang}"], lang=lang)))
        # The KOS has en/fr/es; add ar/ru/zh where the text denotes the same formulation.
        same_text = row["type"] != "indicator" or row["uri_match"].endswith("text-identical")
        if same_text:
            for lang in ("ar", "ru", "zh"):
                if row[f"text_{lang}"]:
                    g.add((iri, SKOS.prefLabel, Literal(row[f"text_{lang}"], lang=lang)))


# The dataset's own description, served with live figures by graph/dataset_description.py, is not graph data.
DATASET_DESCRIPTION = "dataset.ttl"


def vocabularies(g: Graph, folder: Path) -> None:
    for path in sorted(folder.glob("*.ttl")):
        if path.name.startswith("sdg_kos") or path.name == DATASET_DESCRIPTION:
            continue
        g.parse(path, format="turtle")


def _web_page(g: Graph, subject: URIRef, row: dict[str, str]) -> None:
    """The row's official web page (`url` column) and, when the page is a general one, why (`url_note`)."""
    if row.get("url"):
        g.add((subject, SCHEMA.url, URIRef(row["url"])))
    if row.get("url_note"):
        g.add((subject, SKOS.editorialNote, Literal(row["url_note"], lang="en")))


def _iri_or_literal(value: str):
    value = value.strip()
    return URIRef(value) if re.match(r"^https?://\S+$", value) else Literal(value)


def reference_graph(folder: Path = REFERENCE_DIR) -> Graph:
    g = Graph()
    for part in (sdg, action_lines, facilitation_evidence, sdg_matrix, gdc, un_entities, vocabularies):
        part(g, folder)
    return g
