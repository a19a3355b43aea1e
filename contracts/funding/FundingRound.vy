# pragma version ~=0.4.3
"""
@title FundingRound
@custom:contract-name FundingRound
@license GNU Affero General Public License v3.0 only
@notice Quadratic funding rounds for public-good AI work (open models, data sets, tools),
        many rounds in one contract, no owner key.
        - Creation: a round names its ERC-20 (a stablecoin), escrows a matching pool (zero
          or more; anyone adds to it with `fund` until contributions close), fixes its
          windows and its Sybil rule (see below) for good.
        - Applications: until `applications_close` anyone applies a project: the address it
          is paid to and the CID of its description. A recipient applies once per round.
        - Contributions: from `contributions_open` until before `contributions_close` anyone
          contributes to a project; the tokens are held for the project. A contribution
          counts toward matching only when its contributor names a credential that passes
          the round's rule; without one it still reaches the project and adds no matching.
          A project's recipient or applicant cannot count toward its own matching.
        - Matching: for project j, with c_ij the total an eligible contributor i gave j and
          s_ij = isqrt(c_ij), weight w_j = (sum_i s_ij)**2 - sum_i s_ij**2 (the quadratic
          funding subsidy (sum_i sqrt(c_ij))**2 - sum_i c_ij with square roots rounded down;
          never negative). It is maintained per contribution in O(1): when s_ij grows by d,
          w_j grows by 2 * d * (S_j - s_ij) where S_j is sum_i s_ij before. Project j's
          matching is floor(pool * w_j / W), W = sum_j w_j (full-precision multiply-divide).
        - Remainder rule: the pool minus the matching paid (less than one unit per weighted
          project) returns to the round's creator once every weighted project is claimed;
          with W = 0 (no project, or no eligible contribution) every funder gets back what it
          put in. Every unit is accounted: pool + contributions == paid_out + returned + held.
        - After contributions close anyone finalizes the round, anyone claims for a project
          (paid to its recipient; the recipient may have it paid elsewhere with `claim_to`),
          anyone triggers a funder's refund: no step waits on one party, so nothing is frozen.
        Sybil rule (fixed at creation; the identity contracts are fixed at deployment):
        - RULE_BADGE (1): the credential is a SkillBadge token id; the contributor must hold
          it, its skill's keccak256 must be one of the round's topics, and its issuer must be
          accredited in the IssuerRegistry now or be the badge contract's auto-minter (a
          badge earned by a job settled with a passing verified score).
        - RULE_ATTESTATION (2): the credential is an attestation uid; the contributor must be
          its recipient, its schema one of the round's topics, it must not be revoked or
          expired, and its attester must be accredited in the IssuerRegistry now.
        Matching is counted per address: badges are soulbound and attestations name their
        recipient, so one person's other wallets cannot reuse a credential, and whatever
        one eligible address gives a project is summed before its square root.
@dev The token must deliver exactly what it is sent (fee-on-transfer tokens are refused).
     Amounts are bounded by 2**128 per round (pool and contributions), so the weights fit
     in uint256; the pool share is computed with snekmate's `math._mul_div`.
"""

from ethereum.ercs import IERC20
from snekmate.utils import math

from . import IFundingRound
from ..attestations import IAttestations
from ..identity import IIssuerRegistry

implements: IFundingRound


RULE_BADGE: constant(uint8) = 1
RULE_ATTESTATION: constant(uint8) = 2
MAX_TOPICS: constant(uint256) = 8
MAX_CID: constant(uint256) = 128
# Rounds end at most this long after their creation.
MAX_DURATION: constant(uint256) = 366 * 86_400
# Bound of a round's pool and of its total contributions.
MAX_AMOUNT: constant(uint256) = 2**128 - 1


# A SkillBadge's data, as `SkillBadge.badge` returns it.
struct BadgeData:
    skill: String[64]
    issuer: address
    evidence: bytes32
    minted_at: uint64


