# pragma version ~=0.4.3
"""
@title LabelPayouts
@custom:contract-name LabelPayouts
@license GNU Affero General Public License v3.0 only
@notice Payouts of data-labeling campaigns to many labelers through one Merkle root
        per round. A client escrows a campaign's budget in an ERC-20 and names the
        oracle committee that judges it; each round the committee signs (a quorum of
        EIP-712 `PayoutRoot` signatures) the root of a tree of (labeler, cumulative
        amount) leaves and the total of those amounts; anyone posts it. A posted root
        waits the campaign's challenge window, then becomes the claimable root; every
        labeler (or a relayer for it, paid to the labeler) claims its cumulative amount
        minus what it already claimed, one at a time or many in one call. No owner key.
        - Cumulative amounts: a later root supersedes an earlier one, so a missed round
          is harmless and nothing is paid twice. A root's total may not exceed the
          budget nor fall below the claimable root's total, and the claims paid under a
          root never exceed its total (whatever its leaves say).
        - Challenges: within a posted root's window, the client or any oracle of the
          committee may challenge it: the root is dropped (never claimable) and the
          committee posts a later round to replace it. Each of them may challenge at
          most once per campaign, so challenges cannot stall payouts forever (at most
          n + 1 roots dropped). A challenge less than one window before the close time
          moves the close time to one window after the challenge, so the committee can
          always post the replacement (else one challenge near the close would drop the
          last root for good). While a root is pending, the claimable root is the
          previous one; a newer root posted while one is pending replaces it (its window
          starts again), once a pending root's window is over it is made claimable first.
        - Closing: roots are accepted only before the campaign's close time. Once it has
          passed and no root is pending inside its window, anyone closes the campaign:
          the budget minus the claimable root's total returns to the client at once (all
          of it when the committee never signed a root). Labelers then keep claiming
          for CLAIM_PERIOD (365 days) after the close; after that, anyone sweeps what was
          not claimed back to the client, and claims end.
@dev Signed message, domain ("proofwork LabelPayouts", "1", chain id, this contract):
     `PayoutRoot(uint256 campaignId,uint256 round,bytes32 root,uint256 total,bytes32 specHash)`;
     rounds strictly increase per campaign (a dropped or superseded root cannot be
     posted again). The tree is an OpenZeppelin StandardMerkleTree of
     ["address", "uint256"] leaves (labeler, cumulative): leaf =
     keccak256(keccak256(abi_encode(labeler, cumulative))), sorted-pair hashing.
     The token must deliver what it is sent (fee-on-transfer tokens are refused).
"""

from ethereum.ercs import IERC20
from snekmate.utils import eip712_domain_separator
from snekmate.utils import merkle_proof_verification

from . import ILabelPayouts
from . import committee_quorum
from ..evaluation import ICommitteeMembers

implements: ILabelPayouts

initializes: eip712_domain_separator

exports: eip712_domain_separator.eip712Domain


MAX_SIGNATURES: constant(uint256) = committee_quorum.MAX_SIGNATURES
# Deepest proof accepted: 2**24 (16.7 million) labelers per tree.
MAX_PROOF: constant(uint256) = 24
# Most claims in one `claim_many` call.
MAX_BATCH: constant(uint256) = 128
DAY: constant(uint256) = 86_400
# After the close, how long labelers may still claim what the last root granted.
CLAIM_PERIOD: constant(uint256) = 365 * DAY
# Bounds of a campaign's challenge window and of its close time.
MIN_CHALLENGE_WINDOW: constant(uint64) = 3_600
MAX_CHALLENGE_WINDOW: constant(uint64) = 7 * 86_400
MAX_DURATION: constant(uint256) = 730 * DAY

_PAYOUT_ROOT_TYPEHASH: constant(bytes32) = keccak256(
    "PayoutRoot(uint256 campaignId,uint256 round,bytes32 root,uint256 total,bytes32 specHash)"
)


