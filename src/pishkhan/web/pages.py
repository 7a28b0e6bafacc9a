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
from collections.abc import Iterable
from functools import cache

from pishkhan.core.origins import origin as csp_origin

__all__ = ["csp_origin", "security_headers", "style_hash"]


@cache
def style_hash(css: str) -> str:
    """The CSP source that allows one inline ``<style>`` element whose text is ``css``."""
    digest = hashlib.sha256(css.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


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
