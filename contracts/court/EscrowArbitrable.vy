# pragma version ~=0.4.3
"""
@title EscrowArbitrable
@custom:contract-name EscrowArbitrable
@license GNU Affero General Public License v3.0 only
@notice Makes JobEscrow milestones arbitrable by any ERC-792 arbitrator (proofwork's court,
        or any other by address). One deployment serves every job of one escrow with one
        arbitrator: a client who wants a job arbitrated creates it with this contract as
        its `arbiter`. Jobs whose arbiter delegates its disputes here (an oracle committee
        deployed with this contract as its `court()`, see IDelegatingArbiter.vyi) are
        taken to the same court: a challenged score goes to jurors, and the ruling is
        executed through the arbiter's `resolve_by_court`. The flow, as Kleros' arbitrable
        escrows run it:
        1. a party raises the dispute on the escrow (`raise_dispute`), then opens a case
           here (`open_case`), paying its arbitration fee and publishing the ERC-1497
           MetaEvidence (case id = meta-evidence id = evidence group id);
        2. the other party pays its fee (`pay_fee`) within FEE_TIMEOUT; the dispute is then
           created at the arbitrator (ERC-1497 Dispute). A party that does not pay in time
           loses by default: anyone calls `timeout_by_default`, the paying side's ruling is
           executed and every deposit is returned;
        3. until jurors are drawn, either party may `propose_settlement` a split and the
           other `accept_settlement` it: the milestone is resolved with that split and every
           deposit is returned (once the dispute is created, only with an arbitrator that
           lets its arbitrable withdraw a dispute before its draw, as proofwork's court does
           with `withdraw_dispute`; ERC-792 itself has no cancellation);
        4. the arbitrator `rule`s once; anyone then calls `execute_ruling` (once), which
           resolves the milestone on the escrow (see escrow_rulings.vy for the shares) and
           returns the fee reserve (see below);
        5. while the arbitrator's ruling is appealable, each party may `fund_appeal` its
           side once per round, paying its requirement at once: the appeal cost plus
           LOSER_MULTIPLIER (the loser of the current ruling: 2x the cost, in the first
           half of the appeal period only), WINNER_MULTIPLIER (the winner: 1.5x, until the
           period ends) or SHARED_MULTIPLIER (a ruling that splits half-half: 1.5x each,
           until the end) of it. When the second side has funded, the adapter appeals (the
           arbitrator draws a larger panel) and what is left of both deposits joins the
           case's reward pot. A side that funds alone wins by default: the ruling the
           arbitrator then gives is replaced by the one that gives that side the whole
           milestone (unless that ruling gives it more than half already: a winner that
           funds alone keeps its ruling), and its deposit is returned. If nobody funds,
           the ruling is final.
           When the case ends, the pot is shared like the fee reserve, in the ruling's
           proportion (two parties only: no third-party crowdfunding).
        Both parties may `submit_evidence` (ERC-1497 Evidence) while the case is open.
@dev Fees are paid in the job's ERC-20 token (never ether): the arbitrator's extra data is
     abi_encode(job token, milestone amount at opening, JURORS), so an arbitrator that
     prices small claims lower (proofwork's court does) sees the amount in dispute. Each
     party deposits the whole `arbitrationCost`; when both have, the adapter pays one cost to
     the arbitrator and keeps the other as the reserve. The reserve is shared like the
     milestone: each party gets back the share of the reserve the ruling gives it of the
     milestone (the winner of a full ruling gets its whole fee back, the loser's fee paid the
     arbitrator; a refusal or a split shares both costs in the ruling's proportion). If the
     cost rises while fees are being paid, the party already paid must top it up (and is
     given a new FEE_TIMEOUT); if it falls, the excess is returned when the dispute is
     created.
     Nothing stays frozen: a fee not paid ends the case at FEE_TIMEOUT; an arbitrator that
     never rules is overtaken by the escrow's own fallback (anyone may split a dispute in
     half once it is 30 days old, JobEscrow.ARBITRATION_TIMEOUT), after which
     `execute_ruling` closes the case without touching the escrow and returns the fees the
     adapter holds (deposits to their payers; a reserve half to each side, or as a ruling
     that arrives first says). A milestone the escrow settles otherwise while a case is
     open (the client approves it, a mutual cancellation) closes the same way. A ruling
     arriving after that is still accepted and recorded (an arbitrator is never blocked).
     Appeal funding (Kleros' two-sided funding, simplified to the two parties): the loser
     risks more (LOSER_MULTIPLIER) and must fund first, in the first half of the appeal
     period, so that the winner has the second half to answer. The second side's deposit
     alone covers the cost (every multiplier is >= 0), so an appeal is never short of
     funds even if `appealCost` moved between the two payments. The lone deposit of a
     round nobody answered stays here until the case ends and is then returned; the pot
     (both deposits minus the costs paid) is shared by the final ruling as the reserve is,
     the freelancer's share rounded down, the client getting the rest. Every deposit ends
     with its case, and a case ends through timeouts alone (the arbitrator's periods, the
     escrow's 30-day fallback, see below).
     Payments out of this contract that the token refuses (a blocklisted party) are
     credited and pulled with `withdraw`, as in the escrow. The arbitrator is trusted to
     pull exactly `arbitrationCost` / `appealCost` (what this contract approves), and to
     let only this contract appeal (proofwork's court does): one that lets anyone appeal
     lets a lone funder carry its deposit, and its default, into the next round.
     This contract declares no `challenge_window()`: disputes follow the job's review period.
     A delegated job's case must be opened early enough that its fee deadline falls within
     MAX_FEE_TIMEOUT of the dispute (with the default 2-day fee timeout: within 2 days), so
     that the case still ends inside the escrow's 30-day fallback; a disputed score nobody
     takes to court in time is settled by the committee's verdict.
"""

from ethereum.ercs import IERC20

from ..escrow import IJobEscrow
from ..escrow import milestone_status
from . import IArbitrable
from . import IArbitrator
from . import IDelegatingArbiter
from . import escrow_rulings

implements: IArbitrable


# Milestone statuses of JobEscrow (milestone_status.vy); PAID and above are terminal.
ESCROW_DISPUTED: constant(uint8) = milestone_status.DISPUTED
ESCROW_PAID: constant(uint8) = milestone_status.PAID

