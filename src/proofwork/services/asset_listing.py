"""The reads behind the asset and licence lists of the CLI, the SDK, the API and the web pages.

Every asset, offer and licence is folded from the events of the `AssetRegistry` and `Licensing`
contracts (`AssetRegistered`, ERC-721 `Transfer`s, `Offered`, `OfferWithdrawn`, `LicenceBought`,
`LicenceRevoked`, `LicenceSurrendered`). The events come from the chain index when it holds both
contracts and is caught up with the node (the indexer's confirmation depth allowed, as
`job_listing.list_jobs` decides for jobs), else from the contracts' logs, fetched in chunks and
decoded exactly as the indexer decodes them (`indexer.chunked_logs`), so both give the same book.

A licence's validity depends on the time: it is computed against the next block's timestamp, as the
contract's `is_valid` would answer for a transaction sent now."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from proofwork.db.index import IndexStore
from proofwork.domain.addresses import parse_address
from proofwork.domain.assets import AssetKind, AssetManifest, Flow, Parent, Share
from proofwork.domain.errors import DataDirCorrupted, InvalidInput, NotFound
from proofwork.domain.indexing import IndexedEvent
from proofwork.domain.provenance import LineageAsset
from proofwork.services.job_listing import MAX_PAGE, caught_up, open_job_index
from proofwork.services.workspace import Workspace

if TYPE_CHECKING:
    from proofwork.chain.assets import AssetRecord, Licence, Offer

ZERO = "0x" + "00" * 20
LICENCE_KINDS = ("download", "compute")
ASSET_KINDS = tuple(k.label for k in AssetKind)
T = TypeVar("T")


@dataclass(frozen=True)
class ListedAsset:
    asset_id: int
    owner: str
    kind: str  # model, dataset
    manifest: str
    creators: tuple[Share, ...]
    parents: tuple[Parent, ...]
    royalty_bps: int
    existed_since: int
    job_id: int  # 0: not a job's deliverable
    milestone: int
    deliverable: str  # 0x hex
    block: int
    tx_hash: str


@dataclass(frozen=True)
class ListedOffer:
    offer_id: int
    asset_id: int
    seller: str
    token: str
    price: int
    term_seconds: int  # 0: perpetual
    commercial: bool
    kind: str  # download, compute
    transferable: bool
    revocable: bool
    terms_cid: str
    max_licences: int  # 0: unlimited
    sold: int
    active: bool  # not withdrawn
    available: bool  # can be bought now: active, not sold out, its seller still owns the asset


@dataclass(frozen=True)
class ListedLicence:
    licence_id: int
    offer_id: int
    asset_id: int
    buyer: str
    holder: str  # "" once surrendered
    price: int
    token: str
    expires_at: int  # 0: perpetual
    kind: str
    commercial: bool
    transferable: bool
    revoked: bool
    surrendered: bool
    valid: bool
    block: int
    tx_hash: str


@dataclass
class AssetBook:
    """Every asset, offer and licence, as of `indexed_block` (None: read from the logs)."""

    assets: dict[int, ListedAsset] = field(default_factory=dict)
    offers: dict[int, ListedOffer] = field(default_factory=dict)
    licences: dict[int, ListedLicence] = field(default_factory=dict)
    indexed_block: int | None = None

    def children(self, asset_id: int) -> list[ListedAsset]:
        """The assets registered as derived from `asset_id`, oldest first."""
        return [a for a in self.assets.values() if any(p.asset_id == asset_id for p in a.parents)]

    def offers_of(self, asset_id: int) -> list[ListedOffer]:
        return [o for o in self.offers.values() if o.asset_id == asset_id]

    def asset(self, asset_id: int) -> ListedAsset:
        found = self.assets.get(asset_id)
        if found is None:
            raise NotFound(f"no asset {asset_id}")
        return found

    def licence(self, licence_id: int) -> ListedLicence:
        found = self.licences.get(licence_id)
        if found is None:
            raise NotFound(f"no licence {licence_id}")
        return found

    def offer(self, offer_id: int) -> ListedOffer:
        found = self.offers.get(offer_id)
        if found is None:
            raise NotFound(f"no licence offer {offer_id}")
        return found


@dataclass(frozen=True)
class AssetFilter:
    kind: str | None = None
    owner: str | None = None
    creator: str | None = None


@dataclass(frozen=True)
class LicenceFilter:
    holder: str | None = None
    asset_id: int | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: int | None  # the id to pass as `before` for the next page (newest first)
    total: int  # matches on every page
    indexed_block: int | None  # from the index: the last block it holds; None: from the logs


# ---------------------------------------------------------------- reading the events


def _contracts(ws: Workspace) -> tuple[str, str]:
    d = ws.deployment
    if not d.licensing or not d.asset_registry:
        raise NotFound("the asset contracts are not deployed here: run `proofwork asset deploy`")
    return d.asset_registry.lower(), d.licensing.lower()


def _indexed_events(ws: Workspace, store: IndexStore | None) -> tuple[list[IndexedEvent], int] | None:
    """Both contracts' events from the index, when it holds them and is caught up (None: the logs
    answer)."""
    registry, licensing = _contracts(ws)
    own = store is None
    if own:
        store = open_job_index(ws.settings)
    if store is None:
        return None
    try:
        chain_id = ws.chain_id
        checkpoint = store.checkpoint(chain_id)
        if checkpoint is None or not caught_up(ws, checkpoint.block):
            return None
        held = {c.address for c in store.contracts(chain_id)}
        if registry not in held or licensing not in held:
            return None
        events = store.events(chain_id, address=registry) + store.events(chain_id, address=licensing)
        return events, checkpoint.block
    except DataDirCorrupted:
        return None
    finally:
        if own:
            store.close()


def _logged_events(ws: Workspace) -> list[IndexedEvent]:
    """Both contracts' events from the node's logs, decoded as the indexer decodes them."""
    from proofwork.chain.logs import EventDecoder
    from proofwork.services.indexer import chunked_logs

    registry, licensing = ws.asset_registry, ws.licensing
    decoder = EventDecoder(
        [
            (registry.address.lower(), "AssetRegistry", registry.abi),
            (licensing.address.lower(), "Licensing", licensing.abi),
        ]
    )
    first = max(1, ws.deployment.assets_block)
    events, _ = chunked_logs(
        ws.chain,
        decoder,
        [registry.address, licensing.address],
        first,
        ws.chain.block_number(),
        ws.settings.index_chunk,
    )
    return events


def read_book(ws: Workspace, store: IndexStore | None = None) -> AssetBook:
    """Every asset, offer and licence: from the index when it is caught up, else from the logs."""
    registry, _ = _contracts(ws)
    indexed = _indexed_events(ws, store)
    events, block = indexed if indexed is not None else (_logged_events(ws), None)
    events.sort(key=lambda e: (e.block_number, e.tx_index, e.log_index))
    book = fold(events, registry, ws.chain.next_timestamp())
    book.indexed_block = block
    return book


def _int(value: Any) -> int:
    return int(value) if value is not None else 0


def fold(events: Iterable[IndexedEvent], registry: str, now: int) -> AssetBook:
    """The book the events (in chain order) make, with licences' validity at time `now`."""
    book = AssetBook()
    withdrawn: set[int] = set()
    for e in events:
        a = e.args
        from_registry = e.address.lower() == registry
        if e.name == "AssetRegistered":
            asset_id = _int(a["asset_id"])
            book.assets[asset_id] = ListedAsset(
                asset_id,
                _addr(a["owner"]),
                AssetKind.parse(_int(a["kind"])).label,
                str(a["manifest"]),
                tuple(Share(str(c["account"]), _int(c["bps"])) for c in a["creators"]),
                tuple(Parent(_int(p["asset_id"]), _int(p["bps"])) for p in a["parents"]),
                _int(a["royalty_bps"]),
                _int(a["existed_since"]),
                _int(a["job_id"]),
                _int(a["milestone"]),
                str(a["deliverable"]),
                e.block_number,
                e.tx_hash,
            )
        elif e.name == "Transfer" and from_registry:
            asset_id = _int(a["token_id"])
            if asset_id in book.assets:
                book.assets[asset_id] = replace(book.assets[asset_id], owner=_addr(a["receiver"]))
        elif e.name == "Offered":
            offer_id = _int(a["offer_id"])
            book.offers[offer_id] = ListedOffer(
                offer_id,
                _int(a["asset_id"]),
                _addr(a["seller"]),
                _addr(a["token"]),
                _int(a["price"]),
                _int(a["term_seconds"]),
                bool(a["commercial"]),
                _licence_kind(_int(a["kind"])),
                bool(a["transferable"]),
                bool(a["revocable"]),
                str(a["terms_cid"]),
                _int(a["max_licences"]),
                0,
                True,
                True,
            )
        elif e.name == "OfferWithdrawn":
            withdrawn.add(_int(a["offer_id"]))
        elif e.name == "LicenceBought":
            licence_id, offer_id = _int(a["licence_id"]), _int(a["offer_id"])
            offer = book.offers.get(offer_id)
            if offer is not None:
                book.offers[offer_id] = replace(offer, sold=offer.sold + 1)
            buyer = _addr(a["buyer"])
            book.licences[licence_id] = ListedLicence(
                licence_id,
                offer_id,
                _int(a["asset_id"]),
                buyer,
                buyer,
                _int(a["price"]),
                _addr(a["token"]),
                _int(a["expires_at"]),
                offer.kind if offer else "download",
                offer.commercial if offer else False,
                offer.transferable if offer else False,
                False,
                False,
                False,
                e.block_number,
                e.tx_hash,
            )
        elif e.name == "Transfer" and not from_registry:
            licence_id = _int(a["token_id"])
            lic = book.licences.get(licence_id)
            if lic is not None and str(a["sender"]).lower() != ZERO:  # the mint is LicenceBought's
                gone = str(a["receiver"]).lower() == ZERO
                book.licences[licence_id] = replace(
                    lic, holder="" if gone else _addr(a["receiver"]), surrendered=gone
                )
        elif e.name in ("LicenceRevoked", "LicenceSurrendered"):
            licence_id = _int(a["licence_id"])
            lic = book.licences.get(licence_id)
            if lic is not None:
                revoked = lic.revoked or e.name == "LicenceRevoked"
                gone = lic.surrendered or e.name == "LicenceSurrendered"
                book.licences[licence_id] = replace(
                    lic, revoked=revoked, surrendered=gone, holder="" if gone else lic.holder
                )
    for offer_id, offer in book.offers.items():
        asset = book.assets.get(offer.asset_id)
        active = offer_id not in withdrawn
        room = offer.max_licences == 0 or offer.sold < offer.max_licences
        owned = asset is not None and asset.owner == offer.seller
        book.offers[offer_id] = replace(offer, active=active, available=active and room and owned)
    for licence_id, lic in book.licences.items():
        valid = not lic.revoked and not lic.surrendered and (lic.expires_at == 0 or now < lic.expires_at)
        book.licences[licence_id] = replace(lic, valid=valid)
    return book


