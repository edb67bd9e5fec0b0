"""The OpenAPI 3.1 document of the JSON API; tests check real responses against it.

The parameters of /api/search are SearchOptions' own (search/options.py): names, help and schemas.

New keys may be added to responses in any release, so objects allow additional properties.
"""

from __future__ import annotations

from typing import Any

from search.articles import LANGS
from search.export import CSV_FIELDS
from search.options import MAX_PER_PAGE, options
from search.query import complete, related
from search.schema import FACET_FIELDS


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "required": required or list(properties), "properties": properties}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
COUNTS = {"type": "object", "additionalProperties": INTEGER}
STRINGS = {"type": "array", "items": STRING}
NULLABLE_STRING = {"type": ["string", "null"]}

ARTICLE_ID = {"name": "id", "in": "path", "required": True, "schema": STRING,
              "description": "The article's id; it may contain slashes."}
BEARER = [{"bearer": []}]
WRITE_ERRORS = {
    "401": _error("No token, or the wrong one."),
    "403": _error("The server was started without QIAO_API_TOKEN, so writing is disabled."),
    "503": _error("No index, or another writer holds it (index_not_found, index_busy)."),
}

SCHEMAS: dict[str, Any] = {
    "Error": _object({
        "ok": {"const": False},
        "status": INTEGER,
        "error": _object({
            "code": {**STRING, "description": "bad_parameter, bad_request, unauthorized, forbidden, "
                     "not_found, method_not_allowed, payload_too_large, index_not_found, index_busy, "
                     "index_mismatch, query_timeout, shard_unavailable, not_served_by_ray, internal, ..."},
            "message": STRING,
        }),
    }),
    "Highlights": _object({
        "title": {**STRING, "description": "Escaped HTML; only <mark> is markup."},
        "body": {**STRING, "description": "Escaped HTML fragments; only <mark> is markup."},
    }),
    "Hit": _object({
        "id": STRING, "title": STRING, "url": STRING, "source": STRING, "category": STRING,
        "lang": {"enum": [*LANGS, ""]},
        "published": {**NULLABLE_STRING, "description": "ISO 8601: a date, or a date and time."},
        "score": {"type": "number"},
        "highlights": _ref("Highlights"),
        "partial": {"type": "boolean", "description": "The article has some of the query's words, not all: "
                    "such hits follow the ones with every word, which alone make total_hits and the facets."},
        "author": STRING,
        "tags": STRINGS,
        "similar": {
            "oneOf": [{"type": "null"}, _ref("Similar")],
            "description": "With collapse=on (the default): the other matching articles of this hit's story "
                           "(its near-duplicates, found when indexed), collapsed under it; null with collapse=off.",
        },
    }),
    "Similar": _object({
        "count": {"type": "integer", "minimum": 0, "description": "How many similar reports matched too."},
        "sources": {**STRINGS, "description": "Their sources, each once, best-ranked first."},
        "ids": {**STRINGS, "description": "Their ids, best-ranked first (GET /api/articles/{id})."},
    }),
    "Translation": _object({
        "source": {**STRING, "description": "The query's word or phrase as typed."},
        "targets": {**STRINGS, "description": "Its translations (or regional variants) searched with it."},
    }),
    "SearchResult": _object({
        "ok": {"const": True},
        "query": STRING,
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
        "total_hits": {"type": "integer", "minimum": 0},
        "total_pages": {"type": "integer", "minimum": 0},
        "total_articles": {"type": "integer", "minimum": 0,
                           "description": "The matching articles; total_hits and the pages count stories when "
                                          "collapsed (one hit a story), articles otherwise. Facets count articles."},
        "collapsed": {"type": "boolean", "description": "Whether hits are one a story (collapse=on)."},
        "processing_time_ms": {"type": "integer", "minimum": 0,
                               "description": "Milliseconds the search took; an answer from the cache "
                                              "repeats the time of the search that found it."},
        "hits": {"type": "array", "items": _ref("Hit")},
        "facets": _object({name: COUNTS for name in FACET_FIELDS}),
        "fallback": {"enum": [None, "or"],
                     "description": '"or" when no article had all the words and any word was enough.'},
        "searched_as": {**STRINGS, "description": "The query as read: its words as segmented, e.g. 重庆 / 香港 / 合作, "
                        "with boosts (香港^3) and each exclusion as one item (-经济, -(经济 OR 合作))."},
        "translations": {"type": "array", "items": _ref("Translation"),
                         "description": "The query's words also searched in the other language or region "
                         "(cross-language search, xlang): Hong Kong → 香港, 合作 → cooperate / collaborate, "
                         "网络 → 网路; only translations found in the index. Empty with xlang=off."},
        "suggestion": {**NULLABLE_STRING, "description": "Did you mean: the query with its misspelled words "
                       "corrected from the index's own words (goverment: government, 相港: 香港), as typed otherwise; "
                       "only when fewer than 3 articles have all the words, else null."},
        "dates": {
            "oneOf": [{"type": "null"}, _ref("DateWords")],
            "description": "The date filter made by the query's dates in words (2023年10月, 去年, last week), "
                           "null when it has none. They are not searched as words; from/to apply too.",
        },
    }),
    "DateWords": _object({
        "from": {**NULLABLE_STRING, "description": "First day, YYYY-MM-DD; null: open (since 2020)."},
        "to": {**NULLABLE_STRING, "description": "Last day, inclusive."},
        "words": {**STRINGS, "description": "The date words as written: 2023年10月, May 2023, 上周."},
        "relative_to": {**NULLABLE_STRING, "description": "The day relative words (上周, yesterday, 10月) "
                        "were read from; null when none is relative."},
        "anchor": {"enum": [None, "today", "newest article"], "description": "What relative_to is: today, "
                   "or the newest article's day when that is over 30 days old (an archive)."},
        "without": {**STRING, "description": "The query without its date words: what was searched, and "
                    "the query of the same search without the date filter."},
    }),
    "Article": _object({
        "ok": {"const": True},
        "id": STRING, "title": STRING, "body": STRING, "published": NULLABLE_STRING,
        "source": STRING, "category": STRING, "lang": STRING, "url": STRING, "author": STRING,
        "captions": STRINGS, "tags": STRINGS,
        "highlights": {
            **_object({"title": STRING, "body": STRING, "captions": STRINGS}),
            "description": "Only with q: escaped HTML with the query's words in <mark>.",
        },
    }, required=["ok", "id", "title", "body", "published", "source", "category", "lang", "url",
                 "captions", "tags"]),
    "ArticleInput": {
        "type": "object",
        "description": "The JSON ingestion format. An article needs an id or a url, and a title or a body.",
        "properties": {
            "id": {"type": ["string", "integer"]}, "url": STRING, "title": STRING, "body": STRING,
            "published": {**STRING, "description": "A date, e.g. 2023-05-11 or 2023-05-11T09:30:00."},
            "source": STRING, "category": STRING, "author": STRING, "lang": STRING,
            "tags": {"oneOf": [STRINGS, STRING]}, "captions": {"oneOf": [STRINGS, STRING]},
        },
    },
    "WriteResult": _object({
        "ok": {"const": True},
        "results": {"type": "array", "items": _object({
            "id": {**NULLABLE_STRING, "description": "null for a rejected record without an id."},
            "status": {"enum": ["added", "updated", "unchanged", "rejected"]},
            "reason": {**STRING, "description": "Why a record was rejected; empty otherwise."},
        })},
        "counts": _object({"added": INTEGER, "updated": INTEGER, "unchanged": INTEGER, "rejected": INTEGER}),
    }),
    "Deleted": _object({"ok": {"const": True}, "id": STRING, "status": {"const": "deleted"}}),
    "Stats": _object({
        "ok": {"const": True}, "index": STRING, "documents": INTEGER, "by_lang": COUNTS,
        "by_source": COUNTS, "size_bytes": INTEGER, "analyzer_version": STRING, "segmenter": STRING,
        "dictionary": STRING, "dictionary_changed": {"type": "boolean"}, "last_build": STRING,
    }),
    "Health": _object({"ok": {"const": True}, "status": {"const": "ok"}, "documents": INTEGER}),
    "Suggestions": _object({
        "ok": {"const": True},
        "query": STRING,
        "suggestions": {"type": "array", "maxItems": complete.MAX_LIMIT, "items": _object({
            "text": {**STRING, "description": "A word: the typed text with its last word completed "
                     "(重庆 香 gives 重庆 香港; Chinese in Simplified, English in lower case). A title: the title."},
            "kind": {"enum": ["word", "title"]},
            "articles": {**INTEGER, "description": "The articles with the word, or with this title."},
            "id": {**NULLABLE_STRING, "description": "A title's newest article; null for a word."},
        })},
        "processing_time_ms": {"type": "number", "minimum": 0},
    }),
    "Related": _object({
        "ok": {"const": True},
        "id": STRING,
        "query": {**STRING, "description": "The article's distinctive words, boosted by tf·idf, as the query "
                  "that found the hits (empty when it has none)."},
        "hits": {"type": "array", "items": _ref("Hit")},
        "processing_time_ms": {"type": "integer", "minimum": 0},
    }),
}

