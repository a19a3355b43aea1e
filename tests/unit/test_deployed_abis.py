"""Deployed contracts are spoken to with the ABI recorded for their deployment (real embedded chain).

An installation built from other sources (an upgrade) must still talk to contracts an older one
deployed; a manifest written before ABIs were recorded is completed when its contracts come from the
shipped sources, and refused in one line otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from proofwork.chain import artifacts
from proofwork.chain.artifacts import ArtifactStore
from proofwork.domain.errors import DataDirCorrupted, NotAllowed
from proofwork.sdk import Proofwork
from proofwork.services import deployment
from proofwork.services.manifest import CONTRACTS, artifact_for, load_manifest

DAY = 86_400


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with every contract family deployed and dev1 funded (never written to:
    tests work on copies)."""
    data = tmp_path_factory.mktemp("deployed") / "data"
    with Proofwork.open(data) as pw:
        pw.deploy("dev0")
        pw.deploy_committee(["dev6", "dev7", "dev8", "dev9"], f=1)
        pw.identity.deploy("dev0")
        pw.court.deploy("dev0")
        pw.assets.deploy("dev0")
        deployment.deploy_labeling(pw.ws, pw.signer("dev0"))
        deployment.deploy_funding_rounds(pw.ws, pw.ws.signer("dev0"))
        pw.fund("dev1", pw.amount("1000"))
    return data


@pytest.fixture
def data_dir(deployed: Path, tmp_path: Path) -> Path:
    shutil.copytree(deployed, tmp_path / "data")
    return tmp_path / "data"


def manifest_file(data_dir: Path) -> Path:
    return next((data_dir / "deployments").glob("*.json"))


def edit_manifest(data_dir: Path, **changes: Any) -> dict[str, Any]:
    path = manifest_file(data_dir)
    manifest = json.loads(path.read_text())
    for key, value in changes.items():
        if value is None:
            manifest.pop(key)
        else:
            manifest[key] = value
    path.write_text(json.dumps(manifest))
    return manifest


def post_and_read(pw: Proofwork) -> None:
    """Posts a job and reads it back: token and escrow calls, a transaction, event decoding."""
    client = pw.signer("dev1")
    posted = pw.jobs.post(
        client,
        budget=pw.amount("10"),
        freelancer=pw.address("dev2"),
        deadline=pw.now() + 7 * DAY,
        review_period=3 * DAY,
    )
    assert pw.jobs.get(posted.job.job_id).budget == pw.amount("10")


@pytest.fixture
def newer_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """This installation's artifacts as a later proofwork might ship them: other sources, and ABIs
    in which no function or event of the deployed contracts can be found."""
    directory = tmp_path / "newer"
    directory.mkdir()
    for name in ArtifactStore().names():
        data = json.loads((Path(str(artifacts.shipped_dir())) / f"{name}.json").read_text())
        data["source_hash"] = "ab" * 32
        for item in data["abi"]:
            if "name" in item:
                item["name"] = "v2_" + item["name"]
        (directory / f"{name}.json").write_text(json.dumps(data))
    monkeypatch.setattr(artifacts, "shipped_dir", lambda: directory)
    yield directory


def test_a_deployment_records_the_abi_of_every_contract(data_dir: Path) -> None:
    manifest = json.loads(manifest_file(data_dir).read_text())
    shipped = ArtifactStore()
    assert set(manifest["abis"]) == set(CONTRACTS)
    for role, name in CONTRACTS.items():
        assert manifest["abis"][role] == shipped.get(name).abi, role
    # command output (deploy, chain status) shows the record without them
    recorded = load_manifest(manifest_file(data_dir))
    assert recorded is not None and recorded.summary() == {k: v for k, v in manifest.items() if k != "abis"}


def test_handles_use_the_recorded_abi_not_the_installed_one(data_dir: Path, newer_install: Path) -> None:
    with Proofwork.open(data_dir) as pw:
        installed = pw.ws.artifacts.get("JobEscrow").abi
        assert all(item["name"].startswith("v2_") for item in installed if "name" in item)
        post_and_read(pw)
        ws = pw.ws
        assert len(ws.committee.oracles) == 4 and ws.competitions.count() == 0
        assert ws.issuer_registry.owner() == pw.address("dev0") and ws.badges.minted() == []
        assert ws.job_attester.skill_of(1) == "" and ws.attestations.uids(b"\x01" * 32) == []
        assert ws.court.dispute_count() == 0 and ws.arbitrable.case_count() == 0
        assert ws.court_token.balance_of(pw.address("dev0")) > 0
        assert ws.label_payouts.count() == 0
        assert ws.escrow.contract.abi == ws.deployment.abis["escrow"] != installed


def test_an_old_manifest_from_the_same_sources_is_completed(data_dir: Path) -> None:
    edit_manifest(data_dir, abis=None)
    with Proofwork.open(data_dir) as pw:
        post_and_read(pw)
    manifest = json.loads(manifest_file(data_dir).read_text())
    assert set(manifest["abis"]) == set(CONTRACTS)
    assert manifest["abis"]["escrow"] == ArtifactStore().get("JobEscrow").abi


def test_deploy_completes_an_old_manifest(data_dir: Path) -> None:
    edit_manifest(data_dir, abis=None)
    with Proofwork.open(data_dir) as pw:
        assert not pw.deploy("dev0").created
    assert set(json.loads(manifest_file(data_dir).read_text())["abis"]) == set(CONTRACTS)


def test_an_old_manifest_from_other_sources_is_refused_in_one_line(data_dir: Path) -> None:
    edit_manifest(data_dir, abis=None, escrow_source_hash="cd" * 32)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROOFWORK_")}
    proc = subprocess.run(
        [sys.executable, "-m", "proofwork", "--data-dir", str(data_dir), "job", "list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode != 0 and "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: the JobEscrow at 0x")
    assert "recorded no ABI" in lines[0] and "`proofwork deploy --force`" in lines[0]
    # the contracts it can vouch for got their ABI recorded; the escrow still has none
    abis = json.loads(manifest_file(data_dir).read_text())["abis"]
    assert "escrow" not in abis and "committee" in abis


def test_which_old_contracts_take_the_shipped_abi(deployed: Path) -> None:
    shipped = ArtifactStore()
    old = load_manifest(manifest_file(deployed))
    assert old is not None
    old = replace(old, abis={})
    assert artifact_for(old, "badges", shipped).abi == shipped.get("SkillBadge").abi
    other = replace(old, identity_source_hash="ef" * 32)
    with pytest.raises(NotAllowed, match=r"SkillBadge .* `proofwork identity deploy --force`"):
        artifact_for(other, "badges", shipped)
    with pytest.raises(NotAllowed, match="`proofwork committee deploy --force`"):
        artifact_for(replace(old, competition_source_hash="ef" * 32), "competition", shipped)
    # an existing ERC-20 (no token source hash) is always spoken to through the ERC-20 ABI
    assert artifact_for(replace(old, token_source_hash=""), "token", shipped) == shipped.get("StableToken")


@pytest.mark.parametrize("abis", [{"escrow": "not a list"}, {"nowhere": []}, [], {"escrow": [1]}])
def test_a_damaged_abi_record_is_refused(data_dir: Path, abis: Any) -> None:
    edit_manifest(data_dir, abis=abis)
    with pytest.raises(DataDirCorrupted, match="is damaged"):
        load_manifest(manifest_file(data_dir))
