# pragma version ~=0.4.3
"""
@title Competition
@custom:contract-name Competition
@license GNU Affero General Public License v3.0 only
@notice ML bounties open to many freelancers, in the manner of a Kaggle
        competition judged by an oracle committee. A client escrows a prize and
        commits to hidden labels; anyone may commit to submissions until the
        deadline (a few a day), then reveal them; the committee scores the
        revealed submissions on the private part of the hidden set and signs the
        full list of scores; anyone relays that list, and the top places are paid.
        - Submissions are sealed: a commit carries keccak256(abi_encode(cid, salt, submitter))
          and the CID encrypted to the committee, so oracles can score it for the
          public leaderboard while nobody else can read or copy it.
        - The hidden labels are committed at creation as
          keccak256(abi_encode(labels_cid, salt, spec_hash)) and revealed at
          finalization, so anyone can re-check every score afterwards. The
          public/private split of the hidden set is derived off chain from the salt.
        - Winners are the top `len(prize_bps)` revealed entries by private score
          (ties go to the earliest commit) that reach `min_score`. Whatever is not
          awarded goes back to the client.
        - A committee that never finalizes does not lock the prize: after a grace
          period the client takes it back.
@dev Timeline of a competition (all bounds in unix seconds, `now` = block.timestamp):
     commits while now <= deadline; reveals while deadline < now <= deadline + reveal_period;
     finalize once now > deadline + reveal_period. Results are signed as EIP-712
     `FinalScores(uint256 competitionId,bytes32 scoresHash,bytes32 commitment)` in the
     domain ("proofwork Competition", "1", chain id, this contract), with
     scoresHash = keccak256(abi_encode(ranking)) for `ranking: DynArray[Score, 256]`,
     i.e. Solidity's keccak256(abi.encode(Score[] ranking)) with
     Score = (uint256 entry, int256 score); see `scores_hash`.
"""

from ethereum.ercs import IERC20
from snekmate.utils import ecdsa
from snekmate.utils import eip712_domain_separator

from . import ICommitteeMembers

initializes: eip712_domain_separator

exports: eip712_domain_separator.eip712Domain


MAX_PLACES: constant(uint256) = 10
MAX_RANKING: constant(uint256) = 256
MAX_SIGNATURES: constant(uint256) = 16
BPS: constant(uint256) = 10_000
DAY: constant(uint256) = 86_400
# After the reveal period, how long the committee has to finalize before the
# client may take the prize back.
GRACE_PERIOD: constant(uint256) = 30 * DAY
MAX_SUBMISSION_PERIOD: constant(uint256) = 730 * DAY
MAX_REVEAL_PERIOD: constant(uint64) = 90 * 86_400

# Competition statuses.
OPEN: constant(uint8) = 0
FINALIZED: constant(uint8) = 1
CANCELLED: constant(uint8) = 2

# Bit layout of `CompetitionRecord.terms` (low bits first).
_DEADLINE_SHIFT: constant(uint256) = 0  # uint64
_REVEAL_PERIOD_SHIFT: constant(uint256) = 64  # uint64
_DAILY_LIMIT_SHIFT: constant(uint256) = 128  # uint8
_PUBLIC_PERCENT_SHIFT: constant(uint256) = 136  # uint8
_HIGHER_SHIFT: constant(uint256) = 144  # 1 bit
_STATUS_SHIFT: constant(uint256) = 152  # uint8
_PLACES_SHIFT: constant(uint256) = 160  # uint8: len(prize_bps)
_MASK64: constant(uint256) = 2**64 - 1
_MASK16: constant(uint256) = 2**16 - 1
_MASK8: constant(uint256) = 255

_FINAL_SCORES_TYPEHASH: constant(bytes32) = keccak256(
    "FinalScores(uint256 competitionId,bytes32 scoresHash,bytes32 commitment)"
)


# One line of the committee's result: an entry and its private-set score
# (fixed point, 1e6 = 1.0).
struct Score:
    entry: uint256
    score: int256


