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
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUERIES = [
    "香港", "经济", "医药费", "人民银行", "罗塞夫", "合作 发展", "疫情 防控", "中国 美国 贸易",
    '"一带一路"', "5G 手机", "銀行", "經濟 發展", "Hong Kong", "cooperation", "election",
    "football match", '"prime minister"', "oil prices", "China economy", "香港 OR 澳门",
    "Chongqing Hong Kong cooperation", "title:香港", "技术 -手机", "market", "政府",
]
FILTERS = [{}, {"lang": "zh"}, {"lang": "en"}, {"sort": "date"}, {"from": "2020-01-01", "to": "2023-12-31"}]
TOKEN = "load-test-token"


def free_port() -> int:
    """A port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0-100) of values, in milliseconds."""
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help="index to copy and serve (default: build seeds/)")
    parser.add_argument("--corpus", type=Path, default=ROOT / "seeds" / "zh-news.jsonl")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=20, help="articles a POST")
    args = parser.parse_args()

    qiao = [str(Path(sys.executable).parent / "qiao")]
    work = Path(tempfile.mkdtemp(prefix="qiao-load-"))
    index_dir = work / "index"
    if args.index:
        shutil.copytree(args.index, index_dir, symlinks=True)
    else:
        subprocess.run(qiao + ["index", "build", str(ROOT / "seeds"), "--index", str(index_dir)],
                       check=True, stdout=subprocess.DEVNULL)
    articles = load_articles(args.corpus, args.articles)
    port = free_port()
    server = subprocess.Popen(
        qiao + ["serve", "--index", str(index_dir), "--port", str(port)],  # its defaults
        env={**os.environ, "QIAO_API_TOKEN": TOKEN}, stdout=subprocess.DEVNULL,
        stderr=open(work / "server.log", "w"),
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if request(port, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                print("the server did not start", file=sys.stderr)
                return 2
            time.sleep(0.2)
        return run(port, args, articles)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log = (work / "server.log").read_text(errors="replace")
        if "Traceback" in log:
            print("server log:\n" + log[-3000:], file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)


def run(port: int, args: argparse.Namespace, articles: list[dict[str, object]]) -> int:
    """Searchers and the writer together, then the check that every added article is there."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + args.seconds
    combos = itertools.cycle(itertools.product(QUERIES, FILTERS))

    def searcher() -> None:
        while time.monotonic() < stop:
            with lock:
                q, extra = next(combos)
            path = "/api/search?" + urllib.parse.urlencode({"q": q, **extra})
            try:
                status, _, seconds = request(port, "GET", path)
            except OSError as e:
                status, seconds = 0, 0.0
                with lock:
                    errors.append(f"search {q!r}: {e}")
            with lock:
                latencies.append(seconds)
                if status != 200:
                    errors.append(f"search {q!r}: HTTP {status}")

    write_latencies: list[float] = []

    def writer() -> None:
        batches = [articles[i : i + args.batch] for i in range(0, len(articles), args.batch)]
        pause = args.seconds * 0.8 / max(1, len(batches))
        for batch in batches:
            status, body, seconds = request(port, "POST", "/api/articles", json.dumps(batch).encode())
            write_latencies.append(seconds)
            if status != 200:
                errors.append(f"POST: HTTP {status} {body[:200]!r}")
            else:
                bad = [r for r in json.loads(body)["results"] if r["status"] not in ("added", "updated")]
                errors.extend(f"POST {r['id']}: {r['status']} {r['reason']}" for r in bad)
            time.sleep(pause)

    threads = [threading.Thread(target=searcher) for _ in range(args.clients)]
    threads.append(threading.Thread(target=writer))
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

    print(f"{args.clients} clients, {elapsed:.0f} s, {len(latencies)} searches "
          f"({len(latencies) / elapsed:.1f}/s), errors {len(errors)}")
    print(f"search latency ms: p50 {percentile(latencies, 50):.1f}  p95 {percentile(latencies, 95):.1f}  "
          f"p99 {percentile(latencies, 99):.1f}  max {max(latencies) * 1000:.1f}")
    if write_latencies:
        print(f"writer: {len(articles)} articles in {len(write_latencies)} POSTs, "
              f"median POST {statistics.median(write_latencies) * 1000:.0f} ms")
    print(f"added articles found by id: {len(articles) - len(missing)}/{len(articles)}; "
          f"last one found by searching its title: {'yes' if found_last else 'no'}")
    for e in errors[:10]:
        print("error:", e)
    return 0 if not errors and not missing and found_last else 1


if __name__ == "__main__":
    sys.exit(main())
