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


def deploy():
    with boa.env.prank(COURT_DEPLOYER):
        pwk = partial(STABLE_PATH).deploy("Proofwork Court", "PWK")
        usd = partial(STABLE_PATH).deploy("Court Test USD", "cUSD")
        court = partial(COURT_PATH).deploy(
            pwk.address, SEAT_LOCK, MIN_STAKE, FEE_BPS, SMALL_CLAIM, PERIODS, TREASURY
        )
        arb = partial(RECORDER_PATH).deploy()
        usd.mint(arb.address, 10**12 * USD)
    return pwk, usd, court, arb


def stake(pwk, court, who: str, amount: int) -> None:
    with boa.env.prank(COURT_DEPLOYER):
        pwk.mint(who, amount)
    with boa.env.prank(who):
        pwk.approve(court.address, amount)
        court.stake(amount)


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
