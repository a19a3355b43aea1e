"""The web app: server-rendered pages over the services, a little JavaScript to act through a wallet.

Pages read through the services; to act, the page's script posts a form to an `/actions/...` route,
which answers with what the wallet signs next (`services.wallet_writes`, the same as the REST API's):
the EIP-2612 permit that funds a job, then the unsigned transaction. The wallet signs it
(`eth_signTransaction`) and the script posts it to `/actions/tx`, which checks and broadcasts it; a
wallet that only sends (`eth_sendTransaction`, as MetaMask) sends it itself and the script polls
`/tx/<hash>.json`. With the dev mode setting on a local chain, the same routes may sign with a dev
account instead (every page says so). Every POST needs the page's CSRF token (`web.csrf`).

Every static asset is served from the package (`static/`): nothing is fetched from a CDN."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from proofwork.db.index import IndexStore
from proofwork.domain.addresses import parse_address
from proofwork.domain.errors import (
    CredentialRejected,
    InvalidInput,
    NotAllowed,
    NotFound,
    ProofworkError,
    SignedTransactionRefused,
)
from proofwork.domain.units import format_amount, parse_amount, parse_duration
from proofwork.services.workspace import Signer, Workspace
from proofwork.settings import Settings
from proofwork.web import csrf
from proofwork.web.limits import BodyLimit

HERE = Path(__file__).parent
WorkspaceFactory = Callable[[], AbstractContextManager[Workspace]]
MAX_UPLOAD = 64 << 20  # spec, labels and deliverables sent through the form
MAX_PRESENTATION = 64 << 10
MAX_BODY = 2 * MAX_UPLOAD + (1 << 20)  # an evaluated job's spec and labels, and the fields
AUDIENCE = "proofwork-web"
_TX = __import__("re").compile(r"^0x[0-9a-fA-F]{64}$")

STATUS_OF: dict[type, int] = {
    InvalidInput: 400,
    CredentialRejected: 400,
    NotAllowed: 403,
    NotFound: 404,
}


def _status(exc: ProofworkError) -> int:
    if isinstance(exc, SignedTransactionRefused):
        return exc.status
    for kind, code in STATUS_OF.items():
        if isinstance(exc, kind):
            return code
    return 409


def _iso(ts: int | None) -> str:
    if ts is None:
        return ""
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def _read(upload: UploadFile | None, limit: int, what: str) -> bytes:
    if upload is None or not upload.filename:
        raise InvalidInput(f"choose the {what} file")
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput(f"the {what} file is larger than {limit} bytes")
    return data


def create_web_app(workspace_factory: WorkspaceFactory, settings: Settings) -> FastAPI:
    """The web app over the workspaces `workspace_factory` opens (one at a time: the app serialises
    its use of the chain), with `settings` (dev mode, explorer links)."""
    # the chain index the board and job pages read, kept open (looked for again while there is none)
    index: dict[str, Any] = {"store": None, "checked": -1e18}

    def index_store() -> IndexStore | None:
        from proofwork.services.job_listing import open_job_index

        now = time.monotonic()
        if index["store"] is None and now - index["checked"] >= 5.0:
            index["store"], index["checked"] = open_job_index(settings), now
        store = index["store"]
        assert store is None or isinstance(store, IndexStore)
        return store

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if index["store"] is not None:
            index["store"].close()
            index["store"] = None

    app = FastAPI(
        title="proofwork",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(csrf.check)],
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_middleware(BodyLimit, limit=MAX_BODY)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    lock = threading.RLock()
    env = templates.env
    env.globals["dev_mode"] = settings.web_dev_mode
    env.globals["explorer_url"] = settings.explorer_url
    env.filters["score"] = _score
    env.filters["pct"] = lambda bps: f"{int(bps) / 100:g} %"  # basis points as a percentage

    @contextmanager
    def workspace() -> Iterator[Workspace]:
        with lock, workspace_factory() as ws:
            yield ws

    def page(
        request: Request,
        name: str,
        ws: Workspace | None,
        status: int = 200,
        token_info: dict[str, Any] | None = None,
        **context: Any,
    ) -> Response:
        token: dict[str, Any] = token_info or {"symbol": "", "decimals": 0}
        chain_id = None
        if ws is not None:
            try:
                if token_info is None:
                    token = {"symbol": ws.token.symbol, "decimals": ws.token.decimals}
                chain_id = ws.chain_id
            except ProofworkError:
                pass
        decimals = int(token["decimals"])

        def amount(units: int) -> str:
            return f"{format_amount(int(units), decimals)} {token['symbol']}".strip()

        def tx_url(tx_hash: str) -> str:
            if settings.explorer_url:
                return settings.explorer_url.rstrip("/") + "/" + tx_hash
            return f"/tx/{tx_hash}"

        token_ = csrf.token_for(request)
        response = templates.TemplateResponse(
            request,
            name,
            {
                "csrf_token": token_,
                "amount": amount,
                "iso": _iso,
                "tx_url": tx_url,
                "chain_id": chain_id,
                "token": token,
                "short": lambda a: (a[:6] + "…" + a[-4:]) if a and len(a) > 12 else a,
                "dev_accounts": _dev_accounts(ws),
                **context,
            },
            status_code=status,
        )
        csrf.remember(request, response, token_)
        return response

    def _dev_accounts(ws: Workspace | None) -> list[Signer]:
        if not settings.web_dev_mode or ws is None:
            return []
        try:
            return ws.dev_accounts()[:10] if ws.chain.is_local else []
        except ProofworkError:
            return []

    def dev_signer(ws: Workspace, name: str | None) -> Signer | None:
        """The dev account the server signs with, in dev mode on a local chain; None: the wallet signs."""
        if not name:
            return None
        if not settings.web_dev_mode:
            raise NotAllowed("server-side signing is only available in dev mode")
        if not ws.chain.is_local:
            raise NotAllowed("server-side signing with dev accounts is only for local development chains")
        # a dev account only: `ws.signer` also unlocks the keystore's accounts, and no visitor of a
        # page may sign with the keys of the machine's owner
        for account in ws.dev_accounts():
            if name.strip().lower() in (account.name, account.address.lower()):
                return account
        raise NotAllowed(f"{name!r} is not a dev account: the server signs only with dev0, dev1, ...")

    def error_page(request: Request, exc: ProofworkError) -> Response:
        return page(request, "error.html", None, _status(exc), message=str(exc))

    def action_error(exc: ProofworkError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=_status(exc))

    @app.exception_handler(csrf.CsrfRefused)
    def csrf_refused(request: Request, exc: Exception) -> Response:
        """403 with the reason: as JSON for the script's actions, as a page for a plain form."""
        if request.url.path.startswith("/actions/"):
            return JSONResponse({"error": str(exc)}, status_code=403)
        return page(request, "error.html", None, 403, message=str(exc))

    # --- pages -------------------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    def board(
        request: Request,
        q: str = "",
        state: str = "",
        kind: str = "",
        min_budget: str = "",
        max_budget: str = "",
        party: str = "",
        before: str = "",
    ) -> Response:
        from proofwork.services.market_views import KINDS, STATES, JobFilters, MarketViews

        filters = JobFilters(q.strip(), state, kind, min_budget.strip(), max_budget.strip(), party.strip())
        with workspace() as ws:
            listed, problem, token_info = None, None, None
            try:
                cursor = _job_id(before, "cursor") if before.strip() else None
                listed = MarketViews(ws, index_store()).board(filters, before=cursor)
                token_info = {"symbol": listed.symbol, "decimals": listed.decimals}
            except InvalidInput as exc:
                problem = str(exc)
            except ProofworkError as exc:
                return error_page(request, exc)
            older = _older(request, "/", listed.next_cursor if listed is not None else None)
            return page(
                request,
                "board.html",
                ws,
                200 if problem is None else 400,
                token_info=token_info,
                jobs=listed.jobs if listed is not None else [],
                listed=listed,
                older=older,
                filters=filters,
                states=STATES,
                kinds=KINDS,
                problem=problem,
            )

    @app.get("/jobs/new", response_class=HTMLResponse)
    def new_job(request: Request) -> Response:
        with workspace() as ws:
            try:
                committee = bool(ws.deployment.committee)
                window = ws.committee.challenge_window if committee else 0
            except ProofworkError as exc:
                return error_page(request, exc)
            return page(request, "new_job.html", ws, committee=committee, window=window)

    @app.get("/jobs/{job_id}", response_class=HTMLResponse)
    def job_page(request: Request, job_id: str) -> Response:
        from proofwork.services.market_views import MarketViews

        with workspace() as ws:
            try:
                detail = MarketViews(ws).job(_job_id(job_id))
                now = ws.chain.next_timestamp()
            except ProofworkError as exc:
                return error_page(request, exc)
            return page(request, "job.html", ws, d=detail, job=detail.summary.job, now=now)

    @app.get("/competitions", response_class=HTMLResponse)
    def competitions_page(request: Request) -> Response:
        from proofwork.services.market_views import competitions

        with workspace() as ws:
            try:
                items = competitions(ws)
            except ProofworkError as exc:
                return error_page(request, exc)
            return page(request, "competitions.html", ws, items=items)

    @app.get("/competitions/{comp_id}", response_class=HTMLResponse)
    def competition_page(request: Request, comp_id: str) -> Response:
        from proofwork.services.market_views import competition

        with workspace() as ws:
            try:
                summary, rows = competition(ws, _job_id(comp_id, "competition"))
            except ProofworkError as exc:
                return error_page(request, exc)
            return page(request, "competition.html", ws, c=summary, comp=summary.comp, rows=rows)

    @app.get("/assets", response_class=HTMLResponse)
    def assets_page(request: Request, kind: str = "", owner: str = "", before: str = "") -> Response:
        from proofwork.services.asset_listing import ASSET_KINDS, AssetFilter, list_assets

        filters = AssetFilter(kind=kind.strip() or None, owner=owner.strip() or None)
        with workspace() as ws:
            listed, problem = None, None
            try:
                cursor = _job_id(before, "cursor") if before.strip() else None
                listed = list_assets(ws, filters, before=cursor, store=index_store())
            except InvalidInput as exc:
                problem = str(exc)
            except ProofworkError as exc:
                return error_page(request, exc)
            older = _older(request, "/assets", listed.next_cursor if listed is not None else None)
            return page(
                request,
                "assets.html",
                ws,
                200 if problem is None else 400,
                items=listed.items if listed is not None else [],
                total=listed.total if listed is not None else 0,
                older=older,
                filters=filters,
                kinds=ASSET_KINDS,
                problem=problem,
            )

    @app.get("/assets/{asset_id}", response_class=HTMLResponse)
    def asset_page(request: Request, asset_id: str) -> Response:
        from proofwork.domain.cards import card_summary
        from proofwork.services.asset_listing import asset_view

        with workspace() as ws:
            try:
                view = asset_view(ws, _job_id(asset_id, "asset"), index_store())
            except ProofworkError as exc:
                return error_page(request, exc)
            record = view.record
            return page(
                request,
                "asset.html",
                ws,
                v=view,
                r=record,
                m=view.manifest,
                asset_name=view.manifest.name if view.manifest else None,
                kind=view.lineage[record.asset_id].kind.label,
                parents_bps=sum(p.bps for p in record.parents),
                creators_bps=sum(c.bps for c in record.creators),
                ancestors=sorted(i for i in view.lineage if i != record.asset_id),
                roles=_roles(view.lineage),
                sold=sum(o.sold for o in view.offers),
                card=card_summary(view.manifest.card) if view.manifest else None,
            )

    @app.get("/assets/{asset_id}/card.json")
    def asset_card_json(request: Request, asset_id: str) -> Response:
        """The card exactly as the manifest holds it (JSON)."""
        from proofwork.services.assets import show

        with workspace() as ws:
            try:
                _, manifest = show(ws, _job_id(asset_id, "asset"))
            except ProofworkError as exc:
                return action_error(exc)
        if manifest is None or manifest.card is None:
            return JSONResponse({"error": f"asset {asset_id} has no card here"}, status_code=404)
        return JSONResponse(manifest.card)

    @app.get("/assets/{asset_id}/README.md")
    def asset_readme(request: Request, asset_id: str) -> Response:
        """A model's Hugging Face card as the Hub reads it (README.md with YAML front matter)."""
        from proofwork.services.assets import card

        with workspace() as ws:
            try:
                text = card(ws, _job_id(asset_id, "asset"), "hf-readme")
            except ProofworkError as exc:
                return action_error(exc)
        return Response(text, media_type="text/markdown; charset=utf-8")

    @app.get("/assets/{asset_id}/lineage.json")
    def asset_lineage(request: Request, asset_id: str) -> Response:
        from proofwork.services.assets import lineage_prov

        with workspace() as ws:
            try:
                prov = lineage_prov(ws, _job_id(asset_id, "asset"))
            except ProofworkError as exc:
                return action_error(exc)
        return Response(prov, media_type="application/json")

    @app.get("/licences", response_class=HTMLResponse)
    def licences_page(request: Request, holder: str = "", asset: str = "", before: str = "") -> Response:
        from proofwork.services.asset_listing import LicenceFilter, list_licences

        with workspace() as ws:
            listed, problem = None, None
            try:
                asset_id = _job_id(asset, "asset") if asset.strip() else None
                cursor = _job_id(before, "cursor") if before.strip() else None
                where = LicenceFilter(holder=holder.strip() or None, asset_id=asset_id)
                listed = list_licences(ws, where, before=cursor, store=index_store())
            except InvalidInput as exc:
                problem = str(exc)
            except ProofworkError as exc:
                return error_page(request, exc)
            return page(
                request,
                "licences.html",
                ws,
                200 if problem is None else 400,
                items=listed.items if listed is not None else [],
                total=listed.total if listed is not None else 0,
                older=_older(request, "/licences", listed.next_cursor if listed is not None else None),
                holder=holder,
                asset=asset,
                problem=problem,
            )

    @app.get("/licences/{licence_id}", response_class=HTMLResponse)
    def licence_page(request: Request, licence_id: str) -> Response:
        from proofwork.services.asset_listing import licence_detail

        with workspace() as ws:
            try:
                detail = licence_detail(ws, _job_id(licence_id, "licence"))
            except ProofworkError as exc:
                return error_page(request, exc)
            lic = detail.licence
            status = (
                "valid"
                if lic.valid
                else "revoked"
                if lic.revoked
                else "surrendered"
                if not lic.holder
                else "expired"
            )
            return page(request, "licence.html", ws, d=detail, lic=lic, licence_status=status)

    @app.get("/profiles/{address}", response_class=HTMLResponse)
    def profile_page(request: Request, address: str) -> Response:
        from proofwork.services.market_views import profile

        with workspace() as ws:
            try:
                view = profile(ws, address)
            except ProofworkError as exc:
                return error_page(request, exc)
            return page(request, "profile.html", ws, p=view)

    @app.get("/credentials/verify", response_class=HTMLResponse)
    def verify_form(request: Request) -> Response:
        with workspace() as ws:
            return page(
                request, "verify.html", ws, audience=AUDIENCE, nonce=secrets.token_urlsafe(12), result=None
            )

    @app.post("/credentials/verify", response_class=HTMLResponse)
    async def verify_post(
        request: Request,
        audience: str = Form(AUDIENCE),
        nonce: str = Form(""),
        presentation: str = Form(""),
        file: UploadFile | None = File(None),
    ) -> Response:
        from proofwork.services.credentials import verification
        from proofwork.services.issuers import directory_for

        checked: str | None = None
        try:
            text = presentation.strip()
            if file is not None and file.filename:
                text = (
                    (await _read(file, MAX_PRESENTATION, "presentation")).decode("utf-8", "replace").strip()
                )
            if not text:
                raise InvalidInput("paste a presentation or choose its file")
            if len(text) > MAX_PRESENTATION:
                raise InvalidInput(f"the presentation is larger than {MAX_PRESENTATION} bytes")
            if not nonce.strip() or not audience.strip():
                raise InvalidInput("the audience and the nonce the holder presented for are both needed")
        except ProofworkError as exc:
            checked = str(exc)

        def blocking() -> Response:
            problem, result = checked, None
            with workspace() as ws:
                if problem is None:
                    try:
                        result = verification.verify(
                            ws,
                            text,
                            audience=audience.strip(),
                            nonce=nonce.strip(),
                            resolver=None,
                            directory=directory_for(ws),
                            allow_insecure_localhost=ws.chain.is_local,
                        )
                    except CredentialRejected as exc:
                        problem = f"credential rejected ({exc.reason}): {exc}"
                    except ProofworkError as exc:
                        problem = str(exc)
                return page(
                    request,
                    "verify.html",
                    ws,
                    200 if problem is None else 400,
                    audience=audience,
                    nonce=nonce,
                    result=result,
                    problem=problem,
                )

        return await run_in_threadpool(blocking)

    @app.get("/statements/{name}")
    def statement_csv(request: Request, name: str) -> Response:
        from proofwork.services.statements import statement

        if not name.endswith(".csv"):
            return error_page(request, NotFound("statements are served as <address>.csv"))
        with workspace() as ws:
            try:
                result = statement(ws, name.removesuffix(".csv"))
            except ProofworkError as exc:
                return error_page(request, exc)
        return Response(
            result.to_csv(),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="proofwork-statement-{result.address}.csv"'
            },
        )

    @app.get("/tx/{name}")
    def tx_page(request: Request, name: str) -> Response:
        from proofwork.chain.unsigned import jobs_created, transaction_status

        as_json = name.endswith(".json")
        tx_hash = name.removesuffix(".json")
        if not _TX.match(tx_hash):
            exc = InvalidInput(f"invalid transaction hash {tx_hash!r}: expected 0x and 64 hex digits")
            return action_error(exc) if as_json else error_page(request, exc)
        with workspace() as ws:
            try:
                status = transaction_status(ws.chain, tx_hash)
                created = jobs_created(ws.escrow, status) if status.block is not None else []
            except ProofworkError as exc:
                return action_error(exc) if as_json else error_page(request, exc)
            if as_json:
                return JSONResponse(
                    {
                        "hash": tx_hash,
                        "status": status.status,
                        "block": status.block,
                        "jobs_created": created,
                    }
                )
            return page(request, "tx.html", ws, tx=status, created=created)

    # --- actions: what the wallet signs, and what it signed --------------------------------------------

    def wallet_answer(prepared: Any, **extra: Any) -> JSONResponse:
        """A prepared write for the page's script: the permit to sign first, or the transaction."""
        if prepared.typed_data is not None:
            return JSONResponse({"typed_data": prepared.typed_data, "note": prepared.note})
        answer = {"txs": [prepared.transaction.rpc()], "register": prepared.register, **extra}
        if prepared.cid is not None:
            answer["cid"] = prepared.cid
        return JSONResponse(answer)

    @app.post("/actions/jobs")
    async def post_job_action(
        sender: str = Form("", alias="from"),
        sign_as: str = Form(""),
        budget: str = Form(...),
        milestones: int = Form(1),
        deadline_days: str = Form("7"),
        review: str = Form("3d"),
        freelancer: str = Form(""),
        evaluated: str = Form(""),
        permit_deadline: str = Form(""),
        permit_signature: str = Form(""),
        spec: UploadFile | None = File(None),
        labels: UploadFile | None = File(None),
    ) -> Response:
        from proofwork.services import wallet_writes

        try:
            files = None
            if evaluated:
                files = (await _read(spec, MAX_UPLOAD, "spec"), await _read(labels, MAX_UPLOAD, "labels"))
            review_period = parse_duration(review)
            days = parse_duration(deadline_days + "d" if deadline_days.strip().isdigit() else deadline_days)
            permit = _permit(permit_deadline, permit_signature)

            def blocking() -> Response:
                with workspace() as ws:
                    units = parse_amount(budget, ws.token.decimals)
                    deadline = ws.chain.next_timestamp() + days
                    terms: dict[str, Any] = {
                        "budget": units,
                        "milestones": milestones,
                        "deadline": deadline,
                        "review_period": review_period,
                        "freelancer": freelancer or None,
                    }
                    signer = dev_signer(ws, sign_as)
                    if signer is not None:
                        return _dev_post(ws, signer, files, terms)
                    client = parse_address(sender, "wallet address")
                    if files is not None:
                        prepared = wallet_writes.prepare_evaluated_post(
                            ws, client, files[0], files[1], permit=permit, **terms
                        )
                    else:
                        prepared = wallet_writes.prepare_post(ws, client, permit=permit, **terms)
                    return wallet_answer(prepared)

            return await run_in_threadpool(blocking)
        except ProofworkError as exc:
            return action_error(exc)

    def _dev_post(
        ws: Workspace, signer: Signer, files: tuple[bytes, bytes] | None, terms: dict[str, Any]
    ) -> Response:
        import tempfile

        from proofwork.services.evaluated_jobs import Evaluations
        from proofwork.services.jobs import Jobs

        if files is None:
            outcome = Jobs(ws).post(signer, **terms)
        else:
            with tempfile.TemporaryDirectory(prefix="proofwork-post-") as tmp:
                spec_path, labels_path = Path(tmp) / "spec.yaml", Path(tmp) / "labels"
                spec_path.write_bytes(files[0])
                labels_path.write_bytes(files[1])
                outcome, _ = Evaluations(ws).post(signer, spec_path, labels_path, **terms)
        return JSONResponse(
            {
                "sent": [r.tx_hash for _, r in outcome.receipts],
                "job_id": outcome.job.job_id,
                "dev_mode": True,
            }
        )

    @app.post("/actions/jobs/{job_id}/register")
    def register_action(job_id: str, sender: str = Form("", alias="from")) -> Response:
        from proofwork.services import wallet_writes

        try:
            with workspace() as ws:
                wallet = parse_address(sender, "wallet address")
                return wallet_answer(wallet_writes.prepare_register(ws, wallet, _job_id(job_id)))
        except ProofworkError as exc:
            return action_error(exc)

    @app.post("/actions/jobs/{job_id}/submit")
    async def submit_action(
        job_id: str,
        sender: str = Form("", alias="from"),
        sign_as: str = Form(""),
        milestone: int = Form(1),
        deliverable: UploadFile | None = File(None),
    ) -> Response:
        from proofwork.services import wallet_writes
        from proofwork.services.jobs import Jobs
        from proofwork.storage.unixfs import cid_digest

        try:
            data = await _read(deliverable, MAX_UPLOAD, "deliverable")

            def blocking() -> Response:
                with workspace() as ws:
                    signer = dev_signer(ws, sign_as)
                    index = milestone - 1
                    if signer is not None:
                        cid = ws.store.add_bytes(data)
                        outcome = Jobs(ws).submit(signer, _job_id(job_id), index, cid_digest(cid))
                        return JSONResponse({"sent": [r.tx_hash for _, r in outcome.receipts], "cid": cid})
                    wallet = parse_address(sender, "wallet address")
                    return wallet_answer(
                        wallet_writes.prepare_submit_file(ws, wallet, _job_id(job_id), index, data)
                    )

            return await run_in_threadpool(blocking)
        except ProofworkError as exc:
            return action_error(exc)

    @app.post("/actions/jobs/{job_id}/approve")
    def approve_action(
        job_id: str,
        sender: str = Form("", alias="from"),
        sign_as: str = Form(""),
        milestone: int = Form(1),
    ) -> Response:
        from proofwork.services import wallet_writes
        from proofwork.services.jobs import Jobs

        try:
            with workspace() as ws:
                signer = dev_signer(ws, sign_as)
                if signer is not None:
                    outcome = Jobs(ws).approve(signer, _job_id(job_id), milestone - 1)
                    return JSONResponse({"sent": [r.tx_hash for _, r in outcome.receipts]})
                wallet = parse_address(sender, "wallet address")
                return wallet_answer(
                    wallet_writes.prepare_approve(ws, wallet, _job_id(job_id), milestone - 1)
                )
        except ProofworkError as exc:
            return action_error(exc)

    @app.post("/actions/offers/{offer_id}/buy")
    def buy_action(
        offer_id: str,
        sender: str = Form("", alias="from"),
        sign_as: str = Form(""),
        permit_deadline: str = Form(""),
        permit_signature: str = Form(""),
    ) -> Response:
        """A licence bought from the visitor's wallet: the permit letting the licensing contract take
        the price first (when needed), then `buy`; or, in dev mode, by a dev account."""
        from proofwork.services import assets, wallet_writes

        try:
            permit = _permit(permit_deadline, permit_signature)
            with workspace() as ws:
                offer = _job_id(offer_id, "offer")
                signer = dev_signer(ws, sign_as)
                if signer is not None:
                    return JSONResponse({"sent": [], "licence_id": assets.buy(ws, signer, offer)})
                wallet = parse_address(sender, "wallet address")
                return wallet_answer(wallet_writes.prepare_buy(ws, wallet, offer, permit=permit))
        except ProofworkError as exc:
            return action_error(exc)

    @app.post("/actions/tx")
    def send_signed_action(sender: str = Form("", alias="from"), raw: str = Form("")) -> Response:
        """A transaction the wallet signed (`eth_signTransaction`), checked and broadcast; answered like
        `/tx/<hash>.json`."""
        from proofwork.services import wallet_writes

        try:
            with workspace() as ws:
                wallet = parse_address(sender, "wallet address")
                sent = wallet_writes.broadcast(ws, raw, wallet)
        except ProofworkError as exc:
            return action_error(exc)
        receipt = sent.receipt
        return JSONResponse(
            {
                "hash": receipt.tx_hash,
                "status": "success" if receipt.status == 1 else "failed",
                "block": receipt.block_number,
                "jobs_created": sent.jobs_created,
                "licences_bought": sent.licence_ids,
            }
        )

    @app.get("/healthz")
    def health() -> PlainTextResponse:
        return PlainTextResponse("ok")

    return app


