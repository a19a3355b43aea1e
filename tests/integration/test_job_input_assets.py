"""A job that names input assets, through the SDK on the embedded chain and on anvil: the licences are
bought in the flow that funds the job, their fees and royalties reach the assets' lineage (pending and
claimable, to the unit), the job's terms document records them and anyone checks them on chain; every
refusal comes before any money moves; a job that fails after its licences were bought leaves them the
client's, and posting again with them buys nothing twice."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from proofwork.domain import job_inputs as D
from proofwork.domain.assets import Parent, Share
from proofwork.domain.errors import InvalidInput, NotAllowed, NotFound, PartlyDone
from proofwork.sdk import JobInputs, Jobs
from proofwork.services.job_inputs import view
from tests.integration.conftest import DAY, Market


@dataclass
class Lineage:
    """A dataset (owned by the market's arbiter, labeled by `other`) and a model derived from it (owned
    by the operator) with a 30-day download offer; the client is the job's client, dev2 its freelancer."""

    dataset: int
    model: int
    offer: int
    price: int


def _lineage(am: Market, tmp_path: Path) -> Lineage:
    assets = am.pw.assets
    (tmp_path / "train.csv").write_bytes(b"x,y\n1,0\n2,1\n")
    (tmp_path / "model.onnx").write_bytes(b"onnx bytes")
    data, key = assets.manifest(
        [tmp_path / "train.csv"], kind="dataset", name="digits", license="CC-BY-4.0", encrypt=True
    )
    dataset = assets.register(am.arbiter, data, creators=[Share(am.other.address, 3_000)], key=key).asset_id
    files, _ = assets.manifest([tmp_path / "model.onnx"], kind="model", name="clf", license="MIT")
    model = assets.register(am.operator, files, parents=[Parent(dataset, 2_000)]).asset_id
    price = am.pw.amount("100.03")  # not round: the split's rounding is checked too
    offer = assets.offer(am.operator, model, price=price, term_seconds=30 * DAY, commercial=True)
    return Lineage(dataset, model, offer, price)


def _post(am: Market, inputs: JobInputs, budget: str = "500", jobs: Jobs | None = None, **kwargs: Any):  # type: ignore[no-untyped-def]
    pw = am.pw
    kwargs.setdefault("deadline", pw.now() + 7 * DAY)
    return (jobs or pw.jobs).post(
        am.client,
        budget=pw.amount(budget),
        milestones=1,
        review_period=3 * DAY,
        freelancer=am.freelancer.address,
        inputs=inputs,
        **kwargs,
    )


def _money(am: Market) -> dict[str, int]:
    """What a refusal must leave as it was: balances, what the contracts hold, licences and jobs."""
    ws = am.pw.ws
    lic = ws.licensing
    return {
        "client": am.pw.balance(am.client.address),
        "licensing": ws.token.balance_of(lic.address),
        "escrow": ws.token.balance_of(ws.escrow.address),
        "licences": lic.licence_count(),
        "jobs": ws.escrow.job_count(),
    }


