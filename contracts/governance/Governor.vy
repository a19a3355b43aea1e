# pragma version ~=0.4.3
"""
@title Governor
@custom:contract-name Governor
@license GNU Affero General Public License v3.0 only
@notice The proofwork DAO: holders of PWK (ERC-5805 votes, delegated) propose
        batches of calls, vote for, against or abstain, and a proposal that
        passes is queued into the Timelock and, once its delay is over, executed
        through it. The Timelock owns the platform's levers, so a passed proposal
        is the only way to move them.
        Life of a proposal (block numbers, the token's ERC-6372 clock):
        - `propose` by an account with at least `proposalThreshold()` votes at the
          previous block; its votes are counted at the snapshot block
          `clock + votingDelay()`, so tokens bought or borrowed after the proposal
          is made never vote on it;
        - votes from the block after the snapshot to the deadline
          `snapshot + votingPeriod()` inclusive: `castVote`, or `castVoteBySig`
          (an EIP-712 Ballot signed by the voter, relayed by anyone, so holders
          vote without gas); one vote per account, its weight the account's
          delegated votes at the snapshot;
        - it passes when for > against and for + abstain reach the quorum,
          `quorumBps()` of the total supply at the snapshot;
        - `queue` (anyone) schedules it in the Timelock; `execute` (anyone) runs it
          there after the Timelock's delay, which refuses anything it has not
          scheduled (a defeated proposal) or whose delay is not over; the proposer may `cancel` it before
          voting starts.
@dev OpenZeppelin Governor's model (GovernorCountingSimple, GovernorVotes,
     GovernorVotesQuorumFraction, GovernorTimelockControl), laid out for gas:
     - a proposal is stored as one word: snapshot (48 bits) | deadline (48) |
       sequence number (40) | flags (8) | for votes (112); against and abstain
       share a second word written only when such a vote comes. Its calls are
       not stored: the id is their hash, keccak256(abi_encode(proposer, targets,
       values, calldatas, keccak256(description))), and `execute` and `cancel`
       take them again (`ProposalCreated` carries them). Queued is the
       Timelock's record: `queue` schedules the id there (as Compound's
       GovernorBravo, by id), `execute` passes the calls the id hashes. The proposer is part of
       the id, so nobody can front-run a proposal's id, and `cancel` needs no
       stored proposer: it hashes with `msg.sender`.
     - whether an account voted is one bit of a per-account bitmap indexed by the
       proposal's sequence number: an account that voted on any of the same 256
       proposals writes to a word already in use.
     - parameters (delay, period, quorum fraction, threshold) are immutables; to
       change them a proposal installs a new governor (`Timelock.set_governor`).
     Votes are at most 2**112 - 1 per tally: the constructor checks the token's
     supply (PWK's is fixed). Signatures: EOA only (ecrecover, low-s); a Ballot has
     no nonce because an account votes once per proposal anyway, and it names
     its proposal and, through the EIP-712 domain, this contract and chain.
"""

from snekmate.utils import eip712_domain_separator

from . import IGovernor
from . import ITimelock

implements: IGovernor

initializes: eip712_domain_separator

exports: eip712_domain_separator.eip712Domain


interface IVotes:
    def getPastVotes(account: address, timepoint: uint256) -> uint256: view
    def getPastTotalSupply(timepoint: uint256) -> uint256: view
    def totalSupply() -> uint256: view
    def CLOCK_MODE() -> String[32]: view


# @dev Most calls in one proposal (the Timelock's bound).
MAX_CALLS: constant(uint256) = 8

# @dev Longest calldata of one call, in bytes (the Timelock's bound).
MAX_CALLDATA: constant(uint256) = 1_024

# @dev Longest description, in bytes.
MAX_DESCRIPTION: constant(uint256) = 2_048

# @dev Basis points in one.
BPS: constant(uint256) = 10_000

# Proposal states, numbered as OpenZeppelin's IGovernor.ProposalState (6, Expired, is never used).
PENDING: constant(uint8) = 0
ACTIVE: constant(uint8) = 1
CANCELED: constant(uint8) = 2
DEFEATED: constant(uint8) = 3
SUCCEEDED: constant(uint8) = 4
QUEUED: constant(uint8) = 5
EXECUTED: constant(uint8) = 7

# Vote types (GovernorCountingSimple).
VOTE_AGAINST: constant(uint8) = 0
VOTE_FOR: constant(uint8) = 1
VOTE_ABSTAIN: constant(uint8) = 2

# Layout of a proposal's word.
_MASK48: constant(uint256) = 2**48 - 1
_MASK40: constant(uint256) = 2**40 - 1
_DEADLINE_SHIFT: constant(uint256) = 48
_SEQ_SHIFT: constant(uint256) = 96
_FLAGS_SHIFT: constant(uint256) = 136
_FOR_SHIFT: constant(uint256) = 144
_FLAG_CANCELED: constant(uint256) = 1 << _FLAGS_SHIFT
_FLAG_EXECUTED: constant(uint256) = 4 << _FLAGS_SHIFT

# @dev Largest tally: for votes live in the top 112 bits of the proposal's word.
MAX_TALLY: constant(uint256) = 2**112 - 1

# @dev Against votes: the low 128 bits of the second word; abstain votes the high ones.
_MASK128: constant(uint256) = 2**128 - 1

# @dev EIP-712 type hash of a vote by signature.
BALLOT_TYPEHASH: constant(bytes32) = keccak256("Ballot(uint256 proposalId,uint8 support,address voter)")

# @dev secp256k1 n / 2: signatures with a larger `s` are malleable copies, refused.
_MALLEABILITY_THRESHOLD: constant(uint256) = (
    57896044618658097711785492504343953926418782139537452191302581570759080747168
)


event ProposalCreated:
    proposal_id: indexed(uint256)
    proposer: indexed(address)
    targets: DynArray[address, MAX_CALLS]
    values: DynArray[uint256, MAX_CALLS]
    calldatas: DynArray[Bytes[MAX_CALLDATA], MAX_CALLS]
    vote_start: uint256
    vote_end: uint256
    description: String[MAX_DESCRIPTION]


event VoteCast:
    voter: indexed(address)
    proposal_id: indexed(uint256)
    support: uint8
    weight: uint256


event ProposalQueued:
    proposal_id: indexed(uint256)
    eta: uint256


event ProposalExecuted:
    proposal_id: indexed(uint256)


event ProposalCanceled:
    proposal_id: indexed(uint256)


# @dev The ERC-5805 votes token (PWK).
TOKEN: immutable(IVotes)

# @dev The Timelock that runs passed proposals and owns the levers.
TIMELOCK: immutable(ITimelock)

# @dev Blocks between a proposal and its snapshot (at least 1).
VOTING_DELAY: immutable(uint256)

# @dev Blocks of voting after the snapshot.
VOTING_PERIOD: immutable(uint256)

# @dev Quorum as basis points of the total supply at the snapshot.
QUORUM_BPS: immutable(uint256)

# @dev Votes an account needs (at the previous block) to propose.
PROPOSAL_THRESHOLD: immutable(uint256)

# @dev Each proposal's packed word (see the layout above); 0 for unknown ids.
_proposals: HashMap[uint256, uint256]

# @dev Each proposal's against (low 128 bits) and abstain (high 128 bits) votes.
_tallies: HashMap[uint256, uint256]

# @dev Who voted: account -> sequence number // 256 -> bit (sequence number % 256).
_voted: HashMap[address, HashMap[uint256, uint256]]

# @dev The next proposal's sequence number (the first is 1: the word is never written from zero).
next_sequence: public(uint256)


