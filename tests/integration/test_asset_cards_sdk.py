"""Cards generated at registration through the SDK on the embedded chain: a paid deliverable's model
card (its author, the dataset it was trained on), an encrypted dataset's Croissant card read from the
plaintext the owner has (the store holds only ciphertext), a timestamped manifest kept card-less so the
timestamp still proves it, and `card=False` or a card given."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from proofwork.domain.assets import Parent
from proofwork.domain.cards import card_format, front_matter
from tests.integration.conftest import DAY, Market
from tests.integration.test_assets_sdk import _file


def test_a_paid_deliverable_gets_a_model_card_naming_its_author_and_its_data(
    am: Market, tmp_path: Path
) -> None:
    pw, assets = am.pw, am.pw.assets
    rows = _file(tmp_path, "rows.csv", b"x,y\n1,0\n")
    data, _ = assets.manifest([rows], kind="dataset", name="rows", license="CC0-1.0")
    dataset = assets.register(am.other, data, sources=[rows]).asset_id
    delivered = _file(tmp_path, "model.onnx", b"the delivered model")
    job = am.post("50").job
    assets.propose_ip_terms(am.client, job.job_id, transfer=True, creator_bps=1_000)
    assets.accept_ip_terms(am.freelancer, job.job_id)
    pw.jobs.submit(am.freelancer, job.job_id, 0, hashlib.sha256(delivered.read_bytes()).digest())
    pw.jobs.approve(am.client, job.job_id, 0)
    manifest, _ = assets.manifest([delivered], kind="model", name="delivered", license="MIT")
    done = assets.register_deliverable(am.client, job.job_id, 0, manifest, parents=[Parent(dataset, 1_000)])
    readme = assets.card(done.asset_id, "hf-readme")
    meta = front_matter(readme)
    registry = pw.ws.asset_registry.address
    assert meta["license"] == "mit" and meta["datasets"] == [
        f"eip155:{pw.ws.chain_id}/erc721:{registry}/{dataset}"
    ]
    assert "model-index" not in meta  # a plain job: no score was settled
    assert f"`{am.freelancer.address}`" in readme and am.client.address not in readme


def test_an_encrypted_dataset_is_described_from_the_owners_plaintext(am: Market, tmp_path: Path) -> None:
    assets = am.pw.assets
    secret = _file(tmp_path, "private.csv", b"age,diagnosis\n41,flu\n7,cold\n")
    manifest, key = assets.manifest(
        [secret], kind="dataset", name="private", license="CC-BY-NC-4.0", encrypt=True
    )
    done = assets.register(am.other, manifest, key=key, sources=[secret])
    card = json.loads(assets.card(done.asset_id))
    (entry,) = card["distribution"]
    assert entry["contentUrl"] == f"ipfs://{manifest.files[0].cid}" and "encrypted" in entry["description"]
    assert entry["sha256"] == hashlib.sha256(secret.read_bytes()).hexdigest()
    fields = {f["name"]: f["dataType"] for f in card["recordSet"][0]["field"]}
    assert fields == {"age": "sc:Integer", "diagnosis": "sc:Text"}
    assert b"flu" not in json.dumps(card).encode()  # the card holds the columns, never a row


def test_a_timestamped_manifest_is_registered_as_stamped(am: Market, tmp_path: Path) -> None:
    pw, assets = am.pw, am.pw.assets
    rows = _file(tmp_path, "early.csv", b"a\n1\n")
    manifest, _ = assets.manifest([rows], kind="dataset", name="early", license="MIT")
    cid, stamped = assets.timestamp(am.freelancer, manifest)
    pw.advance_time(DAY)
    done = assets.register(am.freelancer, manifest, sources=[rows])
    record, kept = assets.show(done.asset_id)
    assert done.manifest_cid == cid and record.existed_since == stamped and kept.card is None


def test_no_card_or_the_card_given(am: Market, tmp_path: Path) -> None:
    assets = am.pw.assets
    model = _file(tmp_path, "m.onnx", b"m")
    bare, _ = assets.manifest([model], kind="model", name="bare", license="MIT")
    assert assets.register(am.other, bare, card=False).manifest.card is None
    given = assets.register(am.other, bare, card={"license": "mit", "tags": ["given"]}).manifest
    assert card_format(given.card) == "huggingface" and front_matter(given.card["readme"])["tags"] == [
        "given"
    ]
