"""`kunskapsstod` command line. Exit codes: 0 ok, 1 knowledge errors (`knowledge check`),
2 unusable input or usage error, 3 the index could not be built or opened."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from .errors import KunskapsstodError
from .intake import BadQuestion
from .settings import Settings, get_settings

EXIT_OK, EXIT_KNOWLEDGE, EXIT_INPUT, EXIT_INDEX = 0, 1, 2, 3


def _progress_bar():
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=f"Bäddar in {stage}", unit="st", file=sys.stderr,
                                     leave=True, dynamic_ncols=True)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return progress


def ensure_index(settings: Settings, quiet: bool = False) -> None:
    """Build the index when it is missing or the texts changed (progress on stderr)."""
    from .index import build_index, index_status

    fresh, reason = index_status(settings)
    if fresh:
        return
    if not quiet:
        print(f"Bygger index ({reason}) …", file=sys.stderr)
    report = build_index(settings, progress=None if quiet else _progress_bar())
    if not quiet:
        print(f"Index klart: {report.texts} texter, {report.passages} stycken, {report.seconds:.1f} s.",
              file=sys.stderr)


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from .index import build_index

    report = build_index(settings, progress=None if args.quiet else _progress_bar())
    print(f"Texter: {report.texts}")
    print(f"Stycken: {report.passages} (meningar: {report.sentences}, sökfrågor: {report.questions}, "
          f"nya inbäddningar: {report.embedded})")
    skipped = sorted({p.file for p in report.problems if p.severity == "error"})
    print(f"Hoppade över: {len(skipped) + len(report.not_indexed)} filer")
    for p in report.problems:
        if p.severity == "error":
            print(f"  FEL {p}")
    for file, reason in report.not_indexed:
        print(f"  ej indexerad {file}: {reason}")
    print(f"Kunskapsversion: {report.knowledge_version}")
    print(f"Tid: {report.seconds:.1f} s")
    return EXIT_OK


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    from .knowledge import lix, load_knowledge

    report = load_knowledge(settings.knowledge_dir)
    for p in report.errors:
        print(f"FEL {p}")
    for p in report.warnings:
        print(f"VARNING {p}")
    if args.lix:
        for t in sorted(report.texts, key=lambda t: lix(t.body)):
            print(f"LIX {lix(t.body):5.1f}  {t.id}")
    print(f"{len(report.texts)} godkända texter att indexera, {len(report.errors)} fel, "
          f"{len(report.warnings)} varningar.")
    return EXIT_KNOWLEDGE if report.errors else EXIT_OK


def _print_answer(answer) -> None:
    print(answer.answer)
    if answer.citations:
        print()
        for c in answer.citations:
            print(f"[{c.n}] {c.title} – {c.section} ({c.passage_id})")


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from .pipeline import Assistant

    if not args.jsonl and args.question is None:
        print("Skriv en fråga: kunskapsstod ask \"din fråga\" (eller --jsonl med frågor på stdin).",
              file=sys.stderr)
        return EXIT_INPUT
    ensure_index(settings, quiet=args.json or args.jsonl)
    assistant = Assistant(settings)
    if args.jsonl:
        stdin = sys.stdin.buffer
        for n, raw in enumerate(stdin, start=1):
            line = raw.rstrip(b"\r\n")
            question: str | bytes = line
            try:
                text = line.decode("utf-8")
                if text.lstrip().startswith("{"):
                    question = json.loads(text).get("question", "")
                else:
                    question = text
            except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
                pass
            try:
                record = assistant.ask(question).model_dump()
            except BadQuestion as e:
                record = {"line": n, "error": str(e)}
            print(json.dumps(record, ensure_ascii=False), flush=True)
        return EXIT_OK
    try:
        answer = assistant.ask(args.question)
    except BadQuestion as e:
        if args.json:
            print(json.dumps({"error": str(e)}, ensure_ascii=False))
        else:
            print(str(e), file=sys.stderr)
        return EXIT_INPUT
    if args.json:
        print(answer.model_dump_json())
    else:
        _print_answer(answer)
    return EXIT_OK


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from . import evaluation

    ensure_index(settings, quiet=True)
    return evaluation.main(args, settings)


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from .server import serve

    ensure_index(settings)
    return serve(settings)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kunskapsstod", description="Kunskapsstöd RA")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("index", help="bygg om indexet från knowledge/")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_index)
    k = sub.add_parser("knowledge", help="kunskapstexterna")
    ksub = k.add_subparsers(dest="knowledge_command", required=True)
    c = ksub.add_parser("check", help="validera alla texter")
    c.add_argument("--lix", action="store_true", help="visa LIX för varje text")
    c.set_defaults(func=cmd_check)
    a = sub.add_parser("ask", help="ställ en fråga")
    a.add_argument("question", nargs="?")
    a.add_argument("--json", action="store_true", help="skriv ett Answer-objekt som JSON")
    a.add_argument("--jsonl", action="store_true", help="en fråga per rad på stdin, ett svar per rad")
    a.set_defaults(func=cmd_ask)
    e = sub.add_parser("eval", help="utvärdering")
    esub = e.add_subparsers(dest="eval_command", required=True)
    for name, helptext in (("retrieval", "hit@k och MRR"), ("safety", "triage: recall, precision, matris"),
                           ("calibrate", "föreslå tröskel för no_answer"),
                           ("train-ranker", "träna rankningsmodellen på en split (dev)")):
        ep = esub.add_parser(name, help=helptext)
        ep.add_argument("--split", default="dev",
                        help="en fil i eval/questions/ (dev, test, holdout, holdout3 … holdout7) eller all")
        ep.add_argument("--json", action="store_true")
        if name == "retrieval":
            ep.add_argument("--modes", default="hybrid", help="t.ex. dense,bm25,rrf,hybrid")
        if name == "safety":
            ep.add_argument("--check", action="store_true",
                            help="avsluta med kod 1 om något av målen (issue 5) inte nås")
            ep.add_argument("--show-errors", action="store_true",
                            help="visa felklassade frågor även för en split som inte trimmas på "
                                 "(test, holdout8 …)")
        ep.set_defaults(func=cmd_eval)
    ch = sub.add_parser("chat", help="starta chatten på http://127.0.0.1:8000")
    ch.set_defaults(func=cmd_chat)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
        return args.func(args, settings)
    except BadQuestion as e:
        print(str(e), file=sys.stderr)
        return EXIT_INPUT
    except KunskapsstodError as e:
        print(f"Fel: {e}", file=sys.stderr)
        return EXIT_INDEX


if __name__ == "__main__":
    sys.exit(main())