# A competition as the `competition` view returns it.
struct Competition:
    client: address
    token: address
    prize: uint256
    spec_hash: bytes32  # sha256 digest of the spec file
    commitment: bytes32  # keccak256(abi_encode(labels_cid, salt, spec_hash))
    deadline: uint64  # last second to commit
    reveal_period: uint64  # seconds after the deadline to reveal
    daily_limit: uint8  # commits per address per UTC day
    public_percent: uint8  # share of the hidden set on the public leaderboard
    prize_bps: DynArray[uint16, MAX_PLACES]  # share of the prize per place, first place first
    min_score: int256  # the bar a score must reach to win anything
    higher_is_better: bool
    status: uint8  # 0 OPEN, 1 FINALIZED, 2 CANCELLED
    entry_count: uint256
    revealed_count: uint256


# An entry as the `entry` view returns it.
struct Entry:
    submitter: address
    commitment: bytes32  # cleared once revealed (the SubmissionCommitted event keeps it)
    revealed: bool


# How a competition is stored: the small fields share one word (`terms`), the
# prize split another (`split`), so creating a competition writes 8 slots.
struct CompetitionRecord:
    client: address
    token: address
    prize: uint256
    spec_hash: bytes32
    commitment: bytes32
    min_score: int256
    terms: uint256  # deadline, reveal period, daily limit, public %, direction, status, places (see _*_SHIFT)
    split: uint256  # prize_bps[i] in bits 16 * i .. 16 * i + 15
    entry_count: uint256
    revealed_count: uint256


# How an entry is stored. A zero commitment on an existing entry means revealed
# (commit refuses a zero commitment); clearing it on reveal refunds gas.
struct EntryRecord:
    submitter: address
    commitment: bytes32


# The fields of `terms`, unpacked in memory.
struct Terms:
    deadline: uint256
    reveal_period: uint256
    daily_limit: uint256
    public_percent: uint8
    higher_is_better: bool
    status: uint8
    places: uint256


event CompetitionCreated:
    comp_id: indexed(uint256)
    client: indexed(address)
    token: indexed(address)
    prize: uint256
    spec_hash: bytes32
    commitment: bytes32
    deadline: uint64
    reveal_period: uint64
    daily_limit: uint8
    public_percent: uint8
    prize_bps: DynArray[uint16, MAX_PLACES]
    min_score: int256
    higher_is_better: bool
    sealed_labels: Bytes[128]


event SubmissionCommitted:
    comp_id: indexed(uint256)
    entry: indexed(uint256)
    submitter: indexed(address)
    commitment: bytes32
    sealed_submission: Bytes[128]
    timestamp: uint64


event SubmissionRevealed:
    comp_id: indexed(uint256)
    entry: indexed(uint256)
    submitter: indexed(address)
    submission_cid: Bytes[128]


event LabelsRevealed:
    comp_id: indexed(uint256)
    labels_cid: Bytes[128]
    labels_salt: bytes32


event PrizePaid:
    comp_id: indexed(uint256)
    place: uint256
    entry: indexed(uint256)
    winner: indexed(address)
    amount: uint256


event CompetitionFinalized:
    comp_id: indexed(uint256)
    winners: uint256
    refunded: uint256
    scores_hash: bytes32
    ranking: DynArray[Score, MAX_RANKING]


event CompetitionCancelled:
    comp_id: indexed(uint256)
    refunded: uint256


# @dev The oracle committee whose signatures decide results (`ICommitteeMembers`).
committee: public(immutable(address))
# @dev Number of competitions created; ids run from 1 to competition_count.
competition_count: public(uint256)
# @dev Each competition, packed (see CompetitionRecord); all zero for unknown ids.
_competitions: HashMap[uint256, CompetitionRecord]
# @dev Entries of each competition by index (0, 1, ... in commit order).
_entries: HashMap[uint256, HashMap[uint256, EntryRecord]]
# @dev Commits per competition and address on its latest UTC day: day * 256 + count.
_quota: HashMap[uint256, HashMap[address, uint256]]


