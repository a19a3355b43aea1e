"""Deploy proofwork's contracts once per chain and record them in the manifest."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from proofwork.domain.addresses import parse_address
from proofwork.domain.court import CourtParams, default_params
from proofwork.domain.errors import DataDirCorrupted, InvalidInput, NotAllowed, NotFound, ProofworkError
from proofwork.domain.job import DEFAULT_FEE_BPS, MAX_FEE_BPS, ZERO_ADDRESS
from proofwork.services.manifest import (
    CONTRACTS,
    IDENTITY_ROLES,
    Deployment,
    load_manifest,
    save_manifest,
    upgrade_manifest,
)
from proofwork.services.workspace import Signer, Workspace


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
        chain_id=ws.chain_id,
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
    and jobs keep the committee they were posted with. When the court is deployed (`court deploy`
    first), the committee names its adapter as its court, so a disputed score can go to jurors, and the
    competition contract names the court, so a challenged ranking can; without it, disputes end by the
    committee's verdict and prizes are credited when the committee finalizes.
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
    if not 1 <= challenge_window <= 7 * 86_400:
        raise InvalidInput("the challenge window must be between 1 second and 7 days")
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
        court_adapter(ws),
    )
    gas["deploy OracleCommittee"] = receipt.gas_used
    committee = str(receipt.contract_address)
    committee_block = receipt.block_number
    receipt = ws.chain.deploy(
        deployer.key, competition_artifact.abi, competition_artifact.bytecode, committee, court_address(ws)
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


def court_address(ws: Workspace) -> str:
    """The deployed court a new competition contract hands ranking challenges to, or the zero address."""
    court = ws.deployment.court
    return court if court and ws.chain.has_code(court) else ZERO_ADDRESS


def court_adapter(ws: Workspace) -> str:
    """The deployed court adapter a new committee hands its disputes to, or the zero address."""
    adapter = ws.deployment.arbitrable
    return adapter if adapter and ws.chain.has_code(adapter) else ZERO_ADDRESS


BADGE_NAME = "Proofwork Skill Badge"
BADGE_SYMBOL = "PWSB"


def deploy_identity(ws: Workspace, deployer: Signer, *, force: bool = False) -> DeployResult:
    """Deploys the issuer registry, the skill badges, the EAS-model schema registry and attestation
    service, the job attester (on the current escrow and committee) and the proofwork resolver, then
    wires them: the resolver registers the JobCompleted and Review schemas, the attester is told its
    resolver and becomes the badges' auto-minter. The deployer owns the registry and the badges."""
    base = ws.deployment
    if base.job_attester and ws.chain.has_code(base.job_attester) and not force:
        return DeployResult(base, created=False, gas={})
    if not base.committee:
        raise NotFound(
            "the job attester needs the oracle committee whose scores it trusts: run `proofwork committee deploy` first"
        )
    gas: dict[str, int] = {}

    def deploy(name: str, *args: Any) -> str:
        artifact = ws.artifacts.get(name)
        receipt = ws.chain.deploy(deployer.key, artifact.abi, artifact.bytecode, *args)
        gas[f"deploy {name}"] = receipt.gas_used
        return str(receipt.contract_address)

    start_block = ws.chain.block_number()
    registry = deploy("IssuerRegistry")
    badges = deploy("SkillBadge", registry, BADGE_NAME, BADGE_SYMBOL)
    schemas = deploy("SchemaRegistry")
    attestations = deploy("Attestations", schemas)
    attester = deploy("JobAttester", base.escrow, base.committee, attestations, badges)
    resolver = deploy("ProofworkResolver", attestations, attester)
    resolver_contract = ws.chain.contract(ws.artifacts.get("ProofworkResolver").abi, resolver)
    job_schema = bytes(ws.chain.call(resolver_contract.functions.job_completed_schema()))
    review_schema = bytes(ws.chain.call(resolver_contract.functions.review_schema()))
    attester_contract = ws.chain.contract(ws.artifacts.get("JobAttester").abi, attester)
    gas["set_resolver"] = ws.chain.transact(
        deployer.key, attester_contract.functions.set_resolver(resolver)
    ).gas_used
    badge_contract = ws.chain.contract(ws.artifacts.get("SkillBadge").abi, badges)
    gas["set_auto_minter"] = ws.chain.transact(
        deployer.key, badge_contract.functions.set_auto_minter(attester)
    ).gas_used
    deployment = replace(
        base,
        issuer_registry=registry,
        badges=badges,
        schema_registry=schemas,
        attestations=attestations,
        job_attester=attester,
        resolver=resolver,
        job_completed_schema="0x" + job_schema.hex(),
        review_schema="0x" + review_schema.hex(),
        identity_block=start_block,
        identity_source_hash=ws.artifacts.get("JobAttester").source_hash,
        abis={**base.abis, **{role: ws.artifacts.get(CONTRACTS[role]).abi for role in IDENTITY_ROLES}},
    )
    save_manifest(ws.manifest_path, deployment)
    ws.use_deployment(deployment)
    return DeployResult(deployment, created=True, gas=gas)