BPS: constant(uint256) = escrow_rulings.BPS
CHOICES: constant(uint256) = escrow_rulings.CHOICES
# Longest fee timeout a deployment may choose. The escrow splits a dispute in half 30 days
# after it was raised (JobEscrow.ARBITRATION_TIMEOUT) whatever the arbitrator does; the
# party that expects to lose pays its fee at the last second and every appeal is made at the
# last second of its round (the winner answering last), so the fee timeout plus the
# arbitrator's longest case must stay below 30
# days, or that party turns its loss into a half-half split. proofwork's court lasts at most
# 25 days (Court.MAX_CASE_DURATION): 4 days leave a day for the calls that advance a case.
MAX_FEE_TIMEOUT: constant(uint64) = 4 * 86_400
# Gas a delegating arbiter's `court()` answer may use (a hostile arbiter cannot make opening
# a case cost more).
COURT_QUERY_GAS: constant(uint256) = 50_000

# Case statuses (Case.status). 0: no such case.
WAITING_CLIENT: constant(uint8) = 1  # the freelancer has paid; the client must pay by fee_deadline
WAITING_FREELANCER: constant(uint8) = 2  # the client has paid; the freelancer must pay by fee_deadline
DISPUTED: constant(uint8) = 3  # created at the arbitrator, awaiting its ruling
RULED: constant(uint8) = 4  # ruled, awaiting `execute_ruling`
CLOSED: constant(uint8) = 5  # ended; nothing left in this contract for the case

# How a case ended (CaseClosed.reason).
BY_RULING: constant(uint8) = 0
BY_SETTLEMENT: constant(uint8) = 1
BY_DEFAULT: constant(uint8) = 2
BY_ESCROW: constant(uint8) = 3  # the escrow settled the milestone without this contract

# Appeal funding: what each side pays on top of the appeal cost, in basis points of it.
# The loser of the current ruling (2x the cost in all), funding in the first half of the period.
LOSER_MULTIPLIER: constant(uint256) = 10_000
# The winner of the current ruling (1.5x), until the period ends.
WINNER_MULTIPLIER: constant(uint256) = 5_000
# Each side when the current ruling splits half-half (a refusal, 50 %): 1.5x, until the end.
SHARED_MULTIPLIER: constant(uint256) = 5_000

# Packing of the case words (see the storage comments).
_M64: constant(uint256) = 2**64 - 1
_M96: constant(uint256) = 2**96 - 1
_M128: constant(uint256) = 2**128 - 1
_M160: constant(uint256) = 2**160 - 1
_STATUS_AT: constant(uint256) = 160
_DEADLINE_AT: constant(uint256) = 168
_RULED: constant(uint256) = 2**232
_PROPOSER_AT: constant(uint256) = 233
_BPS_AT: constant(uint256) = 160
_MILESTONE_AT: constant(uint256) = 174
_M192: constant(uint256) = 2**192 - 1
_ROUND_AT: constant(uint256) = 192


# One arbitration case: one disputed milestone of one job.
struct Case:
    job_id: uint256  # the escrow job
    milestone: uint256  # the disputed milestone's index
    client: address  # the job's client
    freelancer: address  # the job's freelancer
    token: address  # the job's token, in which fees are paid
    amount: uint256  # what was left of the milestone at opening (the amount in dispute)
    status: uint8  # see the case statuses above
    fee_deadline: uint64  # WAITING_*: last second the awaited party may pay its fee
    client_fee: uint256  # client's deposit; from DISPUTED on, the reserve (= freelancer_fee)
    freelancer_fee: uint256  # freelancer's deposit
    dispute_id: uint256  # the arbitrator's dispute id, from DISPUTED on
    ruled: bool  # the arbitrator has ruled
    ruling: uint256  # its ruling, once `ruled`
    settlement_proposer: address  # party with a pending settlement offer, or empty
    settlement_bps: uint256  # the freelancer's share in that offer, in basis points


event CaseOpened:
    case_id: indexed(uint256)
    job_id: indexed(uint256)
    milestone: uint256
    opener: indexed(address)


event FeePaid:
    case_id: indexed(uint256)
    party: indexed(address)
    amount: uint256


event HasToPayFee:
    case_id: indexed(uint256)
    party: indexed(address)
    deadline: uint64


event SettlementProposed:
    case_id: indexed(uint256)
    proposer: indexed(address)
    freelancer_bps: uint256


event AppealFunded:
    case_id: indexed(uint256)
    party: indexed(address)
    amount: uint256


event AppealFullyFunded:
    case_id: indexed(uint256)
    round: uint256  # appeals made through this adapter before this one (0: the first appeal)
    cost: uint256  # paid to the arbitrator out of the two deposits
    pot: uint256  # the case's reward pot after this appeal


event WonByAppealDefault:
    case_id: indexed(uint256)
    party: indexed(address)  # the side that alone funded the last appeal round
    arbitrator_ruling: uint256  # what the arbitrator ruled
    ruling: uint256  # what is recorded instead: that side gets the whole milestone (not
    # logged when the arbitrator's ruling already gave it more than half: that ruling stands)


event CaseClosed:
    case_id: indexed(uint256)
    reason: uint8
    freelancer_bps: uint256
    resolved: bool  # whether the milestone was resolved on the escrow by this call


event PaymentCredited:
    token: indexed(address)
    account: indexed(address)
    amount: uint256


event Withdrawn:
    token: indexed(address)
    account: indexed(address)
    amount: uint256


# @dev The escrow whose jobs this adapter arbitrates.
escrow: public(immutable(IJobEscrow))
# @dev The ERC-792 arbitrator that rules the cases.
arbitrator: public(immutable(IArbitrator))
# @dev Jurors asked for in the arbitrator's extra data (0: the arbitrator's default).
JURORS: public(immutable(uint256))
# @dev Seconds a party has to pay its arbitration fee once the other has paid.
FEE_TIMEOUT: public(immutable(uint64))

