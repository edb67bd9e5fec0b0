"""Compiling a query tree into a Whoosh query: a pure function of the tree, the schema and the ranking.

One word of a Chinese query is several jieba words, each searched as a word and, where jieba may
cut it differently in an article (a single character, a name it does not know, a quoted phrase),
as a string found inside the indexed words or across words that follow each other (StringQuery).
The compiled query carries what else the search needs from the tree: what to highlight, how the
query was read ("searched as"), whether the OR fallback would read it differently, its words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from itertools import chain

from whoosh import query as wq
from whoosh.analysis import Token
from whoosh.fields import Schema

from search.analysis import HAN, HAN_FUNCTION_CHARS, HAN_RUN, fold, value_key
from search.bridge import Bridge, Translation
from search.errors import QueryError
from search.matching import StringQuery, SynonymQuery, WordQuery
from search.options import LANGS
from search.query.highlight import Highlighter
from search.query.syntax import AllOf, AnyOf, Excluded, FieldValue, Node, Phrase, Words
from search.ranking import RANKING, Ranking
from search.schema import KEY_FIELDS

# A word jieba may cut differently also matches as a string inside or across words, at this weight.
SUBSTRING_WEIGHT = 0.3


@dataclass(frozen=True)
class CompiledQuery:
    """A query tree as Whoosh runs it, with what the search reads beside it."""

    query: wq.Query | None  # None: nothing to search for
    highlighter: Highlighter  # the Chinese strings and English stems to mark
    searched_as: tuple[str, ...]  # the query as segmented: 经济, 增长, -香港, "Hong Kong"^2
    relaxable: bool  # whether the OR fallback (any word instead of all) would read it differently
    words: tuple[str, ...]  # the words searched for (not excluded), a phrase as one
    translations: tuple[Translation, ...] = ()  # its words in the other language or region (search.bridge)


@dataclass(frozen=True)
class _Part:
    """The compiled query of one node and what its words add to the CompiledQuery."""

    query: wq.Query | None
    han: tuple[str, ...] = ()  # folded Han strings to mark
    stems: tuple[str, ...] = ()  # English stems to mark
    words: tuple[str, ...] = ()
    shown: tuple[str, ...] = ()
    relaxable: bool = False
    translations: tuple[Translation, ...] = ()


@dataclass(frozen=True)
class _Context:
    schema: Schema  # of the searcher the query will run on: its analyzers built the index
    ranking: Ranking
    relaxed: bool  # any word may match instead of all (the OR fallback)
    bridge: Bridge | None = None  # translations and regional variants of words; None: none


def compile_query(
    tree: Node | None, schema: Schema, ranking: Ranking = RANKING, *, relaxed: bool = False, bridge: Bridge | None = None,
) -> CompiledQuery:
    """The Whoosh query of ``tree`` for an index of ``schema``; ``relaxed``: any word may match
    instead of all (the OR fallback), except inside AND and exclusions. With a ``bridge``, an
    unquoted word also matches its translations and regional variants, at the ranking's
    translation weight (variants at the word's own)."""
    part = _compile(tree, _Context(schema, ranking, relaxed, bridge)) if tree is not None else _Part(None)
    highlighter = Highlighter(frozenset(part.han), frozenset(part.stems))
    return CompiledQuery(part.query, highlighter, part.shown, part.relaxable, part.words, part.translations)


def _compile(node: Node, ctx: _Context, negated: bool = False, strict: bool = False) -> _Part:
    """``negated`` inside an exclusion; ``strict`` inside an AND, which the fallback leaves alone."""
    if isinstance(node, Excluded):
        inner = _compile(node.node, ctx, True, strict)
        if inner.query is None:
            return inner
        shown = () if negated else (f"-{_excluded(node.node, ctx)}",)
        return _merged([inner], wq.Not(inner.query), shown=shown)
    if isinstance(node, AnyOf):
        parts = [_compile(n, ctx, negated, strict) for n in node.nodes]
        queries = list(dict.fromkeys(p.query for p in parts if p.query is not None))
        return _merged(parts, (queries[0] if len(queries) == 1 else wq.Or(queries)) if queries else None)
    if isinstance(node, AllOf):
        return _all_of(node, ctx, negated, strict or node.strict)
    if isinstance(node, FieldValue):
        return _Part(wq.ConstantScoreQuery(filter_query(node.field, node.value), 0.0))
    if isinstance(node, Phrase):
        return _phrase(node, ctx, negated)
    return _words(node, ctx, negated, strict)


def _all_of(node: AllOf, ctx: _Context, negated: bool, strict: bool) -> _Part:
    """Every part of an AllOf: filters and exclusions required, the rest relaxable. With a bridge
    that translates, words side by side are compiled together, so that a phrase of them finds its
    translation (Hong Kong: 香港)."""
    nodes = _side_by_side(node.nodes) if ctx.bridge is not None and ctx.bridge.translate else node.nodes
    parts = [_compile(n, ctx, negated, strict) for n in nodes]
    required, optional = [], []
    for n, part in zip(nodes, parts):
        if part.query is not None:
            (required if isinstance(n, (Excluded, FieldValue)) else optional).append(part.query)
    query, relaxable = _all(required, optional, ctx, relax=not (negated or strict))
    return _merged(parts, query, relaxable=relaxable)


def _side_by_side(nodes: tuple[Node, ...]) -> list[Node]:
    """The nodes with each run of unquoted words of one field and boost joined into one."""
    joined: list[Node] = []
    for n in nodes:
        last = joined[-1] if joined else None
        if isinstance(n, Words) and isinstance(last, Words) and (n.field, n.boost) == (last.field, last.boost):
            joined[-1] = Words(f"{last.text} {n.text}", n.field, n.boost)
        else:
            joined.append(n)
    return joined


def _merged(parts: Iterable[_Part], query: wq.Query | None, *, shown: tuple[str, ...] = (), relaxable: bool = False) -> _Part:
    """One part of ``query`` with what ``parts`` add, in order."""
    parts = list(parts)
    return _Part(
        query,
        tuple(chain.from_iterable(p.han for p in parts)),
        tuple(chain.from_iterable(p.stems for p in parts)),
        tuple(chain.from_iterable(p.words for p in parts)),
        tuple(chain.from_iterable(p.shown for p in parts)) + shown,
        relaxable or any(p.relaxable for p in parts),
        tuple(chain.from_iterable(p.translations for p in parts)),
    )


def _all(required: list[wq.Query], optional: list[wq.Query], ctx: _Context, *, relax: bool) -> tuple[wq.Query | None, bool]:
    """All of the parts, and whether relaxing would change it; in relaxed mode, the filters and
    exclusions and any of the rest (if ``relax``)."""
    relaxable = len(optional) > 1 and relax
    if relaxable and ctx.relaxed:
        optional = [wq.Or(optional)]
    parts = list(dict.fromkeys(optional + required))
    if not parts:
        return None, relaxable
    if not optional:
        parts.insert(0, wq.Every())
    return (parts[0] if len(parts) == 1 else wq.And(parts)), relaxable


def _excluded(node: Node, ctx: _Context) -> str:
    """How an excluded part reads in "searched as": -经济, -"Hong Kong", -(经济 OR 合作)."""
    if isinstance(node, Excluded):
        return f"-{_excluded(node.node, ctx)}"
    if isinstance(node, (AllOf, AnyOf)):
        parts = [shown for n in node.nodes if (shown := _excluded(n, ctx))]
        return _group(parts, " OR " if isinstance(node, AnyOf) else " ")
    if isinstance(node, FieldValue):
        return f"{node.field}:{node.value}"
    prefix = f"{node.field}:" if node.field else ""
    if isinstance(node, Phrase):
        return f'{prefix}"{node.text}"{_boosted(node.boost)}'
    words = [t.original for piece in _pieces(node.text) for t in _analysed(piece, ctx)]
    return f"{prefix}{_group(words, ' ')}{_boosted(node.boost)}" if words else ""


def _fields(name: str | None, ctx: _Context) -> dict[str, float]:
    fields = ctx.ranking.fields
    return {"title": fields["title"]} if name == "title" else fields


def _analysed(text: str, ctx: _Context) -> list[Token]:
    """The query words of ``text`` (indexed form and original text) with their character offsets."""
    analyzer = ctx.schema["body"].analyzer
    return [t.copy() for t in analyzer(text, mode="query", keeporiginal=True, chars=True)]


def _words(node: Words, ctx: _Context, negated: bool, strict: bool) -> _Part:
    """Unquoted words: each must match (unless relaxed); Chinese runs as words and strings."""
    fields = _fields(node.field, ctx)
    atoms: list[wq.Query] = []
    han: list[str] = []
    tokens: list[Token] = []
    translations: list[Translation] = []
    bridge = None if negated else ctx.bridge
    for piece in _pieces(node.text):
        analysed = _analysed(piece, ctx)
        if HAN_RUN.fullmatch(piece):
            analysed = [t for t in analysed if t.text not in HAN_FUNCTION_CHARS] or analysed
            run_atoms, strings, found = _han_run(analysed, fields, node.boost, ctx, bridge)
            atoms += run_atoms
            han += strings
        else:
            run_atoms, found = _latin_words(piece, analysed, fields, node.boost, ctx, bridge)
            atoms += run_atoms
        translations += found
        tokens += analysed
    query, relaxable = _all([], atoms, ctx, relax=not (negated or strict))
    if negated:
        return _Part(query, relaxable=relaxable)
    members = [m for t in translations for m in t.members]
    return _Part(
        query,
        han=(*han, *(t.text for t in tokens if HAN_RUN.fullmatch(t.text)),
             *("".join(m) for m in members if HAN_RUN.fullmatch(m[0]))),
        stems=(*(t.text for t in tokens if not HAN_RUN.fullmatch(t.text)),
               *(term for m in members if not HAN_RUN.fullmatch(m[0]) for term in m)),
        words=tuple(t.original for t in tokens),
        shown=tuple(f"{t.original}{_boosted(node.boost)}" for t in tokens),
        relaxable=relaxable,
        translations=tuple(translations),
    )


def _latin_words(
    text: str, tokens: list[Token], fields: dict[str, float], boost: float, ctx: _Context, bridge: Bridge | None,
) -> tuple[list[wq.Query], list[Translation]]:
    """The atoms of the English words ``tokens`` of ``text``: each word, or with a bridge that
    translates, each phrase with a translation (hong kong) matching as itself or as its
    translations; a translation's source is the phrase as typed (Belt and Road)."""
    if bridge is None or not bridge.translate or bridge.chinese_query:
        return [_word(t.text, fields, boost, ctx) for t in tokens], []
    atoms: list[wq.Query] = []
    found: list[Translation] = []
    for start, end, translation in bridge.english([(t.text, t.original) for t in tokens]):
        words = [_word(t.text, fields, boost, ctx) for t in tokens[start:end]]
        own = words[0] if len(words) == 1 else wq.And(words)
        if translation is None:
            atoms.append(own)
            continue
        translation = replace(translation, source=text[tokens[start].startchar : tokens[end - 1].endchar])
        typed = tuple(t.text for t in tokens[start:end])
        atoms.append(wq.Or([own, _translated(translation, typed, fields, boost * _crossing(ctx.ranking, han=False), ctx)]))
        found.append(translation)
    return atoms, found


def _crossing(ranking: Ranking, han: bool) -> float:
    """The boost of a word's translations into the other script: the translation weight, times
    the ratio of the two scripts' BM25 ceilings (k1 + 1), so that a translation saturates at
    that weight of what the word itself can score (English words saturate higher: k1 2.0 against
    Chinese 1.2) and a match of the word as typed ranks above an equal match of its translation."""
    own, other = ranking.bm25(han=han)[0], ranking.bm25(han=not han)[0]
    return ranking.translation_weight * (own + 1) / (other + 1)


def _translated(
    translation: Translation, own: tuple[str, ...], fields: dict[str, float], boost: float, ctx: _Context,
) -> SynonymQuery:
    """A word's translations (or variants) as one synonym set in the text fields and their parts,
    never rarer than the words ``own`` it translates (SynonymQuery's ``own``)."""
    return SynonymQuery(translation.members, ctx.ranking.with_parts(fields), boost, ctx.ranking, own=own)


def _bridged(
    atom: wq.Query, words: tuple[str, ...], typed: str, fields: dict[str, float], boost: float, ctx: _Context,
    bridge: Bridge,
) -> tuple[wq.Query, list[Translation]]:
    """A Chinese word's atom, matching also its regional variants and (when the bridge
    translates) its English."""
    alternatives, found = [atom], []
    word = "".join(words)
    variants = bridge.variants(word, typed)
    if variants is not None:
        alternatives.append(_translated(variants, words, fields, boost, ctx))
        found.append(variants)
    english = bridge.chinese(word, typed) if bridge.translate else None
    if english is not None:
        alternatives.append(_translated(english, words, fields, boost * _crossing(ctx.ranking, han=True), ctx))
        found.append(english)
    return (atom if len(alternatives) == 1 else wq.Or(alternatives)), found


def _han_run(
    tokens: list[Token], fields: dict[str, float], boost: float, ctx: _Context, bridge: Bridge | None = None,
) -> tuple[list[wq.Query], list[str], list[Translation]]:
    """The parts of one Chinese run, each matched on its own (so that the fallback can relax them),
    the strings of guessed words to mark, and the translations and variants of its words (with a
    ``bridge``; not of a lone character).

    Where jieba guessed (a name it does not know, a word it cut into characters) it may cut
    the article differently, so those words, with a lone character's neighbour, also match
    as the string they make: 罗塞夫, 新政策. A lone character beside function words matches as
    a word only (as a string it would read every word that holds it); alone in the run, as
    a word and a string: 港 finds 香港.
    """
    knows = ctx.schema["body"].analyzer.items[0].segmenter().knows

    def known(term: str) -> bool:  # a word of two or more characters in the dictionary
        return len(term) > 1 and knows(term)

    atoms: list[wq.Query] = []
    strings: list[str] = []
    translations: list[Translation] = []
    for group in _guessed_groups(tokens, known):
        words = [_word(t.text, fields, boost, ctx) for t in group]
        lone_character = len(group) == 1 and len(group[0].text) == 1
        string = "".join(t.text for t in group)
        if (len(group) == 1 and known(group[0].text)) or (lone_character and len(tokens) > 1):
            atom = words[0]
        else:
            atom = wq.Or([words[0] if len(words) == 1 else wq.And(words),
                          StringQuery(string, fields, SUBSTRING_WEIGHT * boost, ctx.ranking)])
            if len(group) > 1:
                strings.append(string)
        if bridge is not None and len(string) > 1:
            typed = "".join(t.original for t in group)
            atom, found = _bridged(atom, tuple(t.text for t in group), typed, fields, boost, ctx, bridge)
            translations += found
        atoms.append(atom)
    return atoms, strings, translations


def _phrase(node: Phrase, ctx: _Context, negated: bool) -> _Part:
    """Quoted text: Han text as an exact string, Latin words as word-field phrases."""
    fields = _fields(node.field, ctx)
    parts: list[wq.Query] = []
    han: list[str] = []
    for segment in re.split(f"([{HAN}]+)", fold(node.text).text):
        if HAN_RUN.fullmatch(segment):
            parts.append(StringQuery(segment, fields, node.boost, ctx.ranking))
            han.append(segment)
        elif latin := [t.text for t in _analysed(segment, ctx)]:
            parts.append(_latin_phrase(latin, fields, node.boost))
    if not parts:
        return _Part(None)
    query = parts[0] if len(parts) == 1 else wq.And(parts)
    if negated:
        return _Part(query)
    stems = tuple(t.text for t in _analysed(node.text, ctx) if not HAN_RUN.fullmatch(t.text))
    shown = f'"{node.text}"{_boosted(node.boost)}'
    return _Part(query, han=tuple(han), stems=stems, words=(f'"{node.text}"',), shown=(shown,))


def _latin_phrase(words: list[str], fields: dict[str, float], boost: float) -> wq.Query:
    """English words in this order (one: the word) in any of the fields."""
    return wq.Or([
        wq.Phrase(f, words, boost=b * boost) if len(words) > 1 else wq.Term(f, words[0], boost=b * boost)
        for f, b in fields.items()
    ])


def _word(term: str, fields: dict[str, float], boost: float, ctx: _Context) -> WordQuery:
    """A word in the text fields and the part fields of their longer words."""
    return WordQuery(term, ctx.ranking.with_parts(fields), boost, ctx.ranking)


def _guessed_groups(tokens: list[Token], known: Callable[[str], bool]) -> list[list[Token]]:
    """The words of a Chinese run in groups: each known word alone, words that follow each other and
    were guessed (not ``known``) together, and a guessed character alone joined to a neighbour
    that follows it in the text (the next word, else the one before)."""
    groups: list[list[Token]] = []
    for t in tokens:
        follows = bool(groups) and groups[-1][-1].endchar == t.startchar
        if follows and not known(t.text) and not known(groups[-1][-1].text):
            groups[-1].append(t)
        else:
            groups.append([t])
    joined: list[list[Token]] = []
    for i, group in enumerate(groups):
        lone = len(group) == 1 and len(group[0].text) == 1
        after = groups[i + 1] if i + 1 < len(groups) else None
        if lone and after and group[0].endchar == after[0].startchar and known(after[0].text):
            after.insert(0, group[0])  # 新 + 政策: joined to the word it precedes
        elif lone and joined and joined[-1][-1].endchar == group[0].startchar and len(joined[-1]) == 1:
            joined[-1].append(group[0])  # a character at the end joins the word before it
        else:
            joined.append(group)
    return joined


def _pieces(text: str) -> list[str]:
    """Han runs one by one (jieba cuts each alone, as the analyzer does), and the text between."""
    return re.split(f"([{HAN}]+)", text)


def _boosted(boost: float) -> str:
    """A boost as the query writes it: ^3, ^0.5; nothing for 1."""
    return "" if boost == 1 else f"^{boost:g}"


def _group(parts: list[str], joint: str) -> str:
    """One part as itself, several in parentheses, none as nothing."""
    if len(parts) <= 1:
        return "".join(parts)
    return f"({joint.join(parts)})"


def filter_query(name: str, value: str) -> wq.Query:
    """The exact-value query of a filter; lang=zh covers both Chinese scripts; author and tags
    match their values folded (張三 finds 张三, Trade finds trade)."""
    if name in KEY_FIELDS:
        return wq.Term(KEY_FIELDS[name], value_key(value))
    if name == "lang":
        langs = LANGS.get(value.lower())
        if langs is None:
            raise QueryError(f"unknown language {value!r}; use one of: zh, zh-Hans, zh-Hant, en")
        return wq.Or([wq.Term("lang", lang) for lang in langs])
    return wq.Term(name, value)
