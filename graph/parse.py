"""Outcome documents and consultation reports -> statements, with the line each one starts on.

Pure functions: text in, dataclasses out. No RDF and no store (data flows one way: the ingester
turns a ParsedDocument into entries; the parser never looks anything up).

Two shapes are understood:

* the WSIS Forum "Session Outcome Document" template (`parse_session_outcome`): a header (session
  title, organiser, date and time, session address) and sections recognised by meaning - key issues,
  tangible outcomes with achievements and agreements/commitments, recommendations - each holding
  bullets (dashes, bullets, numbers, letters) or plain paragraphs; one item is one statement, typed
  by the section it stands under;
* plain reports (`parse_report`): headings followed by prose paragraphs; every sentence is a
  statement, typed by the cue words in `CUES` below.

`parse_document` tells them apart. Line numbers always refer to the file as shipped: every "\\n" is
a line break ("\\r\\n" counts once; a stray "\\r" at a line's end is dropped and one inside a line
reads as a space; a file with "\\r" only is split on "\\r"), so `grep -n` shows the same numbers.
Statement texts are the source's words: wrapped lines joined by one space, the list marker removed,
tabs read as spaces; nothing else changes.

Limits, on purpose: reports are split at sentence ends (". ", "? ", "! " before a capital, a digit
or an opening quote), never at ";"; a sentence ending in a single capital letter ("Plan B. Next")
is not split (it reads as an initial, like "H. E."). Sentence types in reports come from cue words
only, so "noted that ... gaps persist" is a Challenge even where a curator would say KeyIssue; a
report heading that names a kind ("CHALLENGES", "Key recommendations") types everything under it.
Unrecognised sub-headings inside a template section keep the section's kind (with a warning).

Curators tune the behaviour through the data at the top of this module: `CUES` (sentence typing in
reports), `CUE_PRIORITY`, `SESSION_HEADINGS` (section recognition in outcome documents),
`FRAMING_HEADINGS` and `META_CUES` (what a report says about itself) and `ABBREVIATIONS`.
"""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from pathlib import PurePath

# ---------------------------------------------------------------------------------------------
# Data a curator can tune
# ---------------------------------------------------------------------------------------------

# Cue words typing a report's sentence. Each entry is a phrase matched case-insensitively on word
# boundaries; spaces match any run of whitespace; a trailing "*" matches any word ending
# ("recommend*" = recommend, recommends, recommended, recommendation ...). "{ORG}" stands for an
# organisation's acronym (two or more capitals, e.g. "ITU will"), except those in NOT_ORGANISATIONS.
CUES: dict[str, list[str]] = {
    "Commitment": [
        "commit", "commits", "committed to", "committing", "we will", "i will", "{ORG} will",
        "we are committed", "we remain committed", "pledge", "pledges", "pledged", "pledging",
        "undertake", "undertakes", "undertook", "undertaking to",
    ],
    "Recommendation": [
        "call for", "calls for", "called for", "calling for", "call on", "calls on", "called on",
        "called upon", "urge", "urges", "urged", "urging", "should", "must", "propose", "proposes",
        "proposed", "proposing", "recommend*", "advocate", "advocates", "advocated",
        "advocating", "need to", "needs to", "the need for", "encourage", "encourages", "encouraged",
        "suggest", "suggests", "suggested", "pressed for", "appealed", "requested",
    ],
    "Challenge": [
        "warn", "warns", "warned", "warning", "risk*", "threat*", "challenge", "challenges",
        "barrier*", "obstacle*", "gap", "gaps", "lack", "lacks", "lacked", "lacking", "cautioned",
        "caution*", "concern", "concerns", "concerned", "insufficient", "hamper*", "lament*",
    ],
    "Achievement": [
        "welcomed progress", "welcomed", "welcomes", "achieved", "achievement*", "success*",
        "milestone*", "established", "has enabled", "have enabled", "celebrated", "progress made",
    ],
}
# Acronyms that are not organisations making a pledge ("AI will transform ...").
NOT_ORGANISATIONS = ["AI", "ICT", "ICTS", "SDG", "SDGS", "GDC", "WSIS", "IT", "IOT", "DPI", "OER", "NRIS"]
# When a sentence carries cues of several kinds, the first kind in this order wins ("the review
# should commit to ..." is a Recommendation); a sentence with no cue is a KeyIssue.
CUE_PRIORITY = ["Recommendation", "Commitment", "Challenge", "Achievement"]
DEFAULT_KIND = "KeyIssue"

