"""The document parser (graph/parse.py): outcome documents and reports -> statements with their lines.

Line numbers asserted here were read off the files with `grep -n "" FILE`.
"""
from __future__ import annotations

import datetime
import random
import re
from pathlib import Path

import pytest

from wsiskg.graph.parse import (CUES, ParseError, ParsedDocument, classify_sentence, parse_document,
                                parse_report, parse_session_outcome)

REPO = Path(__file__).resolve().parent.parent
SOURCES = REPO / "graph" / "sources"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "parse"
S440 = SOURCES / "000_319479e8c5ebbfb1.txt"
S480 = SOURCES / "001_5e32a28119d73e9f.txt"
REPORT = SOURCES / "003_e580bd3b69fe50e9.txt"


def parse_file(path: Path) -> ParsedDocument:
    return parse_document(path.read_bytes().decode("utf-8"), path.name)


def counts(doc: ParsedDocument) -> dict[str, int]:
    out: dict[str, int] = {}
    for st in doc.statements:
        out[st.kind] = out.get(st.kind, 0) + 1
    return out


def kinds_texts(doc: ParsedDocument) -> list[tuple[str, str]]:
    return [(st.kind, st.text) for st in doc.statements]


def by_first_words(doc: ParsedDocument, start: str):
    found = [st for st in doc.statements if st.text.startswith(start)]
    assert len(found) == 1, (start, [st.text[:50] for st in found])
    return found[0]


@pytest.fixture(scope="module")
def s440():
    return parse_file(S440)


@pytest.fixture(scope="module")
def s480():
    return parse_file(S480)


@pytest.fixture(scope="module")
def report():
    return parse_file(REPORT)


# --- Session outcome documents -------------------------------------------------------------------

def test_session_440_counts(s440):
    assert s440.kind == "session-outcome"
    assert counts(s440) == {"KeyIssue": 7, "Achievement": 2, "Commitment": 2, "Recommendation": 5}
    assert s440.warnings == []


def test_session_480_counts(s480):
    assert s480.kind == "session-outcome"
    assert counts(s480) == {"KeyIssue": 6, "Achievement": 2, "Commitment": 2, "Recommendation": 4}
    assert s480.warnings == []


def test_session_headers(s440, s480):
    assert s440.title == ("WSIS+20 Consultation: Two Decades of WSIS \u2013 Advancing Digital Cooperation "
                          "Through Action Lines")
    assert s440.date == datetime.date(2025, 7, 8)
    assert (s440.start, s440.end) == (datetime.time(12, 0), datetime.time(14, 0))
    assert s440.url == "https://www.itu.int/net4/wsis/forum/2025/Agenda/Session/440"
    assert s440.organizer_line == "WSIS"
    assert s480.title == "Knowledge Caf\u00e9: WSIS+20 Consultation \u2013 Towards a Vision Beyond 2025"
    assert s480.date == datetime.date(2025, 7, 11)
    assert (s480.start, s480.end) == (datetime.time(12, 0), datetime.time(14, 0))
    assert s480.url == "https://www.itu.int/net4/wsis/forum/2025/Agenda/Session/480"
    assert s480.organizer_line == "WSIS"


@pytest.mark.parametrize("first_words, kind, line, section", [
    ("Mainstream youth voices:", "KeyIssue", 17, "Key Issues Discussed \u2013 \u201cLooking Beyond 2025\u201d"),
    ("Infrastructure bottlenecks:", "KeyIssue", 23, "Key Issues Discussed \u2013 \u201cLooking Beyond 2025\u201d"),
    ("Endorsement that the original", "Achievement", 29, "1. Key achievements acknowledged"),
    ("Validation of the multistakeholder", "Achievement", 30, "1. Key achievements acknowledged"),
    ("Commitment by youth-led networks", "Commitment", 36, "3. Agreements / commitments"),
    ("Civil-society coalition will curate", "Commitment", 37, "3. Agreements / commitments"),
    ("Institutionalise youth co-leadership", "Recommendation", 41, "Key Recommendations & Forward-Looking Action Plan"),
    ("Boost last-mile capacity", "Recommendation", 45, "Key Recommendations & Forward-Looking Action Plan"),
])
def test_session_440_sample(s440, first_words, kind, line, section):
    st = by_first_words(s440, first_words)
    assert (st.kind, st.line, st.end_line, st.section) == (kind, line, line, section)


