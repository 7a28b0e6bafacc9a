"""PII masking and the JSON log format."""

from __future__ import annotations

import io
import json
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pishkhan.core.logging import (
    JsonFormatter,
    _mask,
    configure_logging,
    log_event,
    mask_pii,
    request_id_var,
)

IBAN = "IR062960000000100324200001"  # a real-shaped IR IBAN: IR + 24 digits


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("card 6037991234567890 end", "card 603799******7890 end"),
        ("card 6037-9912-3456-7890", "card 6037-99**-****-7890"),
        ("card 6037 9912 3456 7890", "card 6037-99**-****-7890"),
        (f"iban {IBAN}", "iban IR06******************0001"),
        ("iban ir062960000000100324200001", "iban IR06******************0001"),
        ("nc 0012345678.", "nc 001****678."),
        ("m 09121234567", "m 0912****567"),
        ("m +989121234567", "m +98912****567"),
        ("m 989121234567", "m 98912****567"),
        ("m 00989121234567", "m 0098912****567"),
    ],
)
def test_mask_pii(raw: str, masked: str) -> None:
    assert mask_pii(raw) == masked


def test_mask_pii_leaves_other_numbers_alone() -> None:
    text = "amount 1500000 at 2026-01-01T10:00:00 id 12345678901234567890 code 123456789"
    assert mask_pii(text) == text


def test_mask_pii_inside_json_line() -> None:
    line = json.dumps(
        {
            "path": "/ide/v1/cards?number=6037991234567890",
            "nc": "0012345678",
            "iban": IBAN,
            "mobile": "09121234567",
        }
    )
    out = mask_pii(line)
    for value in ("6037991234567890", "0012345678", IBAN, "09121234567"):
        assert value not in out
    parsed = json.loads(out)
    assert parsed["path"] == "/ide/v1/cards?number=603799******7890"
    assert parsed["iban"] == "IR06******************0001"


def _record(msg: str, **fields: object) -> logging.LogRecord:
    rec = logging.LogRecord("pishkhan.test", logging.INFO, __file__, 1, msg, None, None)
    rec.fields = fields
    return rec


def test_json_formatter_masks_and_keeps_request_id_intact() -> None:
    # A generated hex id can contain digit runs that look like a national code.
    rid = "ab0012345678cd" + "e" * 18
    token = request_id_var.set(rid)
    try:
        line = JsonFormatter().format(_record("card 6037991234567890", nc="0012345678"))
    finally:
        request_id_var.reset(token)
    entry = json.loads(line)
    assert entry["request_id"] == rid
    assert entry["msg"] == "card 603799******7890"
    assert entry["nc"] == "001****678"
    assert entry["level"] == "info" and entry["logger"] == "pishkhan.test"
    no_rid = json.loads(JsonFormatter().format(_record("x")))
    assert "request_id" not in no_rid


def test_configure_logging_writes_json_lines_to_stream() -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    try:
        configure_logging("INFO", stream=stream)
        log_event(logging.getLogger("pishkhan.t"), "hello", mobile="09121234567")
        logging.getLogger("pishkhan.t").debug("not shown")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["mobile"] == "0912****567"


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet="0123456789۰۱۲۳۴۵۶۷۸۹", min_size=1, max_size=26),
            st.sampled_from(["IR", "ir", "+98", "-", " ", ".", "x", '"', "/"]),
        ),
        max_size=12,
    ).map("".join)
)
def test_mask_pii_quick_check_changes_nothing(text: str) -> None:
    """The four-digit pre-check only skips text that the full masking leaves alone."""
    assert mask_pii(text) == _mask(text)


def test_persian_digit_national_code_is_masked() -> None:
    assert mask_pii("nc ۰۰۱۲۳۴۵۶۷۸") == "nc ۰۰۱****۶۷۸"


def test_log_line_time_first_and_fields_masked() -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream)
    token = request_id_var.set("req-1")
    try:
        log_event(logging.getLogger("pishkhan.test"), "lookup", card="6037991234567890", n=7)
    finally:
        request_id_var.reset(token)
    line = stream.getvalue().strip()
    assert line.startswith('{"ts":"')
    entry = json.loads(line)
    assert entry["request_id"] == "req-1"
    assert entry["card"] == "603799******7890"
    assert entry["n"] == 7 and entry["msg"] == "lookup" and entry["level"] == "info"
