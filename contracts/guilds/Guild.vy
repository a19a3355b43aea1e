# pragma version ~=0.4.3
"""
@title Guild
@custom:contract-name Guild
@license GNU Affero General Public License v3.0 only
@notice A skill guild: one contract per guild, whose address applies for and takes
        jobs in JobEscrow as one freelancer. Members join under a rule fixed at creation
        (a skill badge of a family, a credential from an accredited issuer, or a number of
        JobCompleted attestations), each with shares. Every payment the guild receives in
        its token is split among the members by shares and pulled with `claim`. Members
        vote (one member one vote, or by shares: fixed at creation) on admissions, share
        changes, expulsions, which jobs to take (naming the members who will do the work)
        and any other escrow call; named workers submit through the guild.
@dev Split in O(1) whatever the number of members: a payment is an ERC-20 transfer the
     guild is not told about, so `split` (anyone; also run before every change of
     membership or shares) takes the balance above what is already accounted (`tracked`)
     and adds (amount + carry) // total_shares to an accumulator per share; the remainder
     (less than total_shares units) is carried to the next split, never lost. A member is
     owed credit + shares * (accumulator - its snapshot). Invariant:
     tracked == carry + sum over accounts of claimable; balance - tracked is unsplit.
     The accumulator starts at 1 and the pool slot carries a marker bit, so a split never
     writes a zero slot (a fresh slot costs 20,000 gas).
     Votes: a proposal records the total weight when it is made; only members admitted
     before it (whose shares did not change since, when votes weigh shares) may vote, once;
     it passes with more than half of that weight for it, and a member executes it before
     its deadline.
"""

from ethereum.ercs import IERC20

from ..escrow import IJobEscrow
from ..identity import IIssuerRegistry
from ..attestations import IAttestations
from . import IGuild

implements: IGuild


# What the guild calls in JobEscrow (its own interface lists only what the committee needs).
interface Escrow:
    def job_state(job_id: uint256) -> bytes32: view
    def claimable(token: address, account: address) -> uint256: view
    def apply(job_id: uint256, job: IJobEscrow.Job, proposal: bytes32): nonpayable
    def submit(job_id: uint256, job: IJobEscrow.Job, milestone: uint256, deliverable: bytes32): nonpayable
    def raise_dispute(job_id: uint256, job: IJobEscrow.Job, milestone: uint256): nonpayable
    def withdraw(token: address) -> uint256: nonpayable


# What the guild reads from SkillBadge (ERC-721 owner and the badge's skill).
interface Badges:
    def ownerOf(token_id: uint256) -> address: view
    def badge(token_id: uint256) -> Badge: view


# What the guild reads from the JobAttester.
interface JobAttester:
    def attestation_of(job_id: uint256, milestone: uint256) -> bytes32: view
    def attestations() -> address: view


# SkillBadge's badge record.
struct Badge:
    skill: String[64]
    issuer: address
    evidence: bytes32
    minted_at: uint64


RULE_BADGE: constant(uint8) = 1
RULE_CREDENTIAL: constant(uint8) = 2
RULE_REPUTATION: constant(uint8) = 3

ADMIT: constant(uint8) = 1
SHARES: constant(uint8) = 2
KICK: constant(uint8) = 3
TAKE: constant(uint8) = 4
CALL: constant(uint8) = 5

MAX_EVIDENCE: constant(uint256) = 16
MAX_FOUNDERS: constant(uint256) = 16
MAX_WORKERS: constant(uint256) = 16
MAX_CALLDATA: constant(uint256) = 4_096
# Total shares stay below this, so the carried remainder of a split (fewer units than the
# total shares) is under 1,000,000 token units whatever the payment, and fits its 32 bits.
MAX_TOTAL_SHARES: constant(uint256) = 1_000_000
MIN_VOTING_PERIOD: constant(uint64) = 3_600
MAX_VOTING_PERIOD: constant(uint64) = 30 * 86_400

# Pool slot layout: bit 255 marker | tracked (bits 64..191) | carry (bits 32..63) | total shares (bits 0..31).
_MARKER: constant(uint256) = 1 << 255
_MASK32: constant(uint256) = (1 << 32) - 1
_MASK64: constant(uint256) = (1 << 64) - 1
_MASK128: constant(uint256) = (1 << 128) - 1
# Member slot layout: bit 255 active | since (bits 192..254) | shares (bits 128..191) | credit (bits 0..127).
_ACTIVE: constant(uint256) = 1 << 255