# What the Sybil rule reads from the SkillBadge contract.
interface IBadges:
    def ownerOf(token_id: uint256) -> address: view
    def badge(token_id: uint256) -> BadgeData: view
    def auto_minter() -> address: view


# @dev The SkillBadge contract read by RULE_BADGE (empty: that rule is unavailable).
badges: public(immutable(address))
# @dev The EAS-model Attestations contract read by RULE_ATTESTATION (empty: unavailable).
attestations: public(immutable(address))
# @dev The IssuerRegistry whose accredited issuers' credentials pass the rules.
registry: public(immutable(address))
# @dev Number of rounds created; ids run from 1 to round_count.
round_count: public(uint256)
# @dev Each round (see IFundingRound.Round); all zero for unknown ids.
_rounds: HashMap[uint256, IFundingRound.Round]
# @dev Each round's projects: round -> project id -> project (all zero for unknown ids).
_projects: HashMap[uint256, HashMap[uint256, IFundingRound.Project]]
# @dev The round's accepted topics (skill hashes or schema uids): round -> topic -> accepted.
topic_accepted: public(HashMap[uint256, HashMap[bytes32, bool]])
# @dev The project a recipient applied, per round: round -> recipient -> project id (0: none).
project_of: public(HashMap[uint256, HashMap[address, uint256]])
# @dev Eligible totals: round -> project -> contributor -> what it gave while eligible.
eligible_contribution: public(HashMap[uint256, HashMap[uint256, HashMap[address, uint256]]])
# @dev What each funder put in a round's pool: round -> funder -> amount.
funded: public(HashMap[uint256, HashMap[address, uint256]])
# @dev What each funder got back from a round: round -> funder -> amount.
refunded: public(HashMap[uint256, HashMap[address, uint256]])


@deploy
def __init__(badges_: address, attestations_: address, registry_: address):
    """
    @notice Deploys the rounds contract over proofwork's identity layer; it has no owner.
    @param badges_ The SkillBadge contract (empty: badge rules unavailable).
    @param attestations_ The Attestations contract (empty: attestation rules unavailable).
    @param registry_ The IssuerRegistry of accredited issuers.
    """
    assert registry_.is_contract, "round: registry is not a contract"
    badges = badges_
    attestations = attestations_
    registry = registry_


# --------------------------------------------------------------------------- rounds


