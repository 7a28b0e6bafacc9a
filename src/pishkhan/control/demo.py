"""The demo customer's Payman redirect page: ``GET /_pishkhan/demo/payman-callback``.

On first run (``core.bootstrap``) the demo customer registers this address as its Payman
redirect URL, so the sample flow (create, the bank consent page, back to the merchant) ends
here, where a merchant's own page would stand. The page shows what the merchant received (each
query parameter as it came, with what ``status`` and ``code`` mean) and what it calls next,
as a ready-to-run curl example with the received ``payman_code`` and the server's base URL.

It is public (a browser lands here, with no admin token) and shows no secret: the example reads
the demo credentials from ``demo-credentials.json`` in the data directory. Every received value
is escaped (HTML, and URL-encoded where it goes into a URL); the page loads nothing and runs no
script (``web.pages.security_headers``).
"""

from __future__ import annotations

import html
import shlex
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from pishkhan.providers.payman.errors import CATALOGUE
from pishkhan.runtime import get_runtime
from pishkhan.web.pages import security_headers

PATH = "/_pishkhan/demo/payman-callback"

#: status -> (Persian, English, True when the mandate went through).
STATUSES: dict[str, tuple[str, str, bool]] = {
    "CREATED": ("پیمان ایجاد شد", "the mandate was created", True),
    "UPDATED": ("پیمان ویرایش شد", "the mandate was updated", True),
    "CANCELED": ("کاربر در صفحه بانک انصراف داد", "the person cancelled on the bank page", False),
    "INTERNAL_ERROR": ("خطای داخلی", "an error ended the bank page", False),
    "TIMEOUT": ("پاسخی دریافت نشد (مهلت صفحه بانک تمام شد)", "the bank page expired", False),
}

CSS = """
*{box-sizing:border-box}body{margin:0;font-family:Vazirmatn,Tahoma,'Segoe UI',sans-serif;
background:#eef2f7;color:#1d2733;line-height:1.8}main{max-width:58rem;margin:0 auto;padding:1rem}
.card{background:#fff;border-radius:12px;box-shadow:0 2px 10px rgba(0,0,0,.08);padding:1.25rem;
margin-bottom:1rem}h1{font-size:1.25rem;margin:0 0 .5rem}h2{font-size:1.05rem;margin:0 0 .5rem}
.en{display:block;color:#5b6775;font-size:.85rem;font-weight:400;text-align:right}.muted{
color:#5b6775;font-size:.9rem}.ok{background:#e6f4ee;color:#0a5c3b}.bad{background:#fdecec;
color:#8a1c1c}.status{padding:.6rem .8rem;border-radius:8px;font-weight:600}table{width:100%;
border-collapse:collapse}th,td{text-align:start;padding:.4rem .5rem;border-bottom:1px solid
#e3e8ee;vertical-align:top}thead th{color:#5b6775;font-weight:400;font-size:.9rem}tbody th{
white-space:nowrap;font-weight:400;width:1%}.meaning{display:block;color:#5b6775;
font-size:.9rem}code{font-family:'DejaVu Sans Mono',Consolas,monospace;font-size:.9rem;
overflow-wrap:anywhere}pre{direction:ltr;text-align:left;
background:#1d2733;color:#e9edf2;padding:.8rem;border-radius:8px;white-space:pre-wrap;
overflow-wrap:anywhere;font-size:.8rem;line-height:1.5;margin:.5rem 0}pre code{font-size:inherit}
a{color:#0a5c9c}
"""


def _code_meaning(code: str) -> str:
    known = CATALOGUE.get(code)
    return known[1] if known else "کد ناشناخته (unknown code)"