# @dev The ERC-20 the guild is paid in and splits.
TOKEN: immutable(address)
# @dev The JobEscrow the guild works through.
ESCROW: immutable(address)
# @dev True: a vote weighs the voter's shares; False: one member, one vote.
BY_SHARES: immutable(bool)
# @dev Seconds a proposal stays open for votes and execution.
VOTING_PERIOD: immutable(uint64)

# @dev The admission rule fixed at creation.
_rule: IGuild.Rule
# @dev Per-share accumulator of split payments, in token units; starts at 1 (never a zero slot).
acc_per_share: public(uint256)
# @dev Packed: marker | tracked (balance already split or carried) | carry (split remainder) | total shares.
_pool: uint256
# @dev Packed per account: active | since (proposal count at admission, or at its latest share change
# when votes weigh shares) | shares | credit (settled pay).
_members: HashMap[address, uint256]
# @dev Per account: the accumulator when its pay was last settled.
_snapshot: HashMap[address, uint256]
# @dev Number of current members.
member_count: public(uint256)
# @dev Number of proposals made; ids run from 1.
proposal_count: public(uint256)
# @dev Every proposal by id.
_proposals: HashMap[uint256, IGuild.Proposal]
# @dev ADMIT proposals: the evidence the applicant gave, checked again on execution.
_evidence: HashMap[uint256, DynArray[bytes32, MAX_EVIDENCE]]
# @dev TAKE proposals: the members named to do the job.
_workers: HashMap[uint256, DynArray[address, MAX_WORKERS]]
# @dev Who voted on which proposal: proposal id -> account -> voted.
voted: public(HashMap[uint256, HashMap[address, bool]])
# @dev Per proposer: its latest proposal (a proposer has one open proposal at most).
latest_proposal: public(HashMap[address, uint256])
# @dev Per job: the members named to do it, who may submit through the guild.
is_worker: public(HashMap[uint256, HashMap[address, bool]])
# @dev Per job: the members named to do it, in order (the latest TAKE executed for it).
_job_workers: HashMap[uint256, DynArray[address, MAX_WORKERS]]
# @dev Where the guild attests its workers' part in completed milestones (all empty: off).
_attribution: IGuild.Attribution
# @dev Per job and milestone: whether the workers' part is attested already.
attributed: public(HashMap[uint256, HashMap[uint256, bool]])


@deploy
def __init__(
    token_: address,
    escrow_: address,
    by_shares_: bool,
    voting_period_: uint64,
    rule_: IGuild.Rule,
    attribution_: IGuild.Attribution,
    founders: DynArray[address, MAX_FOUNDERS],
    founder_shares: DynArray[uint256, MAX_FOUNDERS],
    founder_evidence: DynArray[DynArray[bytes32, MAX_EVIDENCE], MAX_FOUNDERS],
):
    """
    @notice Creates a guild with its founding members, each of whom must meet the rule.
    @param token_ The ERC-20 the guild is paid in (the jobs it takes must pay in it).
    @param escrow_ The JobEscrow.
    @param by_shares_ True for votes weighed by shares, False for one member one vote.
    @param voting_period_ Seconds a proposal stays open (1 hour to 30 days).
    @param rule_ The admission rule (see IGuild.Rule).
    @param attribution_ Where the workers' part in completed milestones is attested (all empty: off).
    @param founders The founding members (1 to 16, distinct).
    @param founder_shares Their shares (1 or more each, total below 1,000,000).
    @param founder_evidence Each founder's evidence for the rule (see `propose_admission`).
    """
    assert token_.is_contract, "guild: token is not a contract"
    assert escrow_.is_contract, "guild: escrow is not a contract"
    assert voting_period_ >= MIN_VOTING_PERIOD and voting_period_ <= MAX_VOTING_PERIOD, "guild: bad voting period"
    assert rule_.source.is_contract, "guild: rule source is not a contract"
    if rule_.kind == RULE_BADGE:
        assert len(rule_.family) > 0, "guild: empty skill family"
    elif rule_.kind == RULE_CREDENTIAL:
        assert rule_.authority.is_contract, "guild: registry is not a contract"
    elif rule_.kind == RULE_REPUTATION:
        assert rule_.authority != empty(address), "guild: no job attester"
        assert rule_.threshold > 0 and rule_.threshold <= MAX_EVIDENCE, "guild: bad reputation threshold"
    else:
        raise "guild: unknown rule"
    if attribution_.job_attester != empty(address):
        assert attribution_.schema != empty(bytes32), "guild: no work schema"
        assert (
            staticcall JobAttester(attribution_.job_attester).attestations() == attribution_.attestations
        ), "guild: attester of another attestation service"
    assert len(founders) > 0, "guild: no founders"
    assert len(founder_shares) == len(founders) and len(founder_evidence) == len(founders), "guild: founder lists differ"
    TOKEN = token_
    ESCROW = escrow_
    BY_SHARES = by_shares_
    VOTING_PERIOD = voting_period_
    self._rule = rule_
    self._attribution = attribution_
    self.acc_per_share = 1
    self._pool = _MARKER
    for i: uint256 in range(len(founders), bound=MAX_FOUNDERS):
        self._check_rule(founders[i], founder_evidence[i])
        self._admit(founders[i], founder_shares[i], 0)


