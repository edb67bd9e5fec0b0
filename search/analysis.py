"""Bilingual analysis: folding, Chinese segmentation and English stemming for Whoosh.

Text is folded before it is segmented — NFKC (full-width to half-width), lower case and
Traditional to Simplified Chinese — while every token keeps the character offsets of the
original text, so highlights mark the article's own glyphs.

Two analyzers feed the index:

* ``WordAnalyzer`` — Han runs go to jieba (its default cut, which tiles the text), Latin and
  digit runs to a regex word tokenizer with English stop words and Snowball stemming; every
  token has the next position. Because the words tile the text, any Chinese string is either
  inside one word or spans words at consecutive positions: that is how the query side finds
  parts of words, single characters, names jieba does not know and exact phrases.
* ``PartAnalyzer`` — the dictionary words inside each longer word (中国人民银行 gives 人民银行,
  人民, 银行, 中国), without positions, so a query word finds the longer words it is part of.

Exact values searched as fields (``author:``, ``tags:``) go through ``KeyTokenizer``: each value
folded whole (``value_key``), so 張三 finds 张三 and Trade finds trade.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import Stemmer
from whoosh.analysis import Filter, Token, Tokenizer
from whoosh.analysis.filters import STOP_WORDS

# Bump when a change to analysis changes the tokens an index holds.
ANALYZER_VERSION = "5"  # 4: author and tags fields; 5: story and bands (search.stories)
SEGMENTERS = ("rjieba", "jieba")
DEFAULT_SEGMENTER = "rjieba"
RECENT_RUNS = 4096  # Han runs whose cut a segmenter keeps (more than an article has)

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
LATIN = "0-9a-z\u00c0-\u024f"  # the letters and digits of a Latin word in folded text
LATIN_WORD = rf"[{LATIN}]+(?:['\u2019][a-z]+)*"  # a Latin word of folded text (don't, o'clock: one word)
_RUNS = re.compile(rf"(?P<han>[{HAN}]+)|(?P<latin>{LATIN_WORD})")
HAN_CHAR = re.compile(rf"[{HAN}]")
HAN_RUN = re.compile(rf"[{HAN}]+")
STOP = frozenset(STOP_WORDS) | {"s", "t"}
# Chinese function characters: particles, prepositions and conjunctions that jieba cuts as words
# of their own. A query ignores them beside other words (将 and 于 in 政府将于明年推出新政策), so
# they neither require a match nor weigh in its score; alone, they are searched.
HAN_FUNCTION_CHARS = frozenset("的地得之了着过将于与以和及并或而且在是为被把从向对由其也都就又还即但却则所等吗呢吧啊呀么这那此该")


@dataclass(frozen=True)
class Folded:
    """Folded text and, when folding changed its length, the original offset of each character."""

    text: str
    offsets: Sequence[int] | None  # None: offsets are the identity

    def original(self, i: int) -> int:
        """Map an offset in the folded text back to the original text.

        >>> folded = fold("㍿ shares")  # one character folds to four
        >>> folded.text, folded.original(4)
        ('株式会社 shares', 1)
        """
        return i if self.offsets is None else self.offsets[i]


@functools.cache
def opencc_table(name: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each entry of one of OpenCC's tables ("source<TAB>targets"): the source and its targets, first choice first.

    >>> dict(opencc_table("TSCharacters.txt"))["後"]
    ('后',)
    """
    import opencc

    path = Path(opencc.__file__).parent / "dictionary" / name
    pairs = (line.partition("\t") for line in path.read_text(encoding="utf-8").splitlines())
    return tuple((source, tuple(targets.split())) for source, _, targets in pairs)


@functools.cache
def _ts_table() -> dict[int, str]:
    """OpenCC's Traditional-to-Simplified character table (first choice of each)."""
    table: dict[int, str] = {}
    for trad, targets in opencc_table("TSCharacters.txt"):
        simp = targets[0] if targets else ""
        if len(trad) == 1 and len(simp) == 1 and trad != simp:
            table[ord(trad)] = simp
    return table


