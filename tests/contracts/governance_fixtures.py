"""The proofwork DAO on titanoboa: PWK (the court's token, unchanged), the platform's contracts
(JobEscrow, IssuerRegistry, SkillBadge, a stablecoin), the Timelock and the Governor, and the
handover of every owner key to the Timelock. `Dao` drives proposals through their life; ballots
are signed with eth_account (EIP-712), independently of the contract."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import boa
from escrow_harness import chain_id, new_account
from eth_account import Account
from eth_utils import keccak

REPO = Path(__file__).resolve().parents[2]
CONTRACTS = REPO / "contracts"
E18 = 10**18
USD = 10**6
DAY = 86_400
SUPPLY = 100_000_000 * E18
VOTING_DELAY = 2  # blocks
VOTING_PERIOD = 50  # blocks
QUORUM_BPS = 400  # 4 %
THRESHOLD = 100_000 * E18  # 0.1 % of the supply
TIMELOCK_DELAY = 2 * DAY
HOLDING = 5_000_000 * E18  # each holder's PWK: 5 %

# OpenZeppelin's ProposalState numbering.
PENDING, ACTIVE, CANCELED, DEFEATED, SUCCEEDED, QUEUED, EXECUTED = 0, 1, 2, 3, 4, 5, 7
AGAINST, FOR, ABSTAIN = 0, 1, 2

_DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
_BALLOT_FIELDS = [
    {"name": "proposalId", "type": "uint256"},
    {"name": "support", "type": "uint8"},
    {"name": "voter", "type": "address"},
]


def _partial(relative: str):
    return boa.load_partial(str(CONTRACTS / relative))


_PARTIALS: dict[str, object] = {}


def partial(relative: str):
    """Each contract compiled once per test process."""
    if relative not in _PARTIALS:
        _PARTIALS[relative] = _partial(relative)
    return _PARTIALS[relative]


def ballot_message(governor, proposal_id: int, support: int, voter: str, *, chain: int | None = None) -> dict:
    return {
        "types": {"EIP712Domain": _DOMAIN_FIELDS, "Ballot": _BALLOT_FIELDS},
        "primaryType": "Ballot",
        "domain": {
            "name": "proofwork Governor",
            "version": "1",
            "chainId": chain_id() if chain is None else chain,
            "verifyingContract": str(governor.address),
        },
        "message": {"proposalId": proposal_id, "support": support, "voter": voter},
    }


def sign_ballot(account, governor, proposal_id: int, support: int, **kw) -> tuple[int, bytes, bytes]:
    """(v, r, s) of `account`'s EIP-712 Ballot."""
    signed = Account.sign_typed_data(
        account.key, full_message=ballot_message(governor, proposal_id, support, account.address, **kw)
    )
    return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")


def mine(blocks: int = 1) -> None:
    boa.env.time_travel(blocks=blocks)


@dataclass(frozen=True)
class Proposal:
    proposer: str
    targets: list[str]
    values: list[int]
    calldatas: list[bytes]
    description: str

    @property
    def description_hash(self) -> bytes:
        return keccak(text=self.description)

    @property
    def calls(self) -> tuple[list[str], list[int], list[bytes]]:
        return self.targets, self.values, self.calldatas