@pytest.mark.parametrize("first_words, kind, line, section", [
    ("Participants unanimously affirmed", "KeyIssue", 17, "Key Issues Discussed (Looking Beyond 2025)"),
    ("Maintaining and strengthening", "KeyIssue", 22, "Key Issues Discussed (Looking Beyond 2025)"),
    ("Stakeholders reaffirmed", "Achievement", 28, "Key achievements"),
    ("Consensus to streamline", "Achievement", 32, "Key achievements"),   # after three blank lines
    ("Commitment to create liaison-officer", "Commitment", 36, "Agreements / commitments"),
    ("Agreement to strengthen transparency", "Commitment", 37, "Agreements / commitments"),
    ("Embed sustainability metrics.", "Recommendation", 44, "Key Recommendations & Forward-Looking Action Plan"),
])
def test_session_480_sample(s480, first_words, kind, line, section):
    st = by_first_words(s480, first_words)
    assert (st.kind, st.line, st.end_line, st.section) == (kind, line, line, section)


def test_texts_are_verbatim_without_the_marker(s440, s480):
    first = s440.statements[0]
    assert first.text == ("Mainstream youth voices: embed youth participation and co-creation mechanisms "
                          "within every Action Line.")
    # A numbered recommendation keeps its two sentences; only "1. " goes.
    rec = by_first_words(s480, "Re-endorse")
    assert rec.line == 41
    assert rec.text.startswith("Re-endorse core WSIS texts. Adopt the Geneva Plan of Action and Tunis Agenda")
    raw = S480.read_text(encoding="utf-8").split("\n")
    for st in s480.statements:
        assert st.text in raw[st.line - 1], st.text[:40]


def test_numbered_subheadings_are_headings_not_bullets(s440):
    assert not any("Key achievements acknowledged" in st.text or "Agreements / commitments" in st.text
                   for st in s440.statements)


# --- Restyled twins of 000 ----------------------------------------------------------------------

def test_fixtures_keep_their_bytes():
    """If git or an editor normalised the fixtures, the twin tests below would prove nothing."""
    same = (FIXTURES / "000_restyled_same_lines.txt").read_bytes()
    assert same.startswith(b"\xef\xbb\xbf") and b"\r\n" in same and b"\r\r\n" in same and b"\t" in same
    for name in ("000_restyled_wrapped.txt", "000_restyled_no_commitments.txt"):
        data = (FIXTURES / name).read_bytes()
        assert data.count(b"\r\n") == data.count(b"\n") > 30


def test_restyled_twin_in_place_gives_the_same_statements_and_lines(s440):
    twin = parse_file(FIXTURES / "000_restyled_same_lines.txt")
    assert twin.kind == "session-outcome"
    assert [(st.kind, st.text, st.line, st.end_line) for st in twin.statements] == \
        [(st.kind, st.text, st.line, st.end_line) for st in s440.statements]
    assert (twin.title, twin.date, twin.start, twin.end, twin.url, twin.organizer_line) == \
        (s440.title, s440.date, s440.start, s440.end, s440.url, s440.organizer_line)
    assert twin.warnings == []
    assert {st.section for st in twin.statements} == {
        'KEY ISSUES DISCUSSED \u2014 "LOOKING BEYOND 2025":', "A) KEY ACHIEVEMENTS ACKNOWLEDGED:",
        "B) \u2018AGREEMENTS\u2019 / \u2018COMMITMENTS\u2019", "KEY RECOMMENDATIONS & FORWARD-LOOKING ACTION PLAN:"}


