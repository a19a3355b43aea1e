"""Compile the Vyper contracts from source, caching artifacts by source hash.

The cache key covers the contract, every project contract it may import, the snekmate
modules and the compiler version, so an edit anywhere that could change the bytecode
compiles again, and an unchanged tree loads in milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from proofwork.domain.errors import DataDirCorrupted, NotFound

# contracts/ sits beside src/ in the repository; an installed copy can point elsewhere.
DEFAULT_CONTRACTS_DIR = Path(__file__).resolve().parents[3] / "contracts"


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    source_hash: str  # hex sha256 of everything the compilation depended on


def contracts_dir() -> Path:
    return Path(os.environ.get("PROOFWORK_CONTRACTS_DIR", DEFAULT_CONTRACTS_DIR))


def _snekmate_dir() -> Path:
    import snekmate

    return Path(next(iter(snekmate.__path__)))


def _source_hash(source: Path, root: Path) -> str:
    import vyper

    digest = hashlib.sha256()
    digest.update(f"vyper {vyper.__version__}\n".encode())
    # Paths relative to their tree: the same sources hash the same in any checkout.
    digest.update(source.relative_to(root).as_posix().encode())
    # Test tokens under mocks/ are never imported by real contracts: editing one must not
    # make the deployed escrow look out of date.
    own_mock = source.relative_to(root).parts[0] == "mocks"
    for tree in (root, _snekmate_dir()):
        for path in sorted(tree.rglob("*.vy*")):
            relative = path.relative_to(tree)
            if tree == root and relative.parts[0] == "mocks" and not own_mock:
                continue
            digest.update(relative.as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


class ArtifactStore:
    """Finds contract sources by name and compiles them once per source hash."""

    def __init__(self, cache_dir: Path, root: Path | None = None) -> None:
        self.cache_dir = cache_dir
        self.root = root or contracts_dir()
        self._memory: dict[str, Artifact] = {}

    def source_of(self, name: str) -> Path:
        matches = [p for p in self.root.rglob(f"{name}.vy")]
        if not matches:
            raise NotFound(f"no contract named {name} under {self.root}")
        return matches[0]

    def get(self, name: str) -> Artifact:
        if name in self._memory:
            return self._memory[name]
        source = self.source_of(name)
        key = _source_hash(source, self.root)
        cached = self.cache_dir / f"{name}-{key[:16]}.json"
        artifact = self._load(cached, name, key) if cached.exists() else None
        if artifact is None:
            artifact = self._compile(source, name, key)
            self._save(cached, artifact)
        self._memory[name] = artifact
        return artifact

    def _load(self, path: Path, name: str, key: str) -> Artifact | None:
        try:
            data = json.loads(path.read_text())
            if data["source_hash"] != key:
                return None
            return Artifact(name, data["abi"], bytes.fromhex(data["bytecode"]), key)
        except (OSError, ValueError, KeyError):
            # A damaged cache entry is only a cache miss: compile again and overwrite it.
            return None

    def _save(self, path: Path, artifact: Artifact) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            payload = {
                "source_hash": artifact.source_hash,
                "abi": artifact.abi,
                "bytecode": artifact.bytecode.hex(),
            }
            with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as tmp:
                json.dump(payload, tmp)
            os.replace(tmp.name, path)
        except OSError as exc:
            raise DataDirCorrupted(
                f"cannot write the artifact cache in {path.parent}: {exc.strerror}"
            ) from exc

    def _compile(self, source: Path, name: str, key: str) -> Artifact:
        import vyper
        from vyper.cli.vyper_compile import get_search_paths
        from vyper.compiler.input_bundle import FilesystemInputBundle

        bundle = FilesystemInputBundle(get_search_paths([str(self.root)], include_sys_path=True))
        out = vyper.compile_code(
            source.read_text(),
            contract_path=str(source),
            input_bundle=bundle,
            output_formats=["abi", "bytecode"],
        )
        bytecode = out["bytecode"]
        return Artifact(name, out["abi"], bytes.fromhex(bytecode.removeprefix("0x")), key)