class Dao:
    """Every contract of a DAO-run platform, deployed by `deployer` and handed over to the timelock."""

    def __init__(self, *, holders: int = 5, hand_over: bool = True) -> None:
        self.deployer = new_account("dao deployer")
        self.holders = [new_account(f"dao holder {i}") for i in range(holders)]
        self.outsider = new_account("dao outsider")
        d = self.deployer.address
        with boa.env.prank(d):
            self.pwk = partial("court/CourtToken.vy").deploy(SUPPLY)
            self.usd = partial("tokens/StableToken.vy").deploy("Proofwork Test USD", "pUSD")
            self.escrow = partial("escrow/JobEscrow.vy").deploy(d, 250)
            self.registry = partial("identity/IssuerRegistry.vy").deploy()
            self.badge = partial("identity/SkillBadge.vy").deploy(
                self.registry.address, "proofwork skills", "SKILL"
            )
            self.timelock = partial("governance/Timelock.vy").deploy(TIMELOCK_DELAY)
            self.governor = partial("governance/Governor.vy").deploy(
                self.pwk.address, self.timelock.address, VOTING_DELAY, VOTING_PERIOD, QUORUM_BPS, THRESHOLD
            )
            for holder in self.holders:
                self.pwk.transfer(holder.address, HOLDING)
        for holder in self.holders:
            with boa.env.prank(holder.address):
                self.pwk.delegate(holder.address)
        if hand_over:
            self.hand_over()
        mine()

    def hand_over(self) -> None:
        """The deployer gives every lever to the timelock, then renounces the timelock's admin role."""
        t = self.timelock.address
        with boa.env.prank(self.deployer.address):
            self.timelock.set_governor(self.governor.address)
            self.escrow.set_treasury(t)
            self.escrow.transfer_ownership(t)
            self.registry.transfer_ownership(t)
            self.badge.transfer_ownership(t)
            self.timelock.renounce_admin()

    # --- proposals -------------------------------------------------------------------------------

    def proposal(
        self, proposer, calls: list[tuple[object, bytes]], description: str, values=None
    ) -> Proposal:
        """A proposal of `calls` ((contract, calldata) pairs) by `proposer` (not yet sent)."""
        return Proposal(
            proposer=str(getattr(proposer, "address", proposer)),
            targets=[str(c.address) for c, _ in calls],
            values=list(values) if values is not None else [0] * len(calls),
            calldatas=[data for _, data in calls],
            description=description,
        )

    def id_of(self, p: Proposal) -> int:
        return self.governor.hashProposal(p.proposer, *p.calls, p.description_hash)

    def propose(self, p: Proposal) -> int:
        with boa.env.prank(p.proposer):
            return self.governor.propose(*p.calls, p.description)

    def vote(self, voter, proposal_id: int, support: int = FOR) -> int:
        with boa.env.prank(str(getattr(voter, "address", voter))):
            return self.governor.castVote(proposal_id, support)

    def start_voting(self, proposal_id: int) -> None:
        """Mines until the block after the snapshot (the first block of voting)."""
        blocks = self.governor.proposalSnapshot(proposal_id) + 1 - boa.env.evm.patch.block_number
        if blocks > 0:
            mine(blocks)

    def end_voting(self, proposal_id: int) -> None:
        """Mines until the block after the deadline."""
        blocks = self.governor.proposalDeadline(proposal_id) + 1 - boa.env.evm.patch.block_number
        if blocks > 0:
            mine(blocks)

    def queue(self, proposal_id: int) -> int:
        with boa.env.prank(self.outsider.address):
            return self.governor.queue(proposal_id)

    def execute(self, p: Proposal, value: int = 0) -> int:
        with boa.env.prank(self.outsider.address):
            return self.governor.execute(p.proposer, *p.calls, p.description_hash, value=value)

    def pass_proposal(self, p: Proposal, voters=None) -> int:
        """Proposes `p`, has `voters` (default: the first three holders) vote for it, ends the vote."""
        pid = self.propose(p)
        self.start_voting(pid)
        for voter in voters if voters is not None else self.holders[:3]:
            self.vote(voter, pid, FOR)
        self.end_voting(pid)
        assert self.governor.state(pid) == SUCCEEDED
        return pid

    def run(self, p: Proposal, voters=None) -> int:
        """A proposal's whole life: passed, queued, delay waited out, executed."""
        pid = self.pass_proposal(p, voters)
        self.queue(pid)
        boa.env.time_travel(seconds=self.timelock.min_delay())
        self.execute(p)
        assert self.governor.state(pid) == EXECUTED
        return pid