def test_restyled_twin_with_wrapped_bullets_gives_the_same_statements(s440):
    twin = parse_file(FIXTURES / "000_restyled_wrapped.txt")
    assert kinds_texts(twin) == kinds_texts(s440)
    assert (twin.title, twin.date, twin.url, twin.organizer_line) == (s440.title, s440.date, s440.url, "WSIS")
    # The twin's own lines (grep -n): wrapped bullets span two or three lines.
    spans = {st.text.split()[0]: (st.line, st.end_line) for st in twin.statements}
    assert spans["Mainstream"] == (11, 12)        # indented continuation
    assert spans["Sharper"] == (13, 14)           # unindented continuation
    assert spans["Multistakeholder"] == (16, 18)  # three lines; the last one says "achievement"
    assert spans["Endorsement"] == (25, 26)
    assert spans["Civil-society"] == (33, 34)
    assert spans["Codify"] == (39, 40)
    assert spans["Boost"] == (44, 44)


def test_restyled_twin_with_a_missing_section_warns_and_keeps_the_rest(s440):
    twin = parse_file(FIXTURES / "000_restyled_no_commitments.txt")
    assert kinds_texts(twin) == [kt for kt in kinds_texts(s440) if kt[0] != "Commitment"]
    assert "no 'Agreements / commitments' section found" in twin.warnings
    assert len(twin.warnings) == 1


def _restyle(text: str, marker, heading, eol: str) -> str:
    """000 with every dash bullet given marker(n) and every section heading passed through heading()."""
    out, n = [], 0
    heads = {"Key Issues Discussed", "Tangible Outcomes", "1. Key achievements", "3. Agreements",
             "Key Recommendations"}
    for line in text.split("\n"):
        if line.startswith("- "):
            n += 1
            line = marker(n) + line[2:]
        elif any(line.startswith(h) for h in heads):
            n = 0
            line = heading(line)
        out.append(line)
    return eol.join(out)


MARKERS = {
    "1.": lambda n: f"{n}. ", "1)": lambda n: f"{n}) ", "(1)": lambda n: f"({n}) ",
    "a.": lambda n: f"{'abcdefgh'[n - 1]}. ", "a)": lambda n: f"{'abcdefgh'[n - 1]}) ",
    "(a)": lambda n: f"({'abcdefgh'[n - 1]}) ",
    "(i)": lambda n: f"({['i', 'ii', 'iii', 'iv', 'v', 'vi', 'vii'][n - 1]}) ",
    "bullet": lambda n: "\u2022 ", "en dash": lambda n: "\u2013 ", "em dash": lambda n: "\u2014 ",
    "star": lambda n: "* ", "tab": lambda n: "-\t", "indented": lambda n: "\t  - ",
}
HEADINGS = {
    "as is": lambda h: h,
    "capitals": lambda h: h.upper(),
    "capitals with colon": lambda h: h.upper() + ":",
    "straight quotes": lambda h: h.replace("\u201c", '"').replace("\u201d", '"'),
    "single quotes": lambda h: h.replace("\u201c", "'").replace("\u201d", "'") + " :",
    "title case": lambda h: h.title(),
    "lower case": lambda h: h.lower(),
}


@pytest.mark.parametrize("marker", sorted(MARKERS))
@pytest.mark.parametrize("heading", sorted(HEADINGS))
def test_bullet_and_heading_styles(s440, marker, heading):
    text = S440.read_text(encoding="utf-8")
    eol = "\r\n" if len(marker) % 2 else "\n"
    doc = parse_document(_restyle(text, MARKERS[marker], HEADINGS[heading], eol))
    assert [(st.kind, st.text, st.line) for st in doc.statements] == \
        [(st.kind, st.text, st.line) for st in s440.statements]


