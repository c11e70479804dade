"""Build and open the search index: a Chroma collection (dense) plus BM25 over the same passages, and
per-sentence vectors for composing extractive answers.

Layout under `<data_dir>/index/`:
    CURRENT            name of the build in use (replaced atomically)
    build-<id>/        manifest.json, passages.jsonl, sentences.npz, chroma/ (embedded mode)

A build is written beside the one in use and swapped in only when complete: a crash mid-build leaves
the old index answering. The index is derived data and can always be rebuilt from knowledge/."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .embeddings import CachedEmbeddings, VectorEmbeddings, load_embedder
from .errors import IndexMissingError
from .knowledge import LoadReport, load_knowledge
from .passages import split_corpus
from .records import Passage, Problem
from .settings import Settings
from .swedish import split_sentences, stem_tokens

Progress = Callable[[str, int, int], None]  # (stage, done, total)
CURRENT = "CURRENT"


@dataclass
class BuildReport:
    build_id: str
    knowledge_version: str
    texts: int
    passages: int
    sentences: int
    embedded: int  # vectors computed (the rest came from the cache)
    seconds: float
    problems: list[Problem] = field(default_factory=list)
    not_indexed: list[tuple[str, str]] = field(default_factory=list)
    questions: int = 0  # search questions embedded as extra keys


def knowledge_version(passages: list[Passage]) -> str:
    h = hashlib.sha256()
    for p in sorted(passages, key=lambda p: p.id):
        h.update(json.dumps(dataclasses.asdict(p), sort_keys=True, ensure_ascii=False).encode())
    return h.hexdigest()[:16]


def cached_embedder(settings: Settings) -> CachedEmbeddings:
    return CachedEmbeddings(load_embedder(settings.embedder), settings.cache_dir / "embeddings.sqlite3")


def chroma_client(settings: Settings, path: Path):
    import chromadb

    chroma_settings = chromadb.config.Settings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def _vectorstore(settings: Settings, build_dir: Path, collection: str, embedder: VectorEmbeddings):
    from langchain_chroma import Chroma

    return Chroma(
        client=chroma_client(settings, build_dir / "chroma"), collection_name=collection,
        embedding_function=embedder, collection_metadata={"hnsw:space": "cosine"},
    )


def _fsync_write(path: Path, data: str) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def current_build(settings: Settings) -> Path | None:
    pointer = settings.index_root / CURRENT
    if not pointer.is_file():
        return None
    build = settings.index_root / pointer.read_text(encoding="utf-8").strip()
    return build if (build / "manifest.json").is_file() else None


def index_status(settings: Settings, report: LoadReport | None = None) -> tuple[bool, str]:
    """(up to date?, reason). Cheap: parses the texts but embeds nothing."""
    build = current_build(settings)
    if build is None:
        return False, "inget index finns ännu"
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    report = report or load_knowledge(settings.knowledge_dir)
    if manifest.get("knowledge_version") != knowledge_version(split_corpus(report.texts)):
        return False, "kunskapstexterna har ändrats"
    if manifest.get("embedder_setting") != settings.embedder:
        return False, "inbäddningsmodellen har bytts"
    return True, "indexet är aktuellt"


def build_index(settings: Settings, progress: Progress | None = None) -> BuildReport:
    """Rebuild the index from knowledge/ beside the current one and swap it in when complete."""
    t0 = time.perf_counter()
    report = load_knowledge(settings.knowledge_dir)
    passages = split_corpus(report.texts)
    version = knowledge_version(passages)
    embedder = cached_embedder(settings)
    root = settings.index_root
    root.mkdir(parents=True, exist_ok=True)
    build_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{os.urandom(3).hex()}"
    build_dir = root / f"build-{build_id}"
    build_dir.mkdir()

    def stage(name: str) -> Callable[[int, int], None] | None:
        return (lambda done, total: progress(name, done, total)) if progress else None

    embedder.embed_passages_np([p.embedding_input() for p in passages], progress=stage("stycken"))
    sentences = [split_sentences(p.text) for p in passages]
    flat = [s for ss in sentences for s in ss]
    sentence_vecs = embedder.embed_passages_np(flat, progress=stage("meningar"))
    offsets = np.cumsum([0] + [len(ss) for ss in sentences]).astype(np.int64)
    keys = [(i, q) for i, p in enumerate(passages) for q in p.questions]
    key_vecs = embedder.embed_passages_np([q for _, q in keys], progress=stage("sökfrågor"), role="query")

    collection = f"kunskapsstod-{build_id}"[:63]
    store = _vectorstore(settings, build_dir, collection, embedder)
    for i in range(0, len(passages), 256):  # vectors come from the cache filled above
        batch = passages[i:i + 256]
        store.add_texts(
            texts=[p.embedding_input() for p in batch], ids=[p.id for p in batch],
            metadatas=[{"text_id": p.text_id, "section": p.section, "title": p.title} for p in batch],
        )
    with open(build_dir / "passages.jsonl", "w", encoding="utf-8") as f:
        for p, ss in zip(passages, sentences):
            f.write(json.dumps({**dataclasses.asdict(p), "sentences": ss}, ensure_ascii=False) + "\n")
    np.savez(build_dir / "sentences.npz", vectors=sentence_vecs.reshape(len(flat), -1), offsets=offsets)
    dim = sentence_vecs.shape[1] if sentence_vecs.ndim == 2 and sentence_vecs.shape[1] else 384
    np.savez(build_dir / "keys.npz", vectors=key_vecs if len(keys) else np.zeros((0, dim), np.float32),
             owner=np.array([i for i, _ in keys], dtype=np.int64))
    manifest = {
        "build_id": build_id, "knowledge_version": version, "embedder": embedder.id,
        "embedder_setting": settings.embedder, "collection": collection,
        "chroma": "server" if settings.chroma_host else "embedded",
        "texts": len(report.texts), "passages": len(passages), "sentences": len(flat), "questions": len(keys),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    _fsync_write(build_dir / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
    previous = current_build(settings)
    _fsync_write(root / CURRENT, build_dir.name)  # the atomic swap
    _prune(settings, keep={build_dir.name, previous.name if previous else ""})
    return BuildReport(build_id, version, len(report.texts), len(passages), len(flat), embedder.computed,
                       time.perf_counter() - t0, report.problems, report.not_indexed, len(keys))


def _prune(settings: Settings, keep: set[str]) -> None:
    """Remove builds other than the current and the previous one (a reader may still use that)."""
    for d in settings.index_root.glob("build-*"):
        if d.name in keep or not d.is_dir():
            continue
        if settings.chroma_host:
            try:
                manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
                chroma_client(settings, d).delete_collection(manifest["collection"])
            except Exception:  # noqa: BLE001 - best effort clean-up of an old build
                pass
        shutil.rmtree(d, ignore_errors=True)


class Index:
    """A built index, opened for searching."""

    def __init__(self, settings: Settings, build_dir: Path, embedder: VectorEmbeddings) -> None:
        import bm25s

        self.build_dir = build_dir
        self.manifest = json.loads((build_dir / "manifest.json").read_text(encoding="utf-8"))
        self.passages: list[Passage] = []
        self.sentences: list[list[str]] = []
        with open(build_dir / "passages.jsonl", encoding="utf-8") as f:
            for line in f:
                d = json.loads(line)
                self.sentences.append(d.pop("sentences"))
                d["heading_path"], d["topics"] = tuple(d["heading_path"]), tuple(d["topics"])
                self.passages.append(Passage(**d))
        self.position = {p.id: i for i, p in enumerate(self.passages)}
        arrays = np.load(build_dir / "sentences.npz")
        self.sentence_vecs, self.offsets = arrays["vectors"], arrays["offsets"]
        keys = np.load(build_dir / "keys.npz")
        self.key_vecs, self.key_owner = keys["vectors"], keys["owner"]
        self.embedder = embedder
        self.store = _vectorstore(settings, build_dir, self.manifest["collection"], embedder)
        self.bm25 = bm25s.BM25()
        tokens = [stem_tokens(p.embedding_input() + " " + " ".join(p.questions)) for p in self.passages]
        self.bm25.index([t or ["_"] for t in tokens], show_progress=False)
        self.vocabulary = frozenset(t for ts in tokens for t in ts)  # every stem the corpus uses

    @classmethod
    def open(cls, settings: Settings, embedder: VectorEmbeddings | None = None) -> "Index":
        build = current_build(settings)
        if build is None:
            raise IndexMissingError("inget index finns; kör `kunskapsstod index` först")
        return cls(settings, build, embedder or load_embedder(settings.embedder))

    @property
    def knowledge_version(self) -> str:
        return self.manifest["knowledge_version"]

    def dense(self, query_vec: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(passage position, cosine similarity), best first."""
        k = min(k, len(self.passages))
        if k == 0:
            return []
        found = self.store.similarity_search_by_vector_with_relevance_scores(query_vec.tolist(), k=k)
        return [(self.position[doc.id], 1.0 - float(dist)) for doc, dist in found if doc.id in self.position]

    def lexical(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every passage for the (stemmed) query tokens."""
        if not tokens or not self.passages:
            return np.zeros(len(self.passages), dtype=np.float32)
        return np.asarray(self.bm25.get_scores(tokens), dtype=np.float32)

    def question_scores(self, query_vec: np.ndarray) -> np.ndarray:
        """Per passage, the best similarity between the query and the questions it answers (-1: none)."""
        out = np.full(len(self.passages), -1.0, dtype=np.float32)
        if len(self.key_owner):
            np.maximum.at(out, self.key_owner, self.key_vecs @ query_vec)
        return out

    def sentence_vectors(self, position: int) -> np.ndarray:
        return self.sentence_vecs[self.offsets[position]:self.offsets[position + 1]]
