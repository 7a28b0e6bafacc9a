"""The baseline: a bare Starlette JSON route, served the way ``pishkhan serve`` serves pishkhan.

``GET /json?name=x`` answers ``{"hello": "x"}`` (400 when ``name`` is missing), the route
the measurements that chose the stack used; ``POST /json`` with ``{"name": "x"}`` answers the same
(for scenarios whose requests carry a JSON body). ``GET /health`` answers 200 for readiness.

Serve it with ``python -m bench.baseline_app --port P --workers N --server uvicorn|granian``
from the repository root. The server options mirror ``pishkhan.commands.server.serve`` so
that the ratio compares the application, not the server configuration; keep them in step.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

APP_IMPORT = "bench.baseline_app:app"


async def json_get(request: Request) -> Response:
    name = request.query_params.get("name")
    if not name:
        return JSONResponse({"error": "name is required"}, status_code=400)
    return JSONResponse({"hello": name})


async def json_post(request: Request) -> Response:
    try:
        payload = await request.json()
    except (ValueError, UnicodeDecodeError):
        return JSONResponse({"error": "invalid JSON"}, status_code=400)
    name = payload.get("name") if isinstance(payload, dict) else None
    if not isinstance(name, str) or not name:
        return JSONResponse({"error": "name is required"}, status_code=400)
    return JSONResponse({"hello": name})


async def health(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        Route("/json", json_get, methods=["GET"]),
        Route("/json", json_post, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
    ]
)


def serve(host: str, port: int, workers: int, server: str) -> None:
    """Start ``server`` the way ``pishkhan serve`` does (see pishkhan/commands/server.py)."""
    print(
        json.dumps({"baseline": APP_IMPORT, "server": server, "workers": workers, "port": port}),
        flush=True,
    )
    if server == "granian":
        from granian import Granian
        from granian.constants import Interfaces

        Granian(
            APP_IMPORT,
            address=host,
            port=port,
            interface=Interfaces.ASGI,
            workers=workers,
            log_access=False,
        ).serve()
    else:
        import uvicorn

        uvicorn.run(
            APP_IMPORT,
            host=host,
            port=port,
            workers=workers,
            log_config=None,
            access_log=False,
            server_header=False,
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--server", choices=("uvicorn", "granian"), default="uvicorn")
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.workers, args.server)


if __name__ == "__main__":
    main()
