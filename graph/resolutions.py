"""A parser of the General Assembly's printed resolutions (the text extracted from the official PDF).

Pure: text in, paragraphs out. A resolution is cut into parts (its body, then each annex), each
part into paragraphs: unnumbered ones before the first number (the preamble), numbered ones
("113." or "1. \\nWe reaffirm"), and their lettered items ("(a)"), each with the heading it
stands under, the line it starts on in the file, and its words as printed, with the extraction's
noise repaired: page headers and footers, footnotes and their reference numbers, line-end breaks.

The layout rules the parser relies on (measured on the nine shipped texts): a page break is an
empty line (other blank lines hold a space), followed by a header that carries the page number
("3/20") and the job number ("25-20874"); a page's footnotes follow a rule of underscores; the
signature "68th plenary meeting" ends a part; "Annex I" starts one. A text that breaks these
rules (a gap in the paragraph numbers, a page without its header) raises ParseError naming the
file and line, so nothing half-read is ever stored.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

PAGE_NUMBER = re.compile(r"^\s*\d+/\d+\s*$")
JOB_NUMBER = re.compile(r"^\s*\d\d-\d{5}(\s*\(E\))?\s*$")
FOOTNOTE_RULE = re.compile(r"^\s*_{5,}\s*$")
FOOTNOTE_LINE = re.compile(r"^\s*(\d{1,3})\s+\S")
PARAGRAPH = re.compile(r"^(\d{1,3})\.(?:\s+(.*)|\s*)$")
ITEM = re.compile(r"^\(([a-z]{1,2})\)(?:\s+(.*)|\s*)$")
SIGNATURE = re.compile(r"^\s*\d+(?:st|nd|rd|th) plenary meeting\s*$")
ANNEX = re.compile(r"^\s*Annex\s+([IVX]+)\s*$")
# Headings printed inline, without a blank line around them: "I." sections, the Pact's "Action 1."
# and the Compact's "Objective 1." (top-level: they reset the sub-heading).
TOP_HEADING = re.compile(r"^(?:[IVX]+\.(?:\s|$)|Objective \d\.\s|Action \d+\.\s)")
ADOPTED = re.compile(r"Resolution adopted by the General Assembly\s+on\s+(\d{1,2} \w+ \d{4})")
TITLE = re.compile(r"^\s*(\d{2}/\d{1,3})\.\s+(.*)$")
HEADER_LINES = 10  # a page header is never longer (measured: 5 to 8 lines)
ENDS_SENTENCE = (".", ";", ":", ",")
PREAMBLE_HEADING_MAX_LINES = 3


class ParseError(ValueError):
    def __init__(self, message: str, file: str, line: int):
        self.file, self.line, self.reason = file, line, message
        super().__init__(f"{file}, line {line}: {message}")


@dataclass
class Paragraph:
    number: str            # "113", "29(d)"; preambular: "p1", "p2", ...
    kind: str              # "preambular" | "operative"
    text: str
    line: int
    heading: str = ""
    headings: tuple[str, ...] = ()
    parent: str | None = None   # a lettered item's paragraph number
    letter: str | None = None

    @property
    def slug(self) -> str:
        """The IRI's last segment: "113", "29d", "p3"."""
        return self.number.replace("(", "").replace(")", "")


@dataclass
class Part:
    name: str              # "" for the resolution's body, "I", "II" for annexes
    title: str
    paragraphs: list[Paragraph] = field(default_factory=list)

    def numbered(self) -> list[Paragraph]:
        return [p for p in self.paragraphs if p.parent is None and not p.number.startswith("p")]

    def items(self) -> list[Paragraph]:
        return [p for p in self.paragraphs if p.parent is not None]


@dataclass
class Document:
    file: str
    symbol: str
    title: str
    adopted: str           # "17 December 2025" as printed
    parts: list[Part]
    footnote_refs: list[tuple[int, str]] = field(default_factory=list)  # (line, number) removed

    def part(self, name: str) -> Part:
        return next(p for p in self.parts if p.name == name)


# -- pages ----------------------------------------------------------------------------------------