# How a campaign is stored (the `campaign` view returns it as ILabelPayouts.Campaign).
struct CampaignRecord:
    client: address  # who escrowed the budget and gets back what is not owed
    token: address  # the ERC-20 of the budget
    committee: address  # the OracleCommittee whose quorum signs roots
    spec_hash: bytes32  # the campaign's spec (price, quality rule, ...), bound into every root
    budget: uint256  # escrowed amount
    paid: uint256  # claimed by labelers so far
    refunded: uint256  # returned to the client so far
    challenge_window: uint64  # seconds a posted root waits before it is claimable
    close_time: uint64  # roots are accepted before it; the campaign may close after it; a challenge moves it to at least one window after the challenge
    closed_at: uint64  # when it was closed; zero while open
    last_round: uint256  # highest round ever posted (claimable, pending or dropped)
    root: bytes32  # the claimable root (zero: none yet)
    total: uint256  # the claimable root's total cumulative amount
    round: uint256  # the claimable root's round
    pending_root: bytes32  # the posted root waiting for its window (zero: none)
    pending_total: uint256  # its total
    pending_round: uint256  # its round
    pending_at: uint64  # when it was posted


# One claim of a batch.
struct Claim:
    labeler: address
    cumulative: uint256
    proof: DynArray[bytes32, MAX_PROOF]


# @dev Number of campaigns created; ids run from 1 to campaign_count.
campaign_count: public(uint256)
# @dev Each campaign (see CampaignRecord); all zero for unknown ids.
_campaigns: HashMap[uint256, CampaignRecord]
# @dev What each labeler has claimed so far, per campaign: campaign -> labeler -> amount.
claimed: public(HashMap[uint256, HashMap[address, uint256]])
# @dev Who has used its one challenge, per campaign: campaign -> client or oracle -> used.
challenged: public(HashMap[uint256, HashMap[address, bool]])


@deploy
def __init__():
    """
    @notice Deploys the payout contract; it has no owner and no parameters.
    """
    eip712_domain_separator.__init__("proofwork LabelPayouts", "1")


# --------------------------------------------------------------------------- campaigns


@external
@nonreentrant
def create(
    token: address, budget: uint256, committee: address, spec_hash: bytes32, challenge_window: uint64, close_time: uint64
) -> uint256:
    """
    @notice Creates a campaign and escrows its budget from the caller (the client), who
            must have approved this contract for `budget` of `token`.
    @param token The ERC-20 of the budget; it must deliver exactly what it is sent.
    @param budget The amount escrowed, more than zero.
    @param committee The OracleCommittee (members and threshold are read from it at every root).
    @param spec_hash The campaign spec's hash, bound into every signed root; not zero.
    @param challenge_window Seconds a posted root waits before it is claimable: 1 hour to 7 days.
    @param close_time Unix time before which roots are accepted and after which the campaign
           may close: more than one challenge window from now, at most 730 days from now.
    @return The new campaign's id.
    """
    assert token.is_contract, "payouts: token is not a contract"
    assert committee.is_contract, "payouts: committee is not a contract"
    assert staticcall ICommitteeMembers(committee).threshold() > 0, "payouts: committee threshold is zero"
    assert budget > 0, "payouts: zero budget"
    assert spec_hash != empty(bytes32), "payouts: empty spec hash"
    assert (
        challenge_window >= MIN_CHALLENGE_WINDOW and challenge_window <= MAX_CHALLENGE_WINDOW
    ), "payouts: bad challenge window"
    close: uint256 = convert(close_time, uint256)
    assert close > block.timestamp + convert(challenge_window, uint256), "payouts: close time too soon"
    assert close <= block.timestamp + MAX_DURATION, "payouts: close time too far"
    campaign_id: uint256 = self.campaign_count + 1
    self.campaign_count = campaign_id
    self._campaigns[campaign_id] = CampaignRecord(
        client=msg.sender,
        token=token,
        committee=committee,
        spec_hash=spec_hash,
        budget=budget,
        paid=0,
        refunded=0,
        challenge_window=challenge_window,
        close_time=close_time,
        closed_at=0,
        last_round=0,
        root=empty(bytes32),
        total=0,
        round=0,
        pending_root=empty(bytes32),
        pending_total=0,
        pending_round=0,
        pending_at=0,
    )
    log ILabelPayouts.CampaignCreated(
        campaign_id=campaign_id,
        client=msg.sender,
        token=token,
        committee=committee,
        budget=budget,
        spec_hash=spec_hash,
        challenge_window=challenge_window,
        close_time=close_time,
    )
    before: uint256 = staticcall IERC20(token).balanceOf(self)
    assert extcall IERC20(token).transferFrom(msg.sender, self, budget, default_return_value=True), "payouts: transfer failed"
    assert staticcall IERC20(token).balanceOf(self) - before == budget, "payouts: token delivered less than sent"
    return campaign_id


