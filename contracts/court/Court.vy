# pragma version ~=0.4.3
"""
@title Court
@custom:contract-name Court
@license GNU Affero General Public License v3.0 only
@notice ERC-792 court of staked jurors. Jurors stake the court token; each case draws a
        stake-weighted panel (sortition.vy), which votes by commit-reveal; the majority
        shares the round's fees and the stake slashed from the others. Periods:
        evidence -> commit -> reveal -> appeal -> execution, each with a timeout, and
        anyone may advance a case whose period has run out (`pass_period`).
@dev Commitment: keccak256(abi_encode(choice: uint256, salt: bytes32, juror: address)).
     Ruling of a round: the choice with the most revealed votes; a tie gives 0 (refuse to
     arbitrate). A round in which nobody revealed changes nothing: the ruling stays that
     of the latest round with a revealed vote (0 if none), so an appeal whose panel is
     empty or silent cannot turn a ruling into a refusal.
     Stake locking: each seat locks SEAT_LOCK of the juror's stake; a juror is drawn only
     if locked + SEAT_LOCK <= its draw weight, so nobody is ever drawn beyond its stake.
     `unstake` removes weight from the draw at once and returns the free tokens; locked
     tokens stay until the case's rewards are distributed (then `withdraw_stake`).
     Randomness, in two steps. Once the evidence period is over, a first `pass_period`
     arms the draw: it records its own block as the draw block and freezes the draw's
     inputs (stake, unstake and distribute revert with "court: draw pending" while any
     armed draw is waiting, for at most DRAW_WINDOW blocks). A second `pass_period`, in
     any later block, draws with seed keccak256(blockhash(draw block), dispute, round);
     a draw not made within DRAW_WINDOW blocks of its draw block is armed again. Nobody
     can shape the sum tree once the seed is known (a juror who could would pick its own
     seats: see tests/contracts/test_court_attacks.py), and the caller of either step
     cannot choose the seed. Limits: the builder of the draw block can grind its hash
     (it must build the very block the arming lands in), and may withhold it; among
     several armed draws, whoever draws first decides which panel locks seats first.
     Good enough for small claims; a beacon (VRF, drand) should replace it for large ones.
     Fees: SMALL-CLAIMS pricing, proportional to the amount in dispute: each juror costs
     amount * FEE_BPS / 10_000, at least one token unit (no seat is drawn for free); a
     claim below SMALL_CLAIM_LIMIT gets 1 juror by default, 3 otherwise. Appeals: panel
     2n+1, at most MAX_ROUNDS rounds in all.
     Storage per dispute: two words at creation (parties and clock, fee), one per round
     when its draw is armed (then seats, counters, tally, panel hash), one per seat at its
     commit (cleared when the round is distributed). At most MAX_CHOICES (11) choices: the
     tally of a round lives in its word. `execute_ruling` and `distribute` make a ruling
     final themselves once the appeal period is over (disputeStatus is then 2).
     Withdrawal (an extension of ERC-792, which has no cancellation): until the first draw
     is armed, the arbitrable may `withdraw_dispute` (its parties settled); its fees come
     back and the dispute is solved without a ruling (`rule` is never called).
"""

from ethereum.ercs import IERC20
from . import IArbitrator
from . import IArbitrable
from . import sortition

implements: IArbitrator

initializes: sortition

exports: sortition.leaf_count

# Periods.
EVIDENCE: constant(uint8) = 0
COMMIT: constant(uint8) = 1
REVEAL: constant(uint8) = 2
APPEAL: constant(uint8) = 3
EXECUTION: constant(uint8) = 4

# Most rounds of a case (1 -> 3 -> 7 -> 15 jurors, or 7 -> 15 -> 31 -> 63).
MAX_ROUNDS: constant(uint256) = 4
# Largest panel: 7 first jurors, three appeals.
MAX_PANEL: constant(uint256) = 63
# Most choices a dispute may have (votes are tallied 6 bits per choice 0..11 in the round word).
MAX_CHOICES: constant(uint256) = 11
# Most jurors a first round may ask for.
MAX_FIRST_PANEL: constant(uint256) = 7
# Longest a case may last with all its rounds (the escrow's fallback comes at 30 days).
MAX_CASE_DURATION: constant(uint256) = 25 * 86_400
# Vote slots below this are revealed votes (choice + 1); above, commitments.
_REVEALED_BELOW: constant(uint256) = 2**64
# Blocks after its draw block in which a draw can still read that block's hash (EVM limit).
DRAW_WINDOW: constant(uint256) = 256


event Draw:
    _disputeID: indexed(uint256)
    _juror: indexed(address)
    _round: uint256
    _position: uint256


event NewPeriod:
    _disputeID: indexed(uint256)
    _period: uint8


event DrawArmed:
    _disputeID: indexed(uint256)
    _round: uint256
    _drawBlock: uint256


event DisputeWithdrawn:
    _disputeID: indexed(uint256)
    _arbitrable: indexed(address)
    _refund: uint256


event VoteCommitted:
    _disputeID: indexed(uint256)
    _juror: indexed(address)
    _round: uint256


event VoteRevealed:
    _disputeID: indexed(uint256)
    _juror: indexed(address)
    _round: uint256
    _choice: uint256


