"""The UN System Chart's 169 entities as wsis:UNEntity, with their principal organ and parent.

Two tables in `graph/reference/`: `un_system_chart.csv` (the chart's own table, unmodified) and
`un_system_alignment.csv` (our curation: which chart entity is a body `un_bodies.csv` already names,
what the chart's principal-organ column refers to, label and parent corrections, umbrella entities,
and the few bodies the chart lacks). A chart entity that is already in `un_bodies.csv` keeps its IRI,
label and Wikidata item there; the chart adds its facts. Everything else gets `id:org/<slug>`.
"""
from __future__ import annotations

import csv
from pathlib import Path

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS, XSD

from . import namespaces as ns
from .validate import EntryError

WSIS = Namespace(ns.WSIS)
ORG = Namespace(ns.ORG)
SCHEMA = Namespace(ns.SCHEMA)

CHART_TABLE = "un_system_chart.csv"
ALIGNMENT_TABLE = "un_system_alignment.csv"
CHART_SOURCE = URIRef("https://systemchart.un.org/")


class ChartError(EntryError):
    """A row of the chart tables that cannot be turned into RDF (names the table and its line)."""


def _iri(ref_id: str) -> URIRef:
    from .reference import org_iri
    return org_iri(ref_id)


def _organs(cell: str) -> list[str]:
    """"['General Assembly', 'Economic and Social Council']" or "Secretariat" -> the names."""
    cell = cell.strip()
    if cell.startswith("["):
        return [p.strip(" '\"") for p in cell.strip("[]").split(",") if p.strip(" '\"")]
    return [cell] if cell else []


