"""Identity services: registry similarity, foreign nationals (FIDA), guild licenses, military
service and Sana (no HTTP). Each ``parse_*`` validates the parameters and returns the
``work(conn)`` closure that answers from the world (see ``cards``)."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy.engine import Connection, Row

from pishkhan import iran
from pishkhan.core.ids import new_request_id
from pishkhan.providers.jibit import sql, wire
from pishkhan.providers.jibit.billing import Body, Work
from pishkhan.providers.jibit.errors import JibitError


def person_with_birth_date(conn: Connection, nc: str, birth: str) -> Row[Any]:
    """The registry's person with this national code and birth date
    (``identity_info.not_found`` otherwise)."""
    person = sql.person(conn, nc)
    if person is None or person.birth_date != birth:
        raise JibitError("identity_info.not_found")
    return person


def _known_person(conn: Connection, nc: str) -> Row[Any]:
    person = sql.person(conn, nc)
    if person is None:
        raise JibitError("nationalCode.not_valid")
    return person


def parse_similarity(params: wire.Params) -> Work:
    nc = wire.national_code(wire.get(params, "nationalCode"))
    birth = wire.birth_date(wire.get(params, "birthDate"))
    given = {k: wire.name(wire.get(params, k)) for k, _ in wire.SIMILARITY_FIELDS}
    if not any(given.values()):
        raise JibitError("query_parameters.not_provided")

    def work(conn: Connection) -> Body:
        person = person_with_birth_date(conn, nc, birth)
        actual = {
            "firstName": person.first_name,
            "lastName": person.last_name,
            "fullName": f"{person.first_name} {person.last_name}",
            "fatherName": person.father_name,
        }
        return {
            out: iran.similarity(value, actual[key])
            for key, out in wire.SIMILARITY_FIELDS
            if (value := given[key]) is not None
        }

    return work


def parse_foreigner(params: wire.Params) -> Work:
    fida = wire.fida(wire.get(params, "fida"))

    def work(conn: Connection) -> Body:
        row = sql.foreigner(conn, fida)
        if row is None:
            # The document has no "not found" code for FIDA: the registry calls it not valid.
            raise JibitError("fida.not_valid")
        if row.blacklisted:
            raise JibitError("fida.black_listed")
        return {
            "fida": fida,
            "foreignerIdentityInfo": {
                "fida": row.fida,
                "firstName": row.first_name,
                "lastName": row.last_name,
                "fatherName": row.father_name,
                "birthDate": row.birth_date,
                "ancestorName": row.ancestor_name,
                "gender": row.gender,
                "birthPlaceCountry": row.birth_place_country,
                "birthPlaceCity": row.birth_place_city,
                "nationality": row.nationality,
                "identificationDocuments": [
                    {
                        "type": d.get("type"),
                        "code": d.get("code"),
                        "issueDate": d.get("issueDate"),
                        "expirationDate": d.get("expirationDate"),
                    }
                    for d in (row.documents or [])
                ],
            },
        }

    return work


def parse_guild(params: wire.Params) -> Work:
    code = wire.corporation_code(wire.get(params, "code"))

    def work(conn: Connection) -> Body:
        row = sql.guild(conn, code)
        if row is None:
            raise JibitError("corporation_identity_info.not_found")
        info = wire.guild_info(row._mapping, new_request_id())
        return {"code": code, "corporationIdentityInfo": info}

    return work


FEMALE_DESCRIPTION: Final = "بانوان مشمول خدمت نظام وظیفه نیستند"
NO_RECORD_DESCRIPTION: Final = "سابقه\u200cای در سامانه نظام وظیفه یافت نشد"


def parse_military(params: wire.Params) -> Work:
    nc = wire.national_code(wire.get(params, "nationalCode"))

    def work(conn: Connection) -> Body:
        person = _known_person(conn, nc)
        if person.gender == "FEMALE":
            qualified, description = True, FEMALE_DESCRIPTION
        else:
            row = sql.military(conn, nc)
            if row is None:
                qualified, description = False, NO_RECORD_DESCRIPTION
            else:
                qualified, description = bool(row.qualified), row.description
        return {
            "nationalCode": nc,
            "militaryServiceQualificationInfo": {
                "nationalCode": nc,
                "qualified": qualified,
                "description": description,
                "providerTrackerId": new_request_id(),
            },
        }

    return work


#: Sana's error when SIM ownership and national code do not match (the document's note says
#: the service fails and names no code; docs/jibit.md says why this one).
SANA_MISMATCH_CODE: Final = "mobileNumber.not_valid"


def parse_sana(params: wire.Params, *, mismatch_error: bool = True) -> Work:
    """Sana. When the SIM is not the person's (or is unknown), the document's note says the
    service fails: :data:`SANA_MISMATCH_CODE`; with ``mismatch_error=False`` (the sandbox
    switch ``sana_mismatch: matched_false``) 200 ``matched: false, registered: false``."""
    nc = wire.national_code(wire.get(params, "nationalCode"))
    mobile = wire.mobile(wire.get(params, "mobileNumber"))

    def work(conn: Connection) -> Body:
        person = _known_person(conn, nc)
        if person.blacklisted:
            raise JibitError("nationalCode.black_listed")
        sim = sql.sim(conn, mobile)
        if sim is not None and sim.blacklisted:
            raise JibitError("mobileNumber.black_listed")
        matched = sim is not None and sim.national_code == nc
        if not matched and mismatch_error:
            raise JibitError(SANA_MISMATCH_CODE)
        registered = False
        if matched:
            row = sql.sana(conn, nc)
            registered = bool(row is not None and row.registered)
        return {
            "nationalCode": nc,
            "mobileNumber": mobile,
            "registered": registered,
            "matched": matched,
        }

    return work
