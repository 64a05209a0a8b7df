"""A small HTTP/1.1 keep-alive load generator on asyncio streams.

It is deliberately lighter than a full client (no parsing beyond the status line and
Content-Length), so that on a 2-core machine it takes as little CPU from the server as it can.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    def summary(self) -> str:
        return (
            f"{self.throughput:8.0f} req/s  p50 {self.percentile(50):6.2f} ms  p99 {self.percentile(99):6.2f} ms"
            f"  ({self.requests} requests, {self.errors} errors,"
            f" mean {statistics.fmean(self.latencies_ms or [0]):.2f} ms)"
        )


def build_request(method: str, host: str, port: int, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: keep-alive"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body or method == "POST":
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _connection(
    host: str, port: int, requests: list[bytes], deadline: float, result: LoadResult, check: bytes | None
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    index = 0
    try:
        while time.perf_counter() < deadline:
            payload = requests[index % len(requests)]
            index += 1
            started = time.perf_counter()
            writer.write(payload)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length)
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            if not head.startswith(b"HTTP/1.1 200") or (check is not None and check not in body):
                result.errors += 1
            result.requests += 1
    finally:
        writer.close()


async def run_load(
    host: str, port: int, requests: list[bytes], *, connections: int, seconds: float, check: bytes | None = None
) -> LoadResult:
    """Keep ``connections`` connections busy for ``seconds``, cycling through ``requests``."""
    result = LoadResult(0, 0, 0.0, [])
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(_connection(host, port, requests, deadline, result, check) for _ in range(connections)))
    result.seconds = time.perf_counter() - started
    return result