def _score(fixed: int) -> str:
    from proofwork.services.market_views import score_text

    return score_text(int(fixed))


def _older(request: Request, path: str, cursor: int | None) -> str | None:
    """The link to the next (older) page of a list: the same filters, `before` the cursor."""
    if cursor is None:
        return None
    kept = {k: v for k, v in request.query_params.items() if k != "before" and v}
    return path + "?" + urlencode({**kept, "before": str(cursor)})


def _roles(lineage: dict[int, Any]) -> dict[str, list[str]]:
    """account (lower case) -> what it is in the lineage: "owner of #2", "creator of #1"..."""
    roles: dict[str, list[str]] = {}
    for asset_id, node in sorted(lineage.items(), reverse=True):
        roles.setdefault(node.owner.lower(), []).append(f"owner of #{asset_id}")
        for creator in node.creators:
            roles.setdefault(creator.account.lower(), []).append(f"creator of #{asset_id}")
    return roles


def _permit(deadline: str, signature: str) -> tuple[int, str] | None:
    """A signed permit's (deadline, signature) from the form, or None when it has none."""
    if not deadline.strip() and not signature.strip():
        return None
    if not deadline.strip().isdigit() or not signature.strip():
        raise InvalidInput("a permit needs both its deadline (a unix time) and its signature")
    return int(deadline.strip()), signature.strip()


def _job_id(text: str, what: str = "job") -> int:
    cleaned = text.strip().lstrip("#")
    if not cleaned.isascii() or not cleaned.isdigit() or len(cleaned) > 78:
        raise InvalidInput(f"invalid {what} id {text!r}: expected a positive integer")
    value = int(cleaned)
    if value <= 0:
        raise InvalidInput(f"invalid {what} id {text!r}: ids start at 1")
    return value