@pytest.mark.parametrize("variant", ["bom+crlf", "cr only", "stray cr", "tabs", "trailing spaces"])
def test_line_ending_and_whitespace_variants(s440, variant):
    text = S440.read_text(encoding="utf-8")
    if variant == "bom+crlf":
        text = "\ufeff" + text.replace("\n", "\r\n")
    elif variant == "cr only":
        text = text.replace("\n", "\r")
    elif variant == "stray cr":
        text = text.replace(".\n", ".\r\r\n")
    elif variant == "tabs":
        text = text.replace("\n- ", "\n\t-\t")
    else:
        text = text.replace("\n", "  \t\n")
    doc = parse_document(text)
    assert [(st.kind, st.text, st.line, st.end_line) for st in doc.statements] == \
        [(st.kind, st.text, st.line, st.end_line) for st in s440.statements]
    assert doc.date == s440.date and doc.url == s440.url


def test_heading_right_after_a_bullet_and_paragraph_items():
    doc = parse_session_outcome(
        "Session Outcome Document\n"
        "Session Title: Compact\n"
        "Key Issues\n"
        "- Implementation of open access policies\n"
        "- Gaps in funding for the\n"
        "Recommendations of the panel\n"          # a wrapped line, not a heading
        "KEY ACHIEVEMENTS\n"                      # a heading with no blank line before it
        "- Something done\n"
        "\n"
        "Recommendations\n"
        "\n"
        "Governments should do more and\n"       # plain paragraphs are items too
        "continue to do it.\n"
        "\n"
        "The IGF should be strengthened.\n")
    assert [(st.kind, st.text, st.line, st.end_line) for st in doc.statements] == [
        ("KeyIssue", "Implementation of open access policies", 4, 4),
        ("KeyIssue", "Gaps in funding for the Recommendations of the panel", 5, 6),
        ("Achievement", "Something done", 8, 8),
        ("Recommendation", "Governments should do more and continue to do it.", 12, 13),
        ("Recommendation", "The IGF should be strengthened.", 15, 15),
    ]
    assert doc.title == "Compact"
    assert "no 'Agreements / commitments' section found" in doc.warnings


def test_outcomes_without_sub_headings_and_unknown_sub_headings():
    doc = parse_document(
        "SESSION OUTCOME DOCUMENT\n\nTitle of the session - Youth and AI\n\n"
        "8.7.2025 10h00 to 11h30\n\nKEY ISSUES\n\n- One issue.\n\n"
        "TANGIBLE OUTCOMES OF THE SESSION\n\n- We pledge to launch a youth network.\n- A toolkit was published.\n\n"
        "Key Recommendations\n\nShort term\n\n- Do this now.\n")
    assert (doc.title, doc.date, doc.start, doc.end) == (
        "Youth and AI", datetime.date(2025, 7, 8), datetime.time(10, 0), datetime.time(11, 30))
    assert [(st.kind, st.line, st.section) for st in doc.statements] == [
        ("KeyIssue", 9, "KEY ISSUES"),
        ("Commitment", 13, "TANGIBLE OUTCOMES OF THE SESSION"),
        ("Achievement", 14, "TANGIBLE OUTCOMES OF THE SESSION"),
        ("Recommendation", 20, "Short term"),
    ]
    assert any("Tangible Outcomes" in w for w in doc.warnings)
    assert any("'Short term' not recognised" in w for w in doc.warnings)


def test_markdown_header_and_us_date():
    doc = parse_document(
        "# Session Outcome Document\n**Session Title:** AI for Good: the next steps\nOrganised by ITU\n"
        "Date: July 9, 2025, 2:00 PM - 3:30 PM\nLink: https://www.itu.int/net4/wsis/forum/2025/Agenda/Session/999.\n\n"
        "## Key Issues Discussed:\n* First issue.\n## Tangible Outcomes\n### Key Achievements (acknowledged)\n"
        "1) Something achieved.\n### 2. Agreements/Commitments\n(i) We commit to X.\n## KEY RECOMMENDATIONS\n- Do Z.\n")
    assert (doc.title, doc.organizer_line) == ("AI for Good: the next steps", "Organised by ITU")
    assert (doc.date, doc.start, doc.end) == (datetime.date(2025, 7, 9), datetime.time(14, 0), datetime.time(15, 30))
    assert doc.url == "https://www.itu.int/net4/wsis/forum/2025/Agenda/Session/999"
    assert [(st.kind, st.text) for st in doc.statements] == [
        ("KeyIssue", "First issue."), ("Achievement", "Something achieved."),
        ("Commitment", "We commit to X."), ("Recommendation", "Do Z.")]
    assert doc.warnings == []


