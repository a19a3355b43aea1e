"""The court's rules as plain values: periods, rulings and their shares, case statuses, deadlines and
the court's default parameters (small claims). Pure: no chain, no files.

The contracts: `contracts/court/Court.vy` (the ERC-792 court of staked jurors), `EscrowArbitrable.vy`
(the adapter that is a plain job's arbiter and opens cases at the court) and `escrow_rulings.vy`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum

from proofwork.domain.errors import InvalidInput

DAY = 86_400
BPS = 10_000
# Court.MAX_CHOICES: the most non-zero rulings a dispute may have.
MAX_CHOICES = 11
# Court.DRAW_WINDOW: blocks after its draw block in which an armed draw can still be made (blockhash).
DRAW_WINDOW = 256
# EscrowArbitrable.MAX_FEE_TIMEOUT: the longest time a party may be given to pay its fee.
MAX_FEE_TIMEOUT = 4 * DAY


class Period(IntEnum):
    """A court dispute's period (Court.vy EVIDENCE..EXECUTION)."""

    EVIDENCE = 0
    COMMIT = 1
    REVEAL = 2
    APPEAL = 3
    EXECUTION = 4

    @property
    def label(self) -> str:
        return self.name.lower()


class CaseStatus(IntEnum):
    """An adapter case's status (EscrowArbitrable.vy)."""

    NONE = 0
    WAITING_CLIENT = 1  # the freelancer paid; the client must pay its fee by the fee deadline
    WAITING_FREELANCER = 2  # the client paid; the freelancer must pay by the fee deadline
    DISPUTED = 3  # created at the court: jurors decide
    RULED = 4  # the court ruled; anyone executes the ruling
    CLOSED = 5

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", " ")

    @property
    def awaiting_fee(self) -> bool:
        return self in (CaseStatus.WAITING_CLIENT, CaseStatus.WAITING_FREELANCER)


class CloseReason(IntEnum):
    """How a case ended (EscrowArbitrable.CaseClosed.reason)."""

    RULING = 0
    SETTLEMENT = 1
    DEFAULT = 2  # a party did not pay its fee in time
    ESCROW = 3  # the escrow settled the milestone itself (approval, cancellation, 30-day fallback)

    @property
    def label(self) -> str:
        return self.name.lower()


# Rulings (escrow_rulings.vy): 0 refuse to arbitrate (half each), then the freelancer's share.
RULINGS: dict[int, tuple[str, int]] = {
    0: ("refuse to arbitrate (half each)", 5_000),
    1: ("pay the freelancer", 10_000),
    2: ("refund the client", 0),
    3: ("75 % to the freelancer", 7_500),
    4: ("50 % to the freelancer", 5_000),
    5: ("25 % to the freelancer", 2_500),
}
CHOICES = 5
# Names a juror may vote with on the command line.
VOTE_NAMES = {
    "refuse": 0,
    "freelancer": 1,
    "client": 2,
    "75": 3,
    "50": 4,
    "25": 5,
}


def ruling_label(ruling: int) -> str:
    return RULINGS.get(ruling, (f"ruling {ruling}", 0))[0]


def freelancer_bps(ruling: int) -> int:
    """The freelancer's share of the milestone (and of the fee reserve) for a ruling, in basis points."""
    if ruling not in RULINGS:
        raise InvalidInput(f"invalid ruling {ruling}: rulings run from 0 to {CHOICES}")
    return RULINGS[ruling][1]


def parse_vote(text: str | int) -> int:
    """A vote given as a number (0 to 5) or a name (freelancer, client, refuse, 75, 50, 25)."""
    if isinstance(text, int) and not isinstance(text, bool):
        choice = text
    else:
        word = str(text).strip().lower().rstrip("%").strip()
        if word in VOTE_NAMES:
            return VOTE_NAMES[word]
        if not word.isdigit():
            names = ", ".join(VOTE_NAMES)
            raise InvalidInput(f"invalid vote {text!r}: expected {names}, or a ruling number 0 to {CHOICES}")
        choice = int(word)
    if not 0 <= choice <= CHOICES:
        raise InvalidInput(f"invalid vote {choice}: rulings run from 0 to {CHOICES}")
    return choice


# A competition's ranking challenge: 0 refuse, 1 keep the ranking in force, 2 the challenger's ranking
RANKING_VOTES = {"refuse": 0, "keep": 1, "challenger": 2}


def parse_ranking_vote(text: str) -> int:
    """A vote on a ranking challenge: keep, challenger, refuse, or 0 to 2."""
    word = str(text).strip().lower()
    if word in RANKING_VOTES:
        return RANKING_VOTES[word]
    if word in ("0", "1", "2"):
        return int(word)
    raise InvalidInput(
        f"invalid vote {text!r} on a ranking challenge: expected keep, challenger, refuse or 0-2"
    )


def parse_share(text: str | int) -> int:
    """A settlement's freelancer share: basis points as an int, or a percentage like '60' / '60%' /
    '62.5%' given as text."""
    if isinstance(text, int) and not isinstance(text, bool):
        bps = text
    else:
        word = str(text).strip().rstrip("%").strip()
        try:
            whole, _, frac = word.partition(".")
            if not whole.isdigit() or (frac and (not frac.isdigit() or len(frac) > 2)):
                raise ValueError
            bps = int(whole) * 100 + int(frac.ljust(2, "0") or 0)
        except ValueError:
            raise InvalidInput(f"invalid share {text!r}: expected a percentage from 0 to 100") from None
    if not 0 <= bps <= BPS:
        raise InvalidInput(f"invalid share {bps} bps: the freelancer's share is 0 to 100 %")
    return bps