@deploy
def __init__(committee_: address):
    """
    @notice Deploys the competition contract for one oracle committee.
    @param committee_ The committee (`is_oracle`, `threshold`) whose signatures decide results.
    """
    assert committee_.is_contract, "competition: committee is not a contract"
    eip712_domain_separator.__init__("proofwork Competition", "1")
    committee = committee_


@external
@nonreentrant
def create(
    token: address,
    prize: uint256,
    spec_hash: bytes32,
    commitment: bytes32,
    deadline: uint64,
    reveal_period: uint64,
    daily_limit: uint8,
    public_percent: uint8,
    prize_bps: DynArray[uint16, MAX_PLACES],
    min_score: int256,
    higher_is_better: bool,
    sealed_labels: Bytes[128],
) -> uint256:
    """
    @notice Creates a competition and pulls its prize from the caller (the client),
            who must have approved this contract for `prize`.
    @param token ERC-20 the prize is paid in (fee-on-transfer tokens are refused).
    @param prize The prize, in token units.
    @param spec_hash sha256 digest of the competition's spec file.
    @param commitment keccak256(abi_encode(labels_cid, salt, spec_hash)) of the hidden labels.
    @param deadline Last second (unix time) to commit a submission; in the future, at most two years away.
    @param reveal_period Seconds after the deadline to reveal submissions (1 s to 90 days).
    @param daily_limit Commits allowed per address per UTC day (at least 1).
    @param public_percent Share of the hidden set scored on the public leaderboard (1 to 99).
    @param prize_bps Share of the prize per place in basis points, first place first:
           1 to 10 places, each above zero, non-increasing, summing to 10,000.
    @param min_score The bar a private score must reach to win anything: at least
           `min_score` if higher is better, at most `min_score` otherwise (fixed point 1e6).
    @param higher_is_better The metric's direction.
    @param sealed_labels The labels' CID encrypted to the committee; only logged.
    @return The new competition id.
    """
    return self._create(
        msg.sender,
        token,
        prize,
        spec_hash,
        commitment,
        deadline,
        reveal_period,
        daily_limit,
        public_percent,
        prize_bps,
        min_score,
        higher_is_better,
        sealed_labels,
    )


@external
@nonreentrant
def create_with_permit(
    token: address,
    prize: uint256,
    spec_hash: bytes32,
    commitment: bytes32,
    deadline: uint64,
    reveal_period: uint64,
    daily_limit: uint8,
    public_percent: uint8,
    prize_bps: DynArray[uint16, MAX_PLACES],
    min_score: int256,
    higher_is_better: bool,
    sealed_labels: Bytes[128],
    permit_deadline: uint256,
    v: uint8,
    r: bytes32,
    s: bytes32,
) -> uint256:
    """
    @notice Same as `create`, authorising the transfer with an EIP-2612 permit
            signature for `prize` instead of a prior approval.
    @dev A permit already used by a front-runner is ignored if the allowance is in place.
    @param permit_deadline The permit's deadline.
    @param v Permit signature recovery id.
    @param r Permit signature r.
    @param s Permit signature s.
    @return The new competition id.
    """
    # A failed permit is not fatal: a front-runner may have used it already, and
    # the transferFrom in _create fails anyway if no allowance is in place.
    permit_ok: bool = raw_call(
        token,
        abi_encode(
            msg.sender, self, prize, permit_deadline, v, r, s, method_id=method_id("permit(address,address,uint256,uint256,uint8,bytes32,bytes32)")
        ),
        revert_on_failure=False,
    )
    return self._create(
        msg.sender,
        token,
        prize,
        spec_hash,
        commitment,
        deadline,
        reveal_period,
        daily_limit,
        public_percent,
        prize_bps,
        min_score,
        higher_is_better,
        sealed_labels,
    )


