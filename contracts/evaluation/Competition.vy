# pragma version ~=0.4.3
# pragma optimize codesize
"""
@title Competition
@custom:contract-name Competition
@license GNU Affero General Public License v3.0 only
@notice ML bounties open to many freelancers, in the manner of a Kaggle
        competition judged by an oracle committee. A client escrows a prize and
        commits to hidden labels; once the committee has confirmed that those labels
        open the commitment, anyone may commit to submissions until the deadline (a
        few a day, each with a refundable bond), then reveal them; the committee
        scores every revealed submission on the private part of the hidden set and
        signs the Merkle root of all scores with the winners; anyone relays it, and
        the winners' prizes (like every other payout) are credited for them to withdraw.
        - Submissions are sealed: a commit carries keccak256(abi_encode(cid, salt, submitter))
          and the CID encrypted to the committee, so oracles can score it for the
          public leaderboard while nobody else can read or copy it.
        - The hidden labels are committed at creation as
          keccak256(abi_encode(labels_cid, salt, spec_hash)); the committee confirms
          (a quorum of EIP-712 `LabelsConfirmed` signatures) that the labels it was sent
          open that commitment before anyone may enter, so no entrant's work is exposed
          to labels nobody can open; the labels are revealed at finalization, so anyone
          can re-check every score. The public/private split is derived off chain from the salt.
        - Every committed entry can be revealed (there is no cap) and is ranked: the
          committee signs the root of a Merkle tree over every revealed entry's score,
          with the number of revealed entries, and anyone can prove an entry's score
          against it (`verify_score`). Flooding costs a bond per entry: refunded when
          the entry is revealed, forfeited to the client otherwise.
        - Winners are the top `len(prize_bps)` revealed entries by private score (ties go
          to the earliest commit) that reach `min_score`, as the committee signs them;
          the contract checks they are revealed, in order and above the bar. Whatever is
          not awarded goes back to the client.
        - Payouts are pulled (`withdraw`): a winner whose transfer reverts (a token
          blocklist, hooks) blocks nobody else.
        - A committee that never confirms or never finalizes does not lock the prize: the
          client takes it back while nothing can have been entered (unconfirmed), once the
          deadline passed with no entry, once the reveal period passed with nothing
          revealed, or after a grace period.
        - A challenged ranking goes to court (when the contract was deployed with an ERC-792
          arbitrator): `finalize` then only records the committee's ranking (status RANKED) and
          the prizes wait `CHALLENGE_PERIOD`. Within it, an entrant with a revealed entry may
          challenge, proposing its own ranking and paying the arbitration fee; the jurors choose
          between the ranking in force (ruling 1, or 0: refusal) and the challenger's (ruling 2),
          and each ruling opens a new challenge period; at most `MAX_CHALLENGES` challenges may
          be upheld (rejected ones do not count: each costs its challenger the fee). Anyone may
          fund an appeal in full (`appeal`). Once a period ends unchallenged
          anyone relays `payout` with the ranking in force; an arbitrator that has not ruled
          `RULING_TIMEOUT` after a challenge leaves the ranking in force, so nothing waits forever.
          The arbitration fee is the challenger's cost whatever the ruling (there is no other
          party to charge: the committee posts no bond).
@dev Timeline of a competition (all bounds in unix seconds, `now` = block.timestamp):
     confirmation while now <= deadline; commits once confirmed and while now <= deadline;
     reveals while deadline < now <= deadline + reveal_period; finalize once
     now > deadline + reveal_period; with a court, challenges while now <= ranked_at +
     CHALLENGE_PERIOD and `payout` after it. Signed messages, domain ("proofwork Competition",
     "1", chain id, this contract):
     `LabelsConfirmed(uint256 competitionId,bytes32 commitment)` and
     `FinalScores(uint256 competitionId,bytes32 scoresRoot,uint256 entries,bytes32 winnersHash,bytes32 commitment)`
     with winnersHash = keccak256(abi_encode(winners)) for `winners: DynArray[Score, 10]`
     (Solidity's keccak256(abi.encode(Score[])) with Score = (uint256 entry, int256 score),
     as `proofwork.chain.scores_tree.winners_hash` computes it) and scoresRoot the root of an OpenZeppelin StandardMerkleTree of
     ["uint256", "int256"] leaves (entry, score): leaf = keccak256(bytes.concat(keccak256(
     abi.encode(entry, score)))), sorted-pair hashing (see `verify_score`).
"""

from ethereum.ercs import IERC20
from snekmate.utils import ecdsa
from snekmate.utils import eip712_domain_separator
from snekmate.utils import merkle_proof_verification

from ..court import IArbitrable
from ..court import IArbitrator
from . import ICommitteeMembers

implements: IArbitrable

initializes: eip712_domain_separator

exports: eip712_domain_separator.eip712Domain