@deploy
def __init__(
    token_: IVotes,
    timelock_: ITimelock,
    voting_delay_: uint256,
    voting_period_: uint256,
    quorum_bps_: uint256,
    proposal_threshold_: uint256,
):
    """
    @notice Deploys the governor of `timelock_` over the votes of `token_`.
    @dev The Timelock's admin then names this contract its governor.
    @param token_ The ERC-5805 token, its clock block numbers (so this contract
           reads `block.number` instead of calling it), supply below 2**112.
    @param timelock_ The Timelock.
    @param voting_delay_ Blocks from a proposal to its snapshot (1 to 2**32).
    @param voting_period_ Blocks of voting (1 to 2**32).
    @param quorum_bps_ Quorum in basis points of the supply at the snapshot (1 to 10,000).
    @param proposal_threshold_ Votes needed to propose (may be 0).
    """
    assert token_.address.is_contract and timelock_.address.is_contract, "governor: not a contract"
    assert voting_delay_ > 0 and voting_delay_ <= 2**32, "governor: bad voting delay"
    assert voting_period_ > 0 and voting_period_ <= 2**32, "governor: bad voting period"
    assert quorum_bps_ > 0 and quorum_bps_ <= BPS, "governor: bad quorum"
    assert staticcall token_.totalSupply() <= MAX_TALLY, "governor: supply too large"
    assert staticcall token_.CLOCK_MODE() == "mode=blocknumber&from=default", "governor: token clock is not block numbers"
    eip712_domain_separator.__init__("proofwork Governor", "1")
    TOKEN = token_
    TIMELOCK = timelock_
    VOTING_DELAY = voting_delay_
    VOTING_PERIOD = voting_period_
    QUORUM_BPS = quorum_bps_
    PROPOSAL_THRESHOLD = proposal_threshold_
    self.next_sequence = 1


# --------------------------------------------------------------------------- proposals


@external
def propose(
    targets: DynArray[address, MAX_CALLS],
    values: DynArray[uint256, MAX_CALLS],
    calldatas: DynArray[Bytes[MAX_CALLDATA], MAX_CALLS],
    description: String[MAX_DESCRIPTION],
) -> uint256:
    """
    @notice Proposes a batch of calls, run by the Timelock if the proposal passes.
    @param targets The contracts called, in order (1 to 8).
    @param values Wei the Timelock sends with each call.
    @param calldatas Each call's calldata.
    @param description What the proposal does, in words.
    @return The proposal id.
    """
    n: uint256 = len(targets)
    assert n > 0, "governor: empty proposal"
    assert len(values) == n and len(calldatas) == n, "governor: length mismatch"
    now: uint256 = block.number
    if PROPOSAL_THRESHOLD > 0:
        votes: uint256 = staticcall TOKEN.getPastVotes(msg.sender, now - 1)
        assert votes >= PROPOSAL_THRESHOLD, "governor: votes below the proposal threshold"
    proposal_id: uint256 = convert(keccak256(abi_encode(msg.sender, targets, values, calldatas, keccak256(description))), uint256)
    assert self._proposals[proposal_id] == 0, "governor: proposal already exists"
    snapshot: uint256 = now + VOTING_DELAY
    deadline: uint256 = snapshot + VOTING_PERIOD
    seq: uint256 = self.next_sequence
    self.next_sequence = seq + 1
    self._proposals[proposal_id] = snapshot | (deadline << _DEADLINE_SHIFT) | ((seq & _MASK40) << _SEQ_SHIFT)
    log ProposalCreated(
        proposal_id=proposal_id,
        proposer=msg.sender,
        targets=targets,
        values=values,
        calldatas=calldatas,
        vote_start=snapshot,
        vote_end=deadline,
        description=description,
    )
    return proposal_id


@external
def castVote(proposal_id: uint256, support: uint8) -> uint256:
    """
    @notice Votes on an active proposal with the caller's votes at its snapshot.
    @param proposal_id The proposal.
    @param support 0 against, 1 for, 2 abstain.
    @return The weight counted.
    """
    return self._vote(proposal_id, msg.sender, support)