def test_the_licence_fee_and_its_royalties_are_paid_in_the_flow_that_funds_the_job(
    am: Market, tmp_path: Path
) -> None:
    pw, ws = am.pw, am.pw.ws
    made = _lineage(am, tmp_path)
    before = _money(am)
    out = _post(am, JobInputs(offers=(made.offer,)))

    # one flow: the licence bought (the permit riding along), then the job created and funded
    assert [name for name, _ in out.receipts] == [
        f"buy licence (offer {made.offer}, asset {made.model})",
        "create+fund",
    ]
    [bought] = out.input_assets
    assert (bought.asset_id, bought.offer_id, bought.kind, bought.price) == (
        made.model,
        made.offer,
        "download",
        made.price,
    )
    lic = pw.assets.licence(bought.licence_id)
    assert lic.holder == am.client.address and lic.valid  # minted to the client, who pays
    after = _money(am)
    budget = pw.amount("500")
    assert after["client"] == before["client"] - budget - made.price
    assert after["escrow"] == before["escrow"] + budget and out.job.held == budget

    # the fee reached the lineage in the same flow: the dataset's 20 % pending, the model's owner's
    # part claimable, to the unit
    to_dataset = made.price * 2_000 // 10_000
    assert ws.licensing.pending(made.dataset, ws.token.address) == to_dataset
    assert ws.licensing.claimable(am.operator.address, ws.token.address) == made.price - to_dataset
    assert after["licensing"] == before["licensing"] + made.price
    # one `distribute` (anyone's) and every upstream account holds what the lineage says
    pw.assets.distribute(am.relayer, made.model)
    expected = pw.assets.explain_sale(made.model, made.price).to_accounts
    assert sum(expected.values()) == made.price
    for who in (am.operator, am.arbiter, am.other):
        assert ws.licensing.claimable(who.address, ws.token.address) == expected[who.address] > 0

    # the job's spec hash is its terms document's digest; the document names the licence, on this chain
    assert out.terms_cid is not None
    raw = ws.store.read_bytes(out.terms_cid, D.MAX_TERMS_BYTES)
    assert hashlib.sha256(raw).digest() == out.job.spec_hash == pw.jobs.get(out.job.job_id).spec_hash
    terms = D.parse_terms(raw)
    assert terms.inputs == (bought,) and terms.client == am.client.address
    assert terms.chain_id == ws.chain_id and terms.licensing == ws.licensing.address
    shown = pw.job_inputs(out.job.job_id)
    assert shown is not None and shown.all_valid and [c.status for c in shown.checks] == [D.VALID]


def test_royalties_can_go_up_the_whole_lineage_in_the_same_flow(am: Market, tmp_path: Path) -> None:
    pw, ws = am.pw, am.pw.ws
    made = _lineage(am, tmp_path)
    out = _post(am, JobInputs(offers=(made.offer,), distribute=True))
    # the sale split the model's fee at once; the dataset's pending share is split one level up
    assert [name for name, _ in out.receipts][-1] == f"distribute asset {made.dataset}"
    assert ws.licensing.pending(made.dataset, ws.token.address) == 0
    expected = pw.assets.explain_sale(made.model, made.price).to_accounts
    for who in (am.operator, am.arbiter, am.other):
        assert ws.licensing.claimable(who.address, ws.token.address) == expected[who.address]
    assert pw.assets.claim(am.relayer, am.other.address) == expected[am.other.address]  # the labeler paid


def test_the_freelancer_sees_each_input_licence_lapse_or_be_revoked(am: Market, tmp_path: Path) -> None:
    pw, ws = am.pw, am.pw.ws
    made = _lineage(am, tmp_path)
    revocable = pw.assets.offer(am.arbiter, made.dataset, price=pw.amount("1"), revocable=True)
    out = _post(am, JobInputs(offers=(made.offer, revocable)), funding="approve")
    names = [name for name, _ in out.receipts]
    assert names[0] == "approve licence fee" and names[-2:] == ["approve", "create+fund"]
    model_licence, data_licence = (i.licence_id for i in out.input_assets)
    ws.licensing.revoke(am.arbiter.key, data_licence, "")
    shown = pw.job_inputs(out.job.job_id)
    assert shown is not None and not shown.all_valid
    assert [c.status for c in shown.checks] == [D.VALID, D.REVOKED]
    pw.advance_time(31 * DAY)
    shown = pw.job_inputs(out.job.job_id)
    assert shown is not None and [c.status for c in shown.checks] == [D.EXPIRED, D.REVOKED]
    assert shown.checks[0].input.licence_id == model_licence


def test_a_spec_file_is_named_in_the_terms_document(am: Market, tmp_path: Path) -> None:
    ws = am.pw.ws
    made = _lineage(am, tmp_path)
    spec_cid = ws.store.add_bytes(b"fine-tune the model on the dataset; report accuracy")
    from proofwork.storage.unixfs import cid_digest

    out = _post(am, JobInputs(offers=(made.offer,), spec_cid=spec_cid), spec_hash=cid_digest(spec_cid))
    terms = D.parse_terms(ws.store.read_bytes(out.terms_cid or "", D.MAX_TERMS_BYTES))
    assert terms.spec_cid == spec_cid and terms.spec_hash == cid_digest(spec_cid)
    with pytest.raises(InvalidInput, match="not the digest of the spec CID"):
        _post(am, JobInputs(offers=(made.offer,), spec_cid=spec_cid), spec_hash=b"\1" * 32)


def _transfer_asset(am: Market, asset_id: int, owner: Any, to: str) -> None:
    registry = am.pw.ws.asset_registry
    fn = registry.contract.functions.transferFrom(owner.address, Web3.to_checksum_address(to), asset_id)
    am.pw.ws.chain.transact(owner.key, fn)


@pytest.mark.parametrize(
    "case",
    [
        "unknown",
        "withdrawn",
        "lapsed",
        "sold-out",
        "compute",
        "above-max-fee",
        "short-term",
        "balance",
        "twice",
        "too-many",
        "held-by-another",
    ],
)
def test_refusals_move_no_money(am: Market, tmp_path: Path, case: str) -> None:
    pw, ws = am.pw, am.pw.ws
    made = _lineage(am, tmp_path)
    inputs = JobInputs(offers=(made.offer,))
    budget, error, match = "500", NotAllowed, ""
    if case == "unknown":
        inputs, error, match = JobInputs(offers=(99,)), NotFound, "no licence offer 99"
    elif case == "withdrawn":
        ws.licensing.withdraw_offer(am.operator.key, made.offer)
        match = "withdrawn"
    elif case == "lapsed":
        _transfer_asset(am, made.model, am.operator, am.relayer.address)
        match = "lapsed: asset .* changed hands"
    elif case == "sold-out":
        capped = pw.assets.offer(am.operator, made.model, price=1, max_licences=1)
        pw.assets.buy(am.other, capped)
        inputs, match = JobInputs(offers=(capped,)), "sold out"
    elif case == "compute":
        compute = pw.assets.offer(am.arbiter, made.dataset, price=1, kind="compute")
        inputs, match = JobInputs(offers=(made.offer, compute)), "compute-only"
    elif case == "above-max-fee":
        inputs = JobInputs(offers=(made.offer,), max_licence_fee=pw.amount("100"))
        match = "more than the 100000000 a licence may cost"
    elif case == "short-term":
        day = pw.assets.offer(am.operator, made.model, price=1, term_seconds=DAY)
        inputs, match = JobInputs(offers=(day,)), "lapse before the job's deadline"
    elif case == "balance":
        # the budget alone is covered, not the budget with the fee
        budget = pw.format(pw.balance(am.client.address) - made.price + 1)
        error, match = InvalidInput, "insufficient balance: .* licence fees"
    elif case == "twice":
        inputs, error, match = JobInputs(offers=(made.offer, made.offer)), InvalidInput, "named twice"
    elif case == "too-many":
        inputs, error = JobInputs(offers=(1, 2, 3), licences=(1, 2)), InvalidInput
        match = "at most 4 input assets"
    elif case == "held-by-another":
        theirs = pw.assets.buy(am.other, made.offer)
        inputs, match = JobInputs(licences=(theirs,)), "not held by the job's client"
    before = _money(am)
    with pytest.raises(error, match=match):
        _post(am, inputs, budget=budget)
    assert _money(am) == before


class _RacedJobs(Jobs):
    """The escrow side of a race: between the licence purchase and the job's creation, another
    transaction of the client's spends its balance (a real transfer), so the creation is refused."""

    def __init__(self, am: Market) -> None:
        super().__init__(am.pw.ws)
        self.am = am
        self.raced = False

    def post(self, client: Any, **kwargs: Any):  # type: ignore[no-untyped-def,override]
        if kwargs.get("inputs") is None and not self.raced:
            self.raced = True
            ws = self.ws
            ws.token.transfer(client.key, self.am.other.address, ws.token.balance_of(client.address))
        return super().post(client, **kwargs)