# --- Reports --------------------------------------------------------------------------------------

CLUSTERS = ["ICT for Development", "Digital Economy", "Social and Cultural Development", "Environmental Impacts",
            "Bridging Digital Divides", "Enabling Environment", "Financial Mechanisms",
            "Human Rights and Ethical Dimensions", "Confidence and Security", "Internet Governance",
            "Data Governance", "Artificial Intelligence", "Capacity Building", "Monitoring and Measurement",
            "Follow Up and Review", "Conclusion"]


def test_report_detected_and_split_under_its_clusters(report):
    assert report.kind == "report"
    assert len(report.statements) == 98
    sections = [st.section for st in report.statements]
    assert list(dict.fromkeys(sections)) == CLUSTERS
    assert report.statements[0].line == 20 and report.statements[-1].end_line == 345
    # The framing paragraphs (Introduction, Thematic Inputs) carry no cue: skipped, and said so.
    assert any("'Introduction'" in w for w in report.warnings)
    assert any("'Thematic Inputs'" in w for w in report.warnings)
    assert all(st.line >= 20 for st in report.statements)


@pytest.mark.parametrize("text, kind, section, line, end_line", [
    ("Participants highlighted that ICT remains foundational for inclusive development, but stressed that "
     "strategies must be rooted in local contexts and empower communities to solve their own problems.",
     "Recommendation", "ICT for Development", 20, 22),
    # "; they advocated" is not a split; "2.6 billion" is not a sentence end; line 41 starts with a space.
    ("Others observed that persistent digital divides, asymmetric data flows and uneven capacity development "
     "threaten to leave 2.6 billion people offline; they advocated regulatory frameworks that support investment, "
     "interoperability, open source and inclusive participation.",
     "Recommendation", "Digital Economy", 39, 42),
    ("Several warned that inconsistent adoption governance frameworks threaten to exacerbate structural "
     "imbalances in data and market power, especially for developing countries.",
     "Challenge", "Digital Economy", 37, 39),
    # The sentence ends after "C3 (Access to information and knowledge)." and the next one starts mid-line.
    ("They urged stronger links between WSIS, the Global Digital Compact and the Sustainable Development Goals "
     "and argued that breaking down institutional silos is essential for fair cultural and social development.",
     "Recommendation", "Social and Cultural Development", 60, 63),
    ("Environmental sustainability emerged as a pressing concern.", "Challenge", "Environmental Impacts", 72, 72),
    # A paragraph broken by a page break (blank lines and a lone space) is joined again.
    ("Feminist organisations pressed for a standalone action line on gender and for mainstreaming gender across "
     "all action lines, recommending mandatory gender impact assessments for technology and AI systems.",
     "Recommendation", "Enabling Environment", 134, 141),
    ("Participants agreed that building trust and confidence in ICTs is essential for a resilient information "
     "society.", "KeyIssue", "Confidence and Security", 203, 204),
    # A sentence ending inside closing quotes.
    ("They stressed that the multi stakeholder model is dynamic, not confined to UN corridors, and cautioned "
     "against reopening old debates about \u201cenhanced cooperation.\u201d",
     "Challenge", "Internet Governance", 220, 221),
])
def test_report_sample(report, text, kind, section, line, end_line):
    found = [st for st in report.statements if st.text == text]
    assert len(found) == 1, text[:60]
    st = found[0]
    assert (st.kind, st.section, st.line, st.end_line) == (kind, section, line, end_line)