@external
@nonreentrant
def post_root(
    campaign_id: uint256,
    round: uint256,
    root: bytes32,
    total: uint256,
    signatures: DynArray[Bytes[65], MAX_SIGNATURES],
):
    """
    @notice Posts a round's payout root signed by a quorum of the campaign's committee;
            anyone may relay it. It becomes claimable once the challenge window has passed
            unchallenged; a pending root whose window is over is made claimable first, one
            still inside its window is replaced.
    @param campaign_id The campaign.
    @param round The round: more than any round posted before for the campaign.
    @param root The tree's root, not zero.
    @param total The sum of the leaves' cumulative amounts: at most the budget, at least
           the claimable root's total.
    @param signatures The committee's signatures of `root_digest(...)`, signers ascending.
    """
    c: CampaignRecord = self._campaigns[campaign_id]
    assert c.client != empty(address), "payouts: no such campaign"
    assert c.closed_at == 0, "payouts: campaign closed"
    assert block.timestamp < convert(c.close_time, uint256), "payouts: close time passed"
    assert root != empty(bytes32), "payouts: empty root"
    assert round > c.last_round, "payouts: round not after the last one"
    assert total <= c.budget, "payouts: total above the budget"
    committee_quorum._check(c.committee, self._root_digest(campaign_id, round, root, total, c.spec_hash), signatures)
    self._promote(campaign_id)
    assert total >= self._campaigns[campaign_id].total, "payouts: total below the claimable root's"
    self._campaigns[campaign_id].last_round = round
    self._campaigns[campaign_id].pending_root = root
    self._campaigns[campaign_id].pending_total = total
    self._campaigns[campaign_id].pending_round = round
    self._campaigns[campaign_id].pending_at = convert(block.timestamp, uint64)
    log ILabelPayouts.RootPosted(
        campaign_id=campaign_id,
        round=round,
        root=root,
        total=total,
        claimable_at=block.timestamp + convert(c.challenge_window, uint256),
    )


@external
@nonreentrant
def challenge(campaign_id: uint256):
    """
    @notice The client or an oracle of the committee challenges the pending root inside its
            challenge window: the root is dropped and never becomes claimable; the committee
            replaces it with a later round, for which it has at least one challenge window
            from now (the close time moves if it is nearer). Each may challenge once per
            campaign, so the close time moves by less than two windows per challenger.
    @param campaign_id The campaign.
    """
    c: CampaignRecord = self._campaigns[campaign_id]
    assert c.pending_root != empty(bytes32), "payouts: no pending root"
    assert (
        block.timestamp < convert(c.pending_at, uint256) + convert(c.challenge_window, uint256)
    ), "payouts: challenge window over"
    assert (
        msg.sender == c.client or staticcall ICommitteeMembers(c.committee).is_oracle(msg.sender)
    ), "payouts: only the client or an oracle may challenge"
    assert not self.challenged[campaign_id][msg.sender], "payouts: already challenged once"
    self.challenged[campaign_id][msg.sender] = True
    # Roots are refused after the close time: without this, a challenge in the last window
    # (by the client, or by one faulty oracle) would drop the final root with no replacement.
    reopen: uint256 = block.timestamp + convert(c.challenge_window, uint256)
    if reopen > convert(c.close_time, uint256):
        self._campaigns[campaign_id].close_time = convert(reopen, uint64)
    self._campaigns[campaign_id].pending_root = empty(bytes32)
    self._campaigns[campaign_id].pending_total = 0
    self._campaigns[campaign_id].pending_round = 0
    self._campaigns[campaign_id].pending_at = 0
    log ILabelPayouts.RootChallenged(
        campaign_id=campaign_id, round=c.pending_round, root=c.pending_root, challenger=msg.sender
    )


