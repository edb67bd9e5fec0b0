"""The bridge: a query's words in the index's other language, and in the other region's words.

Dictionary-based cross-language retrieval. An English word or phrase of a query is looked up
among the glosses of CC-CEDICT (the Chinese words it translates), a Chinese word among its
headwords (the English it means); each becomes one synonym set, scored as one word
(``search.matching.SynonymQuery``). Three more sources come before or beside the dictionary:

* the glossary: names whose English is not their pinyin (香港 Hong Kong, 联合国 United Nations),
  shipped in search/data/glossary.tsv and extended by INDEX/glossary.tsv;
* names by their sound: English words that read as pinyin (Yuan Jiajun, yuanjiajun, Chongqing)
  become the Chinese names of the index's own lexicon that read that way, and a Chinese name
  its pinyin (袁家军: yuan jiajun, yuanjiajun);
* regional words: OpenCC's phrase tables (网络 网路, 出租车 计程车 的士, 软件 软体).

Only translations that are in the index are used, so what "searched as" shows is what was searched.

CC-CEDICT (https://cc-cedict.org/, MDBG, CC BY-SA 4.0) comes as search/data/cedict.tsv.gz, its
glosses cleaned once by scripts/make_dictionary.py, with jieba's commonness of each word and
whether jieba tags it as a name.
"""

from __future__ import annotations

import functools
import gzip
import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pypinyin import Style, pinyin
from pypinyin.pinyin_dict import pinyin_dict
from whoosh.searching import Searcher

from search.analysis import (
    HAN_RUN,
    LATIN_WORD,
    STOP,
    Segmenter,
    fold,
    latin_term,
    opencc_table,
    to_simplified,
)
from search.strings import lexicon_of

SOURCES = ("glossary", "dictionary", "names", "variants")  # where translations come from
GLOSSARY = Path(__file__).parent / "data" / "glossary.tsv"
USER_GLOSSARY = "glossary.tsv"  # an index's own additions, in its folder (beside userdict.txt)
CEDICT = Path(__file__).parent / "data" / "cedict.tsv.gz"  # CC-CEDICT's glosses (scripts/make_dictionary.py)
CEDICT_ENGLISH = Path(__file__).parent / "data" / "cedict-english.tsv.gz"  # the same, by English terms
MAX_CHINESE = 4  # Chinese words an English word or phrase becomes, the commonest first
MAX_ENGLISH = 6  # English glosses a Chinese word becomes, in the dictionary's order
MAX_PHRASE = 3  # the longest English phrase looked up as one (world health organization)
MAX_NAMES = 2  # Chinese names one pinyin reading becomes, those of the most articles first
NAME_SYLLABLES = (2, 4)  # a pinyin name has this many syllables
NAME_TAGS = frozenset({"nr", "nrfg", "nrt", "ns", "nt", "nz"})  # jieba's tags of names and places
SINGLE_CHARACTER = 0.1  # a one-character translation's commonness counts this much (港, 合: mostly parts)

_PAREN = re.compile(r"\([^()]*\)")
_REFERENCE = re.compile(r"\S*\[[^\]]*\]")  # 個|个[ge4]
_SKIP = re.compile(r"^(cl:|variant of|old variant|also written|see |surname |abbr\b|used in|also pr|pr\.|erhua|taiwan pr|japanese|old name|name of)")
_FILLER = re.compile(r"\b(sb|sth|sb's|sth's|one's|oneself|etc|lit\.|fig\.)(?=\s|$)")
_LEAD = re.compile(r"^(to|a|an|the)\s+")
_GLOSS = re.compile(r"[a-z][a-z' -]*")

Member = tuple[str, ...]  # indexed terms that must all be in an article (hong kong)


@dataclass(frozen=True)
class Translation:
    """One query word or phrase in the other language: as typed, as shown, and as searched."""

    source: str  # as typed: Hong Kong, 合作
    targets: tuple[str, ...]  # as shown: 香港; cooperate, collaborate
    members: tuple[Member, ...]  # as indexed: ('香港',); ('cooper',), ('collabor',)

    @property
    def lang(self) -> str:
        """The language of the targets: zh or en."""
        return "zh" if HAN_RUN.search(self.targets[0]) else "en"

    def to_dict(self) -> dict[str, object]:
        """The translation as the JSON API gives it."""
        return {"source": self.source, "targets": list(self.targets)}


