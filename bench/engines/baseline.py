"""The obvious build: Whoosh with jieba's ChineseAnalyzer on title and body, the default writer,
MultifieldParser, a searcher per query and the default highlights of the body."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from corpus import read_records
from engines.answers import TOP
from engines.jieba_words import jieba_module


def build(input_path: Path, index_dir: Path, lang: str) -> int:
    """The obvious build: ChineseAnalyzer on title and body, the default writer."""
    import whoosh.index
    from jieba.analyse import ChineseAnalyzer
    from whoosh.fields import ID, TEXT, Schema

    jieba_module()
    schema = Schema(id=ID(stored=True), title=TEXT(analyzer=ChineseAnalyzer(), stored=True),
                    body=TEXT(analyzer=ChineseAnalyzer(), stored=True))
    index_dir.mkdir(parents=True)
    ix = whoosh.index.create_in(index_dir, schema)
    writer = ix.writer()
    n = 0
    for r in read_records(input_path, lang):
        writer.add_document(id=r["id"], title=r["title"], body=r["body"])
        n += 1
    writer.commit()
    ix.close()
    return n


def searcher(index_dir: Path) -> Callable[[dict], int]:
    """The obvious build: MultifieldParser, a searcher per query, default highlights of the body."""
    import whoosh.index
    from whoosh.qparser import MultifieldParser

    jieba_module()
    ix = whoosh.index.open_dir(index_dir)
    parser = MultifieldParser(["title", "body"], ix.schema)

    def run(query: dict) -> int:
        with ix.searcher() as searcher:
            results = searcher.search(parser.parse(whoosh_text(query["tree"])), limit=TOP)
            for hit in results:
                _ = (hit["id"], hit["title"], hit.highlights("body"))
            return len(results)

    return run


def whoosh_text(node: dict | None) -> str:
    """The query in Whoosh's default syntax (filters dropped: the baseline has no such fields)."""
    if node is None:
        return ""
    t = node["t"]
    if t == "filter":
        return ""
    if t == "words":
        return f"{node['field']}:({node['text']})" if node["field"] else node["text"]
    if t == "phrase":
        return f'{node["field"] + ":" if node["field"] else ""}"{node["text"]}"'
    if t == "not":
        return f"NOT {whoosh_text(node['node'])}"
    parts = [p for p in (whoosh_text(n) for n in node["nodes"]) if p]
    joined = (" OR " if t == "or" else " ").join(parts)
    return f"({joined})" if t == "or" and len(parts) > 1 else joined
