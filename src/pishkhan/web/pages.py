"""Server-rendered HTML pages (the Payman consent page, the demo callback page): one place for
their security headers.

A page carries its whole style sheet in one inline ``<style>`` element and nothing else: no
script, no external load. Its Content-Security-Policy allows exactly that style sheet (by its
SHA-256 hash), images from the page's own origin, forms posting to the page's own origin plus
the origins a caller names (the consent page names the one merchant origin its forms end at),
and no framing.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from functools import cache
from urllib.parse import urlsplit

# A scheme (RFC 3986) and a host of letters, digits, dots and hyphens (or a bracketed IPv6
# address): anything else (spaces, ``;``, ``,``, quotes, ``*``) could change the policy.
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\]")


@cache
def style_hash(css: str) -> str:
    """The CSP source that allows one inline ``<style>`` element whose text is ``css``."""
    digest = hashlib.sha256(css.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def csp_origin(url: str) -> str | None:
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


def security_headers(*, css: str, form_action: Iterable[str] = ()) -> dict[str, str]:
    """The headers every page sends; ``form_action``: origins allowed besides ``'self'``."""
    extra = "".join(f" {origin}" for origin in dict.fromkeys(form_action) if origin)
    policy = (
        f"default-src 'none'; style-src {style_hash(css)}; img-src 'self' data:; "
        f"frame-ancestors 'none'; base-uri 'none'; form-action 'self'{extra}"
    )
    return {
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": policy,
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }
