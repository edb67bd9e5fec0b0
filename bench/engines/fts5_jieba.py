"""SQLite FTS5 (unicode61) over Python jieba's search-mode words, with a table of filter fields:
bm25 top 10 with highlight and snippet, and facet counts."""

from __future__ import annotations

import collections
from pathlib import Path

from corpus import read_records
from engines.answers import TOP
from engines.jieba_words import jieba_module, segment_for_index, segment_query
from queries import filters_of


def build(input_path: Path, index_dir: Path, lang: str) -> int:
    """SQLite FTS5 (unicode61) over Python jieba's search-mode words, plus a table of filter fields."""
    import sqlite3

    jieba = jieba_module()
    index_dir.mkdir(parents=True)
    con = sqlite3.connect(index_dir / "fts.db")
    con.execute("CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize='unicode61')")
    con.execute("CREATE TABLE meta(rowid INTEGER PRIMARY KEY, id TEXT, lang TEXT, source TEXT,"
                " category TEXT, published TEXT)")
    n = 0
    with con:
        for r in read_records(input_path, lang):
            n += 1
            con.execute("INSERT INTO docs(rowid, title, body) VALUES (?, ?, ?)",
                        (n, segment_for_index(jieba, r["title"]), segment_for_index(jieba, r["body"])))
            published = r["published"].date().isoformat() if r["published"] else None
            con.execute("INSERT INTO meta VALUES (?, ?, ?, ?, ?, ?)",
                        (n, r["id"], lang, r["source"], r["category"], published))
    con.execute("INSERT INTO docs(docs) VALUES ('optimize')")
    con.commit()
    con.close()
    return n


class Fts5Searcher:
    """FTS5: a MATCH expression of jieba words, bm25 top 10 with highlight and snippet, facet counts."""

    def __init__(self, index_dir: Path) -> None:
        import sqlite3

        self.jieba = jieba_module()
        self.con = sqlite3.connect(index_dir / "fts.db")

    def __call__(self, query: dict) -> int:
        """Answer one query; the number of hits."""
        match = self._build(query["tree"]) if query["tree"] else None
        if match is None:
            return 0
        extra, args = _where(query)
        self.con.execute(
            "SELECT m.id, highlight(docs, 0, '<mark>', '</mark>'),"
            " snippet(docs, 1, '<mark>', '</mark>', '…', 32)"
            f" FROM docs, meta m WHERE docs MATCH ? AND m.rowid = docs.rowid{extra}"
            f" ORDER BY rank LIMIT {TOP}", [match, *args]).fetchall()
        groups = self.con.execute(
            "SELECT m.lang, m.source, m.category, substr(m.published, 1, 4), count(*)"
            f" FROM docs, meta m WHERE docs MATCH ? AND m.rowid = docs.rowid{extra}"
            " GROUP BY 1, 2, 3, 4", [match, *args]).fetchall()
        facets: dict[int, collections.Counter] = collections.defaultdict(collections.Counter)
        for *values, count in groups:
            for i, v in enumerate(values):
                facets[i][v] += count
        return sum(row[-1] for row in groups)

    def _words(self, text: str, name: str | None, phrase: bool) -> str | None:
        """Words (all of them) or a phrase, in the title or anywhere."""
        tokens = [t.replace('"', '""') for t in segment_query(self.jieba, text)]
        if not tokens:
            return None
        expr = f'"{" ".join(tokens)}"' if phrase else " AND ".join(f'"{t}"' for t in tokens)
        return f"title : ({expr})" if name == "title" else f"({expr})"

    def _build(self, node: dict) -> str | None:
        """One node of the query tree as a MATCH expression (filters are left to _where)."""
        t = node["t"]
        if t in ("words", "phrase"):
            return self._words(node["text"], node["field"], t == "phrase")
        if t == "filter":
            return None
        if t == "not":
            return None  # FTS5's NOT is binary: handled by the "and" around it
        if t == "or":
            parts = [p for p in map(self._build, node["nodes"]) if p]
            return "(" + " OR ".join(parts) + ")" if parts else None
        positive = [p for n in node["nodes"] if n["t"] != "not" and (p := self._build(n))]
        negative = [p for n in node["nodes"] if n["t"] == "not" and (p := self._build(n["node"]))]
        if not positive:
            return None
        expr = "(" + " AND ".join(positive) + ")"
        return expr + "".join(f" NOT {p}" for p in negative)


def _where(query: dict) -> tuple[str, list[str]]:
    """The filters as SQL conditions on the meta table, and their arguments."""
    sql, args = [], []
    for name, value in filters_of(query):
        if name == "from":
            sql.append("m.published >= ?")
            args.append(value)
        elif name == "to":
            sql.append("m.published <= ?")
            args.append(value + "~")
        else:
            sql.append(f"m.{name} = ?")
            args.append("zh" if name == "lang" and value.startswith("zh") else value)
    return "".join(f" AND {s}" for s in sql), args