# @dev Per case (1 to case_count), packed into five words first written at opening (read
# with `cases`): client (bits 0-159), status (160-167), fee deadline (168-231), ruled (232),
# pending settlement proposer (233-234: 0 none, 1 client, 2 freelancer).
_head: HashMap[uint256, uint256]
# @dev Per case: freelancer (bits 0-159), settlement share in basis points (160-173),
# milestone (174-237).
_side: HashMap[uint256, uint256]
# @dev Per case: token (bits 0-159), escrow job id (160-255).
_job: HashMap[uint256, uint256]
# @dev Per case: client's deposit (bits 0-127), freelancer's deposit (128-255).
_fees: HashMap[uint256, uint256]
# @dev Per case: amount in dispute (bits 0-127), ruling (128-135).
_amount: HashMap[uint256, uint256]
# @dev Per case: the arbitrator's dispute id, from DISPUTED on.
_dispute: HashMap[uint256, uint256]
# @dev Per case, the current appeal round's deposits, each stored as deposit + 1 (0: that side
# has not funded this round): client (bits 0-127), freelancer (128-255). At most one side
# is ever set (the second funding appeals and clears the word); cleared when the case ends.
_appeal_paid: HashMap[uint256, uint256]
# @dev Per case: reward pot, what is left of the deposits of the appeals made (bits 0-191,
# cleared when shared at the end of the case); appeals made through this adapter (192-255).
_appeal_pot: HashMap[uint256, uint256]
# @dev Number of cases opened.
case_count: public(uint256)
# @dev Escrow job id -> milestone -> case id (0: none); a milestone has at most one case.
case_of: public(HashMap[uint256, HashMap[uint256, uint256]])
# @dev Arbitrator dispute id -> case id (0: none; case ids start at 1).
case_of_dispute: public(HashMap[uint256, uint256])
# @dev Payments the token refused to deliver, per token and account (pulled with `withdraw`).
claimable: public(HashMap[address, HashMap[address, uint256]])


@deploy
def __init__(escrow_: IJobEscrow, arbitrator_: IArbitrator, jurors_: uint256, fee_timeout_: uint64):
    """
    @notice Deploys an adapter for one escrow and one arbitrator.
    @param escrow_ The JobEscrow.
    @param arbitrator_ The ERC-792 arbitrator.
    @param jurors_ Jurors asked for in the extra data (0: the arbitrator's default).
    @param fee_timeout_ Seconds a party has to pay its fee (1 second to 4 days).
    """
    assert escrow_.address.is_contract, "adapter: escrow is not a contract"
    assert arbitrator_.address.is_contract, "adapter: arbitrator is not a contract"
    assert fee_timeout_ > 0 and fee_timeout_ <= MAX_FEE_TIMEOUT, "adapter: bad fee timeout"
    escrow = escrow_
    arbitrator = arbitrator_
    JURORS = jurors_
    FEE_TIMEOUT = fee_timeout_


@external
@nonreentrant
def open_case(job_id: uint256, job: IJobEscrow.Job, milestone: uint256, meta_evidence_uri: String[256]) -> uint256:
    """
    @notice A party of a job whose arbiter is this contract (or delegates its disputes to
            it) opens the case of a milestone it (or the other party) disputed on the
            escrow, and pays its arbitration fee
            (`arbitrationCost(extra_data(case))`, approved to this contract beforehand). The
            other party then has FEE_TIMEOUT to pay its own.
    @dev Emits ERC-1497 MetaEvidence with the case id as meta-evidence id.
    @param job_id The escrow job.
    @param job The job's current state.
    @param milestone The disputed milestone's index.
    @param meta_evidence_uri URI of the ERC-1497 meta-evidence JSON (spec, deliverable, terms).
    @return The case id.
    """
    self._check_job(job_id, job)
    delegated: bool = job.arbiter != self
    assert not delegated or self._delegates_here(job.arbiter), "adapter: not the job's arbiter"
    assert msg.sender == job.client or msg.sender == job.freelancer, "adapter: caller is not a party"
    assert milestone < len(job.milestones), "adapter: no such milestone"
    status: uint8 = job.milestones[milestone].status
    assert status < ESCROW_PAID, "adapter: milestone settled"
    assert status == ESCROW_DISPUTED, "adapter: milestone not disputed"
    if delegated:
        # dispute time + MAX_FEE_TIMEOUT >= now + FEE_TIMEOUT (see the contract's @dev)
        assert (
            convert(job.milestones[milestone].timestamp, uint256) + convert(MAX_FEE_TIMEOUT, uint256)
            >= block.timestamp + convert(FEE_TIMEOUT, uint256)
        ), "adapter: too late to open a case"
    assert self.case_of[job_id][milestone] == 0, "adapter: case already open"
    case_id: uint256 = self.case_count + 1
    self.case_count = case_id
    self.case_of[job_id][milestone] = case_id
    amount: uint256 = job.milestones[milestone].amount
    cost: uint256 = staticcall arbitrator.arbitrationCost(self._extra(job.token, amount))
    deadline: uint64 = convert(block.timestamp, uint64) + FEE_TIMEOUT
    waiting: uint8 = WAITING_FREELANCER
    other: address = job.freelancer
    if msg.sender == job.freelancer:
        waiting = WAITING_CLIENT
        other = job.client
    assert job_id <= _M96 and amount <= _M128 and cost <= _M128, "adapter: amount too large"
    self._head[case_id] = (
        convert(job.client, uint256)
        | (convert(waiting, uint256) << _STATUS_AT)
        | (convert(deadline, uint256) << _DEADLINE_AT)
    )
    self._side[case_id] = convert(job.freelancer, uint256) | (milestone << _MILESTONE_AT)
    self._job[case_id] = convert(job.token, uint256) | (job_id << 160)
    if waiting == WAITING_FREELANCER:
        self._fees[case_id] = cost
    else:
        self._fees[case_id] = cost << 128
    self._amount[case_id] = amount
    log IArbitrable.MetaEvidence(_metaEvidenceID=case_id, _evidence=meta_evidence_uri)
    log CaseOpened(case_id=case_id, job_id=job_id, milestone=milestone, opener=msg.sender)
    log FeePaid(case_id=case_id, party=msg.sender, amount=cost)
    log HasToPayFee(case_id=case_id, party=other, deadline=deadline)
    self._pull(job.token, msg.sender, cost)
    return case_id


