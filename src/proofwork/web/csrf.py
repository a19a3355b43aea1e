"""Cross-site request forgery: no POST of the web app may be sent from another site's page.

A double-submit token, as starlette-csrf and Django do it: every page sets a random per-browser token
in a cookie (HttpOnly, SameSite=Strict) and writes the same token into the page (`<meta
name="csrf-token">` for the script, a hidden `csrf_token` field in plain forms). A state-changing
request must send it back in the `X-CSRF-Token` header or that field, equal to the cookie; another
site can neither read the page's token nor, under SameSite=Strict, make the browser send the cookie.
Browsers' own signals come first, as a second line: a request whose `Origin` is another origin or
whose `Sec-Fetch-Site` says cross-site is refused before the token is looked at.

The app has no login (the wallet is the user), so there is no server-side session to bind a token to:
the cookie is that session. The API (`/api/v1`) needs none of this: it authenticates with a bearer
token a page of another site cannot get."""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import Response

COOKIE = "proofwork_csrf"
HEADER = "x-csrf-token"
FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
REFUSED = (
    "refused: this request did not come from a proofwork page of this site (missing or wrong CSRF "
    "token); reload the page and try again"
)


class CsrfRefused(Exception):
    """A state-changing request without this site's token, or sent from another site."""


def token_for(request: Request) -> str:
    """The browser's token: its cookie's, or a new one (set by `remember`)."""
    current = request.cookies.get(COOKIE, "")
    return current if _well_formed(current) else secrets.token_urlsafe(32)


def remember(request: Request, response: Response, token: str) -> None:
    """Sets the token's cookie on a page's response when the browser does not hold it yet."""
    if request.cookies.get(COOKIE) == token:
        return
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


async def check(request: Request) -> None:
    """Refuses (`CsrfRefused`) a state-changing request from another site or without the token."""
    if request.method in SAFE_METHODS:
        return
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise CsrfRefused(f"refused: a {site} request cannot act on this site")
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise CsrfRefused(f"refused: a request from {origin} cannot act on this site")
    cookie = request.cookies.get(COOKIE, "")
    sent = request.headers.get(HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
            value = (await request.form()).get(FIELD)
            sent = value if isinstance(value, str) else None
    if not _well_formed(cookie) or sent is None or not secrets.compare_digest(cookie, sent):
        raise CsrfRefused(REFUSED)


def _well_formed(token: str) -> bool:
    return 32 <= len(token) <= 64 and token.replace("-", "").replace("_", "").isalnum() and token.isascii()
