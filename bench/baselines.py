"""Ready-made baselines other than bare Starlette (which is ``scenario.StarletteBaseline``).

- :func:`pgbench_tpcb`: PostgreSQL's own TPC-B-like benchmark on a fresh database, the
  yardstick for database-bound scenarios (Payman pay);
- :func:`callable_baseline`: any Python operation timed in-process on the server's CPUs
  (e.g. signing a certificate with ``cryptography`` alone, for Pendar issuance).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Sequence

from bench.scenario import BaselineContext, CallableBaseline, CommandBaseline, Measurement


def libpq_url(url: str) -> str:
    """``postgresql+psycopg://u@h/db`` -> ``postgresql://u@h/db`` (what libpq tools accept)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    return f"postgresql://{rest}" if scheme.startswith("postgres") else url


_TPS = re.compile(r"^tps = ([0-9.]+) \((?:without|excluding) initial connection", re.MULTILINE)
_TPS_ANY = re.compile(r"^tps = ([0-9.]+)", re.MULTILINE)
_LAT = re.compile(r"^latency average = ([0-9.]+) ms", re.MULTILINE)
_TX = re.compile(r"^number of transactions actually processed: (\d+)", re.MULTILINE)
_DURATION = re.compile(r"^duration: (\d+) s", re.MULTILINE)


def parse_pgbench(stdout: str) -> Measurement:
    """Read tps, transactions and average latency from pgbench's summary."""
    match = _TPS.search(stdout) or _TPS_ANY.search(stdout)
    if match is None:
        raise ValueError(f"no tps line in pgbench output:\n{stdout[-2000:]}")
    tx = _TX.search(stdout)
    lat = _LAT.search(stdout)
    dur = _DURATION.search(stdout)
    return Measurement(
        source="command",
        count=int(tx.group(1)) if tx else 0,
        duration_s=float(dur.group(1)) if dur else 0.0,
        unit="tps",
        mean_ms=float(lat.group(1)) if lat else None,
        rate_override=float(match.group(1)),
    )


def pgbench_tpcb(
    clients: int = 16, threads: int = 2, scale: int | None = None, label: str | None = None
) -> CommandBaseline:
    """pgbench's TPC-B-like script with ``clients`` clients on a fresh database.

    The scale factor defaults to ``clients`` (pgbench's advice: below that the clients queue on
    the few ``pgbench_branches`` rows). The measured command runs for the scenario's duration;
    initialisation (``pgbench -i``) is untimed. Needs ``pgbench`` on PATH and ``--postgres-url``.
    """
    scale = scale or clients

    def prepare(ctx: BaselineContext) -> Sequence[Sequence[str]]:
        assert ctx.database_url is not None
        return [[_pgbench(), "-i", "-q", "-s", str(scale), libpq_url(ctx.database_url)]]

    def command(ctx: BaselineContext) -> Sequence[str]:
        assert ctx.database_url is not None
        seconds = max(1, round(ctx.duration))
        return [
            _pgbench(), "-c", str(clients), "-j", str(threads), "-T", str(seconds),
            "-M", "prepared", "-n", libpq_url(ctx.database_url),
        ]  # fmt: skip

    return CommandBaseline(
        label=label or f"pgbench TPC-B, {clients} clients",
        command=command,
        parse=parse_pgbench,
        prepare=prepare,
        needs_database=True,
        pin="none",
    )


def _pgbench() -> str:
    path = shutil.which("pgbench")
    if path is None:
        raise FileNotFoundError("pgbench is not installed (apt-get install -y postgresql-client)")
    return path


def callable_baseline(
    label: str,
    setup: Callable[[BaselineContext], Callable[[], object]],
    *,
    max_ops: int = 1_000_000,
    unit: str = "ops/s",
) -> CallableBaseline:
    """Time ``setup(ctx)()`` repeatedly in the harness process, pinned to the server CPUs."""
    return CallableBaseline(label=label, setup=setup, max_ops=max_ops, unit=unit)