@external
@nonreentrant
def pay_fee(case_id: uint256, job: IJobEscrow.Job):
    """
    @notice The awaited party pays its arbitration fee (or tops up its deposit if the cost
            rose), before its fee deadline. Once both deposits cover the current cost, the
            dispute is created at the arbitrator (ERC-1497 Dispute) and any excess returned;
            otherwise the other party must top up, within a new FEE_TIMEOUT.
    @dev Refused once the escrow has settled the milestone (the client approved it, a
         mutual cancellation, the escrow's fallback), as `open_case` refuses it: a dispute
         over nothing would cost both parties a fee. Anyone then closes the case with
         `execute_ruling`, every deposit returned.
    @param case_id The case.
    @param job The job's current state (checked against the escrow).
    """
    status: uint8 = self._status(case_id)
    assert status == WAITING_CLIENT or status == WAITING_FREELANCER, "adapter: fees not awaited"
    c: Case = self._load(case_id)
    self._check_party(c, msg.sender)
    client_turn: bool = status == WAITING_CLIENT
    assert (msg.sender == c.client) == client_turn, "adapter: fee already paid"
    assert convert(block.timestamp, uint64) <= c.fee_deadline, "adapter: fee timeout passed"
    assert not self._settled(c, job), "adapter: milestone settled"
    extra: Bytes[96] = self._extra(c.token, c.amount)
    cost: uint256 = staticcall arbitrator.arbitrationCost(extra)
    paid: uint256 = c.freelancer_fee
    other_paid: uint256 = c.client_fee
    if client_turn:
        paid = c.client_fee
        other_paid = c.freelancer_fee
    owed: uint256 = cost - min(paid, cost)
    log FeePaid(case_id=case_id, party=msg.sender, amount=owed)
    self._pull(c.token, msg.sender, owed)
    paid += owed
    if other_paid < cost:
        # the cost rose since the other side paid: it must top up now
        deadline: uint64 = convert(block.timestamp, uint64) + FEE_TIMEOUT
        assert paid <= _M128, "adapter: amount too large"
        head: uint256 = self._head[case_id] & ~((2**72 - 1) << _STATUS_AT)  # status and deadline
        head |= convert(deadline, uint256) << _DEADLINE_AT
        if client_turn:
            self._fees[case_id] = paid | (c.freelancer_fee << 128)
            self._head[case_id] = head | (convert(WAITING_FREELANCER, uint256) << _STATUS_AT)
            log HasToPayFee(case_id=case_id, party=c.freelancer, deadline=deadline)
        else:
            self._fees[case_id] = c.client_fee | (paid << 128)
            self._head[case_id] = head | (convert(WAITING_CLIENT, uint256) << _STATUS_AT)
            log HasToPayFee(case_id=case_id, party=c.client, deadline=deadline)
        return
    # both deposits cover the cost: one pays the arbitrator, the other is the reserve
    client_paid: uint256 = other_paid
    freelancer_paid: uint256 = paid
    if client_turn:
        client_paid = paid
        freelancer_paid = other_paid
    assert cost <= _M128, "adapter: amount too large"
    self._fees[case_id] = cost | (cost << 128)
    self._set_status(case_id, DISPUTED)
    self._send(c.token, c.client, client_paid - cost)
    self._send(c.token, c.freelancer, freelancer_paid - cost)
    if cost > 0:
        assert extcall IERC20(c.token).approve(arbitrator.address, cost, default_return_value=True), "adapter: approve failed"
    dispute_id: uint256 = extcall arbitrator.createDispute(CHOICES, extra)
    assert self.case_of_dispute[dispute_id] == 0, "adapter: dispute id reused"
    self._dispute[case_id] = dispute_id
    self.case_of_dispute[dispute_id] = case_id
    log IArbitrable.Dispute(
        _arbitrator=arbitrator.address, _disputeID=dispute_id, _metaEvidenceID=case_id, _evidenceGroupID=case_id
    )


@external
@nonreentrant
def timeout_by_default(case_id: uint256, job: IJobEscrow.Job):
    """
    @notice Once the awaited party's fee deadline has passed, anyone ends the case in favour
            of the party that paid: the milestone goes to it in full (unless the escrow
            already settled it), and every deposit is returned to its payer (no arbitration
            took place).
    @param case_id The case.
    @param job The job's current state.
    """
    status: uint8 = self._status(case_id)
    assert status == WAITING_CLIENT or status == WAITING_FREELANCER, "adapter: fees not awaited"
    c: Case = self._load(case_id)
    assert convert(block.timestamp, uint64) > c.fee_deadline, "adapter: fee timeout not over"
    bps: uint256 = BPS  # the client did not pay: the freelancer wins
    if status == WAITING_FREELANCER:
        bps = 0
    self._close(case_id, c, BY_DEFAULT, bps)
    resolved: bool = self._resolve(c, job, bps)
    log CaseClosed(case_id=case_id, reason=BY_DEFAULT, freelancer_bps=bps, resolved=resolved)
    self._send(c.token, c.client, c.client_fee)
    self._send(c.token, c.freelancer, c.freelancer_fee)


@external
@nonreentrant
def propose_settlement(case_id: uint256, freelancer_bps: uint256):
    """
    @notice Until jurors are drawn, a party offers to settle: the freelancer gets
            `freelancer_bps` of what is left of the milestone, the client the rest. A new
            offer replaces the pending one.
    @param case_id The case.
    @param freelancer_bps The freelancer's share, in basis points (0 to 10,000).
    """
    status: uint8 = self._status(case_id)
    assert status <= DISPUTED, "adapter: case ruled or closed"
    c: Case = self._load(case_id)
    self._check_party(c, msg.sender)
    assert freelancer_bps <= BPS, "adapter: share above 100 %"
    proposer: uint256 = 1
    if msg.sender != c.client:
        proposer = 2
    self._head[case_id] = (self._head[case_id] & ~(3 << _PROPOSER_AT)) | (proposer << _PROPOSER_AT)
    self._side[case_id] = (self._side[case_id] & ~((2**14 - 1) << _BPS_AT)) | (freelancer_bps << _BPS_AT)
    log SettlementProposed(case_id=case_id, proposer=msg.sender, freelancer_bps=freelancer_bps)


