"""Hostile input, as files, through POST /api/articles, and as queries: indexed or refused, never a crash.

The 8 MB articles (about 6 s of CPU each to index) are in the system tier.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from search.index import QiaoIndex, build, verify
from search.query.search import search

from .conftest import TOKEN

STORY = "香港特区政府今日公布新的医疗措施，市民可以减轻医药费负担。"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """A folder of hostile files, indexed once: (index dir, build summary)."""
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.html").write_bytes(bytes(range(256)) * 40)
    (folder / "truncated.html").write_text(
        "<html><head><title>截断的页面 | 测试报</title></head><body><p>" + STORY + "<p>未完", encoding="utf-8"
    )
    for name, encoding in [("gbk", "gbk"), ("gb18030", "gb18030"), ("big5", "big5"), ("utf16", "utf-16")]:
        text = STORY if encoding != "big5" else "香港特區政府今日公佈新的醫療措施，市民可以減輕醫藥費負擔。"
        charset = "" if encoding == "utf-16" else f'<meta charset="{encoding}">'
        title = "編碼" if encoding == "big5" else "编码"
        page = f"<html><head>{charset}<title>{name} {title} | Test</title></head><body><p>{text}</p></body></html>"
        (folder / f"{name}.html").write_bytes(page.encode(encoding))
    (folder / "bom.txt").write_bytes("\ufeffBOM headline\n\n".encode() + STORY.encode())
    for name, title, encoding in [("utf16.json", "utf16 JSON 编码", "utf-16"), ("gbk.jsonl", "gbk JSONL 编码", "gbk")]:
        (folder / name).write_bytes((json.dumps({"title": title, "body": STORY}, ensure_ascii=False) + "\n").encode(encoding))
    (folder / "utf16.csv").write_bytes(f"title,body\r\nutf16 CSV 编码,{STORY}\r\n".encode("utf-16"))
    (folder / "lines.jsonl").write_text("\n".join([
        json.dumps({"id": "ok-1", "title": "第一条", "body": STORY}, ensure_ascii=False),
        '{"id": "broken", "title": ',
        json.dumps({"id": "typed", "title": 42, "body": ["not", "text"]}),
        json.dumps({"id": "ok-2", "title": "第二条", "body": STORY, "published": "not a date"}, ensure_ascii=False),
    ]) + "\n", encoding="utf-8")
    (folder / "unbroken.json").write_text(json.dumps(
        {"id": "unbroken", "title": "没有标点的长文", "body": "香港重庆合作" * 50_000}, ensure_ascii=False
    ), encoding="utf-8")
    (folder / "control.json").write_text(json.dumps(
        {"id": "control", "title": "Control\x00 char\x07acters\x1b[31m", "body": "Body\x0bwith\x0ccontrols\x7f."}
    ), encoding="utf-8")
    (folder / "名字 有 空格.txt").write_text("文件名里有空格和中文\n\n" + STORY, encoding="utf-8")
    (folder / "markup.json").write_text(json.dumps(
        {"id": "markup", "title": "<script>alert('t')</script>香港", "body": "<img src=x onerror=alert(1)>香港"}
    ), encoding="utf-8")
    loop = folder / "loop"
    loop.mkdir()
    os.symlink("..", loop / "back")
    index_dir = folder.parent / f"{folder.name}-index"
    return index_dir, build([folder], index_dir)


def test_hostile_files_are_indexed_or_skipped_with_reasons(hostile: tuple[Path, object]) -> None:
    index_dir, summary = hostile
    assert [str(s).rsplit("/", 1)[-1] for s in summary.skipped] == [
        "binary.html: binary file",
        "empty.txt: empty file",
        "lines.jsonl:2: malformed JSON: Expecting value at line 1 column 27",
        "lines.jsonl:3: field 'title' must be a string, not a number",
        "back: symlink loop or folder already read",
    ]
    with QiaoIndex(index_dir) as ix:
        ids = sorted(f["id"] for f in ix.searcher().all_stored_fields())
    assert ids == [
        "big5.html", "bom.txt", "control", "gb18030.html", "gbk.html", "gbk.jsonl:1", "markup", "ok-1",
        "ok-2", "truncated.html", "unbroken", "utf16.csv:2", "utf16.html", "utf16.json", "名字 有 空格.txt",
    ]
    assert verify(index_dir).ok


def test_every_encoding_is_read_and_found(hostile: tuple[Path, object]) -> None:
    index_dir, _ = hostile
    with QiaoIndex(index_dir) as ix:
        titles = {h.title for h in search(ix, "医药费", per_page=100).hits}
    assert {
        "gbk 编码", "gb18030 编码", "big5 編碼", "utf16 编码", "截断的页面", "utf16 JSON 编码", "gbk JSONL 编码", "utf16 CSV 编码",
    } <= titles  # fmt: skip


def test_unbroken_article_is_searchable(hostile: tuple[Path, object]) -> None:
    index_dir, _ = hostile
    with QiaoIndex(index_dir) as ix:
        assert "unbroken" in [h.id for h in search(ix, "重庆合作", per_page=100).hits]


@pytest.mark.system
def test_an_8_mb_article_is_indexed_and_searchable(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "big.json").write_text(json.dumps(
        {"id": "big", "title": "Eight megabytes", "body": ("Hong Kong markets rally again. " * 280_000)}
    ), encoding="utf-8")
    assert not build([tmp_path / "in"], tmp_path / "index").skipped
    with QiaoIndex(tmp_path / "index") as ix:
        assert [h.id for h in search(ix, '"Eight megabytes"').hits] == ["big"]
    assert verify(tmp_path / "index").ok


def test_control_characters_are_stripped(hostile: tuple[Path, object]) -> None:
    index_dir, _ = hostile
    with QiaoIndex(index_dir) as ix:
        stored = ix.searcher().document(id="control")
    assert (stored["title"], stored["body"]) == ("Control characters", "Bodywithcontrols.")


def test_markup_in_articles_is_shown_as_text_on_the_pages(hostile: tuple[Path, object]) -> None:
    from web import create_app
    from web.server import close

    index_dir, _ = hostile
    app = create_app({"INDEX_DIR": index_dir, "TESTING": True})
    try:
        client = app.test_client()
        for page in (client.get("/?q=香港"), client.get("/articles/markup?q=香港")):
            html = page.get_data(as_text=True)
            assert page.status_code == 200
            assert "&lt;script&gt;alert(" in html
            assert "<script>alert(" not in html and "<img src=x" not in html
    finally:
        close(app)


@pytest.mark.parametrize("record", [
    pytest.param({"id": "big-api", "title": "Eight megabytes by API", "body": "Hong Kong markets rally again. " * 270_000},
                 marks=pytest.mark.system),
    {"id": "unbroken-api", "title": "长文", "body": "香港重庆合作" * 50_000},
    {"id": "control-api", "title": "Tab\tand\x00null", "body": "香港\x1b[0m"},
    {"id": "markup-api", "title": "<script>alert(1)</script>", "body": "<b>香港</b>"},
])
def test_hostile_articles_through_the_api_are_added(writer: FlaskClient, record: dict) -> None:
    response = writer.post("/api/articles", json=record, headers=AUTH)
    assert response.status_code == 200
    assert response.get_json()["results"] == [{"id": record["id"], "status": "added", "reason": ""}]
    assert writer.get(f"/api/articles/{record['id']}").status_code == 200


@pytest.mark.parametrize(("record", "reason"), [
    ({"id": "typed", "title": 42, "body": "x"}, "field 'title' must be a string, not a number"),
    ({"id": "listy", "title": "x", "body": ["a"]}, "field 'body' must be a string, not an array"),
    ({"title": "no id or url", "body": "香港"}, "needs an id or a url"),
    ([1, 2], None),
])
def test_wrongly_typed_articles_through_the_api_are_rejected_with_reasons(
    writer: FlaskClient, record: object, reason: str | None
) -> None:
    response = writer.post("/api/articles", json=record, headers=AUTH)
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert {r["status"] for r in results} == {"rejected"}
    if reason is not None:
        assert results[0]["reason"] == reason


HOSTILE_QUERIES = [
    {"q": STORY * 40},  # 2,000 characters after the cut below
    {"q": " OR ".join(f"香港{i}" for i in range(300))},
    {"q": "(" * 50 + "香港" + ")" * 50},
    {"q": "*港*"},
    {"q": "香港", "per_page": "100000"},
    {"q": "香港", "page": "-1"},
    {"q": "香港", "from": "2023-13-45"},
    {"q": "香港", "to": "yesterday"},
    {"q": "\x00\x01\x02"},
    {"q": '"' * 101},
]


@pytest.mark.parametrize("params", HOSTILE_QUERIES)
def test_hostile_queries_get_results_or_a_400_never_a_500(client: FlaskClient, params: dict) -> None:
    params = {**params, "q": params["q"][:2000]}
    response = client.get("/api/search", query_string=params)
    body = response.get_json()
    assert response.status_code in (200, 400)
    assert body["ok"] is (response.status_code == 200)
    if response.status_code == 400:
        assert body["error"]["message"]
