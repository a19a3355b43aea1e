"""The DAO's handles: `Governor` (proposals of calls, votes and votes by EIP-712 signature that
anyone relays, queue, execute, cancel) and its `Timelock`; proposals read back from their
`ProposalCreated` events, and each call told in words against the ABIs proofwork knows
(`CallDescriber`: "set the platform fee from 2.5 % to 2 %", "accredit did:web:uni.example ...")."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from eth_account import Account
from web3 import Web3

from proofwork.chain.artifacts import Artifact
from proofwork.chain.client import Chain
from proofwork.chain.encoding import keccak
from proofwork.chain.events import ContractHandle, check_id, typed_data
from proofwork.chain.receipts import Receipt
from proofwork.domain.errors import InvalidInput, NotFound
from proofwork.domain.units import format_amount

# OpenZeppelin's IGovernor.ProposalState numbering (6, Expired, never happens here).
STATES = {0: "pending", 1: "active", 2: "canceled", 3: "defeated", 4: "succeeded", 5: "queued", 7: "executed"}
SUPPORT = {"against": 0, "for": 1, "abstain": 2}
MAX_CALLS = 8
MAX_CALLDATA = 1_024
MAX_DESCRIPTION = 2_048
GOVERNOR_DOMAIN = ("proofwork Governor", "1")
_BALLOT_FIELDS = [
    {"name": "proposalId", "type": "uint256"},
    {"name": "support", "type": "uint8"},
    {"name": "voter", "type": "address"},
]


@dataclass(frozen=True)
class Call:
    """One call a proposal makes from the Timelock."""

    target: str
    value: int
    calldata: bytes


@dataclass(frozen=True)
class Proposal:
    """A proposal as its `ProposalCreated` event tells it."""

    id: int
    proposer: str
    calls: tuple[Call, ...]
    vote_start: int  # the snapshot block
    vote_end: int  # the last block of voting
    description: str
    block: int

    @property
    def description_hash(self) -> bytes:
        return keccak(self.description.encode())

    def arrays(self) -> tuple[list[str], list[int], list[bytes]]:
        return (
            [c.target for c in self.calls],
            [c.value for c in self.calls],
            [c.calldata for c in self.calls],
        )


def check_calls(calls: Sequence[Call], description: str) -> None:
    """The Governor's bounds, as one-line errors before anything is sent."""
    if not calls:
        raise InvalidInput("a proposal needs at least one call")
    if len(calls) > MAX_CALLS:
        raise InvalidInput(f"a proposal makes at most {MAX_CALLS} calls, not {len(calls)}")
    for call in calls:
        if len(call.calldata) > MAX_CALLDATA:
            raise InvalidInput(f"a call's calldata is at most {MAX_CALLDATA} bytes, not {len(call.calldata)}")
        if not 0 <= call.value < 2**256:
            raise InvalidInput(f"invalid value {call.value} wei")
    if len(description.encode()) > MAX_DESCRIPTION:
        raise InvalidInput(f"a description is at most {MAX_DESCRIPTION} bytes")


def support_of(word: str) -> int:
    try:
        return SUPPORT[word.lower()]
    except KeyError:
        raise InvalidInput(f"vote {word!r}: expected for, against or abstain") from None