def _next_step(
    base: str, status: str | None, payman_code: str | None, payman_id: str | None
) -> str:
    """What the merchant calls next, in words and as a curl example."""
    creds = (
        "# the demo customer's Payman credentials, written to the data directory on first run\n"
        'CREDS="${PISHKHAN_DATA_DIR:-var}/demo-credentials.json"\n'
        "cred() { python3 -c 'import json, sys; "
        'print(json.load(open(sys.argv[1]))["credentials"]["payman"][sys.argv[2]])\' '
        '"$CREDS" "$1"; }\n'
    )
    if status == "CREATED" and payman_code:
        token_url = shlex.quote(f"{base}/oauth/token")
        get_id = shlex.quote(f"{base}/v1/payman/getId?payman_code={quote(payman_code, safe='')}")
        script = (
            f"{creds}"
            "# 1. an access token\n"
            f"TOKEN=$(curl -s -X POST {token_url} \\\n"
            "  --data-urlencode grant_type=client_credentials \\\n"
            '  --data-urlencode "client_id=$(cred client_id)" \\\n'
            '  --data-urlencode "client_secret=$(cred client_secret)" |\n'
            "  python3 -c 'import json, sys; print(json.load(sys.stdin)[\"access_token\"])')\n"
            "# 2. getId: payman_code -> payman_id; the mandate becomes ACTIVE\n"
            f"curl -s {get_id} \\\n"
            '  -H "Authorization: Bearer $TOKEN" -H "App-Key: $(cred app_key)"\n'
        )
        words = (
            "<p>پیمان در وضعیت «در انتظار تایید» (<code>WAITING_FOR_CONFIRM</code>) است. پذیرنده "
            "باید با سرویس دریافت شناسه پیمان (<code>getId</code>) کد پیمان را به شناسه پیمان "
            "(<code>payman_id</code>) تبدیل کند؛ پس از آن پیمان فعال (<code>ACTIVE</code>) است "
            "و برداشت (<code>POST /v1/payman/pay</code>) با <code>payman_id</code> ممکن است."
            '<span class="en" dir="ltr" lang="en">The mandate waits for confirmation: call getId with this '
            "payman_code to get its payman_id (the mandate becomes ACTIVE), then pay with the "
            "payman_id.</span></p>"
        )
    elif status == "UPDATED" and payman_id:
        report = shlex.quote(f"{base}/v1/payman/report/{quote(payman_id, safe='')}")
        script = (
            f"{creds}"
            "# the mandate's terms and what is left of its limits\n"
            f"curl -s {report} \\\n"
            '  -H "App-Key: $(cred app_key)" -H "Client-Device-Id: 1" \\\n'
            '  -H "Client-Ip-Address: 127.0.0.1" -H "Client-User-Agent: curl" \\\n'
            '  -H "Client-Platform-Type: Web" -H "Client-User-Id: demo"\n'
        )
        words = (
            "<p>شرایط تازه اعمال شد؛ شناسه پیمان همان است و فراخوانی دوباره <code>getId</code> "
            "لازم نیست."
            '<span class="en" dir="ltr" lang="en">The new terms apply; the payman_id is unchanged (no getId '
            "needed). The report shows the mandate's terms and remaining limits.</span></p>"
        )
    elif status in STATUSES and payman_id:
        return (
            "<p>ویرایش انجام نشد؛ پیمان با همان شرایط پیشین برقرار است."
            '<span class="en" dir="ltr" lang="en">The update did not happen; the mandate keeps its former '
            "terms.</span></p>"
        )
    elif status in STATUSES:
        return (
            "<p>پیمانی ایجاد نشد. برای تلاش دوباره، پذیرنده درخواست ایجاد پیمان تازه‌ای "
            "(<code>POST /v1/payman/create</code>، با <code>trace_id</code> تازه) می‌فرستد."
            '<span class="en" dir="ltr" lang="en">No mandate was made. To try again the merchant sends a new '
            "create request (POST /v1/payman/create with a new trace_id).</span></p>"
        )
    else:
        return (
            "<p>پارامترهای بازگشت کامل نیستند (<code>status</code> یا <code>payman_code</code>)."
            '<span class="en" dir="ltr" lang="en">The redirect parameters are incomplete (status or '
            "payman_code).</span></p>"
        )
    return (
        f"{words}"
        '<p class="muted">این دستورها را در پوشه‌ای اجرا کنید که <code>pishkhan serve</code> در '
        "آن اجرا شده است، یا پوشه داده را با <code>PISHKHAN_DATA_DIR</code> بدهید."
        '<span class="en" dir="ltr" lang="en">Run from the directory pishkhan serve runs in, '
        "or set PISHKHAN_DATA_DIR to its data directory.</span></p>"
        f'<pre dir="ltr"><code id="next-curl">{html.escape(script)}</code></pre>'
    )