def test_a_job_refused_after_its_licences_were_bought_leaves_them_the_clients(
    am: Market, tmp_path: Path
) -> None:
    pw, ws = am.pw, am.pw.ws
    made = _lineage(am, tmp_path)
    jobs_before = ws.escrow.job_count()
    with pytest.raises(PartlyDone) as raised:
        _post(am, JobInputs(offers=(made.offer,)), jobs=_RacedJobs(am))
    message = str(raised.value)
    licence_id = ws.licensing.licence_count()
    assert f"licence {licence_id} bought and yours (no funds lost" in message
    assert "the job was not posted: insufficient balance" in message
    assert f"--input-licence {licence_id}" in message and "\n" not in message
    assert ws.escrow.job_count() == jobs_before
    lic = pw.assets.licence(licence_id)
    assert lic.holder == am.client.address and lic.valid
    # the fee reached the lineage all the same: it was the licence's price, not lost
    assert ws.licensing.pending(made.dataset, ws.token.address) == made.price * 2_000 // 10_000

    # the money back, the job posted with the licence already held: nothing bought twice
    ws.token.transfer(am.other.key, am.client.address, ws.token.balance_of(am.other.address))
    before = _money(am)
    out = _post(am, JobInputs(licences=(licence_id,)))
    assert [name for name, _ in out.receipts] == ["create+fund"]
    assert [i.licence_id for i in out.input_assets] == [licence_id]
    assert _money(am)["licences"] == before["licences"]
    shown = view(ws, out.job)
    assert shown is not None and shown.all_valid


