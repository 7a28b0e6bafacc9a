"""Fallback load generator (pure Python, asyncio, raw sockets), used only when wrk is missing.

It is much slower than wrk (one Python process tops out at a few thousand to ~15k requests a
second), so results measured with it say ``python-fallback`` and are not comparable with wrk
numbers. It speaks HTTP/1.1 with keep-alive over ``connections`` sockets to 127.0.0.1 only,
stops at ``duration`` seconds or ``max_requests`` responses, whichever comes first, and
prints the same JSON record as the wrk Lua script's ``done()``.

Usage: ``python -m bench.pyloadgen < spec.json`` where the spec is
``{"port", "requests": [Request.to_wire()...], "connections", "duration", "max_requests",
"timeout"}``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import time
from collections import Counter
from typing import Any

HOST = "127.0.0.1"


def build_raw(req: dict[str, Any], port: int) -> bytes:
    body = base64.b64decode(req["body"]) if req.get("body") is not None else None
    headers = {str(k): str(v) for k, v in (req.get("headers") or {}).items()}
    lower = {k.lower() for k in headers}
    if "host" not in lower:
        headers["Host"] = f"{HOST}:{port}"
    if body is not None and "content-length" not in lower:
        headers["Content-Length"] = str(len(body))
    head = f"{req['method']} {req['path']} HTTP/1.1\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return head.encode("latin-1") + b"\r\n" + (body or b"")


class _Shared:
    """State of all connections: one cursor over the request list, shared bounds.

    Cycling (the default) wraps around the list; ``once`` stops at its end, so that no
    request is sent twice.
    """

    def __init__(self, max_requests: int, deadline: float, n: int, once: bool) -> None:
        self.max_requests = min(max_requests, n) if once else max_requests
        self.deadline = deadline
        self.n = n
        self.started = 0
        self.latencies_us: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.errors: Counter[str] = Counter()
        self.bytes = 0

    def over(self) -> bool:
        return self.started >= self.max_requests or time.monotonic() >= self.deadline

    def take(self) -> int | None:
        """The index of the next request to send, or None when the run is over."""
        if self.over():
            return None
        index = self.started % self.n
        self.started += 1
        return index


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, int]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length: int | None = None
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    size = len(head)
    if chunked:
        while True:
            size_line = await reader.readuntil(b"\r\n")
            n = int(size_line.split(b";")[0].strip(), 16)
            await reader.readexactly(n + 2)
            size += len(size_line) + n + 2
            if n == 0:
                break
    elif length:
        await reader.readexactly(length)
        size += length
    return status, size


async def _connection(shared: _Shared, port: int, raws: list[bytes], timeout: float) -> None:
    writer: asyncio.StreamWriter | None = None
    reader: asyncio.StreamReader | None = None
    try:
        while True:
            if writer is None:
                if shared.over():
                    break
                try:
                    reader, writer = await asyncio.wait_for(
                        asyncio.open_connection(HOST, port), timeout
                    )
                except (OSError, TimeoutError):
                    shared.errors["connect"] += 1
                    await asyncio.sleep(0.01)
                    continue
            assert reader is not None and writer is not None
            index = shared.take()  # taken once connected: a failed connect loses no request
            if index is None:
                break
            raw = raws[index]
            start = time.perf_counter()
            try:
                writer.write(raw)
                status, size = await asyncio.wait_for(_read_response(reader), timeout)
            except TimeoutError:
                shared.errors["timeout"] += 1
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                shared.errors["read"] += 1
            else:
                shared.latencies_us.append((time.perf_counter() - start) * 1e6)
                shared.statuses[status] += 1
                shared.bytes += size
                continue
            writer.close()
            writer = reader = None
    finally:
        if writer is not None:
            writer.close()


def _pct(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    rank = max(1, -(-len(values) * pct // 100))
    return values[int(min(rank, len(values))) - 1]


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    port = int(spec["port"])
    raws = [build_raw(r, port) for r in spec["requests"]]
    duration = float(spec["duration"])
    timeout = float(spec.get("timeout", 5.0))
    connections = int(spec["connections"])
    started = time.monotonic()
    once = bool(spec.get("once", False))
    shared = _Shared(int(spec["max_requests"]), started + duration, len(raws), once)
    tasks = [
        asyncio.create_task(_connection(shared, port, raws, timeout)) for _ in range(connections)
    ]
    await asyncio.wait(tasks, timeout=duration + timeout + 5)
    for task in tasks:
        task.cancel()
    elapsed = time.monotonic() - started
    lat = sorted(shared.latencies_us)
    mean = sum(lat) / len(lat) if lat else 0.0
    return {
        "requests": len(lat),
        "duration_us": round(elapsed * 1e6),
        "bytes": shared.bytes,
        "count_bounded": shared.started >= shared.max_requests and elapsed < duration,
        "latency_us": {
            "p50": _pct(lat, 50),
            "p90": _pct(lat, 90),
            "p99": _pct(lat, 99),
            "max": lat[-1] if lat else 0.0,
            "mean": mean,
        },
        "errors": {
            "connect": shared.errors["connect"],
            "read": shared.errors["read"],
            "write": shared.errors["write"],
            "timeout": shared.errors["timeout"],
            "status": sum(n for s, n in shared.statuses.items() if s > 399),
        },
        "statuses": {str(k): v for k, v in sorted(shared.statuses.items())},
    }


def main() -> None:
    spec = json.load(sys.stdin)
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(run(spec))
    else:
        result = uvloop.run(run(spec))
    sys.stdout.write("BENCH_JSON " + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