@external
@nonreentrant
def claim(campaign_id: uint256, labeler: address, cumulative: uint256, proof: DynArray[bytes32, MAX_PROOF]) -> uint256:
    """
    @notice Pays `labeler` its cumulative amount in the claimable root minus what it has
            already claimed. Anyone may call it (a relayer): the tokens go to the labeler.
    @param campaign_id The campaign.
    @param labeler The labeler (the leaf's address).
    @param cumulative The labeler's cumulative amount in the claimable root.
    @param proof Sibling hashes from the leaf to the root (sorted-pair hashing).
    @return The amount paid.
    """
    root: bytes32 = self._claim_root(campaign_id)
    amount: uint256 = self._credit(campaign_id, root, labeler, cumulative, proof)
    self._pay(campaign_id, amount)
    self._transfer(self._campaigns[campaign_id].token, labeler, amount)
    return amount


@external
@nonreentrant
def claim_many(campaign_id: uint256, claims: DynArray[Claim, MAX_BATCH]) -> uint256:
    """
    @notice Pays many labelers in one call (see `claim`); anyone may call it. A claim that
            owes nothing now (already paid, e.g. by a claim sent just before the batch) is
            skipped, so nobody can make a batch revert by front-running one of its claims;
            any other invalid claim reverts the batch and nothing is paid.
    @param campaign_id The campaign.
    @param claims Up to 128 (labeler, cumulative, proof) claims against the claimable root.
    @return The total amount paid.
    """
    root: bytes32 = self._claim_root(campaign_id)
    token: address = self._campaigns[campaign_id].token
    paid: uint256 = 0
    for item: Claim in claims:
        if item.cumulative <= self.claimed[campaign_id][item.labeler]:
            continue  # nothing owed: skipped, not checked, nothing paid
        amount: uint256 = self._credit(campaign_id, root, item.labeler, item.cumulative, item.proof)
        paid += amount
        assert extcall IERC20(token).transfer(item.labeler, amount, default_return_value=True), "payouts: transfer failed"
    self._pay(campaign_id, paid)
    return paid


@external
@nonreentrant
def close(campaign_id: uint256) -> uint256:
    """
    @notice Closes a campaign once its close time has passed and no root is pending inside
            its challenge window (a pending root whose window is over becomes claimable
            first); anyone may call it. The budget minus the claimable root's total returns
            to the client; labelers keep claiming for CLAIM_PERIOD.
    @param campaign_id The campaign.
    @return The amount returned to the client.
    """
    c: CampaignRecord = self._campaigns[campaign_id]
    assert c.client != empty(address), "payouts: no such campaign"
    assert c.closed_at == 0, "payouts: campaign closed"
    assert block.timestamp >= convert(c.close_time, uint256), "payouts: close time not reached"
    self._promote(campaign_id)
    assert self._campaigns[campaign_id].pending_root == empty(bytes32), "payouts: a root is pending"
    refund: uint256 = c.budget - self._campaigns[campaign_id].total
    self._campaigns[campaign_id].closed_at = convert(block.timestamp, uint64)
    self._campaigns[campaign_id].refunded = refund
    log ILabelPayouts.CampaignClosed(campaign_id=campaign_id, refunded=refund, owed=self._campaigns[campaign_id].total)
    self._transfer(c.token, c.client, refund)
    return refund


@external
@nonreentrant
def sweep(campaign_id: uint256) -> uint256:
    """
    @notice Once CLAIM_PERIOD has passed since the close, returns to the client what
            labelers left unclaimed; claims end. Anyone may call it.
    @param campaign_id The campaign.
    @return The amount returned to the client.
    """
    c: CampaignRecord = self._campaigns[campaign_id]
    assert c.closed_at != 0, "payouts: campaign not closed"
    assert block.timestamp >= convert(c.closed_at, uint256) + CLAIM_PERIOD, "payouts: claim period not over"
    rest: uint256 = c.budget - c.paid - c.refunded
    assert rest > 0, "payouts: nothing to sweep"
    self._campaigns[campaign_id].refunded = c.refunded + rest
    log ILabelPayouts.UnclaimedSwept(campaign_id=campaign_id, amount=rest)
    self._transfer(c.token, c.client, rest)
    return rest


