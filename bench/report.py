"""The report: the targets met or not, the summary printed at the end of a run, and docs/benchmark.md
(one function per section)."""

from __future__ import annotations

import math

from engines import SHORT
from http_measure import CLIENTS

HTTP_LABELS = {"http": "cache on", "http_nocache": "cache off: every request searched"}
ENGINES_TEXT = (
    "Engines: **Qiao** (`search.index.build` on the JSONL file; `search.query.search.search`, top 10 with "
    "highlights and facets); **baseline**, the obvious build (Whoosh + `jieba.analyse.ChineseAnalyzer` "
    "on title and body, default writer, `MultifieldParser`, a searcher per query, "
    "`hit.highlights(\"body\")`); **tantivy** and **FTS5** (unicode61) fed Python jieba's "
    "`cut_for_search` words joined by spaces, queried with `jieba.cut` words, top 10 with snippets "
    "and facet counts (lang, source, category, year)."
)
SUMMARY_TEXT = (
    "Build rates count everything from opening the JSONL file to the committed index (reading, "
    "segmenting, writing); peak RSS is the sum over the build's processes (Qiao writes with 2 "
    "processes), sampled every 50 ms. Cold start is a fresh process answering one query: "
    "`qiao search QUERY --json` for Qiao; open, segment, search and highlight for the others."
)


# --- targets ----------------------------------------------------------------------------------------


def targets_of(results: dict, datasets: dict, zh_large: str) -> list[dict]:
    """The issue's targets, each met or not, with the ratio against the baseline."""
    build = results["build"]
    q = results["query"]
    out = []

    def add(name: str, value: float, goal: float, higher: bool, unit: str) -> None:
        met = value >= goal if higher else value <= goal
        out.append({"target": name, "value": value, "goal": goal, "unit": unit, "met": met,
                    "by": value / goal if goal else float("nan"), "higher_is_better": higher})

    if "baseline" in build and "qiao" in build:
        for name in datasets:
            ratio = build["qiao"][name]["articles_per_s"] / build["baseline"][name]["articles_per_s"]
            add(f"index build {name}: articles/s vs baseline", ratio, 3.5, True, "x")
    if "baseline" in q and "qiao" in q:
        for p in ("p50_ms", "p95_ms"):
            add(f"query {p[:3]}: Qiao / baseline", q["qiao"][p] / q["baseline"][p], 0.2, False, "x")
    for key, label in HTTP_LABELS.items():
        if http := results.get(key):
            add(f"HTTP requests/s, {CLIENTS} clients, {zh_large}, {label}", http["requests_per_s"], 150, True, "req/s")
            add(f"HTTP p95, {CLIENTS} clients, {zh_large}, {label}", http["p95_ms"], 50, False, "ms")
    if cold := results.get("cold_start", {}).get("qiao"):
        for case, c in cold.items():
            add(f"cold start, {case} query ({c['query']})", c["median_s"], 1.5, False, "s")
    if "qiao" in build:
        for name in datasets:
            add(f"index size {name} / input text", build["qiao"][name]["size_ratio"], 4.0, False, "x")
    return out


def peer_gaps(results: dict) -> list[str]:
    """One line for each metric where a peer beats Qiao, saying by how much."""
    out = []
    for peer in ("tantivy", "fts5"):
        if peer not in results["build"] or "qiao" not in results["build"]:
            continue
        out += _build_gaps(results, peer) + _query_gaps(results, peer) + _cold_gaps(results, peer)
    return out


def _build_gaps(results: dict, peer: str) -> list[str]:
    build, out = results["build"], []
    for name in results["datasets"]:
        mine, theirs = build["qiao"][name]["articles_per_s"], build[peer][name]["articles_per_s"]
        if theirs > mine:
            out.append(f"build {name}: {SHORT[peer]} {theirs:,.0f} articles/s, Qiao {mine:,.0f} "
                       f"({theirs / mine:.2f}× faster)")
        mine, theirs = build["qiao"][name]["index_bytes"], build[peer][name]["index_bytes"]
        if theirs < mine:
            out.append(f"index size {name}: {SHORT[peer]} {theirs / 1e6:,.1f} MB, Qiao {mine / 1e6:,.1f} MB "
                       f"({mine / theirs:.2f}× larger)")
    return out


