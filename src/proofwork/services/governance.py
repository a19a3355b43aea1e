"""The DAO: deploy the Governor and its Timelock over PWK, hand the platform's levers over to the
Timelock, and describe proposals in words.

The levers that exist on chain today and are handed over: the escrow's fee and treasury (its owner),
the issuer registry's accreditations (its owner), the skill badges' auto-minter (its owner). Those
that do not exist on chain: the court's parameters (immutables of `Court`, fixed at deployment), the
accepted stablecoins (`JobEscrow.create_job` takes any ERC-20), and the oracle committee in use for
new jobs (each job names its own arbiter; the committee's members are immutables); `ABSENT_LEVERS`
says so, for the CLI and the report."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from proofwork.domain.errors import DataDirCorrupted, InvalidInput, NotAllowed, NotFound
from proofwork.services.workspace import Signer, Workspace
from proofwork.storage.files import save_json

if TYPE_CHECKING:
    from proofwork.chain.governance import CallDescriber, GovernorContract, TimelockContract

DAY = 86_400
ABSENT_LEVERS = {
    "court parameters": "the Court's stakes, fees and periods are immutables set at its deployment",
    "accepted stablecoins": "the escrow takes any ERC-20 a client names; no on-chain list exists",
    "oracle committee for new jobs": "each job names its arbiter; no on-chain default committee exists",
}


@dataclass(frozen=True)
class DaoParams:
    voting_delay: int = 1  # blocks from a proposal to its snapshot
    voting_period: int = 50_400  # blocks of voting (about a week of 12 s blocks)
    quorum_bps: int = 400  # 4 % of the supply at the snapshot
    proposal_threshold: int = 10_000 * 10**18  # PWK (wei) an account needs to propose
    timelock_delay: int = 2 * DAY  # seconds between queue and execute

    def check(self) -> None:
        if not 1 <= self.voting_delay <= 2**32:
            raise InvalidInput("the voting delay is 1 to 2^32 blocks")
        if not 1 <= self.voting_period <= 2**32:
            raise InvalidInput("the voting period is 1 to 2^32 blocks")
        if not 1 <= self.quorum_bps <= 10_000:
            raise InvalidInput("the quorum is 1 to 10000 basis points of the supply")
        if not 0 <= self.proposal_threshold < 2**256:
            raise InvalidInput("invalid proposal threshold")
        if not 1 <= self.timelock_delay <= 30 * DAY:
            raise InvalidInput("the timelock delay is 1 second to 30 days")


@dataclass(frozen=True)
class Dao:
    governor: str
    timelock: str
    block: int  # where the DAO's event scans start


def deploy_dao(
    ws: Workspace, deployer: Signer, params: DaoParams | None = None
) -> tuple[Dao, dict[str, int]]:
    """Deploys the Timelock and the Governor over the court's PWK and names the Governor the
    Timelock's governor. The deployer stays the Timelock's admin until `hand_over`."""
    params = params or DaoParams()
    params.check()
    pwk = ws.deployment.court_token
    if not pwk:
        raise NotFound("the DAO votes with PWK: run `proofwork court deploy` first")
    gas: dict[str, int] = {}
    timelock_art, governor_art = ws.artifacts.get("Timelock"), ws.artifacts.get("Governor")
    first = ws.chain.deploy(deployer.key, timelock_art.abi, timelock_art.bytecode, params.timelock_delay)
    gas["deploy Timelock"] = first.gas_used
    timelock = str(first.contract_address)
    second = ws.chain.deploy(
        deployer.key,
        governor_art.abi,
        governor_art.bytecode,
        pwk,
        timelock,
        params.voting_delay,
        params.voting_period,
        params.quorum_bps,
        params.proposal_threshold,
    )
    gas["deploy Governor"] = second.gas_used
    dao = Dao(str(second.contract_address), timelock, first.block_number)
    gas["set governor"] = timelock_handle(ws, dao).set_governor(deployer.key, dao.governor).gas_used
    save_dao(ws, dao)
    return dao, gas


def dao_path(ws: Workspace) -> Path:
    """Where the DAO's addresses are recorded, beside the chain's deployment manifest."""
    return ws.manifest_path.with_suffix(".dao.json")


def save_dao(ws: Workspace, dao: Dao) -> None:
    save_json(dao_path(ws), asdict(dao))


def load_dao(ws: Workspace) -> Dao:
    """The DAO deployed on this chain (a one-line NotFound before `dao deploy`)."""
    path = dao_path(ws)
    if not path.exists():
        raise NotFound("no DAO on this chain yet: run `proofwork dao deploy`")
    try:
        raw = json.loads(path.read_text())
        return Dao(str(raw["governor"]), str(raw["timelock"]), int(raw["block"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataDirCorrupted(f"{path} is not a DAO record") from exc


def governor_handle(ws: Workspace, dao: Dao) -> GovernorContract:
    from proofwork.chain.governance import GovernorContract

    return GovernorContract(ws.chain, ws.artifacts.get("Governor"), dao.governor, dao.block)


def timelock_handle(ws: Workspace, dao: Dao) -> TimelockContract:
    from proofwork.chain.governance import TimelockContract

    return TimelockContract(ws.chain, ws.artifacts.get("Timelock"), dao.timelock, dao.block)


def hand_over(ws: Workspace, deployer: Signer, dao: Dao) -> list[str]:
    """The deployer gives the Timelock every lever it holds (the escrow's treasury too, so platform
    fees fund the DAO), then renounces the Timelock's admin role. Returns the levers handed over."""
    timelock = timelock_handle(ws, dao)
    if timelock.admin().lower() != deployer.address.lower():
        raise NotAllowed(f"only the Timelock's admin ({timelock.admin()}) can hand the platform over")
    key, to = deployer.key, dao.timelock
    handed: list[str] = []
    escrow = ws.escrow
    if escrow.owner().lower() == deployer.address.lower():
        ws.chain.transact(key, escrow.contract.functions.set_treasury(to))
        ws.chain.transact(key, escrow.contract.functions.transfer_ownership(to))
        handed += ["escrow fee", "escrow treasury"]
    if ws.deployment.issuer_registry:
        for name, handle in (("issuer accreditation", ws.issuer_registry), ("badge auto-minter", ws.badges)):
            owner = str(ws.chain.call(handle.contract.functions.owner()))
            if owner.lower() == deployer.address.lower():
                ws.chain.transact(key, handle.contract.functions.transfer_ownership(to))
                handed.append(name)
    timelock.renounce_admin(key)
    return handed


def describer(ws: Workspace, dao: Dao) -> CallDescriber:
    """Reads calls to proofwork's contracts (and the DAO's own Timelock) in words."""
    from proofwork.chain.governance import CallDescriber, KnownContract

    d = ws.deployment
    token = ws.token
    known = {
        d.escrow: KnownContract("escrow", ws.artifacts.get("JobEscrow")),
        d.token: KnownContract("stablecoin", ws.artifacts.get("StableToken"), token.symbol, token.decimals),
        dao.timelock: KnownContract("timelock", ws.artifacts.get("Timelock")),
    }
    if d.issuer_registry:
        known[d.issuer_registry] = KnownContract("issuer registry", ws.artifacts.get("IssuerRegistry"))
        known[d.badges] = KnownContract("badge collection", ws.artifacts.get("SkillBadge"))
    return CallDescriber(ws.chain, known)