# Headings of the session outcome template, recognised by meaning: the heading is lower-cased,
# quotes removed, "&" read as "and", dashes and slashes read as spaces, then searched with these
# patterns in this order. "outcomes" is the "Tangible Outcomes" container: items standing directly
# under it (with no sub-heading) are typed Commitment when they carry a Commitment cue, else
# Achievement.
SESSION_HEADINGS: list[tuple[str, str]] = [
    ("KeyIssue", r"\bkey issues?\b|\bissues discussed\b|\bmain issues\b|\bkey discussion points\b"),
    ("Achievement", r"\bachievements?\b"),
    ("Commitment", r"\bagreements?\b|\bcommitments?\b"),
    ("Recommendation", r"\brecommendations?\b|\baction plan\b|\bway forward\b|\bnext steps\b"),
    ("Challenge", r"\bchallenges?\b"),
    ("outcomes", r"\btangible outcomes?\b|\boutcomes of the session\b"),
]
# How a missing template section is named in the warning.
SESSION_SECTION_NAMES = {
    "KeyIssue": "Key Issues", "Achievement": "Key achievements",
    "Commitment": "Agreements / commitments", "Recommendation": "Recommendations",
}

# Report headings whose paragraphs frame the document rather than report inputs: their sentences
# (and any before the first heading) are statements only if they carry a cue. Matched as words in
# the lower-cased heading.
FRAMING_HEADINGS = ["introduction", "background", "overview", "thematic inputs", "context",
                    "purpose", "methodology", "about this", "preamble", "table of contents"]
# Sentences that talk about the document itself ("The inputs are summarised below.") are skipped
# when they carry no other cue.
META_CUES = ["summarised below", "summarized below", "set out below", "are as follows",
             "is as follows", "this report", "this summary", "this document"]

# Words that end with a period without ending the sentence (compared lower-case, without the
# period). Single letters ("H. E.", "U.N.") are always taken as initials.
ABBREVIATIONS = {
    "e.g", "i.e", "cf", "vs", "viz", "mr", "mrs", "ms", "dr", "prof", "st", "no", "nos", "art",
    "para", "paras", "amb", "h.e", "approx", "inc", "ltd", "co", "corp", "jr", "sr", "fig", "vol",
    "pp", "p", "ch", "sec", "u.n", "u.s", "u.k", "e.u", "rev", "gen", "gov", "est", "dept", "ref",
    "op", "al", "ed", "eds", "res", "doc",
}

# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------

STATEMENT_KINDS = ("KeyIssue", "Achievement", "Challenge", "Recommendation", "Commitment")


class ParseError(ValueError):
    """The text is empty, unreadable or not a document; the message says why (and where)."""


@dataclass
class ParsedStatement:
    kind: str          # "KeyIssue" | "Achievement" | "Challenge" | "Recommendation" | "Commitment"
    text: str          # the source's own words: wrapped lines joined by one space, marker removed
    line: int          # 1-based first line in the original file
    end_line: int      # last line
    section: str       # the heading it stands under, as printed (trimmed); "" when none


@dataclass
class ParsedDocument:
    kind: str                          # "session-outcome" | "report"
    title: str | None = None
    date: datetime.date | None = None
    start: datetime.time | None = None
    end: datetime.time | None = None
    url: str | None = None
    organizer_line: str | None = None
    statements: list[ParsedStatement] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for st in self.statements:
            out[st.kind] = out.get(st.kind, 0) + 1
        return out


def parse_document(text: str | bytes, filename: str = "") -> ParsedDocument:
    """Parse either shape, telling them apart by the template's marks."""
    lines = _prepare(text, filename)
    if _looks_like_session_outcome(lines):
        return _parse_session_outcome(lines)
    return _parse_report(lines, filename)


def parse_session_outcome(text: str | bytes, filename: str = "") -> ParsedDocument:
    return _parse_session_outcome(_prepare(text, filename))


def parse_report(text: str | bytes, filename: str = "") -> ParsedDocument:
    return _parse_report(_prepare(text, filename), filename)


def classify_sentence(sentence: str) -> str:
    """The statement kind of a report sentence by its cue words (see CUES, CUE_PRIORITY)."""
    kind, _ = _cue_kind(sentence)
    return kind or DEFAULT_KIND


# ---------------------------------------------------------------------------------------------
# Reading the text
# ---------------------------------------------------------------------------------------------

# Control characters (but tab), undecodable (U+FFFD), private-use, surrogates, non-characters.
_BAD_RE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffd\ue000-\uf8ff\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
_CTRL_RE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_SPACE_RE = re.compile(r"\s")
_LETTER_RE = re.compile(r"[^\W\d_]")