event StakeSet:
    _juror: indexed(address)
    _weight: uint256
    _balance: uint256


# @dev The staking (court) token.
STAKING_TOKEN: immutable(IERC20)
# @dev Stake locked per seat, slashed from a juror who does not vote with the majority.
SEAT_LOCK: immutable(uint256)
# @dev Least draw weight a staked juror may keep (>= SEAT_LOCK).
MIN_STAKE: immutable(uint256)
# @dev Fee per juror, in basis points of the amount in dispute.
FEE_BPS: immutable(uint256)
# @dev Claims below this (fee-token units) get one juror by default.
SMALL_CLAIM_LIMIT: immutable(uint256)
# @dev Period lengths in seconds: evidence, commit, reveal, appeal.
PERIODS: immutable(uint256[4])
# @dev Receives fees and penalties of rounds where no juror revealed.
TREASURY: immutable(address)

# @dev Per dispute, one word read by nearly every call: arbitrable (bits 0-159), choices
# (160-163), ruled (164), first panel size (165-167), period (168-170), round (171-172),
# period start (173-212).
_disp: HashMap[uint256, uint256]
# @dev Per dispute: fee token (bits 0-159) and fee per juror (160-255).
_fee: HashMap[uint256, uint256]
# @dev Per (dispute, round), first written when its draw is armed (the draw block at bits
# 96-135), then by the draw: seats (bits 0-5), commits (6-11), reveals (12-17),
# distributed (18), revealed votes 6 bits per choice 0..11 (19-90), drawn (91), panel hash
# truncated to 160 bits (96-255).
_rw: HashMap[uint256, HashMap[uint256, uint256]]
# @dev Vote slot per (dispute, round, seat): a commitment, or choice + 1 once revealed.
_votes: HashMap[uint256, HashMap[uint256, HashMap[uint256, uint256]]]
# @dev Number of disputes created.
dispute_count: public(uint256)
# @dev Armed draws not yet made (bits 0-63; expired ones dropped at the next arming) and the
# last block any of them may still be made in (64-): while the count is non-zero and that
# block not passed, the sum tree and the locks are frozen.
_draw_lock: uint256
# @dev Per juror: tokens held for it as stake.
stake_balance: public(HashMap[address, uint256])
# @dev Per juror: draw weight (bits 128-255) and stake locked by open cases (bits 0-127),
# in one slot read and written once per seat drawn.
_wl: HashMap[address, uint256]
# @dev Per juror: its leaf in the sum tree (0 none).
leaf_of: public(HashMap[address, uint256])
# @dev Juror of each leaf.
juror_of: public(HashMap[uint256, address])
# @dev Rewards (fee tokens and staking token) owed, by owner and token.
credit: public(HashMap[address, HashMap[address, uint256]])


@deploy
def __init__(
    staking_token_: address,
    seat_lock_: uint256,
    min_stake_: uint256,
    fee_bps_: uint256,
    small_claim_limit_: uint256,
    periods_: uint256[4],
    treasury_: address,
):
    """
    @notice Deploys the court.
    @param staking_token_ The court token (an ERC-20).
    @param seat_lock_ Stake locked per seat.
    @param min_stake_ Least weight a staked juror keeps, >= seat_lock_.
    @param fee_bps_ Fee per juror in basis points of the amount in dispute (<= 1000).
    @param small_claim_limit_ Amount below which a dispute gets one juror by default.
    @param periods_ Evidence, commit, reveal and appeal periods in seconds; MAX_ROUNDS
           rounds of them must fit in 25 days.
    @param treasury_ Receives fees of rounds nobody voted in.
    """
    assert seat_lock_ > 0 and min_stake_ >= seat_lock_, "court: bad stake parameters"
    assert fee_bps_ <= 1_000, "court: fee too high"
    assert treasury_ != empty(address), "court: zero treasury"
    total: uint256 = 0
    for p: uint256 in periods_:
        assert p > 0, "court: zero period"
        total += p
    assert total * MAX_ROUNDS <= MAX_CASE_DURATION, "court: periods too long"
    sortition.__init__()
    STAKING_TOKEN = IERC20(staking_token_)
    SEAT_LOCK = seat_lock_
    MIN_STAKE = min_stake_
    FEE_BPS = fee_bps_
    SMALL_CLAIM_LIMIT = small_claim_limit_
    PERIODS = periods_
    TREASURY = treasury_


# --------------------------------------------------------------------------- packing

_M6: constant(uint256) = 63
_M128: constant(uint256) = 2**128 - 1
_M160: constant(uint256) = 2**160 - 1
_M40: constant(uint256) = 2**40 - 1
_M64: constant(uint256) = 2**64 - 1
# Bit offsets of the dispute word.
_CHOICES_AT: constant(uint256) = 160
_RULED_AT: constant(uint256) = 164
_FIRST_AT: constant(uint256) = 165
_PERIOD_AT: constant(uint256) = 168
_ROUND_AT: constant(uint256) = 171
_START_AT: constant(uint256) = 173
# Bit offsets of the round word.
_COMMITS_AT: constant(uint256) = 6
_REVEALS_AT: constant(uint256) = 12
_DONE_AT: constant(uint256) = 18
_TALLY_AT: constant(uint256) = 19
_TALLY_MASK: constant(uint256) = 2**72 - 1
_DRAWN: constant(uint256) = 2**91
_PANEL_AT: constant(uint256) = 96


