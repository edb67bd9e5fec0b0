"""The page's words in English and Chinese, chosen by ?hl=, then a cookie, then Accept-Language."""

from __future__ import annotations

import ast
import re

from flask import Flask, Response, g, request

from search.errors import QiaoError

LANGUAGES = ("en", "zh")
DEFAULT = "en"
COOKIE = "hl"
HTML_LANG = {"en": "en", "zh": "zh-Hans"}

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Qiao news search",
        "tagline": "Chinese and English news search",
        "search_label": "Search news",
        "placeholder": "Search in Chinese or English",  # fits the box on a 375 px wide phone
        "search": "Search",
        "shortcut_before": "Press",
        "shortcut_after": "to search",
        "options": "Dates, sort, languages",
        "switch_label": "Interface language",
        "results_one": "1 result ({ms} ms)",
        "results": "{n} results ({ms} ms)",
        "page_of": "page {page} of {pages}",
        "searched_as": "Searched as:",
        "translations": "Also searched as:",
        "xlang": "Cross-language",
        "xlang_on": "On: also the other language",
        "xlang_off": "Off: only as typed",
        "xlang_turn_off": "only as typed",
        "xlang_is_off": "Cross-language search is off.",
        "xlang_turn_on": "Turn it on",
        "fallback": "No article contains all of the words, so these contain any of them.",
        "did_you_mean": "Did you mean ",
        "did_you_mean_end": "?",
        "collapsed": "One result per story, from {n} articles.",
        "show_all": "Show every article",
        "collapse_on": "Show one result per story",
        "similar_one": "1 similar report",
        "similar": "{n} similar reports",
        "partial": "The articles with all of the words end here; these have some of them.",
        "no_results": "No results for “{q}”.",
        "no_articles": "No articles match these filters.",
        "no_results_tips": "Check the spelling, use fewer or more general words, or try the other language.",
        "without_filters": "Search again without filters",
        "welcome": "Search {n} news articles in Chinese and English",
        "welcome_help": "Type words in either language; Chinese is split into words for you.",
        "examples": "Try:",
        "syntax": "Search tips",
        "syntax_phrase": "Quotes find an exact phrase:",
        "syntax_exclude": "A minus leaves out a word:",
        "syntax_or": "OR finds either word:",
        "syntax_field": "Search titles only:",
        "syntax_author": "By an author, or with a tag:",
        "filters": "Filters",
        "more": "{n} more",
        "active_filters": "Active filters",
        "remove_filter": "Remove filter",
        "clear_filters": "Clear all",
        "facet_lang": "Language",
        "facet_source": "Source",
        "facet_category": "Category",
        "facet_year": "Year",
        "facet_author": "Author",
        "facet_tags": "Tags",
        "follow": "Follow this search:",
        "feed": "Atom feed",
        "export": "Export this page:",
        "from": "From",
        "to": "To",
        "sort": "Sort",
        "sort_relevance": "Relevance",
        "sort_relevance_recent": "Relevance, newer first",
        "sort_date": "Newest first",
        "sort_date_asc": "Oldest first",
        "dates_as": "dates {start} – {end} (from “{words}”{relative})",
        "relative_to_today": ", relative to today, {day}",
        "relative_to_newest": ", relative to the newest article, {day}",
        "apply": "Apply",
        "pages": "Pages",
        "previous": "Previous",
        "next": "Next",
        "lang_zh-Hans": "Simplified Chinese",
        "lang_zh-Hant": "Traditional Chinese",
        "lang_en": "English",
        "lang_zh": "Chinese",
        "back": "Back to results",
        "new_search": "New search",
        "original": "Original article",
        "captions": "Captions",
        "tags": "Tags",
        "by": "By {author}",
        "error_400": "That search could not be run",
        "error_404": "Not found",
        "error_405": "Not allowed",
        "error_500": "Something went wrong",
        "error_503": "Search is not available yet",
        "error_other": "Something went wrong",
        "unexpected": "an unexpected error occurred; it has been logged on the server",
        "home": "Back to search",
        "related": "Related articles",
        "suggestions": "Suggestions",
        "suggest_article": "article",
        "suggest_count": "{n} suggestions; use the arrow keys to choose",
    },
    "zh": {
        "title": "桥 · 新闻搜索",
        "tagline": "中英文新闻搜索",
        "search_label": "搜索新闻",
        "placeholder": "输入中文或英文搜索新闻",
        "search": "搜索",
        "shortcut_before": "按",
        "shortcut_after": "键开始搜索",
        "options": "日期、排序与语言",
        "switch_label": "界面语言",
        "results_one": "找到 1 条结果（用时 {ms} 毫秒）",
        "results": "找到 {n} 条结果（用时 {ms} 毫秒）",
        "page_of": "第 {page} 页，共 {pages} 页",
        "searched_as": "分词结果：",
        "translations": "同时检索：",
        "xlang": "跨语言",
        "xlang_on": "开：同时检索另一种语言",
        "xlang_off": "关：只按原文",
        "xlang_turn_off": "只按原文",
        "xlang_is_off": "跨语言检索已关闭。",
        "xlang_turn_on": "打开",
        "fallback": "没有文章同时包含所有词语，以下结果包含其中任意一个。",
        "did_you_mean": "您是不是要找 ",
        "did_you_mean_end": "？",
        "collapsed": "同一报道只显示一次，共 {n} 篇文章。",
        "show_all": "显示全部文章",
        "collapse_on": "同一报道只显示一次",
        "similar_one": "1 篇相似报道",
        "similar": "{n} 篇相似报道",
        "partial": "包含所有词语的文章到此为止，以下文章只包含其中一部分。",
        "no_results": "没有找到与“{q}”相关的结果。",
        "no_articles": "没有符合这些筛选条件的文章。",
        "no_results_tips": "请检查拼写，减少词语或换用更常见的说法，也可以试试另一种语言。",
        "without_filters": "去掉筛选条件重新搜索",
        "welcome": "搜索 {n} 篇中英文新闻",
        "welcome_help": "中英文均可输入，中文会自动分词。",
        "examples": "试试：",
        "syntax": "搜索技巧",
        "syntax_phrase": "加引号搜索完整短语：",
        "syntax_exclude": "减号排除某个词：",
        "syntax_or": "OR 表示任意一个：",
        "syntax_field": "只搜索标题：",
        "syntax_author": "按作者或标签搜索：",
        "filters": "筛选",
        "more": "另外 {n} 项",
        "active_filters": "当前筛选",
        "remove_filter": "移除筛选",
        "clear_filters": "全部清除",
        "facet_lang": "语言",
        "facet_source": "来源",
        "facet_category": "分类",
        "facet_year": "年份",
        "facet_author": "作者",
        "facet_tags": "标签",
        "follow": "关注此搜索：",
        "feed": "Atom 订阅",
        "export": "导出本页：",
        "from": "起始日期",
        "to": "截止日期",
        "sort": "排序",
        "sort_relevance": "相关度",
        "sort_relevance_recent": "相关度，新的优先",
        "sort_date": "最新优先",
        "sort_date_asc": "最早优先",
        "dates_as": "日期 {start} 至 {end}（来自“{words}”{relative}）",
        "relative_to_today": "，相对于今天 {day}",
        "relative_to_newest": "，相对于最新一篇文章的日期 {day}",
        "apply": "应用",
        "pages": "分页",
        "previous": "上一页",
        "next": "下一页",
        "lang_zh-Hans": "简体中文",
        "lang_zh-Hant": "繁體中文",
        "lang_en": "英文",
        "lang_zh": "中文",
        "back": "返回搜索结果",
        "new_search": "重新搜索",
        "original": "原文链接",
        "captions": "图片说明",
        "tags": "标签",
        "by": "作者：{author}",
        "error_400": "无法执行这次搜索",
        "error_404": "找不到页面",
        "error_405": "不允许的操作",
        "error_500": "出错了",
        "error_503": "搜索暂不可用",
        "error_other": "出错了",
        "unexpected": "发生了意外错误，已记录在服务器日志中。",
        "home": "返回搜索",
        "related": "相关报道",
        "suggestions": "搜索建议",
        "suggest_article": "文章",
        "suggest_count": "{n} 条建议，可用方向键选择",
    },
}

