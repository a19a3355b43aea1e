"""Helpers for the Court tests: deployer, jurors, commitments, a case driver."""

from __future__ import annotations

import functools
from pathlib import Path

import boa
import eth_abi
from eth_utils import keccak, to_checksum_address

ROOT = Path(__file__).resolve().parents[2]
COURT_PATH = ROOT / "contracts" / "court" / "Court.vy"
STABLE_PATH = ROOT / "contracts" / "tokens" / "StableToken.vy"
RECORDER_PATH = Path(__file__).resolve().parent / "mocks" / "RulingRecorder.vy"

# Court contracts are deployed from an account of their own (see committee_fixtures.COMMITTEE_DEPLOYER).
COURT_DEPLOYER = to_checksum_address(keccak(b"proofwork court deployer")[12:])
TREASURY = to_checksum_address(keccak(b"proofwork court treasury")[12:])
PWK = 10**18
USD = 10**6
SEAT_LOCK = 100 * PWK
MIN_STAKE = 100 * PWK
FEE_BPS = 300
SMALL_CLAIM = 100 * USD
PERIODS = [2 * 86_400, 86_400, 86_400, 2 * 86_400]


def juror(i: int) -> str:
    return to_checksum_address(keccak(f"court juror {i}".encode())[12:])


def commitment(choice: int, salt: bytes, who: str) -> bytes:
    return keccak(eth_abi.encode(["uint256", "bytes32", "address"], [choice, salt, who]))


def extra(token: str, amount: int, jurors: int = 0) -> bytes:
    return eth_abi.encode(["address", "uint256", "uint256"], [token, amount, jurors])


@functools.cache
def partial(path: Path):
    """Each contract compiled once per test process (titanoboa compiles on every load_partial)."""
    return boa.load_partial(str(path))


def pin_clock(timestamp: int = 1_900_000_000, block: int = 1_000) -> None:
    """A machine test's clock, whatever ran before it: titanoboa starts at the wall clock and shares
    block numbers between the tests of a process, and the court's draws and deadlines read both, so a
    derandomized run (and its coverage floors) would otherwise change with the hour and the process.
    Call it inside `boa.env.anchor()`, which restores the clock after the test."""
    boa.env.evm.patch.timestamp = timestamp
    boa.env.evm.patch.block_number = block


def deploy(deployer: str = COURT_DEPLOYER):
    with boa.env.prank(deployer):
        pwk = partial(STABLE_PATH).deploy("Proofwork Court", "PWK")
        usd = partial(STABLE_PATH).deploy("Court Test USD", "cUSD")
        court = partial(COURT_PATH).deploy(
            pwk.address, SEAT_LOCK, MIN_STAKE, FEE_BPS, SMALL_CLAIM, PERIODS, TREASURY
        )
        arb = partial(RECORDER_PATH).deploy()
        usd.mint(arb.address, 10**12 * USD)
    return pwk, usd, court, arb


def stake(pwk, court, who: str, amount: int) -> None:
    with boa.env.prank(pwk.owner()):
        pwk.mint(who, amount)
    with boa.env.prank(who):
        pwk.approve(court.address, amount)
        court.stake(amount)


def seal_hashes() -> None:
    """titanoboa answers `blockhash` by depth from one fixed list (all zero but the parent): give
    each of the last 255 blocks a hash of its own number, as a real chain would (a block's hash
    then does not depend on when it is read)."""
    n = boa.env.evm.patch.block_number
    boa.env.evm.patch.prev_hashes = [keccak(f"block {n - 1 - i}".encode()) for i in range(255)]


def draw(court, d: int) -> list[str]:
    """Leaves the evidence period of dispute `d` (over): arms the draw, then draws one block later."""
    court.pass_period(d)  # arms the draw on this block
    boa.env.time_travel(blocks=1)
    seal_hashes()
    court.pass_period(d)  # draws with that block's hash
    # Draw(address, _disputeID, _juror, ...): namedtuple fields with a leading underscore are renamed
    return [str(list(e._asdict().values())[2]) for e in court.get_logs() if type(e).__name__ == "Draw"]


def panel_of(court, d: int, r: int) -> list[str]:
    """The panel from the Draw events of the last call."""
    seats = [
        e
        for e in court.get_logs()
        if type(e).__name__ == "Draw" or (getattr(e, "event_type", None) and e.event_type.name == "Draw")
    ]
    return [
        str(e.args_map["_juror"])
        for e in seats
        if e.args_map["_disputeID"] == d and e.args_map["_round"] == r
    ]