def _prepare(text: str | bytes, filename: str = "") -> list[str]:
    """Check that this is readable text and split it into lines numbered as in the file. Error
    messages say where (line and column, or byte offset) but not the file: the caller names it."""
    where = ""
    if isinstance(text, (bytes, bytearray)):
        data = bytes(text)
        if b"\x00" in data:
            raise ParseError(f"{where}binary data, not a text document (NUL byte at offset {data.index(0)})")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ParseError(f"{where}not UTF-8 text (undecodable byte at offset {exc.start})") from None
    if not isinstance(text, str):
        raise ParseError(f"{where}expected text, got {type(text).__name__}")
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise ParseError(f"{where}the document is empty" + (" (only whitespace)" if text else ""))
    if "\n" not in text and "\r" in text:
        raw = text.split("\r")          # old Mac line endings
    else:
        raw = text.split("\n")
    lines = []
    for line in raw:
        line = line.rstrip("\r").replace("\r", " ").replace("\f", "").replace("\v", " ").replace("\ufeff", "")
        lines.append(line)

    # Binary or garbage: control characters, undecodable characters, too few letters.
    joined = "\n".join(lines)
    visible = len(joined) - len(_SPACE_RE.findall(joined))
    letters = len(_LETTER_RE.findall(joined))
    bad_chars = _BAD_RE.findall(joined)
    bad = len(bad_chars)
    if bad and ("\x00" in bad_chars or bad > max(2, visible // 100)):
        first = _BAD_RE.search(joined).start()
        no = joined.count("\n", 0, first) + 1
        col = first - (joined.rfind("\n", 0, first) + 1) + 1
        ch = joined[first]
        raise ParseError(f"{where}binary or garbled data, not a text document: {bad} of {visible} "
                         f"characters are control or undecodable characters (first, U+{ord(ch):04X}, "
                         f"at line {no}, column {col})")
    if visible and letters / visible < 0.4:
        raise ParseError(f"{where}does not look like a text document: only {100 * letters // visible}% "
                         f"of its {visible} characters are letters")
    if bad:
        lines = [_CTRL_RE.sub("", line) for line in lines]     # a few stray control characters: dropped
    words = sum(len(re.findall(r"[^\W\d_]{2,}", line)) for line in lines)
    if words < 3:
        raise ParseError(f"{where}too little text to be a document ({words} word{'s' if words != 1 else ''})")
    return lines


# ---------------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------------

_QUOTES = "\"'“”„‟‘’‚‛«»‹›`´"
_DASH_MARK = r"[-–—•*·▪●◦‣○■□➢►▸✓✔]"
_NUM_MARK = r"(?:\(?\d{1,3}[.)]|\(?[A-Za-z][.)]|\((?:[ivxlcIVXLC]{1,6}|\d{1,3}|[A-Za-z])\)|[ivxlcIVXLC]{1,6}[.)])"
_BULLET_RE = re.compile(rf"^(?:{_DASH_MARK}\s+|•\s*|o\s+(?=\S)|{_NUM_MARK}(?:\s+|(?=[A-Z“\"‘'])))")
_URL_RE = re.compile(r"https?://[^\s<>()\[\]{}\"“”]+", re.I)
_TERMINAL = ".!?;:…"
_CLOSERS = _QUOTES + ")]}*_"


def _bullet(line: str) -> tuple[bool, str, str]:
    """(is it a bullet, the marker, the text after the marker) for a stripped line."""
    m = _BULLET_RE.match(line)
    if not m or not line[m.end():].strip():
        return False, "", line
    body = line[m.end():].strip()
    inner = re.match(rf"^(?:{_DASH_MARK}|o)\s+(?=\S)", body)   # a doubled marker: "- · text"
    if inner and re.fullmatch(_DASH_MARK, m.group(0).strip()):
        body = body[inner.end():]
    return True, m.group(0).strip(), body


def _clean(text: str) -> str:
    return re.sub(r"\t+", " ", text.strip())


def _normal_heading(text: str) -> str:
    """A heading reduced to its words: lower case, no quotes, markdown or marker, & -> and."""
    t = text.strip().strip("#").strip()
    t = t.replace("**", "").replace("__", "")
    t = t.lower().replace("&", " and ")
    t = "".join(" " if ch in _QUOTES else ch for ch in t)
    t = re.sub(r"[-–—/|_:(),.;]+", " ", t)
    return re.sub(r"\s+", " ", t).strip()


def _finished(text: str) -> bool:
    """Does this text end a sentence (so a following line is not its continuation)?"""
    t = text.rstrip().rstrip(_CLOSERS)
    return bool(t) and t[-1] in _TERMINAL


_GOES_ON = re.compile(r"(?:[,;:(&+/–—-]|\b(?:and|or|but|of|for|the|a|an|in|on|to|with|from|by|at|as|that|"
                      r"which|such|including|between|towards?|beyond|into|than|its|their|our))$", re.I)


def _continues(text: str) -> bool:
    """Does this text stop where it cannot end (a comma, "and", "of" ...)?"""
    return bool(_GOES_ON.search(text.rstrip()))


def _cue_pattern(phrase: str) -> str:
    words = []
    for word in phrase.split():
        if word == "{ORG}":
            not_orgs = "|".join(re.escape(a) for a in NOT_ORGANISATIONS)
            words.append(rf"(?-i:(?!(?:{not_orgs})\b)[A-Z][A-Z0-9&]+)")
            continue
        star = word.endswith("*")
        word = re.escape(word.rstrip("*"))
        words.append(word + (r"\w*" if star else ""))
    return r"\s+".join(words)


def _cue_regex(phrases: list[str]) -> re.Pattern:
    return re.compile(r"\b(?:" + "|".join(_cue_pattern(p) for p in phrases) + r")\b", re.I)


_CUE_RES = {kind: _cue_regex(phrases) for kind, phrases in CUES.items()}
_META_RE = _cue_regex(META_CUES)


def _cue_kind(sentence: str) -> tuple[str | None, str | None]:
    """(kind, the cue that decided it) or (None, None) when the sentence carries no cue."""
    for kind in CUE_PRIORITY:
        rx = _CUE_RES.get(kind)
        if rx is None:
            continue
        m = rx.search(sentence)
        if m:
            return kind, m.group(0)
    return None, None


# Dates and times
_MONTHS = {m: i for i, names in enumerate(
    [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
     ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
     ("october", "oct"), ("november", "nov"), ("december", "dec")], start=1) for m in names}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATE_RES = [
    re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+(?P<year>\d{{4}})\b", re.I),
    re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})\b", re.I),
    re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})\b"),
    re.compile(r"\b(?P<day>\d{1,2})[./](?P<month>\d{1,2})[./](?P<year>\d{4})\b"),
]
_AMPM = r"(?:\s*(?P<{}>[ap]\.?m\.?))?"
_TIME_RE = re.compile(
    r"(?<![\d.:/])(?P<h1>\d{1,2})[:.h](?P<m1>\d{2})" + _AMPM.format("p1")
    + r"(?:\s*(?:[-–—‒]|to|until)\s*(?P<h2>\d{1,2})[:.h](?P<m2>\d{2})" + _AMPM.format("p2") + r")?(?![\d.]\d)",
    re.I)


