"""Swedish text processing shared by indexing, retrieval and answering: normalising, sentence
splitting, slugs and stemmed tokens."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SLUG_MAP = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "ü": "u", "æ": "a", "ø": "o"})
_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[\"“”'(\[]?[A-ZÅÄÖÉ0-9])")
_WORD_RE = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
_ASCII_FOLD = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e"})


def slugify(heading: str) -> str:
    """Stable section slug: lowercase, å/ä→a, ö→o, other runs of non-alphanumerics → '-'."""
    s = heading.lower().translate(_SLUG_MAP)
    return re.sub(r"[^a-z0-9]+", "-", s).strip("-") or "avsnitt"


def normalize(text: str) -> str:
    """NFC, control characters removed, whitespace folded."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch if (ch in "\n\t" or unicodedata.category(ch)[0] != "C") else " " for ch in text)
    return re.sub(r"\s+", " ", text).strip()


def split_sentences(text: str) -> list[str]:
    """Split a Markdown passage into sentences; list items count as sentences of their own."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n|\n(?=\s*(?:[-*]|\d+\.)\s)", text.strip()):
        block = " ".join(line.strip() for line in block.splitlines()).strip()
        if not block:
            continue
        out.extend(s.strip() for s in _SENT_SPLIT.split(block) if s.strip())
    return out


def words(text: str) -> list[str]:
    return _WORD_RE.findall(text.lower())


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("swedish")


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_SWEDISH

    return frozenset(STOPWORDS_SWEDISH)


ENGLISH_STOPWORDS = frozenset(
    "the a an and or is are am was i you my me we it to of in on for with what how can do does should "
    "when why which who have has take taking not no yes if this that be will would could about actually "
    "anything something there their they them get got any some just really".split())


def fold(word: str) -> str:
    """Fold å/ä/ö to a/o so that 'lakemedel' (typed without å/ä/ö) meets 'läkemedel'."""
    return word.translate(_ASCII_FOLD)


def stem_tokens(text: str) -> list[str]:
    """Lowercased, stopword-free, Snowball-stemmed and å/ä/ö-folded tokens for BM25 and overlap."""
    ws = [w for w in words(text) if w not in stopwords()]
    return [fold(t) for t in _stemmer().stemWords(ws)]