def _addr(value: Any) -> str:
    """An address from an event, checksummed (as the chain's reads give them)."""
    return _checksummed(str(value))


@lru_cache(maxsize=4096)
def _checksummed(text: str) -> str:  # the same few accounts recur in every event
    return parse_address(text, "address")


def _licence_kind(kind: int) -> str:
    return LICENCE_KINDS[kind] if 0 <= kind < len(LICENCE_KINDS) else str(kind)


# ---------------------------------------------------------------- lists


def _check_limit(limit: int | None) -> None:
    if limit is not None and not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be 1 to {MAX_PAGE}")


def _paged(
    items: list[T], ids: list[int], before: int | None, limit: int | None, block: int | None
) -> Page[T]:
    """`items` (newest first, `ids` theirs) below `before`, at most `limit`."""
    total = len(items)
    kept = [(i, item) for i, item in zip(ids, items, strict=True) if before is None or i < before]
    page = kept if limit is None else kept[:limit]
    more = limit is not None and len(kept) > limit
    return Page([item for _, item in page], page[-1][0] if more and page else None, total, block)


def check_asset_filter(where: AssetFilter) -> AssetFilter:
    """The filter with its addresses checked (lower case) and its kind known; InvalidInput else."""
    kind = where.kind.strip().lower() if where.kind else None
    if kind and kind not in ASSET_KINDS:
        raise InvalidInput(f"unknown asset kind {where.kind!r}: expected {' or '.join(ASSET_KINDS)}")
    owner = parse_address(where.owner, "owner").lower() if where.owner else None
    creator = parse_address(where.creator, "creator").lower() if where.creator else None
    return AssetFilter(kind or None, owner, creator)


