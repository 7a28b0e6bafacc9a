"""The origin (``scheme://host[:port]``) of a URL, when it is plain enough to name in a
Content-Security-Policy: the rule a registered Payman redirect URL must meet (checked when it is
registered, ``pishkhan.tenants``) and the consent page's ``form-action`` source is built from
(``pishkhan.web.pages``)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# A scheme (RFC 3986) and a host of letters, digits, dots and hyphens (or a bracketed IPv6
# address): anything else (spaces, ``;``, ``,``, quotes, ``*``) could change the policy.
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\]")


def origin(url: str) -> str | None:
    """``scheme://host[:port]`` of ``url`` as a CSP source expression, or None when the URL has
    no such origin or its parts are not plain enough to place in a policy unescaped."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    elif not host.isascii():
        try:  # an internationalized name (a .ایران merchant): its ASCII form, as browsers use
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    if not _SCHEME.fullmatch(scheme) or not _HOST.fullmatch(host):
        return None
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")
