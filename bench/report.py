"""Regenerate the results table in ``docs/benchmarks.md`` from ``bench/results/*.json``.

The newest result per (scenario, server, workers, connections) makes one row. Only the part
of the document between the markers below is rewritten; the rest of the file (other
sections, written by hand or by other tools) is left as it is. When the file or the markers
are missing they are created (the markers are appended at the end).

Usage: ``python bench/report.py [--results bench/results] [--doc docs/benchmarks.md] [--check]``
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "bench" / "results"
DOC_PATH = REPO_ROOT / "docs" / "benchmarks.md"
START = "<!-- bench:table:start -->"
END = "<!-- bench:table:end -->"
DOC_HEADER = "# Benchmarks\n"

Record = Mapping[str, Any]

INTRO = """\
Measured by `python bench/run.py SCENARIO --server S` (see `bench/README.md`): pishkhan and
its baseline run on the same machine in the same run, the server pinned to its own core(s)
and wrk to the others. *Ratio* is pishkhan's throughput over the baseline's (median of the
per-round ratios, cut to two decimals, not rounded); latencies are wrk's, per request, under
the stated connections. *CPU µs/req* is the server processes' CPU time per request, less
sensitive to a busy machine than throughput. *Disk KB/req* is what the kernel read from the
disk for pishkhan's server per request (its data paged out, see `bench/README.md`). *Noise* is
the share of the server's CPU taken by other processes during the measurement: above a few
percent, rerun on a quieter machine (`--settle`). The newest result per scenario, server,
workers and connections is shown."""


def load_results(results_dir: Path = RESULTS_DIR) -> list[dict[str, Any]]:
    records = []
    for path in sorted(results_dir.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            print(f"report: skipping {path.name}: {exc}", file=sys.stderr)
            continue
        if isinstance(data, dict) and "scenario" in data and "subject" in data:
            data["_file"] = path.name
            records.append(data)
    return records


def latest(records: Iterable[Record]) -> list[Record]:
    """Newest record per (scenario, server, workers, connections), sorted for display."""
    best: dict[tuple[str, str, int, int], Record] = {}
    for rec in records:
        key = (
            str(rec["scenario"]),
            str(rec["server"]),
            int(rec["workers"]),
            int(rec["connections"]),
        )
        if key not in best or (rec["timestamp"], rec.get("_file", "")) > (
            best[key]["timestamp"],
            best[key].get("_file", ""),
        ):
            best[key] = rec
    return [best[k] for k in sorted(best)]


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}" if value < 100 else f"{value:,.0f}"


VERDICTS = {"met": "✅ met", "not met": "❌ not met", "invalid": "⚠️ invalid", "none": "—"}


def _cpu(m: Mapping[str, Any]) -> str:
    value = m.get("server_cpu_us_per_req")
    return "—" if value is None else f"{value:,.0f}"


def _disk(m: Mapping[str, Any]) -> str:
    value = m.get("server_disk_read_kb_per_req")
    return "—" if value is None else f"{value:.2f}"


def _machine(environment: Mapping[str, Any]) -> str:
    """The machine line's entry for a record: model, AVX-512 IFMA when present (it triples
    OpenSSL's RSA speed, see ``harness.CPU_FEATURES``), and CPU count."""
    model = environment.get("cpu_model") or "unknown CPU"
    if "avx512ifma" in (environment.get("cpu_features") or ()):
        model += " with AVX-512 IFMA"
    return f"{model}, {environment.get('cpus', '?')} CPUs"


def _noise(*measurements: Mapping[str, Any]) -> str:
    shares = [m["other_cpu_share"] for m in measurements if m.get("other_cpu_share") is not None]
    return "—" if not shares else f"{max(shares):.0%}"


def _ratio(ratio: float | None) -> str:
    """Two decimals, cut rather than rounded: 0.597 against a target of 0.6 reads 0.59, not a
    0.60 beside "not met"."""
    if ratio is None:
        return "—"
    return str(Decimal(str(ratio)).quantize(Decimal("0.01"), rounding=ROUND_FLOOR))