# ------------------------------------------------------------------ payments


@external
@nonreentrant
def split() -> uint256:
    """
    @notice Splits among the members, by shares, whatever the guild received since the
            last split (escrow payouts, any transfer). Anyone may call; O(1).
    @return The amount newly split (the carried remainder included in the accumulator).
    """
    return self._split()


@external
@nonreentrant
def claim(amount: uint256):
    """
    @notice Sends the caller `amount` of its settled pay (a former member keeps what it
            earned). Call `split` first for payments not yet split.
    @param amount Token units, at most `claimable(msg.sender)`.
    """
    assert amount > 0, "guild: zero claim"
    record: uint256 = self._members[msg.sender]
    acc: uint256 = self.acc_per_share
    due: uint256 = (record & _MASK128) + ((record >> 128) & _MASK64) * (acc - self._snapshot[msg.sender])
    assert amount <= due, "guild: claim above due"
    self._members[msg.sender] = (record & ~_MASK128) | (due - amount)
    self._snapshot[msg.sender] = acc
    pool: uint256 = self._pool
    self._pool = pool - (amount << 64)
    log IGuild.Claimed(member=msg.sender, amount=amount)
    assert extcall IERC20(TOKEN).transfer(msg.sender, amount, default_return_value=True), "guild: transfer failed"


@external
@nonreentrant
def withdraw_from_escrow() -> uint256:
    """
    @notice Pulls a payout the escrow credited to the guild (one its token refused to
            deliver) and splits it. Anyone may call.
    @return The amount split.
    """
    assert staticcall Escrow(ESCROW).claimable(TOKEN, self) > 0, "guild: nothing credited"
    extcall Escrow(ESCROW).withdraw(TOKEN)
    return self._split()


# ------------------------------------------------------------------ membership


@external
@nonreentrant
def leave():
    """
    @notice The caller leaves the guild: its pay so far stays claimable, its shares end.
            The last member cannot leave (the guild would have nobody to pay).
    """
    self._remove(msg.sender, False)


@external
@nonreentrant
def propose_admission(shares: uint256, evidence: DynArray[bytes32, MAX_EVIDENCE]) -> uint256:
    """
    @notice An account that meets the rule asks to join with `shares`; members vote.
    @param shares The shares asked for (1 or more).
    @param evidence BADGE: [token id]; CREDENTIAL: [attestation uid]; REPUTATION: the
           JobCompleted attestation uids, strictly increasing, at least the threshold, each
           from a different client.
    @return The proposal id.
    """
    assert self._members[msg.sender] & _ACTIVE == 0, "guild: already a member"
    assert shares > 0, "guild: zero shares"
    self._check_rule(msg.sender, evidence)
    proposal_id: uint256 = self._propose(ADMIT, msg.sender, shares, 0, empty(bytes32))
    self._evidence[proposal_id] = evidence
    return proposal_id


@external
@nonreentrant
def propose_shares(member: address, shares: uint256) -> uint256:
    """
    @notice A member proposes to set `member`'s shares.
    @param member A member.
    @param shares Its new shares (1 or more).
    @return The proposal id.
    """
    self._check_member(msg.sender)
    self._check_member(member)
    assert shares > 0, "guild: zero shares"
    return self._propose(SHARES, member, shares, 0, empty(bytes32))


@external
@nonreentrant
def propose_kick(member: address) -> uint256:
    """
    @notice A member proposes to expel `member` (its pay so far stays claimable).
    @param member A member.
    @return The proposal id.
    """
    self._check_member(msg.sender)
    self._check_member(member)
    return self._propose(KICK, member, 0, 0, empty(bytes32))


