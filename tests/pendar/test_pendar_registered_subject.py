"""The subject as registered: RegisterInfo stores the subject's DER and CN beside its DN
(migration 0008) and an issuance under the registration's profile signs exactly that subject,
its active-certificate check read with the registration. Rows registered before that revision
(NULL columns) and issuances under another profile of the CA build the subject from the stored
person, with the active-certificate check of their own."""

from __future__ import annotations

import base64
from typing import Any

from cryptography import x509
from sqlalchemy import select, update

from pendar.support import ALI, APPROVAL_PROFILE, TEST_PROFILE, Customer
from pishkhan.providers.pendar import ca as ca_mod
from pishkhan.providers.pendar import profiles as P
from pishkhan.providers.pendar.registration import subject_fields as _subject_fields
from pishkhan.providers.pendar.tables import pendar_registrations


def _stored(runtime: Any, tracking_code: str) -> tuple[Any, ...]:
    with runtime.db.read() as conn:
        row = conn.execute(
            select(
                pendar_registrations.c.subject_der,
                pendar_registrations.c.subject_dn,
                pendar_registrations.c.subject_cn,
                pendar_registrations.c.person,
            ).where(pendar_registrations.c.tracking_code == tracking_code)
        ).one()
    return tuple(row)


def _subject(answer: dict[str, Any]) -> x509.Name:
    assert answer["IsSuccess"] is True, answer
    return x509.load_der_x509_certificate(base64.b64decode(answer["Certificate"])).subject


def test_issuance_signs_the_subject_as_registered(customer: Customer, runtime: Any) -> None:
    tc = customer.register()
    der, dn, cn, person = _stored(runtime, tc)
    profile = P.BY_NAME["01"].profile(TEST_PROFILE)
    assert profile is not None
    built = ca_mod.subject_of(profile, _subject_fields(dict(person)))
    assert (bytes(der), dn, cn) == (built.der, built.dn, built.cn)
    answer = customer.issue(tc)
    subject = _subject(answer)
    assert subject.public_bytes() == bytes(der) and subject.rfc4514_string() == dn
    assert answer["CN"] == cn == f"{ALI['EnName']} {ALI['EnLastName']} [Sign]"
    again = customer.post("IssueCertificateByTrackingCode", customer.issue_body(tc)).json()
    assert again["ErrorCode"] == 1001  # the stored subject's check, read with the row


def test_a_registration_without_the_stored_subject_builds_it(
    customer: Customer, runtime: Any
) -> None:
    tc = customer.register()
    der, dn, _cn, _person = _stored(runtime, tc)
    with runtime.db.write() as conn:  # as registered before migration 0008
        conn.execute(
            update(pendar_registrations)
            .where(pendar_registrations.c.tracking_code == tc)
            .values(subject_der=None, subject_cn=None)
        )
    subject = _subject(customer.issue(tc))
    assert subject.public_bytes() == bytes(der) and subject.rfc4514_string() == dn
    again = customer.post("IssueCertificateByTrackingCode", customer.issue_body(tc)).json()
    assert again["ErrorCode"] == 1001


def test_issuance_under_another_profile_of_the_ca(customer: Customer, runtime: Any) -> None:
    tc = customer.register()
    der, dn, _cn, person = _stored(runtime, tc)
    other = P.BY_NAME["01"].profile(APPROVAL_PROFILE)
    assert other is not None
    answer = customer.post(
        "IssueCertificateByTrackingCode", customer.issue_body(tc, profile=APPROVAL_PROFILE)
    ).json()
    subject = _subject(answer)
    assert subject.public_bytes() == ca_mod.subject_of(other, _subject_fields(dict(person))).der
    # the test CA's two profiles share their subject template: the same subject, now active
    assert subject.public_bytes() == bytes(der) and subject.rfc4514_string() == dn
    again = customer.post("IssueCertificateByTrackingCode", customer.issue_body(tc)).json()
    assert again["ErrorCode"] == 1001
