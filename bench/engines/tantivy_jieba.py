"""tantivy over Python jieba's search-mode words (whitespace tokenizer, lower-cased), with snippets
and four facet counts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from corpus import read_records
from engines.answers import TOP
from engines.jieba_words import jieba_module, segment_for_index, segment_query
from queries import filters_of

FACETS = ("lang", "source", "category", "year")


def _analyzer():
    import tantivy

    return tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).filter(tantivy.Filter.lowercase()).build()


def _schema():
    import tantivy

    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw")
    sb.add_text_field("title", stored=True, tokenizer_name="jieba_ws")
    sb.add_text_field("body", stored=True, tokenizer_name="jieba_ws")
    for name in FACETS:
        sb.add_text_field(name, stored=True, fast=True, tokenizer_name="raw")
    sb.add_date_field("published", stored=True, indexed=True, fast=True)
    return sb.build()


def build(input_path: Path, index_dir: Path, lang: str) -> int:
    """tantivy over Python jieba's search-mode words (whitespace tokenizer, lower-cased)."""
    import tantivy

    jieba = jieba_module()
    index_dir.mkdir(parents=True)
    index = tantivy.Index(_schema(), path=str(index_dir))
    index.register_tokenizer("jieba_ws", _analyzer())
    writer = index.writer(heap_size=256_000_000)
    n = 0
    for r in read_records(input_path, lang):
        writer.add_document(tantivy.Document(**_fields(jieba, r, lang)))
        n += 1
    writer.commit()
    writer.wait_merging_threads()
    return n


def _fields(jieba, r: dict, lang: str) -> dict[str, object]:
    """One record as tantivy's document fields."""
    fields = {"id": r["id"], "title": segment_for_index(jieba, r["title"]),
              "body": segment_for_index(jieba, r["body"]), "lang": lang}
    for name in ("source", "category"):
        if r[name]:
            fields[name] = r[name]
    if r["published"] is not None:
        fields["published"] = r["published"]
        fields["year"] = str(r["published"].year)
    return fields


class TantivySearcher:
    """tantivy: a boolean query of jieba words, top 10 with snippets, four facet counts."""

    def __init__(self, index_dir: Path) -> None:
        import tantivy

        self.tantivy = tantivy
        self.jieba = jieba_module()
        index = tantivy.Index.open(str(index_dir))
        index.register_tokenizer("jieba_ws", _analyzer())
        self.schema = index.schema
        self.searcher = index.searcher()
        self.facets = {name: {"terms": {"field": name, "size": 20}} for name in FACETS}

    def __call__(self, query: dict) -> int:
        """Answer one query; the number of hits."""
        Occur, Query = self.tantivy.Occur, self.tantivy.Query
        main = self._build(query["tree"]) if query["tree"] else None
        parts = ([(Occur.Must, main)] if main is not None else []) + [(Occur.Must, q) for q in self._restrict(query)]
        if not parts:
            return 0
        q = Query.boolean_query(parts)
        result = self.searcher.search(q, TOP, count=True)
        snippets = self.tantivy.SnippetGenerator.create(self.searcher, q, self.schema, "body")
        for _, address in result.hits:
            doc = self.searcher.doc(address)
            _ = (doc["id"], doc["title"], snippets.snippet_from_doc(doc).to_html())
        self.searcher.aggregate(q, self.facets)
        return result.count

    def _words(self, text: str, name: str | None, phrase: bool):
        """Words (all of them) or a phrase, in the title, or in the title or the body."""
        Occur, Query = self.tantivy.Occur, self.tantivy.Query
        tokens = segment_query(self.jieba, text)
        if not tokens:
            return None
        per_field = []
        for f in ("title",) if name == "title" else ("title", "body"):
            if phrase and len(tokens) > 1:
                per_field.append(Query.phrase_query(self.schema, f, tokens))
            else:
                per_field.append(Query.boolean_query([
                    (Occur.Must, Query.term_query(self.schema, f, t)) for t in tokens]))
        return Query.boolean_query([(Occur.Should, q) for q in per_field])

    def _build(self, node: dict):
        """One node of the query tree (filters are left to _restrict)."""
        Occur, Query = self.tantivy.Occur, self.tantivy.Query
        t = node["t"]
        if t in ("words", "phrase"):
            return self._words(node["text"], node["field"], t == "phrase")
        if t == "filter":
            return None
        if t == "not":
            inner = self._build(node["node"])
            return None if inner is None else Query.boolean_query(
                [(Occur.Must, Query.all_query()), (Occur.MustNot, inner)])
        occur = Occur.Must if t == "and" else Occur.Should
        parts = []
        for child in node["nodes"]:
            if child["t"] == "not" and t == "and":
                if (inner := self._build(child["node"])) is not None:
                    parts.append((Occur.MustNot, inner))
            elif (q := self._build(child)) is not None:
                parts.append((occur, q))
        return Query.boolean_query(parts) if parts else None

    def _restrict(self, query: dict) -> list:
        """The filters as term queries, and the date range as one range query."""
        Query = self.tantivy.Query
        out = []
        dates = {}
        for name, value in filters_of(query):
            if name in ("from", "to"):
                day = dt.datetime.fromisoformat(value)
                dates[name] = day if name == "from" else day + dt.timedelta(days=1)
            else:
                out.append(Query.term_query(self.schema, name, "zh" if value.startswith("zh") else value))
        if dates:
            out.append(Query.range_query(self.schema, "published", self.tantivy.FieldType.Date,
                                         dates.get("from", dt.datetime(1900, 1, 1)),
                                         dates.get("to", dt.datetime(2100, 1, 1)), include_upper=False))
        return out