@internal
@view
def _weight(j: address) -> uint256:
    """
    @dev A juror's draw weight.
    @param j The juror.
    @return The weight.
    """
    return self._wl[j] >> 128


@internal
@view
def _locked(j: address) -> uint256:
    """
    @dev A juror's locked stake.
    @param j The juror.
    @return The locked amount.
    """
    return self._wl[j] & _M128


@internal
def _set_wl(j: address, w: uint256, l: uint256):
    """
    @dev Stores a juror's weight and locked stake.
    @param j The juror.
    @param w The weight (< 2**128).
    @param l The locked stake (< 2**128).
    """
    assert w <= _M128 and l <= _M128, "court: amount too large"
    self._wl[j] = (w << 128) | l


@external
@view
def weight(j: address) -> uint256:
    """
    @notice A juror's draw weight.
    @param j The juror.
    @return The weight.
    """
    return self._weight(j)


@external
@view
def locked(j: address) -> uint256:
    """
    @notice A juror's stake locked by open cases.
    @param j The juror.
    @return The locked amount.
    """
    return self._locked(j)


@internal
@pure
def _period_of(w: uint256) -> uint8:
    """
    @dev The period in a dispute word.
    @param w The dispute word.
    @return The period.
    """
    return convert((w >> _PERIOD_AT) & 7, uint8)


@internal
@pure
def _round_of(w: uint256) -> uint256:
    """
    @dev The current round in a dispute word.
    @param w The dispute word.
    @return The round.
    """
    return (w >> _ROUND_AT) & 3


@internal
@pure
def _start_of(w: uint256) -> uint256:
    """
    @dev When the period in a dispute word started.
    @param w The dispute word.
    @return The timestamp.
    """
    return (w >> _START_AT) & _M40


@internal
@pure
def _arbitrable_of(w: uint256) -> address:
    """
    @dev The arbitrable in a dispute word.
    @param w The dispute word.
    @return The arbitrable.
    """
    return convert(convert(w & _M160, uint160), address)


@internal
@pure
def _choices_of(w: uint256) -> uint256:
    """
    @dev The highest choice in a dispute word.
    @param w The dispute word.
    @return The number of non-zero choices.
    """
    return (w >> _CHOICES_AT) & 15


@internal
@pure
def _requested_of(w: uint256, r: uint256) -> uint256:
    """
    @dev Seats requested in round `r`: n = 2s + 1 (s stored), then 2n + 1 at each appeal.
    @param w The dispute word.
    @param r The round.
    @return The panel size asked for.
    """
    return ((((w >> _FIRST_AT) & 7) + 1) << (r + 1)) - 1


@internal
@view
def _with_clock(w: uint256, p: uint8, r: uint256) -> uint256:
    """
    @dev The dispute word entering period `p` of round `r` now.
    @param w The dispute word.
    @param p Period.
    @param r Round.
    @return The new word.
    """
    keep: uint256 = w & (2**_PERIOD_AT - 1)
    return keep | (convert(p, uint256) << _PERIOD_AT) | (r << _ROUND_AT) | (block.timestamp << _START_AT)


@internal
@view
def _period_over(w: uint256) -> bool:
    """
    @dev Whether the period in a dispute word has run out.
    @param w The dispute word.
    @return True once its length has passed.
    """
    return block.timestamp >= self._start_of(w) + PERIODS[convert(self._period_of(w), uint256)]


@external
@view
def round_info(d: uint256, r: uint256) -> (uint256, uint256, uint256, uint256, bool):
    """
    @notice A round's requested seats, drawn seats, commits, reveals and whether it was distributed.
    @param d Dispute.
    @param r Round.
    @return requested, seats, commits, reveals, distributed.
    """
    rw: uint256 = self._rw[d][r]
    return (
        self._requested_of(self._disp[d], r),
        rw & _M6,
        (rw >> _COMMITS_AT) & _M6,
        (rw >> _REVEALS_AT) & _M6,
        (rw >> _DONE_AT) & 1 == 1,
    )


@external
@view
def dispute_clock(d: uint256) -> (uint8, uint256, uint256):
    """
    @notice A dispute's period, round and period start.
    @param d Dispute.
    @return period, round, start.
    """
    w: uint256 = self._disp[d]
    return self._period_of(w), self._round_of(w), self._start_of(w)


@external
@view
def draw_block(d: uint256) -> uint256:
    """
    @notice The block whose hash draws the current round's panel (0 until armed and once drawn).
    @param d Dispute.
    @return The block number.
    """
    rw: uint256 = self._rw[d][self._round_of(self._disp[d])]
    if rw & _DRAWN != 0:
        return 0
    return (rw >> _PANEL_AT) & _M40


@external
@view
def draw_pending() -> bool:
    """
    @notice Whether an armed draw is waiting: stake, unstake and distribute revert meanwhile.
    @return True while frozen.
    """
    return self._frozen()


@internal
@pure
def _panel_key(panel: DynArray[address, MAX_PANEL]) -> uint256:
    """
    @dev The panel's hash truncated to 160 bits, placed at bit 96 of the round word.
    @param panel The panel.
    @return The bits to store.
    """
    return (convert(keccak256(abi_encode(panel)), uint256) >> _PANEL_AT) << _PANEL_AT