def list_assets(
    ws: Workspace,
    where: AssetFilter,
    *,
    before: int | None = None,
    limit: int | None = 20,
    book: AssetBook | None = None,
    store: IndexStore | None = None,
) -> Page[ListedAsset]:
    """Assets matching `where`, newest first, with ids below `before`, at most `limit` (None: all)."""
    _check_limit(limit)
    where = check_asset_filter(where)
    book = book or read_book(ws, store)
    found = sorted(book.assets.values(), key=lambda a: -a.asset_id)
    if where.kind:
        found = [a for a in found if a.kind == where.kind]
    if where.owner:
        found = [a for a in found if a.owner.lower() == where.owner]
    if where.creator:
        found = [a for a in found if any(c.account.lower() == where.creator for c in a.creators)]
    return _paged(found, [a.asset_id for a in found], before, limit, book.indexed_block)


def list_licences(
    ws: Workspace,
    where: LicenceFilter,
    *,
    before: int | None = None,
    limit: int | None = 20,
    book: AssetBook | None = None,
    store: IndexStore | None = None,
) -> Page[ListedLicence]:
    """Licences (held now by `holder`, on `asset_id`), newest first, like `list_assets`."""
    _check_limit(limit)
    holder = parse_address(where.holder, "holder").lower() if where.holder else None
    book = book or read_book(ws, store)
    found = sorted(book.licences.values(), key=lambda lic: -lic.licence_id)
    if holder:
        found = [lic for lic in found if lic.holder.lower() == holder]
    if where.asset_id is not None:
        found = [lic for lic in found if lic.asset_id == where.asset_id]
    return _paged(found, [lic.licence_id for lic in found], before, limit, book.indexed_block)


