"""`/reports/duplication`: the duplication map (graph/report.py) and a CSV twin of each of its tables.

The report is built from named queries run in the query pool, and kept until the data changes.
"""
from __future__ import annotations

from flask import Blueprint, Response

from wsiskg.graph.report import duplication_report, render_html, report_csv

from .context import services
from .errors import ApiError
from .negotiation import HTML, Offer, choose
from .policy import declare

bp = declare(Blueprint("reports", __name__), cors=True, cached=True)

# the report's own page carries inline CSS and SVG (it also opens from disk); nothing else inline
REPORT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; "
              "base-uri 'none'; form-action 'none'")


def _report():
    backend = services().backend
    return backend.cached("duplication-report", lambda: duplication_report(backend.as_store()))


@bp.route("/reports/duplication")
def duplication():
    offer = choose([HTML, Offer("csv-index", "text/plain", (), ("txt",))])
    report = _report()
    if offer.name != "html":
        lines = [f"/reports/duplication/{table}.csv" for table in report.tables]
        return Response("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
    response = Response(render_html(report, base="/id/"), content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = REPORT_CSP
    return response


@bp.route("/reports/duplication/<table>.csv")
def duplication_table(table: str):
    report = _report()
    if table not in report.tables:
        raise ApiError(404, f"no table {table!r}; the report has: {', '.join(report.tables)}")
    return Response(report_csv(report.tables[table]), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'inline; filename="{table}.csv"'})