def deploy_court(
    ws: Workspace,
    deployer: Signer,
    params: CourtParams | None = None,
    *,
    treasury: str | None = None,
    force: bool = False,
) -> DeployResult:
    """Deploys the court for the deployed escrow: PWK (its whole fixed supply to the deployer, who hands
    it to jurors), the ERC-792 `Court` staked in PWK with fees in the job token, and the
    `EscrowArbitrable` adapter that plain jobs name as their arbiter to be judged by the court.
    Idempotent unless `force`: a court already deployed on this escrow is kept (its cases live there)."""
    base = ws.deployment
    if base.arbitrable and ws.chain.has_code(base.arbitrable) and not force:
        return DeployResult(base, created=False, gas={})
    params = params or default_params(ws.token.decimals)
    params.check()
    court_treasury = parse_address(treasury, "treasury") if treasury else base.treasury
    gas: dict[str, int] = {}
    artifacts = {name: ws.artifacts.get(name) for name in ("CourtToken", "Court", "EscrowArbitrable")}

    def deploy(name: str, *args: Any) -> Any:
        artifact = artifacts[name]
        receipt = ws.chain.deploy(deployer.key, artifact.abi, artifact.bytecode, *args)
        gas[f"deploy {name}"] = receipt.gas_used
        return receipt

    first = deploy("CourtToken", params.pwk_supply)
    pwk = str(first.contract_address)
    court = str(
        deploy(
            "Court",
            pwk,
            params.seat_lock,
            params.min_stake,
            params.fee_bps,
            params.small_claim_limit,
            list(params.periods),
            court_treasury,
        ).contract_address
    )
    adapter = str(
        deploy("EscrowArbitrable", base.escrow, court, params.jurors, params.fee_timeout).contract_address
    )
    deployment = replace(
        base,
        court_token=pwk,
        court=court,
        arbitrable=adapter,
        court_block=first.block_number,
        court_token_source_hash=artifacts["CourtToken"].source_hash,
        court_source_hash=artifacts["Court"].source_hash,
        arbitrable_source_hash=artifacts["EscrowArbitrable"].source_hash,
        court_params={**asdict(params), "periods": list(params.periods), "treasury": court_treasury},
        abis={
            **base.abis,
            "court_token": artifacts["CourtToken"].abi,
            "court": artifacts["Court"].abi,
            "arbitrable": artifacts["EscrowArbitrable"].abi,
        },
    )
    save_manifest(ws.manifest_path, deployment)
    ws.use_deployment(deployment)
    return DeployResult(deployment, created=True, gas=gas)


