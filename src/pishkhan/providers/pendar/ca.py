"""The certificate authority: the hierarchy (root + intermediates), and certificate issuance.

The hierarchy is created in the database the first time a process needs it (key pairs sealed
by the software signer, see :mod:`.signer`) and loaded once per process after that. Issued
certificates carry the CRL distribution point and AIA (OCSP, CA issuers) URLs of their CA under
``<effective_base_url>/pki/<ca>/``.
"""

from __future__ import annotations

import functools
import hashlib
import os
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from pishkhan.core.caches import PerDatabase
from pishkhan.runtime import Runtime

from . import der
from .profiles import BY_NAME, DN_ATTRIBUTES, INTERMEDIATES, ROOT, ROOT_DEF, CADef, Profile
from .signer import KeyEncryptor, Signer, SoftwareSigner, generate_key
from .tables import pendar_cas

DEFAULT_KEY_ALGORITHM = "rsa-2048"


def key_algorithm(runtime: Runtime) -> str:
    """``PISHKHAN_PENDAR_CA_KEY`` (or ``settings.extra["pendar_ca_key"]``): rsa-2048 by default."""
    return (
        runtime.settings.extra.get("pendar_ca_key")
        or os.environ.get("PISHKHAN_PENDAR_CA_KEY")
        or DEFAULT_KEY_ALGORITHM
    )


@dataclass
class LoadedCA:
    id: int
    name: str
    definition: CADef
    certificate: x509.Certificate
    der: bytes
    signer: Signer
    parent: LoadedCA | None
    base_url: str

    def __post_init__(self) -> None:
        pub = self.certificate.public_key()
        self.ski = x509.SubjectKeyIdentifier.from_public_key(pub)
        self.aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(self.ski)
        # The subjectPublicKey BIT STRING's content: PKCS#1 for RSA, the X9.62 point for EC.
        if isinstance(pub, rsa.RSAPublicKey):
            spki = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
        else:
            spki = pub.public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        subject = self.certificate.subject.public_bytes()
        # OCSP CertID hashes of this CA as issuer, per hash algorithm name.
        self.issuer_hashes = {
            name: (hashlib.new(name, subject).digest(), hashlib.new(name, spki).digest())
            for name in ("sha1", "sha256", "sha384", "sha512")
        }
        urls = self.urls()
        self.cdp = x509.CRLDistributionPoints(
            [
                x509.DistributionPoint(
                    [x509.UniformResourceIdentifier(urls["crl"])], None, None, None
                )
            ]
        )
        self.aia = x509.AuthorityInformationAccess(
            [
                x509.AccessDescription(
                    AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(urls["ocsp"])
                ),
                x509.AccessDescription(
                    AuthorityInformationAccessOID.CA_ISSUERS,
                    x509.UniformResourceIdentifier(urls["certificate"]),
                ),
            ]
        )
        self.issuer_display = dotnet_name(self.certificate.subject)
        # What every certificate this CA issues shares, encoded once (see :mod:`.der`).
        self.algorithm = der.algorithm_for(self.signer.public_key())
        self.subject_der = self.certificate.subject.public_bytes()
        self.not_after = self.certificate.not_valid_after_utc
        self.issued_tail = (
            der.extension(self.aki) + der.extension(self.cdp) + der.extension(self.aia)
        )

    def sign(self, tbs: bytes) -> bytes:
        """The signed structure (certificate, CRL, OCSP response) for ``tbs``."""
        return der.signed(tbs, self.algorithm, self.signer.sign(tbs))

    def urls(self) -> dict[str, str]:
        base = f"{self.base_url}/pki/{self.name}"
        return {"certificate": f"{base}/ca.crt", "crl": f"{base}/crl", "ocsp": f"{base}/ocsp"}

    def chain(self) -> list[x509.Certificate]:
        out: list[x509.Certificate] = []
        node: LoadedCA | None = self
        while node is not None:
            out.append(node.certificate)
            node = node.parent
        return out


def dotnet_name(name: x509.Name) -> str:
    """A distinguished name as .NET's ``X509Certificate2.Subject`` shows it (CN first)."""
    short = {v: k for k, v in DN_ATTRIBUTES.items()}
    short[NameOID.STATE_OR_PROVINCE_NAME] = "S"
    parts = []
    for attr in reversed(list(name)):
        key = short.get(attr.oid, attr.oid.dotted_string)
        parts.append(f"{key}={attr.value!s}")
    return ", ".join(parts)


class Hierarchy:
    """The CAs of this server, loaded once per process."""

    def __init__(self, cas: dict[str, LoadedCA]) -> None:
        self.cas = cas
        self.by_id = {ca.id: ca for ca in cas.values()}

    def get(self, name: str) -> LoadedCA | None:
        return self.cas.get(name)

    def by_issuer_hash(self, algorithm: str, name_hash: bytes, key_hash: bytes) -> LoadedCA | None:
        for ca in self.cas.values():
            if ca.issuer_hashes.get(algorithm) == (name_hash, key_hash):
                return ca
        return None

    def by_subject(self, name: x509.Name) -> LoadedCA | None:
        for ca in self.cas.values():
            if ca.certificate.subject == name:
                return ca
        return None


# One hierarchy per Database object (one per process in production; one per test).
_loaded: PerDatabase[Hierarchy] = PerDatabase()


def hierarchy(runtime: Runtime) -> Hierarchy:
    """The hierarchy for this runtime's database, created on first use."""
    return _loaded.get(runtime.db, _load_or_create, runtime)


def is_loaded(runtime: Runtime) -> bool:
    """Whether this process has loaded the hierarchy already (creating it generates keys)."""
    return _loaded.peek(runtime.db) is not None


def forget(runtime: Runtime) -> None:
    """Drop the cached hierarchy (after a sandbox reset wiped the tables)."""
    _loaded.forget(runtime.db)


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "IR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Pishkhan"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Pendar Koushk sandbox"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


_CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)
_LEAF_KEY_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=True,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)
_LEAF_HEAD = der.extension(x509.BasicConstraints(ca=False, path_length=None), True) + der.extension(
    _LEAF_KEY_USAGE, True
)


def _spki(public_key: Any) -> bytes:
    der_bytes: bytes = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return der_bytes


def _ca_certificate(
    definition: CADef,
    signer: Signer,
    parent: LoadedCA | None,
    now: datetime,
) -> x509.Certificate:
    """An intermediate's certificate signed by ``parent`` (the root's by itself)."""
    subject = _name(definition.common_name)
    public_key = signer.public_key()
    ski = x509.SubjectKeyIdentifier.from_public_key(public_key)
    extensions = [
        der.extension(
            x509.BasicConstraints(ca=True, path_length=None if parent is None else 0), True
        ),
        der.extension(_CA_KEY_USAGE, True),
        der.extension(ski),
    ]
    if parent is not None:
        extensions.append(parent.issued_tail)
    else:
        extensions.append(
            der.extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski))
        )
    issuer_signer = parent.signer if parent else signer
    algorithm = der.algorithm_for(issuer_signer.public_key())
    tbs = der.tbs_certificate(
        serial=x509.random_serial_number(),
        algorithm=algorithm,
        issuer=(parent.certificate.subject if parent else subject).public_bytes(),
        not_before=now - timedelta(minutes=5),
        not_after=now + timedelta(days=definition.validity_days),
        subject=subject.public_bytes(),
        spki=_spki(public_key),
        extensions=extensions,
    )
    signed = der.signed(tbs, algorithm, issuer_signer.sign(tbs))
    return x509.load_der_x509_certificate(signed)


def opens_sealed_keys(conn: Connection, token_secret: str) -> bool | None:
    """Whether ``token_secret`` opens the CA keys sealed in this database (None: there are none
    yet). :mod:`pishkhan.core.deployment` asks before it records the deployment's token secret
    on a database that has no record of it (one made by an older version)."""
    blob = conn.execute(select(pendar_cas.c.key_blob).limit(1)).scalar_one_or_none()
    if blob is None:
        return None
    try:
        KeyEncryptor(token_secret).open(bytes(blob))
    except (InvalidTag, ValueError):
        return False
    return True