@external
@nonreentrant
def propose_take(job_id: uint256, proposal: bytes32, workers: DynArray[address, MAX_WORKERS]) -> uint256:
    """
    @notice A member proposes that the guild apply for (or accept) a job, naming the
            members who will do it: their names go on chain when the job is taken.
    @param job_id The escrow job.
    @param proposal Content hash of the guild's proposal to the client.
    @param workers The members named (1 to 16, distinct).
    @return The proposal id.
    """
    self._check_member(msg.sender)
    assert len(workers) > 0, "guild: no workers"
    for i: uint256 in range(len(workers), bound=MAX_WORKERS):
        self._check_member(workers[i])
        for j: uint256 in range(i, bound=MAX_WORKERS):
            assert workers[j] != workers[i], "guild: worker named twice"
    proposal_id: uint256 = self._propose(TAKE, empty(address), 0, job_id, proposal)
    self._workers[proposal_id] = workers
    return proposal_id


@external
@nonreentrant
def propose_call(data: Bytes[MAX_CALLDATA]) -> uint256:
    """
    @notice A member proposes any call of the guild to the escrow (a cancellation offer,
            its acceptance, an application without named workers...).
    @param data The calldata (selector and arguments); only its hash is stored.
    @return The proposal id.
    """
    self._check_member(msg.sender)
    assert len(data) >= 4, "guild: calldata without selector"
    return self._propose(CALL, empty(address), 0, 0, keccak256(data))


@external
@nonreentrant
def vote(proposal_id: uint256, support: bool):
    """
    @notice A member admitted before the proposal was made (and, when votes weigh shares,
            whose shares have not changed since) votes on it, once.
    @param proposal_id The proposal.
    @param support True for, False against.
    """
    p: IGuild.Proposal = self._proposals[proposal_id]
    assert p.kind != 0, "guild: unknown proposal"
    record: uint256 = self._members[msg.sender]
    assert record & _ACTIVE != 0, "guild: caller is not a member"
    assert (record >> 192) & (_MASK64 >> 1) < proposal_id, "guild: member since after the proposal"
    assert not p.executed, "guild: proposal executed"
    assert block.timestamp <= convert(p.deadline, uint256), "guild: voting closed"
    assert not self.voted[proposal_id][msg.sender], "guild: already voted"
    weight: uint256 = 1
    if BY_SHARES:
        weight = (record >> 128) & _MASK64
    self.voted[proposal_id][msg.sender] = True
    if support:
        self._proposals[proposal_id].votes_for = p.votes_for + weight
    else:
        self._proposals[proposal_id].votes_against = p.votes_against + weight
    log IGuild.Voted(proposal_id=proposal_id, voter=msg.sender, support=support, weight=weight)


@external
@nonreentrant
def execute(proposal_id: uint256):
    """
    @notice A member executes a passed ADMIT, SHARES or KICK proposal, before its deadline.
    @param proposal_id The proposal.
    """
    p: IGuild.Proposal = self._passed(proposal_id)
    if p.kind == ADMIT:
        assert self._members[p.subject] & _ACTIVE == 0, "guild: already a member"
        self._check_rule(p.subject, self._evidence[proposal_id])
        self._split()
        self._admit(p.subject, p.shares, proposal_id)
    elif p.kind == SHARES:
        self._check_member(p.subject)
        self._split()
        self._set_shares(p.subject, p.shares)
    elif p.kind == KICK:
        self._remove(p.subject, True)
    else:
        raise "guild: use take or execute_call"


@external
@nonreentrant
def take(proposal_id: uint256, job_id: uint256, job: IJobEscrow.Job):
    """
    @notice A member executes a passed TAKE proposal: the guild applies for the open
            job (or accepts one that names it as freelancer) and records the named workers.
    @param proposal_id The proposal.
    @param job_id The job (the proposal's).
    @param job The job's current state in the escrow.
    """
    p: IGuild.Proposal = self._passed(proposal_id)
    assert p.kind == TAKE, "guild: not a take proposal"
    assert job_id == p.job_id, "guild: not the proposal's job"
    assert job.token == TOKEN, "guild: job paid in another token"
    if job.freelancer == empty(address):
        # the escrow checks the state against its hash
        extcall Escrow(ESCROW).apply(job_id, job, p.digest)
    else:
        assert job.freelancer == self, "guild: job taken by another"
        assert staticcall Escrow(ESCROW).job_state(job_id) == keccak256(abi_encode(job)), "guild: stale job state"
    for previous: address in self._job_workers[job_id]:
        self.is_worker[job_id][previous] = False
    workers: DynArray[address, MAX_WORKERS] = self._workers[proposal_id]
    for worker: address in workers:
        self.is_worker[job_id][worker] = True
    self._job_workers[job_id] = workers
    log IGuild.WorkersNamed(job_id=job_id, proposal_id=proposal_id, workers=workers)