def _find_date(line: str) -> tuple[datetime.date | None, tuple[int, int] | None]:
    for rx in _DATE_RES:
        for m in rx.finditer(line):
            month = m.group("month")
            month = int(month) if month.isdigit() else _MONTHS[month.lower().rstrip(".")]
            try:
                return datetime.date(int(m.group("year")), month, int(m.group("day"))), m.span()
            except ValueError:
                continue
    return None, None


def _clock(h: str, m: str, ampm: str | None) -> datetime.time | None:
    hour, minute = int(h), int(m)
    if ampm:
        pm = ampm.lower().startswith("p")
        if hour == 12:
            hour = 12 if pm else 0
        elif pm:
            hour += 12
    try:
        return datetime.time(hour, minute)
    except ValueError:
        return None


def _find_times(line: str) -> tuple[datetime.time | None, datetime.time | None]:
    m = _TIME_RE.search(line)
    if not m:
        return None, None
    p1, p2 = m.group("p1"), m.group("p2")
    start = _clock(m.group("h1"), m.group("m1"), p1 or p2)
    end = _clock(m.group("h2"), m.group("m2"), p2) if m.group("h2") else None
    return start, end


def _find_url(line: str) -> str | None:
    m = _URL_RE.search(line)
    return m.group(0).rstrip(".,;:!?>'’") if m else None


# ---------------------------------------------------------------------------------------------
# Session outcome documents
# ---------------------------------------------------------------------------------------------

_SOD_RE = re.compile(r"^\W*session\s+outcome\s+document\W*$", re.I)
_TITLE_RE = re.compile(
    r"^\W*(?:session\s+(?:title|name)|title(?:\s+of\s+(?:the\s+)?session)?)"
    r"\s*(?:[:：\-–—]\s*(?P<title>.*)|$)", re.I)
_HEADING_RES = [(kind, re.compile(rx)) for kind, rx in SESSION_HEADINGS]