def _clean_pages(lines: list[str], file: str) -> tuple[list[tuple[int, str | None]], list[tuple[int, str]]]:
    """(line number, text or None for a blank line) of the running text; page headers and the
    footnotes dropped, footnote reference numbers cut out of the text of their page."""
    pages: list[list[tuple[int, str]]] = [[]]
    for number, line in enumerate(lines, start=1):
        if line == "" and number < len(lines):
            pages.append([])
        pages[-1].append((number, line))
    out: list[tuple[int, str | None]] = []
    refs: list[tuple[int, str]] = []
    for index, page in enumerate(pages):
        if index:
            page = _drop_header(page, file)
        body, notes = page, []
        for at, (number, line) in enumerate(page):
            if FOOTNOTE_RULE.match(line):
                body, notes = page[:at], page[at + 1:]
                break
        body = [(n, l.rstrip()) for n, l in body]
        refs += _cut_footnote_refs(body, _footnote_numbers(notes))
        out += [(n, l if l.strip() else None) for n, l in body]
    return out, refs


def _drop_header(page: list[tuple[int, str]], file: str) -> list[tuple[int, str]]:
    head = page[:HEADER_LINES]
    marks = [at for at, (_, line) in enumerate(head) if PAGE_NUMBER.match(line) or JOB_NUMBER.match(line)]
    if len(marks) < 2:
        raise ParseError("garbled page: no page header (page number \"n/m\" and job number) after the page "
                         "break", file, page[0][0])
    rest = page[marks[1] + 1:]
    while rest and not rest[0][1].strip():
        rest = rest[1:]
    return rest


def _footnote_numbers(notes: list[tuple[int, str]]) -> list[str]:
    numbers: list[str] = []
    for _, line in notes:
        m = FOOTNOTE_LINE.match(line)
        if m and (not numbers or int(m.group(1)) == int(numbers[-1]) + 1):
            numbers.append(m.group(1))
    return numbers


MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
# A number set apart by a space is a footnote reference unless the words around it make it a count,
# a date or a cross-reference ("principle 7 thereof", "22 and 23 September").
NOT_A_REFERENCE_BEFORE = re.compile(r"(?:\b(?:and|or|to|of|on|in|by|at|from|between|principle|principles|article|"
                                    r"articles|paragraph|paragraphs|para\.|resolution|resolutions|No\.|vol\.|"
                                    r"Goal|SDG|SDGs|target|targets|chapter|session) )$")
NOT_A_REFERENCE_AFTER = re.compile(r"^\s*(?:" + MONTHS + r"|thousand|million|billion|trillion|per cent|years?)\b")


def _cut_footnote_refs(body: list[tuple[int, str]], numbers: list[str]) -> list[tuple[int, str]]:
    """Remove each footnote's reference number from the page's text, in order: attached to the word
    ("Rights.2", "Agenda1", "2021" + "13"), else set apart by a space ("Development. 17 We")."""
    cut = []
    start = (0, 0)
    for number in numbers:
        attached = re.compile(r"(?:(?<=[^\s\d/.(\-–])|(?<=[a-z]\.)|(?<=(?<!\d)(?:19|20)\d\d))" + number
                              + r"(?=[\s,.;:)”]|$)")
        after_mark = re.compile(r"(?<=[,.;:”)] )" + number + r"(?=[\s,.;:)”]|$)")
        after_word = re.compile(r"(?<=[A-Za-z] )" + number + r"(?=[\s,.;:)”]|$)")
        found = None
        for pattern in (attached, after_mark, after_word):
            for row in range(start[0], len(body)):
                line = body[row][1]
                for m in pattern.finditer(line, start[1] if row == start[0] else 0):
                    if _in_sdg_tag(line, m.start()):
                        continue
                    if pattern is not attached and (NOT_A_REFERENCE_BEFORE.search(line[:m.start()])
                                              or NOT_A_REFERENCE_AFTER.match(line[m.end():])):
                        continue
                    found = (row, m)
                    break
                if found:
                    break
            if found:
                break
        if not found:
            continue  # a footnote whose reference sits on another page (rare): the text keeps it
        row, m = found
        line = body[row][1]
        begin = m.start() - 1 if m.start() and line[m.start() - 1] == " " else m.start()
        body[row] = (body[row][0], line[:begin] + line[m.end():])
        cut.append((body[row][0], number))
        start = (row, begin)
    return cut