@external
@nonreentrant
def create_round(
    token: address,
    pool: uint256,
    applications_close: uint64,
    contributions_open: uint64,
    contributions_close: uint64,
    rule_kind: uint8,
    topics: DynArray[bytes32, MAX_TOPICS],
    metadata_cid: String[MAX_CID],
) -> uint256:
    """
    @notice Creates a round and escrows `pool` of `token` from the caller, who must have
            approved this contract for it. Applications open at once.
    @param token The ERC-20 of the pool and of contributions; it must deliver what it is sent.
    @param pool The matching pool escrowed now (zero allowed: `fund` adds to it).
    @param applications_close Projects apply before this time (after now).
    @param contributions_open Contributions are accepted from this time ...
    @param contributions_close ... until before this one, later than both others and at
           most 366 days from now.
    @param rule_kind The Sybil rule: 1 (SkillBadge) or 2 (attestation).
    @param topics Accepted skills (keccak256 of the skill) or attestation schema uids: 1 to 8.
    @param metadata_cid The CID of the round's description (may be empty).
    @return The new round's id.
    """
    assert token.is_contract, "round: token is not a contract"
    assert pool <= MAX_AMOUNT, "round: pool too large"
    now: uint256 = block.timestamp
    apply_end: uint256 = convert(applications_close, uint256)
    opens: uint256 = convert(contributions_open, uint256)
    closes: uint256 = convert(contributions_close, uint256)
    assert apply_end > now, "round: applications close in the past"
    assert opens < closes and apply_end <= closes, "round: contributions must close after they open and after applications"
    assert closes <= now + MAX_DURATION, "round: round too long"
    if rule_kind == RULE_BADGE:
        assert badges != empty(address), "round: no badge contract"
    elif rule_kind == RULE_ATTESTATION:
        assert attestations != empty(address), "round: no attestations contract"
    else:
        raise "round: unknown rule kind"
    assert len(topics) > 0, "round: no accepted topic"
    round_id: uint256 = self.round_count + 1
    self.round_count = round_id
    for topic: bytes32 in topics:
        assert topic != empty(bytes32), "round: empty topic"
        self.topic_accepted[round_id][topic] = True
    self._rounds[round_id] = IFundingRound.Round(
        creator=msg.sender,
        token=token,
        rule_kind=rule_kind,
        applications_close=applications_close,
        contributions_open=contributions_open,
        contributions_close=contributions_close,
        finalized=False,
        project_count=0,
        pool=pool,
        contributions=0,
        total_weight=0,
        weighted_projects=0,
        settled_weighted=0,
        matched_paid=0,
        paid_out=0,
        returned=0,
        dust_paid=False,
    )
    self.funded[round_id][msg.sender] = pool
    log IFundingRound.RoundCreated(
        round_id=round_id,
        creator=msg.sender,
        token=token,
        pool=pool,
        applications_close=applications_close,
        contributions_open=contributions_open,
        contributions_close=contributions_close,
        rule_kind=rule_kind,
        topics=topics,
        metadata_cid=metadata_cid,
    )
    if pool > 0:
        log IFundingRound.PoolFunded(round_id=round_id, funder=msg.sender, amount=pool, pool=pool)
        self._pull(token, msg.sender, pool)
    return round_id


@external
@nonreentrant
def fund(round_id: uint256, amount: uint256):
    """
    @notice Adds `amount` to a round's matching pool from the caller (approved beforehand),
            before contributions close. Should no project earn matching, each funder gets
            back exactly what it put in.
    @param round_id The round.
    @param amount More than zero.
    """
    token: address = self._known(round_id)
    assert block.timestamp < convert(self._rounds[round_id].contributions_close, uint256), "round: contributions closed"
    assert amount > 0, "round: zero amount"
    pool: uint256 = self._rounds[round_id].pool + amount
    assert pool <= MAX_AMOUNT, "round: pool too large"
    self._rounds[round_id].pool = pool
    self.funded[round_id][msg.sender] += amount
    log IFundingRound.PoolFunded(round_id=round_id, funder=msg.sender, amount=amount, pool=pool)
    self._pull(token, msg.sender, amount)


@external
@nonreentrant
def apply_project(round_id: uint256, recipient: address, metadata_cid: String[MAX_CID]) -> uint256:
    """
    @notice Applies a project to a round before its applications close; the caller is its
            applicant. A recipient may be named by one project per round.
    @param round_id The round.
    @param recipient The address the project is paid to.
    @param metadata_cid The CID of the project's description (not empty).
    @return The project's id in the round (from 1).
    """
    self._known(round_id)
    assert block.timestamp < convert(self._rounds[round_id].applications_close, uint256), "round: applications closed"
    assert recipient != empty(address), "round: zero recipient"
    assert len(metadata_cid) > 0, "round: empty metadata CID"
    assert self.project_of[round_id][recipient] == 0, "round: recipient already applied"
    project_id: uint256 = self._rounds[round_id].project_count + 1
    self._rounds[round_id].project_count = project_id
    self.project_of[round_id][recipient] = project_id
    self._projects[round_id][project_id].recipient = recipient
    self._projects[round_id][project_id].applicant = msg.sender
    log IFundingRound.ProjectApplied(
        round_id=round_id, project_id=project_id, recipient=recipient, applicant=msg.sender, metadata_cid=metadata_cid
    )
    return project_id