@external
@nonreentrant
def accept_settlement(case_id: uint256, job: IJobEscrow.Job, freelancer_bps: uint256):
    """
    @notice The other party accepts the pending settlement offer (restating its share, so a
            replaced offer is never accepted by mistake): the milestone is resolved with
            that split and every deposit is returned to its payer. Once the dispute is
            created, the arbitrator must first take it back (`withdraw_dispute`, before its
            draw) and refund its cost exactly; otherwise the acceptance is refused.
    @param case_id The case.
    @param job The job's current state.
    @param freelancer_bps The offer's share, as the caller read it.
    """
    status: uint8 = self._status(case_id)
    assert status <= DISPUTED, "adapter: case ruled or closed"
    c: Case = self._load(case_id)
    self._check_party(c, msg.sender)
    assert c.settlement_proposer != empty(address), "adapter: no settlement proposed"
    assert c.settlement_proposer != msg.sender, "adapter: own settlement offer"
    assert c.settlement_bps == freelancer_bps, "adapter: settlement differs"
    self._close(case_id, c, BY_SETTLEMENT, freelancer_bps)
    if status == DISPUTED:
        # the arbitrator holds one cost (the freelancer's deposit; the client's is the reserve)
        self._take_back(c)
    assert self._resolve(c, job, freelancer_bps), "adapter: milestone settled"
    log CaseClosed(case_id=case_id, reason=BY_SETTLEMENT, freelancer_bps=freelancer_bps, resolved=True)
    self._send(c.token, c.client, c.client_fee)
    self._send(c.token, c.freelancer, c.freelancer_fee)


@external
@nonreentrant
def submit_evidence(case_id: uint256, evidence_uri: String[256]):
    """
    @notice A party submits a piece of evidence (ERC-1497 Evidence, evidence group = case
            id) while the case is open.
    @param case_id The case.
    @param evidence_uri URI of the ERC-1497 evidence JSON.
    """
    status: uint8 = self._status(case_id)
    assert status < RULED, "adapter: case closed"
    self._check_party(self._load(case_id), msg.sender)
    log IArbitrable.Evidence(
        _arbitrator=arbitrator.address, _evidenceGroupID=case_id, _party=msg.sender, _evidence=evidence_uri
    )


@external
@nonreentrant
def fund_appeal(case_id: uint256):
    """
    @notice A party funds its side of an appeal of the arbitrator's current ruling, once
            per round, paying at once its requirement (`appeal_requirement`, approved to
            this contract beforehand): the loser of the current ruling in the first half of
            the appeal period, the winner (or either side of a half-half ruling) until it
            ends. When the second side has funded, the adapter appeals, paying the
            arbitrator's `appealCost` out of the two deposits; the rest joins the reward pot.
    @dev An arbitrator that allows no further appeal prices it at max_value (ERC-792 use,
         proofwork's court after its last round): refused here before any token moves. A
         side funding alone wins by default (see `rule`).
    @param case_id The case.
    """
    status: uint8 = self._status(case_id)
    assert status == DISPUTED, "adapter: no appealable dispute"
    c: Case = self._load(case_id)
    self._check_party(c, msg.sender)
    assert staticcall arbitrator.disputeStatus(c.dispute_id) == 1, "adapter: not appealable"
    client_side: bool = msg.sender == c.client
    cost: uint256 = 0
    required: uint256 = 0
    start: uint256 = 0
    side_end: uint256 = 0
    end: uint256 = 0
    cost, required, start, side_end, end = self._appeal_terms(c, client_side)
    assert cost != max_value(uint256), "adapter: no more appeals"
    assert block.timestamp >= start and block.timestamp < end, "adapter: appeal period over"
    assert block.timestamp < side_end, "adapter: loser funds in the first half"
    paid: uint256 = self._appeal_paid[case_id]
    mine: uint256 = paid >> 128
    other: uint256 = paid & _M128
    if client_side:
        mine = paid & _M128
        other = paid >> 128
    assert mine == 0, "adapter: side already funded"
    assert required < _M128, "adapter: amount too large"
    log AppealFunded(case_id=case_id, party=msg.sender, amount=required)
    if other == 0:
        # first side of the round: its deposit waits for the other side's answer
        if client_side:
            self._appeal_paid[case_id] = required + 1
        else:
            self._appeal_paid[case_id] = (required + 1) << 128
        self._pull(c.token, msg.sender, required)
        return
    # second side: both deposits (the second alone covers `cost`) pay the appeal
    word: uint256 = self._appeal_pot[case_id]
    appeals: uint256 = word >> _ROUND_AT
    pot: uint256 = (word & _M192) + (other - 1) + required - cost
    assert pot <= _M192, "adapter: amount too large"
    self._appeal_paid[case_id] = 0
    self._appeal_pot[case_id] = pot | ((appeals + 1) << _ROUND_AT)
    log AppealFullyFunded(case_id=case_id, round=appeals, cost=cost, pot=pot)
    self._pull(c.token, msg.sender, required)
    if cost > 0:
        assert extcall IERC20(c.token).approve(arbitrator.address, cost, default_return_value=True), "adapter: approve failed"
    extcall arbitrator.appeal(c.dispute_id, self._extra(c.token, c.amount))