def _query_gaps(results: dict, peer: str) -> list[str]:
    q, out = results["query"], []
    if peer not in q or "qiao" not in q:
        return out
    for p in ("p50_ms", "p95_ms", "p99_ms"):
        mine, theirs = q["qiao"][p], q[peer][p]
        if theirs < mine:
            out.append(f"query {p[:3]}: {SHORT[peer]} {theirs:.1f} ms, Qiao {mine:.1f} ms "
                       f"({mine / theirs:.1f}× slower)")
    return out


def _cold_gaps(results: dict, peer: str) -> list[str]:
    cold, out = results.get("cold_start", {}), []
    if peer not in cold or "qiao" not in cold:
        return out
    for case in cold["qiao"]:
        mine, theirs = cold["qiao"][case]["median_s"], cold[peer][case]["median_s"]
        if theirs < mine:
            out.append(f"cold start ({case}): {SHORT[peer]} {theirs:.2f} s, Qiao {mine:.2f} s "
                       f"({mine / theirs:.2f}× slower)")
    return out


# --- tables -----------------------------------------------------------------------------------------


def _f(value: float | None, digits: int = 0) -> str:
    """A number with thousands separators; a dash for none (or NaN)."""
    return "—" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def text_table(header: list[str], rows: list[list[str]]) -> str:
    """A table for the terminal: the first column left-aligned, the others right-aligned."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    fmt = lambda r: "  ".join(str(x).rjust(w) if i else str(x).ljust(w) for i, (x, w) in enumerate(zip(r, widths)))
    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *map(fmt, rows)])


def http_label(key: str, run: dict) -> str:
    """How an HTTP run is named in the tables; runs before the result cache had none."""
    return HTTP_LABELS[key] if "cache_size" in run else "no result cache"


def main_table(results: dict) -> tuple[list[str], list[list[str]]]:
    """Engine × metric: the table printed and put first in the Markdown."""
    datasets = list(results["datasets"])
    zh_large = datasets[1]
    header = ["engine", *(f"build {d} art/s" for d in datasets), f"MB/s {zh_large}",
              "query p50 ms", "p95 ms", "p99 ms", "cold start s (zh/en)",
              f"peak build RSS MB {zh_large}", f"index/text {zh_large}"]
    rows = [_engine_row(results, engine, datasets, zh_large) for engine in results["engines"]]
    for key in HTTP_LABELS:
        if http := results.get(key):
            rows.append([f"Qiao over HTTP, {http['clients']} clients, {http_label(key, http)}",
                         *(["—"] * len(datasets)), "—",
                         _f(http["p50_ms"], 1), _f(http["p95_ms"], 1), _f(http["p99_ms"], 1),
                         f"{http['requests_per_s']:.0f} req/s", _f(http["server_peak_rss_mb"]) + " (server)", "—"])
    return header, rows


def _engine_row(results: dict, engine: str, datasets: list[str], zh_large: str) -> list[str]:
    """One engine's line of the main table."""
    b = results["build"].get(engine, {})
    q = results["query"].get(engine, {})
    cold = results.get("cold_start", {}).get(engine, {})
    return [
        SHORT[engine],
        *(_f(b[d]["articles_per_s"]) if d in b else "—" for d in datasets),
        _f(b[zh_large]["mb_per_s"], 2) if zh_large in b else "—",
        _f(q.get("p50_ms"), 1), _f(q.get("p95_ms"), 1), _f(q.get("p99_ms"), 1),
        "/".join(_f(cold[c]["median_s"], 2) for c in ("zh", "en") if c in cold) or "—",
        _f(b[zh_large]["peak_rss_mb"]) if zh_large in b else "—",
        _f(b[zh_large]["size_ratio"], 2) + "x" if zh_large in b else "—",
    ]


def print_summary(results: dict) -> None:
    """The main table, the targets and the gaps to the peers, on the terminal."""
    print()
    print(text_table(*main_table(results)))
    print()
    for t in results["targets"]:
        print(f"  {'MET    ' if t['met'] else 'NOT MET'} {t['target']}: {t['value']:.2f} {t['unit']} "
              f"(goal {'>=' if t['higher_is_better'] else '<='} {t['goal']:g})")
    for g in peer_gaps(results):
        print(f"  slower: {g}")
    print(f"\ntotal {results['total_seconds'] / 60:.1f} min")


# --- docs/benchmark.md ------------------------------------------------------------------------------


