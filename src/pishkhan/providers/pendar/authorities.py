"""The CAs and profiles a customer may use: GetCAList, GetCAProfileInfo, IsAvailable, and the
grant check of registration and issuance (:func:`ca_and_profile`)."""

from __future__ import annotations

from typing import Any

from pishkhan.runtime import Runtime

from . import ca as ca_mod
from . import caches, sql
from . import errors as E
from . import profiles as P
from .accounts import account
from .caches import Account
from .errors import PendarError
from .wire import Fields, field


def ca_and_profile(
    runtime: Runtime, acct: Account, ca_name: str, profile_name: str
) -> tuple[ca_mod.LoadedCA, P.Profile]:
    definition = P.BY_NAME.get(ca_name)
    loaded = ca_mod.hierarchy(runtime).get(ca_name) if definition else None
    if definition is None or loaded is None:
        raise PendarError(E.CA_INVALID)
    if ca_name not in P.grants(acct.settings):
        raise PendarError(E.CA_NOT_GRANTED)
    profile = definition.profile(profile_name)
    if profile is None:
        raise PendarError(E.CA_OR_PROFILE_INVALID)
    if profile not in P.granted_profiles(acct.settings, definition):
        raise PendarError(E.CA_NOT_GRANTED)
    if not caches.caches(runtime).available(loaded.id):
        raise PendarError(E.CA_DOWN)
    return loaded, profile


def get_ca_list(runtime: Runtime, data: Fields) -> dict[str, Any]:
    h = ca_mod.hierarchy(runtime)
    with runtime.db.read() as conn:
        acct = account(conn, field(data, "customercode"), bare=True, status=401)
    names = [name for name in P.grants(acct.settings) if name in P.BY_NAME and h.get(name)]
    return {"IsSuccess": True, "CAList": names, "ErrorCode": 0, "ErrorMessage": ""}


def get_ca_profile_info(runtime: Runtime, data: Fields) -> dict[str, Any]:
    ca_mod.hierarchy(runtime)
    with runtime.db.read() as conn:
        acct = account(conn, field(data, "customercode"), bare=True, status=401)
    definition = P.BY_NAME.get(field(data, "caname"))
    if definition is None:
        raise PendarError(E.CA_INVALID)
    if definition.name not in P.grants(acct.settings):
        raise PendarError(E.CA_NOT_GRANTED)
    profiles = [p.wire() for p in P.granted_profiles(acct.settings, definition)]
    return {"IsSuccess": True, "Profile": profiles, "ErrorCode": 0, "ErrorMessage": ""}


def is_available(runtime: Runtime, data: Fields) -> dict[str, Any]:
    h = ca_mod.hierarchy(runtime)
    loaded = h.get(field(data, "caname")) if field(data, "caname") in P.BY_NAME else None
    if loaded is None:
        raise PendarError(E.CA_INVALID)
    with runtime.db.read() as conn:
        available = sql.ca_available(conn, loaded.id)
    return {
        "IsAvailable": available,
        "Description": "" if available else E.MESSAGES[E.CA_DOWN],
        "ErrorCode": 0,
        "ErrorMessage": "",
    }