def test_the_api_job_lists_its_input_assets_checked_on_chain(am: Market, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from tests.integration.test_asset_api import make_app

    made = _lineage(am, tmp_path)
    out = _post(am, JobInputs(offers=(made.offer,)))
    plain = am.post("5").job
    api = TestClient(make_app(am))
    body = api.get(f"/api/v1/jobs/{out.job.job_id}").json()
    [bought] = out.input_assets
    assert body["inputs"]["terms_cid"] == out.terms_cid and body["inputs"]["all_valid"] is True
    assert body["inputs"]["input_assets"] == [
        {
            **bought.to_dict(),
            "status": "valid",
            "valid": True,
            "holder": am.client.address,
            "expires_at": am.pw.assets.licence(bought.licence_id).expires_at,
        }
    ]
    assert api.get(f"/api/v1/jobs/{plain.job_id}").json()["inputs"] is None


def test_a_fee_in_a_token_without_permits_is_approved_first_and_its_balance_checked(
    am: Market, tmp_path: Path
) -> None:
    """An offer priced in another ERC-20, one without EIP-2612 (a USDC-like test token): the flow
    approves it and buys; a client short of that token is refused before anything is paid."""
    import os

    from proofwork.chain.compiler import ContractCompiler

    pw, ws = am.pw, am.pw.ws
    made = _lineage(am, tmp_path)
    mocks = Path(__file__).resolve().parents[1] / "contracts" / "mocks"
    artifact = ContractCompiler(Path(os.environ["PROOFWORK_CACHE_DIR"]), mocks).get("BlocklistToken")
    address = ws.chain.deploy(am.operator.key, artifact.abi, artifact.bytecode).contract_address
    other = ws.chain.contract(artifact.abi, address)
    assert ws.token.supports_permit() and not ws.token_at(address).supports_permit()
    priced = pw.assets.offer(am.arbiter, made.dataset, price=7_000, token=address, term_seconds=0)

    before = _money(am)
    with pytest.raises(InvalidInput, match=f"has 0 units of {address}, .* need 7000"):
        _post(am, JobInputs(offers=(made.offer, priced)))
    assert _money(am) == before

    ws.chain.transact(am.client.key, other.functions.mint(am.client.address, 7_000))
    out = _post(am, JobInputs(offers=(made.offer, priced)))
    assert [name for name, _ in out.receipts] == [
        f"buy licence (offer {made.offer}, asset {made.model})",
        "approve licence fee",
        f"buy licence (offer {priced}, asset {made.dataset})",
        "create+fund",
    ]
    assert ws.chain.call(other.functions.balanceOf(am.client.address)) == 0
    # the dataset's fee is split in its own token: the labeler's 30 %, the owner the rest
    assert ws.licensing.claimable(am.other.address, address) == 2_100
    assert ws.licensing.claimable(am.arbiter.address, address) == 4_900
    shown = pw.job_inputs(out.job.job_id)
    assert shown is not None and shown.all_valid and len(shown.checks) == 2


def test_a_terms_document_cannot_borrow_another_clients_licences(am: Market, tmp_path: Path) -> None:
    """Another client copies a licensed job's terms document into a job of their own: the copy names the
    first client (its problem said), or, edited, names licences its client does not hold."""
    from dataclasses import replace

    from proofwork.storage.unixfs import cid_digest

    pw, ws = am.pw, am.pw.ws
    made = _lineage(am, tmp_path)
    honest = _post(am, JobInputs(offers=(made.offer,)))
    raw = ws.store.read_bytes(honest.terms_cid or "", D.MAX_TERMS_BYTES)

    def copied(document: bytes) -> Any:
        spec = cid_digest(ws.store.add_bytes(document))
        return pw.jobs.post(
            am.other, budget=pw.amount("5"), deadline=pw.now() + DAY, review_period=DAY, spec_hash=spec
        ).job

    as_is = view(ws, copied(raw))
    assert as_is is not None and not as_is.all_valid and "not the job's client" in (as_is.problem or "")
    edited = replace(D.parse_terms(raw), client=am.other.address)
    claimed = view(ws, copied(edited.canonical_bytes()))
    assert claimed is not None and claimed.problem is None and not claimed.all_valid
    assert [c.status for c in claimed.checks] == [D.NOT_THE_CLIENTS]
    malformed = view(ws, copied(raw.replace(b'"version":1', b'"version":"1"')))
    assert malformed is not None and malformed.terms is None and "version 1" in (malformed.problem or "")


def test_a_wallet_posts_a_job_with_an_input_asset_one_signature_at_a_time(am: Market, tmp_path: Path) -> None:
    """Through the REST API, the server holding no key: the licence's permit and purchase, then (the
    licence named instead of the offer) the job's permit and creation, its spec hash the terms
    document's digest; refused inputs answer with a stable code before anything is signed."""
    from eth_account import Account
    from fastapi.testclient import TestClient

    from tests.integration.test_api import bearer, error_code, sign_in, wallet_sign
    from tests.integration.test_asset_api import make_app

    pw, ws = am.pw, am.pw.ws
    made = _lineage(am, tmp_path)
    api = TestClient(make_app(am))
    auth = bearer(sign_in(api, am.client))
    body: dict[str, Any] = {
        "budget": str(pw.amount("500")),
        "deadline": pw.now() + 7 * DAY,
        "review_period": 3 * DAY,
        "freelancer": am.freelancer.address,
        "input_offers": [made.offer],
    }

    def step(extra: dict[str, Any], status: str) -> dict[str, Any]:
        answer = api.post("/api/v1/jobs", json=body | extra, headers=auth)
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == status, answer.json()
        return dict(answer.json())

    def permit(answer: dict[str, Any], spender: str) -> dict[str, Any]:
        typed = answer["typed_data"]
        assert typed["message"]["spender"] == spender
        signature = Account.sign_typed_data(am.client.key, full_message=typed).signature.hex()
        return {
            "permit_deadline": typed["message"]["deadline"],
            "permit_signature": "0x" + signature.removeprefix("0x"),
        }

    def send(answer: dict[str, Any]) -> dict[str, Any]:
        raw = wallet_sign(answer["transaction"], am.client.key)
        sent = api.post("/api/v1/tx", json={"raw": raw}, headers=auth)
        assert sent.status_code == 200, sent.text
        return dict(sent.json())

    refused = api.post("/api/v1/jobs", json=body | {"max_licence_fee": "1"}, headers=auth)
    assert refused.status_code == 409 and error_code(refused) == "not_allowed"
    before = _money(am)
    buy = step(permit(step({}, "sign_typed_data"), ws.licensing.address), "sign_transaction")
    assert f"offer {made.offer}" in buy["note"] and buy["terms_cid"] is None
    [licence_id] = send(buy)["licence_ids"]
    assert _money(am)["client"] == before["client"] - made.price  # the fee, with its royalties
    assert ws.licensing.pending(made.dataset, ws.token.address) == made.price * 2_000 // 10_000

    body |= {"input_offers": [], "input_licences": [licence_id]}
    create = step(permit(step({}, "sign_typed_data"), ws.escrow.address), "sign_transaction")
    [job_id] = send(create)["job_ids"]
    job = api.get(f"/api/v1/jobs/{job_id}").json()
    assert job["inputs"]["terms_cid"] == create["terms_cid"] and job["inputs"]["all_valid"]
    assert [i["licence_id"] for i in job["inputs"]["input_assets"]] == [licence_id]
    assert _money(am)["client"] == before["client"] - made.price - pw.amount("500")