@external
@nonreentrant
def contribute(round_id: uint256, project_id: uint256, amount: uint256, credential: bytes32):
    """
    @notice Contributes `amount` (approved beforehand) to a project of a round while its
            contributions are open; the tokens are held for the project.
    @dev With a credential, the caller must pass the round's rule with it (else the call
         reverts, saying why) and must be neither the project's recipient nor its applicant;
         the contribution then counts toward matching. Without one (zero) it does not.
    @param round_id The round.
    @param project_id The project.
    @param amount More than zero.
    @param credential A SkillBadge token id (RULE_BADGE) or an attestation uid
           (RULE_ATTESTATION), or zero for none.
    """
    token: address = self._known(round_id)
    now: uint256 = block.timestamp
    assert now >= convert(self._rounds[round_id].contributions_open, uint256), "round: contributions not open yet"
    assert now < convert(self._rounds[round_id].contributions_close, uint256), "round: contributions closed"
    assert project_id > 0 and project_id <= self._rounds[round_id].project_count, "round: unknown project"
    assert amount > 0, "round: zero amount"
    total: uint256 = self._rounds[round_id].contributions + amount
    assert total <= MAX_AMOUNT, "round: contributions too large"
    self._rounds[round_id].contributions = total
    self._projects[round_id][project_id].contributions += amount
    matched: bool = credential != empty(bytes32)
    if matched:
        assert (
            msg.sender != self._projects[round_id][project_id].recipient
            and msg.sender != self._projects[round_id][project_id].applicant
        ), "round: a project cannot match its own funding"
        self._check_rule(self._rounds[round_id].rule_kind, round_id, msg.sender, credential)
        self._add_eligible(round_id, project_id, amount)
    log IFundingRound.Contributed(
        round_id=round_id, project_id=project_id, contributor=msg.sender, amount=amount, matched=matched, credential=credential
    )
    self._pull(token, msg.sender, amount)


@external
@nonreentrant
def finalize(round_id: uint256):
    """
    @notice Finalizes a round once its contributions have closed; anyone may call it.
            Its weights no longer change: projects may be claimed, funders refunded.
    @param round_id The round.
    """
    self._known(round_id)
    assert block.timestamp >= convert(self._rounds[round_id].contributions_close, uint256), "round: contributions still open"
    assert not self._rounds[round_id].finalized, "round: already finalized"
    self._rounds[round_id].finalized = True
    log IFundingRound.RoundFinalized(
        round_id=round_id,
        pool=self._rounds[round_id].pool,
        total_weight=self._rounds[round_id].total_weight,
        contributions=self._rounds[round_id].contributions,
    )


@external
@nonreentrant
def claim(round_id: uint256, project_id: uint256) -> uint256:
    """
    @notice Pays a finalized round's project its contributions plus its matching, to its
            recipient; anyone may call it, once per project.
    @param round_id The round.
    @param project_id The project.
    @return The amount paid.
    """
    return self._claim(round_id, project_id, self._projects[round_id][project_id].recipient)


@external
@nonreentrant
def claim_to(round_id: uint256, project_id: uint256, to: address) -> uint256:
    """
    @notice As `claim`, paid to `to` (for a recipient the token will not pay); only the
            project's recipient may call it.
    @param round_id The round.
    @param project_id The project.
    @param to The receiver (not empty).
    @return The amount paid.
    """
    assert msg.sender == self._projects[round_id][project_id].recipient, "round: caller is not the project's recipient"
    assert to != empty(address), "round: zero receiver"
    return self._claim(round_id, project_id, to)


@external
@nonreentrant
def refund(round_id: uint256, funder: address) -> uint256:
    """
    @notice Pays a funder what a finalized round owes it: when no project earned matching
            (total weight zero) everything it put in the pool; to the creator, once every
            weighted project is claimed, the pool's rounding remainder. Anyone may call it.
    @param round_id The round.
    @param funder The funder paid.
    @return The amount paid.
    """
    token: address = self._known(round_id)
    assert self._rounds[round_id].finalized, "round: not finalized"
    due: uint256 = 0
    remainder: bool = False
    due, remainder = self._refund_due(round_id, funder)
    assert due > 0, "round: nothing to refund"
    if remainder:
        self._rounds[round_id].dust_paid = True
    self.refunded[round_id][funder] += due
    self._rounds[round_id].returned += due
    log IFundingRound.Refunded(round_id=round_id, funder=funder, amount=due, remainder=remainder)
    self._transfer(token, funder, due)
    return due


