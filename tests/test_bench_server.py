"""The benchmark's demo server child (bench/server.py) reports its own CPU time beside its
request counts, so a benchmark can tell the simulator's cost from the client's."""

from __future__ import annotations

import httpx

from bench.server import ServerConfig, ServerProcess


def test_stats_count_requests_and_the_server_cpu_they_cost():
    config = ServerConfig(size="tiny", latency_ms=0, jitter_ms=0, limits=False, max_seconds=120)
    with ServerProcess(config) as srv, httpx.Client(
            base_url=srv.url, headers={"Authorization": f"Bearer {srv.key}"}) as http:
        before = srv.stats()
        for _ in range(20):
            assert http.post("/api/v2/leads/list", json={"limit": 100}).status_code == 200
        after = srv.stats()
    assert after["requests"] - before["requests"] == 20
    assert after["by_endpoint"]["leads.list"] == 20
    assert 0 < before["cpu_s"] < after["cpu_s"]