def terms(text: str) -> Member:
    """The indexed terms of English text: its words folded and stemmed, stop words left out.

    >>> terms("The World Health Organization")
    ('world', 'health', 'organiz')
    """
    return tuple(latin_term(w) for w in re.findall(LATIN_WORD, fold(text).text) if w not in STOP)


def clean_gloss(gloss: str) -> str | None:
    """A CC-CEDICT gloss as words an article would use, or None when it is a note or too long.

    >>> clean_gloss("to cooperate"), clean_gloss("CL:個|个[ge4]"), clean_gloss("Hong Kong (abbr.)")
    ('cooperate', None, 'hong kong')
    """
    text = re.split(r"[,;]", _REFERENCE.sub("", _PAREN.sub("", gloss.lower())))[0].strip(" .")
    if _SKIP.match(text):
        return None
    text = _LEAD.sub("", _FILLER.sub("", text).strip()).strip()
    words = text.split()
    if not 1 <= len(words) <= MAX_PHRASE or not _GLOSS.fullmatch(text):
        return None
    return " ".join(words)


@dataclass(frozen=True)
class Dictionaries:
    """What the bridge reads, loaded once: CC-CEDICT both ways, the glossary, regional variants."""

    english_of: dict[str, tuple[str, ...]]  # Chinese word: its English glosses, in order
    proper: dict[str, tuple[str, ...]]  # toneless pinyin: proper nouns that read so (chongqing: 重庆)
    glossary_english: dict[str, tuple[str, ...]]  # 香港: Hong Kong
    glossary_chinese: dict[Member, tuple[str, ...]]  # ('hong', 'kong'): 香港
    variants: dict[str, tuple[str, ...]]  # 网络: 网路 (OpenCC's phrases, folded)
    proper_words: frozenset[str]  # the dictionary's proper nouns (重庆)
    names: frozenset[str]  # jieba's words tagged as names of people, places or organisations

    @functools.cached_property
    def longest_glossary_name(self) -> int:
        """The most terms of an English name of the glossary."""
        return max(map(len, self.glossary_chinese), default=0)


def _glossary_version(path: Path | None) -> tuple[Path | None, tuple[int, int]]:
    """An index's glossary file and its version (modification time, size); None when there is none."""
    try:
        stat = path.stat() if path is not None else None
    except OSError:
        stat = None
    return (path, (stat.st_mtime_ns, stat.st_size)) if stat is not None else (None, (0, 0))


def read_glossary(path: Path) -> dict[str, tuple[str, ...]]:
    """A glossary file: ``中文<TAB>English|Other English`` a line, ``#`` comments; missing: empty."""
    found: dict[str, tuple[str, ...]] = {}
    if not path.is_file():
        return found
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        chinese, _, english = line.split("#", 1)[0].partition("\t")
        names = tuple(n.strip() for n in english.split("|") if n.strip())
        if HAN_RUN.fullmatch(word := fold(chinese.strip()).text) and names:
            found[word] = found.get(word, ()) + names
    return found


def _glossary_chinese(glossary: dict[str, tuple[str, ...]]) -> dict[Member, tuple[str, ...]]:
    reverse: dict[Member, list[str]] = defaultdict(list)
    for chinese, names in glossary.items():
        for name in names:
            if key := terms(name):
                reverse[key].append(chinese)
    return {k: tuple(dict.fromkeys(v)) for k, v in reverse.items()}


@functools.lru_cache(maxsize=8)
def dictionaries(user_glossary: Path | None = None, version: tuple[int, int] = (0, 0)) -> Dictionaries:
    """The dictionaries, read once per process; with an index's own glossary, once per ``version``
    of it (its modification time and size), so that an edited glossary is read again."""
    english, proper, names = _cedict()
    glossary = {**read_glossary(GLOSSARY)}
    if user_glossary is not None:
        for word, extra in read_glossary(user_glossary).items():
            glossary[word] = tuple(dict.fromkeys(extra + glossary.get(word, ())))
    return Dictionaries(english, proper, glossary,
                        _glossary_chinese(glossary), _variants(),
                        frozenset(w for words in proper.values() for w in words), names)


