"""Merge question drafts (drafts/*.jsonl) into dev.jsonl and test.jsonl, once.

Each question goes to dev or test by a hash of its text, stratified by kind, so the split does not
depend on file order and nobody chooses which questions land in test. Run once when a batch of new
questions is added; never move a question between the splits afterwards.
Usage: python eval/questions/make_split.py  (from the project root, with drafts/ present)"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).parent
TOPIC_ALIASES = {
    "sjukdomen": "ra-sjukdomen", "diagnos-vård": "diagnos-och-vård", "infektioner-vaccin": "infektioner-och-vaccin",
    "levnadsvanor": "leva-med-ra", "arbete-resor-kostnader": "vardagsliv", "graviditet-familj": "familj-och-relationer",
    "närliggande-sjukdomar": "samsjuklighet", "operation-tandvård": "operation-och-tandvård",
}


def main() -> None:
    existing = {}
    for split in ("dev", "test"):
        path = HERE / f"{split}.jsonl"
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                d = json.loads(line)
                existing[d["question"].lower()] = d
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for f in sorted((HERE / "drafts").glob("*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            d = json.loads(line)
            q = d["question"].strip()
            if q.lower() in existing:
                continue
            existing[q.lower()] = None  # de-duplicate within the drafts too
            by_kind[d["kind"]].append({
                "question": q, "kind": d["kind"], "passages": d.get("passages", []),
                "topic": TOPIC_ALIASES.get(d.get("topic", ""), d.get("topic", "")),
            })
    out = {"dev": [], "test": []}
    for kind, rows in by_kind.items():
        rows.sort(key=lambda r: hashlib.sha256(r["question"].encode()).hexdigest())
        for i, r in enumerate(rows):
            out["dev" if i % 2 == 0 else "test"].append(r)
    for split, rows in out.items():
        path = HERE / f"{split}.jsonl"
        n0 = sum(1 for _ in open(path, encoding="utf-8")) if path.exists() else 0
        with open(path, "a", encoding="utf-8") as f:
            for i, r in enumerate(rows, start=n0 + 1):
                f.write(json.dumps({"id": f"{split}-{i:04d}", **r}, ensure_ascii=False) + "\n")
        print(f"{split}: +{len(rows)}")


if __name__ == "__main__":
    main()