@external
@nonreentrant
def commit(comp_id: uint256, commitment: bytes32, sealed_submission: Bytes[128]) -> uint256:
    """
    @notice Commits to a submission before the deadline. Anyone but the client and
            the committee's members may enter, at most `daily_limit` times per UTC day.
    @param comp_id The competition.
    @param commitment keccak256(abi_encode(submission_cid, salt, msg.sender)); binding the
           sender means nobody can reuse another's commitment.
    @param sealed_submission The submission's CID encrypted to the committee, so oracles
           can score it for the public leaderboard; only logged.
    @return The entry's index (entries are numbered in commit order from 0).
    """
    client: address = self._competitions[comp_id].client
    assert client != empty(address), "competition: unknown competition"
    t: Terms = self._terms(comp_id)
    assert block.timestamp <= t.deadline, "competition: submissions closed"
    assert msg.sender != client, "competition: client cannot enter"
    assert not staticcall ICommitteeMembers(committee).is_oracle(msg.sender), "competition: oracle cannot enter"
    assert commitment != empty(bytes32), "competition: empty commitment"
    day: uint256 = block.timestamp // DAY
    quota: uint256 = self._quota[comp_id][msg.sender]
    used: uint256 = 0
    if quota >> 8 == day:
        used = quota & _MASK8
    assert used < t.daily_limit, "competition: daily submission limit reached"
    self._quota[comp_id][msg.sender] = (day << 8) | (used + 1)
    entry: uint256 = self._competitions[comp_id].entry_count
    self._competitions[comp_id].entry_count = entry + 1
    self._entries[comp_id][entry] = EntryRecord(submitter=msg.sender, commitment=commitment)
    log SubmissionCommitted(
        comp_id=comp_id,
        entry=entry,
        submitter=msg.sender,
        commitment=commitment,
        sealed_submission=sealed_submission,
        timestamp=convert(block.timestamp, uint64),
    )
    return entry


@external
@nonreentrant
def reveal(comp_id: uint256, entry: uint256, submission_cid: Bytes[128], salt: bytes32):
    """
    @notice The submitter opens a commitment during the reveal period (after the
            deadline). Only revealed entries are scored and can win.
    @param comp_id The competition.
    @param entry The entry's index.
    @param submission_cid The submission's CID.
    @param salt The salt of the commitment.
    """
    assert self._competitions[comp_id].client != empty(address), "competition: unknown competition"
    t: Terms = self._terms(comp_id)
    assert block.timestamp > t.deadline, "competition: reveal period not started"
    assert block.timestamp <= t.deadline + t.reveal_period, "competition: reveal period over"
    e: EntryRecord = self._entries[comp_id][entry]
    assert e.submitter != empty(address), "competition: no such entry"
    assert msg.sender == e.submitter, "competition: caller is not the submitter"
    assert e.commitment != empty(bytes32), "competition: already revealed"
    assert keccak256(abi_encode(submission_cid, salt, msg.sender)) == e.commitment, "competition: commitment mismatch"
    revealed: uint256 = self._competitions[comp_id].revealed_count + 1
    assert revealed <= MAX_RANKING, "competition: reveal cap reached"
    self._competitions[comp_id].revealed_count = revealed
    self._entries[comp_id][entry].commitment = empty(bytes32)
    log SubmissionRevealed(comp_id=comp_id, entry=entry, submitter=msg.sender, submission_cid=submission_cid)