@functools.cache
def _cedict() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]], frozenset[str]]:
    """CC-CEDICT's glosses by simplified headword (a proper noun's pinyin among them), its proper
    nouns by their pinyin, and jieba's names (search/data/cedict.tsv.gz, written by
    scripts/make_dictionary.py)."""
    english: dict[str, tuple[str, ...]] = {}
    proper: dict[str, list[str]] = defaultdict(list)
    names: list[str] = []
    with gzip.open(CEDICT, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("#"):
                continue
            word, _, name, reading, glosses = line.rstrip("\n").split("\t")
            if name == "1":
                names.append(word)
            found = glosses.split("|") if glosses else []
            if reading:
                proper[reading].append(word)
                if found:
                    found.append(reading)
            if found:
                english[word] = tuple(dict.fromkeys(found))
    return english, {k: tuple(v) for k, v in proper.items()}, frozenset(names)


@functools.cache
def chinese_of() -> dict[Member, tuple[str, ...]]:
    """English terms to the Chinese words with that gloss, likeliest first (``english_index``),
    as scripts/make_dictionary.py wrote them (search/data/cedict-english.tsv.gz); read on the
    first English query (a Chinese one needs only the glosses)."""
    found: dict[Member, tuple[str, ...]] = {}
    with gzip.open(CEDICT_ENGLISH, "rt", encoding="utf-8") as lines:
        for line in lines:
            if not line.startswith("#"):
                key, words = line.rstrip("\n").split("\t")
                found[tuple(key.split())] = tuple(words.split("|"))
    return found


def english_index(english: dict[str, tuple[str, ...]], commonness: dict[str, int]) -> dict[Member, tuple[str, ...]]:
    """English terms to the Chinese words with that gloss, likeliest first: the commonest, a
    word's first glosses before its later ones, a single character at a tenth."""
    scored: dict[Member, list[tuple[float, str]]] = defaultdict(list)
    for word, glosses in english.items():
        common = commonness.get(word, 0) * (SINGLE_CHARACTER if len(word) == 1 else 1.0)
        for rank, gloss in enumerate(glosses):
            if key := terms(gloss):
                scored[key].append((common / (1 + rank), word))
    return {
        key: _likeliest([w for _, w in sorted(found, key=lambda c: -c[0])]) for key, found in scored.items()
    }


def _likeliest(words: list[str]) -> tuple[str, ...]:
    """The candidates in order, without single characters when there is a longer word (经济, not 省)."""
    longer = [w for w in words if len(w) > 1]
    return tuple(dict.fromkeys(longer or words))[: MAX_CHINESE * 3]


def _variants() -> dict[str, tuple[str, ...]]:
    """Words of one meaning in mainland, Taiwan and Hong Kong use (OpenCC's phrase tables), folded
    to Simplified as the index is: 网络 网路, 出租车 计程车 的士."""
    linked: dict[str, set[str]] = defaultdict(set)
    for table in ("TWPhrases.txt", "TWPhrasesRev.txt", "HKVariantsRevPhrases.txt"):
        for source, targets in opencc_table(table):
            a = to_simplified(source)
            for target in targets:
                b = to_simplified(target)
                if a != b and HAN_RUN.fullmatch(a) and HAN_RUN.fullmatch(b):
                    linked[a].add(b)
                    linked[b].add(a)
    return {word: tuple(sorted(others)) for word, others in linked.items()}


# --- pinyin -----------------------------------------------------------------------------------


@functools.cache
def _syllables() -> frozenset[str]:
    """Every toneless pinyin syllable."""
    return frozenset(_characters_of())


@functools.cache
def _characters_of() -> dict[str, str]:
    """Each toneless syllable: the characters that can read so (pypinyin's table, inverted)."""
    found: dict[str, list[str]] = defaultdict(list)
    for code, readings in pinyin_dict.items():
        for reading in readings.split(","):
            found[_untoned(reading)].append(chr(code))
    # A syllable has a vowel: pypinyin's n, ng and hm (嗯, 哼) would read English letters as names.
    return {s: "".join(chars) for s, chars in found.items() if s.isalpha() and re.search("[aeiouv]", s)}


def _untoned(reading: str) -> str:
    """A pinyin reading without its tone marks: zhòng gives zhong, lǜ gives lu."""
    return "".join(c for c in unicodedata.normalize("NFD", reading) if not unicodedata.combining(c)).replace("ü", "u")


def syllable_splits(letters: str) -> list[tuple[str, ...]]:
    """The ways ``letters`` reads as toneless pinyin syllables (xian: xian, xi an).

    >>> syllable_splits("chongqing")
    [('chong', 'qing')]
    """
    known = _syllables()
    found: list[tuple[str, ...]] = []

    def split(rest: str, done: tuple[str, ...]) -> None:
        if not rest:
            found.append(done)
            return
        if len(done) >= NAME_SYLLABLES[1]:
            return
        for end in range(min(6, len(rest)), 0, -1):
            if rest[:end] in known:
                split(rest[end:], (*done, rest[:end]))

    split(letters, ())
    return found


@functools.cache
def readings(character: str) -> frozenset[str]:
    """A character's toneless readings (重: zhong, chong)."""
    return frozenset(_untoned(r) for r in pinyin(character, style=Style.TONE, heteronym=True)[0])


def romanized(word: str, name: bool) -> tuple[Member, ...]:
    """How English writes a Chinese name: the syllables joined (chongqing) and, for a person's
    name, the family name apart (yuan jiajun); as indexed terms.

    >>> romanized("袁家军", name=True)
    (('yuanjiajun',), ('yuan', 'jiajun'))
    """
    syllables = [_untoned(s[0]) for s in pinyin(word, style=Style.TONE)]
    if not all(s.isalpha() and s.isascii() for s in syllables):
        return ()
    found = [(latin_term("".join(syllables)),)]
    if name and len(syllables) in (2, 3):
        found.append((latin_term(syllables[0]), latin_term("".join(syllables[1:]))))
    return tuple(found)


# --- the bridge of one search -------------------------------------------------------------------


class Bridge:
    """Translations of a query's words into the words of one index (``searcher``): only those
    in the index are used. ``fields``: the fields a word is searched in."""

    def __init__(self, searcher: Searcher, segmenter: Segmenter, fields: Sequence[str], *,
                 translate: bool, chinese_query: bool = False, user_glossary: Path | None = None,
                 sources: Sequence[str] = SOURCES) -> None:
        self.searcher = searcher
        self.segmenter = segmenter
        self.fields = tuple(fields)
        self.translate = translate  # across languages; regional variants are always looked up
        self.chinese_query = chinese_query  # a query with Chinese: its Chinese words are translated, not its Latin ones
        self.d = dictionaries(*_glossary_version(user_glossary))
        self._df: dict[str, int] = {}
        self.sources = frozenset(sources)

    def doc_frequency(self, term: str) -> int:
        """The articles with ``term`` in the fields searched (the largest count of a field)."""
        if term not in self._df:
            self._df[term] = max(self.searcher.doc_frequency(name, term) for name in self.fields)
        return self._df[term]

    def _present(self, members: Sequence[Member]) -> tuple[Member, ...]:
        return tuple(dict.fromkeys(m for m in members if m and all(self.doc_frequency(t) for t in m)))

    def _chinese_member(self, word: str) -> Member:
        """A Chinese word as indexed: itself, or the words jieba cuts it into."""
        return tuple(w for w, _, _ in self.segmenter.tokens(word))

    # English to Chinese

    def english(self, words: Sequence[tuple[str, str]]) -> list[tuple[int, int, Translation | None]]:
        """(start, end, translation) spans of English query words (term, as typed): each the
        longest phrase with a translation in the index, None for a word without."""
        spans: list[tuple[int, int, Translation | None]] = []
        longest = max(MAX_PHRASE, self.d.longest_glossary_name)
        i = 0
        while i < len(words):
            for n in range(min(longest, len(words) - i), 0, -1):
                found = self._english_phrase(words[i : i + n])
                if found is not None:
                    spans.append((i, i + n, found))
                    i += n
                    break
            else:
                spans.append((i, i + 1, None))
                i += 1
        return spans

    def _english_phrase(self, words: Sequence[tuple[str, str]]) -> Translation | None:
        key = tuple(t for t, _ in words)
        typed = " ".join(o for _, o in words)
        candidates: list[str] = []
        if "glossary" in self.sources:
            candidates = [w for w in self.d.glossary_chinese.get(key, ()) if self._acronym_ok(w, typed)]
        if not candidates and "dictionary" in self.sources:
            candidates = list(chinese_of().get(key, ()))
        if not candidates and "names" in self.sources:
            candidates = self._names(typed)
        chosen: list[tuple[str, Member]] = []
        for word in candidates:
            member = self._chinese_member(word)
            if self._present([member]) and len(chosen) < MAX_CHINESE:
                chosen.append((word, member))
        if not chosen:
            return None
        return Translation(typed, tuple(w for w, _ in chosen), tuple(m for _, m in chosen))

    def _acronym_ok(self, chinese: str, typed: str) -> bool:
        """A glossary's acronym (WHO, UN) only as typed in capitals: who and un are words."""
        forms = self.d.glossary_english.get(chinese, ())
        acronyms = {f.lower() for f in forms if f.isupper()}
        return typed.lower() not in acronyms or typed.isupper()

    def _names(self, typed: str) -> list[str]:
        """The Chinese names that read as ``typed`` (pinyin, tones and spaces aside): proper nouns
        of the dictionary, and words of the index that are names or that jieba did not know
        (a name it guessed), those in the most articles first."""
        letters = typed.lower().replace(" ", "")
        if not letters.isascii() or not letters.isalpha():
            return []
        splits = [s for s in syllable_splits(letters) if NAME_SYLLABLES[0] <= len(s) <= NAME_SYLLABLES[1]]
        if not splits:
            return []
        found = set(self.d.proper.get(letters, ()))
        for syllables in splits:
            found.update(self._read_as(syllables))
        ranked = sorted(found, key=lambda w: (-self.doc_frequency(w), w))
        return [w for w in ranked if self.doc_frequency(w)][:MAX_NAMES]

    def _read_as(self, syllables: tuple[str, ...]) -> set[str]:
        """The index's names of len(syllables) characters that read as ``syllables``."""
        firsts = _characters_of().get(syllables[0], "")
        found: set[str] = set()
        for leaf, _ in self.searcher.leaf_searchers():
            lexicon = lexicon_of(leaf.reader(), "body")
            for first in firsts:
                for word in lexicon.starting(first):
                    if (len(word) == len(syllables) and self._name_like(word)
                            and all(s in readings(c) for c, s in zip(word, syllables))):
                        found.add(word)
        return found

    def _name_like(self, word: str) -> bool:
        """A name of a person, a place or an organisation, or a word jieba did not know (a guess)."""
        return word in self.d.names or word in self.d.proper_words or not self.segmenter.knows(word)

    # Chinese to English

    def chinese(self, word: str, typed: str) -> Translation | None:
        """The English of a Chinese query word: the glossary's, else the dictionary's (of the
        whole word, else of its dictionary sub-words), else its pinyin if it is a name."""
        shown: list[str] = list(self.d.glossary_english.get(word, ())) if "glossary" in self.sources else []
        if not shown and "dictionary" in self.sources:
            shown = list(self.d.english_of.get(word, ())[:MAX_ENGLISH])
            if not shown and len(word) > 2:
                for part in self._cover(word):
                    shown += self.d.english_of.get(part, ())[:2]
        members = [terms(s) for s in shown]
        if not shown and "names" in self.sources and self._name_like(word) and 2 <= len(word) <= 4:
            members = list(romanized(word, name=word not in self.d.proper_words))
            shown = [" ".join(m) for m in members]
        kept = [(s, m) for s, m in zip(shown, members) if self._present([m])]
        if not kept:
            return None
        return Translation(typed, tuple(dict.fromkeys(s for s, _ in kept)), self._present([m for _, m in kept]))

    def _cover(self, word: str) -> list[str]:
        """The dictionary words of two or more characters in ``word``, longest first from the left
        (a single character is too ambiguous: 后 is after, behind and queen)."""
        parts, i = [], 0
        while i < len(word):
            for end in range(len(word), i, -1):
                if 1 < end - i < len(word) and word[i:end] in self.d.english_of:
                    parts.append(word[i:end])
                    i = end
                    break
            else:
                i += 1
        return parts

    def variants(self, word: str, typed: str) -> Translation | None:
        """The other regions' words for a Chinese word (网络: 网路), those in the index."""
        if "variants" not in self.sources:
            return None
        found = [(v, self._chinese_member(v)) for v in self.d.variants.get(word, ())]
        kept = [(v, m) for v, m in found if self._present([m])]
        if not kept:
            return None
        return Translation(typed, tuple(v for v, _ in kept), tuple(m for _, m in kept))
