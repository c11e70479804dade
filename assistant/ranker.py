"""The learned last step of hybrid retrieval: a linear model that scores each candidate passage from a
handful of signals (dense, search-question, sentence and BM25 similarity, and the two rankings' RRF terms).

The weights are data, trained by `kunskapsstod eval train-ranker` on the dev split's gold passages
(pointwise logistic regression, features standardised) and kept in assistant/data/ranker.json together
with the embedder they were trained with. With another embedder the similarities are on another scale,
so the retriever falls back to plain reciprocal rank fusion (see retrieval.py)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

RANKER_PATH = Path(__file__).parent / "data" / "ranker.json"

# Per candidate passage, in this order (computed by retrieval.Retriever.features):
FEATURES = (
    "question_gap",       # best search-question similarity minus the best over all candidates
    "dense_gap",          # passage cosine similarity minus the best over all candidates
    "sentence_max",       # best similarity between the query and one of the passage's sentences
    "bm25_norm",          # BM25 score over the best BM25 score
    "dense_rrf",          # 1 / (RRF_K + rank) in the dense ranking (0 when not ranked)
    "bm25_rrf",           # 1 / (RRF_K + rank) in the BM25 ranking (0 when not ranked)
    "text_question_max",  # best search-question similarity of any passage in the same text
)


@dataclass(frozen=True)
class Ranker:
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    embedder: str  # the embedder id the features were computed with
    trained_on: dict = field(default_factory=dict)  # split, questions, cross-validated scores

    def score(self, X: np.ndarray) -> np.ndarray:
        """One score per row of the (candidates x FEATURES) matrix; higher is better."""
        z = (X - np.asarray(self.mean)) / np.asarray(self.scale)
        return z @ np.asarray(self.coef) + self.intercept

    def save(self, path: Path = RANKER_PATH) -> None:
        path.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def load_ranker(path: Path = RANKER_PATH) -> Ranker | None:
    """The trained ranker, or None when there is none or it was trained on other features."""
    if not path.is_file():
        return None
    d = json.loads(path.read_text(encoding="utf-8"))
    if tuple(d.get("features", ())) != FEATURES:
        return None
    return Ranker(features=tuple(d["features"]), mean=tuple(d["mean"]), scale=tuple(d["scale"]),
                  coef=tuple(d["coef"]), intercept=float(d["intercept"]), embedder=d["embedder"],
                  trained_on=d.get("trained_on", {}))


def train_ranker(groups: list[tuple[np.ndarray, np.ndarray]], embedder: str, C: float = 0.1,
                 trained_on: dict | None = None) -> Ranker:
    """Fit on (candidate features, is-gold labels) per question. Questions without a gold candidate
    carry no ranking signal and are left out."""
    from sklearn.linear_model import LogisticRegression

    groups = [(X, y) for X, y in groups if y.any()]
    if not groups:
        raise ValueError("inga frågor med facit bland kandidaterna att träna på")
    X = np.vstack([g[0] for g in groups])
    y = np.concatenate([g[1] for g in groups])
    mean, scale = X.mean(axis=0), X.std(axis=0) + 1e-9
    clf = LogisticRegression(C=C, max_iter=5000).fit((X - mean) / scale, y)
    return Ranker(features=FEATURES, mean=tuple(map(float, mean)), scale=tuple(map(float, scale)),
                  coef=tuple(map(float, clf.coef_.ravel())), intercept=float(clf.intercept_[0]),
                  embedder=embedder, trained_on=trained_on or {})
