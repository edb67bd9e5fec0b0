"""The knobs of relevance ranking, in one place; search() takes them as one options object.

The defaults are the ones chosen by leave-one-collection-out over five judged test collections
(``bench/tuning.py``; the folds and the reasons are in docs/relevance.md). An evaluation varies
them with ``dataclasses.replace(RANKING, ...)``; users have no reason to.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from search.schema import PART_FIELDS


@dataclass(frozen=True)
class Ranking:
    """How matches are scored: BM25F per script, field weights, feedback, proximity."""

    latin_k1: float = 2.0  # BM25F saturation and length normalisation of English (Latin-script) words
    latin_b: float = 0.9
    han_k1: float = 1.2  # ... of Chinese words and strings
    han_b: float = 0.75
    title_weight: float = 3.0  # a word's frequency in the title counts this many times its body's
    caption_weight: float = 0.6
    part_weight: float = 0.25  # a word found inside a longer word, against a whole word
    feedback_docs: int = 10  # a question's best articles its feedback words are taken from (0: none)
    feedback_words: int = 20
    feedback_weight: float = 1.0
    proximity_weight: float = 0.5  # the bonus for query words close together (BM25TP; 0: none)
    proximity_pairs: str = "next"  # which query words pair: "all", or "next" (next to each other in the query)
    # A query word's translations (search.bridge) against the word itself, and whether a translated
    # question is ranked again with feedback words: chosen on half of the cross-language queries
    # of bench/clir.py (docs/clir.md), below 1 so that a word as typed outweighs its translation.
    translation_weight: float = 0.9
    translated_feedback: bool = False
    # Where translations come from (search.bridge): an evaluation leaves one out to see what it adds.
    translation_sources: tuple[str, ...] = ("glossary", "dictionary", "names", "variants")
    # sort=relevance_recent: a score times 1 + recency_weight * 2 ** (-age / recency_half_life), the
    # age in days before the anchor day (search.query.dates.anchor); so a newer article overtakes
    # an older one only when their scores are within recency_weight of each other (docs/relevance.md).
    recency_weight: float = 0.05
    recency_half_life: float = 180.0

    @property
    def fields(self) -> dict[str, float]:
        """The weights of the text fields."""
        return {"title": self.title_weight, "body": 1.0, "captions": self.caption_weight}

    def with_parts(self, fields: dict[str, float]) -> dict[str, float]:
        """The text fields and the part fields of their longer words, each at its text field's weight."""
        parts = {part: fields[text] * self.part_weight for part, text in PART_FIELDS.items() if text in fields}
        return {**fields, **parts}

    def recency(self, ages: np.ndarray) -> np.ndarray:
        """The factor each score is multiplied by for sort=relevance_recent, of ages in days (NaN:
        no date, factor 1; an article dated after the anchor counts as age 0)."""
        boost = self.recency_weight * np.exp2(-np.maximum(ages, 0.0) / self.recency_half_life)
        return 1.0 + np.nan_to_num(boost, nan=0.0)

    def bm25(self, han: bool) -> tuple[float, float]:
        """k1 and b for a Chinese word (``han``) or another."""
        return (self.han_k1, self.han_b) if han else (self.latin_k1, self.latin_b)


RANKING = Ranking()