@external
def castVoteBySig(proposal_id: uint256, support: uint8, voter: address, v: uint8, r: bytes32, s: bytes32) -> uint256:
    """
    @notice Counts the vote `voter` signed (EIP-712 Ballot(uint256 proposalId,
            uint8 support,address voter)); anyone may send it.
    @param proposal_id The proposal.
    @param support 0 against, 1 for, 2 abstain.
    @param voter The signer, who votes.
    @param v The signature's recovery id (27 or 28).
    @param r The signature's r.
    @param s The signature's s (lower half of the curve order).
    @return The weight counted.
    """
    assert convert(s, uint256) <= _MALLEABILITY_THRESHOLD, "governor: invalid signature"
    digest: bytes32 = eip712_domain_separator._hash_typed_data_v4(
        keccak256(abi_encode(BALLOT_TYPEHASH, proposal_id, support, voter))
    )
    signer: address = ecrecover(digest, v, r, s)
    assert signer == voter and signer != empty(address), "governor: invalid signature"
    return self._vote(proposal_id, voter, support)


@external
def queue(proposal_id: uint256) -> uint256:
    """
    @notice Schedules a passed proposal in the Timelock; anyone may call it, once.
    @param proposal_id The proposal.
    @return The time from which it can be executed.
    """
    p: uint256 = self._proposals[proposal_id]
    assert p != 0, "governor: unknown proposal"
    assert self._outcome(proposal_id, p) == SUCCEEDED, "governor: proposal has not passed"
    eta: uint256 = extcall TIMELOCK.schedule(convert(proposal_id, bytes32))
    log ProposalQueued(proposal_id=proposal_id, eta=eta)
    return eta


@external
@payable
def execute(
    proposer: address,
    targets: DynArray[address, MAX_CALLS],
    values: DynArray[uint256, MAX_CALLS],
    calldatas: DynArray[Bytes[MAX_CALLDATA], MAX_CALLS],
    description_hash: bytes32,
) -> uint256:
    """
    @notice Runs a queued proposal through the Timelock once its delay is over;
            anyone may call it (ether sent goes on to the Timelock).
    @dev The Timelock refuses an id it has not scheduled or whose delay is not over.
    @param proposer The proposal's proposer.
    @param targets The proposal's targets.
    @param values The proposal's values.
    @param calldatas The proposal's calldatas.
    @param description_hash keccak256 of the proposal's description.
    @return The proposal id.
    """
    proposal_id: uint256 = convert(keccak256(abi_encode(proposer, targets, values, calldatas, description_hash)), uint256)
    p: uint256 = self._proposals[proposal_id]
    assert p != 0, "governor: unknown proposal"
    assert p & (_FLAG_EXECUTED | _FLAG_CANCELED) == 0, "governor: proposal executed or canceled"
    self._proposals[proposal_id] = p | _FLAG_EXECUTED
    extcall TIMELOCK.execute(convert(proposal_id, bytes32), targets, values, calldatas, value=msg.value)
    log ProposalExecuted(proposal_id=proposal_id)
    return proposal_id


@external
def cancel(
    targets: DynArray[address, MAX_CALLS],
    values: DynArray[uint256, MAX_CALLS],
    calldatas: DynArray[Bytes[MAX_CALLDATA], MAX_CALLS],
    description_hash: bytes32,
) -> uint256:
    """
    @notice The proposer withdraws its proposal before voting starts.
    @param targets The proposal's targets.
    @param values The proposal's values.
    @param calldatas The proposal's calldatas.
    @param description_hash keccak256 of the proposal's description.
    @return The proposal id.
    """
    proposal_id: uint256 = convert(keccak256(abi_encode(msg.sender, targets, values, calldatas, description_hash)), uint256)
    p: uint256 = self._proposals[proposal_id]
    assert p != 0, "governor: no such proposal by the caller"
    assert self._outcome(proposal_id, p) == PENDING, "governor: voting has started or proposal canceled"
    self._proposals[proposal_id] = p | _FLAG_CANCELED
    log ProposalCanceled(proposal_id=proposal_id)
    return proposal_id


# --------------------------------------------------------------------------- views


@external
@view
def state(proposal_id: uint256) -> uint8:
    """
    @notice The state of a proposal, numbered as OpenZeppelin's: 0 Pending,
            1 Active, 2 Canceled, 3 Defeated, 4 Succeeded, 5 Queued, 7 Executed.
    @param proposal_id The proposal.
    @return Its state (reverts for an unknown id).
    """
    p: uint256 = self._proposals[proposal_id]
    assert p != 0, "governor: unknown proposal"
    return self._state(proposal_id, p)


