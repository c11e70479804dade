"""The learned half of the safety step: a linear classifier (multinomial logistic regression) over a
question's embedding plus its hashed word and character n-grams.

It is trained, not hand-tuned, on data kept outside the code:
- assistant/data/safety/examples/<kind>.txt and assistant/data/safety/train.jsonl (labelled questions);
- the corpus's search questions (knowledge/questions/), as examples of what the texts answer.
Training takes a few seconds; the weights are cached on disk under a hash of the training data, so a
restart loads them instead. They are derived data and never committed."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .swedish import fold

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).parent / "data" / "safety"
KINDS = ("emergency", "urgent", "personal", "out_of_scope", "answer")
HASH_BITS = 14  # per n-gram family; 2 x 16,384 sparse features beside the embedding
NGRAM_WEIGHT = 0.7  # weight of the (l2-normalised) n-gram blocks relative to the unit embedding
C = 8.0  # inverse regularisation strength
MODEL_VERSION = 1  # bump when features or training change, so cached weights are not reused


@dataclass(frozen=True)
class Example:
    question: str
    kind: str
    source: str = ""  # who wrote it: "examples", a train.jsonl round ("train-a", …), "search" (the corpus)


def load_training(directory: Path = DATA_DIR) -> list[Example]:
    """Labelled questions: examples/<kind>.txt (one per line) and train.jsonl ({"question", "kind"})."""
    out: list[Example] = []
    for kind in KINDS:
        path = directory / "examples" / f"{kind}.txt"
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip() and not line.lstrip().startswith("#"):
                    out.append(Example(line.strip(), kind, "examples"))
    path = directory / "train.jsonl"
    if path.is_file():
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            d = json.loads(line)
            if d.get("kind") not in KINDS:
                raise ValueError(f"{path.name} rad {n}: okänd typ {d.get('kind')!r}")
            out.append(Example(d["question"], d["kind"], str(d.get("source", "train"))))
    return out


def _preprocess(text: str) -> str:
    return fold(text.lower())


class _Ngrams:
    """Stateless hashed n-gram features (word 1-2 grams and character 3-5 grams within words)."""

    def __init__(self) -> None:
        from sklearn.feature_extraction.text import HashingVectorizer

        common = dict(n_features=2**HASH_BITS, preprocessor=_preprocess, alternate_sign=False, norm="l2")
        self.words = HashingVectorizer(ngram_range=(1, 2), **common)
        self.chars = HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), **common)

    def features(self, texts: list[str], vectors: np.ndarray):
        from scipy import sparse

        return sparse.hstack([sparse.csr_matrix(vectors), self.words.transform(texts) * NGRAM_WEIGHT,
                              self.chars.transform(texts) * NGRAM_WEIGHT]).tocsr()


class SafetyModel:
    """Class probabilities for one question: emergency, urgent, personal, out_of_scope, answer."""

    def __init__(self, coef: np.ndarray, intercept: np.ndarray, classes: tuple[str, ...]) -> None:
        self.coef, self.intercept, self.classes = coef, intercept, classes
        self._ngrams = _Ngrams()

    @classmethod
    def train(cls, examples: list[Example], embedder) -> "SafetyModel":
        from sklearn.linear_model import LogisticRegression

        texts = [e.question for e in examples]
        X = _Ngrams().features(texts, embedder.embed_queries_np(texts))
        clf = LogisticRegression(C=C, max_iter=5000, class_weight="balanced")
        clf.fit(X, [e.kind for e in examples])
        return cls(clf.coef_.astype(np.float32), clf.intercept_.astype(np.float32), tuple(clf.classes_))

    @classmethod
    def load_or_train(cls, examples: list[Example], embedder, cache_dir: Path | None) -> "SafetyModel":
        key = _training_key(examples, getattr(embedder, "id", type(embedder).__name__))
        path = cache_dir / f"safety-model-{key}.npz" if cache_dir else None
        if path and path.is_file():
            try:
                with np.load(path) as z:
                    return cls(z["coef"], z["intercept"], tuple(str(c) for c in z["classes"]))
            except (OSError, KeyError, ValueError) as e:  # a damaged cache file: train again
                log.warning("Kunde inte läsa %s (%s); tränar om.", path, e)
        model = cls.train(examples, embedder)
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npz")
            np.savez(tmp, coef=model.coef, intercept=model.intercept, classes=np.array(model.classes))
            tmp.replace(path)
        return model

    def probabilities(self, question: str, query_vec: np.ndarray) -> dict[str, float]:
        x = self._ngrams.features([question], query_vec.reshape(1, -1).astype(np.float32))
        logits = np.asarray(x @ self.coef.T).ravel() + self.intercept
        p = np.exp(logits - logits.max())
        p /= p.sum()
        return {c: float(v) for c, v in zip(self.classes, p)}


def out_of_source_probabilities(examples: list[Example], embedder) -> list[tuple[Example, dict[str, float]]]:
    """For each source of labelled questions but "search", a model trained on everything else predicts
    that source's questions: how the classifier sees a writer it has never read. Used to calibrate
    thresholds (evaluation.calibrate_safety), never to train the shipped model."""
    out: list[tuple[Example, dict[str, float]]] = []
    for source in sorted({e.source for e in examples} - {"search"}):
        held = [e for e in examples if e.source == source]
        model = SafetyModel.train([e for e in examples if e.source != source], embedder)
        texts = [e.question for e in held]
        vecs = embedder.embed_queries_np(texts)
        out += [(e, model.probabilities(e.question, v)) for e, v in zip(held, vecs)]
    return out


def _training_key(examples: list[Example], embedder_name: str) -> str:
    h = hashlib.sha256(f"v{MODEL_VERSION}|{HASH_BITS}|{NGRAM_WEIGHT}|{C}|{embedder_name}".encode())
    for e in examples:
        h.update(f"\x00{e.kind}\x01{e.question}".encode())
    return h.hexdigest()[:16]