def render_markdown(results: dict) -> str:
    """docs/benchmark.md: tables, machine, command, targets, gaps to the peers, profiles."""
    sections = (_header, _summary, _builds, _queries, _http, _targets, _gaps, _build_profile, _query_profile,
                _notes)
    lines = [line for section in sections for line in section(results)]
    return "\n".join(lines).rstrip() + "\n"


def _header(results: dict) -> list[str]:
    m = results["machine"]
    return [
        "# Benchmark: Qiao, the obvious build, tantivy and SQLite FTS5", "",
        f"Run on {results['date']} with:", "",
        f"    {results['command']}", "",
        f"Qiao at commit {m.get('qiao_commit', 'unknown')}. "
        f"Machine: {m['cpus']} CPUs ({m['cpu']}), {m['memory_gb']} GB RAM, Python {m['python']}, {m['os']}; "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items())
        + f". Load average at start {', '.join(f'{x:.1f}' for x in m['loadavg_start'])}, at end "
        + ", ".join(f"{x:.1f}" for x in results["loadavg_end"])
        + " (the machine is shared: expect ±15 % between runs).", "",
        ENGINES_TEXT, "",
    ]


def _summary(results: dict) -> list[str]:
    return ["## Summary", "", _md_table(*main_table(results)), "", SUMMARY_TEXT, ""]


def _builds(results: dict) -> list[str]:
    datasets = results["datasets"]
    rows = []
    for engine in results["engines"]:
        for name in datasets:
            b = results["build"].get(engine, {}).get(name)
            if b is None:
                continue
            rows.append([SHORT[engine], name, _f(b["articles"]), _f(b["seconds"], 1), _f(b.get("cpu_s"), 1),
                         _f(b["articles_per_s"]),
                         _f(b["mb_per_s"], 2), _f(b["peak_rss_mb"]), _f(b["index_bytes"] / 1e6, 1),
                         _f(b["size_ratio"], 2) + "x"])
    return ["## Index build", "",
            _md_table(["engine", "dataset", "articles", "seconds", "CPU s", "articles/s", "MB text/s",
                       "peak RSS MB", "index MB", "index/text"], rows), "",
            "Datasets (the first lines of each corpus): " + "; ".join(
                f"{n}: {d['records']:,} records, {d['text_bytes'] / 1e6:.1f} MB of title + body"
                for n, d in datasets.items()) + ".", ""]


def _queries(results: dict) -> list[str]:
    q = results["query"]
    rows = []
    for engine in results["engines"]:
        if engine not in q:
            continue
        r = q[engine]
        by = r["by_corpus"]
        rows.append([SHORT[engine], _f(r["p50_ms"], 1), _f(r["p95_ms"], 1), _f(r["p99_ms"], 1), _f(r["mean_ms"], 1),
                     *(f"{_f(by[c]['p50_ms'], 1)} / {_f(by[c]['p95_ms'], 1)}" for c in ("zh", "en") if c in by),
                     _f(r["peak_rss_mb"])])
    corpora = results["query_targets"]
    return ["## Queries", "",
            _md_table(["engine", "p50 ms", "p95 ms", "p99 ms", "mean ms",
                       *(f"{c} queries on {d}: p50 / p95" for c, d in corpora.items()), "peak RSS MB"], rows), "",
            (f"{results['queries']['count']} queries from `bench/queries.tsv` "
            f"({', '.join(f'{n} {c}' for c, n in results['queries']['by_corpus'].items())}): words, "
            "multi-word, quoted phrases, OR, exclusion, title:, and filters (category, lang, date range). "
            f"Each engine answers each query once to warm up, then {results['config']['rounds']} more times; "
            "the percentiles are over those answers. The baseline has no filter fields, so it gets the "
            "query text alone."), ""]


def _http(results: dict) -> list[str]:
    runs = {key: results[key] for key in HTTP_LABELS if key in results}
    if not runs:
        return []
    return ["## Qiao over HTTP", "", _http_text(results, runs), "",
            _md_table(["run", "requests", "errors", "requests/s", "p50 ms", "p95 ms", "p99 ms",
                       "answers hit / miss / off", "server peak RSS MB", "server ready s"],
                      [[http_label(k, r), _f(r["requests"]), _f(r["errors"]), _f(r["requests_per_s"], 1),
                        _f(r["p50_ms"], 1), _f(r["p95_ms"], 1), _f(r["p99_ms"], 1),
                        " / ".join(_f(r.get("cache_answers", {}).get(a, 0)) for a in ("hit", "miss", "off")),
                        _f(r["server_peak_rss_mb"]), _f(r["server_ready_s"], 2)] for k, r in runs.items()]), ""]