@external
@nonreentrant
def execute_call(proposal_id: uint256, data: Bytes[MAX_CALLDATA]):
    """
    @notice A member executes a passed CALL proposal: the guild calls the escrow with it.
    @param proposal_id The proposal.
    @param data The calldata whose hash was proposed.
    """
    p: IGuild.Proposal = self._passed(proposal_id)
    assert p.kind == CALL, "guild: not a call proposal"
    assert keccak256(data) == p.digest, "guild: calldata differs from the proposal"
    raw_call(ESCROW, data)


# ------------------------------------------------------------------ work


@external
@nonreentrant
def submit(job_id: uint256, job: IJobEscrow.Job, milestone: uint256, deliverable: bytes32):
    """
    @notice A member named for the job submits a deliverable as the guild.
    @param job_id The job.
    @param job The job's current state.
    @param milestone Milestone index.
    @param deliverable Content hash of the deliverable.
    """
    self._check_worker(job_id)
    extcall Escrow(ESCROW).submit(job_id, job, milestone, deliverable)


@external
@nonreentrant
def raise_dispute(job_id: uint256, job: IJobEscrow.Job, milestone: uint256):
    """
    @notice A member named for the job disputes a submitted milestone as the guild.
    @param job_id The job.
    @param job The job's current state.
    @param milestone Milestone index.
    """
    self._check_worker(job_id)
    extcall Escrow(ESCROW).raise_dispute(job_id, job, milestone)


@external
@nonreentrant
def attest_workers(job_id: uint256, milestone: uint256):
    """
    @notice Attests the part of each member named for the job in a milestone the job attester
            attested as completed by the guild: one GuildWork attestation per worker, referring
            to the guild's JobCompleted attestation. Anyone may call, once per milestone.
    @dev The JobAttester attests the escrow's freelancer (the guild) only; this carries the
         reputation to the members who did the work, named on chain when the job was taken.
    @param job_id The job.
    @param milestone Milestone index.
    """
    a: IGuild.Attribution = self._attribution
    assert a.job_attester != empty(address), "guild: attribution is off"
    assert not self.attributed[job_id][milestone], "guild: milestone already attributed"
    uid: bytes32 = staticcall JobAttester(a.job_attester).attestation_of(job_id, milestone)
    assert uid != empty(bytes32), "guild: milestone not attested"
    done: IAttestations.Attestation = staticcall IAttestations(a.attestations).get_attestation(uid)
    assert done.recipient == self, "guild: completed by another freelancer"
    workers: DynArray[address, MAX_WORKERS] = self._job_workers[job_id]
    assert len(workers) > 0, "guild: no workers named for this job"
    self.attributed[job_id][milestone] = True
    for worker: address in workers:
        extcall IAttestations(a.attestations).attest(
            IAttestations.AttestationRequest(
                schema=a.schema,
                data=IAttestations.AttestationRequestData(
                    recipient=worker,
                    expirationTime=0,
                    revocable=False,
                    refUID=uid,
                    data=abi_encode(uid, job_id, milestone, self),
                    value=0,
                ),
            )
        )
    log IGuild.WorkAttested(job_id=job_id, milestone=milestone, completed=uid, workers=workers)


# ------------------------------------------------------------------ views


@external
@view
def token() -> address:
    """
    @notice The ERC-20 the guild is paid in and splits.
    @return The token.
    """
    return TOKEN


@external
@view
def escrow() -> address:
    """
    @notice The JobEscrow the guild works through.
    @return The escrow.
    """
    return ESCROW


@external
@view
def by_shares() -> bool:
    """
    @notice Whether votes weigh shares (True) or count members (False).
    @return The voting mode.
    """
    return BY_SHARES


@external
@view
def voting_period() -> uint64:
    """
    @notice Seconds a proposal stays open.
    @return The period.
    """
    return VOTING_PERIOD


@external
@view
def rule() -> IGuild.Rule:
    """
    @notice The admission rule fixed at creation.
    @return The rule.
    """
    return self._rule


@external
@view
def total_shares() -> uint256:
    """
    @notice The members' shares in all.
    @return Total shares.
    """
    return self._pool & _MASK32