@external
@nonreentrant
def finalize(
    comp_id: uint256,
    labels_cid: Bytes[128],
    labels_salt: bytes32,
    ranking: DynArray[Score, MAX_RANKING],
    signatures: DynArray[Bytes[65], MAX_SIGNATURES],
) -> uint256:
    """
    @notice Anyone relays the committee's result after the reveal period: the labels
            are revealed (and checked against the commitment), the private scores of
            every revealed entry are checked against the committee's signatures, and
            the prize is paid to the top places; the rest goes back to the client.
    @param comp_id The competition.
    @param labels_cid The hidden labels' CID.
    @param labels_salt The salt of the labels commitment (it also seeds the public/private split).
    @param ranking Every revealed entry exactly once, in ascending entry order, with its private score.
    @param signatures EIP-712 `FinalScores` signatures of at least `threshold()` distinct committee
           members, ordered by strictly ascending signer address.
    @return The amount refunded to the client.
    """
    c: CompetitionRecord = self._competitions[comp_id]
    assert c.client != empty(address), "competition: unknown competition"
    t: Terms = self._unpack(c.terms)
    assert t.status == OPEN, "competition: already closed"
    assert block.timestamp > t.deadline + t.reveal_period, "competition: reveal period not over"
    assert keccak256(abi_encode(labels_cid, labels_salt, c.spec_hash)) == c.commitment, "competition: labels do not match the commitment"

    # The ranking: every revealed entry exactly once, ascending.
    i: uint256 = 0
    previous: uint256 = 0
    for s: Score in ranking:
        assert i == 0 or s.entry > previous, "competition: ranking not sorted"
        assert s.entry < c.entry_count and self._entries[comp_id][s.entry].commitment == empty(bytes32), "competition: entry not revealed"
        previous = s.entry
        i += 1
    assert len(ranking) == c.revealed_count, "competition: ranking incomplete"

    scores: bytes32 = keccak256(abi_encode(ranking))
    self._check_signatures(comp_id, scores, c.commitment, signatures)

    places: DynArray[Score, MAX_PLACES] = self._top(ranking, t.places, c.min_score, t.higher_is_better)
    self._competitions[comp_id].terms = c.terms | (convert(FINALIZED, uint256) << _STATUS_SHIFT)
    log LabelsRevealed(comp_id=comp_id, labels_cid=labels_cid, labels_salt=labels_salt)

    winners: DynArray[address, MAX_PLACES] = []
    amounts: DynArray[uint256, MAX_PLACES] = []
    paid: uint256 = 0
    place: uint256 = 0
    for s: Score in places:
        winner: address = self._entries[comp_id][s.entry].submitter
        amount: uint256 = c.prize * ((c.split >> (16 * place)) & _MASK16) // BPS
        winners.append(winner)
        amounts.append(amount)
        paid += amount
        log PrizePaid(comp_id=comp_id, place=place, entry=s.entry, winner=winner, amount=amount)
        place += 1
    refund: uint256 = c.prize - paid
    log CompetitionFinalized(
        comp_id=comp_id, winners=len(places), refunded=refund, scores_hash=scores, ranking=ranking
    )

    for j: uint256 in range(MAX_PLACES):
        if j >= len(winners):
            break
        self._send(c.token, winners[j], amounts[j])
    self._send(c.token, c.client, refund)
    return refund


@external
@nonreentrant
def cancel_unjudged(comp_id: uint256) -> uint256:
    """
    @notice The client takes the prize back from a competition nobody can or did judge:
            - once the deadline has passed with no commit at all;
            - once the reveal period has passed with no entry revealed;
            - once the grace period (30 days) after the reveal period has passed without
              a finalization (a dead committee must not lock the prize).
    @param comp_id The competition.
    @return The amount refunded.
    """
    c: CompetitionRecord = self._competitions[comp_id]
    assert c.client != empty(address), "competition: unknown competition"
    assert msg.sender == c.client, "competition: caller is not the client"
    t: Terms = self._unpack(c.terms)
    assert t.status == OPEN, "competition: already closed"
    reveal_end: uint256 = t.deadline + t.reveal_period
    assert (
        (c.entry_count == 0 and block.timestamp > t.deadline)
        or (c.revealed_count == 0 and block.timestamp > reveal_end)
        or block.timestamp > reveal_end + GRACE_PERIOD
    ), "competition: too early to cancel"
    self._competitions[comp_id].terms = c.terms | (convert(CANCELLED, uint256) << _STATUS_SHIFT)
    log CompetitionCancelled(comp_id=comp_id, refunded=c.prize)
    self._send(c.token, c.client, c.prize)
    return c.prize


