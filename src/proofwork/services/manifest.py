"""The deployment manifest: where proofwork's contracts live on one chain."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from proofwork.domain.errors import DataDirCorrupted
from proofwork.storage.files import save_json


@dataclass(frozen=True)
class Deployment:
    chain_id: int
    escrow: str
    token: str
    block: int  # block of the escrow deployment: where event scans start
    deployer: str
    treasury: str
    escrow_source_hash: str
    token_source_hash: str  # empty when the token is an existing ERC-20 we did not deploy
    # The evaluation contracts (empty until `proofwork committee deploy`).
    committee: str = ""
    committee_block: int = 0
    committee_source_hash: str = ""
    competition: str = ""
    competition_block: int = 0
    competition_source_hash: str = ""
    # The identity contracts (empty until `proofwork identity deploy`).
    issuer_registry: str = ""
    badges: str = ""
    schema_registry: str = ""
    attestations: str = ""
    job_attester: str = ""
    resolver: str = ""
    job_completed_schema: str = ""  # 0x-hex schema uid
    review_schema: str = ""
    identity_block: int = 0
    identity_source_hash: str = ""


def load_manifest(path: Path) -> Deployment | None:
    if not path.exists():
        return None
    try:
        return Deployment(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError) as exc:
        raise DataDirCorrupted(
            f"deployment manifest {path} is damaged: fix or delete it and redeploy"
        ) from exc


def save_manifest(path: Path, deployment: Deployment) -> None:
    save_json(path, asdict(deployment))