def _http_text(results: dict, runs: dict[str, dict]) -> str:
    """The paragraph that says how the HTTP runs were made."""
    http = next(iter(runs.values()))
    server = (f"gunicorn: {http['server_workers']} worker processes × {http['server_threads']} threads"
              if "server_workers" in http else f"waitress: one process, {http['server_threads']} threads")
    both = (f", once with its result cache (the default, {http['cache_size']:,} results per worker) and once "
            "with `--cache 0`, so that every request is searched" if len(runs) > 1 else "")
    return (f"`qiao serve` ({server}) on the {list(results['datasets'])[1]} index{both}; {http['clients']} client "
            f"threads with keep-alive connections, each cycling through the {http['queries']} zh queries for "
            f"{http['seconds']:.0f} s, after every query was asked once. The clients run on the same 2 cores: "
            + "; ".join(f"{'with' if r.get('cache_size') else 'without'} the cache they used "
                        f"{r['client_cpu_s']:.1f} CPU s and the server {r['server_cpu_s']:.1f}"
                        for r in runs.values())
            + f", of the {results['machine']['cpus'] * http['seconds']:.0f} the machine had.")


def _targets(results: dict) -> list[str]:
    rows = []
    for t in results["targets"]:
        goal = f"{'≥' if t['higher_is_better'] else '≤'} {t['goal']:g}{'' if t['unit'] == 'x' else ' '}{t['unit']}"
        value = f"{t['value']:.2f}{'' if t['unit'] == 'x' else ' '}{t['unit']}"
        rows.append([t["target"], goal, value, _verdict(t)])
    return ["## Targets (issue 5)", "", _md_table(["target", "goal", "measured", "verdict"], rows), ""]


def _verdict(t: dict) -> str:
    """met, or by how much it was not."""
    if t["met"]:
        return "met"
    if t["higher_is_better"]:
        return f"**not met**: {t['goal'] / t['value']:.2f}× short" if t["value"] else "**not met**"
    return f"**not met**: {t['value'] / t['goal']:.2f}× over"


def _gaps(results: dict) -> list[str]:
    gaps = peer_gaps(results)
    return ["## Where Qiao is slower than tantivy or FTS5", "", *[f"- {g}" for g in gaps], ""] if gaps else []


def _build_profile(results: dict) -> list[str]:
    b = results.get("profiles", {}).get("build")
    if not b:
        return []
    return ["## Profile: Qiao's build", "",
            (f"`{b['tool']}` of `search.index.build` on {b['dataset']} ({b['articles']:,} articles, "
             f"{b['seconds']:.1f} s under the profiler), {b['samples']:,} samples over all processes."), "",
            "Samples by process: " + ", ".join(f"{r['function']} {r['pct']:.0f} %" for r in b["by_process"])
            + ".", "",
            _md_table(["where the time goes (innermost recognised frame)", "% of samples"],
                      [[r["function"], f"{r['pct']:.1f}"] for r in b["by_category"]]), "",
            _md_table(["function (own time)", "%"], [[f"`{r['function']}`", f"{r['pct']:.1f}"] for r in b["by_own"]]),
            "",
            _md_table(["function (inclusive)", "%"],
                      [[f"`{r['function']}`", f"{r['pct']:.1f}"] for r in b["by_inclusive"]]), ""]


def _query_profile(results: dict) -> list[str]:
    qp = results.get("profiles", {}).get("query")
    if not qp:
        return []
    return ["## Profile: Qiao's query path", "",
            (f"cProfile of `search.query.search.search` over the zh queries on {qp['dataset']}, "
             f"{qp['queries']} searches in {qp['seconds']:.1f} s (cProfile slows Python code about 2×)."), "",
            _md_table(["function (own time)", "calls", "own s", "%"],
                      [[f"`{r['function']}`", _f(r["calls"]), _f(r["own_s"], 2), f"{r['own_pct']:.1f}"]
                       for r in qp["top"]["by_own"]]), "",
            _md_table(["function (cumulative)", "calls", "cum s", "%"],
                      [[f"`{r['function']}`", _f(r["calls"]), _f(r["cum_s"], 2), f"{r['cum_pct']:.1f}"]
                       for r in qp["top"]["by_cumulative"]]), ""]


def _notes(results: dict) -> list[str]:
    notes = results.get("notes")
    return ["## Notes", "", notes.strip(), ""] if notes else []