@external
@view
def competition(comp_id: uint256) -> Competition:
    """
    @notice A competition's parameters and state (all zero for an unknown id).
    @param comp_id The competition.
    @return The competition.
    """
    c: CompetitionRecord = self._competitions[comp_id]
    t: Terms = self._unpack(c.terms)
    bps: DynArray[uint16, MAX_PLACES] = []
    for i: uint256 in range(MAX_PLACES):
        if i >= t.places:
            break
        bps.append(convert((c.split >> (16 * i)) & _MASK16, uint16))
    return Competition(
        client=c.client,
        token=c.token,
        prize=c.prize,
        spec_hash=c.spec_hash,
        commitment=c.commitment,
        deadline=convert(t.deadline, uint64),
        reveal_period=convert(t.reveal_period, uint64),
        daily_limit=convert(t.daily_limit, uint8),
        public_percent=t.public_percent,
        prize_bps=bps,
        min_score=c.min_score,
        higher_is_better=t.higher_is_better,
        status=t.status,
        entry_count=c.entry_count,
        revealed_count=c.revealed_count,
    )


@external
@view
def entry(comp_id: uint256, index: uint256) -> Entry:
    """
    @notice One entry of a competition (all zero for an unknown one).
    @param comp_id The competition.
    @param index The entry's index.
    @return The entry: its submitter, its commitment (zero once revealed), whether revealed.
    """
    e: EntryRecord = self._entries[comp_id][index]
    return Entry(
        submitter=e.submitter,
        commitment=e.commitment,
        revealed=e.submitter != empty(address) and e.commitment == empty(bytes32),
    )


@external
@view
def entry_count(comp_id: uint256) -> uint256:
    """
    @notice Number of entries committed to a competition.
    @param comp_id The competition.
    @return The entry count.
    """
    return self._competitions[comp_id].entry_count


@external
@view
def revealed_count(comp_id: uint256) -> uint256:
    """
    @notice Number of revealed entries of a competition (the length of its final ranking).
    @param comp_id The competition.
    @return The revealed count.
    """
    return self._competitions[comp_id].revealed_count


@external
@view
def commits_today(comp_id: uint256, addr: address, day: uint256) -> uint256:
    """
    @notice How many times `addr` committed to a competition on a UTC day.
    @dev Only the latest day with a commit is kept; earlier days read as zero.
    @param comp_id The competition.
    @param addr The submitter.
    @param day The UTC day number, unix time // 86,400.
    @return The number of commits.
    """
    quota: uint256 = self._quota[comp_id][addr]
    if quota >> 8 != day:
        return 0
    return quota & _MASK8


@external
@pure
def scores_hash(ranking: DynArray[Score, MAX_RANKING]) -> bytes32:
    """
    @notice The `scoresHash` the committee signs for a ranking.
    @param ranking Entries with their private scores.
    @return keccak256(abi_encode(ranking)), as Solidity's keccak256(abi.encode(Score[])).
    """
    return keccak256(abi_encode(ranking))


@external
@view
def final_scores_digest(comp_id: uint256, scores_hash_: bytes32) -> bytes32:
    """
    @notice The EIP-712 digest committee members sign for a competition's result.
    @param comp_id The competition.
    @param scores_hash_ The ranking's `scores_hash`.
    @return The digest of FinalScores(comp_id, scores_hash_, the competition's labels commitment).
    """
    return eip712_domain_separator._hash_typed_data_v4(
        keccak256(abi_encode(_FINAL_SCORES_TYPEHASH, comp_id, scores_hash_, self._competitions[comp_id].commitment))
    )


