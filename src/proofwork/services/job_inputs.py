"""A job that names input assets (models, datasets): their licences bought for the client in the flow
that posts and funds the job, so the licence fees and the royalties up each asset's lineage are paid
with the job; the job's terms document records the licences, and anyone checks them on chain.

Order: every check first (the job's terms, each offer, the balances of every token the flow spends), so
a refusal moves no money. Then the licences are bought (`buy_with_permit` with an EIP-2612 permit, as
the escrow is funded, or approve + `buy`), then the terms document naming them is stored by CID and the
job is created and funded with its digest as spec hash. The licence ids must be known before the spec
hash is fixed, hence licences first: a job never exists whose inputs are not licensed. Should the job's
creation fail after a purchase (another transaction spent the balance meanwhile, a node that fails), the
licences stay the client's, valid, and nothing else was paid: `PartlyDone` says so and names them, and
`JobInputs(licences=...)` (`--input-licence`) posts the job with them without buying again.

The licences are minted to the client (`Licensing.buy` mints to its caller): the client holds them, gets
a download licence's files (`asset get`) and hands them to the freelancer, or runs a compute licence's
computations. Compute-only offers are refused unless asked for (`allow_compute`): the freelancer could not
get the files through them."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from proofwork.chain.receipts import Receipt
from proofwork.domain import job as J
from proofwork.domain import job_inputs as D
from proofwork.domain.errors import InvalidInput, NotAllowed, NotFound, PartlyDone, ProofworkError
from proofwork.services.workspace import Signer, Workspace

if TYPE_CHECKING:
    from proofwork.chain.assets import Licence, Offer
    from proofwork.services.jobs import Funding, Jobs, Outcome

DOWNLOAD, COMPUTE = 0, 1
PERMIT_LIFETIME = 3600


@dataclass(frozen=True)
class JobInputs:
    """What a job names as inputs: offers to buy a licence under, and licences the client already holds
    (a post that failed after buying, or a licence bought before); each licence's fee is at most
    `max_licence_fee` (the offer's price when None); `allow_compute` accepts compute-only licences;
    `distribute` also sends the royalties pending upstream up every level of each asset's lineage."""

    offers: tuple[int, ...] = ()
    licences: tuple[int, ...] = ()
    max_licence_fee: int | None = None
    allow_compute: bool = False
    distribute: bool = False
    spec_cid: str | None = None  # the job's own spec, stored by CID, recorded in the terms document

    @property
    def named(self) -> bool:
        return bool(self.offers or self.licences)


@dataclass(frozen=True)
class Planned:
    """An input checked before anything is paid: an offer to buy under, or a licence already held."""

    asset_id: int
    offer: Offer
    licence_id: int | None = None  # held already
    price_limit: int = 0  # `max_price` passed to `buy`


@dataclass(frozen=True)
class InputCheck:
    """A recorded input as the chain has it now."""

    input: D.InputAsset
    status: str  # domain.job_inputs: VALID, EXPIRED, REVOKED, ...
    holder: str
    expires_at: int

    @property
    def valid(self) -> bool:
        return self.status == D.VALID


@dataclass(frozen=True)
class JobInputsView:
    """A job's terms document (by CID) and its input licences checked on chain; `problem`: why the
    document itself cannot be trusted (another chain or licensing contract, another client)."""

    terms_cid: str
    terms: D.JobTerms | None  # None: the document claims to be one but is malformed (`problem`)
    checks: list[InputCheck] = field(default_factory=list)
    problem: str | None = None

    @property
    def all_valid(self) -> bool:
        return self.problem is None and all(c.valid for c in self.checks)


def plan(
    ws: Workspace, client: str, inputs: JobInputs, *, deadline: int, budget: int
) -> builtins.list[Planned]:
    """Every check before anything is paid: the number of inputs, each offer (known, active, not lapsed,
    not sold out, of a download kind unless compute is allowed, lasting past the job's deadline, at a
    price within the limit), each licence held already (the client's, valid until the deadline), and the
    client's balance in every token the flow spends (the job's budget with the fees in its token)."""
    D.check_input_count(len(inputs.offers), len(inputs.licences))
    D.check_distinct(list(inputs.offers), "offer")
    D.check_distinct(list(inputs.licences), "licence")
    if inputs.max_licence_fee is not None and inputs.max_licence_fee < 0:
        raise InvalidInput("the most a licence may cost cannot be negative")
    licensing = ws.licensing
    now = ws.chain.next_timestamp()
    planned = []
    for offer_id in inputs.offers:
        offer = licensing.get_offer(offer_id)
        _check_offer(ws, offer, inputs, now, deadline)
        limit = offer.price if inputs.max_licence_fee is None else inputs.max_licence_fee
        if offer.price > limit:
            raise NotAllowed(
                f"offer {offer_id} costs {offer.price} units, more than the {limit} a licence may cost "
                "(--max-licence-fee)"
            )
        planned.append(Planned(offer.asset_id, offer, None, limit))
    for licence_id in inputs.licences:
        lic = licensing.licence(licence_id)
        _check_held(lic, client, inputs, deadline)
        planned.append(Planned(lic.asset_id, licensing.get_offer(lic.offer_id), licence_id))
    D.check_distinct([p.asset_id for p in planned], "input asset")
    _check_balances(ws, client, planned, budget)
    return planned


def _check_offer(ws: Workspace, offer: Offer, inputs: JobInputs, now: int, deadline: int) -> None:
    oid = offer.offer_id
    if not offer.active:
        raise NotAllowed(f"licence offer {oid} was withdrawn by the asset's owner")
    owner = ws.asset_registry.asset(offer.asset_id).owner
    if owner.lower() != offer.seller.lower():
        raise NotAllowed(
            f"licence offer {oid} lapsed: asset {offer.asset_id} changed hands since it was made "
            "(its new owner makes its own offers)"
        )
    if offer.max_licences and offer.sold >= offer.max_licences:
        raise NotAllowed(f"licence offer {oid} is sold out ({offer.sold} of {offer.max_licences})")
    if offer.kind == COMPUTE and not inputs.allow_compute:
        raise NotAllowed(
            f"licence offer {oid} is compute-only: its files are never released, so the job's freelancer "
            "could not get them (--compute-input names it anyway)"
        )
    if offer.term_seconds and now + offer.term_seconds < deadline:
        raise NotAllowed(
            f"a licence under offer {oid} lasts {offer.term_seconds} s: it would lapse before the job's deadline"
        )


def _check_held(lic: Licence, client: str, inputs: JobInputs, deadline: int) -> None:
    lid = lic.licence_id
    if not lic.holder or lic.holder.lower() != client.lower():
        raise NotAllowed(f"licence {lid} is not held by the job's client {client}")
    if not lic.valid:
        raise NotAllowed(f"licence {lid} is {'revoked' if lic.revoked else 'expired'}")
    if lic.kind == COMPUTE and not inputs.allow_compute:
        raise NotAllowed(
            f"licence {lid} is compute-only: the job's freelancer could not get the files "
            "(--compute-input names it anyway)"
        )
    if lic.expires_at and lic.expires_at < deadline:
        raise NotAllowed(f"licence {lid} expires before the job's deadline")


def _check_balances(ws: Workspace, client: str, planned: builtins.list[Planned], budget: int) -> None:
    """The client holds what the flow spends in every token: the fees to buy, and in the job's token
    the budget too."""
    needs: dict[str, int] = {ws.token.address.lower(): budget}
    for p in planned:
        if p.licence_id is None and p.offer.price:
            key = p.offer.token.lower()
            needs[key] = needs.get(key, 0) + p.offer.price
    for token_address, need in needs.items():
        token = ws.token_at(token_address)
        held = token.balance_of(client)
        if held < need:
            fees = need - budget if token_address == ws.token.address.lower() else need
            raise InvalidInput(
                f"insufficient balance: {client} has {held} units of {_symbol(token)}, the job and its "
                f"licences need {need} ({fees} in licence fees)"
            )


def _symbol(token: Any) -> str:
    """The token's symbol, or its address when it has none (`symbol` is optional in ERC-20)."""
    try:
        return str(token.symbol)
    except ProofworkError:
        return str(token.address)


def _buy(
    ws: Workspace, client: Signer, p: Planned, funding: Funding
) -> tuple[int, builtins.list[tuple[str, Receipt]]]:
    """Buys one planned licence: with a permit riding along, or approve then `buy`."""
    licensing = ws.licensing
    offer = p.offer
    token = ws.token_at(offer.token)
    receipts = []
    permit = None
    if offer.price and token.allowance(client.address, licensing.address) < offer.price:
        if funding == "permit" and token.supports_permit():
            deadline = ws.chain.next_timestamp() + PERMIT_LIFETIME
            v, r, s = token.sign_permit(client.key, licensing.address, offer.price, deadline)
            permit = (deadline, v, r, s)
        else:
            receipts.append(
                ("approve licence fee", token.approve(client.key, licensing.address, offer.price))
            )
    receipt = licensing.buy(client.key, offer.offer_id, p.price_limit, permit)
    receipts.append((f"buy licence (offer {offer.offer_id}, asset {offer.asset_id})", receipt))
    return licensing.licence_id_of(receipt), receipts


def _recorded(p: Planned, licence_id: int) -> D.InputAsset:
    o = p.offer
    return D.InputAsset(o.asset_id, o.offer_id, licence_id, D.KINDS[o.kind], o.commercial, o.token, o.price)


def post(
    jobs: Jobs, client: Signer, inputs: JobInputs, *, spec_hash: bytes, funding: Funding, **terms: Any
) -> Outcome:
    """Checks everything, buys the licences, records them in the job's terms document and posts the
    job with its digest as spec hash (`spec_hash`, the client's own spec, is recorded in it); `terms`:
    the job's, as `Jobs.post` takes them."""
    from proofwork.storage.unixfs import cid_digest

    ws = jobs.ws
    planned = checked(jobs, client.address, client.name, inputs, spec_hash, terms)

    receipts: builtins.list[tuple[str, Receipt]] = []
    recorded: builtins.list[D.InputAsset] = []
    bought: builtins.list[int] = []
    try:
        for p in planned:
            if p.licence_id is not None:
                recorded.append(_recorded(p, p.licence_id))
                continue
            licence_id, steps = _buy(ws, client, p, funding)
            bought.append(licence_id)
            receipts.extend(steps)
            recorded.append(_recorded(p, licence_id))
        terms_cid = store_terms(ws, client.address, recorded, inputs, spec_hash)
        out = jobs.post(client, spec_hash=cid_digest(terms_cid), funding=funding, **terms)
    except ProofworkError as exc:
        if not bought:
            raise
        raise PartlyDone(_not_posted(bought, inputs, exc)) from exc
    receipts += out.receipts
    if inputs.distribute:
        try:
            receipts += _distribute(ws, client, [i for i in recorded if i.licence_id in bought])
        except ProofworkError as exc:
            raise PartlyDone(
                f"job {out.job.job_id} posted with its licences, but sending the royalties up the lineage "
                f"failed: {exc}; anyone may retry (`proofwork asset distribute`)"
            ) from exc
    return replace(out, receipts=receipts, input_assets=recorded, terms_cid=terms_cid)


def checked(
    jobs: Jobs, client: str, client_name: str, inputs: JobInputs, spec_hash: bytes, terms: dict[str, Any]
) -> builtins.list[Planned]:
    """The checks of the whole flow before anything is signed: the job's (`Jobs.check_post`), the spec
    CID against the spec hash, then `plan`."""
    from proofwork.storage.unixfs import cid_digest

    amounts, _, _ = jobs.check_post(client, client_name, spec_hash=spec_hash, **terms)
    if inputs.spec_cid is not None and spec_hash != J.ZERO_HASH and cid_digest(inputs.spec_cid) != spec_hash:
        raise InvalidInput("the spec hash is not the digest of the spec CID")
    return plan(jobs.ws, client, inputs, deadline=terms["deadline"], budget=sum(amounts))


def recorded_inputs(planned: builtins.list[Planned]) -> builtins.list[D.InputAsset]:
    """The inputs of a plan whose licences are all held (a wallet's flow, once it bought them)."""
    return [_recorded(p, p.licence_id) for p in planned if p.licence_id is not None]


def store_terms(
    ws: Workspace, client: str, recorded: builtins.list[D.InputAsset], inputs: JobInputs, spec_hash: bytes
) -> str:
    """The job's terms document, stored by CID (the same terms make the same bytes, so the same CID)."""
    from proofwork.storage.unixfs import cid_digest

    own: bytes | None = None
    if inputs.spec_cid is not None:
        own = cid_digest(inputs.spec_cid)
    elif spec_hash != J.ZERO_HASH:
        own = spec_hash
    document = D.JobTerms(ws.chain_id, ws.licensing.address, client, tuple(recorded), inputs.spec_cid, own)
    return ws.store.add_bytes(document.canonical_bytes())


def _not_posted(bought: builtins.list[int], inputs: JobInputs, exc: ProofworkError) -> str:
    held = sorted(set(bought) | set(inputs.licences))
    again = " ".join(f"--input-licence {i}" for i in held)
    names = ", ".join(str(i) for i in bought)
    return (
        f"licence{'s' if len(bought) > 1 else ''} {names} bought and yours (no funds lost: the fees paid "
        f"for them, the job's budget is still in your wallet), but the job was not posted: {exc}; "
        f"post it again naming them ({again}) to not buy them twice"
    )


def _distribute(
    ws: Workspace, caller: Signer, paid: builtins.list[D.InputAsset]
) -> builtins.list[tuple[str, Receipt]]:
    """Sends what the purchases left pending up each asset's whole lineage, children before parents
    (anyone may; with it, every upstream share is claimable at once)."""
    from proofwork.services.assets import lineage

    licensing = ws.licensing
    todo: set[tuple[int, str]] = set()
    for bought in paid:
        todo |= {(asset_id, bought.token) for asset_id in lineage(ws, bought.asset_id)}
    receipts = []
    for asset_id, token in sorted(todo, reverse=True):  # a parent's id is below its child's
        if licensing.pending(asset_id, token):
            receipts.append(
                (f"distribute asset {asset_id}", licensing.distribute(caller.key, asset_id, token))
            )
    return receipts


def view(ws: Workspace, job: J.Job) -> JobInputsView | None:
    """The job's terms document, when its spec hash names one in the store, with each input licence
    checked on chain now; None when the job names no input assets (or its document is not held here)."""
    from proofwork.storage.store import StoreUnavailable

    if job.spec_hash == J.ZERO_HASH or not ws.deployment.licensing:
        return None
    try:
        cid = ws.store.find_by_digest(job.spec_hash)
        if cid is None or ws.store.size(cid) > D.MAX_TERMS_BYTES:
            return None
        data = ws.store.read_bytes(cid, D.MAX_TERMS_BYTES)
    except (StoreUnavailable, InvalidInput):
        return None
    if not D.is_terms_document(data):
        return None
    try:
        terms = D.parse_terms(data)
    except InvalidInput as exc:
        return JobInputsView(cid, None, problem=str(exc))
    licensing = ws.licensing
    if terms.chain_id != ws.chain_id or not J.same_address(terms.licensing, licensing.address):
        return JobInputsView(cid, terms, problem="its licences are on another chain or licensing contract")
    if not J.same_address(terms.client, job.client):
        return JobInputsView(
            cid, terms, problem=f"it names {terms.client}, not the job's client, as licensee"
        )
    now = ws.chain.next_timestamp()
    checks = []
    for recorded in terms.inputs:
        try:
            lic = licensing.licence(recorded.licence_id)
        except NotFound:
            checks.append(InputCheck(recorded, "unknown licence", "", 0))
            continue
        status = D.input_status(
            recorded,
            job.client,
            holder=lic.holder,
            asset_id=lic.asset_id,
            offer_id=lic.offer_id,
            revoked=lic.revoked,
            expires_at=lic.expires_at,
            now=now,
        )
        if status == D.VALID and not lic.valid:  # the chain's own answer has the last word
            status = D.EXPIRED
        checks.append(InputCheck(recorded, status, lic.holder, lic.expires_at))
    return JobInputsView(cid, terms, checks)


def view_json(found: JobInputsView | None) -> dict[str, Any] | None:
    """The job's input assets as JSON for the CLI and the API (None: the job names none)."""
    if found is None:
        return None
    return {
        "terms_cid": found.terms_cid,
        "problem": found.problem,
        "all_valid": found.all_valid,
        "input_assets": [
            {
                **c.input.to_dict(),
                "status": c.status,
                "valid": c.valid,
                "holder": c.holder or None,
                "expires_at": c.expires_at or None,
            }
            for c in found.checks
        ]
        if found.problem is None or found.terms is None
        else [i.to_dict() for i in found.terms.inputs],
    }
