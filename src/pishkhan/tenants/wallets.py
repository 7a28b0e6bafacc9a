"""Wallet kinds and which surface bills which wallets (in order)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WalletKind:
    name: str
    surface: str
    postpaid: bool
    description: str


WALLETS: dict[str, WalletKind] = {
    w.name: w
    for w in (
        WalletKind("jibit.PRF", "jibit", False, "Jibit prepaid wallet (PRF)"),
        WalletKind("jibit.POF", "jibit", True, "Jibit postpaid wallet (POF)"),
        WalletKind("paystar.open_banking", "paystar", False, "Paystar open-banking credit"),
        WalletKind("pendar.credit", "pendar", False, "Pendar Koushk credit"),
    )
}

# A surface debits its wallets in this order: prepaid first, then postpaid.
SURFACE_WALLETS: dict[str, tuple[str, ...]] = {
    "jibit": ("jibit.PRF", "jibit.POF"),
    "paystar": ("paystar.open_banking",),
    "pendar": ("pendar.credit",),
    "payman": (),
}

# What a new customer starts with unless the request says otherwise (rials).
DEFAULT_OPENING = {
    "jibit.PRF": (10_000_000_000, 0),
    "jibit.POF": (0, 5_000_000_000),
    "paystar.open_banking": (10_000_000_000, 0),
    "pendar.credit": (10_000_000_000, 0),
}
