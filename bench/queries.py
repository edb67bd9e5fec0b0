"""The fixed query list (bench/queries.tsv) and the neutral query tree the peers build their queries from.

Each line: the corpus whose index answers it, the query in Qiao's syntax, and options as URL
parameters (``key=value``), read through ``SearchOptions`` like the web's.
"""

from __future__ import annotations

from pathlib import Path


def load_queries(path: Path) -> list[dict[str, object]]:
    """The fixed query list: corpus, Qiao query text, Qiao options, and a neutral tree for the peers."""
    queries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        corpus, text, *rest = line.split("\t")
        params = dict(kv.split("=", 1) for kv in (rest[0].split() if rest else []))
        queries.append({
            "n": len(queries) + 1,
            "corpus": corpus,
            "q": text,
            "options": search_keywords(params),
            "http": {"q": text, **params},
            "tree": query_tree(text),
            "filters": [[k, v] for k, v in params.items()],
        })
    return queries


def search_keywords(params: dict[str, str]) -> dict[str, str]:
    """URL parameters (from=2020-03-01) as search()'s keywords (date_from=...), checked by SearchOptions."""
    from search.options import SearchOptions, options

    SearchOptions.from_params(params)  # an unknown value fails here, not in every worker
    field_of = {option.url: name for name, option in options()}
    unknown = set(params) - set(field_of)
    if unknown:
        raise SystemExit(f"queries.tsv: unknown options {', '.join(sorted(unknown))}")
    return {field_of[k]: v for k, v in params.items()}


def query_spec(text: str) -> dict[str, object]:
    """One query, without options, as the query workers take it."""
    return {"n": 0, "q": text, "options": {}, "filters": [], "tree": query_tree(text)}


def query_tree(text: str) -> dict[str, object] | None:
    """Qiao's parse tree of ``text`` as plain JSON (None: nothing to search for)."""
    from search.query import syntax

    tree = syntax.parse(text)
    return _tree(syntax, tree) if tree is not None else None


def _tree(syntax, node) -> dict[str, object]:
    """One node of Qiao's parse tree as plain JSON, for the peers' query builders."""
    if isinstance(node, syntax.Words):
        return {"t": "words", "text": node.text, "field": node.field}
    if isinstance(node, syntax.Phrase):
        return {"t": "phrase", "text": node.text, "field": node.field}
    if isinstance(node, syntax.FieldValue):
        return {"t": "filter", "field": node.field, "value": node.value}
    if isinstance(node, syntax.Excluded):
        return {"t": "not", "node": _tree(syntax, node.node)}
    kind = "and" if isinstance(node, syntax.AllOf) else "or"
    return {"t": kind, "nodes": [_tree(syntax, n) for n in node.nodes]}


def filters_of(query: dict) -> list[tuple[str, str]]:
    """Filters from the options and from field:value in the query text."""
    found = [tuple(f) for f in query["filters"]]

    def walk(node: dict | None) -> None:
        if node is None:
            return
        if node["t"] == "filter":
            found.append((node["field"], node["value"]))
        for child in node.get("nodes", []):
            walk(child)

    walk(query["tree"])
    return found