@internal
@view
def _fee_token(d: uint256) -> address:
    """
    @dev A dispute's fee token.
    @param d Dispute.
    @return The token.
    """
    return convert(convert(self._fee[d] & _M160, uint160), address)


@external
@view
def dispute_info(d: uint256) -> (address, uint256, address, uint256, bool):
    """
    @notice A dispute's arbitrable, choices, fee token, fee per juror and whether rule() was called.
    @param d Dispute.
    @return arbitrable, choices, fee_token, fee_per_juror, ruled.
    """
    w: uint256 = self._disp[d]
    return self._arbitrable_of(w), self._choices_of(w), self._fee_token(d), self._fee[d] >> 160, (w >> _RULED_AT) & 1 == 1


# --------------------------------------------------------------------------- staking


@internal
@view
def _frozen() -> bool:
    """
    @dev Whether an armed draw is waiting (its inputs must not move).
    @return True while frozen.
    """
    lk: uint256 = self._draw_lock
    return lk & _M64 != 0 and block.number <= lk >> 64


@internal
@view
def _check_unfrozen():
    """
    @dev Reverts while an armed draw is waiting: nobody may move the sum tree or the
         locks once a draw's seed can be known.
    """
    assert not self._frozen(), "court: draw pending"


@internal
def _set_weight(juror: address, new_weight: uint256):
    """
    @dev Moves a juror's draw weight to `new_weight` in the tree.
    @param juror The juror.
    @param new_weight Its new weight.
    """
    old: uint256 = self._weight(juror)
    if old == new_weight:
        return
    leaf: uint256 = self.leaf_of[juror]
    if leaf == 0:
        leaf = sortition._add_leaf()
        self.leaf_of[juror] = leaf
        self.juror_of[leaf] = juror
    if new_weight > old:
        sortition._update(leaf, new_weight - old, True)
    else:
        sortition._update(leaf, old - new_weight, False)
    self._set_wl(juror, new_weight, self._locked(juror))


@external
@nonreentrant
def stake(amount: uint256):
    """
    @notice Stakes `amount` more of the court token (pulled with transferFrom); it enters the
            draw at once (not while an armed draw is pending).
    @param amount Tokens to add.
    """
    self._check_unfrozen()
    assert amount > 0, "court: zero amount"
    w: uint256 = self._weight(msg.sender) + amount
    assert w >= MIN_STAKE, "court: below minimum stake"
    assert extcall STAKING_TOKEN.transferFrom(msg.sender, self, amount, default_return_value=True), "court: transfer failed"
    self.stake_balance[msg.sender] += amount
    self._set_weight(msg.sender, w)
    log StakeSet(_juror=msg.sender, _weight=w, _balance=self.stake_balance[msg.sender])


@internal
def _withdraw_free(juror: address) -> uint256:
    """
    @dev Sends a juror the tokens neither in the draw nor locked.
    @param juror The juror.
    @return The amount sent.
    """
    b: uint256 = self.stake_balance[juror]
    keep: uint256 = max(self._weight(juror), self._locked(juror))
    free: uint256 = b - keep
    if free > 0:
        self.stake_balance[juror] = keep
        assert extcall STAKING_TOKEN.transfer(juror, free, default_return_value=True), "court: transfer failed"
    return free


@external
@nonreentrant
def unstake(amount: uint256) -> uint256:
    """
    @notice Removes `amount` from the draw at once (not while an armed draw is pending) and
            returns the tokens not locked by open cases; locked tokens follow through
            `withdraw_stake` once those cases are distributed. A juror who unstakes during
            a case stays bound by it.
    @param amount Weight to remove; the rest must be 0 or >= MIN_STAKE.
    @return Tokens sent now.
    """
    self._check_unfrozen()
    w: uint256 = self._weight(msg.sender)
    assert amount > 0 and amount <= w, "court: not staked"
    rest: uint256 = w - amount
    assert rest == 0 or rest >= MIN_STAKE, "court: below minimum stake"
    self._set_weight(msg.sender, rest)
    sent: uint256 = self._withdraw_free(msg.sender)
    log StakeSet(_juror=msg.sender, _weight=rest, _balance=self.stake_balance[msg.sender])
    return sent


@external
@nonreentrant
def withdraw_stake() -> uint256:
    """
    @notice Sends the caller its stake tokens no longer in the draw nor locked.
    @return Tokens sent.
    """
    return self._withdraw_free(msg.sender)


@external
@nonreentrant
def withdraw(token: address) -> uint256:
    """
    @notice Sends the caller its rewards in `token`.
    @param token A fee token or the court token.
    @return Tokens sent.
    """
    amount: uint256 = self.credit[msg.sender][token]
    assert amount > 0, "court: nothing to withdraw"
    self.credit[msg.sender][token] = 0
    assert extcall IERC20(token).transfer(msg.sender, amount, default_return_value=True), "court: transfer failed"
    return amount


@external
@view
def total_stake() -> uint256:
    """
    @notice Total draw weight.
    @return The sum tree's total.
    """
    return sortition._total()


# --------------------------------------------------------------------------- fees