def _demark(line: str) -> str:
    """A line without markdown emphasis or heading marks."""
    return re.sub(r"^#{1,6}\s*", "", line.strip()).replace("**", "").replace("__", "").strip()


def _session_heading(line: str, after_blank: bool = False) -> tuple[str | None, bool]:
    """(kind, has a list marker) when this stripped line reads as a template heading. A heading
    starts with a capital or a digit, unless a blank line stands before it ("key issues")."""
    if _SOD_RE.match(_demark(line)) or _TITLE_RE.match(_demark(line)):
        return None, False
    body = line.strip().lstrip("#").strip()
    marked = False
    m = _BULLET_RE.match(body)
    if m:
        marker = m.group(0).strip()
        if re.fullmatch(_DASH_MARK, marker) or marker == "•":
            if not body.rstrip().endswith(":"):   # a dash bullet is a heading only as a lead-in
                return None, False
        marked = True
        body = body[m.end():].strip()
    plain = body.replace("**", "").replace("__", "").strip()
    first = plain.lstrip(_QUOTES + "([ ")[:1]
    if not first or not (first.isupper() or first.isdigit() or (after_blank and first.isalpha())):
        return None, False
    if not plain or len(plain) > 100 or plain.rstrip(_CLOSERS).endswith((".", ";", ",", "!")):
        return None, False
    if _continues(plain.rstrip(":").rstrip()) and not plain.rstrip().endswith(":"):
        return None, False                  # "Key recommendations of the" goes on below
    norm = _normal_heading(plain)
    if not norm or len(norm.split()) > (8 if marked else 12):
        return None, False
    for kind, rx in _HEADING_RES:
        if rx.search(norm):
            return kind, marked
    return None, False


def _looks_like_session_outcome(lines: list[str]) -> bool:
    """The template's mark ("Session Outcome Document", "Session Title:") or three of its headings."""
    kinds = set()
    prev_blank = True
    for line in lines:
        s = line.strip()
        if not s:
            prev_blank = True
            continue
        if _SOD_RE.match(_demark(s)) or _TITLE_RE.match(_demark(s)):
            return True
        if prev_blank and len(s) <= 120:
            kind, _ = _session_heading(s, after_blank=True)
            if kind:
                kinds.add(kind)
        prev_blank = False
    return len(kinds & {"KeyIssue", "outcomes", "Achievement", "Commitment", "Recommendation"}) >= 3


@dataclass
class _Item:
    kind: str
    section: str
    lines: list[tuple[int, str]]   # (line number, text without marker)

    @property
    def text(self) -> str:
        return " ".join(_clean(t) for _, t in self.lines if _clean(t))