def _lines_and_rows(path: Path):
    """(first line in the file, row) for each row; the chart's cells may span lines."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        start = 2
        for row in reader:
            yield start, {k: (v or "").strip() for k, v in row.items()}
            start = reader.line_num + 1


def chart_entities(folder: Path) -> list[dict]:
    """One dict per chart entity: the chart row plus our `id` (existing or slug), `parents`,
    `organs`, `label` and `link_acronym`, as the alignment table decides."""
    from .reference import read_table
    bodies = {r["id"]: r for r in read_table("un_bodies.csv", folder)}
    by_name = {**{r["acronym"]: i for i, r in bodies.items() if r["acronym"]}, **{i: i for i in bodies}}
    align = read_table(ALIGNMENT_TABLE, folder)
    entity_rows = {r["chart_name"]: r for r in align if r["chart_column"] == "entity"}
    organ_rows = {r["chart_name"]: r for r in align if r["chart_column"] == "un_principal_organ"}
    out, seen = [], {}
    for number, row in _lines_and_rows(folder / CHART_TABLE):
        name = row["entity"]
        fix = entity_rows.get(name, {})
        ref_id = fix.get("id") or by_name.get(name) or ns.slugify(name)
        if ref_id in seen:
            raise ChartError(f"entity {name!r} maps to {ref_id!r}, as does line {seen[ref_id]}; give one of "
                             f"them its own id in {ALIGNMENT_TABLE}", str(folder / CHART_TABLE), number)
        seen[ref_id] = number
        organs = []
        for organ in _organs(row["un_principal_organ"]):
            if organ not in organ_rows:
                raise ChartError(f"principal organ {organ!r} has no row in {ALIGNMENT_TABLE} (add one with "
                                 "chart_column un_principal_organ and the organ's id)", str(folder / CHART_TABLE), number)
            if organ_rows[organ]["id"]:
                organs.append(organ_rows[organ]["id"])
        own_iri = _iri(ref_id)
        parents = [fix["parent"]] if fix.get("parent") else [o for o in organs if _iri(o) != own_iri]
        out.append({**row, "id": ref_id, "line": number, "in_bodies": ref_id in bodies,
                    "organs": [o for o in organs], "parents": parents,
                    "label": fix.get("label_en") or row["entity_long"].strip() or name,
                    "link_acronym": fix.get("link_acronym", "") != "no",
                    # an overridden label means the chart's long name is no name ("Legal")
                    "long_is_name": not fix.get("label_en")})
    return out


def un_system_chart(g: Graph, folder: Path) -> None:
    """Add the chart's entities, the principal organs and the alignment's extra bodies to `g`."""
    from .reference import read_table
    bodies = {r["id"]: r for r in read_table("un_bodies.csv", folder)}
    align = read_table(ALIGNMENT_TABLE, folder)
    entities = chart_entities(folder)
    known = {_iri(i) for i in bodies} | {_iri(e["id"]) for e in entities}
    # Principal organs and bodies the chart lacks (Security Council, UN system, IGF secretariat).
    for number, row in enumerate(align, start=2):
        if not row["id"] or row["chart_column"] == "entity":
            continue
        iri = _iri(row["id"])
        if iri not in known:
            if not row["label_en"]:
                raise ChartError(f"{row['id']!r} is neither in un_bodies.csv nor on the chart; give it a label_en",
                                 str(folder / ALIGNMENT_TABLE), number)
            known.add(iri)
            g.add((iri, RDF.type, WSIS.UNEntity))
            g.add((iri, RDF.type, ORG.Organization))
            g.add((iri, SKOS.prefLabel, Literal(row["label_en"], lang="en")))
            g.add((iri, SKOS.notation, Literal(row["id"])))
        if row["chart_column"] == "un_principal_organ":
            g.add((iri, RDF.type, WSIS.PrincipalOrgan))
        if row["umbrella"] == "yes":
            g.add((iri, RDF.type, WSIS.UmbrellaEntity))
        if row["parent"]:
            g.add((iri, ORG.subOrganizationOf, _iri(row["parent"])))
        if row["note"]:
            g.add((iri, SKOS.editorialNote, Literal(row["note"], lang="en")))
    for e in entities:
        iri = _iri(e["id"])
        g.add((iri, RDF.type, WSIS.UNEntity))
        g.add((iri, RDF.type, ORG.Organization))
        g.add((iri, WSIS.systemChartName, Literal(e["entity"])))
        g.add((iri, DCTERMS.source, CHART_SOURCE))
        long_name = e["entity_long"].strip()
        if e["in_bodies"]:
            # un_bodies.csv gives the label; the chart's long name is another name for the body.
            if long_name and long_name != bodies[e["id"]]["name_en"]:
                g.add((iri, SKOS.altLabel, Literal(long_name, lang="en")))
        else:
            g.add((iri, SKOS.prefLabel, Literal(e["label"], lang="en")))
            g.add((iri, SKOS.notation, Literal(e["entity"])))
            if long_name and long_name != e["label"] and e["long_is_name"]:
                g.add((iri, SKOS.altLabel, Literal(long_name, lang="en")))
        if e["link_acronym"] and e["entity"] not in (e["label"], long_name):
            g.add((iri, SKOS.altLabel, Literal(e["entity"], lang="en")))
        for alias in filter(None, (a.strip() for a in e["entity_aliases"].split(";"))):
            g.add((iri, SKOS.altLabel, Literal(alias, lang="en")))
        for organ in e["organs"]:
            g.add((iri, WSIS.principalOrgan, _iri(organ)))
        for parent in e["parents"]:
            g.add((iri, ORG.subOrganizationOf, _iri(parent)))
        category = e["category"] or next((o for o in _organs(e["un_principal_organ"])
                                          if o in ("Specialized Agencies", "Related Organizations")), "")
        if category:
            g.add((iri, WSIS.systemChartCategory, Literal(category)))
        if e["subcategory"] and e["subcategory"] != "EntityCard":  # "EntityCard" is the site's layout tag
            g.add((iri, WSIS.systemChartSubcategory, Literal(e["subcategory"])))
        if e["is_ceb_member"] in ("True", "False"):
            g.add((iri, WSIS.cebMember, Literal(e["is_ceb_member"] == "True", datatype=XSD.boolean)))
        if e["entity_link"] and not (e["in_bodies"] and bodies[e["id"]]["url"]):
            g.add((iri, SCHEMA.url, URIRef(e["entity_link"].strip())))
        # The chart writes "Not found" where an entity has no Wikipedia article.
        if e["entity_wikipedia_page"].startswith("https://"):
            g.add((iri, SCHEMA.sameAs, URIRef(e["entity_wikipedia_page"])))
        if e["entity_description"]:
            g.add((iri, DCTERMS.description, Literal(e["entity_description"], lang="en")))