# The core's error messages are English; the Chinese page says them in Chinese. Each is
# recognised by its code and wording, and its parameters are carried over.
CORE_MESSAGES_ZH: dict[str, tuple[tuple[re.Pattern[str], str], ...]] = {
    "bad_parameter": (
        (re.compile(r"(?P<name>from|to) must be a date like 2023-05-11, not (?P<value>.+)"),
         "{name}应为 2023-05-11 这样的日期，而不是{value}"),
        (re.compile(r"from \((?P<start>.*)\) is after to \((?P<end>.*)\)"), "起始日期（{start}）晚于截止日期（{end}）"),
        (re.compile(r"unknown language (?P<value>.+); use one of: (?P<choices>.+)"), "未知的语言{value}；可选：{choices}"),
        (re.compile(r"page must be 1 or more, not (?P<number>-?\d+)"), "页码应为 1 或更大，而不是 {number}"),
        (re.compile(r"page must be at most (?P<last>\d+), the last page, not (?P<number>\d+)"),
         "页码最大为 {last}（最后一页），而不是 {number}"),
        (re.compile(r"(?P<name>page|per_page) must be a whole number, not (?P<value>.+)"), "{name}应为整数，而不是{value}"),
        (re.compile(r"per_page must be between 1 and (?P<limit>\d+), not (?P<number>-?\d+)"),
         "每页条数应在 1 到 {limit} 之间，而不是 {number}"),
        (re.compile(r"sort must be one of (?P<choices>.+), not (?P<value>.+)"), "排序方式应为 {choices} 之一，而不是{value}"),
        (re.compile(r"the query is (?P<n>\d+) characters long; the limit is (?P<limit>\d+)"),
         "查询有 {n} 个字符，上限是 {limit} 个"),
    ),
    "query_too_long": (
        (re.compile(r"the query has (?P<n>\d+) different words; the limit is (?P<limit>\d+)"),
         "查询有 {n} 个不同的词，上限是 {limit} 个"),
    ),
    "query_timeout": (
        (re.compile(r"the search took longer than (?P<seconds>[\d.]+) s; .*"), "搜索超过了 {seconds} 秒；请减少词语或换用更具体的词语"),
    ),
    "not_found": ((re.compile(r"no article with id (?P<value>.+)"), "没有 ID 为{value}的文章"),),
    "index_not_found": (
        (re.compile(r"no index at (?P<path>.+); build one with: (?P<command>.+)"), "{path} 还没有索引；请用这条命令建立：{command}"),
    ),
    "index_busy": (
        (re.compile(r"another qiao process is writing to (?P<path>.+); waited (?P<seconds>[\d.]+) s"),
         "另一个 qiao 进程正在写入 {path}，已等待 {seconds} 秒；请稍后再试"),
    ),
    "index_mismatch": (
        (re.compile(r"the index at (?P<path>.+) was built with analyzer version (?P<built>\S+); "
                    r"this Qiao uses (?P<current>\S+)\. Run: (?P<command>.+)"),
         "{path} 的索引是用分析器版本 {built} 建立的，当前 Qiao 使用版本 {current}；请运行：{command}"),
    ),
}
PARAMETERS_ZH = {"from": "起始日期", "to": "截止日期", "page": "页码", "per_page": "每页条数"}
# A message the table does not know (the core said something new): what to do, by status.
FALLBACK_ZH = {400: "请检查搜索条件后重试。", 404: "请检查链接是否正确。"}
FALLBACK_ZH_OTHER = "请稍后再试。"