# --------------------------------------------------------------------------- views


@external
@view
def round(round_id: uint256) -> IFundingRound.Round:
    """
    @notice A round (all zero for an unknown id).
    @param round_id The round.
    @return Its record.
    """
    return self._rounds[round_id]


@external
@view
def project(round_id: uint256, project_id: uint256) -> IFundingRound.Project:
    """
    @notice A project of a round (all zero for an unknown one).
    @param round_id The round.
    @param project_id The project.
    @return Its record.
    """
    return self._projects[round_id][project_id]


@external
@view
def matching_of(round_id: uint256, project_id: uint256) -> uint256:
    """
    @notice A project's share of the pool: floor(pool * weight / total weight), zero when
            the total weight is zero. Final once the round is finalized.
    @param round_id The round.
    @param project_id The project.
    @return The matching.
    """
    return self._matching(round_id, self._projects[round_id][project_id].weight)


@external
@view
def refund_due(round_id: uint256, funder: address) -> uint256:
    """
    @notice What `refund` would pay `funder` now (zero before finalization).
    @param round_id The round.
    @param funder A funder.
    @return The amount.
    """
    if not self._rounds[round_id].finalized:
        return 0
    due: uint256 = 0
    remainder: bool = False
    due, remainder = self._refund_due(round_id, funder)
    return due


# --------------------------------------------------------------------------- internal


@internal
@view
def _known(round_id: uint256) -> address:
    """
    @dev Reverts for an unknown round; returns its token.
    @param round_id The round.
    @return The round's token.
    """
    token: address = self._rounds[round_id].token
    assert token != empty(address), "round: unknown round"
    return token


@internal
def _add_eligible(round_id: uint256, project_id: uint256, amount: uint256):
    """
    @dev Adds an eligible contribution of the caller: its total c grows by `amount`, its root
         s = isqrt(c) by d, the project's weight by 2 * d * (S - s_before) (S the project's
         sum of roots before), the round's total weight likewise.
    @param round_id The round.
    @param project_id The project.
    @param amount The contribution.
    """
    before: uint256 = self.eligible_contribution[round_id][project_id][msg.sender]
    after: uint256 = before + amount
    self.eligible_contribution[round_id][project_id][msg.sender] = after
    self._projects[round_id][project_id].eligible_contributions += amount
    root_before: uint256 = isqrt(before)
    d: uint256 = isqrt(after) - root_before
    if d == 0:
        return
    sqrt_sum: uint256 = self._projects[round_id][project_id].sqrt_sum
    self._projects[round_id][project_id].sqrt_sum = sqrt_sum + d
    added: uint256 = 2 * d * (sqrt_sum - root_before)
    if added == 0:
        return
    weight: uint256 = self._projects[round_id][project_id].weight
    self._projects[round_id][project_id].weight = weight + added
    self._rounds[round_id].total_weight += added
    if weight == 0:
        self._rounds[round_id].weighted_projects += 1


