"""The compiled contracts proofwork ships: ABI, bytecode, source hash and compiler version.

They are package data (`proofwork/chain/compiled/<Name>.json`), written by `make artifacts`
(`proofwork.chain.compiler`, build time only) and checked against a fresh compile by the test
suite. The runtime only reads JSON here: it never imports the compiler.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from proofwork.domain.errors import ArtifactCorrupted, NotFound

ARTIFACT_FORMAT = 1
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    source_hash: str  # hex sha256 of everything the compilation depended on
    compiler: str = ""  # e.g. "vyper 0.4.3"
    source: str = ""  # the source's path under contracts/


def artifact_to_json(artifact: Artifact) -> str:
    """The artifact file's text: stable key order and layout, so an unchanged contract gives an
    unchanged file and a changed ABI shows as a readable diff."""
    payload = {
        "format": ARTIFACT_FORMAT,
        "name": artifact.name,
        "source": artifact.source,
        "compiler": artifact.compiler,
        "source_hash": artifact.source_hash,
        "abi": artifact.abi,
        "bytecode": "0x" + artifact.bytecode.hex(),
    }
    return json.dumps(payload, indent=1, sort_keys=True) + "\n"


def artifact_from_json(text: str, name: str) -> Artifact:
    """Parses an artifact file; anything malformed is `ArtifactCorrupted`."""
    try:
        data = json.loads(text)
        abi = data["abi"]
        bytecode = data["bytecode"]
        source_hash = data["source_hash"]
        if data.get("format") != ARTIFACT_FORMAT or data["name"] != name:
            raise ValueError("format or name")
        if not isinstance(abi, list) or not all(isinstance(item, dict) for item in abi):
            raise ValueError("abi")
        if not isinstance(source_hash, str) or not _HEX64.match(source_hash):
            raise ValueError("source_hash")
        if not isinstance(bytecode, str) or not bytecode.startswith("0x"):
            raise ValueError("bytecode")
        return Artifact(
            name,
            abi,
            bytes.fromhex(bytecode[2:]),
            source_hash,
            str(data.get("compiler", "")),
            str(data.get("source", "")),
        )
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise ArtifactCorrupted(f"the compiled contract {name} is damaged: reinstall proofwork") from exc


def shipped_dir() -> Traversable:
    """Where the installed package keeps its compiled contracts."""
    return resources.files("proofwork.chain") / "compiled"


class ArtifactStore:
    """Compiled contracts by name, read from the package's data (or another directory, in tests)."""

    def __init__(self, *, directory: Traversable | Path | None = None) -> None:
        self.directory: Traversable | Path = directory if directory is not None else shipped_dir()
        self._memory: dict[str, Artifact] = {}

    def names(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(
            entry.name.removesuffix(".json")
            for entry in self.directory.iterdir()
            if entry.name.endswith(".json") and entry.is_file()
        )

    def get(self, name: str) -> Artifact:
        if name in self._memory:
            return self._memory[name]
        if not _NAME.match(name):
            raise NotFound(f"no compiled contract named {name!r}")
        entry = self.directory / f"{name}.json"
        if not entry.is_file():
            raise NotFound(
                f"no compiled contract named {name} in {self.directory} "
                "(a checkout writes them with `make artifacts`)"
            )
        try:
            text = entry.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ArtifactCorrupted(
                f"the compiled contract {name} cannot be read: reinstall proofwork"
            ) from exc
        artifact = artifact_from_json(text, name)
        self._memory[name] = artifact
        return artifact