def row(rec: Record) -> list[str]:
    subject = rec["subject"]
    baseline = rec.get("baseline") or {}
    bm = baseline.get("measurement") or {}
    ratio = rec.get("ratio")
    unit = subject.get("unit", "req/s")
    result = VERDICTS.get(str(rec.get("verdict")), str(rec.get("verdict")))
    loadgen = rec.get("load_generator", {}).get("source", "?")
    if loadgen != "wrk":
        result += f" ⚠️ {loadgen}"
    if rec.get("noisy"):
        result += " ⚠️ noisy"
    base_rate = "—"
    if bm:
        base_rate = _rate(bm.get("rate"))
        if bm.get("unit", "req/s") != "req/s":
            base_rate += f" {bm['unit']}"
    return [
        str(rec["scenario"]),
        str(rec["server"]),
        str(rec["workers"]),
        str(rec["connections"]),
        _rate(subject.get("rate")) + ("" if unit == "req/s" else f" {unit}"),
        _ms(subject.get("p50_ms")),
        _ms(subject.get("p99_ms")),
        _cpu(subject),
        _disk(subject),
        str(baseline.get("label", "—")),
        base_rate,
        _cpu(bm),
        _ratio(ratio),
        str(rec.get("target", {}).get("describe", "—")),
        result,
        _noise(subject, bm),
        str(rec["timestamp"]).replace("T", " ").rstrip("Z"),
    ]


HEADER = [
    "Scenario",
    "Server",
    "Workers",
    "Conns",
    "pishkhan req/s",
    "p50 ms",
    "p99 ms",
    "CPU µs/req",
    "Disk KB/req",
    "Baseline",
    "Baseline req/s",
    "Baseline CPU µs/req",
    "Ratio",
    "Target",
    "Result",
    "Noise",
    "Measured (UTC)",
]


def render_table(records: Sequence[Record]) -> str:
    lines = [
        "| " + " | ".join(HEADER) + " |",
        "|" + "|".join("---:" if h in _NUMERIC else "---" for h in HEADER) + "|",
    ]
    for rec in records:
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row(rec)) + " |")
    return "\n".join(lines)


_NUMERIC = {
    "Workers",
    "Conns",
    "pishkhan req/s",
    "p50 ms",
    "p99 ms",
    "CPU µs/req",
    "Disk KB/req",
    "Baseline req/s",
    "Baseline CPU µs/req",
    "Ratio",
    "Noise",
}


def render_section(records: Sequence[Record]) -> str:
    rows = latest(records)
    parts = [
        START,
        "<!-- generated by bench/report.py from bench/results/*.json; edit those, not this -->",
        "## Throughput and latency",
        "",
        INTRO,
        "",
    ]
    if rows:
        parts.append(render_table(rows))
        machines = sorted({_machine(r.get("environment") or {}) for r in rows})
        parts += ["", "Machine: " + "; ".join(machines) + "."]
        if any(r.get("load_generator", {}).get("source") != "wrk" for r in rows):
            parts += [
                "",
                "⚠️ rows measured with the pure-Python fallback load generator are bounded by "
                "the generator, not the server; rerun them with wrk.",
            ]
    else:
        parts.append("No results yet: run `python bench/run.py health`.")
    parts.append(END)
    return "\n".join(parts) + "\n"


def update_document(text: str, section: str) -> str:
    """Replace the marked section of ``text`` (append it when the markers are missing)."""
    start = text.find(START)
    end = text.find(END, start + len(START)) if start != -1 else -1
    if start != -1 and end != -1:
        after = text[end + len(END) :]
        if after.startswith("\n"):
            after = after[1:]
        return text[:start] + section + after
    if not text.strip():
        return DOC_HEADER + "\n" + section
    return text.rstrip("\n") + "\n\n" + section


def write_report(results_dir: Path = RESULTS_DIR, doc: Path = DOC_PATH) -> bool:
    """Rewrite ``doc``'s section; return True when the file changed."""
    section = render_section(load_results(results_dir))
    old = doc.read_text(encoding="utf-8") if doc.exists() else ""
    new = update_document(old, section)
    if new == old:
        return False
    doc.parent.mkdir(parents=True, exist_ok=True)
    tmp = doc.with_name(doc.name + ".tmp")
    tmp.write_text(new, encoding="utf-8")
    tmp.replace(doc)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate the benchmark table in the docs.")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR)
    parser.add_argument("--doc", type=Path, default=DOC_PATH)
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 when the document is out of date, write nothing",
    )
    args = parser.parse_args(argv)
    if args.check:
        section = render_section(load_results(args.results))
        old = args.doc.read_text(encoding="utf-8") if args.doc.exists() else ""
        if update_document(old, section) != old:
            print(f"{args.doc} is out of date: run python bench/report.py", file=sys.stderr)
            return 1
        return 0
    changed = write_report(args.results, args.doc)
    print(f"{args.doc}: {'updated' if changed else 'up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