def deploy_assets(ws: Workspace, deployer: Signer, *, force: bool = False) -> DeployResult:
    """Deploys the asset registry (on the deployed escrow, whose paid milestones it registers as
    assets) and the licensing contract on it. Neither has an owner key. Idempotent unless `force`:
    assets and licences already registered stay where they are."""
    base = ws.deployment
    if base.licensing and ws.chain.has_code(base.licensing) and not force:
        return DeployResult(base, created=False, gas={})
    artifacts = {name: ws.artifacts.get(name) for name in ("AssetRegistry", "Licensing")}
    gas: dict[str, int] = {}
    first = ws.chain.deploy(
        deployer.key, artifacts["AssetRegistry"].abi, artifacts["AssetRegistry"].bytecode, base.escrow
    )
    gas["deploy AssetRegistry"] = first.gas_used
    registry = str(first.contract_address)
    second = ws.chain.deploy(
        deployer.key, artifacts["Licensing"].abi, artifacts["Licensing"].bytecode, registry
    )
    gas["deploy Licensing"] = second.gas_used
    deployment = replace(
        base,
        asset_registry=registry,
        licensing=str(second.contract_address),
        assets_block=first.block_number,
        asset_registry_source_hash=artifacts["AssetRegistry"].source_hash,
        licensing_source_hash=artifacts["Licensing"].source_hash,
        abis={
            **base.abis,
            "asset_registry": artifacts["AssetRegistry"].abi,
            "licensing": artifacts["Licensing"].abi,
        },
    )
    save_manifest(ws.manifest_path, deployment)
    ws.use_deployment(deployment)
    return DeployResult(deployment, created=True, gas=gas)


def deploy_labeling(ws: Workspace, deployer: Signer, *, force: bool = False) -> DeployResult:
    """Deploys `LabelPayouts` (labeling campaigns' escrow and payouts; no owner, no parameters).
    Idempotent unless `force`: campaigns already created stay where they are."""
    base = ws.deployment
    if base.label_payouts and ws.chain.has_code(base.label_payouts) and not force:
        return DeployResult(base, created=False, gas={})
    artifact = ws.artifacts.get("LabelPayouts")
    receipt = ws.chain.deploy(deployer.key, artifact.abi, artifact.bytecode)
    deployment = replace(
        base,
        label_payouts=str(receipt.contract_address),
        label_payouts_block=receipt.block_number,
        label_payouts_source_hash=artifact.source_hash,
        abis={**base.abis, "label_payouts": artifact.abi},
    )
    save_manifest(ws.manifest_path, deployment)
    ws.use_deployment(deployment)
    return DeployResult(deployment, created=True, gas={"deploy LabelPayouts": receipt.gas_used})


def deploy_funding_rounds(ws: Workspace, deployer: Signer, *, force: bool = False) -> DeployResult:
    """Deploys the quadratic funding rounds contract on the identity contracts (its Sybil rules read
    the skill badges, the attestations and the issuer registry). It has no owner key. Idempotent
    unless `force`: rounds already created stay where they are."""
    base = ws.deployment
    if base.funding_rounds and ws.chain.has_code(base.funding_rounds) and not force:
        return DeployResult(base, created=False, gas={})
    if not base.job_attester:
        raise NotFound("funding rounds need the identity contracts: run `proofwork identity deploy` first")
    artifact = ws.artifacts.get("FundingRound")
    receipt = ws.chain.deploy(
        deployer.key, artifact.abi, artifact.bytecode, base.badges, base.attestations, base.issuer_registry
    )
    deployment = replace(
        base,
        funding_rounds=str(receipt.contract_address),
        funding_rounds_block=receipt.block_number,
        funding_rounds_source_hash=artifact.source_hash,
        abis={**base.abis, "funding_rounds": artifact.abi},
    )
    save_manifest(ws.manifest_path, deployment)
    ws.use_deployment(deployment)
    return DeployResult(deployment, created=True, gas={"deploy FundingRound": receipt.gas_used})