def _load_or_create(runtime: Runtime) -> Hierarchy:
    encryptor = KeyEncryptor(runtime.settings.token_secret)
    base_url = runtime.settings.effective_base_url
    for _attempt in range(3):
        try:
            with runtime.db.write() as conn:
                return _ensure(conn, runtime, encryptor, base_url)
        except IntegrityError:
            continue  # another process created the same CA first: load what it wrote
    raise RuntimeError("could not create the Pendar CA hierarchy")


def _ensure(
    conn: Connection, runtime: Runtime, encryptor: KeyEncryptor, base_url: str
) -> Hierarchy:
    rows = {r["name"]: r for r in conn.execute(select(pendar_cas)).mappings()}
    algorithm = key_algorithm(runtime)
    now = runtime.clock.now_utc()
    loaded: dict[str, LoadedCA] = {}

    def load(row: Any, definition: CADef, parent: LoadedCA | None) -> LoadedCA:
        signer = SoftwareSigner.unseal(row["key_blob"], encryptor, row["key_ref"])
        cert_der = bytes(row["certificate_der"])
        return LoadedCA(
            int(row["id"]),
            row["name"],
            definition,
            x509.load_der_x509_certificate(cert_der),
            cert_der,
            signer,
            parent,
            base_url,
        )

    def create(definition: CADef, parent: LoadedCA | None) -> LoadedCA:
        key = generate_key(algorithm)
        signer = SoftwareSigner(key, f"software:{definition.name}")
        cert = _ca_certificate(definition, signer, parent, now)
        cert_der = cert.public_bytes(serialization.Encoding.DER)
        signer.key_ref = f"software:{definition.name}:{cert.serial_number:x}"
        ca_id = conn.execute(
            insert(pendar_cas)
            .values(
                name=definition.name,
                parent_id=parent.id if parent else None,
                title=definition.title,
                subject_dn=cert.subject.rfc4514_string(),
                certificate_der=cert_der,
                key_algorithm=algorithm,
                signer="software",
                key_ref=signer.key_ref,
                key_blob=signer.seal(encryptor),
                available=True,
                crl_number=0,
                created_at=now,
            )
            .returning(pendar_cas.c.id)
        ).scalar_one()
        runtime.audit.append(
            conn,
            actor="system",
            action="pendar.ca.create",
            subject=f"pendar.ca:{definition.name}",
            data={"subject": cert.subject.rfc4514_string(), "key_algorithm": algorithm},
        )
        return LoadedCA(
            int(ca_id), definition.name, definition, cert, cert_der, signer, parent, base_url
        )

    root_row = rows.get(ROOT)
    root = load(root_row, ROOT_DEF, None) if root_row else create(ROOT_DEF, None)
    loaded[ROOT] = root
    for definition in INTERMEDIATES:
        row = rows.get(definition.name)
        loaded[definition.name] = load(row, definition, root) if row else create(definition, root)
    return Hierarchy(loaded)


# -- issuance -----------------------------------------------------------------------------------


def build_subject(profile: Profile, person: dict[str, str]) -> x509.Name:
    """The subject from the registered identity and the profile's template (never the CSR)."""
    attrs: list[x509.NameAttribute[str]] = []
    for part in profile.subject_dn_config.split(","):
        key, _, template = part.partition("=")
        value = template.format_map(_Blank(person)).replace(",", " ").strip()
        value = " ".join(value.split())
        if not value or value == "[Sign]":
            continue
        oid = DN_ATTRIBUTES[key.strip().upper()]
        attrs.append(x509.NameAttribute(oid, value[:64]))
    attrs.reverse()
    return x509.Name(attrs)


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


@dataclass(frozen=True)
class Subject:
    """An issued certificate's subject: its Name DER, RFC 4514 string and first CN (what
    ``build_subject(...)``'s ``public_bytes()``, ``rfc4514_string()`` and CN attribute give)."""

    der: bytes
    dn: str
    cn: str