@external
@pure
def submission_commitment(submission_cid: Bytes[128], salt: bytes32, submitter: address) -> bytes32:
    """
    @notice The commitment `commit` expects.
    @param submission_cid The submission's CID.
    @param salt A random salt.
    @param submitter The account that will commit and reveal.
    @return keccak256(abi_encode(submission_cid, salt, submitter)).
    """
    return keccak256(abi_encode(submission_cid, salt, submitter))


@external
@pure
def labels_commitment(labels_cid: Bytes[128], salt: bytes32, spec_hash: bytes32) -> bytes32:
    """
    @notice The labels commitment `create` expects.
    @param labels_cid The hidden labels' CID.
    @param salt A random salt (it also seeds the public/private split).
    @param spec_hash sha256 digest of the spec file.
    @return keccak256(abi_encode(labels_cid, salt, spec_hash)).
    """
    return keccak256(abi_encode(labels_cid, salt, spec_hash))


@internal
def _create(
    client: address,
    token: address,
    prize: uint256,
    spec_hash: bytes32,
    commitment: bytes32,
    deadline: uint64,
    reveal_period: uint64,
    daily_limit: uint8,
    public_percent: uint8,
    prize_bps: DynArray[uint16, MAX_PLACES],
    min_score: int256,
    higher_is_better: bool,
    sealed_labels: Bytes[128],
) -> uint256:
    assert token.is_contract, "competition: token is not a contract"
    assert prize > 0, "competition: zero prize"
    assert prize <= max_value(uint256) // BPS, "competition: prize too large"
    assert spec_hash != empty(bytes32), "competition: empty spec hash"
    assert commitment != empty(bytes32), "competition: empty labels commitment"
    assert convert(deadline, uint256) > block.timestamp, "competition: deadline in the past"
    assert convert(deadline, uint256) <= block.timestamp + MAX_SUBMISSION_PERIOD, "competition: deadline too far"
    assert reveal_period > 0 and reveal_period <= MAX_REVEAL_PERIOD, "competition: bad reveal period"
    assert daily_limit > 0, "competition: zero daily limit"
    assert public_percent > 0 and public_percent < 100, "competition: bad public percent"
    assert len(prize_bps) > 0, "competition: no prize places"
    total: uint256 = 0
    split: uint256 = 0
    previous: uint16 = max_value(uint16)
    i: uint256 = 0
    for bps: uint16 in prize_bps:
        assert bps > 0, "competition: zero prize share"
        assert bps <= previous, "competition: prize split increasing"
        total += convert(bps, uint256)
        split |= convert(bps, uint256) << (16 * i)
        previous = bps
        i += 1
    assert total == BPS, "competition: prize split must sum to 10000"
    higher: uint256 = 0
    if higher_is_better:
        higher = 1
    terms: uint256 = (
        (convert(deadline, uint256) << _DEADLINE_SHIFT)
        | (convert(reveal_period, uint256) << _REVEAL_PERIOD_SHIFT)
        | (convert(daily_limit, uint256) << _DAILY_LIMIT_SHIFT)
        | (convert(public_percent, uint256) << _PUBLIC_PERCENT_SHIFT)
        | (higher << _HIGHER_SHIFT)
        | (convert(OPEN, uint256) << _STATUS_SHIFT)
        | (len(prize_bps) << _PLACES_SHIFT)
    )
    comp_id: uint256 = self.competition_count + 1
    self.competition_count = comp_id
    self._competitions[comp_id] = CompetitionRecord(
        client=client,
        token=token,
        prize=prize,
        spec_hash=spec_hash,
        commitment=commitment,
        min_score=min_score,
        terms=terms,
        split=split,
        entry_count=0,
        revealed_count=0,
    )
    log CompetitionCreated(
        comp_id=comp_id,
        client=client,
        token=token,
        prize=prize,
        spec_hash=spec_hash,
        commitment=commitment,
        deadline=deadline,
        reveal_period=reveal_period,
        daily_limit=daily_limit,
        public_percent=public_percent,
        prize_bps=prize_bps,
        min_score=min_score,
        higher_is_better=higher_is_better,
        sealed_labels=sealed_labels,
    )
    before: uint256 = staticcall IERC20(token).balanceOf(self)
    assert extcall IERC20(token).transferFrom(client, self, prize, default_return_value=True), "competition: transfer failed"
    assert staticcall IERC20(token).balanceOf(self) - before == prize, "competition: token delivered less than sent"
    return comp_id