@external
@nonreentrant
def rule(_disputeID: uint256, _ruling: uint256):
    """
    @notice ERC-792: the arbitrator gives its final ruling, once. It is recorded (and
            executed by `execute_ruling`); a ruling for a case the escrow already ended is
            recorded and changes nothing. If one side alone funded the last appeal round,
            that side wins by default: the ruling giving it the whole milestone
            (FREELANCER_WINS or CLIENT_WINS) is recorded and logged instead, unless the
            arbitrator's ruling gives that side more than half (a split's winner cannot turn
            it into a full win by funding alone at the end of the period, when the loser can
            no longer answer).
    @param _disputeID The arbitrator's dispute id.
    @param _ruling 0 (refuse to arbitrate) to 5, see escrow_rulings.vy.
    """
    assert msg.sender == arbitrator.address, "adapter: caller is not the arbitrator"
    case_id: uint256 = self.case_of_dispute[_disputeID]
    assert case_id != 0, "adapter: unknown dispute"
    head: uint256 = self._head[case_id]
    assert head & _RULED == 0, "adapter: already ruled"
    assert _ruling <= CHOICES, "adapter: invalid ruling"
    head |= _RULED
    ruling: uint256 = _ruling
    if convert((head >> _STATUS_AT) & 255, uint8) == DISPUTED:
        head = (head & ~(255 << _STATUS_AT)) | (convert(RULED, uint256) << _STATUS_AT)
        paid: uint256 = self._appeal_paid[case_id]
        if paid != 0:
            # one side alone funded the appeal (a second funding would have appealed): it wins
            # by default, unless the ruling already favours it (a winner keeps its ruling)
            other_bps: uint256 = escrow_rulings._freelancer_bps(_ruling)  # the other side's share
            winner: address = convert(convert(head & _M160, uint160), address)
            ruling = escrow_rulings.CLIENT_WINS
            if paid & _M128 == 0:
                winner = convert(convert(self._side[case_id] & _M160, uint160), address)
                ruling = escrow_rulings.FREELANCER_WINS
                other_bps = BPS - other_bps
            if other_bps < BPS // 2:
                ruling = _ruling
            else:
                log WonByAppealDefault(case_id=case_id, party=winner, arbitrator_ruling=_ruling, ruling=ruling)
    self._head[case_id] = head
    self._amount[case_id] = (self._amount[case_id] & _M128) | (ruling << 128)
    log IArbitrable.Ruling(_arbitrator=msg.sender, _disputeID=_disputeID, _ruling=ruling)