@internal
@view
def _check_rule(rule_kind: uint8, round_id: uint256, who: address, credential: bytes32):
    """
    @dev Reverts, saying why, unless `who` passes the round's Sybil rule with `credential`.
    @param rule_kind The round's rule.
    @param round_id The round (for its topics).
    @param who The contributor.
    @param credential A badge token id or an attestation uid.
    """
    if rule_kind == RULE_BADGE:
        token_id: uint256 = convert(credential, uint256)
        assert staticcall IBadges(badges).ownerOf(token_id) == who, "round: not the badge's holder"
        data: BadgeData = staticcall IBadges(badges).badge(token_id)
        assert self.topic_accepted[round_id][keccak256(data.skill)], "round: badge skill not accepted"
        assert (
            staticcall IIssuerRegistry(registry).is_accredited(data.issuer)
            or data.issuer == staticcall IBadges(badges).auto_minter()
        ), "round: badge issuer not accredited"
    else:
        a: IAttestations.Attestation = staticcall IAttestations(attestations).get_attestation(credential)
        assert a.uid == credential, "round: unknown attestation"
        assert a.recipient == who, "round: attestation is not about the contributor"
        assert self.topic_accepted[round_id][a.schema], "round: attestation schema not accepted"
        assert a.revocationTime == 0, "round: attestation revoked"
        assert a.expirationTime == 0 or convert(a.expirationTime, uint256) > block.timestamp, "round: attestation expired"
        assert staticcall IIssuerRegistry(registry).is_accredited(a.attester), "round: attester not accredited"


@internal
def _claim(round_id: uint256, project_id: uint256, to: address) -> uint256:
    """
    @dev Pays a project of a finalized round its contributions plus matching, once.
    @param round_id The round.
    @param project_id The project.
    @param to The receiver.
    @return The amount paid.
    """
    token: address = self._known(round_id)
    assert self._rounds[round_id].finalized, "round: not finalized"
    assert self._projects[round_id][project_id].recipient != empty(address), "round: unknown project"
    assert not self._projects[round_id][project_id].claimed, "round: already claimed"
    weight: uint256 = self._projects[round_id][project_id].weight
    contributions: uint256 = self._projects[round_id][project_id].contributions
    matching: uint256 = self._matching(round_id, weight)
    amount: uint256 = contributions + matching
    self._projects[round_id][project_id].claimed = True
    if matching > 0:
        self._rounds[round_id].matched_paid += matching
    self._rounds[round_id].paid_out += amount
    if weight > 0:
        self._rounds[round_id].settled_weighted += 1
    log IFundingRound.Claimed(round_id=round_id, project_id=project_id, to=to, contributions=contributions, matching=matching)
    self._transfer(token, to, amount)
    return amount


@internal
@view
def _matching(round_id: uint256, weight: uint256) -> uint256:
    """
    @dev floor(pool * weight / total weight), zero for a zero total.
    @param round_id The round.
    @param weight A project's weight.
    @return Its matching.
    """
    total: uint256 = self._rounds[round_id].total_weight
    if total == 0 or weight == 0:
        return 0
    return math._mul_div(self._rounds[round_id].pool, weight, total, False)


@internal
@view
def _refund_due(round_id: uint256, funder: address) -> (uint256, bool):
    """
    @dev What a finalized round owes `funder`, and whether it is the rounding remainder.
    @param round_id The round.
    @param funder A funder.
    @return The amount, and True when it is the creator's remainder.
    """
    if self._rounds[round_id].total_weight == 0:
        return self.funded[round_id][funder] - self.refunded[round_id][funder], False
    if (
        funder == self._rounds[round_id].creator
        and not self._rounds[round_id].dust_paid
        and self._rounds[round_id].settled_weighted == self._rounds[round_id].weighted_projects
    ):
        return self._rounds[round_id].pool - self._rounds[round_id].matched_paid, True
    return 0, False


@internal
def _pull(token: address, sender: address, amount: uint256):
    """
    @dev Takes `amount` of `token` from `sender`; the token must deliver it exactly.
    @param token The ERC-20.
    @param sender The payer (approved this contract).
    @param amount The amount.
    """
    before: uint256 = staticcall IERC20(token).balanceOf(self)
    assert extcall IERC20(token).transferFrom(sender, self, amount, default_return_value=True), "round: transfer failed"
    assert staticcall IERC20(token).balanceOf(self) - before == amount, "round: token delivered less than sent"


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
    assert extcall IERC20(token).transfer(to, amount, default_return_value=True), "round: transfer failed"