class GovernorContract(ContractHandle):
    """`Governor`: proposals, votes, queue and execution through the Timelock."""

    def propose(self, key: bytes, calls: Sequence[Call], description: str) -> tuple[int, Receipt]:
        check_calls(calls, description)
        targets = [Web3.to_checksum_address(c.target) for c in calls]
        fn = self.contract.functions.propose(
            targets, [c.value for c in calls], [c.calldata for c in calls], description
        )
        receipt = self.chain.transact(key, fn)
        created = [e for e in self.receipt_events(receipt) if e.name == "ProposalCreated"]
        return int(created[0].args["proposal_id"]), receipt

    def vote(self, key: bytes, proposal_id: int, support: int) -> Receipt:
        return self.chain.transact(key, self.contract.functions.castVote(check_id(proposal_id), support))

    def sign_ballot(self, key: bytes, proposal_id: int, support: int) -> tuple[int, bytes, bytes]:
        """The (v, r, s) of an EIP-712 Ballot by `key`'s account: what a holder hands a relayer."""
        voter = Account.from_key(key).address
        message = {"proposalId": check_id(proposal_id), "support": support, "voter": voter}
        typed = typed_data(
            (*GOVERNOR_DOMAIN, self.chain.chain_id, self.address), "Ballot", _BALLOT_FIELDS, message
        )
        signed = Account.sign_message(typed, key)
        return int(signed.v), int(signed.r).to_bytes(32, "big"), int(signed.s).to_bytes(32, "big")

    def vote_by_sig(
        self,
        relayer_key: bytes,
        proposal_id: int,
        support: int,
        voter: str,
        signature: tuple[int, bytes, bytes],
    ) -> Receipt:
        v, r, s = signature
        fn = self.contract.functions.castVoteBySig(
            check_id(proposal_id), support, Web3.to_checksum_address(voter), v, r, s
        )
        return self.chain.transact(relayer_key, fn)

    def queue(self, key: bytes, proposal_id: int) -> Receipt:
        return self.chain.transact(key, self.contract.functions.queue(check_id(proposal_id)))

    def execute(self, key: bytes, proposal: Proposal, value: int = 0) -> Receipt:
        fn = self.contract.functions.execute(
            Web3.to_checksum_address(proposal.proposer), *proposal.arrays(), proposal.description_hash
        )
        return self.chain.transact(key, fn, value=value)

    def cancel(self, key: bytes, proposal: Proposal) -> Receipt:
        return self.chain.transact(
            key, self.contract.functions.cancel(*proposal.arrays(), proposal.description_hash)
        )

    def state(self, proposal_id: int) -> str:
        return STATES[int(self.chain.call(self.contract.functions.state(check_id(proposal_id))))]

    def tallies(self, proposal_id: int) -> dict[str, int]:
        against, for_, abstain = self.chain.call(self.contract.functions.proposalVotes(check_id(proposal_id)))
        return {"for": int(for_), "against": int(against), "abstain": int(abstain)}

    def has_voted(self, proposal_id: int, account: str) -> bool:
        fn = self.contract.functions.hasVoted(check_id(proposal_id), Web3.to_checksum_address(account))
        return bool(self.chain.call(fn))

    def quorum(self, snapshot: int) -> int:
        return int(self.chain.call(self.contract.functions.quorum(snapshot)))

    def eta(self, proposal_id: int) -> int | None:
        """When a queued proposal can be executed (from its `ProposalQueued` event), or None."""
        queued = self.events("ProposalQueued", subject=check_id(proposal_id))
        return int(queued[-1].args["eta"]) if queued else None

    def proposals(self) -> list[Proposal]:
        return [self._proposal(e) for e in self.events("ProposalCreated")]

    def proposal(self, proposal_id: int) -> Proposal:
        found = self.events("ProposalCreated", subject=check_id(proposal_id))
        if not found:
            raise NotFound(f"no proposal {proposal_id} on the governor at {self.address}")
        return self._proposal(found[0])

    def parameters(self) -> dict[str, int | str]:
        f = self.contract.functions
        return {
            "token": str(self.chain.call(f.token())),
            "timelock": str(self.chain.call(f.timelock())),
            "voting_delay": int(self.chain.call(f.votingDelay())),
            "voting_period": int(self.chain.call(f.votingPeriod())),
            "quorum_bps": int(self.chain.call(f.quorumBps())),
            "proposal_threshold": int(self.chain.call(f.proposalThreshold())),
        }

    @staticmethod
    def _proposal(event: Any) -> Proposal:
        a = event.args
        calls = tuple(
            Call(str(t), int(v), bytes(d))
            for t, v, d in zip(a["targets"], a["values"], a["calldatas"], strict=True)
        )
        return Proposal(
            int(a["proposal_id"]),
            str(a["proposer"]),
            calls,
            int(a["vote_start"]),
            int(a["vote_end"]),
            str(a["description"]),
            event.block,
        )


