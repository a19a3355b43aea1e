"""Models and datasets: the asset list (filters, cursor pages), one asset in full (manifest, lineage,
derived assets, offers and where a sale's money goes), its lineage as W3C PROV-JSON, licences, and
buying a licence through the buyer's wallet (the EIP-2612 permit to sign first, then `buy`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from proofwork.api.v1 import schemas as S
from proofwork.api.v1.deps import ContextDep, CurrentAddress, WorkspaceDep, acting_as
from proofwork.api.v1.errors import AUTH_RESPONSES, ApiError
from proofwork.api.v1.json_guard import JsonGuardRoute
from proofwork.api.v1.routers.jobs import DevSign, dev_signer, prepared_answer
from proofwork.domain import job as J
from proofwork.domain.errors import NotFound
from proofwork.domain.provenance import LineageAsset
from proofwork.domain.units import format_amount
from proofwork.services import asset_listing as L
from proofwork.services import assets, wallet_writes
from proofwork.services.workspace import Workspace

router = APIRouter(tags=["assets"], route_class=JsonGuardRoute)

AssetId = Annotated[int, Path(ge=1, le=J.MAX_UINT256, description="the asset's id")]
LicenceId = Annotated[int, Path(ge=1, le=J.MAX_UINT256, description="the licence's id")]
OfferId = Annotated[int, Path(ge=1, le=J.MAX_UINT256, description="the offer's id")]
Cursor = Annotated[str | None, Query(pattern=r"^[0-9]{1,78}$", description="`next_cursor` of the last page")]
Limit = Annotated[int, Query(ge=1, le=L.MAX_PAGE)]


def _deployed(ws: Workspace) -> None:
    if not ws.deployment.licensing:
        raise ApiError(404, "assets_not_deployed", "the asset contracts are not deployed on this chain")


def _not_found(exc: NotFound, code: str) -> ApiError:
    return ApiError(404, code, str(exc))


class _Decimals:
    """Each token's decimals, read once per request."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.known: dict[str, int] = {}

    def show(self, units: int, token: str) -> str:
        key = token.lower()
        if key not in self.known:
            self.known[key] = self.ws.token_at(token).decimals
        return format_amount(units, self.known[key])


def _asset(a: L.ListedAsset) -> S.AssetPublic:
    return S.AssetPublic.model_validate(L.asset_json(a))


def _offer(o: L.ListedOffer, decimals: _Decimals) -> S.OfferPublic:
    return S.OfferPublic.model_validate({**L.offer_json(o), "price_display": decimals.show(o.price, o.token)})


def _licence(lic: L.ListedLicence, decimals: _Decimals) -> S.LicencePublic:
    body = L.licence_json(lic)
    body.pop("buyer"), body.pop("surrendered"), body.pop("block"), body.pop("tx_hash")
    return S.LicencePublic.model_validate({**body, "price_display": decimals.show(lic.price, lic.token)})


def _lineage(nodes: dict[int, LineageAsset]) -> list[S.LineageNodePublic]:
    return [
        S.LineageNodePublic(
            asset_id=n.asset_id,
            name=n.name,
            kind=n.kind.label,
            owner=n.owner,
            parents=[S.ParentPublic(asset_id=p.asset_id, bps=p.bps) for p in n.parents],
        )
        for n in sorted(nodes.values(), key=lambda n: -n.asset_id)
    ]


