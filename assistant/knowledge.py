"""Load and validate the knowledge texts (knowledge/*.md with YAML front matter).

A file with errors is reported (file, line, field) and skipped; the rest of the corpus still loads.
Only `approved` texts whose `review_by` date has not passed are returned for indexing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .passages import unknown_question_keys
from .records import Problem, Source, Text

ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
STATUSES = ("draft", "approved", "retired")
REQUIRED = ("id", "title", "summary", "topics", "language", "version", "status")
REQUIRED_WHEN_APPROVED = ("approved_by", "approved_on", "review_by", "sources")
TOPIC_LINE_RE = re.compile(r"^\s*[-*]\s+`([^`]+)`")
LIX_WARN = 50


_SAFE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser: index rebuilds parse every file


class _Loader(_SAFE):  # type: ignore[valid-type, misc]
    """Safe YAML without implicit timestamps: dates stay strings and are validated here, by field."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class LoadReport:
    texts: list[Text] = field(default_factory=list)  # approved, current: these are indexed
    problems: list[Problem] = field(default_factory=list)
    not_indexed: list[tuple[str, str]] = field(default_factory=list)  # (file, reason) for valid texts

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


def read_topics(knowledge_dir: Path) -> list[str]:
    """The topic slugs listed under the 'Ämnen' heading of knowledge/README.md (empty if none)."""
    readme = knowledge_dir / "README.md"
    if not readme.is_file():
        return []
    topics, inside = [], False
    for line in readme.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            inside = line[3:].strip().lower().startswith(("ämnen", "topics"))
            continue
        m = TOPIC_LINE_RE.match(line) if inside else None
        if m:
            topics.append(m.group(1))
    return topics


def lix(text: str) -> float:
    """Läsbarhetsindex: words per sentence + percentage of words longer than six letters."""
    words = re.findall(r"[^\W\d_]+", text)
    if not words:
        return 0.0
    sentences = max(1, len(re.findall(r"[.!?:]+(?:\s|$)", text)))
    long_words = sum(1 for w in words if len(w) > 6)
    return len(words) / sentences + 100 * long_words / len(words)


def _field_line(front_lines: list[str], name: str) -> int | None:
    for i, line in enumerate(front_lines):
        if re.match(rf"^{re.escape(name)}\s*:", line):
            return i + 2  # +1 for the opening '---', +1 for 1-based lines
    return None


def _as_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def parse_text(path: Path, *, topics: list[str] | None = None) -> tuple[Text | None, list[Problem]]:
    """Parse one file. Returns the text (None when it has errors) and every problem found."""
    name = path.name
    problems: list[Problem] = []

    def err(msg: str, line: int | None = None, fld: str | None = None) -> None:
        problems.append(Problem(name, msg, line, fld))

    def warn(msg: str, line: int | None = None, fld: str | None = None) -> None:
        problems.append(Problem(name, msg, line, fld, "warning"))

    data = path.read_bytes()
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        err(f"filen är inte giltig UTF-8 (byte {e.start})", line)
        return None, problems
    raw = raw.lstrip("\ufeff").replace("\r\n", "\n")
    lines = raw.split("\n")
    if not lines or lines[0].strip() != "---":
        err("filen saknar front matter: första raden ska vara '---'", 1)
        return None, problems
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        err("front matter avslutas aldrig med '---'", 1)
        return None, problems
    front_lines = lines[1:end]
    try:
        meta = yaml.load("\n".join(front_lines), Loader=_Loader) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        err(f"front matter är inte giltig YAML: {getattr(e, 'problem', e)}", (mark.line + 2) if mark else 1)
        return None, problems
    if not isinstance(meta, dict):
        err("front matter ska vara nyckel: värde-par", 2)
        return None, problems

    def line_of(fld: str) -> int | None:
        return _field_line(front_lines, fld)

    required = REQUIRED + (REQUIRED_WHEN_APPROVED if meta.get("status") == "approved" else ())
    for fld in required:
        if fld not in meta or meta[fld] in (None, ""):
            err("fältet saknas eller är tomt", line_of(fld), fld)

    def text_field(fld: str) -> str:
        v = meta.get(fld)
        if v is not None and not isinstance(v, str):
            err("ska vara text", line_of(fld), fld)
            return ""
        return (v or "").strip()

    tid = meta.get("id")
    if tid is not None and (not isinstance(tid, str) or not ID_RE.match(tid)):
        err("id får bara innehålla a-z, 0-9 och bindestreck", line_of("id"), "id")
    title, summary = text_field("title"), text_field("summary")
    language = text_field("language")

    status = meta.get("status")
    if status is not None and status not in STATUSES:
        err(f"okänd status {status!r}; tillåtna: {', '.join(STATUSES)}", line_of("status"), "status")

    version = meta.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
        err("version ska vara ett heltal ≥ 1", line_of("version"), "version")

    dates: dict[str, dt.date | None] = {}
    for fld in ("approved_on", "review_by"):
        if meta.get(fld) is not None:
            dates[fld] = _as_date(meta[fld])
            if dates[fld] is None:
                err(f"ogiltigt datum {meta[fld]!r}; skriv ÅÅÅÅ-MM-DD", line_of(fld), fld)

    def str_list(fld: str) -> tuple[str, ...]:
        v = meta.get(fld)
        if v is None:
            return ()
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
            err("ska vara en lista med text", line_of(fld), fld)
            return ()
        return tuple(x.strip() for x in v)

    text_topics, approvers = str_list("topics"), str_list("approved_by")
    if topics:
        for t in text_topics:
            if t not in topics:
                warn(f"ämnet {t!r} finns inte i ämneslistan i knowledge/README.md", line_of("topics"), "topics")

    sources: list[Source] = []
    raw_sources = meta.get("sources")
    if raw_sources is not None:
        if not isinstance(raw_sources, list):
            err("ska vara en lista med title och url", line_of("sources"), "sources")
        else:
            for i, s in enumerate(raw_sources):
                if not isinstance(s, dict) or not s.get("title") or not s.get("url"):
                    err(f"källa {i + 1} saknar title eller url", line_of("sources"), "sources")
                else:
                    sources.append(Source(str(s["title"]), str(s["url"])))

    if status == "approved":
        if not raw_sources and "sources" in meta:
            err("en godkänd text måste ange minst en källa", line_of("sources"), "sources")
        if not approvers and "approved_by" in meta:
            err("en godkänd text måste ange vilka roller som godkänt den", line_of("approved_by"), "approved_by")

    body = "\n".join(lines[end + 1:]).strip()
    body_line = end + 2
    if not body:
        err("texten har ingen brödtext", body_line, "body")
    elif "\n## " not in "\n" + body:
        warn("texten har inga ##-rubriker; hela texten blir ett enda stycke", body_line, "body")
    if body and lix(body) > LIX_WARN:
        warn(f"svårläst text: LIX {lix(body):.0f} (sikta på högst 40)", body_line, "body")

    if isinstance(tid, str) and ID_RE.match(tid) and path.stem != tid:
        warn(f"filnamnet borde vara {tid}.md", 1, "id")
    if not ({p.severity for p in problems} - {"warning"}) and dates.get("review_by") and dates.get("approved_on"):
        if dates["review_by"] < dates["approved_on"]:  # type: ignore[operator]
            err("review_by ligger före approved_on", line_of("review_by"), "review_by")

    if any(p.severity == "error" for p in problems):
        return None, problems
    return Text(
        id=tid, title=title, summary=summary, topics=text_topics, language=language, version=version,
        status=status, approved_by=approvers, approved_on=dates.get("approved_on"),
        review_by=dates.get("review_by"),
        demo=bool(meta.get("demo", False)), sources=tuple(sources), body=body, body_line=body_line,
        path=str(path),
    ), problems


