"""Tests of the Article readers: text, HTML, JSON, JSONL and CSV files, dates, language and ids."""

import csv
import json
import random
from datetime import datetime
from pathlib import Path

import pytest

from search.articles import (
    Article,
    ArticleError,
    Skipped,
    article_from_record,
    decoding,
    detect_lang,
    iter_articles,
    parse_date,
)

SEED = Path(__file__).parents[1] / "seeds" / "chongqing-hong-kong-2023-05-11.txt"

APPLE_PAGE = """<!DOCTYPE html>
<html lang="zh-TW"><head>
<meta charset="utf-8" />
<title> 夫猝逝 婦扛20萬債茫然 | 蘋果日報</title>
<meta name="keywords" content="暖流,頭條要聞" />
<link rel="canonical" href="http://www.appledaily.com.tw/appledaily/article/headline/20080505/30135550/"/>
<style type="text/css">#mediaspace{position:absolute;top:0;left:0;}</style>
<script type="text/javascript">googletag.cmd.push(function() { gpt.enableServices(); })</script>
</head><body>
<nav><a href="/">首頁</a> <a href="/appledaily/article/headline">頭條要聞</a></nav>
<article class="mpatc clearmen">
<label><a href="/appledaily/article/headline">頭條要聞&nbsp;</a>〉</label><select id="speedlist"></select>
<header><hgroup><h1 id="h1"> 夫猝逝 婦扛20萬債茫然</h1><h2 id="h2">忍腿傷育兩女「不知如何過下去」</h2></hgroup></header>
<div class="gggs">2008年05月05日
<iframe src="http://www.facebook.com/plugins/like.php"></iframe><div class="g-plusone"></div></div>
<div class="articulum">
<figure class="lbimg sgimg sglft"><a title="阿蕎雖從燒炭自殺中撿回一命" href="./picture/A1472-2-L.jpg"><img src="./picture/A1472-1.jpg" /></a>
<span id="caption" class="cpt">阿蕎雖從燒炭自殺中撿回一命，但兩腿卻遭炭火燒傷，必須長期治療。</span></figure>
<p id="introid">一走進阿蕎的房子，客廳的神壇上供奉著數尊神像。報導．攝影╱韓旭爾<br></p>
<h2 id="blockhead0">壓力大到喘不過氣</h2>
<p id="blockcontent0">現年46歲的單親媽媽阿蕎表示，她與同居人阿柱共同生活20多年。 <br>原本一家經營魚塭為生，但兩年多前，阿柱因心肌梗塞去世。<br></p>
<a href="https://plus.google.com/+蘋果日報" target="_blank">《蘋果》G+搬家囉！快點+1下</a>
<ul class="related"><li><a href="/a/1">單親媽罹癌 盼兒成材</a></li><li><a href="/a/2">阿嬤撿破爛養孫</a></li></ul>
<p class="copyright">Copyright © 2008 Apple Daily. 著作權所有</p>
<form action="/search"><input name="q"><button>搜尋</button></form>
</div>
</article>
<footer>蘋果日報 版權所有</footer>
</body></html>
"""


def read_all(*paths: Path) -> list[Article | Skipped]:
    """Read the given paths into a list."""
    return list(iter_articles(list(paths)))