def test_report_sentence_starting_mid_line(report):
    st = by_first_words(report, "Many called for strengthening and institutionalising the Internet Governance Forum")
    assert (st.kind, st.line, st.end_line) == ("Recommendation", 221, 224)


@pytest.mark.parametrize("path", [S440, S480, REPORT, *sorted(FIXTURES.glob("*.txt"))], ids=lambda p: p.name)
def test_every_statement_starts_and_ends_on_its_lines(path):
    raw = path.read_bytes().decode("utf-8-sig").split("\n")
    doc = parse_file(path)
    assert doc.statements
    for st in doc.statements:
        words = re.findall(r"\w+", st.text)
        assert words[0] in re.findall(r"\w+", raw[st.line - 1]), (st.line, st.text[:40])
        assert words[-1] in re.findall(r"\w+", raw[st.end_line - 1]), (st.end_line, st.text[-40:])
        assert st.line <= st.end_line


def test_report_abbreviations_numbers_and_quotes():
    doc = parse_report(
        "Summary\n\n"
        "Delegates met on 3 March 2025 with H. E. Ambassador Smith. Participants urged action on AI, e.g. UNESCO's\n"
        "work, i.e. standards. The U.N. system must act. About 2.6 billion people remain offline. See Action Line\n"
        "C3 (Access to information and knowledge). ITU will launch a fund. We pledge support. Speakers said\n"
        "\u201cenough.\u201d Others warned of risks.\n", filename="summary.txt")
    assert [(st.kind, st.text, st.line, st.end_line) for st in doc.statements] == [
        ("KeyIssue", "Delegates met on 3 March 2025 with H. E. Ambassador Smith.", 3, 3),
        ("Recommendation", "Participants urged action on AI, e.g. UNESCO's work, i.e. standards.", 3, 4),
        ("Recommendation", "The U.N. system must act.", 4, 4),
        ("KeyIssue", "About 2.6 billion people remain offline.", 4, 4),
        ("KeyIssue", "See Action Line C3 (Access to information and knowledge).", 4, 5),
        ("Commitment", "ITU will launch a fund.", 5, 5),
        ("Commitment", "We pledge support.", 5, 5),
        ("KeyIssue", "Speakers said \u201cenough.\u201d", 5, 6),
        ("Challenge", "Others warned of risks.", 6, 6),
    ]
    assert {st.section for st in doc.statements} == {"Summary"}
    assert doc.title == "Summary" and doc.date == datetime.date(2025, 3, 3)


def test_report_headings_bullets_and_introduction_rule():
    doc = parse_report(
        "Introduction\n\n"
        "This meeting gathered 40 delegates. They should read the annex.\n\n"
        "CHALLENGES\n\n"
        "- Persistent digital divides.\n- Funding constraints\n\n"
        "Way ahead for the\n\n"                    # an unfinished line: not a heading
        "continued process\n\n"
        "Recommendations\n\n"
        "Member States were encouraged to invest. The forum noted progress.\n", filename="notes.txt")
    assert [(st.kind, st.text, st.section) for st in doc.statements] == [
        ("Recommendation", "They should read the annex.", "Introduction"),
        ("Challenge", "Persistent digital divides.", "CHALLENGES"),
        ("Challenge", "Funding constraints", "CHALLENGES"),
        ("Challenge", "Way ahead for the continued process", "CHALLENGES"),
        ("Recommendation", "Member States were encouraged to invest.", "Recommendations"),
        ("Recommendation", "The forum noted progress.", "Recommendations"),
    ]
    assert doc.title == "notes"          # the first heading is a framing one: the file stem instead
    assert any("'Introduction'" in w and "1 sentence" in w for w in doc.warnings)


def test_report_without_headings_keeps_every_sentence():
    doc = parse_report("We met. We talked about AI at length. Nothing else happened.")
    assert [st.text for st in doc.statements] == ["We met.", "We talked about AI at length.", "Nothing else happened."]
    assert all(st.section == "" for st in doc.statements)


