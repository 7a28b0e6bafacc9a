"""The committed OpenAPI documents (``specs/<surface>.openapi.json``) are the served ones.

One rule for the four surfaces: the served document, as JSON with two-space indents, non-ASCII
kept and a final newline (Jibit's with sorted keys, as it has always been committed), must be
the committed file byte for byte. ``PISHKHAN_WRITE_SPECS=1`` writes it first: after a change to
a surface's wire models or routes, regenerate the four with

    PISHKHAN_WRITE_SPECS=1 .venv/bin/python -m pytest -q -k committed tests/wire
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

SPECS = Path(__file__).resolve().parents[2] / "specs"
#: Surfaces whose committed document has sorted keys.
SORTED = frozenset({"jibit"})


def assert_committed(client: Any, surface: str) -> dict[str, Any]:
    """The served document of ``surface`` (asserted equal to the committed one)."""
    served = client.get(f"/_pishkhan/openapi/{surface}.json")
    assert served.status_code == 200
    doc: dict[str, Any] = served.json()
    text = json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=surface in SORTED) + "\n"
    spec = SPECS / f"{surface}.openapi.json"
    if os.environ.get("PISHKHAN_WRITE_SPECS"):
        spec.write_text(text, encoding="utf-8")
    assert spec.read_text(encoding="utf-8") == text, (
        f"specs/{surface}.openapi.json is stale: regenerate it with "
        "PISHKHAN_WRITE_SPECS=1 .venv/bin/python -m pytest -q -k committed tests/wire"
    )
    return doc
