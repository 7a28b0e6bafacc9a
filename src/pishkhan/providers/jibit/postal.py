"""Postal services: postal code to address, postal code to WGS-84 coordinates (no HTTP)."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from pishkhan.providers.jibit import sql, wire
from pishkhan.providers.jibit.billing import Body, Work
from pishkhan.providers.jibit.errors import JibitError


def parse_postal(params: wire.Params, wgs: bool) -> Work:
    code = wire.postal_code(wire.get(params, "code"))

    def work(conn: Connection) -> Body:
        row = sql.address(conn, code)
        if row is None:
            raise JibitError("postalCode.not_found")
        if wgs:
            return {
                "code": code,
                "wgsInfo": {
                    "postalCode": code,
                    "latitude": float(row.latitude),
                    "longitude": float(row.longitude),
                },
            }
        return {
            "code": code,
            "addressInfo": {
                "postalCode": code,
                "address": row.address,
                "Province": row.province,
                "district": row.district,
                "street": row.street,
                "no": row.number,
                "floor": row.floor,
                # Extra keys one public client reads (harmless to the others).
                "province": row.province,
                "city": row.city,
                "number": row.number,
            },
        }

    return work