def _in_sdg_tag(line: str, at: int) -> bool:
    opened = line.rfind("(", 0, at)
    return opened >= 0 and line.find(")", opened) >= at and "SDG" in line[opened:at]


# -- paragraphs -----------------------------------------------------------------------------------

def _join(lines: list[str], vocabulary: set[str]) -> str:
    """Lines to one string: a line-end hyphen joins without a space; it is dropped only where the
    document spells the word without it elsewhere (a word broken by the typesetter)."""
    text = ""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if text.endswith("-") and re.search(r"[A-Za-z]-$", text):
            left = re.search(r"([A-Za-z]+)-$", text).group(1)
            right = re.match(r"[A-Za-z]*", line).group(0)
            joined = (left + right).lower()
            text = text[:-1] if joined in vocabulary and f"{left}-{right}".lower() not in vocabulary else text
            text += line
        else:
            text = f"{text} {line}" if text else line
    return re.sub(r"\s{2,}", " ", text).strip()


def _letter_after(letter: str | None) -> str:
    return "a" if letter is None else chr(ord(letter) + 1)


def parse(text: str, file: str, operative_openers: tuple[str, ...] = ("Adopts", "Decides")) -> Document:
    """The whole resolution: its symbol, title, adoption date and parts."""
    lines = text.split("\n")
    stream, refs = _clean_pages(lines, file)
    vocabulary = {w.lower() for w in re.findall(r"[A-Za-z]+(?:-[A-Za-z]+)*", " ".join(l for _, l in stream if l))}
    symbol_match = re.search(r"A/RES/\d+/\d+", text)
    if not symbol_match:
        raise ParseError("no resolution symbol (A/RES/nn/nnn) in the first page", file, 1)
    adopted = ADOPTED.search(text)
    if not adopted:
        raise ParseError('no "Resolution adopted by the General Assembly on <date>" line', file, 1)

    # The body starts after "The General Assembly"; before it: the cover page and the title.
    start = next((at for at, (_, l) in enumerate(stream) if l and re.match(r"^\s*The General Assembly,?\s*$", l)), None)
    if start is None:
        raise ParseError('no "The General Assembly" line opening the resolution', file, 1)
    title_at = next((at for at, (_, l) in enumerate(stream[:start]) if l and TITLE.match(l)), None)
    title_lines = []
    for _, l in stream[title_at:start] if title_at is not None else []:
        if l is None:
            break
        title_lines.append(l)
    title = TITLE.sub(r"\2", _join(title_lines, vocabulary)) if title_lines else ""

    parts: list[Part] = [Part("", title)]
    builder = _PartBuilder(parts[0], file, vocabulary, operative_openers)
    rows = stream[start + 1:]
    at = 0
    while at < len(rows):
        number, line = rows[at]
        if line is not None and SIGNATURE.match(line):
            builder.finish()
            builder = None
            at += 1
            continue
        if line is not None and ANNEX.match(line):
            if builder:
                builder.finish()
            name = ANNEX.match(line).group(1)
            title_rows, at = _block(rows, at + 1)
            part = Part(name, _join([l for _, l in title_rows], vocabulary))
            parts.append(part)
            builder = _PartBuilder(part, file, vocabulary, operative_openers, annex=True)
            continue
        if builder is None:
            at += 1  # the signature's date, then blank lines until an annex
            continue
        at = builder.feed(rows, at)
    if builder:
        builder.finish()
    return Document(file, symbol_match.group(0), title, adopted.group(1), parts, refs)


def _block(rows, at):
    """The rows of the block starting at `at` (skipping blanks) up to the next blank; and the index after."""
    while at < len(rows) and rows[at][1] is None:
        at += 1
    block = []
    while at < len(rows) and rows[at][1] is not None:
        block.append(rows[at])
        at += 1
    return block, at


