"""The patient lexicon (knowledge/lexicon.yaml): maps what patients type (brand names, abbreviations,
everyday words, common misspellings) to the words the knowledge texts use. Data, not code."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from .swedish import fold


@dataclass(frozen=True)
class Lexicon:
    terms: dict[str, tuple[str, ...]]  # folded, lowercased patient term -> text words

    def expand(self, text: str) -> list[str]:
        """Text words for every lexicon term found in `text` (whole words; phrases allowed)."""
        folded = " " + " ".join(re.findall(r"[^\W_]+", fold(text.lower()))) + " "
        out: list[str] = []
        for term, means in self.terms.items():
            if f" {term} " in folded:
                out.extend(m for m in means if m not in out)
        return out


EMPTY = Lexicon({})


def load_lexicon(path: Path) -> Lexicon:
    """Read the lexicon; a missing file gives an empty lexicon. Raises ValueError naming the entry."""
    if not path.is_file():
        return EMPTY
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    terms: dict[str, tuple[str, ...]] = {}
    for i, entry in enumerate(data.get("entries", []), start=1):
        if not isinstance(entry, dict) or not entry.get("terms") or not entry.get("means"):
            raise ValueError(f"{path.name}: post {i} måste ha både 'terms' och 'means'")
        means = tuple(str(m) for m in entry["means"])
        for term in entry["terms"]:
            key = " ".join(re.findall(r"[^\W_]+", fold(str(term).lower())))
            terms[key] = tuple(dict.fromkeys(terms.get(key, ()) + means))
    return Lexicon(terms)