@external
@nonreentrant
def execute_ruling(case_id: uint256, job: IJobEscrow.Job):
    """
    @notice Anyone ends a ruled case, exactly once: the milestone is resolved on the escrow
            with the ruling's share of what is left of it, and the fee reserve and the
            appeal reward pot are shared in the same proportion (the freelancer's share
            rounded down); an appeal deposit no other side answered goes back to its payer.
            A case whose milestone the escrow already settled (the 30-day fallback against a
            silent arbitrator, the client's approval, a mutual cancellation) is closed here
            without touching the escrow, ruled or not: its deposits go back to their payers,
            a reserve and a pot are shared as the ruling says, or half each without a ruling.
    @param case_id The case.
    @param job The job's current state.
    """
    status: uint8 = self._status(case_id)
    assert status != CLOSED, "adapter: case closed"
    c: Case = self._load(case_id)
    if status == RULED:
        bps: uint256 = escrow_rulings._freelancer_bps(c.ruling)
        self._close(case_id, c, BY_RULING, bps)
        to_client: uint256 = 0
        to_freelancer: uint256 = 0
        to_client, to_freelancer = self._take_shares(case_id, c, bps)
        resolved: bool = self._resolve(c, job, bps)
        log CaseClosed(case_id=case_id, reason=BY_RULING, freelancer_bps=bps, resolved=resolved)
        self._send(c.token, c.client, to_client)
        self._send(c.token, c.freelancer, to_freelancer)
        return
    assert self._settled(c, job), "adapter: no ruling yet"
    if status == DISPUTED:
        self._close(case_id, c, BY_ESCROW, BPS // 2)
        to_client: uint256 = 0
        to_freelancer: uint256 = 0
        to_client, to_freelancer = self._take_shares(case_id, c, BPS // 2)
        log CaseClosed(case_id=case_id, reason=BY_ESCROW, freelancer_bps=BPS // 2, resolved=False)
        self._send(c.token, c.client, to_client)
        self._send(c.token, c.freelancer, to_freelancer)
        return
    # fees were still being paid: every deposit goes back to its payer
    self._close(case_id, c, BY_ESCROW, BPS // 2)
    log CaseClosed(case_id=case_id, reason=BY_ESCROW, freelancer_bps=BPS // 2, resolved=False)
    self._send(c.token, c.client, c.client_fee)
    self._send(c.token, c.freelancer, c.freelancer_fee)


@external
@nonreentrant
def withdraw(token: address) -> uint256:
    """
    @notice Sends the caller the refunds of `token` this contract could not deliver when
            they were due (`claimable(token, account)`).
    @param token The token.
    @return The amount sent.
    """
    amount: uint256 = self.claimable[token][msg.sender]
    assert amount > 0, "adapter: nothing to withdraw"
    self.claimable[token][msg.sender] = 0
    log Withdrawn(token=token, account=msg.sender, amount=amount)
    assert extcall IERC20(token).transfer(msg.sender, amount, default_return_value=True), "adapter: transfer failed"
    return amount


@external
@view
def extra_data(case_id: uint256) -> Bytes[96]:
    """
    @notice The arbitrator extra data of a case: abi_encode(token, amount in dispute, JURORS).
    @param case_id The case.
    @return The 96 bytes passed to `arbitrationCost`, `createDispute`, `appealCost` and `appeal`.
    """
    return self._extra(self._token(case_id), self._amount[case_id] & _M128)


@external
@view
def fee_due(case_id: uint256) -> uint256:
    """
    @notice What the awaited party of a case must still pay now (0 when no fee is awaited).
    @param case_id The case.
    @return Token units to approve to this contract before `pay_fee`.
    """
    c: Case = self._load(case_id)
    if c.status != WAITING_CLIENT and c.status != WAITING_FREELANCER:
        return 0
    cost: uint256 = staticcall arbitrator.arbitrationCost(self._extra(c.token, c.amount))
    paid: uint256 = c.freelancer_fee
    if c.status == WAITING_CLIENT:
        paid = c.client_fee
    return cost - min(paid, cost)


@external
@view
def appeal_funding(case_id: uint256) -> (uint256, uint256, uint256, uint256, bool, bool):
    """
    @notice The appeal funding of a case: appeals made through this adapter, what each side
            has deposited in the current round (and whether it has funded: a zero-cost
            appeal deposits nothing), and the reward pot to be shared when the case ends.
    @param case_id The case.
    @return (appeals made, client's deposit, freelancer's deposit, pot, client funded,
            freelancer funded).
    """
    paid: uint256 = self._appeal_paid[case_id]
    word: uint256 = self._appeal_pot[case_id]
    client_paid: uint256 = paid & _M128
    freelancer_paid: uint256 = paid >> 128
    return (
        word >> _ROUND_AT,
        client_paid - min(client_paid, 1),
        freelancer_paid - min(freelancer_paid, 1),
        word & _M192,
        client_paid != 0,
        freelancer_paid != 0,
    )


@external
@view
def appeal_requirement(case_id: uint256, party: address) -> uint256:
    """
    @notice What `party` must pay now to fund its side of an appeal: the arbitrator's
            `appealCost` plus its multiplier (the loser of the current ruling 2x in all, the
            winner or either side of a half-half ruling 1.5x). Meaningful during the appeal
            period; 0 for a case not awaiting a ruling; max_value when no appeal is possible.
    @param case_id The case.
    @param party The client or the freelancer of the case.
    @return Token units to approve to this contract before `fund_appeal`.
    """
    if self._status(case_id) != DISPUTED:
        return 0
    c: Case = self._load(case_id)
    self._check_party(c, party)
    cost: uint256 = 0
    required: uint256 = 0
    start: uint256 = 0
    side_end: uint256 = 0
    end: uint256 = 0
    cost, required, start, side_end, end = self._appeal_terms(c, party == c.client)
    return required


@external
@view
def appeal_window(case_id: uint256, party: address) -> (uint256, uint256):
    """
    @notice When `party` may fund its side of the current appeal: [start, end), end being
            the middle of the arbitrator's appeal period for the loser of the current
            ruling, its end otherwise; (0, 0) when no appeal period is open.
    @param case_id The case.
    @param party The client or the freelancer of the case.
    @return (start, end) in unix seconds.
    """
    if self._status(case_id) != DISPUTED:
        return 0, 0
    c: Case = self._load(case_id)
    self._check_party(c, party)
    cost: uint256 = 0
    required: uint256 = 0
    start: uint256 = 0
    side_end: uint256 = 0
    end: uint256 = 0
    cost, required, start, side_end, end = self._appeal_terms(c, party == c.client)
    return start, side_end


@external
@view
def cases(arg0: uint256) -> Case:
    """
    @notice A case (all fields zero for an unknown one).
    @param arg0 The case id.
    @return The case.
    """
    return self._load(arg0)


@internal
@view
def _load(case_id: uint256) -> Case:
    """
    @dev Unpacks a case from its storage words.
    @param case_id The case.
    @return The case.
    """
    head: uint256 = self._head[case_id]
    side: uint256 = self._side[case_id]
    job: uint256 = self._job[case_id]
    fees: uint256 = self._fees[case_id]
    amount: uint256 = self._amount[case_id]
    client: address = convert(convert(head & _M160, uint160), address)
    freelancer: address = convert(convert(side & _M160, uint160), address)
    proposer: address = empty(address)
    who: uint256 = (head >> _PROPOSER_AT) & 3
    if who == 1:
        proposer = client
    elif who == 2:
        proposer = freelancer
    return Case(
        job_id=job >> 160,
        milestone=(side >> _MILESTONE_AT) & _M64,
        client=client,
        freelancer=freelancer,
        token=convert(convert(job & _M160, uint160), address),
        amount=amount & _M128,
        status=convert((head >> _STATUS_AT) & 255, uint8),
        fee_deadline=convert((head >> _DEADLINE_AT) & _M64, uint64),
        client_fee=fees & _M128,
        freelancer_fee=fees >> 128,
        dispute_id=self._dispute[case_id],
        ruled=head & _RULED != 0,
        ruling=(amount >> 128) & 255,
        settlement_proposer=proposer,
        settlement_bps=(side >> _BPS_AT) & (2**14 - 1),
    )


@internal
@view
def _token(case_id: uint256) -> address:
    """
    @dev A case's token.
    @param case_id The case.
    @return The job's token.
    """
    return convert(convert(self._job[case_id] & _M160, uint160), address)


@internal
def _set_status(case_id: uint256, status: uint8):
    """
    @dev Stores a case's status.
    @param case_id The case.
    @param status The new status.
    """
    head: uint256 = self._head[case_id] & ~(255 << _STATUS_AT)
    self._head[case_id] = head | (convert(status, uint256) << _STATUS_AT)


@internal
@view
def _extra(token: address, amount: uint256) -> Bytes[96]:
    """
    @dev The arbitrator extra data: abi_encode(fee token, amount in dispute, jurors).
    @param token The job's token.
    @param amount The amount in dispute.
    @return 96 bytes.
    """
    return abi_encode(token, amount, JURORS)


@internal
@view
def _status(case_id: uint256) -> uint8:
    """
    @dev A known case's status.
    @param case_id The case.
    @return Its status (never 0).
    """
    status: uint8 = convert((self._head[case_id] >> _STATUS_AT) & 255, uint8)
    assert status != 0, "adapter: unknown case"
    return status


@internal
@pure
def _check_party(c: Case, account: address):
    """
    @dev `account` must be the case's client or freelancer.
    @param c The case.
    @param account The caller.
    """
    assert account == c.client or account == c.freelancer, "adapter: caller is not a party"


@internal
@view
def _check_job(job_id: uint256, job: IJobEscrow.Job):
    """
    @dev The passed job state must be the escrow's current one.
    @param job_id The escrow job.
    @param job The state the caller passed.
    """
    stored: bytes32 = staticcall escrow.job_state(job_id)
    assert stored != empty(bytes32), "adapter: unknown job"
    assert keccak256(abi_encode(job)) == stored, "adapter: stale job state"


@internal
@view
def _settled(c: Case, job: IJobEscrow.Job) -> bool:
    """
    @dev Whether the escrow has already settled the case's milestone (terminal status).
    @param c The case.
    @param job The job's current state (checked).
    @return True once nothing is left in the milestone to resolve.
    """
    self._check_job(c.job_id, job)
    return job.milestones[c.milestone].status >= ESCROW_PAID


@internal
def _resolve(c: Case, job: IJobEscrow.Job, bps: uint256) -> bool:
    """
    @dev Resolves the case's milestone on the escrow, `bps` of what is left of it to the
         freelancer, unless the escrow already settled it: directly when this contract is
         the job's arbiter, else through the delegating arbiter's `resolve_by_court`.
    @param c The case.
    @param job The job's current state (checked here and by the escrow).
    @param bps The freelancer's share in basis points.
    @return Whether the milestone was resolved by this call.
    """
    if self._settled(c, job):
        return False
    share: uint256 = job.milestones[c.milestone].amount * bps // BPS
    if job.arbiter == self:
        extcall escrow.resolve(c.job_id, job, c.milestone, share)
    else:
        extcall IDelegatingArbiter(job.arbiter).resolve_by_court(c.job_id, job, c.milestone, share)
    return True


@internal
def _take_back(c: Case):
    """
    @dev Asks the arbitrator to withdraw the case's dispute (`withdraw_dispute(uint256)`, an
         extension of ERC-792) and checks that it refunded exactly the cost it was paid.
    @param c The case, disputed.
    """
    before: uint256 = staticcall IERC20(c.token).balanceOf(self)
    ok: bool = raw_call(
        arbitrator.address,
        abi_encode(c.dispute_id, method_id=method_id("withdraw_dispute(uint256)")),
        revert_on_failure=False,
    )
    assert ok, "adapter: too late to settle"
    assert staticcall IERC20(c.token).balanceOf(self) == before + c.freelancer_fee, "adapter: refund differs"


@internal
@view
def _delegates_here(arbiter: address) -> bool:
    """
    @dev Whether a job's arbiter names this contract as its court (`court()`); an arbiter
         without that function, or a hostile one, answers no within COURT_QUERY_GAS.
    @param arbiter The job's arbiter.
    @return True when `court()` returned this contract's address.
    """
    if not arbiter.is_contract:
        return False
    ok: bool = False
    answer: Bytes[32] = b""
    ok, answer = raw_call(
        arbiter,
        method_id("court()"),
        max_outsize=32,
        gas=COURT_QUERY_GAS,
        is_static_call=True,
        revert_on_failure=False,
    )
    return ok and len(answer) == 32 and convert(answer, uint256) == convert(self, uint256)


@internal
def _close(case_id: uint256, c: Case, reason: uint8, bps: uint256):
    """
    @dev Marks a case closed (before any external call) and clears its settlement offer.
    @param case_id The case.
    @param c The case as read before (unchanged).
    @param reason How it ended (for the record; logged by the caller).
    @param bps The freelancer's share it ended with (idem).
    """
    head: uint256 = self._head[case_id] & ~((255 << _STATUS_AT) | (3 << _PROPOSER_AT))
    self._head[case_id] = head | (convert(CLOSED, uint256) << _STATUS_AT)


@internal
@view
def _appeal_terms(c: Case, client_side: bool) -> (uint256, uint256, uint256, uint256, uint256):
    """
    @dev The appeal terms of one side of a disputed case, as the arbitrator states them now.
    @param c The case.
    @param client_side Whether the side is the client's (else the freelancer's).
    @return (appeal cost, the side's requirement (max_value with the cost), start of the
            appeal period, the side's end (the middle of the period for the loser of the
            current ruling), end of the period).
    """
    start: uint256 = 0
    end: uint256 = 0
    start, end = staticcall arbitrator.appealPeriod(c.dispute_id)
    cost: uint256 = staticcall arbitrator.appealCost(c.dispute_id, self._extra(c.token, c.amount))
    bps: uint256 = escrow_rulings._freelancer_bps(staticcall arbitrator.currentRuling(c.dispute_id))
    multiplier: uint256 = SHARED_MULTIPLIER
    side_end: uint256 = end
    if bps != BPS // 2:
        if (bps > BPS // 2) == client_side:
            multiplier = LOSER_MULTIPLIER
            side_end = start + (end - min(end, start)) // 2
        else:
            multiplier = WINNER_MULTIPLIER
    if cost == max_value(uint256):
        return cost, cost, start, side_end, end
    return cost, cost + cost * multiplier // BPS, start, side_end, end


@internal
def _take_shares(case_id: uint256, c: Case, bps: uint256) -> (uint256, uint256):
    """
    @dev What an ending disputed case returns to each party, its appeal storage cleared
         (before any external call): the fee reserve (one arbitration cost, held in
         `client_fee`) plus the appeal reward pot, `bps` of it to the freelancer rounded
         down and the rest to the client, plus a lone appeal deposit to its payer.
    @param case_id The case.
    @param c The case.
    @param bps The freelancer's share in basis points.
    @return (to the client, to the freelancer).
    """
    word: uint256 = self._appeal_pot[case_id]
    paid: uint256 = self._appeal_paid[case_id]
    shared: uint256 = c.client_fee + (word & _M192)
    to_freelancer: uint256 = shared * bps // BPS
    to_client: uint256 = shared - to_freelancer
    if paid != 0:
        self._appeal_paid[case_id] = 0
        to_client += (paid & _M128) - min(paid & _M128, 1)
        to_freelancer += (paid >> 128) - min(paid >> 128, 1)
    if word & _M192 != 0:
        self._appeal_pot[case_id] = word & ~_M192
    return to_client, to_freelancer


@internal
def _pull(token: address, payer: address, amount: uint256):
    """
    @dev Pulls `amount` of `token` from `payer` (approved beforehand); nothing for zero.
    @param token The ERC-20.
    @param payer The paying party.
    @param amount The amount.
    """
    if amount == 0:
        return
    assert extcall IERC20(token).transferFrom(payer, self, amount, default_return_value=True), "adapter: fee transfer failed"


@internal
def _send(token: address, to: address, amount: uint256):
    """
    @dev Pays `amount` of `token` to `to` (nothing for zero); a payment the token refuses
         (reverts, runs out of gas or returns False) is credited to `to`, who pulls it with
         `withdraw`: no party can block the other's refund or the end of a case.
    @param token The ERC-20.
    @param to The receiver.
    @param amount The amount.
    """
    if amount == 0:
        return
    ok: bool = False
    answer: Bytes[32] = b""
    ok, answer = raw_call(
        token,
        abi_encode(to, amount, method_id=method_id("transfer(address,uint256)")),
        max_outsize=32,
        revert_on_failure=False,
    )
    if ok and (len(answer) == 0 or convert(answer, uint256) != 0):
        return
    self.claimable[token][to] += amount
    log PaymentCredited(token=token, account=to, amount=amount)
