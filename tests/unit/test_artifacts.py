from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from proofwork.chain import artifacts
from proofwork.chain.artifacts import ArtifactStore
from proofwork.domain.errors import NotFound


def test_compiles_once_then_loads_from_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "contracts"
    shutil.copytree(artifacts.DEFAULT_CONTRACTS_DIR / "mocks", root / "mocks")
    first = ArtifactStore(tmp_path / "cache", root).get("FeeOnTransferToken")
    assert first.bytecode and any(item.get("name") == "transferFrom" for item in first.abi)

    calls: list[str] = []
    original = ArtifactStore._compile

    def counting(self: ArtifactStore, source: Path, name: str, key: str) -> artifacts.Artifact:
        calls.append(name)
        return original(self, source, name, key)

    monkeypatch.setattr(ArtifactStore, "_compile", counting)
    again = ArtifactStore(tmp_path / "cache", root).get("FeeOnTransferToken")
    assert again == first and calls == []

    source = root / "mocks" / "FeeOnTransferToken.vy"
    source.write_text(source.read_text().replace("amount // 100", "amount // 50"))
    changed = ArtifactStore(tmp_path / "cache", root).get("FeeOnTransferToken")
    assert calls == ["FeeOnTransferToken"] and changed.source_hash != first.source_hash


def test_damaged_cache_entry_is_recompiled(tmp_path: Path) -> None:
    root = tmp_path / "contracts"
    shutil.copytree(artifacts.DEFAULT_CONTRACTS_DIR / "mocks", root / "mocks")
    first = ArtifactStore(tmp_path / "cache", root).get("FeeOnTransferToken")
    for entry in (tmp_path / "cache").glob("*.json"):
        entry.write_text("{broken")
    assert ArtifactStore(tmp_path / "cache", root).get("FeeOnTransferToken") == first


def test_unknown_contract(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no contract named Nope"):
        ArtifactStore(tmp_path, tmp_path).get("Nope")


def test_hash_ignores_mocks_and_the_checkout_location(tmp_path: Path) -> None:
    for place in ("a", "b"):
        shutil.copytree(artifacts.DEFAULT_CONTRACTS_DIR, tmp_path / place)
    first = artifacts._source_hash(tmp_path / "a" / "escrow" / "JobEscrow.vy", tmp_path / "a")
    assert first == artifacts._source_hash(tmp_path / "b" / "escrow" / "JobEscrow.vy", tmp_path / "b")
    (tmp_path / "b" / "mocks" / "FeeOnTransferToken.vy").write_text("# changed")
    assert first == artifacts._source_hash(tmp_path / "b" / "escrow" / "JobEscrow.vy", tmp_path / "b")
    (tmp_path / "b" / "escrow" / "IJobEscrow.vyi").write_text("# changed")
    assert first != artifacts._source_hash(tmp_path / "b" / "escrow" / "JobEscrow.vy", tmp_path / "b")