class TimelockContract(ContractHandle):
    """`Timelock`: the DAO's executor, owner of the platform's levers."""

    def governor(self) -> str:
        return str(self.chain.call(self.contract.functions.governor()))

    def admin(self) -> str:
        return str(self.chain.call(self.contract.functions.admin()))

    def min_delay(self) -> int:
        return int(self.chain.call(self.contract.functions.min_delay()))

    def ready_at(self, proposal_id: int) -> int:
        return int(
            self.chain.call(self.contract.functions.ready_at(check_id(proposal_id).to_bytes(32, "big")))
        )

    def set_governor(self, key: bytes, governor: str) -> Receipt:
        return self.chain.transact(
            key, self.contract.functions.set_governor(Web3.to_checksum_address(governor))
        )

    def renounce_admin(self, key: bytes) -> Receipt:
        return self.chain.transact(key, self.contract.functions.renounce_admin())


# --------------------------------------------------------------------------- calls in words


@dataclass(frozen=True)
class KnownContract:
    """A contract proofwork can read a call to: its role ("escrow", "issuer registry", ...), ABI,
    and for tokens the symbol and decimals amounts are shown in."""

    role: str
    artifact: Artifact
    symbol: str = ""
    decimals: int = 0


def _bps(value: int) -> str:
    return f"{value / 100:g} %"


def _duration(seconds: int) -> str:
    if seconds % 86_400 == 0:
        return f"{seconds // 86_400} day{'s' if seconds != 86_400 else ''}"
    if seconds % 3_600 == 0:
        return f"{seconds // 3_600} h"
    return f"{seconds} s"


class _AtBlock:
    """A view call made at a given block (the latest when None), for `Chain.call`."""

    def __init__(self, fn: Any, block: int | None) -> None:
        self.fn, self.block = fn, block

    def call(self) -> Any:
        return self.fn.call() if self.block is None else self.fn.call(block_identifier=self.block)