# --------------------------------------------------------------------------- views


@external
@view
def campaign(campaign_id: uint256) -> ILabelPayouts.Campaign:
    """
    @notice A campaign as stored, with the claimable root as a claim would see it now (a
            pending root whose window is over counts as claimable).
    @param campaign_id The campaign.
    @return The campaign (all zero for an unknown id).
    """
    c: CampaignRecord = self._campaigns[campaign_id]
    if self._due(c):
        c.root = c.pending_root
        c.total = c.pending_total
        c.round = c.pending_round
        c.pending_root = empty(bytes32)
        c.pending_total = 0
        c.pending_round = 0
        c.pending_at = 0
    return ILabelPayouts.Campaign(
        client=c.client,
        token=c.token,
        committee=c.committee,
        spec_hash=c.spec_hash,
        budget=c.budget,
        paid=c.paid,
        refunded=c.refunded,
        challenge_window=c.challenge_window,
        close_time=c.close_time,
        closed_at=c.closed_at,
        last_round=c.last_round,
        root=c.root,
        total=c.total,
        round=c.round,
        pending_root=c.pending_root,
        pending_total=c.pending_total,
        pending_round=c.pending_round,
        pending_at=c.pending_at,
    )


@external
@view
def root_digest(campaign_id: uint256, round: uint256, root: bytes32, total: uint256) -> bytes32:
    """
    @notice The EIP-712 digest the committee signs for a round's root.
    @param campaign_id The campaign.
    @param round The round.
    @param root The tree's root.
    @param total The sum of its cumulative amounts.
    @return The digest of PayoutRoot(campaign_id, round, root, total, the campaign's spec hash).
    """
    return self._root_digest(campaign_id, round, root, total, self._campaigns[campaign_id].spec_hash)


@external
@pure
def payout_leaf(labeler: address, cumulative: uint256) -> bytes32:
    """
    @notice The tree leaf of (labeler, cumulative), as OpenZeppelin's StandardMerkleTree makes it.
    @param labeler The labeler.
    @param cumulative Its cumulative amount.
    @return keccak256(keccak256(abi_encode(labeler, cumulative))).
    """
    return self._leaf(labeler, cumulative)


@external
@view
def verify(root: bytes32, labeler: address, cumulative: uint256, proof: DynArray[bytes32, MAX_PROOF]) -> bool:
    """
    @notice Whether `proof` shows that the tree of `root` grants `labeler` `cumulative`.
    @param root A tree's root.
    @param labeler The labeler.
    @param cumulative The cumulative amount.
    @param proof Sibling hashes from the leaf to the root.
    @return True for a valid proof (never for the zero root).
    """
    if root == empty(bytes32):
        return False
    return merkle_proof_verification._verify(proof, root, self._leaf(labeler, cumulative))


# --------------------------------------------------------------------------- internals


@internal
@view
def _due(c: CampaignRecord) -> bool:
    """
    @dev Whether the campaign's pending root has waited out its challenge window.
    @param c The campaign.
    @return True when it should become the claimable root.
    """
    return c.pending_root != empty(bytes32) and block.timestamp >= convert(c.pending_at, uint256) + convert(
        c.challenge_window, uint256
    )


@internal
def _promote(campaign_id: uint256):
    """
    @dev Makes the pending root claimable if its challenge window is over.
    @param campaign_id The campaign.
    """
    pending: bytes32 = self._campaigns[campaign_id].pending_root
    if pending == empty(bytes32):
        return
    at: uint256 = convert(self._campaigns[campaign_id].pending_at, uint256)
    if block.timestamp < at + convert(self._campaigns[campaign_id].challenge_window, uint256):
        return
    round: uint256 = self._campaigns[campaign_id].pending_round
    total: uint256 = self._campaigns[campaign_id].pending_total
    self._campaigns[campaign_id].root = pending
    self._campaigns[campaign_id].total = total
    self._campaigns[campaign_id].round = round
    self._campaigns[campaign_id].pending_root = empty(bytes32)
    self._campaigns[campaign_id].pending_total = 0
    self._campaigns[campaign_id].pending_round = 0
    self._campaigns[campaign_id].pending_at = 0
    log ILabelPayouts.RootClaimable(campaign_id=campaign_id, round=round, root=pending, total=total)


