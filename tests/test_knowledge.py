"""The knowledge loader: every error names file, line and field; bad files are skipped, the rest load."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest

from assistant.knowledge import lix, load_knowledge, read_topics

GOOD = textwrap.dedent("""\
    ---
    id: {id}
    title: En text
    summary: Om något.
    topics: [läkemedel]
    language: sv
    version: 1
    status: {status}
    approved_by: [reumatolog]
    approved_on: 2026-01-01
    review_by: {review_by}
    demo: true
    sources:
      - title: Källa
        url: https://example.org
    ---
    # En text

    ## Ett avsnitt
    Det här är en mening. Här är en till.
    """)


def write(d, name, text):
    (d / name).write_text(text, encoding="utf-8")


def good(id_="bra", status="approved", review_by="2099-01-01"):
    return GOOD.format(id=id_, status=status, review_by=review_by)


def only_problem(report, file):
    probs = [p for p in report.errors if p.file == file]
    assert len(probs) == 1, [str(p) for p in report.problems]
    return probs[0]


@pytest.mark.parametrize("name, text, line, field", [
    ("saknar-titel.md", good("saknar-titel").replace("title: En text\n", ""), None, "title"),
    ("fel-status.md", good("fel-status", status="klar"), 8, "status"),
    ("fel-datum.md", good("fel-datum").replace("approved_on: 2026-01-01", "approved_on: 2026-13-45"), 10,
     "approved_on"),
    ("fel-version.md", good("fel-version").replace("version: 1", "version: tre"), 7, "version"),
    ("fel-id.md", good("Fel_ID"), 2, "id"),
    ("utan-kallor.md", good("utan-kallor").replace(
        "sources:\n  - title: Källa\n    url: https://example.org\n", "sources: []\n"), 13, "sources"),
    ("utan-godkannare.md", good("utan-godkannare").replace("approved_by: [reumatolog]", "approved_by: []"), 9,
     "approved_by"),
    ("trasig-kalla.md", good("trasig-kalla").replace("    url: https://example.org\n", ""), 13, "sources"),
    ("fel-topics.md", good("fel-topics").replace("topics: [läkemedel]", "topics: 12"), 5, "topics"),
    ("tom.md", good("tom").split("# En text")[0], 17, "body"),
])
def test_bad_field_is_reported_with_file_line_and_field_and_skipped(tmp_path, name, text, line, field):
    write(tmp_path, "bra.md", good())
    write(tmp_path, name, text)
    report = load_knowledge(tmp_path)
    problem = only_problem(report, name)
    assert (problem.line, problem.field) == (line, field)
    assert name in str(problem) and field in str(problem)
    assert [t.id for t in report.texts] == ["bra"]  # the rest of the corpus still loads


def test_non_utf8_file_names_the_line(tmp_path):
    write(tmp_path, "bra.md", good())
    (tmp_path / "latin1.md").write_bytes(good("latin1").encode("utf-8").replace(
        "Här är".encode(), "H\xe4r \xe4r".encode("latin-1")))
    report = load_knowledge(tmp_path)
    problem = only_problem(report, "latin1.md")
    assert "UTF-8" in problem.message and problem.line == 20
    assert [t.id for t in report.texts] == ["bra"]


def test_yaml_syntax_error_and_missing_front_matter(tmp_path):
    write(tmp_path, "bra.md", good())
    write(tmp_path, "yaml.md", good("yaml").replace("topics: [läkemedel]", "topics: [läkemedel"))
    write(tmp_path, "ingen.md", "# Bara en rubrik\n\nText.\n")
    report = load_knowledge(tmp_path)
    assert only_problem(report, "yaml.md").line is not None
    assert only_problem(report, "ingen.md").line == 1
    assert [t.id for t in report.texts] == ["bra"]


def test_a_draft_needs_no_approval_fields_but_an_approved_text_does(tmp_path):
    draft = good("utkast", status="draft")
    for line in ("approved_by: [reumatolog]\n", "approved_on: 2026-01-01\n", "review_by: 2099-01-01\n"):
        draft = draft.replace(line, "")
    write(tmp_path, "utkast.md", draft)
    write(tmp_path, "godkand.md", draft.replace("id: utkast", "id: godkand").replace("status: draft", "status: approved"))
    report = load_knowledge(tmp_path)
    assert not [p for p in report.errors if p.file == "utkast.md"]
    assert {p.field for p in report.errors if p.file == "godkand.md"} == {"approved_by", "approved_on", "review_by"}
    assert report.texts == [] and report.not_indexed == [("utkast.md", "status draft")]


def test_duplicate_id_keeps_the_first_and_reports_the_second(tmp_path):
    write(tmp_path, "a.md", good("samma"))
    write(tmp_path, "b.md", good("samma"))
    report = load_knowledge(tmp_path)
    problem = only_problem(report, "b.md")
    assert problem.field == "id" and problem.line == 2 and "a.md" in problem.message
    assert [t.path.endswith("a.md") for t in report.texts] == [True]


def test_only_current_approved_texts_are_indexed_and_expired_ones_warned(tmp_path):
    write(tmp_path, "bra.md", good())
    write(tmp_path, "utkast.md", good("utkast", status="draft"))
    write(tmp_path, "gammal.md", good("gammal", review_by="2020-01-01").replace("2026-01-01", "2019-01-01"))
    write(tmp_path, "borttagen.md", good("borttagen", status="retired"))
    report = load_knowledge(tmp_path, today=dt.date(2026, 11, 23))
    assert [t.id for t in report.texts] == ["bra"]
    assert not report.errors
    assert [w.file for w in report.warnings] == ["gammal.md"]
    assert {f for f, _ in report.not_indexed} == {"utkast.md", "gammal.md", "borttagen.md"}


def test_topics_come_from_the_readme_and_unknown_topics_warn(tmp_path):
    write(tmp_path, "README.md", "# Format\n\n## Ämnen\n\n- `läkemedel` – om läkemedel\n- `vardagsliv` – vardag\n\n"
                                 "## Annat\n\n- `inte-ett-amne`\n")
    assert read_topics(tmp_path) == ["läkemedel", "vardagsliv"]
    write(tmp_path, "bra.md", good().replace("topics: [läkemedel]", "topics: [läkemedel, påhittat]"))
    report = load_knowledge(tmp_path)
    assert [t.id for t in report.texts] == ["bra"]
    assert any(w.field == "topics" and "påhittat" in w.message for w in report.warnings)


def test_lix_separates_easy_from_hard_swedish():
    easy = "Du tar en tablett. Den hjälper mot värk. Drick vatten till."
    hard = ("Immunmodulerande behandlingsstrategier förutsätter kontinuerlig laboratoriemässig "
            "uppföljning avseende hematologiska parametrar.")
    assert lix(easy) < 30 < 60 < lix(hard)