@external
@view
def tracked() -> uint256:
    """
    @notice The part of the guild's balance already split or carried (the rest is unsplit).
    @return Token units.
    """
    return (self._pool >> 64) & _MASK128


@external
@view
def carry() -> uint256:
    """
    @notice The remainder of the splits so far, added to the next one.
    @return Token units (fewer than the total shares at the split that left them).
    """
    return (self._pool >> 32) & _MASK32


@external
@view
def is_member(account: address) -> bool:
    """
    @notice Whether `account` is a member.
    @param account An account.
    @return True for a member.
    """
    return self._members[account] & _ACTIVE != 0


@external
@view
def shares_of(account: address) -> uint256:
    """
    @notice An account's shares (0 for a non-member).
    @param account An account.
    @return Shares.
    """
    return (self._members[account] >> 128) & _MASK64


@external
@view
def claimable(account: address) -> uint256:
    """
    @notice What `account` may claim now: its settled pay and its part of the payments
            split since (payments not yet split are not included).
    @param account An account.
    @return Token units.
    """
    record: uint256 = self._members[account]
    return (record & _MASK128) + ((record >> 128) & _MASK64) * (self.acc_per_share - self._snapshot[account])


@external
@view
def proposal(proposal_id: uint256) -> IGuild.Proposal:
    """
    @notice A proposal; all empty for an unknown id.
    @param proposal_id The proposal.
    @return The proposal.
    """
    return self._proposals[proposal_id]


@external
@view
def proposal_workers(proposal_id: uint256) -> DynArray[address, MAX_WORKERS]:
    """
    @notice The members a TAKE proposal names.
    @param proposal_id The proposal.
    @return The workers.
    """
    return self._workers[proposal_id]


@external
@view
def job_workers(job_id: uint256) -> DynArray[address, MAX_WORKERS]:
    """
    @notice The members named to do a job the guild took.
    @param job_id The job.
    @return The workers (empty for a job not taken).
    """
    return self._job_workers[job_id]


@external
@view
def attribution() -> IGuild.Attribution:
    """
    @notice Where the guild attests its workers' part in completed milestones.
    @return The JobAttester, the Attestations contract and the GuildWork schema uid (all empty: off).
    """
    return self._attribution


@external
@view
def proposal_evidence(proposal_id: uint256) -> DynArray[bytes32, MAX_EVIDENCE]:
    """
    @notice The evidence an ADMIT proposal's applicant gave.
    @param proposal_id The proposal.
    @return The evidence.
    """
    return self._evidence[proposal_id]


@external
@view
def meets_rule(account: address, evidence: DynArray[bytes32, MAX_EVIDENCE]) -> bool:
    """
    @notice Whether `account` meets the admission rule with `evidence` (a dry run).
    @param account An account.
    @param evidence Its evidence (see `propose_admission`).
    @return True when the rule is met.
    """
    return self._rule_met(account, evidence) == ""


# ------------------------------------------------------------------ internals


@internal
def _split() -> uint256:
    """
    @dev Adds what arrived since the last split to the accumulator; O(1).
    @return The amount that arrived.
    """
    pool: uint256 = self._pool
    tracked: uint256 = (pool >> 64) & _MASK128
    balance: uint256 = staticcall IERC20(TOKEN).balanceOf(self)
    if balance <= tracked:
        return 0
    assert balance <= _MASK128, "guild: balance too large"
    total: uint256 = pool & _MASK32
    amount: uint256 = balance - tracked + ((pool >> 32) & _MASK32)
    per_share: uint256 = amount // total
    carry: uint256 = amount % total
    self.acc_per_share += per_share
    self._pool = _MARKER | (balance << 64) | (carry << 32) | total
    log IGuild.PaymentSplit(amount=balance - tracked, per_share=per_share, carry=carry)
    return balance - tracked


@internal
def _settle(account: address) -> uint256:
    """
    @dev Moves an account's accrued pay into its credit at the current accumulator.
    @param account An account.
    @return Its member record after settling.
    """
    record: uint256 = self._members[account]
    acc: uint256 = self.acc_per_share
    due: uint256 = (record & _MASK128) + ((record >> 128) & _MASK64) * (acc - self._snapshot[account])
    record = (record & ~_MASK128) | due
    self._members[account] = record
    self._snapshot[account] = acc
    return record