MAX_PLACES: constant(uint256) = 10
MAX_SIGNATURES: constant(uint256) = 16
MAX_PROOF: constant(uint256) = 64
BPS: constant(uint256) = 10_000
DAY: constant(uint256) = 86_400
# After the reveal period, how long the committee has to finalize before the
# client may take the prize back.
GRACE_PERIOD: constant(uint256) = 30 * DAY
MAX_SUBMISSION_PERIOD: constant(uint256) = 730 * DAY
MAX_REVEAL_PERIOD: constant(uint64) = 90 * 86_400
# Shortest reveal period: entrants must be able to reveal (a period no block falls in would
# forfeit every bond to the client, who could then also take the prize back).
MIN_REVEAL_PERIOD: constant(uint64) = 86_400
# With a court: how long a recorded ranking may be challenged before the prizes are paid.
CHALLENGE_PERIOD: constant(uint256) = 3 * DAY
# With a court: challenges the jurors may uphold in one competition (each challenge costs its
# challenger the fee; one rejected or refused does not count, so strawmen cannot use them up).
MAX_CHALLENGES: constant(uint8) = 3
# With a court: an arbitrator silent this long after a challenge leaves the ranking in force.
RULING_TIMEOUT: constant(uint256) = 365 * DAY
# Rulings of a ranking challenge: 1 the ranking in force stands, 2 the challenger's replaces it
# (0, a refusal to arbitrate, leaves the ranking in force).
CHOICES: constant(uint256) = 2
CHALLENGER_WINS: constant(uint256) = 2

# Competition statuses.
OPEN: constant(uint8) = 0
FINALIZED: constant(uint8) = 1
CANCELLED: constant(uint8) = 2
# Ranked by the committee, prizes held while the ranking may be challenged (with a court only).
RANKED: constant(uint8) = 3

# Bit layout of `CompetitionRecord.terms` (low bits first).
_DEADLINE_SHIFT: constant(uint256) = 0  # uint64
_REVEAL_PERIOD_SHIFT: constant(uint256) = 64  # uint64
_DAILY_LIMIT_SHIFT: constant(uint256) = 128  # uint8
_PUBLIC_PERCENT_SHIFT: constant(uint256) = 136  # uint8
_HIGHER_SHIFT: constant(uint256) = 144  # 1 bit
_STATUS_SHIFT: constant(uint256) = 152  # uint8
_PLACES_SHIFT: constant(uint256) = 160  # uint8: len(prize_bps)
_CONFIRMED_SHIFT: constant(uint256) = 168  # 1 bit: the committee confirmed the labels
_RANKED_AT_SHIFT: constant(uint256) = 176  # uint64: start of the current challenge period
_MASK64: constant(uint256) = 2**64 - 1
_MASK16: constant(uint256) = 2**16 - 1
_MASK8: constant(uint256) = 255

_FINAL_SCORES_TYPEHASH: constant(bytes32) = keccak256(
    "FinalScores(uint256 competitionId,bytes32 scoresRoot,uint256 entries,bytes32 winnersHash,bytes32 commitment)"
)
_LABELS_CONFIRMED_TYPEHASH: constant(bytes32) = keccak256("LabelsConfirmed(uint256 competitionId,bytes32 commitment)")


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
    entry_bond: uint256  # paid with each commit, refunded on reveal
    public_percent: uint8  # share of the hidden set on the public leaderboard
    prize_bps: DynArray[uint16, MAX_PLACES]  # share of the prize per place, first place first
    min_score: int256  # the bar a score must reach to win anything
    higher_is_better: bool
    status: uint8  # 0 OPEN, 1 FINALIZED (prizes credited), 2 CANCELLED, 3 RANKED (prizes held)
    labels_confirmed: bool  # the committee confirmed the hidden labels open the commitment
    entry_count: uint256
    revealed_count: uint256
    scores_root: bytes32  # Merkle root of every revealed entry's score, once finalized


# An entry as the `entry` view returns it.
struct Entry:
    submitter: address
    commitment: bytes32  # cleared once revealed (the SubmissionCommitted event keeps it)
    revealed: bool


# How a competition is stored: the small fields share one word (`terms`), the
# prize split another (`split`).
struct CompetitionRecord:
    client: address
    token: address
    prize: uint256
    spec_hash: bytes32
    commitment: bytes32
    min_score: int256
    terms: uint256  # deadline, reveal period, daily limit, public %, direction, status, places, confirmed
    split: uint256  # prize_bps[i] in bits 16 * i .. 16 * i + 15
    entry_bond: uint256
    entry_count: uint256
    revealed_count: uint256
    scores_root: bytes32


# How an entry is stored. A zero commitment on an existing entry means revealed
# (commit refuses a zero commitment); clearing it on reveal refunds gas.
struct EntryRecord:
    submitter: address
    commitment: bytes32


# A competition's ranking challenges (with a court).
struct Challenge:
    challenger: address  # who challenged last
    dispute_id: uint256  # the arbitrator's dispute of the last challenge
    ranking: bytes32  # the challenger's ranking (winners_hash), in force if the jurors rule for it
    opened_at: uint64  # when the last challenge was made
    count: uint8  # challenges upheld so far, plus the pending one (at most MAX_CHALLENGES)
    open: bool  # the last challenge awaits its ruling


# The fields of `terms`, unpacked in memory.
struct Terms:
    deadline: uint256
    reveal_period: uint256
    daily_limit: uint256
    public_percent: uint8
    higher_is_better: bool
    status: uint8
    places: uint256
    confirmed: bool
    ranked_at: uint256


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
    entry_bond: uint256
    public_percent: uint8
    prize_bps: DynArray[uint16, MAX_PLACES]
    min_score: int256
    higher_is_better: bool
    sealed_labels: Bytes[128]


event LabelsConfirmed:
    comp_id: indexed(uint256)
    commitment: bytes32


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


event PrizeAwarded:
    comp_id: indexed(uint256)
    place: uint256
    entry: indexed(uint256)
    winner: indexed(address)
    amount: uint256