@external
@view
def proposalSnapshot(proposal_id: uint256) -> uint256:
    """
    @notice The block at whose end votes are counted.
    @param proposal_id The proposal.
    @return The snapshot block (0 for an unknown id).
    """
    return self._proposals[proposal_id] & _MASK48


@external
@view
def proposalDeadline(proposal_id: uint256) -> uint256:
    """
    @notice The last block in which votes are accepted.
    @param proposal_id The proposal.
    @return The deadline block (0 for an unknown id).
    """
    return (self._proposals[proposal_id] >> _DEADLINE_SHIFT) & _MASK48


@external
@view
def proposalVotes(proposal_id: uint256) -> (uint256, uint256, uint256):
    """
    @notice The tallies, as GovernorCountingSimple returns them.
    @param proposal_id The proposal.
    @return Against, for and abstain votes.
    """
    t: uint256 = self._tallies[proposal_id]
    return t & _MASK128, self._proposals[proposal_id] >> _FOR_SHIFT, t >> 128


@external
@view
def hasVoted(proposal_id: uint256, account: address) -> bool:
    """
    @notice Whether `account` voted on the proposal.
    @param proposal_id The proposal.
    @param account The account.
    @return True once it voted.
    """
    p: uint256 = self._proposals[proposal_id]
    if p == 0:
        return False
    seq: uint256 = (p >> _SEQ_SHIFT) & _MASK40
    return (self._voted[account][seq >> 8] >> (seq & 255)) & 1 == 1


@external
@view
def quorum(timepoint: uint256) -> uint256:
    """
    @notice Votes (for + abstain) a proposal with snapshot `timepoint` needs.
    @param timepoint A past block.
    @return quorumBps() of the total supply then.
    """
    return self._quorum(timepoint)


@external
@view
def hashProposal(
    proposer: address,
    targets: DynArray[address, MAX_CALLS],
    values: DynArray[uint256, MAX_CALLS],
    calldatas: DynArray[Bytes[MAX_CALLDATA], MAX_CALLS],
    description_hash: bytes32,
) -> uint256:
    """
    @notice The id of a proposal.
    @param proposer Its proposer.
    @param targets Its targets.
    @param values Its values.
    @param calldatas Its calldatas.
    @param description_hash keccak256 of its description.
    @return keccak256(abi_encode(proposer, targets, values, calldatas, description_hash)).
    """
    return convert(keccak256(abi_encode(proposer, targets, values, calldatas, description_hash)), uint256)


@external
@view
def token() -> address:
    """
    @notice The votes token.
    @return Its address.
    """
    return TOKEN.address


@external
@view
def timelock() -> address:
    """
    @notice The Timelock that runs passed proposals.
    @return Its address.
    """
    return TIMELOCK.address


@external
@view
def votingDelay() -> uint256:
    """
    @notice Blocks from a proposal to its snapshot.
    @return The voting delay.
    """
    return VOTING_DELAY


@external
@view
def votingPeriod() -> uint256:
    """
    @notice Blocks of voting after the snapshot.
    @return The voting period.
    """
    return VOTING_PERIOD


@external
@view
def quorumBps() -> uint256:
    """
    @notice The quorum, in basis points of the supply at a proposal's snapshot.
    @return The quorum fraction.
    """
    return QUORUM_BPS


@external
@view
def proposalThreshold() -> uint256:
    """
    @notice Votes an account needs at the previous block to propose.
    @return The threshold.
    """
    return PROPOSAL_THRESHOLD


@external
@view
def clock() -> uint48:
    """
    @notice ERC-6372: the token's clock, block numbers (checked at deployment).
    @return The current block number.
    """
    return convert(block.number, uint48)


@external
@view
def CLOCK_MODE() -> String[32]:
    """
    @notice ERC-6372 clock mode, the token's.
    @return "mode=blocknumber&from=default".
    """
    return "mode=blocknumber&from=default"