@internal
@view
def _check_signatures(
    comp_id: uint256, scores: bytes32, commitment: bytes32, signatures: DynArray[Bytes[65], MAX_SIGNATURES]
):
    threshold: uint256 = staticcall ICommitteeMembers(committee).threshold()
    # A zero threshold would let anyone finalize without a signature: treat it as a broken committee.
    assert threshold > 0, "competition: committee threshold is zero"
    assert len(signatures) >= threshold, "competition: too few signatures"
    digest: bytes32 = eip712_domain_separator._hash_typed_data_v4(
        keccak256(abi_encode(_FINAL_SCORES_TYPEHASH, comp_id, scores, commitment))
    )
    previous: uint256 = 0
    for signature: Bytes[65] in signatures:
        # A malformed signature recovers to empty(address), which is no oracle.
        signer: address = ecdsa._recover_sig(digest, signature)
        assert staticcall ICommitteeMembers(committee).is_oracle(signer), "competition: signer is not an oracle"
        # Strictly ascending signers: each member counts once.
        assert convert(signer, uint256) > previous, "competition: signers not strictly ascending"
        previous = convert(signer, uint256)


@internal
@pure
def _top(
    ranking: DynArray[Score, MAX_RANKING], places: uint256, bar: int256, higher_is_better: bool
) -> DynArray[Score, MAX_PLACES]:
    """
    @dev The best `places` entries reaching `bar`, best first, by insertion into a
         sorted list of at most `places`. `ranking` is in ascending entry order and an
         entry only goes ahead of strictly worse ones, so among equal scores the
         earliest commit ranks first.
    """
    top: DynArray[Score, MAX_PLACES] = []
    for s: Score in ranking:
        if higher_is_better:
            if s.score < bar:
                continue
        elif s.score > bar:
            continue
        n: uint256 = len(top)
        position: uint256 = n
        for j: uint256 in range(MAX_PLACES):
            if j >= n:
                break
            if self._better(s.score, top[j].score, higher_is_better):
                position = j
                break
        if position >= places:
            continue
        if n < places:
            top.append(s)  # grows by one; the slots from `position` on shift below
            n += 1
        # Shift top[position:n-1] one place down (the last one falls off when full).
        k: uint256 = n - 1
        for _: uint256 in range(MAX_PLACES):
            if k <= position:
                break
            top[k] = top[k - 1]
            k -= 1
        top[position] = s
    return top


@internal
@pure
def _better(a: int256, b: int256, higher_is_better: bool) -> bool:
    if higher_is_better:
        return a > b
    return a < b


@internal
@view
def _terms(comp_id: uint256) -> Terms:
    return self._unpack(self._competitions[comp_id].terms)


@internal
@pure
def _unpack(terms: uint256) -> Terms:
    return Terms(
        deadline=(terms >> _DEADLINE_SHIFT) & _MASK64,
        reveal_period=(terms >> _REVEAL_PERIOD_SHIFT) & _MASK64,
        daily_limit=(terms >> _DAILY_LIMIT_SHIFT) & _MASK8,
        public_percent=convert((terms >> _PUBLIC_PERCENT_SHIFT) & _MASK8, uint8),
        higher_is_better=(terms >> _HIGHER_SHIFT) & 1 == 1,
        status=convert((terms >> _STATUS_SHIFT) & _MASK8, uint8),
        places=(terms >> _PLACES_SHIFT) & _MASK8,
    )


@internal
def _send(token: address, to: address, amount: uint256):
    if amount > 0:
        assert extcall IERC20(token).transfer(to, amount, default_return_value=True), "competition: transfer failed"
