"""Did you mean: a query's misspelled words corrected from the index's own words.

A word of the query is corrected when it is unknown or rare in the word fields (title, body)
and a close word is much more frequent. The index holds Snowball stems (cooperation is indexed
as cooper), so candidates are the stems that the start of the typed word is close to (the
Damerau-Levenshtein distance of its first ``len(stem)`` letters, by RapidFuzz); the most
frequent by document frequency wins when it passes ``SuggestRule``, and it is spelled as a word
of that stem in the articles that have it, within the same distance of the typed word. The
query keeps its syntax (quotes, prefixes, exclusions) and its other words as typed.

A Chinese word is corrected when it was typed with another character of the same sound (the
slip of a pinyin input method: 相港 for 香港, 重青 for 重庆): an indexed word of its length that
shares its first or last character and reads the same (pypinyin, tones and the other readings
of a character allowed). A Traditional variant needs no correction: queries are folded to
Simplified, as the index is.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from itertools import islice

from pypinyin import Style, pinyin
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein
from whoosh.searching import Searcher

from search.analysis import HAN, fold, has_han, latin_term
from search.query.syntax import FIELD_ALIASES, FILTER_FIELDS
from search.strings import lexicon_of

WORD_FIELDS = ("title", "body")
# A word of the query text (Latin letters) or a Chinese run, with the field prefix in front of it, if any.
_QUERY_WORD = re.compile(rf"(?:(?P<field>[A-Za-z]+):)?(?P<word>[A-Za-z]+(?:'[A-Za-z]+)*|[{HAN}]+)")
_OPERATORS = frozenset({"OR", "AND", "NOT"})
STEM_SUFFIX = 5  # the most letters a Snowball stem drops from a word's end (cooperation: cooper)


@dataclass(frozen=True)
class SuggestRule:
    """When a suggestion is made, and how far a correction may be from the typed word.

    Only for searches with fewer than ``few_hits`` hits: with three or more, the query found
    what it meant often enough that a hint would mostly distract. A correction must be in at
    least ``min_docs`` articles and ``ratio`` times as many as the typed word, so that a rare
    but real word (a name) is not "corrected" into a common neighbour. The distance allowed
    grows with the word's length, as Elasticsearch's ``fuzziness: AUTO``: none below
    ``min_length`` letters, one up to ``one_edit_up_to``, two beyond.
    """

    few_hits: int = 3
    min_docs: int = 3
    ratio: float = 10.0
    min_length: int = 4
    one_edit_up_to: int = 5
    longest_han_word: int = 4  # longer Chinese runs are several words: not corrected as one
    stems_tried: int = 8  # the likeliest candidate stems whose spellings are looked for
    articles_read: int = 5  # articles of a stem read for its spellings

    def max_edits(self, word: str) -> int:
        """The edit distance allowed for a correction of ``word``."""
        if len(word) < self.min_length:
            return 0
        return 1 if len(word) <= self.one_edit_up_to else 2


SUGGEST_RULE = SuggestRule()


def suggest(
    searcher: Searcher, query: str, total_hits: int, fallback: str | None = None, rule: SuggestRule = SUGGEST_RULE,
) -> str | None:
    """The query with its misspelled words corrected, or None: when the search found
    ``rule.few_hits`` hits or more, or no word has a correction. A search answered by the OR
    ``fallback`` found no article with all its words, however many it lists.
    """
    if total_hits >= rule.few_hits and fallback is None:
        return None
    typed = {m["word"].lower() for m in _QUERY_WORD.finditer(query) if _correctable(m)}
    corrections = {word: found for word in sorted(typed) if (found := correction(searcher, word, rule)) is not None}
    suggested = _replaced(query, corrections)
    return suggested if corrections and suggested != query else None


def _correctable(m: re.Match[str]) -> bool:
    """Whether a word of the query text may be corrected: not an operator, not a filter's value."""
    return m["word"] not in _OPERATORS and (m["field"] or "").lower() not in (*FILTER_FIELDS, *FIELD_ALIASES)


def _replaced(query: str, corrections: dict[str, str]) -> str:
    """The query text with each word that has a correction replaced, the rest as typed.

    >>> _replaced('"hong kang" -title:goverment source:goverment', {"goverment": "government"})
    '"hong kang" -title:government source:goverment'
    """
    def replace(m: re.Match[str]) -> str:
        found = corrections.get(m["word"].lower())
        if found is None or not _correctable(m):
            return m[0]
        return m[0][: m.start("word") - m.start()] + _cased(m["word"], found)

    return _QUERY_WORD.sub(replace, query)


def _cased(typed: str, found: str) -> str:
    """``found`` in the case of the typed word: Britian gives Britain, NASE gives NASA."""
    if typed.isupper() and len(typed) > 1:
        return found.upper()
    return found.capitalize() if typed[:1].isupper() else found


def correction(searcher: Searcher, word: str, rule: SuggestRule = SUGGEST_RULE) -> str | None:
    """The correction of one lower-case English word or Chinese run, or None when it needs none
    or has none."""
    if has_han(word):
        return _chinese_correction(searcher, word, rule)
    return _english_correction(searcher, word, rule)