def load_search_questions(knowledge_dir: Path, text_id: str) -> tuple[dict[str, tuple[str, ...]], list[Problem]]:
    """knowledge/questions/<id>.yaml: {section slug: [questions]}. Problems are warnings: the text
    itself is fine without them, retrieval is just weaker."""
    path = knowledge_dir / "questions" / f"{text_id}.yaml"
    if not path.is_file():
        return {}, []
    name = f"questions/{path.name}"
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        mark = getattr(e, "problem_mark", None)
        return {}, [Problem(name, f"kan inte läsas: {e}", (mark.line + 1) if mark else None, None, "warning")]
    if not isinstance(data, dict):
        return {}, [Problem(name, "ska vara avsnitt: [frågor]", 1, None, "warning")]
    out: dict[str, tuple[str, ...]] = {}
    problems = []
    for slug, questions in data.items():
        if not isinstance(questions, list) or not all(isinstance(q, str) for q in questions):
            problems.append(Problem(name, "ska vara en lista med frågor", None, str(slug), "warning"))
            continue
        out[str(slug)] = tuple(q.strip() for q in questions if q.strip())
    return out, problems


def load_knowledge(knowledge_dir: Path, *, today: dt.date | None = None) -> LoadReport:
    """Load every knowledge/*.md file. Invalid files are reported and skipped; the rest load."""
    today = today or dt.date.today()
    report = LoadReport()
    if not knowledge_dir.is_dir():
        report.problems.append(Problem(str(knowledge_dir), "mappen med kunskapstexter finns inte"))
        return report
    topics = read_topics(knowledge_dir)
    seen: dict[str, str] = {}
    for path in sorted(knowledge_dir.glob("*.md")):
        if path.name.upper() == "README.MD":
            continue
        text, problems = parse_text(path, topics=topics)
        report.problems.extend(problems)
        if text is None:
            continue
        if text.id in seen:
            id_line = _field_line(path.read_text(encoding="utf-8").split("\n")[1:], "id")
            report.problems.append(Problem(path.name, f"id {text.id!r} används redan i {seen[text.id]}",
                                           id_line, "id"))
            continue
        seen[text.id] = path.name
        questions, q_problems = load_search_questions(knowledge_dir, text.id)
        report.problems.extend(q_problems)
        if questions:
            text = dataclasses.replace(text, search_questions=questions)
            for slug in unknown_question_keys(text):
                report.problems.append(Problem(f"questions/{text.id}.yaml", "inget avsnitt i texten har den "
                                               "rubriken; frågorna används inte", None, slug, "warning"))
        if text.status != "approved":
            report.not_indexed.append((path.name, f"status {text.status}"))
        elif text.review_by is not None and text.review_by < today:
            report.not_indexed.append((path.name, f"granskningsdatum {text.review_by} har passerat"))
            report.problems.append(Problem(path.name, f"utgången: review_by {text.review_by} har passerat; "
                                           "texten indexeras inte", None, "review_by", "warning"))
        else:
            report.texts.append(text)
    return report