def current_language() -> str:
    """The language of this request's page."""
    if "hl" not in g:
        g.hl = _choose()
    return g.hl


def _choose() -> str:
    """?hl=, else the cookie a switch left, else the first of Accept-Language we speak."""
    for value in (request.args.get("hl"), request.cookies.get(COOKIE)):
        if value in LANGUAGES:
            return value
    for tag, _quality in request.accept_languages:  # best first
        primary = tag.split("-")[0].lower()
        if primary in LANGUAGES:
            return primary
    return DEFAULT


def translate(key: str, **values: object) -> str:
    """The string ``key`` in this request's language, with ``values`` filled in."""
    return STRINGS[current_language()][key].format(**values)


def error_message(error: QiaoError) -> str:
    """A domain error's message in this request's language (the core's own words are English)."""
    if current_language() != "zh":
        return error.message
    for pattern, template in CORE_MESSAGES_ZH.get(error.code, ()):
        if match := pattern.fullmatch(error.message):
            return template.format(**{name: _zh_parameter(name, value) for name, value in match.groupdict().items()})
    return FALLBACK_ZH.get(error.status, FALLBACK_ZH_OTHER)


def _zh_parameter(name: str, value: str) -> str:
    """A parameter of a core message, for a Chinese one: 'x' -> “x”, a, b -> a、b, from -> 起始日期."""
    if name == "name":
        return PARAMETERS_ZH[value]
    if name == "choices":
        return "、".join(value.split(", "))
    if name == "value":
        try:
            return f"“{ast.literal_eval(value)}”"  # the core shows values as Python literals
        except (ValueError, SyntaxError):
            return f"“{value}”"
    return value


def lang_name(code: str) -> str:
    """An article language's name (zh-Hans -> Simplified Chinese), or the code when unknown."""
    return STRINGS[current_language()].get(f"lang_{code}", code)


def remember_switch(response: Response) -> Response:
    """Keep a language chosen with ?hl= for later pages."""
    chosen = request.args.get("hl")
    if chosen in LANGUAGES and request.cookies.get(COOKIE) != chosen:
        response.set_cookie(COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


def init_app(app: Flask) -> None:
    """Offer ``_()`` and the language to templates; remember a switch."""
    app.after_request(remember_switch)
    app.context_processor(lambda: {
        "_": translate, "lang_name": lang_name, "hl": current_language(),
        "html_lang": HTML_LANG[current_language()],
    })