@external
@pure
def COUNTING_MODE() -> String[40]:
    """
    @notice How votes count, in OpenZeppelin's notation.
    @return "support=bravo&quorum=for,abstain".
    """
    return "support=bravo&quorum=for,abstain"


# --------------------------------------------------------------------------- internals


@internal
@view
def _quorum(timepoint: uint256) -> uint256:
    """
    @dev The quorum at `timepoint`.
    @param timepoint A past block.
    @return QUORUM_BPS of the total supply then.
    """
    return staticcall TOKEN.getPastTotalSupply(timepoint) * QUORUM_BPS // BPS


@internal
@view
def _state(proposal_id: uint256, p: uint256) -> uint8:
    """
    @dev The state of a proposal from its word (not 0).
    @param proposal_id The proposal.
    @param p Its packed word.
    @return Its state.
    """
    state: uint8 = self._outcome(proposal_id, p)
    if state == SUCCEEDED and staticcall TIMELOCK.ready_at(convert(proposal_id, bytes32)) != 0:
        return QUEUED
    return state


@internal
@view
def _outcome(proposal_id: uint256, p: uint256) -> uint8:
    """
    @dev The state of a proposal without asking the Timelock whether it is queued:
         Executed, Canceled, Pending, Active, Defeated or Succeeded (queued or not).
    @param proposal_id The proposal.
    @param p Its packed word (not 0).
    @return Its state.
    """
    if p & _FLAG_EXECUTED != 0:
        return EXECUTED
    if p & _FLAG_CANCELED != 0:
        return CANCELED
    now: uint256 = block.number
    snapshot: uint256 = p & _MASK48
    if now <= snapshot:
        return PENDING
    if now <= (p >> _DEADLINE_SHIFT) & _MASK48:
        return ACTIVE
    t: uint256 = self._tallies[proposal_id]
    for_votes: uint256 = p >> _FOR_SHIFT
    if for_votes <= t & _MASK128 or for_votes + (t >> 128) < self._quorum(snapshot):
        return DEFEATED
    return SUCCEEDED


@internal
def _vote(proposal_id: uint256, voter: address, support: uint8) -> uint256:
    """
    @dev Counts `voter`'s vote: the proposal must be active, the voter must not
         have voted and must have had votes at the snapshot.
    @param proposal_id The proposal.
    @param voter The voter.
    @param support 0 against, 1 for, 2 abstain.
    @return The weight counted.
    """
    assert support <= VOTE_ABSTAIN, "governor: invalid vote type"
    p: uint256 = self._proposals[proposal_id]
    assert p != 0, "governor: unknown proposal"
    assert p & _FLAG_CANCELED == 0, "governor: proposal canceled"
    snapshot: uint256 = p & _MASK48
    now: uint256 = block.number
    assert now > snapshot, "governor: voting has not started"
    assert now <= (p >> _DEADLINE_SHIFT) & _MASK48, "governor: voting is over"
    seq: uint256 = (p >> _SEQ_SHIFT) & _MASK40
    word: uint256 = self._voted[voter][seq >> 8]
    bit: uint256 = 1 << (seq & 255)
    assert word & bit == 0, "governor: already voted"
    self._voted[voter][seq >> 8] = word | bit
    weight: uint256 = staticcall TOKEN.getPastVotes(voter, snapshot)
    assert weight > 0, "governor: no votes at the snapshot"
    if support == VOTE_FOR:
        assert (p >> _FOR_SHIFT) + weight <= MAX_TALLY, "governor: tally overflow"
        self._proposals[proposal_id] = p + (weight << _FOR_SHIFT)
    else:
        t: uint256 = self._tallies[proposal_id]
        if support == VOTE_AGAINST:
            assert (t & _MASK128) + weight <= _MASK128, "governor: tally overflow"
            self._tallies[proposal_id] = t + weight
        else:
            assert (t >> 128) + weight <= _MASK128, "governor: tally overflow"
            self._tallies[proposal_id] = t + (weight << 128)
    log VoteCast(voter=voter, proposal_id=proposal_id, support=support, weight=weight)
    return weight
