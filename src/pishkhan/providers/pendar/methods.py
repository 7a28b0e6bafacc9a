"""The methods of ``/api/{Method}``: each name with the rule that serves it.

A rule takes the request's fields (a dict with lower-cased keys, see :func:`.wire.field`) and
returns the success body, or raises :class:`~.errors.PendarError`; the method's answer shape
(its error answer and its schema) is :data:`.wire.ANSWERS`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from pishkhan.core.group_commit import GroupCommit
from pishkhan.runtime import Runtime

from . import authorities, issuance, registration, reports, revocation
from .wire import ANSWERS, Answer, Fields

#: The version of the Pendar document this surface implements (GetVersion).
VERSION: Final = "1.10"

Rule = Callable[[Runtime, Fields], Any]
#: A rule run on the event loop on SQLite, its transaction batched (``core.group_commit``).
Batched = Callable[[Runtime, GroupCommit, Fields], Awaitable[Any]]


@dataclass(frozen=True)
class Method:
    name: str
    rule: Rule
    http: str  # the document's HTTP method ("GET" or "POST"); both are accepted
    # on SQLite, once the CA hierarchy is loaded: run this instead of ``rule`` (see Batched)
    batched: Batched | None = None

    @property
    def answer(self) -> Answer:
        return ANSWERS[self.name]


def _version(_rt: Runtime, _data: Fields) -> Any:
    return VERSION


METHODS: Final[tuple[Method, ...]] = (
    Method("GetVersion", _version, "GET"),
    Method("GetCAList", authorities.get_ca_list, "GET"),
    Method("GetCAProfileInfo", authorities.get_ca_profile_info, "GET"),
    Method("IsAvailable", authorities.is_available, "GET"),
    Method("RegisterInfo", registration.register_info, "POST"),
    Method("GetTrackingCodeInfo", registration.get_tracking_code_info, "POST"),
    Method(
        "IssueCertificateByTrackingCode",
        issuance.issue_certificate,
        "POST",
        batched=issuance.issue_batched,
    ),
    Method("RevokeCertificate", revocation.revoke_certificate, "POST"),
    Method("IsApproved", registration.is_approved, "POST"),
    Method("RequestApprove", registration.request_approve, "POST"),
    Method("RecievedCertConfirmation", revocation.received_cert_confirmation, "POST"),
    Method("GetAllCert", reports.get_all_cert, "GET"),
    Method("GetAllMobileCert", reports.get_all_mobile_cert, "GET"),
    Method("GetUserCertHistory", reports.get_user_cert_history, "POST"),
    Method("IssuingReport", reports.issuing_report, "POST"),
    Method("GetCredit", reports.get_credit, "POST"),
)
#: The methods by lower-cased name (ASP.NET binds method names case-insensitively).
BY_LOWER: Final[dict[str, Method]] = {m.name.lower(): m for m in METHODS}
