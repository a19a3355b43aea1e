"""Deploy proofwork's contracts once per chain and record them in the manifest."""

from __future__ import annotations

from dataclasses import dataclass, replace

from proofwork.domain.addresses import parse_address
from proofwork.domain.errors import DataDirCorrupted, InvalidInput, NotAllowed, ProofworkError
from proofwork.domain.job import MAX_FEE_BPS
from proofwork.services.manifest import Deployment, load_manifest, save_manifest, upgrade_manifest
from proofwork.services.workspace import Signer, Workspace

DEFAULT_FEE_BPS = 250


@dataclass(frozen=True)
class DeployResult:
    deployment: Deployment
    created: bool  # False when an up-to-date deployment was already there
    gas: dict[str, int]


def deploy(
    ws: Workspace,
    deployer: Signer,
    *,
    treasury: str | None = None,
    fee_bps: int = DEFAULT_FEE_BPS,
    token: str | None = None,
    force: bool = False,
) -> DeployResult:
    """Deploys StableToken (unless `token` names an existing ERC-20) and JobEscrow.

    Idempotent: if the manifest names contracts that exist on this chain and were built
    from the current sources, nothing is sent. Contracts from older sources are kept
    unless `force` is given, so jobs are never silently orphaned.
    """
    if not 0 <= fee_bps <= MAX_FEE_BPS:
        raise InvalidInput(f"fee {fee_bps} bps is outside 0 to {MAX_FEE_BPS} bps (the cap is 10 %)")
    if treasury is not None:
        treasury = parse_address(treasury, "treasury")
        if int(treasury, 16) == 0:
            raise InvalidInput("the treasury cannot be the zero address")
    escrow_artifact = ws.artifacts.get("JobEscrow")
    token_artifact = ws.artifacts.get("StableToken")
    existing = load_manifest(ws.manifest_path)
    if existing is not None and ws.chain.has_code(existing.escrow) and not force:
        if existing.escrow_source_hash != escrow_artifact.source_hash:
            raise NotAllowed(
                f"contracts from older sources are deployed at {existing.escrow}; "
                "run `proofwork deploy --force` to deploy new ones (open jobs stay on the old escrow)"
            )
        existing = upgrade_manifest(ws.manifest_path, existing, ws.artifacts)
        ws.use_deployment(existing)
        return DeployResult(existing, created=False, gas={})

    manifest_dir = ws.manifest_path.parent
    if manifest_dir.exists() and not manifest_dir.is_dir():
        raise DataDirCorrupted(f"{manifest_dir} is a file; the deployment manifest cannot be written there")
    if token is not None:
        _check_erc20(ws, token)
    gas: dict[str, int] = {}
    token_hash = ""
    if token is None:
        receipt = ws.chain.deploy(
            deployer.key, token_artifact.abi, token_artifact.bytecode, "Proofwork USD", "pwUSD"
        )
        token = str(receipt.contract_address)
        token_hash = token_artifact.source_hash
        gas["deploy StableToken"] = receipt.gas_used
    receipt = ws.chain.deploy(
        deployer.key, escrow_artifact.abi, escrow_artifact.bytecode, treasury or deployer.address, fee_bps
    )
    gas["deploy JobEscrow"] = receipt.gas_used
    deployment = Deployment(
        chain_id=ws.chain.chain_id,
        escrow=str(receipt.contract_address),
        token=token,
        block=receipt.block_number,
        deployer=deployer.address,
        treasury=treasury or deployer.address,
        escrow_source_hash=escrow_artifact.source_hash,
        token_source_hash=token_hash,
        # an existing token is spoken to through StableToken's ERC-20 ABI too
        abis={"escrow": escrow_artifact.abi, "token": token_artifact.abi},
    )
    save_manifest(ws.manifest_path, deployment)
    ws.use_deployment(deployment)
    return DeployResult(deployment, created=True, gas=gas)


def _check_erc20(ws: Workspace, token: str) -> None:
    """Refuses a --token that is not a contract answering like an ERC-20, before anything is sent."""
    if not ws.chain.has_code(token):
        raise InvalidInput(f"no contract at token address {token}")
    probe = ws.token_at(token)
    try:
        probe.decimals, probe.symbol, probe.balance_of(token)
    except ProofworkError as exc:
        raise InvalidInput(f"the contract at {token} does not answer like an ERC-20 token") from exc


DEFAULT_CHALLENGE_WINDOW = 3600


def deploy_committee(
    ws: Workspace,
    deployer: Signer,
    oracles: list[str],
    *,
    f: int,
    challenge_window: int = DEFAULT_CHALLENGE_WINDOW,
    force: bool = False,
) -> DeployResult:
    """Deploys an OracleCommittee (arbiter for evaluated jobs) and a Competition contract on it.

    The committee is fixed for the life of the contract: a new committee is a new deployment,
    and jobs keep the committee they were posted with.
    """
    base = ws.deployment
    if base.committee and ws.chain.has_code(base.committee) and not force:
        raise NotAllowed(
            f"a committee is already deployed at {base.committee}; its jobs, daemons and the clients' "
            "hidden labels are tied to it: pass --force to deploy another and make it the default"
        )
    members = [parse_address(o, "oracle") for o in oracles]
    if len({m.lower() for m in members}) != len(members):
        raise InvalidInput("the same oracle is listed twice")
    if not members or len(members) > 16:
        raise InvalidInput("a committee has 1 to 16 oracles")
    if f < 0 or len(members) <= 3 * f:
        raise InvalidInput(
            f"{len(members)} oracles cannot tolerate {f} faulty ones: a committee needs n > 3f"
        )
    if not 0 <= challenge_window <= 30 * 86_400:
        raise InvalidInput("the challenge window must be between 0 and 30 days")
    committee_artifact = ws.artifacts.get("OracleCommittee")
    competition_artifact = ws.artifacts.get("Competition")
    gas: dict[str, int] = {}
    receipt = ws.chain.deploy(
        deployer.key,
        committee_artifact.abi,
        committee_artifact.bytecode,
        base.escrow,
        members,
        f,
        challenge_window,
    )
    gas["deploy OracleCommittee"] = receipt.gas_used
    committee = str(receipt.contract_address)
    committee_block = receipt.block_number
    receipt = ws.chain.deploy(
        deployer.key, competition_artifact.abi, competition_artifact.bytecode, committee
    )
    gas["deploy Competition"] = receipt.gas_used
    deployment = replace(
        base,
        committee=committee,
        committee_block=committee_block,
        committee_source_hash=committee_artifact.source_hash,
        competition=str(receipt.contract_address),
        competition_block=receipt.block_number,
        competition_source_hash=competition_artifact.source_hash,
        abis={**base.abis, "committee": committee_artifact.abi, "competition": competition_artifact.abi},
    )
    save_manifest(ws.manifest_path, deployment)
    ws.use_deployment(deployment)
    return DeployResult(deployment, created=True, gas=gas)
