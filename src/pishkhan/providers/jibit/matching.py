"""Matching services (no HTTP): a card, deposit or IBAN against a national code and birth date
or against a name, and a national code against a mobile number (Shahkar). Which one answers is
decided by the parameters present (:func:`matching_service`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from sqlalchemy.engine import Connection

from pishkhan import iran
from pishkhan.providers.jibit import sql, wire
from pishkhan.providers.jibit.billing import Body, Work
from pishkhan.providers.jibit.cards import checked_card, owner_name
from pishkhan.providers.jibit.errors import JibitError
from pishkhan.providers.jibit.ibans import found_deposit
from pishkhan.providers.jibit.identity import person_with_birth_date

#: A name matches when its similarity to the registry's name is at least this (0..100).
NAME_MATCH_THRESHOLD: Final = 90

#: The holders of a card, deposit or IBAN: their national codes (None: unknown) and names.
Holders = tuple[frozenset[str] | None, tuple[str, ...]]
#: Reads the holders of the subject named by the request (raising its documented errors).
Subject = Callable[[Connection], Holders]


def matching_service(params: wire.Params) -> str:
    """Which of the seven matching services the present parameters select, in this order
    (``handler.not_found``: none)."""
    has = {k for k in wire.MATCHING_PARAMS if wire.get(params, k) is not None}
    for against, needs in (("NATIONAL_CODE", {"nationalCode", "birthDate"}), ("NAME", {"name"})):
        if needs <= has:
            for kind, field in (
                ("CARD", "cardNumber"),
                ("DEPOSIT", "depositNumber"),
                ("IBAN", "iban"),
            ):
                if field in has:
                    return f"MATCHING_{kind}_{against}"
    if "nationalCode" in has and "mobileNumber" in has:
        return "MATCHING_SHAHKAR"
    raise JibitError("handler.not_found")


def _deposit_holders(dep: sql.Deposit) -> Holders:
    return (
        frozenset(o.national_code for o in dep.owners),
        tuple(f"{o.first_name} {o.last_name}".strip() for o in dep.owners),
    )


def _card(params: wire.Params, month: str, _by_name: bool) -> Subject:
    number = wire.card_number(wire.get(params, "cardNumber"))

    def holders(conn: Connection) -> Holders:
        row = checked_card(conn, number, month)
        code = row.holder_national_code
        return (None if code is None else frozenset((code,))), (owner_name(row),)

    return holders


def _deposit(params: wire.Params, _month: str, by_name: bool) -> Subject:
    try:
        keys = wire.bank(wire.get(params, "bank"))
    except JibitError:
        if not by_name:
            raise
        # The document lists only deposit.not_valid for the name matching: an unknown bank
        # or deposit is that.
        raise JibitError("deposit.not_valid") from None
    number = wire.deposit_number(wire.get(params, "depositNumber"))

    def holders(conn: Connection) -> Holders:
        dep = sql.deposit_by_number(conn, keys, number)
        if by_name:
            if dep is None:
                raise JibitError("deposit.not_valid")
            return _deposit_holders(dep)
        return _deposit_holders(found_deposit(dep))

    return holders


def _iban(params: wire.Params, _month: str, _by_name: bool) -> Subject:
    value = wire.iban(wire.get(params, "iban"))

    def holders(conn: Connection) -> Holders:
        return _deposit_holders(found_deposit(sql.deposit_by_iban(conn, value)))

    return holders


_SUBJECTS: Final = {"CARD": _card, "DEPOSIT": _deposit, "IBAN": _iban}


def _name_matches(name: str, candidates: tuple[str, ...]) -> bool:
    return any(
        c and (iran.names_equal(name, c) or iran.similarity(name, c) >= NAME_MATCH_THRESHOLD)
        for c in candidates
    )


def parse_matching(params: wire.Params, service: str, month: str) -> Work:
    """The work of ``service`` (one of :func:`matching_service`'s answers); parameters are
    checked in the document's order: the subject's, then the national code and birth date
    (or the name, or the mobile number)."""
    if service == "MATCHING_SHAHKAR":
        nc = wire.national_code(wire.get(params, "nationalCode"))
        mobile = wire.mobile(wire.get(params, "mobileNumber"))

        def shahkar(conn: Connection) -> Body:
            sim = sql.sim(conn, mobile)
            return {"matched": sim is not None and sim.national_code == nc}

        return shahkar
    kind, _, against = service.removeprefix("MATCHING_").partition("_")
    by_name = against == "NAME"
    holders = _SUBJECTS[kind](params, month, by_name)
    if by_name:
        name = wire.name(wire.get(params, "name")) or ""

        def with_name(conn: Connection) -> Body:
            return {"matched": _name_matches(name, holders(conn)[1])}

        return with_name
    nc = wire.national_code(wire.get(params, "nationalCode"))
    birth = wire.birth_date(wire.get(params, "birthDate"))

    def with_national_code(conn: Connection) -> Body:
        codes = holders(conn)[0]
        person_with_birth_date(conn, nc, birth)
        if codes is None:
            raise JibitError("matching.unknown")
        return {"matched": nc in codes}

    return with_national_code