@internal
def _admit(account: address, shares: uint256, proposal_id: uint256):
    """
    @dev Makes `account` a member with `shares`; `since` is the proposal count now, so it
         votes only on later proposals. Payments must be split before (callers do).
    @param account The new member (not a member now).
    @param shares Its shares.
    @param proposal_id The admitting proposal (0 for a founder).
    """
    assert account != empty(address), "guild: zero member"
    assert account != self, "guild: the guild cannot join itself"
    assert shares > 0, "guild: zero shares"
    record: uint256 = self._settle(account)
    assert record & _ACTIVE == 0, "guild: already a member"
    total: uint256 = (self._pool & _MASK32) + shares
    assert total < MAX_TOTAL_SHARES, "guild: too many shares"
    self._members[account] = _ACTIVE | (self.proposal_count << 192) | (shares << 128) | (record & _MASK128)
    self._pool = (self._pool & ~_MASK32) | total
    self.member_count += 1
    log IGuild.Joined(member=account, shares=shares, proposal_id=proposal_id)
    log IGuild.SharesChanged(member=account, shares=shares, total_shares=total)


@internal
def _set_shares(account: address, shares: uint256):
    """
    @dev Sets a member's shares after settling its pay at the old ones. When votes weigh
         shares, the member's `since` moves to now: it votes only on proposals made after, so
         no vote weighs more than the shares its proposal's total weight counted.
    @param account A member.
    @param shares Its new shares (1 or more).
    """
    record: uint256 = self._settle(account)
    old: uint256 = (record >> 128) & _MASK64
    total: uint256 = (self._pool & _MASK32) - old + shares
    assert total < MAX_TOTAL_SHARES, "guild: too many shares"
    record = (record & ~(_MASK64 << 128)) | (shares << 128)
    if BY_SHARES:
        record = (record & ~((_MASK64 >> 1) << 192)) | (self.proposal_count << 192)
    self._members[account] = record
    self._pool = (self._pool & ~_MASK32) | total
    log IGuild.SharesChanged(member=account, shares=shares, total_shares=total)


@internal
def _remove(account: address, kicked: bool):
    """
    @dev Ends a membership: payments so far split first, pay settled into credit, shares removed.
    @param account A member.
    @param kicked True for an expulsion (logged).
    """
    self._check_member(account)
    assert self.member_count > 1, "guild: the last member cannot leave"
    self._split()
    record: uint256 = self._settle(account)
    shares: uint256 = (record >> 128) & _MASK64
    self._members[account] = record & _MASK128
    self._pool = self._pool - shares
    self.member_count -= 1
    log IGuild.SharesChanged(member=account, shares=0, total_shares=self._pool & _MASK32)
    log IGuild.Left(member=account, kicked=kicked, credit=record & _MASK128)


@internal
def _propose(kind: uint8, subject: address, shares: uint256, job_id: uint256, digest: bytes32) -> uint256:
    """
    @dev Records a proposal by msg.sender, who may have one open proposal at a time.
    @param kind ADMIT, SHARES, KICK, TAKE or CALL.
    @param subject The account concerned (ADMIT, SHARES, KICK), else empty.
    @param shares The shares it gets (ADMIT, SHARES), else 0.
    @param job_id The job (TAKE), else 0.
    @param digest TAKE: the application's proposal hash; CALL: the calldata's hash.
    @return The proposal id.
    """
    previous: uint256 = self.latest_proposal[msg.sender]
    if previous != 0:
        last: IGuild.Proposal = self._proposals[previous]
        assert last.executed or block.timestamp > convert(last.deadline, uint256), "guild: proposer has an open proposal"
    weight: uint256 = self.member_count
    if BY_SHARES:
        weight = self._pool & _MASK32
    proposal_id: uint256 = self.proposal_count + 1
    self.proposal_count = proposal_id
    deadline: uint64 = convert(block.timestamp, uint64) + VOTING_PERIOD
    self._proposals[proposal_id] = IGuild.Proposal(
        kind=kind,
        proposer=msg.sender,
        subject=subject,
        shares=shares,
        job_id=job_id,
        digest=digest,
        deadline=deadline,
        weight=weight,
        votes_for=0,
        votes_against=0,
        executed=False,
    )
    self.latest_proposal[msg.sender] = proposal_id
    log IGuild.Proposed(
        proposal_id=proposal_id,
        kind=kind,
        proposer=msg.sender,
        subject=subject,
        shares=shares,
        job_id=job_id,
        digest=digest,
        deadline=deadline,
    )
    return proposal_id