def render(base: str, params: list[tuple[str, str]]) -> str:
    """The page for the received query parameters (in the order they came)."""
    first: dict[str, str] = {}
    for name, value in params:
        first.setdefault(name, value)
    status = first.get("status")
    payman_code = first.get("payman_code")
    known = STATUSES.get(status or "")
    if known is None:
        banner = (
            '<p class="status bad" id="status">پارامتر <code>status</code> نیامده یا ناشناخته است'
            '<span class="en" dir="ltr" lang="en">status is missing or unknown</span></p>'
        )
    else:
        fa, en, good = known
        banner = (
            f'<p class="status {"ok" if good else "bad"}" id="status">'
            f'<code dir="ltr">{html.escape(status or "")}</code>: {fa}'
            f'<span class="en" dir="ltr" lang="en">{en}</span></p>'
        )
    rows = []
    for name, value in params:
        if name == "status" and known is not None:
            meaning = known[0]
        elif name == "code":
            meaning = _code_meaning(value)
        else:
            meaning = ""
        note = f'<span class="meaning">{html.escape(meaning)}</span>' if meaning else ""
        rows.append(
            f'<tr><th scope="row"><code class="name" dir="ltr">{html.escape(name)}</code></th>'
            f'<td><code class="value" dir="ltr">{html.escape(value)}</code>{note}</td></tr>'
        )
    received = (
        '<table id="received"><thead><tr><th>پارامتر<span class="en" dir="ltr" lang="en">'
        'parameter</span></th><th>مقدار<span class="en" dir="ltr" lang="en">value</span></th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        if rows
        else '<p id="received">هیچ پارامتری نیامد.<span class="en" dir="ltr" lang="en">'
        "No query parameters.</span></p>"
    )
    body = (
        '<div class="card"><h1>بازگشت از صفحه بانک (پیمان)'
        '<span class="en" dir="ltr" lang="en">Payman: back from the bank consent page</span></h1>'
        "<p>این صفحه آدرس بازگشتی «مشتری نمونه» (Demo customer) در pishkhan است و به جای سایت "
        "پذیرنده نشان می‌دهد پذیرنده چه دریافت کرده است."
        '<span class="en" dir="ltr" lang="en">This is the demo customer\'s redirect address in pishkhan: it stands '
        "where a merchant's own page would, and shows what the merchant received.</span></p>"
        f"{banner}</div>"
        '<div class="card"><h2>آنچه پذیرنده دریافت کرد'
        '<span class="en" dir="ltr" lang="en">What the merchant received (query parameters)</span></h2>'
        f"{received}</div>"
        '<div class="card" id="next"><h2>گام بعدی<span class="en" dir="ltr" lang="en">What to call next</span></h2>'
        f"{_next_step(base, status, payman_code, first.get('payman_id'))}"
        '<p class="muted">راهنمای کامل: <code>docs/payman.md</code> در مخزن pishkhan؛ سند '
        f'OpenAPI: <a href="/_pishkhan/openapi/payman.json" dir="ltr">'
        "/_pishkhan/openapi/payman.json</a>"
        '<span class="en" dir="ltr" lang="en">The whole flow: docs/payman.md in the pishkhan repository; the '
        "OpenAPI document is linked above.</span></p></div>"
    )
    return (
        '<!DOCTYPE html><html lang="fa" dir="rtl"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>بازگشت از پیمان · Payman callback</title><style>{CSS}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


async def payman_callback(request: Request) -> Response:
    base = get_runtime(request).settings.effective_base_url
    response = HTMLResponse(render(base, request.query_params.multi_items()))
    response.headers.update(security_headers(css=CSS))
    return response


routes: list[BaseRoute] = [Route(PATH, payman_callback, methods=["GET"])]