def _parse_session_outcome(lines: list[str]) -> ParsedDocument:
    doc = ParsedDocument(kind="session-outcome")
    n = len(lines)
    blank = [not line.strip() for line in lines]

    def next_nonblank(i: int) -> int | None:
        j = i + 1
        while j < n and blank[j]:
            j += 1
        return j if j < n else None

    items: list[_Item] = []
    header: list[int] = []                 # indices of non-blank lines before the first heading
    section: str | None = None             # heading as printed
    section_kind: str | None = None
    section_line = 0
    seen: dict[str, int] = {}
    section_items: dict[int, int] = {}     # heading line -> items under it
    current: _Item | None = None
    prev_blank = True
    awaiting_title = False                 # after "Session Outcome Document" / a bare "Session Title:"

    def close():
        nonlocal current
        if current is not None and current.text:
            items.append(current)
            section_items[section_line] = section_items.get(section_line, 0) + 1
        current = None

    for i, raw in enumerate(lines):
        no = i + 1
        s = raw.strip()
        if not s:
            prev_blank = True
            continue
        if section_kind is None:
            plain = _demark(s)
            title = _TITLE_RE.match(plain)
            if _SOD_RE.match(plain) or (title and not (title.group("title") or "").strip()):
                awaiting_title = True       # the next line is the title, whatever it says
                header.append(i)
                prev_blank = False
                continue
            if awaiting_title and not (_find_url(plain) or _find_date(plain)[0]):
                awaiting_title = False
                header.append(i)
                prev_blank = False
                continue
        joins = (prev_blank and current is not None and s[:1].islower() and _continues(current.text))
        kind, marked = _session_heading(s, after_blank=prev_blank) if not joins else (None, False)
        if kind and marked and kind == section_kind:
            kind = None                     # "2. Agreement on ..." under Agreements: an item
        if kind and (prev_blank or current is None or s.startswith("#") or not _continues(current.text)):
            close()
            section, section_kind, section_line = s, kind, no
            seen.setdefault(kind, no)
            section_items.setdefault(no, 0)
            prev_blank = False
            continue
        if section_kind is None:            # still in the header
            header.append(i)
            prev_blank = False
            continue
        is_bullet, _, body = _bullet(s)
        if is_bullet:
            close()
            current = _Item(section_kind, section, [(no, body)])
        elif current is not None and not prev_blank:
            current.lines.append((no, s))
        elif current is not None and not _finished(current.text) and s[:1].islower():
            current.lines.append((no, s))   # a wrapped item broken by a blank line (page break)
        else:
            close()
            j = next_nonblank(i)
            single = i + 1 >= n or blank[i + 1]
            if (single and len(s) <= 80 and not s.rstrip(_CLOSERS).endswith((".", ";", ",", "!", "?"))
                    and s[:1].isupper() and j is not None and _bullet(lines[j].strip())[0]):
                doc.warnings.append(f"line {no}: heading {s!r} not recognised; the items under it are "
                                    f"kept as {_kind_label(section_kind)}")
                section, section_line = s, no
                section_items.setdefault(no, 0)
            else:
                current = _Item(section_kind, section, [(no, s)])
        prev_blank = False
    close()

    # Header: title, organiser, date and time, address.
    _read_header(doc, lines, header)

    # Items -> statements
    for item in items:
        kind = item.kind
        if kind == "outcomes":
            cue, _ = _cue_kind(item.text)
            kind = "Commitment" if cue == "Commitment" else "Achievement"
        doc.statements.append(ParsedStatement(kind, item.text, item.lines[0][0], item.lines[-1][0], item.section))
    outside = [it for it in items if it.kind == "outcomes"]
    if outside:
        doc.warnings.append(f"{len(outside)} item(s) stand directly under 'Tangible Outcomes' with no "
                            "sub-heading: typed Commitment when they say so, else Achievement")
    for kind, name in SESSION_SECTION_NAMES.items():
        if kind not in seen:
            doc.warnings.append(f"no '{name}' section found")
    for line_no, count in sorted(section_items.items()):
        if count == 0 and _session_heading(lines[line_no - 1].strip())[0] != "outcomes":
            doc.warnings.append(f"line {line_no}: section {lines[line_no - 1].strip()!r} has no items")
    if not seen:
        doc.warnings.append("no section of the session outcome template found (key issues, achievements, "
                            "agreements / commitments, recommendations)")
    return doc


def _title_and_rest(block: list[str]) -> tuple[str, list[str]]:
    """A title wrapped over several lines, and what follows it in the same block (the organiser):
    a line continues the title when it starts in lower case or the line before cannot end one."""
    title = [_clean(block[0])]
    k = 1
    while k < len(block) and (block[k][:1].islower() or _continues(title[-1])):
        title.append(_clean(block[k]))
        k += 1
    rest = []
    for line in block[k:]:
        if _find_url(line) or _find_date(line)[0] or _TIME_RE.search(line):
            break                           # the organiser stands before the date and address
        if _clean(line):
            rest.append(_clean(line))
    return " ".join(t for t in title if t), rest


def _kind_label(kind: str | None) -> str:
    return "outcomes" if kind == "outcomes" else (kind or "?")


def _read_header(doc: ParsedDocument, lines: list[str], header: list[int]) -> None:
    # Blocks of consecutive non-blank header lines.
    blocks: list[list[int]] = []
    for i in header:
        if blocks and blocks[-1][-1] == i - 1:
            blocks[-1].append(i)
        else:
            blocks.append([i])
    date_block = None
    title_block = None
    sod_block = None
    title_next = False
    for b, block in enumerate(blocks):
        for i in block:
            s = _demark(lines[i])
            if doc.url is None and _find_url(s):
                doc.url = _find_url(s)
            m = _TITLE_RE.match(s)
            if m and doc.title is None:
                rest = [_demark(lines[k]) for k in block if k > i]
                if not (m.group("title") or "").strip():   # "Session Title:" alone: the title follows
                    if not rest and b + 1 < len(blocks):
                        rest = [_demark(lines[k]) for k in blocks[b + 1]]
                        title_next = True
                    if not rest:
                        continue
                    doc.title, extra = _title_and_rest(rest)
                    title_block = b + 1 if title_next else b
                    if extra and doc.organizer_line is None:
                        doc.organizer_line = " ".join(extra)
                    continue
                doc.title, extra = _title_and_rest([_clean(m.group("title"))] + rest)
                title_block = b
                if extra and doc.organizer_line is None:
                    doc.organizer_line = " ".join(extra)
            if _SOD_RE.match(s) and sod_block is None:
                sod_block = b
            if doc.date is None:
                date, span = _find_date(s)
                if date:
                    doc.date = date
                    date_block = b
                    rest = s[:span[0]] + " " + s[span[1]:]
                    doc.start, doc.end = _find_times(rest)
    if doc.date is not None and doc.start is None:
        for block in blocks[date_block:date_block + 3]:
            for i in block:
                start, end = _find_times(lines[i])
                if start:
                    doc.start, doc.end = start, end
                    break
            if doc.start:
                break

    def plain(block: list[int]) -> bool:
        text = " ".join(_demark(lines[i]) for i in block)
        return not (_SOD_RE.match(text) or _find_url(text) or _find_date(text)[0] or _TITLE_RE.match(text))

    if doc.title is None:
        start = sod_block + 1 if sod_block is not None else 0
        for b in range(start, len(blocks)):
            if plain(blocks[b]):
                doc.title, extra = _title_and_rest([_demark(lines[i]) for i in blocks[b]])
                title_block = b
                if extra:
                    doc.organizer_line = " ".join(extra)
                break
    if title_block is not None and doc.organizer_line is None:
        for b in range(title_block + 1, len(blocks)):
            if date_block is not None and b >= date_block:
                break
            if plain(blocks[b]):
                text = " ".join(_demark(lines[i]) for i in blocks[b])
                if len(text) <= 120:
                    doc.organizer_line = text
                break
    if doc.title is None:
        doc.warnings.append("no session title found")
    if doc.date is None:
        doc.warnings.append("no session date found")
    if doc.url is None:
        doc.warnings.append("no session address (URL) found")


# ---------------------------------------------------------------------------------------------
# Reports: headings and prose paragraphs
# ---------------------------------------------------------------------------------------------

_PAGE_FURNITURE = re.compile(r"^(?:\d{1,4}|page\s+\d+(?:\s+of\s+\d+)?|[-–—]\s*\d+\s*[-–—])$", re.I)
_QUESTION_HEAD = re.compile(r"^(?:\(?\d{1,3}[.)]|q\d{1,3}[.:)]?)\s*\S", re.I)


def _caps_line(s: str) -> bool:
    letters = [ch for ch in s if ch.isalpha()]
    return len(letters) >= 3 and sum(ch.isupper() for ch in letters) / len(letters) >= 0.8 and len(s) <= 120


def _report_heading(block: list[tuple[int, str]]) -> bool:
    text = " ".join(t for _, t in block)
    first = block[0][1]
    if not first[:1].isupper() and not first[:1].isdigit() and first[:1] not in _QUOTES:
        return False
    if text.endswith("?") and len(block) <= 3 and len(text) <= 300 and (_QUESTION_HEAD.match(text) or len(block) == 1):
        return True
    if len(block) != 1 or _continues(first):
        return False
    if _caps_line(first) and not first.endswith("."):
        return True
    return len(first) <= 80 and not first.rstrip(_CLOSERS).endswith((".", ",", ";", ":", "!"))


def _report_heading_kind(heading: str | None) -> str | None:
    """A report heading that names a statement kind ("CHALLENGES", "Key recommendations") types
    every statement under it; longer headings ("Challenges and opportunities of AI") do not."""
    if not heading or len(_normal_heading(heading).split()) > 4:
        return None
    kind = _session_heading(heading)[0]
    return kind if kind in ("Achievement", "Challenge", "Recommendation", "Commitment") else None


def _framing(heading: str | None) -> bool:
    if heading is None:
        return True
    norm = _normal_heading(heading)
    return any(re.search(r"(?<!\w)" + re.escape(word) + r"(?!\w)", norm) for word in FRAMING_HEADINGS)


