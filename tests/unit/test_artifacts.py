"""The compiled contracts the package ships: fresh, complete, loaded without the compiler.

`make artifacts` writes them (src/proofwork/chain/compiled); the first test fails while they differ
from a fresh compile of contracts/. Test tokens (mocks/) are compiled on demand, never shipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from proofwork.chain import artifacts, compiler
from proofwork.chain.artifacts import Artifact, ArtifactStore
from proofwork.chain.compiler import ContractCompiler
from proofwork.domain.errors import ArtifactCorrupted, NotFound

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "contracts"
SHIPPED = ROOT / "src" / "proofwork" / "chain" / "compiled"
TEST_MOCKS = ROOT / "tests" / "contracts" / "mocks"


def _through_titanoboa(source: Path, root: Path) -> Artifact:
    """`compiler.compile_contract`'s artifact, from titanoboa's compile of the same source: its disk
    cache (filled by `make test` beside the set-up, keyed by every imported module's source) saves
    compiling each contract twice in one run. The next test checks the two compiles agree."""
    import boa
    from vyper.compiler.output import build_abi_output

    from tests import titanoboa_cache

    titanoboa_cache.use()
    data = boa.load_partial(str(source)).compiler_data
    return Artifact(
        name=source.stem,
        abi=build_abi_output(data),
        bytecode=data.bytecode,
        source_hash=compiler.source_hash(source, root),
        compiler=compiler.compiler_version(),
        source=source.relative_to(root).as_posix(),
    )


def test_shipped_artifacts_match_a_fresh_compile(tmp_path: Path) -> None:
    # what `make artifacts` would write now, from the sources as they are
    written = compiler.build(CONTRACTS, tmp_path, _through_titanoboa)
    fresh, shipped = ArtifactStore(directory=tmp_path), ArtifactStore(directory=SHIPPED)
    problems = compiler.differences(fresh, shipped)
    problems += [
        f"{name}.json is not byte for byte what `make artifacts` writes"
        for name in written
        if (SHIPPED / f"{name}.json").exists()
        and (SHIPPED / f"{name}.json").read_bytes() != (tmp_path / f"{name}.json").read_bytes()
        and not any(problem.startswith(f"{name}:") for problem in problems)
    ]
    assert not problems, (
        "the compiled contracts in src/proofwork/chain/compiled are out of date: run `make artifacts`\n"
        + "\n".join(problems)
    )
    # every deployable contract is there, with what a deployment records
    assert {"JobEscrow", "StableToken", "OracleCommittee", "Competition", "JobAttester"} <= set(written)
    escrow = shipped.get("JobEscrow")
    assert escrow.compiler == "vyper 0.4.3" and escrow.source == "escrow/JobEscrow.vy"
    assert len(escrow.source_hash) == 64 and escrow.bytecode and escrow.abi


@pytest.mark.parametrize("name", ["SchemaRegistry", "Licensing"])
def test_vyper_and_titanoboa_compile_alike(name: str) -> None:
    # `make artifacts` compiles with vyper itself; the test above through titanoboa
    source = compiler.shipped_sources(CONTRACTS)[name]
    assert compiler.compile_contract(source, CONTRACTS) == _through_titanoboa(source, CONTRACTS)


def test_the_installed_package_reads_the_checkouts_artifacts() -> None:
    # the runtime default is the package's data: in a checkout, the files the first test checks
    assert Path(str(artifacts.shipped_dir())).resolve() == SHIPPED.resolve()
    assert ArtifactStore().get("JobEscrow") == ArtifactStore(directory=SHIPPED).get("JobEscrow")


def test_test_tokens_are_not_shipped() -> None:
    shipped = set(ArtifactStore(directory=SHIPPED).names())
    mocks = {p.stem for p in (*CONTRACTS.joinpath("mocks").glob("*.vy"), *TEST_MOCKS.glob("*.vy"))}
    assert mocks and not shipped & mocks
    with pytest.raises(NotFound, match="no compiled contract named FeeOnTransferToken"):
        ArtifactStore(directory=SHIPPED).get("FeeOnTransferToken")


def test_a_stale_artifact_is_reported(tmp_path: Path) -> None:
    shipped = ArtifactStore(directory=SHIPPED)
    for name in shipped.names():
        shutil.copy(SHIPPED / f"{name}.json", tmp_path / f"{name}.json")
    data = json.loads((tmp_path / "SchemaRegistry.json").read_text())
    data["abi"] = data["abi"][1:]
    (tmp_path / "SchemaRegistry.json").write_text(json.dumps(data))
    (tmp_path / "JobEscrow.json").unlink()
    assert compiler.differences(shipped, ArtifactStore(directory=tmp_path)) == [
        "JobEscrow is not shipped",
        "SchemaRegistry: the shipped abi differs from a fresh compile",
    ]


def test_unknown_and_damaged_artifacts(tmp_path: Path) -> None:
    store = ArtifactStore(directory=tmp_path)
    with pytest.raises(NotFound, match="no compiled contract named Nope"):
        store.get("Nope")
    with pytest.raises(NotFound):
        store.get("../escrow/JobEscrow")
    for text in ("{broken", "[]", '{"format": 1, "name": "Bad"}', "\xff"):
        (tmp_path / "Bad.json").write_text(text, encoding="latin-1")
        with pytest.raises(ArtifactCorrupted, match="the compiled contract Bad"):
            ArtifactStore(directory=tmp_path).get("Bad")
    good = json.loads((SHIPPED / "StableToken.json").read_text())
    (tmp_path / "StableToken.json").write_text(json.dumps({**good, "bytecode": "0xzz"}))
    with pytest.raises(ArtifactCorrupted):
        ArtifactStore(directory=tmp_path).get("StableToken")


def test_the_runtime_never_imports_the_compiler(tmp_path: Path) -> None:
    """Deploying every contract family from the shipped JSON, in a process where importing vyper,
    snekmate or titanoboa fails (and is recorded)."""
    program = f"""
import sys
tried = []
class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("vyper", "snekmate", "boa"):
            tried.append(name)
            raise ImportError("no compiler at run time: " + name)
sys.meta_path.insert(0, Refuse())
from proofwork.cli.main import run
for argv in (
    ["deploy"],
    ["committee", "deploy", "--from", "dev0", "--oracle", "dev6", "--oracle", "dev7",
     "--oracle", "dev8", "--oracle", "dev9", "--f", "1"],
    ["identity", "deploy", "--from", "dev0"],
    ["job", "list"],
):
    code = run(["--data-dir", {str(tmp_path / "data")!r}, *argv])
    assert code == 0, (argv, code)
print(sorted(m for m in sys.modules if m.split(".")[0] in ("vyper", "snekmate", "boa")), tried)
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROOFWORK_")}
    proc = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[] []"
    manifest = json.loads(next((tmp_path / "data" / "deployments").glob("*.json")).read_text())
    assert manifest["committee"] and manifest["job_attester"]


# --- contracts compiled for tests only (the dev extra), cached by source hash ----------------------


def test_compiles_once_then_loads_from_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "contracts"
    shutil.copytree(CONTRACTS / "mocks", root / "mocks")
    first = ContractCompiler(tmp_path / "cache", root).get("FeeOnTransferToken")
    assert first.bytecode and any(item.get("name") == "transferFrom" for item in first.abi)

    calls: list[str] = []
    original = ContractCompiler._compile

    def counting(self: ContractCompiler, source: Path) -> Artifact:
        calls.append(source.stem)
        return original(self, source)

    monkeypatch.setattr(ContractCompiler, "_compile", counting)
    again = ContractCompiler(tmp_path / "cache", root).get("FeeOnTransferToken")
    assert again == first and calls == []

    source = root / "mocks" / "FeeOnTransferToken.vy"
    source.write_text(source.read_text().replace("amount // 100", "amount // 50"))
    changed = ContractCompiler(tmp_path / "cache", root).get("FeeOnTransferToken")
    assert calls == ["FeeOnTransferToken"] and changed.source_hash != first.source_hash


def test_damaged_cache_entry_is_recompiled(tmp_path: Path) -> None:
    first = ContractCompiler(tmp_path / "cache", TEST_MOCKS).get("NoReturnToken")
    for entry in (tmp_path / "cache").glob("*.json"):
        entry.write_text("{broken")
    assert ContractCompiler(tmp_path / "cache", TEST_MOCKS).get("NoReturnToken") == first


def test_unknown_contract(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no contract named Nope"):
        ContractCompiler(tmp_path, tmp_path).get("Nope")


def test_hash_ignores_mocks_and_the_checkout_location(tmp_path: Path) -> None:
    for place in ("a", "b"):
        shutil.copytree(CONTRACTS, tmp_path / place)
    first = compiler.source_hash(tmp_path / "a" / "escrow" / "JobEscrow.vy", tmp_path / "a")
    assert first == compiler.source_hash(tmp_path / "b" / "escrow" / "JobEscrow.vy", tmp_path / "b")
    (tmp_path / "b" / "mocks" / "FeeOnTransferToken.vy").write_text("# changed")
    assert first == compiler.source_hash(tmp_path / "b" / "escrow" / "JobEscrow.vy", tmp_path / "b")
    (tmp_path / "b" / "escrow" / "IJobEscrow.vyi").write_text("# changed")
    assert first != compiler.source_hash(tmp_path / "b" / "escrow" / "JobEscrow.vy", tmp_path / "b")
