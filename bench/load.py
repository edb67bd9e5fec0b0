"""Load test: concurrent searches against `qiao serve` while a writer adds articles through the API.

    python bench/load.py [--index DIR] [--corpus FILE.jsonl] [--clients 16] [--seconds 60] [--articles 1000]

Starts `qiao serve` on a free 127.0.0.1 port (over a copy of the index, so the original is not
changed; by default an index of seeds/), then runs the searchers and the writer together. It
prints the error count, throughput and p50/p95/p99 latency, and checks at the end that every
article the writer added is found by id and by search. Exit code 0 when there were no errors.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from http_measure import free_port, stop_server, wait_ready
from measure import ROOT, percentile, qiao_executable

QUERIES = [
    "香港", "经济", "医药费", "人民银行", "罗塞夫", "合作 发展", "疫情 防控", "中国 美国 贸易",
    '"一带一路"', "5G 手机", "銀行", "經濟 發展", "Hong Kong", "cooperation", "election",
    "football match", '"prime minister"', "oil prices", "China economy", "香港 OR 澳门",
    "Chongqing Hong Kong cooperation", "title:香港", "技术 -手机", "market", "政府",
]
FILTERS = [{}, {"lang": "zh"}, {"lang": "en"}, {"sort": "date"}, {"from": "2020-01-01", "to": "2023-12-31"}]
TOKEN = "load-test-token"


def request(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes, float]:
    """One HTTP request on a new connection: status, body and seconds taken."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"} if body else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        return response.status, data, time.perf_counter() - started
    finally:
        conn.close()


def load_articles(corpus: Path, n: int) -> list[dict[str, object]]:
    """n articles from a JSONL corpus (its last lines, again from the end if it has fewer), with new ids."""
    lines = corpus.read_text(encoding="utf-8").splitlines()[::-1]
    return [{**json.loads(lines[i % len(lines)]), "id": f"load-{i}"} for i in range(n)]


def parse_args() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help="index to copy and serve (default: build seeds/)")
    parser.add_argument("--corpus", type=Path, default=ROOT / "seeds" / "zh-news.jsonl")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=20, help="articles a POST")
    return parser.parse_args()


def main() -> int:
    """Serve a copy of the index, load it, check it; 0 when there were no errors."""
    args = parse_args()
    qiao = qiao_executable()
    work = Path(tempfile.mkdtemp(prefix="qiao-load-"))
    index_dir = work / "index"
    if args.index:
        shutil.copytree(args.index, index_dir, symlinks=True)
    else:
        subprocess.run([qiao, "index", "build", str(ROOT / "seeds"), "--index", str(index_dir)],
                       check=True, stdout=subprocess.DEVNULL)
    articles = load_articles(args.corpus, args.articles)
    port = free_port()
    with open(work / "server.log", "w") as server_log:  # the server writes to its own copy of the file
        server = subprocess.Popen(
            [qiao, "serve", "--index", str(index_dir), "--port", str(port)],  # its defaults
            env={**os.environ, "QIAO_API_TOKEN": TOKEN}, stdout=subprocess.DEVNULL, stderr=server_log,
        )
    try:
        try:
            wait_ready(port, server, timeout=60)
        except SystemExit as e:
            print(f"the server did not start: {e}", file=sys.stderr)
            return 2
        return run(port, args, articles)
    finally:
        stop_server(server)
        log = (work / "server.log").read_text(errors="replace")
        if "Traceback" in log:
            print("server log:\n" + log[-3000:], file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)


@dataclass
class Tally:
    """What the searchers and the writer saw; ``lock`` guards it (and the shared query cycle)."""

    latencies: list[float] = field(default_factory=list)  # seconds of each search
    write_latencies: list[float] = field(default_factory=list)  # seconds of each POST
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def searcher(port: int, stop: float, combos: itertools.cycle, tally: Tally) -> None:
    """Search (query × filters in turn) until ``stop``."""
    while time.monotonic() < stop:
        with tally.lock:
            q, extra = next(combos)
        path = "/api/search?" + urllib.parse.urlencode({"q": q, **extra})
        try:
            status, _, seconds = request(port, "GET", path)
        except OSError as e:
            status, seconds = 0, 0.0
            with tally.lock:
                tally.errors.append(f"search {q!r}: {e}")
        with tally.lock:
            tally.latencies.append(seconds)
            if status != 200:
                tally.errors.append(f"search {q!r}: HTTP {status}")


def writer(port: int, articles: list[dict[str, object]], args: argparse.Namespace, tally: Tally) -> None:
    """POST the articles in batches, spread over 80 % of the run."""
    batches = [articles[i : i + args.batch] for i in range(0, len(articles), args.batch)]
    pause = args.seconds * 0.8 / max(1, len(batches))
    for batch in batches:
        status, body, seconds = request(port, "POST", "/api/articles", json.dumps(batch).encode())
        tally.write_latencies.append(seconds)
        if status != 200:
            tally.errors.append(f"POST: HTTP {status} {body[:200]!r}")
        else:
            bad = [r for r in json.loads(body)["results"] if r["status"] not in ("added", "updated")]
            tally.errors.extend(f"POST {r['id']}: {r['status']} {r['reason']}" for r in bad)
        time.sleep(pause)


def run(port: int, args: argparse.Namespace, articles: list[dict[str, object]]) -> int:
    """Searchers and the writer together, then the check that every added article is there."""
    tally = Tally()
    stop = time.monotonic() + args.seconds
    combos = itertools.cycle(itertools.product(QUERIES, FILTERS))
    threads = [threading.Thread(target=searcher, args=(port, stop, combos, tally)) for _ in range(args.clients)]
    threads.append(threading.Thread(target=writer, args=(port, articles, args, tally)))
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    missing = [a["id"] for a in articles if request(port, "GET", f"/api/articles/{a['id']}")[0] != 200]
    found_last = True
    if articles:
        title = str(articles[-1]["title"])
        status, body, _ = request(port, "GET", "/api/search?" + urllib.parse.urlencode({"q": f'"{title}"'}))
        found_last = status == 200 and "load-" in body.decode()
    report(args, tally, elapsed, len(articles), missing, found_last)
    return 0 if not tally.errors and not missing and found_last else 1


def report(args: argparse.Namespace, tally: Tally, elapsed: float, added: int, missing: list[str],
           found_last: bool) -> None:
    """Errors, throughput, latency and whether the added articles are found."""
    ms = [s * 1000 for s in tally.latencies]
    print(f"{args.clients} clients, {elapsed:.0f} s, {len(ms)} searches "
          f"({len(ms) / elapsed:.1f}/s), errors {len(tally.errors)}")
    print(f"search latency ms: p50 {percentile(ms, 50):.1f}  p95 {percentile(ms, 95):.1f}  "
          f"p99 {percentile(ms, 99):.1f}  max {max(ms):.1f}")
    if tally.write_latencies:
        print(f"writer: {added} articles in {len(tally.write_latencies)} POSTs, "
              f"median POST {statistics.median(tally.write_latencies) * 1000:.0f} ms")
    print(f"added articles found by id: {added - len(missing)}/{added}; "
          f"last one found by searching its title: {'yes' if found_last else 'no'}")
    for e in tally.errors[:10]:
        print("error:", e)


if __name__ == "__main__":
    sys.exit(main())