@functools.cache
def _fold_tables() -> tuple[dict[int, str], dict[int, str], re.Pattern[str]]:
    """Per-character fold tables: same-length mappings, longer mappings, and a regex of the latter."""
    ts = _ts_table()
    same: dict[int, str] = {}
    longer: dict[int, str] = {}
    code_points = [*range(0x80, 0x10000), *range(0x2F800, 0x2FA20)]
    for cp in code_points:
        c = chr(cp)
        folded = unicodedata.normalize("NFKC", c).lower().translate(ts)
        if folded == c:
            continue
        (same if len(folded) == 1 else longer)[cp] = folded
    for cp, simp in ts.items():
        same.setdefault(cp, simp)
    for cp in range(ord("A"), ord("Z") + 1):
        same[cp] = chr(cp + 32)
    # Curly apostrophes, so that "Kong’s" stems like "Kong's".
    same[0x2019] = same[0x2018] = "'"
    pattern = re.compile("[" + "".join(re.escape(chr(cp)) for cp in longer) + "]")
    return same, longer, pattern


def fold(text: str) -> Folded:
    """NFKC, lower-case and Traditional-to-Simplified fold ``text``, keeping original offsets.

    >>> fold("醫藥費 ５Ｇ").text
    '医药费 5g'
    """
    same, longer, pattern = _fold_tables()
    if not pattern.search(text):
        return Folded(text.translate(same), None)
    out: list[str] = []
    offsets: list[int] = []
    for i, c in enumerate(text):
        f = longer.get(ord(c)) or same.get(ord(c), c)
        out.append(f)
        offsets.extend([i] * len(f))
    offsets.append(len(text))
    return Folded("".join(out), offsets)


@functools.cache
def _fold_table() -> dict[int, str]:
    """``fold``'s per-character mappings in one table, for str.translate."""
    same, longer, _ = _fold_tables()
    return {**same, **longer}


def fold_text(text: str) -> str:
    """``fold(text).text`` without the offsets, at a fraction of its cost.

    >>> fold_text("㍿ 醫藥費 ５Ｇ") == fold("㍿ 醫藥費 ５Ｇ").text
    True
    """
    return text.translate(_fold_table())


def to_simplified(text: str) -> str:
    """Traditional to Simplified Chinese, character by character (same length).

    >>> to_simplified("香港經濟")
    '香港经济'
    """
    return text.translate(_ts_table())


def has_han(text: str) -> bool:
    """Whether ``text`` contains a Chinese character.

    >>> has_han("Hong Kong"), has_han("Hong Kong 香港")
    (False, True)
    """
    return HAN_CHAR.search(text) is not None


# --- segmentation -------------------------------------------------------------------------


@dataclass(frozen=True)
class Dictionary:
    """A user dictionary: jieba's format, one ``word [freq] [tag]`` a line, ``#`` comments."""

    words: tuple[tuple[str, int | None], ...] = ()

    @classmethod
    def load(cls, path: Path | None) -> Dictionary:
        """Read a user dictionary file; a missing path means no user words."""
        if path is None or not path.is_file():
            return cls()
        words = []
        for line in path.read_text(encoding="utf-8-sig").splitlines():
            parts = line.split("#", 1)[0].split()
            if not parts:
                continue
            freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
            words.append((fold(parts[0]).text, freq))
        return cls(tuple(words))

    @property
    def digest(self) -> str:
        """A short hash of the words, recorded in the index to detect a changed dictionary."""
        text = "\n".join(f"{w} {f or ''}" for w, f in self.words)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class Segmenter:
    """jieba (Python) or rjieba (jieba-rs, same dictionary, ~20x faster) with user words."""

    def __init__(self, name: str, dictionary: Dictionary) -> None:
        if name not in SEGMENTERS:
            raise ValueError(f"unknown segmenter {name!r}; choose one of {', '.join(SEGMENTERS)}")
        self.name = name
        self._recent: dict[str, list[tuple[str, int, int]]] = {}
        if name == "rjieba":
            import rjieba

            self._impl = rjieba.Jieba()
            for word, freq in dictionary.words:
                self._impl.add_word(word, freq, None)
        else:
            import jieba

            jieba.setLogLevel(60)
            self._impl = jieba.Tokenizer()
            self._impl.check_initialized()
            for word, freq in dictionary.words:
                self._impl.add_word(word, freq)

    def tokens(self, text: str) -> list[tuple[str, int, int]]:
        """(word, start, end) of jieba's default cut: words that tile ``text``.

        The cuts of recent runs are kept: an article's part fields cut the same runs again.

        >>> get_segmenter(DEFAULT_SEGMENTER, Dictionary()).tokens("中国人民银行行长")
        [('中国人民银行', 0, 6), ('行长', 6, 8)]
        """
        found = self._recent.get(text)
        if found is None:
            if len(self._recent) >= RECENT_RUNS:
                self._recent.clear()
            found = self._recent[text] = list(self._impl.tokenize(text))
        return found

    def parts(self, word: str) -> list[str]:
        """The dictionary words inside ``word``, longest first.

        Like jieba's search mode, but not only 2- and 3-character ones: 中国人民银行 also gives
        人民银行, so that word finds it.
        """
        n = len(word)
        return [
            sub
            for size in range(n - 1, 1, -1)
            for i in range(n - size + 1)
            if self.knows(sub := word[i : i + size])
        ]

    def words(self, text: str) -> list[str]:
        """jieba's default-mode words."""
        return list(self._impl.cut(text))

    def knows(self, word: str) -> bool:
        """Whether ``word`` is in the dictionary (jieba's or the user's)."""
        if self.name == "rjieba":
            return self._impl.has_word(word)
        return bool(self._impl.FREQ.get(word))

    def __getstate__(self) -> None:
        raise TypeError("a Segmenter is not pickled; analyzers look it up by name")