def write(path: Path, content: str | bytes) -> Path:
    """Write text (UTF-8) or bytes to path, making its folder, and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def only(items: list[Article | Skipped]) -> Article:
    """Return the one Article in a result list."""
    assert len(items) == 1 and isinstance(items[0], Article), items
    return items[0]


def html_page(charset: str, title: str, paragraph: str) -> str:
    """Make a small news page declaring charset."""
    return (
        f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
        f"<title>{title}</title></head><body><article><h1>{title.split(' ')[0]}</h1>"
        f"<p>{paragraph}</p></article></body></html>"
    )


# -- the seed text format -------------------------------------------------------------------------


def test_seed_title_is_the_headline_after_the_date_line():
    assert only(read_all(SEED)).title == (
        "Actively serve the national strategy and strengthen all-round cooperation between Chongqing and Hong Kong"
    )


def test_seed_date_comes_from_its_header():
    assert only(read_all(SEED)).published == datetime(2023, 5, 11)


def test_seed_photo_captions_leave_the_body():
    article = only(read_all(SEED))
    assert article.captions == (
        "On the afternoon of May 11, the first meeting of the Chongqing-Hong Kong High-Level Meeting and the "
        "Chongqing-Hong Kong Cooperation Conference was held in Yuzhou Hotel.Photo by reporter Long Fan/Visual Chongqing",
        "Yuan Jiajun, secretary of the Chongqing Municipal Party Committee, delivered a speech."
        "Photo by reporter Su Si/Visual Chongqing",
        "The Chief Executive of the Hong Kong Special Administrative Region, Li Jiachao, delivered a speech."
        "Photo by reporter Su Si/Visual Chongqing",
        "Yuan Jiajun, Secretary of the Chongqing Municipal Party Committee, Li Jiachao, Chief Executive of the Hong Kong "
        "Special Administrative Region, Hu Henghua, Deputy Secretary of the Chongqing Municipal Party Committee and "
        "Mayor, and Wang Linggui, Deputy Director of the Hong Kong and Macao Affairs Office of the State Council, "
        "witnessed the signing of the cooperation memorandum.Photo by reporter Long Fan/Visual Chongqing",
    )
    assert "Photo by" not in article.body


def test_seed_sub_headlines_and_paragraphs_are_the_body():
    lines = only(read_all(SEED)).body.split("\n")
    assert len(lines) == 13
    assert lines[:3] == [
        "Yuan Jiajun and Hu Henghua met with the Hong Kong Special Administrative Region Government Delegation led by Li Jiachao",
        "Yuan Jiajun and Li Jiachao delivered a speech at the meeting",
        "Chongqing and Hong Kong signed a series of memorandums of cooperation to promote Chongqing-Hong Kong cooperation",
    ]
    assert lines[-1] == (
        "The Hong Kong and Macao Affairs Office of the State Council, the government of the Hong Kong Special "
        "Administrative Region, and the heads of relevant departments of Chongqing participated in the event."
    )


def test_seed_format_with_a_chinese_photo_credit_keeps_its_headline(tmp_path):
    text = (
        " date 2026-11-29 成都东站新枢纽启用现场。记者 李明 摄\n"
        "成都东站新枢纽今日启用\n"
        "记者从市政府获悉，成都东站新枢纽将于今日正式启用。\n"
    )
    article = only(read_all(write(tmp_path / "chengdu.txt", text)))
    assert (article.title, article.body, article.captions, article.published) == (
        "成都东站新枢纽今日启用",
        "记者从市政府获悉，成都东站新枢纽将于今日正式启用。",
        ("成都东站新枢纽启用现场。记者 李明 摄",),
        datetime(2026, 11, 29),
    )


@pytest.mark.parametrize(
    "credit",
    [
        pytest.param("成都东站新枢纽启用现场。记者 李明 摄", id="reporter"),
        pytest.param("5月11日下午，渝港合作会议第一次会议在渝州宾馆举行。记者 龙帆 摄/视觉重庆", id="reporter-agency"),
        pytest.param("图为中国互联网新闻中心总编辑王晓辉致开幕辞。中国网记者杨佳摄", id="reporter-unspaced"),
        pytest.param("成都东站新枢纽启用现场。新华社发 李明 摄", id="xinhua"),
        pytest.param("成都东站新枢纽启用现场。视觉重庆 龙帆 摄", id="agency-name"),
        pytest.param("比较试验样品。薛晶晶/摄", id="name-slash"),
        pytest.param("韩国总统尹锡悦与夫人金建希6月10日开启对中亚三国的国事访问。图/IC photo", id="picture-slash"),
        pytest.param("成都东站新枢纽启用现场。图/新华社", id="picture-slash-agency"),
        pytest.param("图片来源：视觉中国", id="picture-source"),
        pytest.param("李佳宜在纽约进行拍摄。受访者供图", id="provided"),
        pytest.param("成都东站新枢纽启用现场。（成都市交通局供图）", id="provided-parenthesised"),
        pytest.param("印度艾哈迈达巴德：印度航空客机坠毁/视觉中国", id="agency-slash"),
        pytest.param("旅客在新站房候车（記者 李明 攝）", id="traditional"),
    ],
)
def test_chinese_photo_credit_makes_a_caption(tmp_path, credit):
    path = write(tmp_path / "a.txt", f"成都东站新枢纽今日启用\n{credit}\n记者从市政府获悉，成都东站新枢纽将于今日正式启用。\n")
    article = only(read_all(path))
    assert (article.title, article.body, article.captions) == (
        "成都东站新枢纽今日启用",
        "记者从市政府获悉，成都东站新枢纽将于今日正式启用。",
        (credit,),
    )


@pytest.mark.parametrize(
    "paragraph",
    [
        pytest.param("记者从市政府获悉，成都东站新枢纽将于本月底启用。", id="report"),
        pytest.param("本报记者 李明", id="byline"),
        pytest.param("免得跑了冤枉路。本报记者禇英硕文并摄", id="story-ending-in-a-text-and-photo-byline"),
        pytest.param("新华社成都11月29日电（记者 李明）", id="dateline"),
        pytest.param("深入“红区”拍摄", id="filming"),
        pytest.param("记者探访成都东站新枢纽", id="headline-reporter"),
        pytest.param("图说成都：东站新枢纽今日启用", id="headline-picture"),
        pytest.param("蓝图：成都东站新枢纽", id="headline-blueprint"),
    ],
)
def test_paragraph_that_mentions_a_reporter_or_photos_is_not_a_caption(tmp_path, paragraph):
    article = only(read_all(write(tmp_path / "a.txt", f"{paragraph}\n{paragraph}\n")))
    assert (article.title, article.body, article.captions) == (paragraph, paragraph, ())


def test_seed_is_english_with_an_id_from_its_file_name():
    article = only(read_all(SEED))
    assert (article.id, article.lang, article.url, article.source) == ("chongqing-hong-kong-2023-05-11.txt", "en", "", "")


# -- the BBC text format and folders --------------------------------------------------------------


def test_bbc_text_has_headline_then_paragraphs_and_folder_category(tmp_path):
    write(
        tmp_path / "bbc" / "business" / "001.txt",
        "Ad sales boost Time Warner profit\n\n"
        "Quarterly profits at US media giant TimeWarner jumped 76% to $1.13bn (£600m) for the three months to December.\n\n"
        "The firm, which is now one of the biggest investors in Google, benefited from sales of high-speed internet connections.\n",
    )
    assert read_all(tmp_path / "bbc") == [
        Article(
            id="business/001.txt",
            title="Ad sales boost Time Warner profit",
            body="Quarterly profits at US media giant TimeWarner jumped 76% to $1.13bn (£600m) for the three months to December.\n"
            "The firm, which is now one of the biggest investors in Google, benefited from sales of high-speed internet connections.",
            category="business",
            lang="en",
        )
    ]


def test_dataset_folder_names_are_not_categories(tmp_path):
    write(tmp_path / "corpus" / "en-text" / "business-344.txt", "Headline\n\nBody text.\n")
    article = only(read_all(tmp_path / "corpus"))
    assert (article.id, article.category) == ("en-text/business-344.txt", "")


def test_file_given_directly_has_no_category(tmp_path):
    path = write(tmp_path / "sport" / "001.txt", "Headline\n\nBody text.\n")
    article = only(read_all(path))
    assert (article.id, article.category) == ("001.txt", "")


def test_text_file_without_headline_line_is_titled_from_its_body(tmp_path):
    paragraph = "Chongqing and Hong Kong " * 10
    path = write(tmp_path / "long.txt", paragraph)
    article = only(read_all(path))
    assert (article.title, article.body) == ("Chongqing and Hong Kong Chongqing and Hong Kong Chongqing…", paragraph.strip())


def test_folder_is_read_recursively_in_sorted_order(tmp_path):
    for name in ("b.txt", "a/z.txt", "a.txt"):
        write(tmp_path / name, f"Title {name}\n\nBody.\n")
    assert [item.id for item in read_all(tmp_path)] == ["a/z.txt", "a.txt", "b.txt"]


def test_folder_passes_over_docs_hidden_and_unknown_files(tmp_path):
    write(tmp_path / "README.TXT", "Consists of 2225 documents\n\nfrom the BBC.\n")
    write(tmp_path / "LICENSE.txt", "MIT\n\nLicense.\n")
    write(tmp_path / "SOURCES.md", "# Sources\n")
    write(tmp_path / ".draft.txt", "Draft\n\nBody.\n")
    write(tmp_path / "photo.png", b"\x89PNG\r\n\x1a\n\x00\x00")
    write(tmp_path / "story.TXT", "Story\n\nBody.\n")
    assert [item.id for item in read_all(tmp_path)] == ["story.TXT"]


def test_given_file_with_unknown_suffix_is_skipped(tmp_path):
    path = write(tmp_path / "notes.md", "# Notes\n")
    assert read_all(path) == [Skipped(str(path), None, "unsupported file type")]


def test_missing_path_is_skipped(tmp_path):
    path = tmp_path / "nope.txt"
    assert read_all(path) == [Skipped(str(path), None, "no such file or directory")]


def test_symlink_to_an_enclosing_folder_is_skipped(tmp_path):
    write(tmp_path / "a.txt", "Title\n\nBody.\n")
    (tmp_path / "loop").symlink_to(tmp_path)
    assert read_all(tmp_path)[1:] == [Skipped(str(tmp_path / "loop"), None, "symlink loop or folder already read")]


def test_self_referencing_symlink_is_skipped(tmp_path):
    (tmp_path / "self.txt").symlink_to(tmp_path / "self.txt")
    assert read_all(tmp_path) == [Skipped(str(tmp_path / "self.txt"), None, "symlink loop")]


# -- HTML -----------------------------------------------------------------------------------------


def test_html_title_drops_the_site_suffix_which_becomes_the_source(tmp_path):
    article = only(read_all(write(tmp_path / "A1472.htm", APPLE_PAGE)))
    assert (article.title, article.source) == ("夫猝逝 婦扛20萬債茫然", "蘋果日報")


def test_html_date_from_the_page_text(tmp_path):
    assert only(read_all(write(tmp_path / "A1472.htm", APPLE_PAGE))).published == datetime(2008, 5, 5)


def test_html_body_is_the_story_without_boilerplate(tmp_path):
    assert only(read_all(write(tmp_path / "A1472.htm", APPLE_PAGE))).body == (
        "忍腿傷育兩女「不知如何過下去」\n"
        "一走進阿蕎的房子，客廳的神壇上供奉著數尊神像。報導．攝影╱韓旭爾\n"
        "壓力大到喘不過氣\n"
        "現年46歲的單親媽媽阿蕎表示，她與同居人阿柱共同生活20多年。\n"
        "原本一家經營魚塭為生，但兩年多前，阿柱因心肌梗塞去世。"
    )


def test_html_figure_captions_and_keywords(tmp_path):
    article = only(read_all(write(tmp_path / "A1472.htm", APPLE_PAGE)))
    assert article.captions == ("阿蕎雖從燒炭自殺中撿回一命，但兩腿卻遭炭火燒傷，必須長期治療。",)
    assert article.tags == ("暖流", "頭條要聞")


def test_html_url_from_canonical_link_gives_the_id(tmp_path):
    article = only(read_all(write(tmp_path / "A1472.htm", APPLE_PAGE)))
    assert article.url == "http://www.appledaily.com.tw/appledaily/article/headline/20080505/30135550/"
    assert (article.id, article.lang) == ("uad62ba91e38207fc", "zh-Hant")


def test_html_open_graph_and_published_time_meta(tmp_path):
    page = (
        '<html><head><meta property="og:title" content="Chongqing and Hong Kong sign pacts - Example News">'
        '<meta property="og:site_name" content="Example News">'
        '<meta property="article:published_time" content="2023-05-11T18:30:00+08:00">'
        '<meta property="og:url" content="https://news.example.com/2023/05/11/pacts"></head>'
        "<body><main><p>The two cities signed four memorandums on Thursday.</p></main></body></html>"
    )
    article = only(read_all(write(tmp_path / "pacts.html", page)))
    assert (article.title, article.source, article.published, article.url, article.body) == (
        "Chongqing and Hong Kong sign pacts",
        "Example News",
        datetime(2023, 5, 11, 18, 30),
        "https://news.example.com/2023/05/11/pacts",
        "The two cities signed four memorandums on Thursday.",
    )


def test_html_title_keeps_a_dash_that_does_not_name_the_site(tmp_path):
    page = (
        '<html><head><meta property="og:title" content="Ebola - the facts">'
        '<meta property="og:site_name" content="BBC News"></head>'
        "<body><article><p>Ebola is a severe, often fatal illness.</p></article></body></html>"
    )
    article = only(read_all(write(tmp_path / "ebola.html", page)))
    assert (article.title, article.source) == ("Ebola - the facts", "BBC News")


def test_html_without_article_element_reads_the_densest_paragraphs(tmp_path):
    page = (
        "<html><head><title>Pacts signed</title></head><body>"
        '<div class="menu"><p><a href="/">Home</a></p><p>Sign in</p></div>'
        '<div class="story"><p>The two cities signed four memorandums.</p><p>More trade is expected.</p></div>'
        "</body></html>"
    )
    article = only(read_all(write(tmp_path / "pacts.html", page)))
    assert (article.title, article.body) == (
        "Pacts signed",
        "The two cities signed four memorandums.\nMore trade is expected.",
    )


def test_html_declared_gb2312_is_read_as_gb18030(tmp_path):
    # 镕 is in GBK but not in GB2312.
    page = html_page("gb2312", "朱镕基考察重庆 - 新华网", "前总理朱镕基今日考察重庆两江新区，了解产业发展情况。")
    article = only(read_all(write(tmp_path / "zh.html", page.encode("gbk"))))
    assert (article.title, article.source, article.body, article.lang) == (
        "朱镕基考察重庆",
        "新华网",
        "前总理朱镕基今日考察重庆两江新区，了解产业发展情况。",
        "zh-Hans",
    )


def test_html_big5(tmp_path):
    page = html_page("big5", "香港經濟回暖 | 明報", "香港經濟連續兩季增長，零售業銷售額明顯回升。")
    article = only(read_all(write(tmp_path / "hk.htm", page.encode("big5"))))
    assert (article.title, article.body, article.lang) == ("香港經濟回暖", "香港經濟連續兩季增長，零售業銷售額明顯回升。", "zh-Hant")


def test_html_utf16_with_bom(tmp_path):
    page = html_page("utf-16", "渝港合作 | 重庆日报", "渝港高层会晤暨渝港合作会议第一次会议在渝州宾馆举行。")
    article = only(read_all(write(tmp_path / "u16.html", page.encode("utf-16"))))
    assert (article.title, article.body) == ("渝港合作", "渝港高层会晤暨渝港合作会议第一次会议在渝州宾馆举行。")


def test_html_utf8_with_bom(tmp_path):
    page = html_page("utf-8", "渝港合作 | 重庆日报", "渝港高层会晤暨渝港合作会议第一次会议在渝州宾馆举行。")
    article = only(read_all(write(tmp_path / "bom.html", page.encode("utf-8-sig"))))
    assert (article.title, article.body) == ("渝港合作", "渝港高层会晤暨渝港合作会议第一次会议在渝州宾馆举行。")


def test_text_file_in_gbk_without_declaration(tmp_path):
    text = "重庆举行渝港合作会议\n\n5月11日下午，渝港高层会晤暨渝港合作会议第一次会议在渝州宾馆举行。\n"
    article = only(read_all(write(tmp_path / "gbk.txt", text.encode("gbk"))))
    assert (article.title, article.body) == ("重庆举行渝港合作会议", "5月11日下午，渝港高层会晤暨渝港合作会议第一次会议在渝州宾馆举行。")


# -- JSON, JSONL and CSV --------------------------------------------------------------------------


def test_json_object_is_one_article(tmp_path):
    record = {"id": 7, "title": "人民银行下调存款准备金率", "body": "中国人民银行决定下调金融机构存款准备金率。", "tags": "经济, 银行"}
    assert read_all(write(tmp_path / "one.json", json.dumps(record, ensure_ascii=False))) == [
        Article(
            id="7",
            title="人民银行下调存款准备金率",
            body="中国人民银行决定下调金融机构存款准备金率。",
            lang="zh-Hans",
            tags=("经济", "银行"),
        )
    ]


def test_json_array_numbers_its_items_and_skips_bad_ones(tmp_path):
    path = write(tmp_path / "batch.json", '[{"title": "First", "body": "One."}, {"title": 5}, {"body": "Three."}]')
    assert read_all(path) == [
        Article(id="batch.json:1", title="First", body="One.", lang="en"),
        Skipped(str(path), None, "item 2: field 'title' must be a string, not a number"),
        Article(id="batch.json:3", title="Three.", body="Three.", lang="en"),
    ]


def test_json_that_is_not_an_object_or_array_is_skipped(tmp_path):
    path = write(tmp_path / "n.json", "42")
    assert read_all(path) == [Skipped(str(path), None, "JSON must be an object or an array, not a number")]


def test_jsonl_broken_line_is_skipped_and_its_neighbours_survive(tmp_path):
    path = write(
        tmp_path / "zh-news.jsonl",
        '{"title": "香港疫情", "body": "香港新增确诊个案。"}\n'
        '{"title": "坏行" "body": "x"}\n'
        "\n"
        '{"title": "深圳新区", "body": "深圳设立新区。"}\n',
    )
    items = read_all(path)
    assert [item.id if isinstance(item, Article) else item for item in items] == [
        "zh-news.jsonl:1",
        Skipped(str(path), 2, "malformed JSON: Expecting ',' delimiter at line 1 column 16"),
        "zh-news.jsonl:4",
    ]


def test_malformed_json_reason_is_whole_with_line_and_column(tmp_path):
    path = write(tmp_path / "ctl.jsonl", '{"title": "香港\x01新闻"}\n')
    assert read_all(path) == [Skipped(str(path), 1, "malformed JSON: Invalid control character at line 1 column 14")]


def test_jsonl_reuters_record_keeps_id_tags_and_date(tmp_path):
    record = {
        "id": "reuters-1",
        "title": "Bahia Cocoa Review",
        "published": "26-FEB-1987 15:01:01.79",
        "source": "Reuters",
        "dateline": "SALVADOR, Feb 26 -",
        "tags": ["cocoa"],
        "body": "Showers continued throughout the week in\nthe Bahia cocoa zone.\n    The dry period means the temporao will be late.\n",
    }
    assert read_all(write(tmp_path / "en-reuters.jsonl", json.dumps(record) + "\n")) == [
        Article(
            id="reuters-1",
            title="Bahia Cocoa Review",
            body="Showers continued throughout the week in\nthe Bahia cocoa zone.\nThe dry period means the temporao will be late.",
            published=datetime(1987, 2, 26, 15, 1, 1, 790000),
            source="Reuters",
            lang="en",
            tags=("cocoa",),
        )
    ]


def test_jsonl_record_without_id_is_identified_by_its_url(tmp_path):
    record = {
        "url": "http://www.chinanews.com/ga/2020/03-30/9142483.shtml",
        "title": "专家指香港未知来源确诊尚无几何式增长",
        "published": "2020-3-30 22:49:00",
        "source": "中国新闻网",
        "category": "港澳",
        "body": "(抗击新冠肺炎)专家指香港未知来源确诊尚无几何式增长\n\t中新社香港3月30日电(记者曾平)新冠肺炎疫情在全球蔓延。",
    }
    assert read_all(write(tmp_path / "zh-news.jsonl", json.dumps(record, ensure_ascii=False) + "\n")) == [
        Article(
            id="u3dd55c6c1fcf75db",
            title="专家指香港未知来源确诊尚无几何式增长",
            body="(抗击新冠肺炎)专家指香港未知来源确诊尚无几何式增长\n中新社香港3月30日电(记者曾平)新冠肺炎疫情在全球蔓延。",
            url="http://www.chinanews.com/ga/2020/03-30/9142483.shtml",
            published=datetime(2020, 3, 30, 22, 49),
            source="中国新闻网",
            category="港澳",
            lang="zh-Hans",
        )
    ]


def test_jsonl_line_longer_than_the_limit_is_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(decoding, "MAX_FILE_BYTES", 40)
    path = write(tmp_path / "long.jsonl", '{"title": "' + "x" * 50 + '"}\n{"title": "Short"}\n')
    items = read_all(path)
    assert items == [
        Skipped(str(path), 1, "line too long (limit 40 characters)"),
        Article(id="long.jsonl:2", title="Short", body="", lang="en"),
    ]


def test_csv_wikinews_dateline_is_stripped_from_the_body(tmp_path):
    path = tmp_path / "wikinews_2019.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["url", "date", "title", "text"])
        writer.writerow([
            "https://en.wikinews.org//wiki/Magnitogorsk_apartment_building_collapses",
            "2019-01-04",
            "Magnitogorsk apartment building collapses after explosion, dozens dead",
            "Friday, January 4, 2019 \n\n\nAn apartment building collapsed on Monday in Magnitogorsk.\n\n\n"
            "The 1973 building was home to over 1,000 people.",
        ])  # fmt: skip
    assert read_all(path) == [
        Article(
            id="u8022e8e498707d80",
            title="Magnitogorsk apartment building collapses after explosion, dozens dead",
            body="An apartment building collapsed on Monday in Magnitogorsk.\nThe 1973 building was home to over 1,000 people.",
            url="https://en.wikinews.org//wiki/Magnitogorsk_apartment_building_collapses",
            published=datetime(2019, 1, 4),
            lang="en",
        )
    ]


def test_csv_rows_are_numbered_from_the_header_and_bad_rows_skipped(tmp_path):
    path = write(tmp_path / "news.csv", 'title,body,published\nFirst,One.,2023-05-11\n,,\n"",,not a date\nLast,Two.,\n')
    assert read_all(path) == [
        Article(id="news.csv:2", title="First", body="One.", published=datetime(2023, 5, 11), lang="en"),
        Skipped(str(path), 4, "record has neither title nor body"),
        Article(id="news.csv:5", title="Last", body="Two.", lang="en"),
    ]


def test_csv_reads_a_body_longer_than_the_default_field_limit(tmp_path):
    body = "Chongqing " * 20000
    path = write(tmp_path / "big.csv", f'title,text\nBig,"{body}"\n')
    assert only(read_all(path)).body == body.strip()


def test_csv_without_title_or_body_column_is_skipped(tmp_path):
    path = write(tmp_path / "prices.csv", "ticker,price\nAAPL,1\n")
    assert read_all(path) == [Skipped(str(path), 1, "CSV header has no title or body column")]


def test_csv_row_not_in_the_encoding_of_the_files_start_stops_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(decoding, "SNIFF_BYTES", 16)  # the start is ASCII, so UTF-8
    path = write(tmp_path / "mixed.csv", "title,body\nFirst,One.\n".encode() + "香港,新闻\n".encode("gbk"))
    assert [item.id if isinstance(item, Article) else item for item in read_all(path)] == [
        "mixed.csv:2",
        Skipped(str(path), 3, "not UTF-8 text"),
    ]


# -- encodings of JSON, JSONL and CSV -----------------------------------------------------------------

CHENGDU = {"title": "成都东站新枢纽启用", "body": "记者从市政府获悉，成都东站新枢纽将于本月底启用。"}
SHENZHEN = {"title": "深圳设立新区", "body": "深圳设立新区，推动粤港澳大湾区建设。"}


def jsonl(*records: dict) -> str:
    """Make JSONL text of records, Chinese unescaped."""
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


def test_json_in_utf16_with_bom_is_read(tmp_path):
    path = write(tmp_path / "u16.json", json.dumps(CHENGDU, ensure_ascii=False).encode("utf-16"))
    assert read_all(path) == [Article(id="u16.json", title=CHENGDU["title"], body=CHENGDU["body"], lang="zh-Hans")]


def test_json_in_gbk_is_read(tmp_path):
    path = write(tmp_path / "gbk.json", json.dumps([CHENGDU, SHENZHEN], ensure_ascii=False).encode("gbk"))
    assert [(item.id, item.title) for item in read_all(path)] == [
        ("gbk.json:1", "成都东站新枢纽启用"),
        ("gbk.json:2", "深圳设立新区"),
    ]


def test_jsonl_in_gbk_is_read(tmp_path):
    path = write(tmp_path / "gbk.jsonl", jsonl(CHENGDU, SHENZHEN).encode("gbk"))
    assert [(item.id, item.body) for item in read_all(path)] == [
        ("gbk.jsonl:1", "记者从市政府获悉，成都东站新枢纽将于本月底启用。"),
        ("gbk.jsonl:2", "深圳设立新区，推动粤港澳大湾区建设。"),
    ]


def test_jsonl_in_utf16_is_read_line_by_line(tmp_path):
    path = write(tmp_path / "u16.jsonl", (jsonl(CHENGDU) + '{"title": \n' + jsonl(SHENZHEN)).encode("utf-16"))
    assert read_all(path) == [
        Article(id="u16.jsonl:1", title=CHENGDU["title"], body=CHENGDU["body"], lang="zh-Hans"),
        Skipped(str(path), 2, "malformed JSON: Expecting value at line 1 column 11"),
        Article(id="u16.jsonl:3", title=SHENZHEN["title"], body=SHENZHEN["body"], lang="zh-Hans"),
    ]


def test_jsonl_in_utf16_with_a_broken_end_keeps_its_lines(tmp_path):
    path = write(tmp_path / "cut.jsonl", jsonl(CHENGDU, SHENZHEN).encode("utf-16") + b"{")
    assert [item.id if isinstance(item, Article) else item for item in read_all(path)] == [
        "cut.jsonl:1",
        "cut.jsonl:2",
        Skipped(str(path), None, "not UTF-16-LE text"),
    ]


def test_jsonl_line_not_in_the_encoding_of_the_files_start_is_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(decoding, "SNIFF_BYTES", 64)  # the first line only, so UTF-8
    path = write(tmp_path / "mixed.jsonl", (jsonl(CHENGDU) + jsonl(SHENZHEN)).encode() + jsonl(SHENZHEN).encode("gbk"))
    assert [item.id if isinstance(item, Article) else item for item in read_all(path)] == [
        "mixed.jsonl:1",
        "mixed.jsonl:2",
        Skipped(str(path), 3, "not UTF-8 text"),
    ]


def test_utf8_jsonl_with_a_bad_byte_in_its_start_loses_only_that_line(tmp_path):
    broken = json.dumps(SHENZHEN, ensure_ascii=False).encode().replace("新区".encode(), b"\xff", 1)
    path = write(tmp_path / "bad.jsonl", jsonl(CHENGDU).encode() + broken + b"\n" + jsonl(SHENZHEN).encode())
    assert [item.id if isinstance(item, Article) else item for item in read_all(path)] == [
        "bad.jsonl:1",
        Skipped(str(path), 2, "not UTF-8 text"),
        "bad.jsonl:3",
    ]


def test_utf8_jsonl_whose_start_ends_inside_a_character_is_utf8(tmp_path, monkeypatch):
    monkeypatch.setattr(decoding, "SNIFF_BYTES", 12)  # '{"title": "' and the first byte of 成
    path = write(tmp_path / "zh.jsonl", jsonl(CHENGDU, SHENZHEN))
    assert [item.title for item in read_all(path)] == ["成都东站新枢纽启用", "深圳设立新区"]


def test_csv_in_utf16_is_read(tmp_path):
    path = write(tmp_path / "u16.csv", "title,body\r\n成都东站新枢纽启用,记者从市政府获悉。\r\n".encode("utf-16"))
    assert read_all(path) == [
        Article(id="u16.csv:2", title="成都东站新枢纽启用", body="记者从市政府获悉。", lang="zh-Hans")
    ]


def test_csv_in_gbk_is_read(tmp_path):
    text = "title,body\n成都东站新枢纽启用,记者从市政府获悉。\n深圳设立新区,深圳设立新区。\n"
    assert [(item.id, item.title) for item in read_all(write(tmp_path / "gbk.csv", text.encode("gbk")))] == [
        ("gbk.csv:2", "成都东站新枢纽启用"),
        ("gbk.csv:3", "深圳设立新区"),
    ]


# -- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"title": 42, "body": "x"}, "field 'title' must be a string, not a number"),
        ({"title": {"zh": "标题"}}, "field 'title' must be a string, not an object"),
        ({"title": "x", "body": ["a", "b"]}, "field 'body' must be a string, not an array"),
        ({"title": "x", "content": True}, "field 'content' must be a string, not a boolean"),
        ({"title": "x", "tags": {"a": 1}}, "field 'tags' must be a list of strings, not an object"),
        ({"title": "x", "tags": ["a", 1]}, "field 'tags' must hold only strings"),
        ({"title": "x", "id": 1.5}, "field 'id' must be a string or an integer, not a number"),
        ({"title": " ", "body": "\n\t"}, "record has neither title nor body"),
        (["title", "body"], "record must be an object, not an array"),
    ],
)
def test_wrongly_typed_or_empty_record_is_refused(record, message):
    with pytest.raises(ArticleError) as raised:
        article_from_record(record, fallback_id="x")
    assert str(raised.value) == message


def test_wrongly_typed_jsonl_line_is_skipped_with_its_line(tmp_path):
    path = write(tmp_path / "t.jsonl", '{"title": "Good"}\n{"title": ["Bad"]}\n')
    assert read_all(path)[1] == Skipped(str(path), 2, "field 'title' must be a string, not an array")


def test_empty_file_is_skipped(tmp_path):
    paths = [write(tmp_path / name, b"") for name in ("a.txt", "b.jsonl", "c.csv", "d.html")]
    assert read_all(tmp_path) == [Skipped(str(path), None, "empty file") for path in paths]


def test_binary_file_is_skipped(tmp_path):
    path = write(tmp_path / "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert read_all(path) == [Skipped(str(path), None, "binary file")]


def test_random_bytes_are_a_binary_file(tmp_path):
    path = write(tmp_path / "noise.txt", random.Random(10).randbytes(4096))
    assert read_all(path) == [Skipped(str(path), None, "binary file")]


def test_text_with_a_stray_nul_is_read_without_it(tmp_path):
    text = "成都东站新枢纽启用\n\n记者从市政府获悉，成都东站新枢纽将于本月底启用。\x00\n"
    article = only(read_all(write(tmp_path / "crawl.txt", text)))
    assert (article.title, article.body) == ("成都东站新枢纽启用", "记者从市政府获悉，成都东站新枢纽将于本月底启用。")


def test_terminal_colour_codes_are_stripped_whole(tmp_path):
    text = "\x1b[1;31m成都东站\x1b[0m新枢纽启用\n\n记者从市政府获悉，\x1b[31m成都东站\x1b[0m新枢纽将于本月底启用。\n"
    article = only(read_all(write(tmp_path / "colour.txt", text)))
    assert (article.title, article.body) == ("成都东站新枢纽启用", "记者从市政府获悉，成都东站新枢纽将于本月底启用。")


def test_oversize_file_is_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(decoding, "MAX_FILE_BYTES", 10)
    path = write(tmp_path / "big.txt", "Headline\n\nBody.")
    assert read_all(path) == [Skipped(str(path), None, "file too large (15 bytes, limit 10)")]


def test_control_characters_are_stripped():
    article = article_from_record({"title": "香港\x07新闻\x00", "body": "第一段\x1b\r\n第二段\t末\x7f"}, fallback_id="x")
    assert (article.title, article.body) == ("香港新闻", "第一段\n第二段\t末")


def test_missing_title_is_made_from_the_body():
    body = "The Chongqing-Hong Kong Cooperation Conference Mechanism was launched on May 11.\nSecond paragraph."
    assert article_from_record({"body": body}, fallback_id="x").title == (
        "The Chongqing-Hong Kong Cooperation Conference Mechanism…"
    )


def test_bad_date_drops_the_date_not_the_article():
    article = article_from_record({"title": "Pacts", "published": "sometime in May"}, fallback_id="x")
    assert (article.title, article.published) == ("Pacts", None)


def test_skipped_reads_as_path_line_reason():
    skipped = [Skipped("a.jsonl", 2, "malformed JSON: Expecting value at line 1 column 1"), Skipped("b.txt", None, "empty file")]
    assert [str(item) for item in skipped] == [
        "a.jsonl:2: malformed JSON: Expecting value at line 1 column 1",
        "b.txt: empty file",
    ]


# -- dates ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-05-11", datetime(2023, 5, 11)),
        ("2020-3-30 23:37:00", datetime(2020, 3, 30, 23, 37)),
        ("26-FEB-1987 15:01:01.79", datetime(1987, 2, 26, 15, 1, 1, 790000)),
        ("27-MAR-1987 00:02:59.13RM", datetime(1987, 3, 27, 0, 2, 59, 130000)),
        ("27-MAR-1987 04:38:47.18M C F", datetime(1987, 3, 27, 4, 38, 47, 180000)),
        ("11 May 2023", datetime(2023, 5, 11)),
        ("2023年5月11日", datetime(2023, 5, 11)),
        ("2008年05月05日", datetime(2008, 5, 5)),
        ("Friday, January 4, 2019 ", datetime(2019, 1, 4)),
        ("2023-05-11T18:30:00+08:00", datetime(2023, 5, 11, 18, 30)),
        ("2023-05-11T10:30:00Z", datetime(2023, 5, 11, 10, 30)),
        ("2008/01/03/", datetime(2008, 1, 3)),
        ("Thu, 11 May 2023 10:00:00 +0800", datetime(2023, 5, 11, 10, 0)),
    ],
)
def test_parse_date_reads_the_corpora_forms(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["", "sometime in May", "2023-13-45", "2019", "Friday"])
def test_parse_date_returns_none_for_non_dates(text):
    assert parse_date(text) is None


# -- language -------------------------------------------------------------------------------------


def test_detect_lang_simplified():
    assert detect_lang("重庆与香港签署了一系列合作备忘录，推动渝港合作迈上新台阶。") == "zh-Hans"


def test_detect_lang_traditional():
    assert detect_lang("搶救病危夫 妻捐肝 兒捐腎 「一顆腎換爸下半輩子 值得」") == "zh-Hant"


def test_detect_lang_english_with_chinese_names():
    text = "Yuan Jiajun (袁家军) and Li Jiachao (李家超) met in Chongqing (重庆) to sign cooperation memorandums."
    assert detect_lang(text) == "en"


def test_explicit_lang_wins_and_invalid_lang_is_ignored():
    records = [{"title": "香港", "lang": "zh-hant"}, {"title": "香港", "lang": "fr"}]
    assert [article_from_record(record, fallback_id="x").lang for record in records] == ["zh-Hant", "zh-Hans"]


# -- ids ------------------------------------------------------------------------------------------


def test_id_is_the_given_id_else_from_the_url_else_the_fallback():
    records = [
        {"id": "reuters-1", "title": "t", "url": "http://example.com/a"},
        {"id": 17, "title": "t"},
        {"id": "", "title": "t", "url": "http://www.chinanews.com/ga/2020/03-30/9142483.shtml"},
        {"title": "t"},
    ]
    assert [article_from_record(record, fallback_id="zh-news.jsonl:4").id for record in records] == [
        "reuters-1",
        "17",
        "u3dd55c6c1fcf75db",
        "zh-news.jsonl:4",
    ]


def test_id_from_path_is_relative_to_the_folder_with_slashes(tmp_path):
    write(tmp_path / "corpus" / "en-text" / "business-344.txt", "Headline\n\nBody.\n")
    write(tmp_path / "corpus" / "zh-news.jsonl", '{"title": "一"}\n{"title": "二"}\n')
    assert [item.id for item in read_all(tmp_path / "corpus")] == [
        "en-text/business-344.txt",
        "zh-news.jsonl:1",
        "zh-news.jsonl:2",
    ]


def test_files_differing_only_in_suffix_get_different_ids(tmp_path):
    write(tmp_path / "folder" / "gbk.html", html_page("utf-8", "香港新闻 | 测试", "香港新闻正文。"))
    write(tmp_path / "folder" / "gbk.txt", "香港新闻\n\n香港新闻正文。\n")
    assert [item.id for item in read_all(tmp_path)] == ["folder/gbk.html", "folder/gbk.txt"]