# Name attribute string types as cryptography encodes them by default (UTF8String otherwise).
_UTF8, _PRINTABLE, _IA5 = 0x0C, 0x13, 0x16
_STRING_TAGS = {
    NameOID.COUNTRY_NAME: _PRINTABLE,
    NameOID.JURISDICTION_COUNTRY_NAME: _PRINTABLE,
    NameOID.SERIAL_NUMBER: _PRINTABLE,
    NameOID.DN_QUALIFIER: _PRINTABLE,
    NameOID.EMAIL_ADDRESS: _IA5,
    NameOID.DOMAIN_COMPONENT: _IA5,
}
_PRINTABLE_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?"
)
# Attributes with a length cryptography checks (UTF-8 bytes): outside it, take its path.
_LENGTHS = {NameOID.COUNTRY_NAME: (2, 2), NameOID.JURISDICTION_COUNTRY_NAME: (2, 2)}
_LENGTHS[NameOID.COMMON_NAME] = (1, 64)

# One template part: (template, AttributeType DER, string tag, RFC 4514 name, is CN, the UTF-8
# length bounds cryptography checks or None, and for a template without fields its encoding)
_Encoded = tuple[bytes, str, str] | None  # (RDN DER, RFC 4514 attribute, value); None: skipped
_Part = tuple[str, bytes, int, str, bool, tuple[int, int] | None, tuple[_Encoded] | None]


@functools.lru_cache(maxsize=64)
def _subject_plan(config: str) -> tuple[_Part, ...]:
    parts: list[_Part] = []
    for part in config.split(","):
        key, _, template = part.partition("=")
        oid = DN_ATTRIBUTES[key.strip().upper()]
        oid_der = der.oid(oid.dotted_string)
        tag = _STRING_TAGS.get(oid, _UTF8)
        name = x509.NameAttribute(oid, "ab").rfc4514_attribute_name
        limits = _LENGTHS.get(oid)
        static: tuple[_Encoded] | None = None
        if all(field is None for _, field, _, _ in string.Formatter().parse(template)):
            encoded = _encode_attribute(template.format_map(_Blank()), oid_der, tag, name, limits)
            if encoded is not False:
                static = (encoded,)
        parts.append((template, oid_der, tag, name, oid == NameOID.COMMON_NAME, limits, static))
    return tuple(parts)


def _encode_attribute(
    value: str, oid_der: bytes, tag: int, name: str, limits: tuple[int, int] | None
) -> _Encoded | Literal[False]:
    """One attribute as :func:`build_subject` makes it (value cleaned, cut to 64 characters);
    None when the template leaves it empty, False when cryptography must decide."""
    value = " ".join(value.replace(",", " ").split())
    if not value or value == "[Sign]":
        return None
    value = value[:64]
    try:
        utf8 = value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: whatever cryptography makes of them
        return False
    if tag == _UTF8:
        raw = utf8
    elif _PRINTABLE_CHARS.issuperset(value) if tag == _PRINTABLE else value.isascii():
        raw = utf8  # ASCII
    else:  # characters its string type cannot hold: whatever cryptography makes of them
        return False
    if limits is not None and not limits[0] <= len(utf8) <= limits[1]:
        return False
    rdn = der.tlv(der.SET, der.seq(oid_der, der.tlv(tag, raw)))
    return rdn, f"{name}={_escape_dn_value(value)}", value


_DN_SPECIAL = frozenset('\\"+,;<>\0')


def _escape_dn_value(val: str) -> str:
    """RFC 4514 value escaping, as ``cryptography.x509.NameAttribute.rfc4514_string`` does."""
    if not val:
        return ""
    if _DN_SPECIAL.isdisjoint(val) and val[0] not in "# " and val[-1] != " ":
        return val
    val = val.replace("\\", "\\\\")
    val = val.replace('"', '\\"')
    val = val.replace("+", "\\+")
    val = val.replace(",", "\\,")
    val = val.replace(";", "\\;")
    val = val.replace("<", "\\<")
    val = val.replace(">", "\\>")
    val = val.replace("\0", "\\00")
    if val[0] == "#" or (val[0] == " " and len(val) > 1):
        val = "\\" + val
    if val[-1] == " ":
        val = val[:-1] + "\\ "
    return val


