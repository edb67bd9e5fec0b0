"""Qiao over HTTP: ``qiao serve`` on a free port, and client threads with keep-alive connections."""

from __future__ import annotations

import collections
import http.client
import os
import socket
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

from measure import (
    ROOT,
    PeakRss,
    children_of,
    cpu_seconds,
    latency_summary,
    qiao_executable,
    tree_cpu_seconds,
)

CLIENTS = 8


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str) -> int:
    """The status of one GET on a new connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def wait_ready(port: int, server: subprocess.Popen, timeout: float) -> float:
    """When the server first answers /healthz."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"qiao serve exited with {server.returncode}")
        try:
            if get(port, "/healthz") in (200, 503):
                return time.perf_counter()
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"qiao serve did not answer within {timeout:.0f} s")


def stop_server(server: subprocess.Popen) -> None:
    """Terminate the server, killing it after 10 s."""
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


@dataclass
class Load:
    """What the client threads saw, each its own list of latencies (ms) and count of errors."""

    clients: int
    latencies: list[list[float]] = field(init=False)
    errors: list[int] = field(init=False)
    statuses: collections.Counter = field(default_factory=collections.Counter)  # of the errors
    answers: collections.Counter = field(default_factory=collections.Counter)  # X-Qiao-Cache: hit, miss or off
    seconds: float = 0.0  # from the first client's start to the last one's end
    client_cpu_s: float = 0.0  # used meanwhile by this process (the clients)
    server_cpu_s: float = 0.0  # and by the server's processes

    def __post_init__(self) -> None:
        self.latencies = [[] for _ in range(self.clients)]
        self.errors = [0] * self.clients


def measure_http(index_dir: str, queries: list[dict], seconds: float, clients: int = CLIENTS,
                 cache: bool = True) -> dict:
    """``qiao serve`` with its defaults (or ``--cache 0``); 8 client threads with keep-alive connections for ``seconds``."""
    from web.server import serve as serve_command

    defaults = {param.name: param.default for param in serve_command.params}
    port = free_port()
    cmd = [qiao_executable(), "serve", "--index", index_dir, "--port", str(port), *([] if cache else ["--cache", "0"])]
    started = time.perf_counter()
    server = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ready = wait_ready(port, server, timeout=60)
        workers = len(children_of().get(server.pid, []))
        paths = [f"/api/search?{urllib.parse.urlencode(q['http'])}" for q in queries]
        for path in paths:  # warm-up: every query once
            get(port, path)
        sampler = PeakRss(server.pid)
        sampler.start()
        load = run_clients(port, paths, seconds, clients, server.pid)
        peak = sampler.stop()
    finally:
        stop_server(server)
    done = [v for vs in load.latencies for v in vs]
    return {**latency_summary(done), "requests": len(done), "errors": sum(load.errors), "seconds": load.seconds,
            "error_statuses": {str(k): v for k, v in load.statuses.items()},
            "requests_per_s": len(done) / load.seconds, "clients": clients,
            "server_workers": workers, "server_threads": defaults["threads"],
            "cache_size": defaults["cache"] if cache else 0, "cache_answers": dict(load.answers),
            "server_ready_s": ready - started, "server_peak_rss_mb": peak / 2**20,
            "server_cpu_s": load.server_cpu_s, "client_cpu_s": load.client_cpu_s,
            "queries": len(paths)}


def run_clients(port: int, paths: list[str], seconds: float, clients: int, server_pid: int) -> Load:
    """``clients`` threads asking ``paths`` in turn for ``seconds``: what they saw, and the CPU used."""
    load = Load(clients)
    deadline = time.perf_counter() + seconds
    t0 = time.perf_counter()
    client_cpu, server_cpu = cpu_seconds(os.getpid()), tree_cpu_seconds(server_pid)
    threads = [threading.Thread(target=_client, args=(port, paths, i, deadline, load)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    load.seconds = time.perf_counter() - t0
    load.client_cpu_s = cpu_seconds(os.getpid()) - client_cpu
    load.server_cpu_s = tree_cpu_seconds(server_pid) - server_cpu
    return load


def _client(port: int, paths: list[str], i: int, deadline: float, load: Load) -> None:
    """Client ``i``: one keep-alive connection (a new one after an error), from its own place in ``paths``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    k = i * len(paths) // load.clients
    while time.perf_counter() < deadline:
        t = time.perf_counter()
        try:
            conn.request("GET", paths[k % len(paths)])
            response = conn.getresponse()
            response.read()
            load.latencies[i].append((time.perf_counter() - t) * 1000)  # errors are timed too
            k += 1
            load.answers[response.getheader("X-Qiao-Cache", "off")] += 1
            if response.status != 200:
                load.errors[i] += 1
                load.statuses[response.status] += 1
        except (OSError, http.client.HTTPException):
            load.errors[i] += 1
            load.statuses["connection"] += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.close()
