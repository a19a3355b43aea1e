"""The deployment manifest: where proofwork's contracts live on one chain, and the ABI each was
deployed with.

Handles on deployed contracts are built from the ABI recorded here, never from whatever this
installation ships: after an upgrade, contracts deployed by an older proofwork are still spoken to
in their own terms.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from proofwork.chain.artifacts import Artifact, ArtifactStore
from proofwork.domain.errors import DataDirCorrupted, NotAllowed
from proofwork.storage.files import save_json

Abi = list[dict[str, Any]]

# The manifest field holding each deployed contract's address -> the contract it is.
CONTRACTS: dict[str, str] = {
    "escrow": "JobEscrow",
    "token": "StableToken",  # or an existing ERC-20, spoken to through StableToken's ERC-20 ABI
    "committee": "OracleCommittee",
    "competition": "Competition",
    "issuer_registry": "IssuerRegistry",
    "badges": "SkillBadge",
    "schema_registry": "SchemaRegistry",
    "attestations": "Attestations",
    "job_attester": "JobAttester",
    "resolver": "ProofworkResolver",
    "court_token": "CourtToken",
    "court": "Court",
    "arbitrable": "EscrowArbitrable",
    "asset_registry": "AssetRegistry",
    "licensing": "Licensing",
    "label_payouts": "LabelPayouts",
    "funding_rounds": "FundingRound",
}
ROLE_OF = {name: role for role, name in CONTRACTS.items()}
IDENTITY_ROLES = ("issuer_registry", "badges", "schema_registry", "attestations", "job_attester", "resolver")
# The command that deploys a fresh set of each family.
_REDEPLOY = {
    "escrow": "deploy",
    "token": "deploy",
    "committee": "committee deploy",
    "competition": "committee deploy",
    **dict.fromkeys(IDENTITY_ROLES, "identity deploy"),
    **dict.fromkeys(("court_token", "court", "arbitrable"), "court deploy"),
    **dict.fromkeys(("asset_registry", "licensing"), "asset deploy"),
    "label_payouts": "label deploy",
    "funding_rounds": "round deploy",
}


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
    identity_source_hash: str = ""  # JobAttester's (its hash covers every identity contract's sources)
    # The court (empty until `proofwork court deploy`): PWK, the court, the escrow's arbitrable adapter,
    # and the parameters they were deployed with (the court keeps them in immutables without getters).
    court_token: str = ""
    court: str = ""
    arbitrable: str = ""
    court_block: int = 0
    court_token_source_hash: str = ""
    court_source_hash: str = ""
    arbitrable_source_hash: str = ""
    court_params: dict[str, Any] = field(default_factory=dict)
    # Models and datasets as assets (empty until `proofwork asset deploy`): the registry on this escrow
    # and the licensing contract on the registry.
    asset_registry: str = ""
    licensing: str = ""
    assets_block: int = 0
    asset_registry_source_hash: str = ""
    licensing_source_hash: str = ""
    # Labeling campaigns (empty until `proofwork label deploy` or `proofwork serve`): LabelPayouts.
    label_payouts: str = ""
    label_payouts_block: int = 0
    label_payouts_source_hash: str = ""
    # Quadratic funding rounds (empty until `proofwork round deploy`), on the identity contracts.
    funding_rounds: str = ""
    funding_rounds_block: int = 0
    funding_rounds_source_hash: str = ""
    # The ABI each contract was deployed with, by the field naming its address (see CONTRACTS).
    # Manifests written before ABIs were recorded have none: see `with_recorded_abis`.
    abis: dict[str, Abi] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The record without the ABIs (for command output: they are in the manifest file)."""
        return {k: v for k, v in asdict(self).items() if k != "abis"}

    def address_of(self, role: str) -> str:
        return str(getattr(self, role))

    def source_hash_of(self, role: str) -> str:
        """The recorded source hash the contract at `role` was compiled from ("" if unknown)."""
        if role in IDENTITY_ROLES:
            return self.identity_source_hash
        return str(getattr(self, f"{role}_source_hash", ""))


def load_manifest(path: Path) -> Deployment | None:
    if not path.exists():
        return None
    try:
        deployment = Deployment(**json.loads(path.read_text()))
        abis = deployment.abis
        if not isinstance(abis, dict) or not all(
            role in CONTRACTS and isinstance(abi, list) and all(isinstance(item, dict) for item in abi)
            for role, abi in abis.items()
        ):
            raise ValueError("abis")
        return deployment
    except (OSError, ValueError, TypeError) as exc:
        raise DataDirCorrupted(
            f"deployment manifest {path} is damaged: fix or delete it and redeploy"
        ) from exc


def save_manifest(path: Path, deployment: Deployment) -> None:
    save_json(path, asdict(deployment))


def _shipped_if_same_sources(deployment: Deployment, role: str, shipped: ArtifactStore) -> Artifact | None:
    """The shipped artifact, when it provably has the ABI the contract at `role` was deployed with:
    compiled from the same sources by the same compiler (the recorded source hash says so), or the
    token is an existing ERC-20 (always spoken to through the ERC-20 ABI)."""
    recorded = deployment.source_hash_of(role)
    if role == "token" and not recorded:
        return shipped.get(CONTRACTS[role])
    # An identity contract's hash is JobAttester's: it covers the sources of all of them.
    reference = shipped.get("JobAttester" if role in IDENTITY_ROLES else CONTRACTS[role])
    return shipped.get(CONTRACTS[role]) if recorded and recorded == reference.source_hash else None


def with_recorded_abis(deployment: Deployment, shipped: ArtifactStore) -> Deployment:
    """A manifest from before ABIs were recorded, completed with the shipped ABI of every deployed
    contract built from the same sources as the shipped artifacts (the same ABI, by construction).
    Contracts built from other sources stay without one: `artifact_for` refuses them."""
    missing = {
        role: artifact.abi
        for role in CONTRACTS
        if role not in deployment.abis
        and deployment.address_of(role)
        and (artifact := _shipped_if_same_sources(deployment, role, shipped)) is not None
    }
    return replace(deployment, abis={**deployment.abis, **missing}) if missing else deployment


def upgrade_manifest(path: Path, deployment: Deployment, shipped: ArtifactStore) -> Deployment:
    """`with_recorded_abis`, saved: once this installation is replaced by one built from other
    sources, the ABIs recorded now are the only way to talk to these contracts."""
    upgraded = with_recorded_abis(deployment, shipped)
    if upgraded != deployment:
        # a read-only data directory: the upgrade holds for this process and is retried next time
        with contextlib.suppress(DataDirCorrupted):
            save_manifest(path, upgraded)
    return upgraded


def artifact_for(deployment: Deployment, role: str, shipped: ArtifactStore) -> Artifact:
    """What a handle on the deployed contract at `role` is built from: the ABI recorded with the
    deployment (bytecode is not needed to talk to a deployed contract)."""
    name = CONTRACTS[role]
    abi = deployment.abis.get(role)
    if abi is not None:
        return Artifact(name, abi, b"", deployment.source_hash_of(role))
    artifact = _shipped_if_same_sources(deployment, role, shipped)
    if artifact is not None:
        return artifact
    raise NotAllowed(
        f"the {name} at {deployment.address_of(role)} was deployed by another proofwork version, which "
        f"recorded no ABI for it: use that version, or `proofwork {_REDEPLOY[role]} --force` for new contracts"
    )