event CompetitionFinalized:
    comp_id: indexed(uint256)
    winners: uint256
    refunded: uint256
    scores_root: bytes32
    entries: uint256
    ranking: DynArray[Score, MAX_PLACES]


event RankingProposed:
    comp_id: indexed(uint256)
    scores_root: bytes32
    entries: uint256
    ranking: DynArray[Score, MAX_PLACES]
    challenge_end: uint256


event RankingChallenged:
    comp_id: indexed(uint256)
    challenger: indexed(address)
    dispute_id: indexed(uint256)
    entry: uint256
    ranking: DynArray[Score, MAX_PLACES]
    fee: uint256


event ChallengeResolved:
    comp_id: indexed(uint256)
    dispute_id: indexed(uint256)
    ruling: uint256
    ranking: bytes32
    challenge_end: uint256


event CompetitionCancelled:
    comp_id: indexed(uint256)
    refunded: uint256


event Withdrawn:
    token: indexed(address)
    account: indexed(address)
    amount: uint256


# @dev The oracle committee whose signatures decide results (`ICommitteeMembers`).
committee: public(immutable(address))
# @dev The ERC-792 arbitrator that hears ranking challenges (fees in the prize token), or zero:
#      then `finalize` credits the prizes at once and no ranking can be challenged.
court: public(immutable(address))
# @dev Number of competitions created; ids run from 1 to competition_count.
competition_count: public(uint256)
# @dev Each competition, packed (see CompetitionRecord); all zero for unknown ids.
_competitions: HashMap[uint256, CompetitionRecord]
# @dev Entries of each competition by index (0, 1, ... in commit order).
_entries: HashMap[uint256, HashMap[uint256, EntryRecord]]
# @dev Commits per competition and address on its latest UTC day: day * 256 + count.
_quota: HashMap[uint256, HashMap[address, uint256]]
# @dev What each account may withdraw, per token (prizes, refunds, bonds): token -> account -> amount.
claimable: public(HashMap[address, HashMap[address, uint256]])
# @dev The ranking in force of a RANKED competition: winners_hash of the committee's winners, or of
#      a challenger's the jurors chose.
ranking_hash: public(HashMap[uint256, bytes32])
# @dev Each competition's challenges (see Challenge).
challenges: public(HashMap[uint256, Challenge])
# @dev The competition of each of the court's disputes, plus one (zero: not ours).
_dispute_competition: HashMap[uint256, uint256]