def _split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the sentences of a paragraph."""
    spans = []
    start = 0
    n = len(text)
    i = 0
    while i < n:
        ch = text[i]
        if ch in ".!?…":
            j = i + 1
            while j < n and text[j] in ".!?…":
                j += 1
            while j < n and text[j] in _CLOSERS:
                j += 1
            k = j
            while k < n and text[k].isspace():
                k += 1
            if k == n:
                break
            if k > j:
                nxt = text[k]
                opens = nxt.isupper() or nxt.isdigit() or nxt in "“\"‘'(["
                if opens and not (ch == "." and _abbreviation(text, i)):
                    spans.append((start, j))
                    start = k
            i = j
            continue
        i += 1
    spans.append((start, n))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _abbreviation(text: str, dot: int) -> bool:
    m = re.search(r"(\S+)$", text[max(0, dot - 40):dot])
    if not m:
        return False
    token = m.group(1).lstrip(_QUOTES + "([")
    if not token:
        return False
    if re.fullmatch(r"(?:[A-Za-z]\.)*[A-Za-z]", token):     # initials: "H", "E", "U.N", "e.g"
        return True
    return token.lower() in ABBREVIATIONS


@dataclass
class _Para:
    section: str | None
    lines: list[tuple[int, str]]
    bullet: bool = False


def _parse_report(lines: list[str], filename: str = "") -> ParsedDocument:
    doc = ParsedDocument(kind="report")
    # Blocks of consecutive non-blank lines.
    blocks: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    for i, raw in enumerate(lines):
        s = raw.strip()
        if s:
            current.append((i + 1, s))
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)

    headings: list[tuple[int, str]] = []
    paras: list[_Para] = []
    section: str | None = None
    first_prose_seen = False
    for block in blocks:
        text = " ".join(t for _, t in block)
        if len(block) == 1 and (_PAGE_FURNITURE.match(text) or (_URL_RE.fullmatch(text.strip("<>")))):
            if _URL_RE.fullmatch(text.strip("<>")) and not first_prose_seen and doc.url is None:
                doc.url = _find_url(text)
            continue                        # page numbers and footnote addresses between paragraphs
        last = paras[-1] if paras else None
        if (last is not None and last.section == section and not last.bullet
                and not _finished(" ".join(t for _, t in last.lines)) and block[0][1][:1].islower()):
            last.lines.extend(block)        # a paragraph broken by a page break
            continue
        if _report_heading(block):
            section = text
            headings.append((block[0][0], text))
            continue
        if len(block) > 1 and _caps_line(block[0][1]) and not block[0][1].endswith("."):
            section = block[0][1]
            headings.append((block[0][0], section))
            block = block[1:]
        first_prose_seen = True
        # Bulleted or numbered items in the block are statements of their own.
        para: _Para | None = None
        for no, s in block:
            is_bullet, _, body = _bullet(s)
            if is_bullet:
                para = _Para(section, [(no, body)], bullet=True)
                paras.append(para)
            elif para is None:
                para = _Para(section, [(no, s)])
                paras.append(para)
            else:
                para.lines.append((no, s))

    if blocks and headings and headings[0][0] == blocks[0][0][0] and not _framing(headings[0][1]):
        doc.title = headings[0][1]
    elif filename:
        doc.title = PurePath(filename).stem
    elif headings and not _framing(headings[0][1]):
        doc.title = headings[0][1]

    # Date: the first one named near the top.
    for no, s in [ln for block in blocks[:6] for ln in block][:40]:
        date, _ = _find_date(s)
        if date:
            doc.date = date
            doc.start, doc.end = _find_times(s)
            break

    skipped: dict[str, list[int]] = {}
    hint: str | None = None
    for para in paras:
        text_parts = [(_clean(t), no) for no, t in para.lines]
        text = ""
        offsets: list[tuple[int, int]] = []    # (offset in text, line number)
        for part, no in text_parts:
            if not part:
                continue
            if text:
                text += " "
            offsets.append((len(text), no))
            text += part

        def line_at(pos: int) -> int:
            line_no = offsets[0][1]
            for off, no in offsets:
                if off <= pos:
                    line_no = no
                else:
                    break
            return line_no

        heading = para.section
        heading_kind = _report_heading_kind(heading)
        # Text before the first heading frames the document, unless there is no heading at all.
        framing = heading_kind is None and (_framing(heading) if heading is not None else bool(headings))
        spans = [(0, len(text))] if para.bullet else _split_sentences(text)
        if not para.bullet:
            hint = None
        for a, b in spans:
            raw = text[a:b]
            sentence = raw.strip()
            if not sentence:
                continue
            a += len(raw) - len(raw.lstrip())
            b = a + len(sentence)
            cue, _ = _cue_kind(sentence)
            if not para.bullet and sentence.endswith(":"):
                hint = cue                  # a lead-in to a list: not a statement itself
                continue
            if cue is None and (framing or _META_RE.search(sentence)):
                skipped.setdefault(heading or "(before the first heading)", []).append(line_at(a))
                continue
            kind = heading_kind or cue or (hint if para.bullet and hint else DEFAULT_KIND)
            doc.statements.append(ParsedStatement(kind, sentence, line_at(a), line_at(b - 1), heading or ""))
    for heading, at in skipped.items():
        doc.warnings.append(f"skipped {len(at)} sentence(s) under {heading!r} (lines {min(at)}-{max(at)}): "
                            "framing text with no cue word")
    if not headings:
        doc.warnings.append("no headings found: statements have no section")
    if not doc.statements:
        doc.warnings.append("no statements found")
    return doc