@pytest.mark.parametrize("sentence, kind", [
    ("Several governments called for a permanent mandate.", "Recommendation"),
    ("AI will transform work.", "KeyIssue"),     # an acronym, but not an organisation pledging
    ("The review should commit to a permanent IGF.", "Recommendation"),
    ("UNESCO will host the next meeting.", "Commitment"),
    ("We undertake to publish annual reports.", "Commitment"),
    ("Speakers cautioned that data gaps persist.", "Challenge"),
    ("The network has enabled 2 million new users.", "Achievement"),
    ("Participants welcomed progress on indicators.", "Achievement"),
    ("Speakers described the history of the process.", "KeyIssue"),
])
def test_cue_words(sentence, kind):
    assert classify_sentence(sentence) == kind


def test_cue_lists_are_data():
    assert set(CUES) == {"Recommendation", "Commitment", "Challenge", "Achievement"}
    assert {"calls for", "urged", "should", "must", "need to", "called on", "encouraged"} <= set(CUES["Recommendation"])
    assert {"pledged", "undertake"} <= set(CUES["Commitment"])
    assert {"warned", "cautioned"} <= set(CUES["Challenge"])
    assert {"welcomed progress", "achieved", "milestone*", "has enabled"} <= set(CUES["Achievement"])


def test_kind_detection():
    assert parse_file(S440).kind == "session-outcome"
    assert parse_file(REPORT).kind == "report"
    assert parse_file(SOURCES / "004_fd10d842333058da.txt").kind == "report"


# --- Errors --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "   \r\n\t\r\n", "\ufeff", b""])
def test_empty_documents_raise(text):
    with pytest.raises(ParseError, match="empty"):
        parse_document(text, "empty.txt")


def test_binary_and_garbage_raise_with_a_reason():
    rng = random.Random(3)
    noise = bytes(rng.randrange(256) for _ in range(3000))
    with pytest.raises(ParseError, match=r"binary data.*NUL byte"):
        parse_document(b"\x89PNG\r\n\x1a\n\x00\x00" + noise, "picture.txt")
    with pytest.raises(ParseError, match=r"^binary or garbled data.*line 1, column"):
        parse_document(noise.decode("latin-1"), "picture.txt")
    with pytest.raises(ParseError, match=r"binary or garbled.*U\+FFFD"):
        parse_session_outcome(noise.decode("utf-8", errors="replace"))
    with pytest.raises(ParseError, match="not UTF-8"):
        parse_document("Caf\u00e9 \u2013 report on things".encode("cp1252"))
    with pytest.raises(ParseError, match="letters"):
        parse_report("#### 1234 5678 ---- //// ==== ++++ 9999 0000 ****")
    with pytest.raises(ParseError, match="too little text"):
        parse_document("hello")


def test_a_stray_control_character_is_tolerated(s440):
    text = S440.read_text(encoding="utf-8").replace("Tangible", "\x1aTangible", 1)
    assert kinds_texts(parse_document(text)) == kinds_texts(s440)


def test_items_that_look_like_headings_and_odd_markers():
    doc = parse_session_outcome(
        "Session Outcome Document\n\nSession Title: Odd markers\n\n"
        "Agreements / commitments\n\n"
        "1. Agreement on shared indicators\n"      # numbered, short, names its own section: an item
        "2. Commitments tracked yearly\n\n"
        "Key achievements\n\n"
        "- \u00b7 Geographic reach doubled.\n"      # a doubled marker, as PDF extraction leaves it
        "o Open data portal\rlaunched.\n")          # an "o" bullet and a stray carriage return
    assert [(st.kind, st.text, st.line) for st in doc.statements] == [
        ("Commitment", "Agreement on shared indicators", 7),
        ("Commitment", "Commitments tracked yearly", 8),
        ("Achievement", "Geographic reach doubled.", 12),
        ("Achievement", "Open data portal launched.", 13),
    ]