@internal
def _claim_root(campaign_id: uint256) -> bytes32:
    """
    @dev The root claims are checked against (after promoting a due pending root);
         reverts when there is none or the claim period after the close is over.
    @param campaign_id The campaign.
    @return The claimable root.
    """
    closed_at: uint256 = convert(self._campaigns[campaign_id].closed_at, uint256)
    assert closed_at == 0 or block.timestamp < closed_at + CLAIM_PERIOD, "payouts: claim period over"
    self._promote(campaign_id)
    root: bytes32 = self._campaigns[campaign_id].root
    assert root != empty(bytes32), "payouts: no claimable root"
    return root


@internal
def _credit(
    campaign_id: uint256, root: bytes32, labeler: address, cumulative: uint256, proof: DynArray[bytes32, MAX_PROOF]
) -> uint256:
    """
    @dev Checks a claim against `root` and records the labeler's new claimed amount.
    @param campaign_id The campaign.
    @param root The claimable root.
    @param labeler The labeler.
    @param cumulative Its cumulative amount.
    @param proof The leaf's proof.
    @return What the labeler is owed now: cumulative minus what it claimed before (> 0).
    """
    assert labeler != empty(address), "payouts: zero labeler"
    assert merkle_proof_verification._verify(proof, root, self._leaf(labeler, cumulative)), "payouts: invalid proof"
    before: uint256 = self.claimed[campaign_id][labeler]
    assert cumulative > before, "payouts: nothing to claim"
    self.claimed[campaign_id][labeler] = cumulative
    log ILabelPayouts.Claimed(campaign_id=campaign_id, labeler=labeler, amount=cumulative - before, cumulative=cumulative)
    return cumulative - before


@internal
def _pay(campaign_id: uint256, amount: uint256):
    """
    @dev Adds `amount` to the campaign's paid sum, which may never exceed the claimable
         root's total (a root whose leaves sum above its signed total pays no more than it).
    @param campaign_id The campaign.
    @param amount The amount being paid.
    """
    paid: uint256 = self._campaigns[campaign_id].paid + amount
    assert paid <= self._campaigns[campaign_id].total, "payouts: claims above the root's total"
    self._campaigns[campaign_id].paid = paid


@internal
def _transfer(token: address, to: address, amount: uint256):
    """
    @dev Sends `amount` of `token` to `to` (nothing for zero); a refused transfer reverts.
    @param token The ERC-20.
    @param to The receiver.
    @param amount The amount.
    """
    if amount == 0:
        return
    assert extcall IERC20(token).transfer(to, amount, default_return_value=True), "payouts: transfer failed"


@internal
@view
def _root_digest(campaign_id: uint256, round: uint256, root: bytes32, total: uint256, spec_hash: bytes32) -> bytes32:
    """
    @dev EIP-712 digest of a PayoutRoot under this contract's domain (chain id and address
         checked on every call, so another chain or deployment gets another digest).
    @param campaign_id The campaign.
    @param round The round.
    @param root The root.
    @param total The total.
    @param spec_hash The campaign's spec hash.
    @return The digest.
    """
    return eip712_domain_separator._hash_typed_data_v4(
        keccak256(abi_encode(_PAYOUT_ROOT_TYPEHASH, campaign_id, round, root, total, spec_hash))
    )


@internal
@pure
def _leaf(labeler: address, cumulative: uint256) -> bytes32:
    """
    @dev OpenZeppelin StandardMerkleTree leaf of (labeler, cumulative): double keccak of the abi encoding.
    @param labeler The labeler.
    @param cumulative Its cumulative amount.
    @return The leaf.
    """
    return keccak256(keccak256(abi_encode(labeler, cumulative)))