@router.get(
    "/assets",
    response_model=S.AssetsPublic,
    summary="Models and datasets, newest first, filtered, in pages",
    description="Folded from the asset registry's events: from the chain index when it is caught up "
    "(`indexed_block`: the last block it holds), else from the contract's logs (`indexed_block` null).",
)
def list_assets(
    ws: WorkspaceDep,
    ctx: ContextDep,
    kind: Annotated[str | None, Query(pattern="^(model|dataset)$")] = None,
    owner: Annotated[S.Address | None, Query()] = None,
    creator: Annotated[S.Address | None, Query()] = None,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> S.AssetsPublic:
    _deployed(ws)
    where = L.AssetFilter(kind=kind, owner=owner, creator=creator)
    before = None if cursor is None else int(cursor)
    page = L.list_assets(ws, where, before=before, limit=limit, store=ctx.board.index())
    return S.AssetsPublic(
        data=[_asset(a) for a in page.items],
        count=page.total,
        next_cursor=None if page.next_cursor is None else str(page.next_cursor),
        indexed_block=page.indexed_block,
    )


@router.get(
    "/assets/{asset_id}",
    summary="An asset with its manifest, lineage, derived assets, offers and a sale's split",
    description="The record and the lineage from the registry; derived assets and offers folded from "
    "the events (the index when caught up); `sale`: who receives what of the cheapest offer's price "
    "once every level of the lineage is distributed.",
)
def get_asset(asset_id: AssetId, ws: WorkspaceDep, ctx: ContextDep) -> S.AssetDetailPublic:
    _deployed(ws)
    try:
        view = L.asset_view(ws, asset_id, ctx.board.index())
    except NotFound as exc:
        raise _not_found(exc, "asset_not_found") from exc
    decimals = _Decimals(ws)
    data = assets.describe(view.record, view.manifest)
    listed = {
        "asset_id": asset_id,
        "owner": view.record.owner,
        "kind": data["kind"],
        "manifest": view.record.manifest,
        "creators": data["creators"],
        "parents": data["parents"],
        "royalty_bps": view.record.royalty_bps,
        "existed_since": view.record.existed_since,
        "job": data["job"],
    }
    sale = None
    if view.sale is not None and view.sale_price is not None:
        token = view.offers[0].token if view.offers else ws.token.address
        sale = S.SalePublic(
            price=str(view.sale_price),
            price_display=decimals.show(view.sale_price, token),
            received=[
                S.ReceiverPublic(account=a, amount=str(v), amount_display=decimals.show(v, token))
                for a, v in view.sale.to_accounts.items()
            ],
        )
    return S.AssetDetailPublic(
        **listed,
        block=view.listed.block if view.listed else 0,
        tx_hash=view.listed.tx_hash if view.listed else "",
        name=view.manifest.name if view.manifest else None,
        registered_at=view.record.registered_at,
        manifest_json=view.manifest.to_dict() if view.manifest else None,
        card_format=data["card_format"],
        lineage=_lineage(view.lineage),
        children=[c.asset_id for c in view.children],
        offers=[_offer(o, decimals) for o in view.offers],
        sale=sale,
    )


@router.get(
    "/assets/{asset_id}/lineage",
    summary="The asset's lineage, as JSON or as W3C PROV-JSON",
    responses={200: {"content": {"application/json": {}}, "description": "the lineage"}},
)
def get_lineage(
    asset_id: AssetId,
    ws: WorkspaceDep,
    format: Annotated[str, Query(pattern="^(json|prov)$", description="prov: W3C PROV-JSON")] = "json",
) -> Response:
    _deployed(ws)
    try:
        if format == "prov":
            return Response(assets.lineage_prov(ws, asset_id), media_type="application/json")
        nodes = assets.lineage(ws, asset_id)
    except NotFound as exc:
        raise _not_found(exc, "asset_not_found") from exc
    return Response(S.LineagePublic(data=_lineage(nodes)).model_dump_json(), media_type="application/json")


@router.get(
    "/assets/{asset_id}/card",
    summary="The asset's card: Croissant JSON-LD, or a model's README.md as the Hugging Face Hub reads it",
    description="`format`: croissant (`application/ld+json`) or hf-readme (`text/markdown`: the README "
    "with its YAML front matter); by default, whichever the card is. A Croissant card gets `url`: the "
    "manifest's ipfs:// URL. 404 `card_not_found` when the asset has none (or its manifest is not held).",
    responses={
        200: {"content": {"application/ld+json": {}, "text/markdown": {}}, "description": "the card"},
        404: {"description": "no such asset, or no card"},
    },
)
def get_card(
    asset_id: AssetId,
    ws: WorkspaceDep,
    format: Annotated[str | None, Query(pattern="^(croissant|hf-readme)$")] = None,
) -> Response:
    _deployed(ws)
    try:
        assets.show(ws, asset_id)
    except NotFound as exc:
        raise _not_found(exc, "asset_not_found") from exc
    try:
        text = assets.card(ws, asset_id, format)
    except NotFound as exc:
        raise _not_found(exc, "card_not_found") from exc
    markdown = text.startswith("---\n")
    return Response(text, media_type="text/markdown; charset=utf-8" if markdown else "application/ld+json")


@router.get("/assets/{asset_id}/offers", summary="The licence offers on an asset")
def get_offers(asset_id: AssetId, ws: WorkspaceDep, ctx: ContextDep) -> S.OffersPublic:
    _deployed(ws)
    book = L.read_book(ws, ctx.board.index())
    try:
        book.asset(asset_id)
    except NotFound as exc:
        raise _not_found(exc, "asset_not_found") from exc
    decimals = _Decimals(ws)
    return S.OffersPublic(data=[_offer(o, decimals) for o in book.offers_of(asset_id)])


@router.get(
    "/licences",
    summary="Licences, newest first: held now by an address, on an asset",
    description="Folded from the licensing contract's events (the index when caught up, else the logs); "
    "`valid` as of the next block's time.",
)
def list_licences(
    ws: WorkspaceDep,
    ctx: ContextDep,
    holder: Annotated[S.Address | None, Query()] = None,
    asset: Annotated[int | None, Query(ge=1, le=J.MAX_UINT256, description="an asset id")] = None,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> S.LicencesPublic:
    _deployed(ws)
    where = L.LicenceFilter(holder=holder, asset_id=asset)
    before = None if cursor is None else int(cursor)
    page = L.list_licences(ws, where, before=before, limit=limit, store=ctx.board.index())
    decimals = _Decimals(ws)
    return S.LicencesPublic(
        data=[_licence(lic, decimals) for lic in page.items],
        count=page.total,
        next_cursor=None if page.next_cursor is None else str(page.next_cursor),
        indexed_block=page.indexed_block,
    )


@router.get(
    "/licences/{licence_id}", summary="A licence, its terms and whether it is valid now (the chain's)"
)
def get_licence(licence_id: LicenceId, ws: WorkspaceDep) -> S.LicenceDetailPublic:
    _deployed(ws)
    try:
        detail = L.licence_detail(ws, licence_id)
    except NotFound as exc:
        raise _not_found(exc, "licence_not_found") from exc
    lic, offer = detail.licence, detail.offer
    return S.LicenceDetailPublic(
        licence_id=lic.licence_id,
        offer_id=lic.offer_id,
        asset_id=lic.asset_id,
        holder=lic.holder or None,
        price=str(lic.price),
        price_display=_Decimals(ws).show(lic.price, lic.token),
        token=lic.token,
        expires_at=lic.expires_at,
        kind=detail.kind,
        commercial=lic.commercial,
        transferable=offer.transferable,
        revoked=lic.revoked,
        valid=lic.valid,
        revocable=offer.revocable,
        terms_cid=offer.terms_cid or None,
    )


@router.post(
    "/offers/{offer_id}/purchase",
    summary="Buy a licence (unsigned transaction, or the permit to sign first)",
    description="The EIP-2612 permit letting the licensing contract take the price comes back first "
    "when it may not yet; post again with `permit_deadline` and `permit_signature` for the `buy` "
    "transaction to sign and send to `POST /tx` (whose answer names the licence bought).",
    responses=AUTH_RESPONSES,
)
def purchase(
    offer_id: OfferId,
    body: S.PurchaseCreate,
    address: CurrentAddress,
    ws: WorkspaceDep,
    ctx: ContextDep,
    dev_sign: DevSign = False,
) -> S.WritePublic:
    _deployed(ws)
    buyer = acting_as(address, body.from_, "buyer")
    max_price = None if body.max_price is None else int(body.max_price)
    try:
        if dev_sign:
            signer = dev_signer(ws, ctx.dev_mode, buyer)
            licence_id = assets.buy(ws, signer, offer_id, max_price=max_price)
            return S.WritePublic(
                status="sent",
                dev_mode=ctx.dev_mode,
                licence_id=licence_id,
                note="signed with the dev account (dev mode: embedded chain only)",
            )
        if (body.permit_deadline is None) != (body.permit_signature is None):
            raise ApiError(400, "invalid_input", "give both permit_deadline and permit_signature, or neither")
        permit = None
        if body.permit_deadline is not None and body.permit_signature is not None:
            permit = (body.permit_deadline, body.permit_signature)
        prepared = wallet_writes.prepare_buy(ws, buyer, offer_id, max_price=max_price, permit=permit)
    except NotFound as exc:
        raise _not_found(exc, "offer_not_found") from exc
    return prepared_answer(prepared, ctx.dev_mode)
