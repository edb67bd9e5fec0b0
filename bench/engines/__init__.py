"""The four engines, each a builder (JSONL file -> index) and a searcher (index -> answer function).

Every library is imported inside the functions that use it, so that a worker process loads only
its own engine (the peers' cold start counts their imports, not Qiao's).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from engines import baseline, fts5_jieba, qiao, tantivy_jieba
from engines.answers import AnswerError

ENGINES = ("qiao", "baseline", "tantivy", "fts5")
SHORT = {"qiao": "Qiao", "baseline": "baseline", "tantivy": "tantivy", "fts5": "FTS5"}

BUILDERS: dict[str, Callable[[Path, Path, str], int]] = {
    "qiao": qiao.build, "baseline": baseline.build, "tantivy": tantivy_jieba.build, "fts5": fts5_jieba.build,
}
SEARCHERS: dict[str, Callable[[Path], Callable[[dict], int]]] = {
    "qiao": qiao.searcher, "baseline": baseline.searcher, "tantivy": tantivy_jieba.TantivySearcher,
    "fts5": fts5_jieba.Fts5Searcher,
}

__all__ = ["BUILDERS", "ENGINES", "SEARCHERS", "SHORT", "AnswerError"]
