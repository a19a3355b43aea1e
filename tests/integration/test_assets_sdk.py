"""Models and datasets as assets through the SDK, on the embedded chain and on anvil: registration with
lineage and timestamps, a paid job's deliverable under its IP terms, licences bought with a permit and
the royalties they pay up the lineage, to the unit."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest

from proofwork.chain.assets import AssetRegistryContract
from proofwork.domain.assets import Parent, Share
from proofwork.domain.errors import DataDirCorrupted, InvalidInput, NotAllowed, NotFound, TransactionRejected
from proofwork.keys.asset_keys import decrypt_stream
from proofwork.services.assets import asset_key
from tests.integration.conftest import DAY, Market


def _file(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_a_sale_pays_the_model_its_creators_and_the_dataset_it_was_trained_on(
    am: Market, tmp_path: Path
) -> None:
    pw, assets = am.pw, am.pw.assets
    labeler, data_owner, engineer, buyer = am.other, am.arbiter, am.freelancer, am.client
    data, _ = assets.manifest(
        [_file(tmp_path, "train.csv", b"x,y\n1,0\n2,1\n")], kind="dataset", name="digits", license="CC-BY-4.0"
    )
    dataset = assets.register(data_owner, data, creators=[Share(labeler.address, 3_000)])
    model_files, _ = assets.manifest(
        [_file(tmp_path, "model.onnx", b"onnx bytes")], kind="model", name="digits-clf", license="MIT"
    )
    model = assets.register(engineer, model_files, parents=[Parent(dataset.asset_id, 2_000)], royalty_bps=500)
    record, manifest = assets.show(model.asset_id)
    assert record.owner == engineer.address and record.parents == (Parent(dataset.asset_id, 2_000),)
    assert manifest is not None and manifest.name == "digits-clf" and manifest.license == "MIT"
    assert pw.ws.asset_registry.royalty_info(model.asset_id, 10_000) == (engineer.address, 500)

    price = pw.amount("100.03")  # not a round number: the split's rounding is checked too
    offer_id = assets.offer(engineer, model.asset_id, price=price, term_seconds=30 * DAY, commercial=True)
    accounts = (labeler, data_owner, engineer, buyer)
    before = {a.address: pw.balance(a.address) for a in accounts}
    licence_id = assets.buy(buyer, offer_id)  # one transaction: the permit rides along
    lic = assets.licence(licence_id)
    assert lic.holder == buyer.address and lic.valid and lic.asset_id == model.asset_id
    assert lic.expires_at >= pw.now() + 30 * DAY - 60
    assert pw.balance(buyer.address) == before[buyer.address] - price

    expected = assets.explain_sale(model.asset_id, price).to_accounts
    assert sum(expected.values()) == price and set(expected) == {
        labeler.address,
        data_owner.address,
        engineer.address,
    }
    # the sale split the model's revenue at once; the dataset's 20 % waits for a distribute (anyone's)
    assert assets.distribute("dev5", model.asset_id) == price * 2_000 // 10_000
    for who in (labeler, data_owner, engineer):
        assert assets.claim("dev5", who.address) == expected[who.address]  # a relayer claims for them
        assert pw.balance(who.address) == before[who.address] + expected[who.address]
    assert pw.ws.token.balance_of(pw.ws.licensing.address) == 0  # every unit paid out

    prov = json.loads(assets.lineage_prov(model.asset_id))
    derived = list(prov["wasDerivedFrom"].values())
    assert derived == [
        {
            "prov:generatedEntity": f"asset:{model.asset_id}",
            "prov:usedEntity": f"asset:{dataset.asset_id}",
            "pw:upstreamBps": {"$": "2000", "type": "xsd:int"},
        }
    ]


def test_a_timestamp_proves_the_asset_existed_before_it_was_registered(am: Market, tmp_path: Path) -> None:
    pw, assets = am.pw, am.pw.assets
    manifest, _ = assets.manifest(
        [_file(tmp_path, "weights.bin", b"secret weights")], kind="model", name="early", license="Apache-2.0"
    )
    cid, stamped = assets.timestamp(am.freelancer, manifest)
    pw.advance_time(10 * DAY)
    done = assets.register(am.freelancer, manifest)
    record, _ = assets.show(done.asset_id)
    assert done.manifest_cid == cid and record.existed_since == stamped <= record.registered_at - 10 * DAY
    # someone else registering the same manifest gets no earlier date
    copied = assets.register(am.other, manifest)
    copy, _ = assets.show(copied.asset_id)
    assert copy.existed_since == copy.registered_at > stamped


@pytest.mark.parametrize("transfer", [True, False], ids=["rights-to-client", "rights-stay"])
def test_a_paid_deliverable_becomes_an_asset_owned_as_the_ip_terms_say(
    am: Market, tmp_path: Path, transfer: bool
) -> None:
    pw, assets = am.pw, am.pw.assets
    delivered = _file(tmp_path, "model.onnx", b"the delivered model")
    job = am.post("50").job
    assets.propose_ip_terms(am.client, job.job_id, transfer=transfer, creator_bps=1_500 if transfer else 0)
    assets.accept_ip_terms(am.freelancer, job.job_id)
    manifest, _ = assets.manifest([delivered], kind="model", name="delivered", license="MIT")
    with pytest.raises((NotAllowed, TransactionRejected)):  # not paid yet
        assets.register_deliverable(am.freelancer if not transfer else am.client, job.job_id, 0, manifest)
    pw.jobs.submit(am.freelancer, job.job_id, 0, hashlib.sha256(delivered.read_bytes()).digest())
    pw.jobs.approve(am.client, job.job_id, 0)
    owner = am.client if transfer else am.freelancer
    done = assets.register_deliverable(owner, job.job_id, 0, manifest)
    record, _ = assets.show(done.asset_id)
    assert record.owner == owner.address and record.job_id == job.job_id and record.milestone == 0
    assert record.deliverable == hashlib.sha256(b"the delivered model").digest()
    share = 1_500 if transfer else 10_000
    assert record.creators == (Share(am.freelancer.address, share),)
    with pytest.raises((NotAllowed, TransactionRejected)):  # once per milestone
        assets.register_deliverable(owner, job.job_id, 0, manifest)
    other, _ = assets.manifest(
        [_file(tmp_path, "else.bin", b"not it")], kind="model", name="x", license="MIT"
    )
    with pytest.raises(InvalidInput, match="deliverable hash"):
        assets.register_deliverable(owner, job.job_id, 0, other)


def test_an_encrypted_asset_is_stored_sealed_and_its_owner_keeps_the_key(am: Market, tmp_path: Path) -> None:
    pw, assets = am.pw, am.pw.assets
    secret = b"patient records, not for everyone\n" * 1000
    manifest, key = assets.manifest(
        [_file(tmp_path, "private.csv", secret)],
        kind="dataset",
        name="private",
        license="CC-BY-NC-4.0",
        encrypt=True,
    )
    assert key is not None and manifest.encrypted
    done = assets.register(am.other, manifest, key=key)
    stored = pw.ws.store.read_bytes(manifest.files[0].cid, 1 << 20)
    assert secret not in stored
    kept = asset_key(pw.ws, done.manifest_cid)
    assert b"".join(decrypt_stream(kept, io.BytesIO(stored))) == secret
    assert manifest.files[0].sha256 == hashlib.sha256(secret).hexdigest()


def test_bad_requests_are_refused_with_one_line_and_change_nothing(am: Market, tmp_path: Path) -> None:
    pw, assets = am.pw, am.pw.assets
    manifest, _ = assets.manifest([_file(tmp_path, "m.bin", b"m")], kind="model", name="m", license="MIT")
    with pytest.raises(NotFound, match="no asset 99"):
        assets.register(am.freelancer, manifest, parents=[Parent(99, 1_000)])
    with pytest.raises(InvalidInput):
        assets.register(am.freelancer, manifest, creators=[Share(am.other.address, 10_001)])
    done = assets.register(am.freelancer, manifest)
    with pytest.raises(NotAllowed, match="only its owner"):
        assets.offer(am.other, done.asset_id, price=1)
    offer_id = assets.offer(am.freelancer, done.asset_id, price=pw.amount("5"))
    with pytest.raises(NotAllowed, match="more than"):
        assets.buy(am.client, offer_id, max_price=pw.amount("4"))
    with pytest.raises(NotFound):
        assets.show(12345)
    with pytest.raises(NotFound):
        assets.buy(am.client, 777)
    pw.ws.licensing.withdraw_offer(am.freelancer.key, offer_id)
    with pytest.raises(NotAllowed, match="withdrawn"):
        assets.buy(am.client, offer_id)
    assert pw.ws.licensing.licence_count() == 0


def test_a_record_is_rebuilt_from_its_log_and_checked_against_the_stored_hash(
    am: Market, tmp_path: Path
) -> None:
    """The registry stores one hash per asset: the record comes back from its AssetRegistered log
    (eth_getLogs on the embedded chain and on anvil), whole, and matches the hash; a node that
    does not serve the log gets a clear error, never a made-up record."""
    pw, assets = am.pw, am.pw.assets
    registry = pw.ws.asset_registry
    base, _ = assets.manifest([_file(tmp_path, "base.bin", b"base")], kind="model", name="b", license="MIT")
    root = assets.register(am.other, base)
    child_files, _ = assets.manifest(
        [_file(tmp_path, "c.bin", b"c")], kind="dataset", name="c", license="MIT"
    )
    child = assets.register(
        am.freelancer,
        child_files,
        creators=[Share(am.other.address, 1_234)],
        parents=[Parent(root.asset_id, 4_321)],
        royalty_bps=250,
        to=am.client.address,
    )
    record = registry.asset(child.asset_id)
    assert record.hash() == registry.record_hash(child.asset_id)
    assert (record.owner, record.manifest, record.kind, record.royalty_bps) == (
        am.client.address,
        child.manifest_cid,
        1,
        250,
    )
    assert record.creators == (Share(am.other.address, 1_234),)
    assert record.parents == (Parent(root.asset_id, 4_321),)
    assert record.registered_at == record.existed_since and record.job_id == 0
    assert registry.royalty_info(child.asset_id, 10_000) == (am.other.address, 250)
    # a handle that scans logs only from after the registration finds none: refused, not guessed
    registered_in = pw.ws.chain.web3.eth.block_number
    pw.ws.token.approve(am.other.key, am.client.address, 1)  # one more block
    assert pw.ws.chain.web3.eth.block_number > registered_in
    blind = AssetRegistryContract(
        pw.ws.chain, pw.ws.artifacts.get("AssetRegistry"), registry.address, registered_in + 1
    )
    with pytest.raises(DataDirCorrupted, match="no AssetRegistered log"):
        blind.asset(child.asset_id)