@functools.lru_cache(maxsize=4)
def get_segmenter(name: str, dictionary: Dictionary) -> Segmenter:
    """The one cached segmenter for a segmenter name and user dictionary."""
    return Segmenter(name, dictionary)


# --- Whoosh tokenizers and filters ----------------------------------------------------------


class _SegmentingTokenizer(Tokenizer):
    """A tokenizer that cuts Han runs with a segmenter, named so that it pickles with the schema."""

    def __init__(self, segmenter: str = DEFAULT_SEGMENTER, dictionary: Dictionary = Dictionary()):
        self.segmenter_name = segmenter
        self.dictionary = dictionary

    def segmenter(self) -> Segmenter:
        """The cached segmenter this tokenizer uses."""
        return get_segmenter(self.segmenter_name, self.dictionary)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and (self.segmenter_name, self.dictionary) == (
            other.segmenter_name, other.dictionary)  # type: ignore[attr-defined]


class WordTokenizer(_SegmentingTokenizer):
    """Folds text, sends Han runs to jieba and Latin/digit runs to a word tokenizer.

    >>> [t.text for t in WordTokenizer()("5G手机 in Hong Kong")]
    ['5g', '手机', 'hong', 'kong']
    """

    def __call__(
        self, value: str, positions: bool = False, chars: bool = False, keeporiginal: bool = False,
        removestops: bool = True, start_pos: int = 0, start_char: int = 0, mode: str = "", **kwargs: object,
    ) -> Iterator[Token]:
        folded = fold(value)
        segmenter = None  # loaded at the first Han run: English text never needs jieba
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pos = start_pos - 1
        for m in _RUNS.finditer(folded.text):
            if m.lastgroup == "latin":
                word = m.group()
                if word in STOP:
                    if removestops:
                        continue
                    t.stopped = True
                else:
                    t.stopped = False
                pos += 1
                yield self._set(t, word, pos, m.start(), m.end(), folded, start_char, value, keeporiginal)
                continue
            t.stopped = False
            base = m.start()
            segmenter = segmenter or self.segmenter()
            for word, s, e in segmenter.tokens(m.group()):
                pos += 1
                yield self._set(t, word, pos, base + s, base + e, folded, start_char, value, keeporiginal)

    @staticmethod
    def _set(
        t: Token, word: str, pos: int, start: int, end: int,
        folded: Folded, start_char: int, value: str, keeporiginal: bool,
    ) -> Token:
        """Fill the reused token with a word, its position and its original offsets."""
        t.text = word
        t.boost = 1.0
        if t.positions:
            t.pos = pos
        if t.chars or keeporiginal:
            t.startchar = start_char + folded.original(start)
            t.endchar = start_char + folded.original(end)
        if keeporiginal:
            t.original = value[t.startchar - start_char : t.endchar - start_char]
        return t


class PartTokenizer(_SegmentingTokenizer):
    """The dictionary words inside each longer Han word of the text (no positions).

    >>> [t.text for t in PartTokenizer()("中国人民银行行长")]
    ['人民银行', '中国', '国人', '人民', '银行']
    """

    def __call__(
        self, value: str, positions: bool = False, chars: bool = False,
        removestops: bool = True, mode: str = "", **kwargs: object,
    ) -> Iterator[Token]:
        segmenter = None
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        t.boost, t.stopped = 1.0, False
        for run in HAN_RUN.findall(fold(value).text):
            segmenter = segmenter or self.segmenter()
            for word, _, _ in segmenter.tokens(run):
                if len(word) > 2:
                    for part in segmenter.parts(word):
                        t.text = part
                        yield t