# ---------------------------------------------------------------- one asset, one licence


@dataclass(frozen=True)
class AssetView:
    """An asset in full: its record and manifest (the chain's, as `assets.show`), the lineage above
    it, the assets derived from it and the licence offers on it, with their explained split."""

    record: AssetRecord
    manifest: AssetManifest | None
    listed: ListedAsset | None  # as the events give it (None: the book does not hold it yet)
    lineage: dict[int, LineageAsset]  # the asset and every ancestor
    children: list[ListedAsset]
    offers: list[ListedOffer]
    sale: Flow | None  # where the price of the cheapest offer that can be bought goes
    sale_price: int | None
    indexed_block: int | None


def asset_view(ws: Workspace, asset_id: int, store: IndexStore | None = None) -> AssetView:
    from proofwork.services import assets

    record, manifest = assets.show(ws, asset_id)
    lineage = assets.lineage(ws, asset_id)
    book = read_book(ws, store)
    offers = book.offers_of(asset_id)
    buyable = [o.price for o in offers if o.available]
    price = min(buyable) if buyable else None
    sale = assets.explain_sale(ws, asset_id, price) if price else None
    listed = book.assets.get(asset_id)
    children = book.children(asset_id)
    return AssetView(record, manifest, listed, lineage, children, offers, sale, price, book.indexed_block)


@dataclass(frozen=True)
class LicenceView:
    licence: Licence  # the chain's (validity as the contract answers now)
    offer: Offer

    @property
    def kind(self) -> str:
        return _licence_kind(self.licence.kind)


def licence_detail(ws: Workspace, licence_id: int) -> LicenceView:
    """A licence and the offer it was bought under, from the chain."""
    from proofwork.services import assets

    _contracts(ws)
    lic = assets.licence(ws, licence_id)
    return LicenceView(lic, assets.get_offer(ws, lic.offer_id))


# ---------------------------------------------------------------- JSON for the CLI, the SDK and the API


def asset_json(a: ListedAsset) -> dict[str, Any]:
    return {
        "asset_id": a.asset_id,
        "owner": a.owner,
        "kind": a.kind,
        "manifest": a.manifest,
        "creators": [{"account": c.account, "bps": c.bps} for c in a.creators],
        "parents": [{"asset_id": p.asset_id, "bps": p.bps} for p in a.parents],
        "royalty_bps": a.royalty_bps,
        "existed_since": a.existed_since,
        "job": {"job_id": a.job_id, "milestone": a.milestone, "deliverable": a.deliverable}
        if a.job_id
        else None,
        "block": a.block,
        "tx_hash": a.tx_hash,
    }


def offer_json(o: ListedOffer) -> dict[str, Any]:
    """Amounts as decimal strings of token base units."""
    return {
        "offer_id": o.offer_id,
        "asset_id": o.asset_id,
        "seller": o.seller,
        "token": o.token,
        "price": str(o.price),
        "term_seconds": o.term_seconds,
        "commercial": o.commercial,
        "kind": o.kind,
        "transferable": o.transferable,
        "revocable": o.revocable,
        "terms_cid": o.terms_cid,
        "max_licences": o.max_licences,
        "sold": o.sold,
        "active": o.active,
        "available": o.available,
    }


def licence_json(lic: ListedLicence) -> dict[str, Any]:
    return {
        "licence_id": lic.licence_id,
        "offer_id": lic.offer_id,
        "asset_id": lic.asset_id,
        "buyer": lic.buyer,
        "holder": lic.holder or None,
        "price": str(lic.price),
        "token": lic.token,
        "expires_at": lic.expires_at,
        "kind": lic.kind,
        "commercial": lic.commercial,
        "transferable": lic.transferable,
        "revoked": lic.revoked,
        "surrendered": lic.surrendered,
        "valid": lic.valid,
        "block": lic.block,
        "tx_hash": lic.tx_hash,
    }
