"""Python jieba's words: what the peers (baseline, tantivy, FTS5) index and query."""

from __future__ import annotations

import re

_WORDLIKE = re.compile(r"\w")


def jieba_module():
    """Python jieba, with its loading messages off."""
    import jieba

    jieba.setLogLevel(60)
    return jieba


def segment_for_index(jieba, text: str) -> str:
    """Search-mode jieba words joined by spaces: what the peers index."""
    return " ".join(w for w in jieba.cut_for_search(text) if not w.isspace())


def segment_query(jieba, text: str) -> list[str]:
    """Default-mode jieba words of query text, lower-cased, punctuation dropped."""
    return [w.lower() for w in jieba.cut(text) if _WORDLIKE.search(w)]
