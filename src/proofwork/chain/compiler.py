"""Build time only: compile the Vyper contracts into the artifacts the package ships.

Needs the `dev` extra (vyper, snekmate); the runtime never imports this module, it loads the JSON
artifacts through `proofwork.chain.artifacts`. From a checkout:

    python -m proofwork.chain.compiler build contracts src/proofwork/chain/compiled   # `make artifacts`
    python -m proofwork.chain.compiler check contracts src/proofwork/chain/compiled

`ContractCompiler` also compiles contracts that are never shipped (test tokens under `mocks/`,
benchmark peers) with a cache keyed by source hash, for tests and benchmarks.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from proofwork.chain.artifacts import (
    Artifact,
    ArtifactStore,
    artifact_from_json,
    artifact_to_json,
)
from proofwork.domain.errors import DataDirCorrupted, NotFound, ProofworkError

# Test tokens and other doubles: compiled for tests on demand, never shipped.
NOT_SHIPPED = "mocks"


def compiler_version() -> str:
    import vyper

    return f"vyper {vyper.__version__}"


def _snekmate_dir() -> Path:
    import snekmate

    return Path(next(iter(snekmate.__path__)))


def source_hash(source: Path, root: Path) -> str:
    """sha256 over the compiler version, the contract's path under `root`, every project source
    it may import (all of `root` but `mocks/`) and the snekmate modules: an edit anywhere that
    could change the bytecode changes it; moving the checkout does not."""
    digest = hashlib.sha256()
    digest.update(f"{compiler_version()}\n".encode())
    # Paths relative to their tree: the same sources hash the same in any checkout.
    digest.update(source.relative_to(root).as_posix().encode())
    # Test tokens under mocks/ are never imported by real contracts: editing one must not
    # make the deployed escrow look out of date.
    own_mock = source.relative_to(root).parts[0] == NOT_SHIPPED
    for tree in (root, _snekmate_dir()):
        for path in sorted(tree.rglob("*.vy*")):
            relative = path.relative_to(tree)
            if tree == root and relative.parts[0] == NOT_SHIPPED and not own_mock:
                continue
            digest.update(relative.as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def compile_contract(source: Path, root: Path) -> Artifact:
    """Compiles `source` (a .vy file under `root`, which is also its import search path)."""
    import vyper
    from vyper.cli.vyper_compile import get_search_paths
    from vyper.compiler.input_bundle import FilesystemInputBundle

    bundle = FilesystemInputBundle(get_search_paths([str(root)], include_sys_path=True))
    out = vyper.compile_code(
        source.read_text(),
        contract_path=str(source),
        input_bundle=bundle,
        output_formats=["abi", "bytecode"],
    )
    return Artifact(
        name=source.stem,
        abi=out["abi"],
        bytecode=bytes.fromhex(out["bytecode"].removeprefix("0x")),
        source_hash=source_hash(source, root),
        compiler=compiler_version(),
        source=source.relative_to(root).as_posix(),
    )


def shipped_sources(root: Path) -> dict[str, Path]:
    """The contracts the package ships, by name: every .vy under `root` but `mocks/`. Modules
    without an external interface (only ever imported) are left out when compiled."""
    found: dict[str, Path] = {}
    for path in sorted(root.rglob("*.vy")):
        if path.relative_to(root).parts[0] == NOT_SHIPPED:
            continue
        if path.stem in found:
            raise ProofworkError(f"two contracts are named {path.stem}: {found[path.stem]} and {path}")
        found[path.stem] = path
    return found


_IMPORT = re.compile(r"^(?:from\s+\S+\s+)?import\s+(\w+)", re.MULTILINE)


def imported_modules(sources: dict[str, Path]) -> set[str]:
    """Names other sources import (`from . import sortition`): modules, compiled only as part of
    the contracts that use them, even when they declare events or external functions."""
    return {name for path in sources.values() for name in _IMPORT.findall(path.read_text())}


Compile = Callable[[Path, Path], Artifact]


def compile_shipped(root: Path, compile_one: Compile = compile_contract) -> dict[str, Artifact]:
    sources = shipped_sources(root)
    modules = imported_modules(sources)
    compiled = {name: compile_one(path, root) for name, path in sources.items() if name not in modules}
    return {name: artifact for name, artifact in compiled.items() if artifact.abi}


def build(root: Path, out: Path, compile_one: Compile = compile_contract) -> list[str]:
    """Writes every shipped contract's artifact into `out` (and removes artifacts of contracts that
    are gone); returns the names written. Unchanged artifacts are written byte for byte the same.
    `compile_one` is vyper itself; the tests hand in the same compile through titanoboa's cache."""
    artifacts = compile_shipped(root, compile_one)
    out.mkdir(parents=True, exist_ok=True)
    for name, artifact in artifacts.items():
        _write(out / f"{name}.json", artifact_to_json(artifact))
    for stale in out.glob("*.json"):
        if stale.stem not in artifacts:
            stale.unlink()
    return sorted(artifacts)