@internal
@pure
def _decode(extra: Bytes[96]) -> (address, uint256, uint256):
    """
    @dev Decodes `abi_encode(fee_token, amount_in_dispute, jurors)`; short data means defaults.
    @param extra The extra data.
    @return Fee token, amount in dispute, requested jurors (0 default).
    """
    if len(extra) < 96:
        return empty(address), 0, 0
    return abi_decode(extra, (address, uint256, uint256))


@internal
@view
def _first_panel(amount: uint256, jurors: uint256) -> uint256:
    """
    @dev First-round panel size: `jurors` if given (odd, 1..7), else 1 below the small-claim limit, 3 above.
    @param amount Amount in dispute.
    @param jurors Requested jurors (0 for the default).
    @return Panel size.
    """
    if jurors == 0:
        if amount < SMALL_CLAIM_LIMIT:
            return 1
        return 3
    assert jurors % 2 == 1 and jurors <= MAX_FIRST_PANEL, "court: bad juror count"
    return jurors


@internal
@view
def _fee_per_juror(amount: uint256) -> uint256:
    """
    @dev Fee per juror: proportional to the amount in dispute, at least one token unit.
    @param amount Amount in dispute.
    @return Fee per juror.
    """
    return max(amount * FEE_BPS // 10_000, 1)


@external
@view
def arbitrationCost(_extraData: Bytes[96]) -> uint256:
    """
    @notice The fee `createDispute` pulls: panel size times the proportional fee per juror.
    @param _extraData abi_encode(fee_token, amount_in_dispute, jurors).
    @return The cost in the fee token.
    """
    token: address = empty(address)
    amount: uint256 = 0
    jurors: uint256 = 0
    token, amount, jurors = self._decode(_extraData)
    return self._first_panel(amount, jurors) * self._fee_per_juror(amount)


@external
@payable
@nonreentrant
def createDispute(_choices: uint256, _extraData: Bytes[96]) -> uint256:
    """
    @notice Opens a dispute; the caller (arbitrable) pays `arbitrationCost` in the fee token.
    @param _choices Number of non-zero rulings (1..11).
    @param _extraData abi_encode(fee_token, amount_in_dispute, jurors).
    @return The dispute id.
    """
    assert msg.value == 0, "court: no ether"
    assert _choices > 0 and _choices <= MAX_CHOICES, "court: bad choices"
    token: address = empty(address)
    amount: uint256 = 0
    jurors: uint256 = 0
    token, amount, jurors = self._decode(_extraData)
    assert token != empty(address), "court: no fee token"
    n: uint256 = self._first_panel(amount, jurors)
    fee: uint256 = self._fee_per_juror(amount)
    assert fee < 2**96, "court: amount too large"
    d: uint256 = self.dispute_count
    self.dispute_count = d + 1
    w: uint256 = convert(msg.sender, uint256) | (_choices << _CHOICES_AT) | ((n >> 1) << _FIRST_AT)
    self._disp[d] = self._with_clock(w, EVIDENCE, 0)
    self._fee[d] = convert(token, uint256) | (fee << 160)
    assert extcall IERC20(token).transferFrom(msg.sender, self, n * fee, default_return_value=True), "court: fee transfer failed"
    log IArbitrator.DisputeCreation(_disputeID=d, _arbitrable=msg.sender)
    return d


@external
@nonreentrant
def withdraw_dispute(d: uint256):
    """
    @notice The arbitrable that created dispute `d` withdraws it before any juror is drawn
            (first round, evidence period, draw not armed), for instance because its parties
            settled: the arbitration cost it paid comes back, and the dispute is solved
            without a ruling (`rule` is never called, `disputeStatus` answers 2).
    @dev No juror holds a seat and no draw is pending, so nothing else is owed: the first
         round is marked distributed, so its fees cannot be paid out again.
    @param d Dispute.
    """
    w: uint256 = self._disp[d]
    assert w != 0, "court: unknown dispute"
    assert msg.sender == self._arbitrable_of(w), "court: only the arbitrable"
    assert self._period_of(w) == EVIDENCE and self._round_of(w) == 0, "court: jurors drawn"
    assert self._rw[d][0] == 0, "court: draw armed"
    refund: uint256 = self._requested_of(w, 0) * (self._fee[d] >> 160)
    self._disp[d] = self._with_clock(w, EXECUTION, 0) | (1 << _RULED_AT)
    self._rw[d][0] = 1 << _DONE_AT
    log NewPeriod(_disputeID=d, _period=EXECUTION)
    log DisputeWithdrawn(_disputeID=d, _arbitrable=msg.sender, _refund=refund)
    assert extcall IERC20(self._fee_token(d)).transfer(msg.sender, refund, default_return_value=True), "court: refund failed"


# --------------------------------------------------------------------------- periods


@internal
@pure
def _ruling_of(tally: uint256) -> uint256:
    """
    @dev The choice with most votes; 0 on a tie or without votes.
    @param tally Vote counts, 6 bits per choice 0..MAX_CHOICES.
    @return The ruling.
    """
    best: uint256 = 0
    best_count: uint256 = 0
    tie: bool = False
    t: uint256 = tally
    for c: uint256 in range(MAX_CHOICES + 1):
        if t == 0:
            break
        count: uint256 = t & _M6
        t >>= 6
        if count > best_count:
            best = c
            best_count = count
            tie = False
        elif count == best_count and count > 0:
            tie = True
    if tie:
        return 0
    return best


@internal
def _draw(d: uint256, r: uint256, n: uint256, seed: bytes32):
    """
    @dev Draws up to `n` seats, stake-weighted; a juror without a free seat's worth of
         stake is skipped (bounded retries). Stores only a hash of the panel, in the
         round word's first write.
    @param d Dispute.
    @param r Round.
    @param n Seats wanted.
    @param seed The draw's seed.
    """
    total: uint256 = sortition._total()
    panel: DynArray[address, MAX_PANEL] = []
    if total > 0:
        for i: uint256 in range(2 * MAX_PANEL):
            if len(panel) == n or i >= 2 * n + 2:
                break
            x: uint256 = convert(keccak256(abi_encode(seed, i)), uint256) % total
            juror: address = self.juror_of[sortition._find(x)]
            wl: uint256 = self._wl[juror]
            if (wl & _M128) + SEAT_LOCK <= wl >> 128:
                self._wl[juror] = wl + SEAT_LOCK
                log Draw(_disputeID=d, _juror=juror, _round=r, _position=len(panel))
                panel.append(juror)
    self._rw[d][r] = len(panel) | _DRAWN | self._panel_key(panel)


@internal
def _enter(d: uint256, w: uint256, p: uint8) -> uint256:
    """
    @dev Enters period `p` of the current round now and stores the dispute word.
    @param d Dispute.
    @param w The dispute word.
    @param p Period.
    @return The new word.
    """
    nw: uint256 = self._with_clock(w, p, self._round_of(w))
    self._disp[d] = nw
    log NewPeriod(_disputeID=d, _period=p)
    if p == APPEAL:
        log IArbitrator.AppealPossible(_disputeID=d, _arbitrable=self._arbitrable_of(w))
    return nw


@internal
def _arm(d: uint256, r: uint256):
    """
    @dev Arms the round's draw on the current block (its hash is unknown until the block is
         sealed) and freezes the draw's inputs until it is made (or its window ends). The
         pending count restarts from zero once every earlier window has ended (their draws,
         if still wanted, are armed again), so a draw armed and abandoned holds the freeze
         for DRAW_WINDOW blocks at most; a re-armed draw may be counted twice, which holds
         the freeze until the end of the current window at most.
    @param d Dispute.
    @param r Round.
    """
    target: uint256 = block.number
    self._rw[d][r] = target << _PANEL_AT
    lk: uint256 = self._draw_lock
    pending: uint256 = lk & _M64
    until: uint256 = lk >> 64
    if block.number > until:
        pending = 0  # every earlier armed draw has expired
    self._draw_lock = (pending + 1) | (max(until, target + DRAW_WINDOW) << 64)
    log DrawArmed(_disputeID=d, _round=r, _drawBlock=target)


@external
def pass_period(d: uint256):
    """
    @notice Advances dispute `d` once its period has run out (anyone may call). Leaving the
            evidence period takes two calls in different blocks: the first arms the draw on
            its own block, the second (in any later block) draws the panel with that block's
            hash (a draw left more than DRAW_WINDOW
            blocks is armed again). Leaving the appeal period makes the ruling final.
    @param d Dispute.
    """
    w: uint256 = self._disp[d]
    assert w != 0, "court: unknown dispute"
    p: uint8 = self._period_of(w)
    assert p != EXECUTION, "court: dispute solved"
    assert self._period_over(w), "court: period not over"
    if p == EVIDENCE:
        r: uint256 = self._round_of(w)
        target: uint256 = self._rw[d][r] >> _PANEL_AT  # the round is not drawn yet: 0 or armed
        if target == 0 or block.number > target + DRAW_WINDOW:
            self._arm(d, r)
            return
        assert block.number > target, "court: draw not ready"
        self._draw(d, r, self._requested_of(w, r), keccak256(abi_encode(blockhash(target), d, r)))
        lk: uint256 = self._draw_lock
        if lk & _M64 != 0:
            self._draw_lock = lk - 1
    self._enter(d, w, p + 1)


@internal
@view
def _check_seat(rw: uint256, position: uint256, panel: DynArray[address, MAX_PANEL]) -> address:
    """
    @dev Checks `panel` against the round word's hash and returns the juror at `position`.
    @param rw The round word.
    @param position Seat.
    @param panel The drawn panel (from the Draw events).
    @return The seat's juror.
    """
    assert self._panel_key(panel) == (rw >> _PANEL_AT) << _PANEL_AT, "court: wrong panel"
    assert position < len(panel), "court: no such seat"
    return panel[position]


@external
def commit(d: uint256, position: uint256, panel: DynArray[address, MAX_PANEL], commitment: bytes32):
    """
    @notice Commits the caller's vote for its seat.
    @param d Dispute.
    @param position The caller's seat in the panel.
    @param panel The round's panel.
    @param commitment keccak256(abi_encode(choice, salt, juror)).
    """
    w: uint256 = self._disp[d]
    assert self._period_of(w) == COMMIT and not self._period_over(w), "court: not in commit period"
    r: uint256 = self._round_of(w)
    rw: uint256 = self._rw[d][r]
    assert self._check_seat(rw, position, panel) == msg.sender, "court: not your seat"
    assert convert(commitment, uint256) >= _REVEALED_BELOW, "court: bad commitment"
    assert self._votes[d][r][position] == 0, "court: already committed"
    self._votes[d][r][position] = convert(commitment, uint256)
    rw += 1 << _COMMITS_AT
    self._rw[d][r] = rw
    log VoteCommitted(_disputeID=d, _juror=msg.sender, _round=r)
    if (rw >> _COMMITS_AT) & _M6 == rw & _M6:
        self._enter(d, w, REVEAL)


@external
def reveal(d: uint256, position: uint256, panel: DynArray[address, MAX_PANEL], choice: uint256, salt: bytes32):
    """
    @notice Reveals a committed vote (anyone holding the salt may send it).
    @param d Dispute.
    @param position The seat.
    @param panel The round's panel.
    @param choice The vote (0..choices).
    @param salt The salt of the commitment.
    """
    w: uint256 = self._disp[d]
    assert self._period_of(w) == REVEAL and not self._period_over(w), "court: not in reveal period"
    r: uint256 = self._round_of(w)
    rw: uint256 = self._rw[d][r]
    juror: address = self._check_seat(rw, position, panel)
    assert choice <= self._choices_of(w), "court: invalid choice"
    v: uint256 = self._votes[d][r][position]
    assert v != 0, "court: no commit"
    assert v >= _REVEALED_BELOW, "court: already revealed"
    assert convert(keccak256(abi_encode(choice, salt, juror)), uint256) == v, "court: reveal does not match commit"
    self._votes[d][r][position] = choice + 1
    rw += (1 << _REVEALS_AT) + (1 << (_TALLY_AT + 6 * choice))
    self._rw[d][r] = rw
    log VoteRevealed(_disputeID=d, _juror=juror, _round=r, _choice=choice)
    if (rw >> _REVEALS_AT) & _M6 == rw & _M6:
        self._enter(d, w, APPEAL)


@internal
def _solved(d: uint256) -> uint256:
    """
    @dev The dispute word of a solved dispute; a dispute whose appeal period has run out
         is made final here first (as `pass_period` would).
    @param d Dispute.
    @return The dispute word, in the execution period.
    """
    w: uint256 = self._disp[d]
    p: uint8 = self._period_of(w)
    if p == APPEAL and self._period_over(w):
        return self._enter(d, w, EXECUTION)
    assert p == EXECUTION, "court: not solved"
    return w


@external
@nonreentrant
def execute_ruling(d: uint256):
    """
    @notice Gives the arbitrable its final ruling, once (anyone may call once the appeal
            period is over; it makes the ruling final first if needed).
    @param d Dispute.
    """
    w: uint256 = self._solved(d)
    assert (w >> _RULED_AT) & 1 == 0, "court: already ruled"
    self._disp[d] = w | (1 << _RULED_AT)
    extcall IArbitrable(self._arbitrable_of(w)).rule(d, self._current_ruling(d, w))


@internal
@view
def _current_ruling(d: uint256, w: uint256) -> uint256:
    """
    @dev The ruling of the latest round with at least one revealed vote (0 if none): a
         round nobody revealed in changes nothing.
    @param d Dispute.
    @param w The dispute word.
    @return The ruling.
    """
    r: uint256 = self._round_of(w)
    for _: uint256 in range(MAX_ROUNDS):
        tally: uint256 = (self._rw[d][r] >> _TALLY_AT) & _TALLY_MASK
        if tally != 0:
            return self._ruling_of(tally)
        if r == 0:
            break
        r -= 1
    return 0


@external
@nonreentrant
def distribute(d: uint256, r: uint256, panel: DynArray[address, MAX_PANEL]):
    """
    @notice Settles round `r` of a solved dispute: jurors who revealed the final ruling
            share the round's fees and the locks of those who did not; those are slashed.
            If nobody voted the final ruling, every revealer counts as coherent; if nobody
            revealed, fees and penalties go to the treasury. Not while an armed draw is
            pending (it moves locks and weights). The round's vote slots are cleared.
    @param d Dispute.
    @param r Round.
    @param panel The round's panel.
    """
    self._check_unfrozen()
    w: uint256 = self._solved(d)
    assert r <= self._round_of(w), "court: no such round"
    rw: uint256 = self._rw[d][r]
    assert (rw >> _DONE_AT) & 1 == 0, "court: already distributed"
    assert self._panel_key(panel) == (rw >> _PANEL_AT) << _PANEL_AT, "court: wrong panel"
    self._rw[d][r] = rw | (1 << _DONE_AT)
    ruling: uint256 = self._current_ruling(d, w)
    coherent_count: uint256 = 0
    revealed_count: uint256 = 0
    votes: DynArray[uint256, MAX_PANEL] = []
    for i: uint256 in range(MAX_PANEL):
        if i >= len(panel):
            break
        v: uint256 = self._votes[d][r][i]
        votes.append(v)
        if v != 0 and v < _REVEALED_BELOW:
            revealed_count += 1
            if v == ruling + 1:
                coherent_count += 1
    any_revealer: bool = coherent_count == 0
    winners: uint256 = coherent_count
    if any_revealer:
        winners = revealed_count
    fees: uint256 = self._requested_of(w, r) * (self._fee[d] >> 160)
    token: address = self._fee_token(d)
    penalties: uint256 = (len(panel) - winners) * SEAT_LOCK
    fee_share: uint256 = 0
    pwk_share: uint256 = 0
    if winners > 0:
        fee_share = fees // winners
        pwk_share = penalties // winners
    if fees > fee_share * winners:
        self.credit[TREASURY][token] += fees - fee_share * winners
    if penalties > pwk_share * winners:
        self.credit[TREASURY][STAKING_TOKEN.address] += penalties - pwk_share * winners
    for i: uint256 in range(MAX_PANEL):
        if i >= len(panel):
            break
        juror: address = panel[i]
        v: uint256 = votes[i]
        if v != 0:
            self._votes[d][r][i] = 0  # spent: the slot's refund pays part of this call
        good: bool = v != 0 and v < _REVEALED_BELOW and (any_revealer or v == ruling + 1)
        self._wl[juror] -= SEAT_LOCK
        if good:
            if fee_share > 0:
                self.credit[juror][token] += fee_share
            if pwk_share > 0:
                self.credit[juror][STAKING_TOKEN.address] += pwk_share
        else:
            b: uint256 = self.stake_balance[juror] - SEAT_LOCK
            self.stake_balance[juror] = b
            if self._weight(juror) > b:
                self._set_weight(juror, b)


# --------------------------------------------------------------------------- appeals


@internal
@view
def _appeal_cost(d: uint256, w: uint256) -> uint256:
    """
    @dev Fee of the next round: (2n + 1) jurors at the dispute's fee per juror.
    @param d Dispute.
    @param w The dispute word.
    @return The cost.
    """
    return self._requested_of(w, self._round_of(w) + 1) * (self._fee[d] >> 160)


@external
@view
def appealCost(_disputeID: uint256, _extraData: Bytes[96]) -> uint256:
    """
    @notice The fee `appeal` pulls (max_value when no further appeal is possible).
    @param _disputeID Dispute.
    @param _extraData Ignored.
    @return The cost.
    """
    w: uint256 = self._disp[_disputeID]
    if self._round_of(w) + 1 >= MAX_ROUNDS:
        return max_value(uint256)
    return self._appeal_cost(_disputeID, w)


@external
@payable
@nonreentrant
def appeal(_disputeID: uint256, _extraData: Bytes[96]):
    """
    @notice Appeals during the appeal period: the dispute's arbitrable pays `appealCost`
            (it crowdfunds its parties itself, the loser 2x and the winner 1x, as Kleros'
            arbitrable proxies do); a new round with 2n + 1 jurors starts at its evidence period.
    @param _disputeID Dispute.
    @param _extraData Ignored.
    """
    d: uint256 = _disputeID
    assert msg.value == 0, "court: no ether"
    w: uint256 = self._disp[d]
    assert self._period_of(w) == APPEAL and not self._period_over(w), "court: not in appeal period"
    assert msg.sender == self._arbitrable_of(w), "court: only the arbitrable"
    r: uint256 = self._round_of(w)
    assert r + 1 < MAX_ROUNDS, "court: no more appeals"
    cost: uint256 = self._appeal_cost(d, w)
    assert extcall IERC20(self._fee_token(d)).transferFrom(msg.sender, self, cost, default_return_value=True), "court: appeal not funded"
    self._disp[d] = self._with_clock(w, EVIDENCE, r + 1)
    log NewPeriod(_disputeID=d, _period=EVIDENCE)
    log IArbitrator.AppealDecision(_disputeID=d, _arbitrable=msg.sender)


@external
@view
def appealPeriod(_disputeID: uint256) -> (uint256, uint256):
    """
    @notice Start and end of the current appeal period (0, 0 outside it).
    @param _disputeID Dispute.
    @return Start and end.
    """
    w: uint256 = self._disp[_disputeID]
    if self._period_of(w) != APPEAL:
        return 0, 0
    start: uint256 = self._start_of(w)
    return start, start + PERIODS[3]


@external
@view
def disputeStatus(_disputeID: uint256) -> uint8:
    """
    @notice 0 Waiting, 1 Appealable, 2 Solved (an appeal period that has run out counts as solved).
    @param _disputeID Dispute.
    @return The status.
    """
    w: uint256 = self._disp[_disputeID]
    p: uint8 = self._period_of(w)
    if p == EXECUTION:
        return 2
    if p == APPEAL:
        if self._period_over(w):
            return 2
        return 1
    return 0


@external
@view
def currentRuling(_disputeID: uint256) -> uint256:
    """
    @notice The ruling of the latest round anyone revealed in (final once solved).
    @param _disputeID Dispute.
    @return The ruling.
    """
    return self._current_ruling(_disputeID, self._disp[_disputeID])


@external
@view
def vote_of(d: uint256, r: uint256, position: uint256) -> uint256:
    """
    @notice A seat's vote slot: 0 none (or the round was distributed: the VoteRevealed events
            keep the votes), a commitment, or choice + 1 once revealed.
    @param d Dispute.
    @param r Round.
    @param position Seat.
    @return The slot.
    """
    return self._votes[d][r][position]