class _PartBuilder:
    def __init__(self, part: Part, file: str, vocabulary: set[str], openers: tuple[str, ...], annex: bool = False):
        self.part, self.file, self.vocabulary, self.openers = part, file, vocabulary, openers
        self.expected = 1
        self.top, self.sub = (part.title,) if annex and part.title else (), None
        self.current: dict | None = None      # the paragraph or item being read
        self.paragraph: str | None = None     # the numbered paragraph items belong to
        self.letter: str | None = None
        self.heading_rows: list[str] | None = None
        self.heading_top = False
        self.preamble = 0
        self.after_blank = True

    # the heading path a paragraph stands under
    def _headings(self) -> tuple[str, ...]:
        return tuple(h for h in (*self.top, self.sub) if h)

    def _close(self):
        if self.current is not None:
            c = self.current
            self.part.paragraphs.append(Paragraph(
                c["number"], c["kind"], _join(c["lines"], self.vocabulary), c["line"], (self._headings() or ("",))[-1]
                if not c.get("headings") else c["headings"][-1], c.get("headings", ()), c.get("parent"), c.get("letter")))
            self.current = None
        if self.heading_rows is not None:
            heading = _join(self.heading_rows, self.vocabulary)
            if self.heading_top:
                self.top = (*self.top[:1], heading) if self.part.name else (heading,)
                self.sub = None
            else:
                self.sub = heading
            self.heading_rows = None

    def _start(self, number: str, kind: str, line: int, first: str | None, **extra):
        self._close()
        self.current = {"number": number, "kind": kind, "line": line, "lines": [first] if first else [],
                        "headings": self._headings(), **extra}

    def _text_ended(self) -> bool:
        if self.current is None:
            return True
        last = next((l for l in reversed(self.current["lines"]) if l.strip()), "")
        return last.rstrip().endswith(ENDS_SENTENCE)

    def feed(self, rows, at) -> int:
        number, line = rows[at]
        if line is None:
            self.after_blank = True
            if self.heading_rows is not None:
                self._close()
            return at + 1
        stripped = line.strip()
        para, item = PARAGRAPH.match(stripped), ITEM.match(stripped)
        if para and int(para.group(1)) == self.expected:
            self._start(para.group(1), "operative", number, para.group(2))
            self.paragraph, self.letter = para.group(1), None
            self.expected += 1
        elif para and int(para.group(1)) > self.expected and self._text_ended():
            raise ParseError(f"paragraph {para.group(1)} follows paragraph {self.expected - 1}: "
                             f"paragraph {self.expected} is missing", self.file, number)
        elif item and self.paragraph and item.group(1) == _letter_after(self.letter):
            self.letter = item.group(1)
            self._start(f"{self.paragraph}({self.letter})", "operative", number, item.group(2),
                        parent=self.paragraph, letter=self.letter)
        elif TOP_HEADING.match(stripped) and self._text_ended() and not para:
            self._close()
            self.heading_rows, self.heading_top = [stripped], True
        elif self.heading_rows is not None:
            self.heading_rows.append(stripped)
        elif self.after_blank and self._text_ended() and stripped[:1].isupper() and not para:
            block, _ = _block(rows, at)
            block = [b for b in block]
            cut = next((i for i, (_, l) in enumerate(block) if PARAGRAPH.match(l.strip()) or ITEM.match(l.strip())), len(block))
            block = block[:cut]
            is_heading = (len(block) <= PREAMBLE_HEADING_MAX_LINES
                          and not block[-1][1].rstrip().endswith(ENDS_SENTENCE))
            if is_heading:
                self._close()
                self.heading_rows, self.heading_top = [stripped], self.paragraph is None and not self.part.name
                if self.paragraph is None and not self.part.name:
                    self.heading_top = True
            elif self.paragraph is None or self.current is None:
                # the preamble; or an unnumbered lead-in under a heading ("we hereby pledge to:")
                self.preamble += 1
                kind = "operative" if stripped.split()[0] in self.openers else "preambular"
                self._start(f"p{self.preamble}", kind, number, stripped)
            else:
                self.current["lines"].append(stripped)
        elif self.current is not None:
            self.current["lines"].append(stripped)
        else:
            raise ParseError(f"text outside any paragraph: {stripped[:60]!r}", self.file, number)
        self.after_blank = False
        return at + 1

    def finish(self):
        self._close()
