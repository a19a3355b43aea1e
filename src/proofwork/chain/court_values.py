"""The court's values as plain data, and what both sides hash: the vote commitment, a seat's salt, the
arbitrator extra data. eth_abi and keccak only (no web3), so services and tests use them without a
chain; the handles (`chain.court`) return these types."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from eth_abi import encode as abi_encode
from eth_utils import to_checksum_address

from proofwork.chain.encoding import keccak
from proofwork.domain import court as C

# Vote slots below this are revealed votes (choice + 1); above, commitments (Court._REVEALED_BELOW).
REVEALED_BELOW = 2**64


def vote_commitment(choice: int, salt: bytes, juror: str) -> bytes:
    """keccak256(abi_encode(choice, salt, juror)): what `Court.commit` stores and `reveal` checks."""
    return keccak(abi_encode(["uint256", "bytes32", "address"], [choice, salt, to_checksum_address(juror)]))


def extra_data(token: str, amount: int, jurors: int) -> bytes:
    """The arbitrator extra data of a case: abi_encode(token, amount in dispute, jurors)."""
    return abi_encode(["address", "uint256", "uint256"], [to_checksum_address(token), amount, jurors])


def derive_salt(key: bytes, chain_id: int, court: str, dispute: int, round_: int, seat: int) -> bytes:
    """A seat's vote salt, derived from the juror's private key (HMAC-SHA256 over the seat): secret to
    everyone without the key, and the same every time, so a juror whose salt file is lost can still
    reveal (trying the six choices against the commitment on chain)."""
    message = f"proofwork vote salt|{chain_id}|{court.lower()}|{dispute}|{round_}|{seat}"
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class Seat:
    """One seat of a round's panel (from the court's Draw events)."""

    dispute: int
    round: int
    position: int
    juror: str


@dataclass(frozen=True)
class RoundInfo:
    requested: int
    seats: int
    commits: int
    reveals: int
    distributed: bool


@dataclass(frozen=True)
class DisputeState:
    """A court dispute as its views give it."""

    dispute: int
    arbitrable: str
    choices: int
    fee_token: str
    fee_per_juror: int
    ruled: bool  # rule() was called on the arbitrable
    period: C.Period
    round: int
    period_start: int
    current_ruling: int


@dataclass(frozen=True)
class Case:
    """An adapter case (`EscrowArbitrable.cases`)."""

    case_id: int
    job_id: int
    milestone: int
    client: str
    freelancer: str
    token: str
    amount: int
    status: C.CaseStatus
    fee_deadline: int
    client_fee: int
    freelancer_fee: int
    dispute_id: int
    ruled: bool
    ruling: int
    settlement_proposer: str
    settlement_bps: int


@dataclass(frozen=True)
class AppealFunding:
    """The appeal funding of a case (`EscrowArbitrable.appeal_funding`): appeals made through the
    adapter, this round's deposits (each side funds once per round; the second funding appeals and
    clears them), and the reward pot shared by the final ruling when the case ends."""

    appeals: int
    client_paid: int
    freelancer_paid: int
    pot: int
    client_funded: bool
    freelancer_funded: bool
