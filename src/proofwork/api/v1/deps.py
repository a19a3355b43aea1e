"""What routes receive: the API's context, the workspace (one request at a time), the session."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Annotated, TypeVar
from urllib.parse import urlsplit

from fastapi import Depends, Request

from proofwork.api.v1.errors import ApiError
from proofwork.api.v1.ratelimit import TokenBuckets
from proofwork.db.api_sessions import SessionStore
from proofwork.services.job_listing import JobBoard
from proofwork.services.sign_in import SignIn, session_db_path
from proofwork.services.workspace import Workspace
from proofwork.settings import Settings

SESSION_COOKIE = "proofwork_session"
T = TypeVar("T")


class ApiContext:
    """The settings, the workspace (opened on first use unless given), sign-in and rate limits."""

    def __init__(self, settings: Settings, workspace: Workspace | None = None) -> None:
        self.settings = settings
        self._workspace = workspace
        self._owned = workspace is None
        # the chain adapters are not made for concurrent use: requests take turns on the workspace
        self.lock = threading.Lock()
        self.sessions = SessionStore(session_db_path(settings.data_dir))
        self.sign_in = SignIn(self.sessions, settings.api_session_ttl)
        self.buckets = TokenBuckets(settings.api_rate_limit)
        # the job list: from the chain index without taking the workspace's lock for each request
        self.board = JobBoard(settings, self.use_workspace)

    @property
    def dev_mode(self) -> bool:
        """The embedded chain: the server may sign with its dev accounts when asked (`dev_sign`). The
        `api_dev_mode` setting decides when set (`proofwork serve`: on exactly on its embedded chain)."""
        if self.settings.api_dev_mode is not None:
            return self.settings.api_dev_mode
        return self.settings.rpc_url is None

    def workspace(self) -> Workspace:
        if self._workspace is None:
            self._workspace = Workspace.open(self.settings)
        return self._workspace

    def use_workspace(self, fn: Callable[[Workspace], T]) -> T:
        """`fn` on the workspace, in turn with the requests using it."""
        with self.lock:
            return fn(self.workspace())

    def chain_id(self) -> int:
        with self.lock:
            return self.workspace().chain_id

    def close(self) -> None:
        self.board.close()
        if self._owned and self._workspace is not None:
            self._workspace.close()
            self._workspace = None
        self.sessions.close()


async def context(request: Request) -> ApiContext:  # async: no thread for a lookup
    ctx = request.app.state.proofwork
    assert isinstance(ctx, ApiContext)
    return ctx


ContextDep = Annotated[ApiContext, Depends(context)]


def _workspace(ctx: ContextDep) -> Iterator[Workspace]:
    with ctx.lock:
        yield ctx.workspace()


WorkspaceDep = Annotated[Workspace, Depends(_workspace)]


def session_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.cookies.get(SESSION_COOKIE) or None


def _session(request: Request, ctx: ContextDep) -> tuple[str, int]:
    token = session_token(request)
    if token is None:
        raise ApiError(401, "unauthenticated", "sign in first (Sign-In with Ethereum): no session")
    if len(token) > 256:
        raise ApiError(401, "session_invalid", "the session token is not valid")
    found = ctx.sign_in.session(token)
    if found is None:
        raise ApiError(401, "session_expired", "the session has expired or was ended: sign in again")
    if request.method not in SAFE_METHODS and not _bearer(request):
        _refuse_cross_site(request, ctx.settings.api_domain)
    return found


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _bearer(request: Request) -> bool:
    return request.headers.get("authorization", "").lower().startswith("bearer ")


def _refuse_cross_site(request: Request, domain: str | None) -> None:
    """A write authenticated by the session cookie must come from a page of this origin: the browser
    sends the cookie by itself, and SameSite=Strict still sends it from a page of the same site on
    another origin (another port of localhost, a sibling subdomain), whose JSON body without a
    Content-Type FastAPI parses without a CORS preflight. Browsers say where a request comes from
    (`Sec-Fetch-Site`, else `Origin`); a bearer token needs none of this (no page can read it)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        if site in ("same-origin", "none"):
            return
        raise ApiError(403, "cross_site", f"refused: a {site} request cannot use the session cookie")
    origin = request.headers.get("origin")
    if origin is None:
        return
    if urlsplit(origin).netloc not in {request.headers.get("host", ""), domain}:
        raise ApiError(403, "cross_site", f"refused: a page of {origin} cannot use the session cookie")


SessionDep = Annotated[tuple[str, int], Depends(_session)]


def _current_address(session: SessionDep) -> str:
    return session[0]


CurrentAddress = Annotated[str, Depends(_current_address)]


def acting_as(current: str, claimed: str | None, role: str) -> str:
    """The address a write acts for: the session's; naming another one is refused (403)."""
    if claimed is not None and claimed.lower() != current.lower():
        raise ApiError(
            403, "not_your_address", f"signed in as {current}: you cannot act as the {role} {claimed}"
        )
    return current