class CallDescriber:
    """Tells a proposal's calls in words: each call decoded against the ABI of the contract it
    targets (when proofwork knows it), with today's value beside the proposed one where a setter
    changes one; an unknown target or function is shown as its selector and calldata size."""

    def __init__(self, chain: Chain, known: dict[str, KnownContract]) -> None:
        self.chain = chain
        self.known: dict[str, KnownContract] = {str(Web3.to_checksum_address(a)): k for a, k in known.items()}
        self._block: int | None = None
        self._contracts: dict[str, Any] = {
            a: chain.contract(k.artifact.abi, a) for a, k in self.known.items()
        }

    def name_of(self, address: str) -> str:
        address = Web3.to_checksum_address(address)
        k = self.known.get(address)
        return f"the {k.role}" if k else address

    def describe(self, call: Call, block: int | None = None) -> str:
        """`call` in words; values it changes are shown as they were at `block` (a proposal's own
        block, so an executed proposal still reads "from 2.5 % to 2 %"), else as they are now."""
        self._block = block
        target = Web3.to_checksum_address(call.target)
        text = self._decoded(target, call.calldata)
        if call.value:
            text += f", sending {format_amount(call.value, 18)} ETH"
        return text

    def _decoded(self, target: str, calldata: bytes) -> str:
        contract = self._contracts.get(target)
        if contract is None or len(calldata) < 4:
            return f"call {target} (selector 0x{calldata[:4].hex()}, {len(calldata)} bytes)"
        try:
            fn, args = contract.decode_function_input(calldata)
        except ValueError:
            return f"call {self.name_of(target)} (unknown selector 0x{calldata[:4].hex()})"
        k = self.known[target]
        say = self._sentences.get((k.role, fn.fn_name))
        if say is None:
            shown = ", ".join(f"{n}={v!r}" for n, v in args.items())
            return f"{fn.fn_name}({shown}) on {self.name_of(target)}"
        return say(self, contract, k, args)

    def _read(self, contract: Any, name: str, *args: Any) -> Any:
        return self.chain.call(_AtBlock(getattr(contract.functions, name)(*args), self._block))

    def _amount(self, token: str, amount: int) -> str:
        k = self.known.get(Web3.to_checksum_address(token))
        if k is None or not k.symbol:
            return f"{amount} units of {token}"
        return f"{format_amount(amount, k.decimals)} {k.symbol}"

    def _set_fee(self, c: Any, k: KnownContract, a: dict[str, Any]) -> str:
        return f"set the platform fee from {_bps(self._read(c, 'fee_bps'))} to {_bps(a['fee_bps_'])}"

    def _set_treasury(self, c: Any, k: KnownContract, a: dict[str, Any]) -> str:
        old = self.name_of(self._read(c, "treasury"))
        return f"send the platform fees to {self.name_of(a['treasury_'])} instead of {old}"

    def _transfer_ownership(self, c: Any, k: KnownContract, a: dict[str, Any]) -> str:
        return f"hand the {k.role} to {self.name_of(a['new_owner'])}"

    def _accredit(self, c: Any, k: KnownContract, a: dict[str, Any]) -> str:
        return f"accredit {a['did']} ({a['name']}) as a credential issuer, account {a['issuer']}"

    def _revoke(self, c: Any, k: KnownContract, a: dict[str, Any]) -> str:
        info = self._read(c, "issuer_info", a["issuer"])
        return f"revoke the accreditation of {info[0] or a['issuer']}"

    def _auto_minter(self, c: Any, k: KnownContract, a: dict[str, Any]) -> str:
        return f"let {self.name_of(a['auto_minter_'])} mint job badges"

    def _update_delay(self, c: Any, k: KnownContract, a: dict[str, Any]) -> str:
        old = _duration(int(self._read(c, "min_delay")))
        return f"set the timelock delay from {old} to {_duration(a['new_delay'])}"

    def _set_governor(self, c: Any, k: KnownContract, a: dict[str, Any]) -> str:
        return f"hand the timelock to the governor at {a['governor_']}"

    def _approve(self, c: Any, k: KnownContract, a: dict[str, Any]) -> str:
        return f"allow {self.name_of(a['spender'])} to spend {self._amount(c.address, a['amount'])} of the treasury"

    def _transfer(self, c: Any, k: KnownContract, a: dict[str, Any]) -> str:
        return f"pay {self._amount(c.address, a['amount'])} from the treasury to {self.name_of(a['to'])}"

    def _create_job(self, c: Any, k: KnownContract, a: dict[str, Any]) -> str:
        total = self._amount(a["token"], sum(a["amounts"]))
        who = "open to applications" if int(a["freelancer"], 16) == 0 else f"for {a['freelancer']}"
        arbiter = "no arbiter" if int(a["arbiter"], 16) == 0 else f"judged by {self.name_of(a['arbiter'])}"
        n = len(a["amounts"])
        return (
            f"post a job from the treasury: {total} in {n} milestone{'s' if n != 1 else ''}, {who}, {arbiter}, "
            f"spec 0x{bytes(a['spec_hash']).hex()}"
        )

    _sentences: ClassVar[dict[tuple[str, str], Callable[..., str]]] = {
        ("escrow", "set_fee"): _set_fee,
        ("escrow", "set_treasury"): _set_treasury,
        ("escrow", "create_job"): _create_job,
        ("escrow", "transfer_ownership"): _transfer_ownership,
        ("issuer registry", "accredit"): _accredit,
        ("issuer registry", "revoke_accreditation"): _revoke,
        ("issuer registry", "transfer_ownership"): _transfer_ownership,
        ("badge collection", "set_auto_minter"): _auto_minter,
        ("badge collection", "transfer_ownership"): _transfer_ownership,
        ("timelock", "update_delay"): _update_delay,
        ("timelock", "set_governor"): _set_governor,
        ("stablecoin", "approve"): _approve,
        ("stablecoin", "transfer"): _transfer,
    }
