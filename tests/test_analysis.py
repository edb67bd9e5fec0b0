"""The bilingual analyzer: folding, segmentation, positions and offsets."""

from __future__ import annotations

import pickle
from pathlib import Path

from search.analysis import (
    Dictionary, PartAnalyzer, WordAnalyzer, analyze, fold, stem, to_simplified,
)


def tokens(text: str, **kw: object) -> list[tuple[str, int]]:
    return [(t, p) for t, p, _, _ in analyze(text, **kw)]


def test_fold_full_width_case_and_traditional() -> None:
    assert fold("醫藥費 ５Ｇ HONG Kong").text == "医药费 5g hong kong"


def test_fold_keeps_offsets_when_a_character_expands() -> None:
    folded = fold("㍿臺灣")
    assert folded.text == "株式会社台湾"
    assert [folded.original(i) for i in range(len(folded.text) + 1)] == [0, 0, 0, 0, 1, 2, 3]


def test_to_simplified_is_character_for_character() -> None:
    assert to_simplified("單親媽愁醫費") == "单亲妈愁医费"


def test_words_tile_the_text_at_consecutive_positions() -> None:
    assert tokens("中国人民银行行长") == [("中国人民银行", 0), ("行长", 1)]
    assert tokens("中国人民银行行长", query=True) == [("中国人民银行", 0), ("行长", 1)]


def test_parts_are_the_dictionary_words_inside_longer_words() -> None:
    parts = [t.text for t in PartAnalyzer()("中國人民銀行行長 in Hong Kong")]
    assert parts == ["人民银行", "中国", "国人", "人民", "银行"]


def test_english_is_stemmed_and_stop_words_take_no_position() -> None:
    assert tokens("Cooperating with the Bank of China") == [
        ("cooper", 0), ("bank", 1), ("china", 2),
    ]


def test_stemming_joins_cooperating_and_cooperation() -> None:
    assert stem("cooperating") == stem("cooperation") == "cooper"


def test_mixed_latin_and_han_token_splits() -> None:
    assert tokens("５Ｇ手机", query=True) == [("5g", 0), ("手机", 1)]


def test_offsets_point_at_the_original_glyphs() -> None:
    text = "單親媽愁醫藥費"
    spans = {t: text[s:e] for t, _, s, e in analyze(text, query=True)}
    assert spans["医药费"] == "醫藥費"


def test_user_dictionary_keeps_a_name_whole(tmp_path: Path) -> None:
    path = tmp_path / "userdict.txt"
    path.write_text("# names\n李家超 100 nr\n", encoding="utf-8")
    dictionary = Dictionary.load(path)
    assert tokens("李家超在重庆", query=True) == [("李家", 0), ("超在", 1), ("重庆", 2)]
    assert tokens("李家超在重庆", query=True, dictionary=dictionary) == [("李家超", 0), ("在", 1), ("重庆", 2)]


def test_dictionary_digest_changes_with_its_words(tmp_path: Path) -> None:
    path = tmp_path / "userdict.txt"
    path.write_text("李家超\n", encoding="utf-8")
    first = Dictionary.load(path).digest
    path.write_text("李家超\n袁家军\n", encoding="utf-8")
    assert Dictionary.load(path).digest != first
    assert Dictionary.load(tmp_path / "missing.txt") == Dictionary()


def test_jieba_and_rjieba_segment_alike() -> None:
    text = "香港特区行政长官李家超率团访问重庆"
    assert tokens(text, segmenter="jieba") == tokens(text, segmenter="rjieba")


def test_analyzer_survives_pickling_into_the_index_schema() -> None:
    analyzer = pickle.loads(pickle.dumps(WordAnalyzer()))
    assert [t.text for t in analyzer("running 5G手机")] == ["run", "5g", "手机"]