def differences(fresh: ArtifactStore, shipped: ArtifactStore) -> list[str]:
    """How the `shipped` artifacts differ from `fresh` ones (just built): empty when they match."""
    problems = []
    expected, names = set(fresh.names()), set(shipped.names())
    for name in sorted(names - expected):
        problems.append(f"{name} is shipped but no longer compiled from the sources")
    for name in sorted(expected - names):
        problems.append(f"{name} is not shipped")
    for name in sorted(names & expected):
        try:
            have = shipped.get(name)
        except ProofworkError as exc:
            problems.append(str(exc))
            continue
        want = fresh.get(name)
        for part in ("compiler", "source", "source_hash", "abi", "bytecode"):
            if getattr(have, part) != getattr(want, part):
                problems.append(f"{name}: the shipped {part} differs from a fresh compile")
    return problems


def _write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o644)  # package data: readable by everyone, like the sources
    os.replace(tmp, path)


class ContractCompiler:
    """Compiles contracts under `root` by name, once per source hash (cached in `cache_dir`).

    For contracts the package does not ship: test tokens in `mocks/`, the benchmarks' peers."""

    def __init__(self, cache_dir: Path, root: Path) -> None:
        self.cache_dir = cache_dir
        self.root = root
        self._memory: dict[str, Artifact] = {}

    def source_of(self, name: str) -> Path:
        matches = sorted(self.root.rglob(f"{name}.vy"))
        if not matches:
            raise NotFound(f"no contract named {name} under {self.root}")
        return matches[0]

    def get(self, name: str) -> Artifact:
        if name in self._memory:
            return self._memory[name]
        source = self.source_of(name)
        key = source_hash(source, self.root)
        cached = self.cache_dir / f"{name}-{key[:16]}.json"
        artifact = self._load(cached, name, key) if cached.exists() else None
        if artifact is None:
            artifact = self._compile(source)
            self._save(cached, artifact)
        self._memory[name] = artifact
        return artifact

    def _load(self, path: Path, name: str, key: str) -> Artifact | None:
        try:
            artifact = artifact_from_json(path.read_text(), name)
        except (OSError, ProofworkError):
            # A damaged cache entry is only a cache miss: compile again and overwrite it.
            return None
        return artifact if artifact.source_hash == key else None

    def _save(self, path: Path, artifact: Artifact) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _write(path, artifact_to_json(artifact))
        except OSError as exc:
            raise DataDirCorrupted(
                f"cannot write the artifact cache in {path.parent}: {exc.strerror}"
            ) from exc

    def _compile(self, source: Path) -> Artifact:
        return compile_contract(source, self.root)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m proofwork.chain.compiler",
        description="Compile the contracts into the artifacts proofwork ships (needs the dev extra).",
    )
    parser.add_argument("action", choices=["build", "check"])
    parser.add_argument("contracts", type=Path, help="the contracts directory of a checkout")
    parser.add_argument("out", type=Path, help="where the artifacts go (src/proofwork/chain/compiled)")
    args = parser.parse_args(argv)
    try:
        import vyper  # noqa: F401
    except ImportError:
        print("error: compiling the contracts needs vyper: pip install -e '.[dev]'", file=sys.stderr)
        return 2
    if not args.contracts.is_dir():
        print(f"error: no contracts directory at {args.contracts}", file=sys.stderr)
        return 2
    root = args.contracts.resolve()
    try:
        if args.action == "build":
            names = build(root, args.out)
            print(f"wrote {len(names)} artifacts ({compiler_version()}) to {args.out}: {', '.join(names)}")
            return 0
        with tempfile.TemporaryDirectory() as tmp:
            build(root, Path(tmp))
            problems = differences(ArtifactStore(directory=Path(tmp)), ArtifactStore(directory=args.out))
    except ProofworkError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print("the shipped artifacts are out of date: run `make artifacts`", file=sys.stderr)
        return 1
    print(f"the artifacts in {args.out} match a fresh compile")
    return 0


if __name__ == "__main__":
    sys.exit(main())