@dataclass(frozen=True)
class CourtParams:
    """What `Court.vy`'s constructor takes, and the adapter's own two settings.

    Defaults (small claims): each juror costs 3 % of the amount in dispute and a claim below 100
    tokens gets one juror, so a 50-token milestone costs 1.50 tokens per party deposit, and the
    loser's fee is all that reaches the court (the winner's deposit comes back): far under the
    5-token cap for such a claim. A claim of 100 tokens or more gets three jurors (9 %). Periods:
    evidence 2 days, commit 1, reveal 1, appeal 2: four rounds (the most a case may have) last 24
    days, and with the 2-day fee timeout a case ends inside the escrow's 30-day fallback."""

    seat_lock: int  # PWK (18 decimals) locked per seat, slashed from jurors not voting the majority
    min_stake: int
    fee_bps: int = 300
    small_claim_limit: int = 0  # in fee-token units (set from the token's decimals)
    periods: tuple[int, int, int, int] = (2 * DAY, DAY, DAY, 2 * DAY)
    jurors: int = 0  # first-round jurors asked by the adapter (0: the court's default: 1 or 3)
    fee_timeout: int = 2 * DAY
    pwk_supply: int = 10**6 * 10**18

    def check(self) -> None:
        """The court's and the adapter's constructor rules, refused here with a clear reason."""
        if self.seat_lock <= 0 or self.min_stake < self.seat_lock:
            raise InvalidInput("the minimum stake must be at least the stake locked per seat (> 0)")
        if not 0 <= self.fee_bps <= 1_000:
            raise InvalidInput("the fee per juror is 0 to 10 % (1000 bps) of the amount in dispute")
        if any(p <= 0 for p in self.periods):
            raise InvalidInput("every court period must be longer than zero")
        if 4 * sum(self.periods) > 25 * DAY:
            raise InvalidInput("four rounds of the court's periods must fit in 25 days")
        if self.jurors and (self.jurors % 2 == 0 or self.jurors > 7):
            raise InvalidInput("the first panel has an odd number of jurors, 1 to 7 (0: the court's default)")
        if not 0 < self.fee_timeout <= MAX_FEE_TIMEOUT:
            raise InvalidInput(
                f"the fee timeout is 1 second to {MAX_FEE_TIMEOUT // DAY} days (the adapter refuses longer)"
            )
        if not 0 < self.pwk_supply < 2**208:
            raise InvalidInput("the PWK supply must be positive and below 2^208")


PWK_DECIMALS = 18
PWK = 10**PWK_DECIMALS


def default_params(token_decimals: int) -> CourtParams:
    """The defaults for a deployment whose job token has `token_decimals`."""
    return CourtParams(seat_lock=100 * PWK, min_stake=100 * PWK, small_claim_limit=100 * 10**token_decimals)


def first_panel(amount: int, small_claim_limit: int, jurors: int = 0) -> int:
    """Seats of a case's first round (Court._first_panel)."""
    if jurors:
        return jurors
    return 1 if amount < small_claim_limit else 3


def fee_per_juror(amount: int, fee_bps: int) -> int:
    """Court._fee_per_juror: proportional to the amount in dispute, at least one token unit."""
    return max(amount * fee_bps // BPS, 1)


def majority(choices: Iterable[int]) -> int:
    """A round's ruling from its revealed votes (Court._ruling_of): the most voted choice, 0 on a tie
    or without votes."""
    counts: dict[int, int] = {}
    for choice in choices:
        counts[choice] = counts.get(choice, 0) + 1
    if not counts:
        return 0
    best = max(counts.values())
    top = [c for c, n in counts.items() if n == best]
    return top[0] if len(top) == 1 else 0


def current_ruling(rounds: Sequence[Iterable[int]]) -> int:
    """A dispute's ruling (Court._current_ruling) from each round's revealed votes, oldest round
    first: the majority of the latest round anyone revealed in (a round nobody revealed in changes
    nothing), 0 when nobody ever revealed."""
    for votes in reversed(rounds):
        revealed = list(votes)
        if revealed:
            return majority(revealed)
    return 0


def draw_step(draw_block: int, block: int) -> str:
    """What `pass_period` does when the evidence period is over, sent in block `block`, for a round
    whose draw block is `draw_block` (0: not armed): "arm" (not armed, or armed more than
    DRAW_WINDOW blocks ago: armed again), "draw" (a later block reads the draw block's hash), or
    "wait" (the same block: the court refuses, "court: draw not ready")."""
    if draw_block == 0 or block > draw_block + DRAW_WINDOW:
        return "arm"
    return "draw" if block > draw_block else "wait"


def period_end(period: Period, start: int, periods: tuple[int, ...]) -> int | None:
    """When a period runs out (None for execution, which never does)."""
    if period == Period.EXECUTION:
        return None
    return start + periods[int(period)]
