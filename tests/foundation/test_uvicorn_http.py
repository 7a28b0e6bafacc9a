"""web/uvicorn_http.py: uvicorn's httptools protocol sending each response in one ``send()``.

Checked on a real uvicorn server on loopback, with a raw socket: the client's kernel counts
the data segments it received (``TCP_INFO``'s ``tcpi_data_segs_in``), one per response where
uvicorn's own protocol sends two."""

from __future__ import annotations

import asyncio
import socket
import struct
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as StockProtocol

from pishkhan.web.uvicorn_http import CoalescingTransport, HttpToolsProtocol

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="TCP_INFO layout of Linux")

# struct tcp_info (linux/tcp.h): tcpi_data_segs_in is the u32 at byte 152
_DATA_SEGS_IN = 152


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await receive()
    if scope["path"] == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for part in (b"one,", b"two,", b"three"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
            await asyncio.sleep(0.01)  # separate turns of the loop: separate segments
        await send({"type": "http.response.body", "body": b""})
        return
    body = b'{"ok":true}'
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _Server:
    def __init__(self, protocol: type) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        config = uvicorn.Config(
            _app, host="127.0.0.1", port=self.port, http=protocol, log_config=None, lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(params=[HttpToolsProtocol, StockProtocol], ids=["pishkhan", "uvicorn"])
def server(request: pytest.FixtureRequest) -> Iterator[_Server]:
    with _Server(request.param) as running:
        yield running


def _segments_in(sock: socket.socket) -> int:
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    if len(info) < _DATA_SEGS_IN + 4:
        pytest.skip("kernel without tcpi_data_segs_in")
    return int(struct.unpack_from("I", info, _DATA_SEGS_IN)[0])


def _read_response(sock: socket.socket, until: bytes) -> bytes:
    data = b""
    deadline = time.monotonic() + 5
    while not data.endswith(until):
        assert time.monotonic() < deadline, data
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    return data


def test_each_response_arrives_in_one_segment(server: _Server) -> None:
    protocol = server.server.config.http
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        for _ in range(3):  # keep-alive: three requests on one connection
            before = _segments_in(sock)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = _read_response(sock, b'{"ok":true}')
            assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
            assert b"content-length: 11\r\n" in answer
            time.sleep(0.05)  # a second segment, if any, has arrived by now
            segments = _segments_in(sock) - before
            assert segments == (1 if protocol is HttpToolsProtocol else 2)


def test_streamed_and_closing_responses_arrive_whole_and_in_order(server: _Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = _read_response(sock, b"0\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"4\r\none,\r\n4\r\ntwo,\r\n5\r\nthree\r\n0\r\n\r\n" in answer
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):  # the server closes after the whole answer
            data += chunk
        assert data.startswith(b"HTTP/1.1 200 OK\r\n") and data.endswith(b'{"ok":true}')


class _Recording:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = self.aborted = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_extra_info(self, name: str) -> str:
        return f"extra:{name}"


def test_coalescing_transport() -> None:
    """Writes of one loop turn leave as one, in order, at the end of the turn; close sends
    what was gathered first; abort drops it; everything else is the real transport's."""

    async def main() -> None:
        real = _Recording()
        transport = CoalescingTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(b"head ")
        transport.writelines([b"body", bytearray(b"!")])
        assert real.writes == []
        await asyncio.sleep(0)
        assert real.writes == [b"head body!"]
        transport.write(b"alone")
        await asyncio.sleep(0)
        assert real.writes[-1] == b"alone"
        transport.write(b"last")
        transport.close()
        assert real.writes[-1] == b"last" and real.closed
        assert transport.get_extra_info("peername") == "extra:peername"

        dropped = _Recording()
        other = CoalescingTransport(dropped, asyncio.get_running_loop())  # type: ignore[arg-type]
        other.write(b"never")
        other.abort()
        await asyncio.sleep(0)
        assert dropped.writes == [] and dropped.aborted

    asyncio.run(main())