def subject_of(profile: Profile, person: dict[str, str]) -> Subject:
    """:func:`build_subject` encoded directly (no ``x509.Name``): the same DER, RFC 4514 string
    and CN. Values cryptography would check or encode otherwise (lengths, PrintableString and
    IA5String characters) take :func:`build_subject`'s path."""
    blank = _Blank(person)
    rdns: list[bytes] = []
    names: list[str] = []
    cn = ""
    for template, oid_der, tag, name, is_cn, limits, static in _subject_plan(
        profile.subject_dn_config
    ):
        if static is not None:
            encoded = static[0]
        else:
            found = _encode_attribute(template.format_map(blank), oid_der, tag, name, limits)
            if found is False:
                return _subject_from_name(build_subject(profile, person))
            encoded = found
        if encoded is None:
            continue
        rdns.append(encoded[0])
        names.append(encoded[1])
        if is_cn:
            cn = encoded[2]  # the Name's first CN is the template's last
    rdns.reverse()
    return Subject(der.seq(*rdns), ",".join(names), cn)


def _subject_from_name(name: x509.Name) -> Subject:
    cns = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return Subject(name.public_bytes(), name.rfc4514_string(), str(cns[0].value) if cns else "")


class Issued:
    """An issued certificate (``certificate`` is parsed from ``der`` when first asked for)."""

    __slots__ = (
        "_certificate",
        "cn",
        "der",
        "fingerprint",
        "not_after",
        "not_before",
        "serial_hex",
    )

    def __init__(
        self,
        der: bytes,
        serial_hex: str,
        fingerprint: str,
        cn: str,
        not_before: datetime,
        not_after: datetime,
    ) -> None:
        self.der = der
        self.serial_hex = serial_hex
        self.fingerprint = fingerprint
        self.cn = cn
        self.not_before = not_before
        self.not_after = not_after
        self._certificate: x509.Certificate | None = None

    @property
    def certificate(self) -> x509.Certificate:
        if self._certificate is None:
            self._certificate = x509.load_der_x509_certificate(self.der)
        return self._certificate


#: Extension DER of a SubjectKeyIdentifier before its 20-byte SHA-1 key identifier.
_SKI_PREFIX = bytes.fromhex("301d0603551d0e04160414")


def issue(
    ca: LoadedCA,
    profile: Profile,
    subject: Subject | x509.Name,
    public_key: Any,
    now: datetime,
) -> Issued:
    if isinstance(subject, x509.Name):
        subject = _subject_from_name(subject)
    not_before = now.astimezone(UTC).replace(microsecond=0)
    not_after = min(not_before + timedelta(days=profile.validity_days), ca.not_after)
    serial = x509.random_serial_number()
    spki = _spki(public_key)
    tbs = der.tbs_certificate(
        serial=serial,
        algorithm=ca.algorithm,
        issuer=ca.subject_der,
        not_before=not_before,
        not_after=not_after,
        subject=subject.der,
        spki=spki,
        extensions=(
            _leaf_head(profile),
            # RFC 5280 method 1, as SubjectKeyIdentifier.from_public_key computes it
            _SKI_PREFIX + hashlib.sha1(der.spki_key_bits(spki)).digest(),
            ca.issued_tail,
        ),
    )
    cert_der = ca.sign(tbs)
    return Issued(
        cert_der,
        serial_hex(serial),
        hashlib.sha256(cert_der).hexdigest(),
        subject.cn,
        not_before,
        not_after,
    )


@functools.lru_cache(maxsize=64)
def _leaf_head(profile: Profile) -> bytes:
    """BasicConstraints, KeyUsage and the profile's ExtendedKeyUsage, encoded once."""
    return _LEAF_HEAD + _eku(profile)


@functools.lru_cache(maxsize=64)
def _eku(profile: Profile) -> bytes:
    return der.extension(x509.ExtendedKeyUsage(list(profile.extended_key_usage)))


def serial_hex(serial: int) -> str:
    return f"{serial:X}"


def check_key_policy(profile: Profile, public_key: Any) -> str | None:
    """None when the profile accepts the key, else why not (Persian)."""
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size not in profile.rsa_sizes:
            allowed = "، ".join(str(s) for s in profile.rsa_sizes)
            return f"طول کلید RSA باید یکی از {allowed} بیت باشد"
        return None
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if public_key.curve.name not in profile.ec_curves:
            return "منحنی کلید EC در این پروفایل پذیرفته نیست"
        return None
    return "الگوریتم کلید در این پروفایل پذیرفته نیست"


def definition_of(name: str) -> CADef | None:
    return BY_NAME.get(name)