@deploy
def __init__(committee_: address, court_: address):
    """
    @notice Deploys the competition contract for one oracle committee.
    @param committee_ The committee (`is_oracle`, `threshold`) whose signatures decide results.
    @param court_ The ERC-792 arbitrator of ranking challenges, or the zero address for none.
    """
    assert committee_.is_contract, "competition: committee is not a contract"
    assert court_ == empty(address) or court_.is_contract, "competition: court is not a contract"
    eip712_domain_separator.__init__("proofwork Competition", "1")
    committee = committee_
    court = court_


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
    entry_bond: uint256,
    public_percent: uint8,
    prize_bps: DynArray[uint16, MAX_PLACES],
    min_score: int256,
    higher_is_better: bool,
    sealed_labels: Bytes[128],
) -> uint256:
    """
    @notice Creates a competition and pulls its prize from the caller (the client),
            who must have approved this contract for `prize`. Nobody may enter until
            the committee confirms the labels (`confirm_labels`).
    @param token ERC-20 the prize and the bonds are paid in (fee-on-transfer tokens are refused).
    @param prize The prize, in token units.
    @param spec_hash sha256 digest of the competition's spec file.
    @param commitment keccak256(abi_encode(labels_cid, salt, spec_hash)) of the hidden labels.
    @param deadline Last second (unix time) to commit a submission; in the future, at most two years away.
    @param reveal_period Seconds after the deadline to reveal submissions (1 to 90 days).
    @param daily_limit Commits allowed per address per UTC day (at least 1).
    @param entry_bond Bond (token units, above zero) paid with each commit, refunded when the
           entry is revealed and forfeited to the client otherwise: flooding costs it.
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
        entry_bond,
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
    entry_bond: uint256,
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
        entry_bond,
        public_percent,
        prize_bps,
        min_score,
        higher_is_better,
        sealed_labels,
    )


@external
@nonreentrant
def confirm_labels(comp_id: uint256, signatures: DynArray[Bytes[65], MAX_SIGNATURES]):
    """
    @notice Anyone relays the committee's confirmation that the hidden labels it was
            sent open the competition's commitment; entries are accepted from then on.
    @dev The oracles decrypt the sealed labels and check keccak256(abi_encode(labels_cid,
         salt, spec_hash)) == commitment before signing LabelsConfirmed(competitionId, commitment).
    @param comp_id The competition.
    @param signatures EIP-712 `LabelsConfirmed` signatures of at least `threshold()` distinct
           committee members, ordered by strictly ascending signer address.
    """
    c: CompetitionRecord = self._competitions[comp_id]
    assert c.client != empty(address), "competition: unknown competition"
    t: Terms = self._unpack(c.terms)
    assert t.status == OPEN, "competition: already closed"
    assert not t.confirmed, "competition: labels already confirmed"
    assert block.timestamp <= t.deadline, "competition: submissions closed"
    self._check_signatures(
        eip712_domain_separator._hash_typed_data_v4(
            keccak256(abi_encode(_LABELS_CONFIRMED_TYPEHASH, comp_id, c.commitment))
        ),
        signatures,
    )
    self._competitions[comp_id].terms = c.terms | (1 << _CONFIRMED_SHIFT)
    log LabelsConfirmed(comp_id=comp_id, commitment=c.commitment)


@external
@nonreentrant
def commit(comp_id: uint256, commitment: bytes32, sealed_submission: Bytes[128]) -> uint256:
    """
    @notice Commits to a submission before the deadline, once the committee has confirmed
            the labels, paying the entry bond (approve it to this contract first). Anyone
            but the client and the committee's members may enter, at most `daily_limit`
            times per UTC day.
    @param comp_id The competition.
    @param commitment keccak256(abi_encode(submission_cid, salt, msg.sender)); binding the
           sender means nobody can reuse another's commitment.
    @param sealed_submission The submission's CID encrypted to the committee, so oracles
           can score it for the public leaderboard; only logged.
    @return The entry's index (entries are numbered in commit order from 0).
    """
    c: CompetitionRecord = self._competitions[comp_id]
    assert c.client != empty(address), "competition: unknown competition"
    t: Terms = self._unpack(c.terms)
    assert block.timestamp <= t.deadline, "competition: submissions closed"
    assert t.confirmed, "competition: labels not confirmed"
    assert msg.sender != c.client, "competition: client cannot enter"
    assert not staticcall ICommitteeMembers(committee).is_oracle(msg.sender), "competition: oracle cannot enter"
    assert commitment != empty(bytes32), "competition: empty commitment"
    day: uint256 = block.timestamp // DAY
    quota: uint256 = self._quota[comp_id][msg.sender]
    used: uint256 = 0
    if quota >> 8 == day:
        used = quota & _MASK8
    assert used < t.daily_limit, "competition: daily submission limit reached"
    self._quota[comp_id][msg.sender] = (day << 8) | (used + 1)
    entry: uint256 = c.entry_count
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
    self._pull(c.token, msg.sender, c.entry_bond)
    return entry


@external
@nonreentrant
def reveal(comp_id: uint256, entry: uint256, submission_cid: Bytes[128], salt: bytes32):
    """
    @notice The submitter opens a commitment during the reveal period (after the
            deadline); its bond becomes claimable again. Only revealed entries are
            scored and can win; every committed entry can be revealed.
    @param comp_id The competition.
    @param entry The entry's index.
    @param submission_cid The submission's CID.
    @param salt The salt of the commitment.
    """
    c: CompetitionRecord = self._competitions[comp_id]
    assert c.client != empty(address), "competition: unknown competition"
    t: Terms = self._unpack(c.terms)
    assert block.timestamp > t.deadline, "competition: reveal period not started"
    assert block.timestamp <= t.deadline + t.reveal_period, "competition: reveal period over"
    e: EntryRecord = self._entries[comp_id][entry]
    assert e.submitter != empty(address), "competition: no such entry"
    assert msg.sender == e.submitter, "competition: caller is not the submitter"
    assert e.commitment != empty(bytes32), "competition: already revealed"
    assert keccak256(abi_encode(submission_cid, salt, msg.sender)) == e.commitment, "competition: commitment mismatch"
    self._competitions[comp_id].revealed_count = c.revealed_count + 1
    self._entries[comp_id][entry].commitment = empty(bytes32)
    self.claimable[c.token][msg.sender] += c.entry_bond
    log SubmissionRevealed(comp_id=comp_id, entry=entry, submitter=msg.sender, submission_cid=submission_cid)


@external
@nonreentrant
def finalize(
    comp_id: uint256,
    labels_cid: Bytes[128],
    labels_salt: bytes32,
    scores_root: bytes32,
    winners: DynArray[Score, MAX_PLACES],
    signatures: DynArray[Bytes[65], MAX_SIGNATURES],
) -> uint256:
    """
    @notice Anyone relays the committee's result after the reveal period: the labels
            are revealed (and checked against the commitment), the committee's
            signatures are checked over the Merkle root of every revealed entry's
            score, their number and the winners. Without a court the prizes are credited
            to the winners at once (`withdraw`) and the rest, with the forfeited bonds of
            entries never revealed, to the client; with a court the ranking is recorded
            (RANKED) and paid by `payout` once no challenge is pending.
    @param comp_id The competition.
    @param labels_cid The hidden labels' CID.
    @param labels_salt The salt of the labels commitment (it also seeds the public/private split).
    @param scores_root Merkle root of (entry, private score) for every revealed entry (see `verify_score`).
    @param winners The winning entries with their private scores, first place first: at most
           one per place, each revealed, distinct and reaching `min_score`, best first (ties: lower entry first).
    @param signatures EIP-712 `FinalScores` signatures of at least `threshold()` distinct committee
           members, ordered by strictly ascending signer address.
    @return The amount credited to the client (zero while the prizes are held).
    """
    c: CompetitionRecord = self._competitions[comp_id]
    assert c.client != empty(address), "competition: unknown competition"
    t: Terms = self._unpack(c.terms)
    assert t.status == OPEN, "competition: already closed"
    assert block.timestamp > t.deadline + t.reveal_period, "competition: reveal period not over"
    assert keccak256(abi_encode(labels_cid, labels_salt, c.spec_hash)) == c.commitment, "competition: labels do not match the commitment"
    self._check_ranking(comp_id, c, t, winners)
    ranking: bytes32 = keccak256(abi_encode(winners))
    self._check_signatures(
        eip712_domain_separator._hash_typed_data_v4(
            keccak256(
                abi_encode(
                    _FINAL_SCORES_TYPEHASH,
                    comp_id,
                    scores_root,
                    c.revealed_count,
                    ranking,
                    c.commitment,
                )
            )
        ),
        signatures,
    )
    self._competitions[comp_id].scores_root = scores_root
    log LabelsRevealed(comp_id=comp_id, labels_cid=labels_cid, labels_salt=labels_salt)
    if court == empty(address):
        return self._award(comp_id, c, winners, scores_root)
    self._competitions[comp_id].terms = (
        c.terms | (convert(RANKED, uint256) << _STATUS_SHIFT) | (block.timestamp << _RANKED_AT_SHIFT)
    )
    self.ranking_hash[comp_id] = ranking
    log RankingProposed(
        comp_id=comp_id,
        scores_root=scores_root,
        entries=c.revealed_count,
        ranking=winners,
        challenge_end=block.timestamp + CHALLENGE_PERIOD,
    )
    return 0


@external
@nonreentrant
def challenge(
    comp_id: uint256,
    entry: uint256,
    ranking: DynArray[Score, MAX_PLACES],
    meta_evidence: String[256],
) -> uint256:
    """
    @notice An entrant challenges the ranking in force of a RANKED competition during its
            challenge period, proposing its own (checked like the committee's: revealed
            entries, ranked, above the bar) and paying the arbitrator's fee for the
            competition's prize (approve `challenge_cost` of the prize token first). The
            jurors then choose between the two rankings (`rule`).
    @dev Emits ERC-1497 MetaEvidence and Dispute with the dispute id as meta-evidence id
         and evidence group id.
    @param comp_id The competition.
    @param entry The challenger's own revealed entry.
    @param ranking The challenger's ranking: winners with their private scores, first place first.
    @param meta_evidence URI of the ERC-1497 meta-evidence (the question, both rankings, the artifacts).
    @return The arbitrator's dispute id.
    """
    assert court != empty(address), "competition: no court hears challenges"
    c: CompetitionRecord = self._competitions[comp_id]
    t: Terms = self._unpack(c.terms)
    assert t.status == RANKED, "competition: no ranking to challenge"
    assert block.timestamp <= t.ranked_at + CHALLENGE_PERIOD, "competition: challenge period over"
    ch: Challenge = self.challenges[comp_id]
    assert not ch.open, "competition: ranking already in court"
    assert ch.count < MAX_CHALLENGES, "competition: no more challenges"
    e: EntryRecord = self._entries[comp_id][entry]
    assert (
        msg.sender == e.submitter and e.commitment == empty(bytes32) and entry < c.entry_count
    ), "competition: caller has no revealed entry"
    self._check_ranking(comp_id, c, t, ranking)
    proposed: bytes32 = keccak256(abi_encode(ranking))
    assert proposed != self.ranking_hash[comp_id], "competition: that ranking is in force"
    extra: Bytes[96] = abi_encode(c.token, c.prize, empty(uint256))
    fee: uint256 = staticcall IArbitrator(court).arbitrationCost(extra)
    self._pull(c.token, msg.sender, fee)
    assert extcall IERC20(c.token).approve(court, fee, default_return_value=True), "competition: approve failed"
    d: uint256 = extcall IArbitrator(court).createDispute(CHOICES, extra)
    assert self._dispute_competition[d] == 0, "competition: dispute id reused"
    self._dispute_competition[d] = comp_id + 1
    self.challenges[comp_id] = Challenge(
        challenger=msg.sender,
        dispute_id=d,
        ranking=proposed,
        opened_at=convert(block.timestamp, uint64),
        count=ch.count + 1,
        open=True,
    )
    log RankingChallenged(comp_id=comp_id, challenger=msg.sender, dispute_id=d, entry=entry, ranking=ranking, fee=fee)
    log IArbitrable.MetaEvidence(_metaEvidenceID=d, _evidence=meta_evidence)
    log IArbitrable.Dispute(_arbitrator=court, _disputeID=d, _metaEvidenceID=d, _evidenceGroupID=d)
    return d


@external
@nonreentrant
def submit_evidence(comp_id: uint256, evidence: String[256]):
    """
    @notice Anyone adds evidence (a URI of an ERC-1497 evidence document) to the pending
            challenge of a competition.
    @param comp_id The competition.
    @param evidence The evidence URI.
    """
    ch: Challenge = self.challenges[comp_id]
    assert ch.open, "competition: no challenge pending"
    log IArbitrable.Evidence(_arbitrator=court, _evidenceGroupID=ch.dispute_id, _party=msg.sender, _evidence=evidence)


@external
@nonreentrant
def appeal(comp_id: uint256):
    """
    @notice Anyone appeals the current ruling of a competition's pending challenge during
            the arbitrator's appeal period, paying the whole appeal fee (approve the
            arbitrator's `appealCost` of the prize token first); it is not refunded.
    @param comp_id The competition.
    """
    ch: Challenge = self.challenges[comp_id]
    assert ch.open, "competition: no challenge pending"
    fee: uint256 = staticcall IArbitrator(court).appealCost(ch.dispute_id, b"")
    assert fee < max_value(uint256), "competition: no more appeals"
    token: address = self._competitions[comp_id].token
    self._pull(token, msg.sender, fee)
    assert extcall IERC20(token).approve(court, fee, default_return_value=True), "competition: approve failed"
    extcall IArbitrator(court).appeal(ch.dispute_id, b"")


@external
@nonreentrant
def rule(_disputeID: uint256, _ruling: uint256):
    """
    @notice The court's final ruling on a ranking challenge: 2 puts the challenger's ranking
            in force, 1 or 0 keeps the ranking in force (and gives the challenge back to the
            `MAX_CHALLENGES` allowance); either way a new challenge period starts. A ruling on a
            challenge already closed by `RULING_TIMEOUT` is ignored.
    @param _disputeID The arbitrator's dispute.
    @param _ruling The ruling (0 to 2).
    """
    assert msg.sender == court, "competition: caller is not the court"
    assert _ruling <= CHOICES, "competition: invalid ruling"
    plus_one: uint256 = self._dispute_competition[_disputeID]
    assert plus_one != 0, "competition: unknown dispute"
    comp_id: uint256 = plus_one - 1
    log IArbitrable.Ruling(_arbitrator=msg.sender, _disputeID=_disputeID, _ruling=_ruling)
    ch: Challenge = self.challenges[comp_id]
    if not ch.open or ch.dispute_id != _disputeID:
        return
    self.challenges[comp_id].open = False
    if _ruling == CHALLENGER_WINS:
        self.ranking_hash[comp_id] = ch.ranking
    else:
        # Only upheld challenges use up MAX_CHALLENGES: a sock puppet's strawmen must not bar genuine ones.
        self.challenges[comp_id].count = ch.count - 1
    terms: uint256 = self._competitions[comp_id].terms
    self._competitions[comp_id].terms = (terms & ~(_MASK64 << _RANKED_AT_SHIFT)) | (block.timestamp << _RANKED_AT_SHIFT)
    log ChallengeResolved(
        comp_id=comp_id,
        dispute_id=_disputeID,
        ruling=_ruling,
        ranking=self.ranking_hash[comp_id],
        challenge_end=block.timestamp + CHALLENGE_PERIOD,
    )


@external
@nonreentrant
def payout(comp_id: uint256, winners: DynArray[Score, MAX_PLACES]) -> uint256:
    """
    @notice Anyone credits the prizes of a RANKED competition by the ranking in force, once
            its challenge period is over with no challenge pending (or a pending one has
            waited `RULING_TIMEOUT` for a ruling): the winners' prizes and the client's rest,
            as `finalize` does without a court.
    @param comp_id The competition.
    @param winners The ranking in force (keccak256(abi_encode(winners)) is `ranking_hash(comp_id)`).
    @return The amount credited to the client.
    """
    c: CompetitionRecord = self._competitions[comp_id]
    t: Terms = self._unpack(c.terms)
    assert t.status == RANKED, "competition: no ranking to pay"
    ch: Challenge = self.challenges[comp_id]
    if ch.open:
        assert block.timestamp > convert(ch.opened_at, uint256) + RULING_TIMEOUT, "competition: ranking in court"
        self.challenges[comp_id].open = False
    else:
        assert block.timestamp > t.ranked_at + CHALLENGE_PERIOD, "competition: challenge period not over"
    assert keccak256(abi_encode(winners)) == self.ranking_hash[comp_id], "competition: not the ranking in force"
    return self._award(comp_id, c, winners, c.scores_root)


@external
@nonreentrant
def cancel_unjudged(comp_id: uint256) -> uint256:
    """
    @notice The client takes the prize back (credited, see `withdraw`) from a competition
            nobody can or did judge, with the bonds of entries never revealed:
            - while the committee has not confirmed the labels (nobody could enter);
            - once the deadline has passed with no commit at all;
            - once the reveal period has passed with no entry revealed;
            - once the grace period (30 days) after the reveal period has passed without
              a finalization (a dead committee must not lock the prize).
    @param comp_id The competition.
    @return The amount credited to the client.
    """
    c: CompetitionRecord = self._competitions[comp_id]
    assert c.client != empty(address), "competition: unknown competition"
    assert msg.sender == c.client, "competition: caller is not the client"
    t: Terms = self._unpack(c.terms)
    assert t.status == OPEN, "competition: already closed"
    reveal_end: uint256 = t.deadline + t.reveal_period
    assert (
        not t.confirmed
        or (c.entry_count == 0 and block.timestamp > t.deadline)
        or (c.revealed_count == 0 and block.timestamp > reveal_end)
        or block.timestamp > reveal_end + GRACE_PERIOD
    ), "competition: too early to cancel"
    self._competitions[comp_id].terms = c.terms | (convert(CANCELLED, uint256) << _STATUS_SHIFT)
    refund: uint256 = c.prize + (c.entry_count - c.revealed_count) * c.entry_bond
    self.claimable[c.token][c.client] += refund
    log CompetitionCancelled(comp_id=comp_id, refunded=refund)
    return refund


@external
@nonreentrant
def withdraw(token: address) -> uint256:
    """
    @notice Sends the caller everything credited to it in `token`: prizes, refunds and
            returned bonds of every competition. Each account pulls its own payout, so a
            transfer that reverts for one account blocks nobody else.
    @param token The token.
    @return The amount sent.
    """
    amount: uint256 = self.claimable[token][msg.sender]
    assert amount > 0, "competition: nothing to withdraw"
    self.claimable[token][msg.sender] = 0
    log Withdrawn(token=token, account=msg.sender, amount=amount)
    assert extcall IERC20(token).transfer(msg.sender, amount, default_return_value=True), "competition: transfer failed"
    return amount


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
        entry_bond=c.entry_bond,
        public_percent=t.public_percent,
        prize_bps=bps,
        min_score=c.min_score,
        higher_is_better=t.higher_is_better,
        status=t.status,
        labels_confirmed=t.confirmed,
        entry_count=c.entry_count,
        revealed_count=c.revealed_count,
        scores_root=c.scores_root,
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
    @notice Number of revealed entries of a competition (the leaves of its scores tree).
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
@view
def challenge_cost(comp_id: uint256) -> uint256:
    """
    @notice What `challenge` pulls from the challenger: the arbitrator's fee for the prize.
    @param comp_id The competition.
    @return The fee in the prize token (zero without a court).
    """
    if court == empty(address):
        return 0
    c: CompetitionRecord = self._competitions[comp_id]
    return staticcall IArbitrator(court).arbitrationCost(abi_encode(c.token, c.prize, empty(uint256)))


@external
@view
def verify_score(comp_id: uint256, entry: uint256, score: int256, proof: DynArray[bytes32, MAX_PROOF]) -> bool:
    """
    @notice Whether the committee's finalized scores tree gives `entry` the private score
            `score`: anyone can prove every entry's rank and score against the signed root.
    @param comp_id A finalized competition.
    @param entry The entry's index.
    @param score The claimed score.
    @param proof Sibling hashes from the leaf to the root (sorted-pair hashing).
    @return True for a valid proof against the competition's scores root.
    """
    root: bytes32 = self._competitions[comp_id].scores_root
    if root == empty(bytes32):
        return False
    return merkle_proof_verification._verify(proof, root, self._leaf(entry, score))


@external
@view
def final_scores_digest(comp_id: uint256, scores_root: bytes32, winners_hash_: bytes32) -> bytes32:
    """
    @notice The EIP-712 digest committee members sign for a competition's result.
    @param comp_id The competition.
    @param scores_root The scores tree's root.
    @param winners_hash_ keccak256(abi_encode(winners)) of the winners.
    @return The digest of FinalScores(comp_id, scores_root, revealed_count, winners_hash_,
            the competition's labels commitment).
    """
    c: CompetitionRecord = self._competitions[comp_id]
    return eip712_domain_separator._hash_typed_data_v4(
        keccak256(
            abi_encode(_FINAL_SCORES_TYPEHASH, comp_id, scores_root, c.revealed_count, winners_hash_, c.commitment)
        )
    )


@external
@view
def labels_confirmed_digest(comp_id: uint256) -> bytes32:
    """
    @notice The EIP-712 digest committee members sign to confirm a competition's labels.
    @param comp_id The competition.
    @return The digest of LabelsConfirmed(comp_id, the competition's labels commitment).
    """
    return eip712_domain_separator._hash_typed_data_v4(
        keccak256(abi_encode(_LABELS_CONFIRMED_TYPEHASH, comp_id, self._competitions[comp_id].commitment))
    )


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
    entry_bond: uint256,
    public_percent: uint8,
    prize_bps: DynArray[uint16, MAX_PLACES],
    min_score: int256,
    higher_is_better: bool,
    sealed_labels: Bytes[128],
) -> uint256:
    """
    @dev Checks the terms, records the competition and pulls the prize from `client`
         (see `create` for the parameters).
    @return The new competition id.
    @param client The payer (msg.sender of the create call); the others as in `create`.
    """
    assert token.is_contract, "competition: token is not a contract"
    assert prize > 0, "competition: zero prize"
    assert prize <= max_value(uint256) // BPS, "competition: prize too large"
    assert entry_bond > 0, "competition: zero entry bond"
    assert entry_bond <= convert(max_value(uint128), uint256), "competition: entry bond too large"
    assert spec_hash != empty(bytes32), "competition: empty spec hash"
    assert commitment != empty(bytes32), "competition: empty labels commitment"
    assert convert(deadline, uint256) > block.timestamp, "competition: deadline in the past"
    assert convert(deadline, uint256) <= block.timestamp + MAX_SUBMISSION_PERIOD, "competition: deadline too far"
    assert (
        reveal_period >= MIN_REVEAL_PERIOD and reveal_period <= MAX_REVEAL_PERIOD
    ), "competition: bad reveal period"
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
        entry_bond=entry_bond,
        entry_count=0,
        revealed_count=0,
        scores_root=empty(bytes32),
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
        entry_bond=entry_bond,
        public_percent=public_percent,
        prize_bps=prize_bps,
        min_score=min_score,
        higher_is_better=higher_is_better,
        sealed_labels=sealed_labels,
    )
    self._pull(token, client, prize)
    return comp_id


@internal
@view
def _check_ranking(comp_id: uint256, c: CompetitionRecord, t: Terms, winners: DynArray[Score, MAX_PLACES]):
    """
    @dev A ranking may be paid: at most one winner per place, each a revealed entry reaching
         the bar, distinct, best first (ties: the earliest commit first).
    @param comp_id The competition.
    @param c Its record.
    @param t Its unpacked terms.
    @param winners The ranking.
    """
    assert len(winners) <= t.places, "competition: more winners than places"
    previous: Score = empty(Score)
    i: uint256 = 0
    for w: Score in winners:
        assert w.entry < c.entry_count and self._entries[comp_id][w.entry].commitment == empty(bytes32), "competition: entry not revealed"
        assert self._reaches(w.score, c.min_score, t.higher_is_better), "competition: winner below the bar"
        if i > 0:
            assert (
                self._better(previous.score, w.score, t.higher_is_better)
                or (previous.score == w.score and previous.entry < w.entry)
            ), "competition: winners not ranked"
            # The order alone lets one entry appear twice with two scores: each entry wins once.
            for k: uint256 in range(MAX_PLACES):
                if k == i:
                    break
                assert winners[k].entry != w.entry, "competition: entry wins twice"
        previous = w
        i += 1


@internal
def _award(comp_id: uint256, c: CompetitionRecord, winners: DynArray[Score, MAX_PLACES], scores_root: bytes32) -> uint256:
    """
    @dev Credits each winner its place's share of the prize and the client the rest with the
         forfeited bonds, and closes the competition (FINALIZED).
    @param comp_id The competition.
    @param c Its record (as read before this call's changes to `terms`).
    @param winners The ranking paid.
    @param scores_root The committee's scores root (logged).
    @return The amount credited to the client.
    """
    self._competitions[comp_id].terms = (c.terms & ~(_MASK8 << _STATUS_SHIFT)) | (convert(FINALIZED, uint256) << _STATUS_SHIFT)
    paid: uint256 = 0
    place: uint256 = 0
    for w: Score in winners:
        winner: address = self._entries[comp_id][w.entry].submitter
        amount: uint256 = c.prize * ((c.split >> (16 * place)) & _MASK16) // BPS
        self.claimable[c.token][winner] += amount
        paid += amount
        log PrizeAwarded(comp_id=comp_id, place=place, entry=w.entry, winner=winner, amount=amount)
        place += 1
    refund: uint256 = c.prize - paid + (c.entry_count - c.revealed_count) * c.entry_bond
    self.claimable[c.token][c.client] += refund
    log CompetitionFinalized(
        comp_id=comp_id,
        winners=len(winners),
        refunded=refund,
        scores_root=scores_root,
        entries=c.revealed_count,
        ranking=winners,
    )
    return refund


@internal
def _pull(token: address, owner: address, amount: uint256):
    """
    @dev Pulls `amount` of `token` from `owner` (who approved this contract), refusing a
         token that delivers less than was sent.
    @param token The ERC-20.
    @param owner The payer.
    @param amount The amount.
    """
    before: uint256 = staticcall IERC20(token).balanceOf(self)
    assert extcall IERC20(token).transferFrom(owner, self, amount, default_return_value=True), "competition: transfer failed"
    assert staticcall IERC20(token).balanceOf(self) - before == amount, "competition: token delivered less than sent"


@internal
@view
def _check_signatures(digest: bytes32, signatures: DynArray[Bytes[65], MAX_SIGNATURES]):
    """
    @dev At least `threshold()` signatures of `digest` by distinct committee members, in
         strictly ascending signer order.
    @param digest The EIP-712 digest signed.
    @param signatures The signatures.
    """
    threshold: uint256 = staticcall ICommitteeMembers(committee).threshold()
    # A zero threshold would let anyone finalize without a signature: treat it as a broken committee.
    assert threshold > 0, "competition: committee threshold is zero"
    assert len(signatures) >= threshold, "competition: too few signatures"
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
def _leaf(entry: uint256, score: int256) -> bytes32:
    """
    @dev OpenZeppelin StandardMerkleTree leaf of (entry, score): double keccak of the abi encoding.
    @param entry The entry's index.
    @param score Its score.
    @return The leaf.
    """
    return keccak256(keccak256(abi_encode(entry, score)))


@internal
@pure
def _reaches(score: int256, bar: int256, higher_is_better: bool) -> bool:
    """
    @dev Whether `score` reaches the bar in the metric's direction.
    @param score A score.
    @param bar The competition's min_score.
    @param higher_is_better The direction.
    @return True when it may win.
    """
    if higher_is_better:
        return score >= bar
    return score <= bar


@internal
@pure
def _better(a: int256, b: int256, higher_is_better: bool) -> bool:
    """
    @dev Whether score `a` is strictly better than `b` in the metric's direction.
    @param a A score.
    @param b Another score.
    @param higher_is_better The direction.
    @return True when `a` ranks ahead of `b`.
    """
    if higher_is_better:
        return a > b
    return a < b


@internal
@pure
def _unpack(terms: uint256) -> Terms:
    """
    @dev The fields packed in `CompetitionRecord.terms` (see the _*_SHIFT constants).
    @param terms The packed word.
    @return The unpacked terms.
    """
    return Terms(
        deadline=(terms >> _DEADLINE_SHIFT) & _MASK64,
        reveal_period=(terms >> _REVEAL_PERIOD_SHIFT) & _MASK64,
        daily_limit=(terms >> _DAILY_LIMIT_SHIFT) & _MASK8,
        public_percent=convert((terms >> _PUBLIC_PERCENT_SHIFT) & _MASK8, uint8),
        higher_is_better=(terms >> _HIGHER_SHIFT) & 1 == 1,
        status=convert((terms >> _STATUS_SHIFT) & _MASK8, uint8),
        places=(terms >> _PLACES_SHIFT) & _MASK8,
        confirmed=(terms >> _CONFIRMED_SHIFT) & 1 == 1,
        ranked_at=(terms >> _RANKED_AT_SHIFT) & _MASK64,
    )