SEARCH_PARAMETERS = [_query(option.url, option.help, option.schema) for _, option in options()]

PATHS: dict[str, Any] = {
    "/api/search": {"get": {
        "summary": "Search articles",
        "description": "The same JSON as `qiao search --json`.",
        "parameters": SEARCH_PARAMETERS,
        "responses": {
            "200": {**_json(_ref("SearchResult"), "A page of results."), "headers": {"X-Qiao-Cache": {
                "description": "hit when the same search was answered from the server's result cache, on the "
                               "same index; miss when it was searched; absent when the cache is off.",
                "schema": {"enum": ["hit", "miss"]},
            }}},
            "400": _error("A bad parameter (code bad_parameter), e.g. a page past the last; a search over its "
                          "2 s (query_timeout), also when a shard served by Ray did not answer within it."),
            "503": _error("No index (index_not_found), or a shard with no copy answering, served by Ray "
                          "(shard_unavailable): never a partial answer."),
        },
    }},
    "/api/search.csv": {"get": {
        "summary": "Export a page of results as CSV",
        "description": "The hits of the page asked for (page, per_page: at most 100), as in /api/search, one "
                       "row each: UTF-8 with a byte order mark (so Excel reads Chinese), a header row, the "
                       f"columns {', '.join(CSV_FIELDS)} (tags joined by commas, the snippet as plain text).",
        "parameters": SEARCH_PARAMETERS,
        "responses": {
            "200": {"description": "The rows, as a file to save (qiao-search.csv).",
                    "content": {"text/csv": {"schema": STRING}}},
            "400": _error("A bad parameter (code bad_parameter)."),
            "503": _error("No index (index_not_found)."),
        },
    }},
    "/api/search.jsonl": {"get": {
        "summary": "Export a page of results as JSON Lines",
        "description": "The hits of the page asked for (page, per_page: at most 100), each on a line of its own "
                       "exactly as in the hits of /api/search.",
        "parameters": SEARCH_PARAMETERS,
        "responses": {
            "200": {"description": "One Hit a line, as a file to save (qiao-search.jsonl).",
                    "content": {"application/jsonl": {"schema": _ref("Hit")}}},
            "400": _error("A bad parameter (code bad_parameter)."),
            "503": _error("No index (index_not_found)."),
        },
    }},
    "/feed": {"get": {
        "summary": "Follow a search as an Atom feed",
        "description": "An Atom 1.0 feed of the search, newest first whatever sort says: per_page entries "
                       "(20 unless given), each with the article's link, its page here, its date, author, "
                       "tags and the best sentences for the query as summary.",
        "parameters": SEARCH_PARAMETERS,
        "responses": {
            "200": {"description": "The feed.", "content": {"application/atom+xml": {"schema": STRING}}},
            "400": _error("A bad parameter (code bad_parameter)."),
            "503": _error("No index (index_not_found)."),
        },
    }},
    "/api/articles": {"post": {
        "summary": "Add or update articles",
        "security": BEARER,
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "oneOf": [_ref("ArticleInput"), {"type": "array", "items": _ref("ArticleInput")}],
        }}}},
        "responses": {
            "200": _json(_ref("WriteResult"), "What happened to each article, in input order."),
            "400": _error("The body is not JSON."),
            "413": _error("The body is larger than the limit (10 MB)."),
            **WRITE_ERRORS,
        },
    }},
    "/api/articles/{id}": {
        "get": {
            "summary": "One stored article",
            "parameters": [ARTICLE_ID, _query("q", "A query whose words to highlight.", STRING)],
            "responses": {
                "200": _json(_ref("Article"), "The article."),
                "404": _error("No article with this id (not_found)."),
                "503": _error("No index (index_not_found)."),
            },
        },
        "delete": {
            "summary": "Delete an article",
            "security": BEARER,
            "parameters": [ARTICLE_ID],
            "responses": {
                "200": _json(_ref("Deleted"), "The article was deleted."),
                "404": _error("No article with this id (not_found)."),
                **WRITE_ERRORS,
            },
        },
    },
    "/api/suggest": {"get": {
        "summary": "Suggestions while typing",
        "description": "The typed text's last word completed from the index's words (a Chinese run's last "
                       "word, in either script: 醫 and 医 complete alike), most articles first; then titles with a "
                       "word that starts as the text does, the title of the most articles first, then the newest. "
                       "Words take the first places, titles at least half when there are enough. A server of Ray shard "
                       "actors (qiao serve --ray) does not serve it yet: a 501 error (not_served_by_ray).",
        "parameters": [
            _query("q", "The text typed so far.", STRING),
            _query("limit", f"At most this many suggestions (1 to {complete.MAX_LIMIT}).",
                   {"type": "integer", "minimum": 1, "maximum": complete.MAX_LIMIT, "default": complete.DEFAULT_LIMIT}),
        ],
        "responses": {
            "200": _json(_ref("Suggestions"), "The suggestions, words first (none for empty text)."),
            "400": _error("A bad limit, or text longer than a query may be (bad_parameter, query_too_long)."),
            "503": _error("No index (index_not_found)."),
        },
    }},
    "/api/articles/{id}/related": {"get": {
        "summary": "Related articles",
        "description": "The articles most like this one (MoreLikeThis: its distinctive words by tf·idf, searched as "
                       "one query), without the article itself and its copies (titles and bodies sharing 70 % of "
                       "their trigrams of Chinese characters, English words and numbers). A server of Ray shard actors "
                       "(qiao serve --ray) does not serve it yet: a 501 error (not_served_by_ray).",
        "parameters": [
            ARTICLE_ID,
            _query("limit", f"At most this many articles (1 to {related.MAX_LIMIT}).",
                   {"type": "integer", "minimum": 1, "maximum": related.MAX_LIMIT, "default": related.DEFAULT_LIMIT}),
        ],
        "responses": {
            "200": _json(_ref("Related"), "The related articles, most alike first."),
            "400": _error("A bad limit (bad_parameter)."),
            "404": _error("No article with this id (not_found)."),
            "503": _error("No index (index_not_found)."),
        },
    }},
    "/api/stats": {"get": {
        "summary": "Index statistics",
        "responses": {
            "200": _json(_ref("Stats"), "Documents by language and source, size, analyzer, last build."),
            "503": _error("No index (index_not_found)."),
        },
    }},
    "/healthz": {"get": {
        "summary": "Health check",
        "responses": {
            "200": _json(_ref("Health"), "The index is open and searchable."),
            "503": _error("The index is missing or unreadable."),
        },
    }},
    "/openapi.json": {"get": {
        "summary": "This document",
        "responses": {"200": {"description": "The OpenAPI 3.1 document.",
                              "content": {"application/json": {"schema": {"type": "object"}}}}},
    }},
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Qiao",
        "version": "1",
        "description": "Bilingual Chinese + English news search. Every error is "
                       '{"ok": false, "status": N, "error": {"code": "...", "message": "..."}}; '
                       "new keys may be added to responses in any release.",
    },
    "paths": PATHS,
    "components": {
        "schemas": SCHEMAS,
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                       "description": "The QIAO_API_TOKEN the server was started with."}},
    },
}
DEFAULT_ERROR = _error("Any other error, e.g. 405 method_not_allowed or 500 internal.")
for _operations in PATHS.values():
    for _operation in _operations.values():
        _operation["responses"]["default"] = DEFAULT_ERROR
