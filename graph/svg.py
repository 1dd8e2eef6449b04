"""Inline SVG pictures for the reports: a labelled heatmap and its legend.

Plain strings, no dependencies and no script: the SVG is written into the HTML page, so the page opens
from disk with no internet. Every label passes through `esc`, so a label holding markup stays text.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field

FONT = 12  # px, labels
CHAR_W = 7.2  # generous width of a lower-case character at FONT px, for layout
EMPTY_FILL = "#f3f4f6"
# a blue sequential ramp (light to dark), interpolated on a square-root scale
RAMP = [(0xde, 0xeb, 0xf7), (0x9e, 0xca, 0xe1), (0x42, 0x92, 0xc6), (0x08, 0x45, 0x94), (0x08, 0x30, 0x6b)]
LEAD = "#d95f02"  # outline of a lead-facilitator cell
CO = "#7570b3"  # outline of a co-facilitator cell
STRIP = "#f28e2b"  # the strip at a cell's foot (reads on light and dark blue)


def esc(text) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def colour(value: float, vmax: float) -> str:
    if value <= 0 or vmax <= 0:
        return EMPTY_FILL
    t = min(1.0, (value / vmax) ** 0.5) * (len(RAMP) - 1)
    i = min(int(t), len(RAMP) - 2)
    f = t - i
    rgb = [round(a + (b - a) * f) for a, b in zip(RAMP[i], RAMP[i + 1])]
    return "#%02x%02x%02x" % tuple(rgb)


def ink(fill: str) -> str:
    """Black or white text, whichever reads on `fill`."""
    r, g, b = (int(fill[i:i + 2], 16) for i in (1, 3, 5))
    return "#111" if 0.299 * r + 0.587 * g + 0.114 * b > 150 else "#fff"


def clip(text: str, n: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


@dataclass
class Axis:
    key: str  # matched against cell keys, written as data-row / data-col
    label: str  # printed (keep it short)
    title: str = ""  # shown on hover


@dataclass
class Cell:
    value: float  # drives the colour
    text: str = ""  # printed in the cell
    title: str = ""  # shown on hover
    tag: str = ""  # small mark in the top-left corner ("L", "co")
    outline: str = ""  # "lead" (solid) | "co" (dashed) | ""
    strip: float | None = None  # 0..1: a dark strip at the foot of the cell, this share wide
    data: dict = field(default_factory=dict)  # extra data-* attributes


def _text_width(text: str, size: float = FONT) -> float:
    """A generous estimate (fonts differ between systems), so labels are not cut off."""
    width = sum(9.4 if c.isupper() else 7.8 if c.isdigit() else 4.2 if c in " .,:;il|" else CHAR_W for c in text)
    return width * size / FONT


def heatmap(rows: list[Axis], cols: list[Axis], cells: dict[tuple[str, str], Cell], *, title: str,
            ident: str, cell_w: int = 44, cell_h: int = 30, angle: int = 45) -> str:
    """A grid of coloured cells with row labels on the left and column labels rotated above."""
    vmax = max((c.value for c in cells.values()), default=0)
    row_w = max([_text_width(r.label) for r in rows] + [40]) + 12
    col_len = max([_text_width(c.label) for c in cols] + [20])
    sin = cos = 0.7071 if angle == 45 else 1.0
    head = col_len * sin + 14
    width = row_w + len(cols) * cell_w + col_len * (cos if angle == 45 else 0) + 16
    height = head + len(rows) * cell_h + 8
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="heatmap" id="{esc(ident)}" role="img" '
           f'aria-labelledby="{esc(ident)}-title" width="{width:.0f}" height="{height:.0f}" '
           f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="system-ui, sans-serif" font-size="{FONT}">',
           f'<title id="{esc(ident)}-title">{esc(title)}</title>']
    for j, col in enumerate(cols):
        x = row_w + j * cell_w + cell_w / 2
        out.append(f'<text class="col-label" transform="translate({x:.1f},{head - 6:.1f}) rotate(-{angle})" '
                   f'text-anchor="start"><title>{esc(col.title or col.label)}</title>{esc(col.label)}</text>')
    for i, row in enumerate(rows):
        y = head + i * cell_h
        out.append(f'<text class="row-label" x="{row_w - 8:.1f}" y="{y + cell_h / 2 + 4:.1f}" text-anchor="end">'
                   f'<title>{esc(row.title or row.label)}</title>{esc(row.label)}</text>')
        for j, col in enumerate(cols):
            x = row_w + j * cell_w
            cell = cells.get((row.key, col.key)) or Cell(0, title=f"{row.label} × {col.label}: nothing")
            fill = colour(cell.value, vmax)
            attrs = "".join(f' data-{esc(k)}="{esc(v)}"' for k, v in cell.data.items())
            out.append(f'<g class="cell" data-row="{esc(row.key)}" data-col="{esc(col.key)}" '
                       f'data-value="{cell.value:g}"{attrs}><title>{esc(cell.title)}</title>'
                       f'<rect x="{x + 1}" y="{y + 1:.1f}" width="{cell_w - 2}" height="{cell_h - 2}" fill="{fill}"/>')
            if cell.strip:
                out.append(f'<rect x="{x + 1}" y="{y + cell_h - 5:.1f}" width="{(cell_w - 2) * cell.strip:.1f}" '
                           f'height="4" fill="{STRIP}"/>')
            if cell.outline:
                dash = ' stroke-dasharray="4 2"' if cell.outline == "co" else ""
                out.append(f'<rect x="{x + 2.5}" y="{y + 2.5:.1f}" width="{cell_w - 5}" height="{cell_h - 5}" '
                           f'fill="none" stroke="{LEAD if cell.outline == "lead" else CO}" stroke-width="2.5"{dash}/>')
            if cell.tag:
                out.append(f'<text x="{x + 5}" y="{y + 11:.1f}" font-size="9" font-weight="bold" '
                           f'fill="{ink(fill)}">{esc(cell.tag)}</text>')
            if cell.text:
                out.append(f'<text x="{x + cell_w / 2 + (5 if cell.tag else 0):.1f}" y="{y + cell_h / 2 + 3:.1f}" '
                           f'text-anchor="middle" fill="{ink(fill)}">{esc(cell.text)}</text>')
            out.append("</g>")
    out.append("</svg>")
    return "".join(out)


def legend(vmax: float, caption: str, extra: list[tuple[str, str]] = (), ident: str = "legend") -> str:
    """The colour scale (swatches for a few values up to `vmax`) and extra marks as (svg snippet, label)."""
    vmax = max(int(vmax), 1)
    values = sorted({0, 1, max(1, round(vmax / 4)), max(1, round(vmax / 2)), vmax})
    x, parts = 0, []
    parts.append(f'<text x="0" y="13" font-weight="bold">{esc(caption)}</text>')
    for v in values:
        fill = colour(v, vmax)
        parts.append(f'<rect x="{x}" y="20" width="34" height="18" fill="{fill}" stroke="#ccc"/>'
                     f'<text x="{x + 17}" y="52" text-anchor="middle">{v}</text>')
        x += 38
    x += 20
    for snippet, label in extra:
        parts.append(f'<g transform="translate({x},20)">{snippet}</g>'
                     f'<text x="{x + 40}" y="33">{esc(label)}</text>')
        x += 48 + _text_width(label)
    width = x + 10
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="legend" id="{esc(ident)}" width="{width:.0f}" '
            f'height="60" viewBox="0 0 {width:.0f} 60" font-family="system-ui, sans-serif" font-size="{FONT}" '
            f'role="img" aria-label="{esc(caption)}">{"".join(parts)}</svg>')


def outline_swatch(kind: str) -> str:
    dash = ' stroke-dasharray="4 2"' if kind == "co" else ""
    return (f'<rect x="1" y="1" width="32" height="16" fill="{EMPTY_FILL}" stroke="{LEAD if kind == "lead" else CO}" '
            f'stroke-width="2.5"{dash}/>')


def strip_swatch() -> str:
    return (f'<rect x="0" y="0" width="34" height="18" fill="{colour(1, 2)}"/>'
            f'<rect x="0" y="14" width="20" height="4" fill="{STRIP}"/>')