@internal
def _passed(proposal_id: uint256) -> IGuild.Proposal:
    """
    @dev Checks that a member may execute the proposal now and marks it executed.
    @param proposal_id The proposal.
    @return The proposal.
    """
    self._check_member(msg.sender)
    p: IGuild.Proposal = self._proposals[proposal_id]
    assert p.kind != 0, "guild: unknown proposal"
    assert not p.executed, "guild: proposal executed"
    assert block.timestamp <= convert(p.deadline, uint256), "guild: proposal expired"
    assert p.votes_for * 2 > p.weight, "guild: proposal not passed"
    self._proposals[proposal_id].executed = True
    log IGuild.Executed(proposal_id=proposal_id)
    return p


@internal
@view
def _check_member(account: address):
    """
    @dev Reverts unless `account` is a member.
    @param account An account.
    """
    assert self._members[account] & _ACTIVE != 0, "guild: not a member"


@internal
@view
def _check_worker(job_id: uint256):
    """
    @dev Reverts unless the caller is a member named for the job.
    @param job_id The job.
    """
    assert self._members[msg.sender] & _ACTIVE != 0, "guild: not a member"
    assert self.is_worker[job_id][msg.sender], "guild: not named for this job"


@internal
@view
def _check_rule(account: address, evidence: DynArray[bytes32, MAX_EVIDENCE]):
    """
    @dev Reverts with the reason when `account` does not meet the rule with `evidence`.
    @param account An account.
    @param evidence Its evidence.
    """
    reason: String[64] = self._rule_met(account, evidence)
    assert reason == "", reason


@internal
@view
def _rule_met(account: address, evidence: DynArray[bytes32, MAX_EVIDENCE]) -> String[64]:
    """
    @dev Checks the admission rule.
    @param account An account.
    @param evidence BADGE: [token id]; CREDENTIAL: [attestation uid]; REPUTATION: uids, increasing.
    @return Empty when met, else why not.
    """
    rule: IGuild.Rule = self._rule
    if rule.kind == RULE_BADGE:
        if len(evidence) != 1:
            return "guild: give one badge"
        token_id: uint256 = convert(evidence[0], uint256)
        ok: bool = False
        answer: Bytes[32] = b""
        ok, answer = raw_call(
            rule.source,
            abi_encode(token_id, method_id=method_id("ownerOf(uint256)")),
            max_outsize=32,
            is_static_call=True,
            revert_on_failure=False,
        )
        if not ok or len(answer) != 32 or abi_decode(answer, address) != account:
            return "guild: badge not held"
        skill: String[64] = (staticcall Badges(rule.source).badge(token_id)).skill
        n: uint256 = len(rule.family)
        if len(skill) < n or slice(skill, 0, n) != rule.family:
            return "guild: badge outside the skill family"
        if len(skill) > n and slice(skill, n, 1) != "/":
            return "guild: badge outside the skill family"
        return ""
    if rule.kind == RULE_CREDENTIAL:
        if len(evidence) != 1:
            return "guild: give one credential"
        a: IAttestations.Attestation = staticcall IAttestations(rule.source).get_attestation(evidence[0])
        if a.uid == empty(bytes32) or a.recipient != account:
            return "guild: credential not for this account"
        if rule.schema != empty(bytes32) and a.schema != rule.schema:
            return "guild: credential of another schema"
        if a.revocationTime != 0:
            return "guild: credential revoked"
        if a.expirationTime != 0 and convert(a.expirationTime, uint256) <= block.timestamp:
            return "guild: credential expired"
        if not staticcall IIssuerRegistry(rule.authority).is_accredited(a.attester):
            return "guild: issuer not accredited"
        return ""
    # RULE_REPUTATION
    if len(evidence) < rule.threshold:
        return "guild: too few completed jobs"
    previous: uint256 = 0
    clients: DynArray[address, MAX_EVIDENCE] = []
    for uid: bytes32 in evidence:
        assert convert(uid, uint256) > previous, "guild: attestations not increasing"
        previous = convert(uid, uint256)
        a: IAttestations.Attestation = staticcall IAttestations(rule.source).get_attestation(uid)
        if a.schema != rule.schema or a.attester != rule.authority or a.recipient != account:
            return "guild: not a completed job of this account"
        if a.revocationTime != 0:
            return "guild: completed job revoked"
        # JobCompleted data: abi_encode(jobId, milestone, client, ...); one client counts once,
        # so a threshold of n takes n paying clients, not one client's n milestones
        if len(a.data) < 96:
            return "guild: not a completed job of this account"
        client: address = convert(convert(slice(a.data, 64, 32), uint256), address)
        if client in clients:
            return "guild: completed jobs of one client count once"
        clients.append(client)
    return ""