@functools.cache
def _english_stemmer() -> Stemmer.Stemmer:
    """The one Snowball English stemmer (it keeps its own cache of recent words)."""
    return Stemmer.Stemmer("english")


def stem(word: str) -> str:
    """The Snowball (Porter2) stem of an English word: cooperating and cooperation give cooper.

    >>> stem("cooperating"), stem("cooperation")
    ('cooper', 'cooper')
    """
    return _english_stemmer().stemWord(word)


def latin_term(word: str) -> str:
    """The term the word analyzer indexes for a Latin word of folded text: its stem if it is
    English (ASCII, not a number), else the word itself. Stemming keeps a word's first letter.

    >>> latin_term("cooperating"), latin_term("2023"), latin_term("café")
    ('cooper', '2023', 'café')
    """
    return _english_stemmer().stemWord(word) if word.isascii() and not word.isdigit() else word


class EnglishStemFilter(Filter):
    """Snowball stems of Latin tokens (``latin_term``); Chinese tokens and numbers pass unchanged."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EnglishStemFilter)

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            t.text = latin_term(t.text)
            yield t


def value_key(value: str) -> str:
    """An exact value as ``author:`` and ``tags:`` match it: folded, its spaces collapsed.

    >>> value_key(" 韓旭爾 "), value_key("John  SMITH")
    ('韩旭尔', 'john smith')
    """
    return " ".join(fold(value).text.split())


class KeyTokenizer(Tokenizer):
    """Exact values as tokens: a field's text cut at ``separators``, each part folded whole by
    ``value_key``; with ``words``, also each word of a part of several (smith of John Smith).

    >>> [t.text for t in KeyTokenizer(r"[,;，、；]", words=True)("John Smith、張三")]
    ['john smith', 'john', 'smith', '张三']
    """

    def __init__(self, separators: str = ",", *, words: bool = False) -> None:
        self.separators = separators
        self.words = words

    def __call__(self, value: str, positions: bool = False, chars: bool = False, keeporiginal: bool = False,
                 removestops: bool = True, start_pos: int = 0, start_char: int = 0, mode: str = "",
                 **kwargs: object) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        keys: list[str] = []
        for part in re.split(self.separators, value):
            key = value_key(part)
            keys += [key, *key.split()] if self.words and " " in key else [key]
        for pos, text in enumerate(dict.fromkeys(k for k in keys if k), start_pos):
            t.text, t.boost, t.stopped = text, 1.0, False
            if keeporiginal:
                t.original = text
            if positions:
                t.pos = pos
            if chars:  # a key is folded: it spans the whole value
                t.startchar, t.endchar = start_char, start_char + len(value)
            yield t


def WordAnalyzer(segmenter: str = DEFAULT_SEGMENTER, dictionary: Dictionary = Dictionary()):
    """The word-field analyzer: bilingual tokens, English stemmed.

    >>> [t.text for t in WordAnalyzer()("Cooperation between 香港 and 重慶")]
    ['cooper', 'between', '香港', '重庆']
    """
    return WordTokenizer(segmenter, dictionary) | EnglishStemFilter()


def PartAnalyzer(segmenter: str = DEFAULT_SEGMENTER, dictionary: Dictionary = Dictionary()):
    """The part-field analyzer: dictionary words inside longer Chinese words (see PartTokenizer)."""
    return PartTokenizer(segmenter, dictionary)


def analyze(
    text: str, *, query: bool = False, segmenter: str = DEFAULT_SEGMENTER,
    dictionary: Dictionary = Dictionary(),
) -> list[tuple[str, int, int, int]]:
    """(token, position, start, end) of the word analyzer, as ``qiao analyze`` prints them.

    >>> analyze("香港經濟 growing")
    [('香港', 0, 0, 2), ('经济', 1, 2, 4), ('grow', 2, 5, 12)]
    """
    analyzer = WordAnalyzer(segmenter, dictionary)
    mode = "query" if query else "index"
    return [
        (t.text, t.pos, t.startchar, t.endchar)
        for t in analyzer(text, positions=True, chars=True, mode=mode)
    ]