def _english_correction(searcher: Searcher, word: str, rule: SuggestRule) -> str | None:
    """The correction of an English word. Of the frequent candidate stems, the likeliest first
    (the fewest edits per letter between the stem and the word's start, then the most articles),
    up to ``rule.stems_tried`` are spelled out; the spelling closest to the word wins, then the
    one of the most articles."""
    edits = rule.max_edits(word)
    if not edits or not word.isascii() or not word.isalpha():
        return None
    typed = _doc_frequency(searcher, latin_term(word))
    wanted = max(rule.min_docs, rule.ratio * typed)
    stems = [(near, stem, docs) for near, stem, docs in _candidate_stems(searcher, word, edits) if docs >= wanted]
    spelled = []
    for _, stem, docs in sorted(stems, key=lambda c: (c[0] / len(c[1]), -c[2]))[: rule.stems_tried]:
        found = _spelling(searcher, stem, word, edits, rule.articles_read)
        if found is not None and found != word:
            spelled.append((DamerauLevenshtein.distance(word, found), -docs, found))
    return min(spelled)[2] if spelled else None


def _doc_frequency(searcher: Searcher, term: str) -> int:
    """The articles with ``term`` in a word field (the largest count of the fields)."""
    return max(searcher.doc_frequency(name, term) for name in WORD_FIELDS)


def _candidate_stems(searcher: Searcher, word: str, edits: int) -> list[tuple[int, str, int]]:
    """(distance, stem, document frequency) of the indexed stems with the word's first letter
    that its start is within ``edits`` of. A misspelling rarely changes a word's first letter,
    and a Snowball stem keeps it; a stem drops at most a suffix of ``STEM_SUFFIX`` letters."""
    reader = searcher.reader()
    found: dict[str, int] = {}
    for name in WORD_FIELDS:
        for raw in reader.expand_prefix(name, word[0]):
            stem = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            if stem in found or not stem.isalpha() or not max(3, len(word) - STEM_SUFFIX) <= len(stem) <= len(word) + edits:
                continue
            found[stem] = DamerauLevenshtein.distance(word[: len(stem)], stem, score_cutoff=edits)
    return [(near, stem, _doc_frequency(searcher, stem)) for stem, near in found.items() if near <= edits]


def _spelling(searcher: Searcher, stem: str, word: str, edits: int, articles: int) -> str | None:
    """The commonest word indexed as ``stem`` in its first ``articles`` articles among those
    closest to ``word`` (within ``edits``); None when none is that close."""
    reader, seen = searcher.reader(), Counter[str]()
    # A Snowball stem starts its words but for its last letter (happi: happy, happiness). Found
    # from that literal start (fast), also inside a longer word: the stem check drops those.
    spelled_as = re.compile(rf"{re.escape(stem[:-1])}[a-z]*(?:'[a-z]+)*")
    for name in WORD_FIELDS:
        docnums = islice(reader.postings(name, stem).all_ids(), articles) if (name, stem) in reader else ()
        for docnum in docnums:
            words = set(spelled_as.findall(str(searcher.stored_fields(docnum).get(name, "")).lower()))
            close = process.extract(word, words, scorer=DamerauLevenshtein.distance, score_cutoff=edits, limit=None)
            seen.update(w for w, _, _ in close if latin_term(w) == stem)
    near = [(DamerauLevenshtein.distance(word, w), -count, w) for w, count in seen.items()]
    return min(near)[2] if near else None


def _chinese_correction(searcher: Searcher, run: str, rule: SuggestRule) -> str | None:
    """The most frequent indexed word that reads as the typed Chinese run, has its length and
    shares its first or last character, if it passes ``rule``; None otherwise."""
    typed = fold(run).text
    if not 2 <= len(typed) <= rule.longest_han_word:
        return None
    wanted = max(rule.min_docs, rule.ratio * _doc_frequency(searcher, typed))
    sounds = _readings(typed)
    found = [
        (docs, word) for word in _words_sharing_an_end(searcher, typed)
        if all(map(set.intersection, _readings(word), sounds)) and (docs := _doc_frequency(searcher, word)) >= wanted
    ]
    return max(found)[1] if found else None


def _words_sharing_an_end(searcher: Searcher, typed: str) -> set[str]:
    """The indexed Chinese words of the typed run's length that start or end as it does, but for it."""
    words: set[str] = set()
    for leaf, _ in searcher.leaf_searchers():
        for name in WORD_FIELDS:
            lexicon = lexicon_of(leaf.reader(), name)
            words.update(lexicon.starting(typed[0]), lexicon.ending(typed[-1]))
    return {w for w in words if len(w) == len(typed) and w != typed}


def _readings(word: str) -> list[set[str]]:
    """Each character's readings in pinyin without tones (重: zhong, chong, tong)."""
    return [set(readings) for readings in pinyin(word, style=Style.NORMAL, heteronym=True)]
