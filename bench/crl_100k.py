"""Benchmark: a Pendar CA's CRL with 100,000 revoked entries, encoded and signed (RSA-2048).

Usage: ``.venv/bin/python bench/crl_100k.py [--entries 100000] [--runs 5]``.

The test CA ``"01"`` of a fresh SQLite data dir gets an RSA-2048 signing key (what
``PISHKHAN_PENDAR_CA_KEY=rsa-2048`` gives); ``crl.build`` then encodes and signs a CRL of N
entries (random 159-bit serials, a reason code on 4 of 5 entries) ``--runs`` times. Prints one
JSON object with each run's wall and CPU seconds, the DER size and the load average. The output
is checked (entry count, signature) before anything is reported. Target (issue "Pendar"): under
2 s for 100,000 entries.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import orjson
from cryptography import x509

from pishkhan.core.migrate import upgrade
from pishkhan.providers.pendar import ca as ca_mod
from pishkhan.providers.pendar import crl as crl_mod
from pishkhan.providers.pendar.signer import SoftwareSigner, generate_key
from pishkhan.runtime import Runtime
from pishkhan.settings import Settings

TARGET_SECONDS = 2.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    rng = random.Random(1)
    now = datetime.now(UTC).replace(microsecond=0)
    entries = [
        (rng.getrandbits(159) | 1, now, rng.choice((None, 1, 4, 5, 9))) for _ in range(args.entries)
    ]
    key = generate_key("rsa-2048")
    runs = []
    with tempfile.TemporaryDirectory(prefix="pishkhan-bench-crl-") as tmp:
        settings = replace(
            Settings(),
            data_dir=Path(tmp),
            database_url=f"sqlite:///{Path(tmp) / 'pishkhan.sqlite3'}",
            token_secret="bench-crl-0123456789abcdef",
            seed_world=False,
        )
        runtime = Runtime.open(settings, refresh_seconds=0.0)
        try:
            upgrade(runtime.db)
            test_ca = ca_mod.hierarchy(runtime).get("01")
            assert test_ca is not None
            rsa_ca = replace(test_ca, signer=SoftwareSigner(key, "bench"))
            for number in range(1, args.runs + 1):
                t0, c0 = time.perf_counter(), time.process_time()
                der = crl_mod.build(rsa_ca, number, now, entries)
                runs.append(
                    {
                        "seconds": round(time.perf_counter() - t0, 3),
                        "cpu_seconds": round(time.process_time() - c0, 3),
                    }
                )
                parsed = x509.load_der_x509_crl(der)
                if len(parsed) != args.entries or not parsed.is_signature_valid(key.public_key()):
                    print("bench: the CRL is wrong", file=sys.stderr)
                    return 2
        finally:
            runtime.close()
    worst = max(r["seconds"] for r in runs)
    result = {
        "entries": args.entries,
        "runs": runs,
        "der_bytes": len(der),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "target_seconds": TARGET_SECONDS,
        "met": worst < TARGET_SECONDS,
    }
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
    return 0 if result["met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
