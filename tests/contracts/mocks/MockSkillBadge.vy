# pragma version ~=0.4.3
"""
@title MockSkillBadge
@notice Test-only stand-in for the soulbound SkillBadge, with the ABI of
        contracts/identity/ISkillBadge.vyi: one badge per holder and skill, minted
        only by the auto-minter, which anyone may set; every mint is recorded with
        its evidence.
"""


event Minted:
    to: indexed(address)
    token_id: indexed(uint256)
    skill: String[64]
    evidence: bytes32


# @dev The only account that may mint.
auto_minter: public(address)
# @dev Tokens minted so far; ids run from 1.
minted: public(uint256)
# @dev Calls of mint_for_job (including those that minted nothing).
calls: public(uint256)
# @dev Token id per holder and skill; 0 for none.
_badges: HashMap[address, HashMap[String[64], uint256]]
# @dev Evidence (attestation uid) per token id.
evidence_of: public(HashMap[uint256, bytes32])
# @dev Holder per token id.
owner_of: public(HashMap[uint256, address])


@deploy
def __init__():
    """
    @notice Deploys the mock with no auto-minter.
    """
    pass


@external
def set_auto_minter(minter: address):
    """
    @notice Sets the auto-minter (test helper, anyone may call).
    """
    self.auto_minter = minter


@external
def mint_for_job(to: address, skill: String[64], evidence: bytes32) -> uint256:
    """
    @notice Mints the `skill` badge to `to` unless it already holds one.
    """
    assert msg.sender == self.auto_minter, "badge: caller is not the auto-minter"
    assert len(skill) > 0, "badge: empty skill"
    self.calls += 1
    if self._badges[to][skill] != 0:
        return 0
    token_id: uint256 = self.minted + 1
    self.minted = token_id
    self._badges[to][skill] = token_id
    self.evidence_of[token_id] = evidence
    self.owner_of[token_id] = to
    log Minted(to=to, token_id=token_id, skill=skill, evidence=evidence)
    return token_id


@external
@view
def badge_of(owner: address, skill: String[64]) -> uint256:
    """
    @notice The token id of `owner`'s `skill` badge, or 0 for none.
    """
    return self._badges[owner][skill]
