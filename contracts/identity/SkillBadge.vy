# pragma version ~=0.4.3
"""
@title SkillBadge
@custom:contract-name SkillBadge
@license GNU Affero General Public License v3.0 only
@notice Soulbound skill badges: ERC-721 tokens that can never be transferred or
        approved (ERC-5192: every badge is locked for good). A badge says that its
        holder has a skill, who vouches for it and on what evidence:
        - an issuer accredited in the `IssuerRegistry` mints badges with `mint`
          (at most one per issuer, holder and skill), and may revoke (burn) them;
        - the auto-minter (the JobAttester contract) mints a badge with
          `mint_for_job` when a job settles with a passing verified score, at most
          one per holder and skill (later calls return 0 and mint nothing).
@dev Built on snekmate's `erc721` module, of which only the read functions are
     exported (balanceOf, ownerOf, getApproved, isApprovedForAll, name, symbol and the
     enumeration extension); this contract defines its own transferFrom,
     safeTransferFrom (both), approve and setApprovalForAll, which always revert with
     "badge: soulbound", and its own supportsInterface and tokenURI. Since no transfer
     or approval path is exported, the module's `_transfer` is unreachable: owners
     change only by `_mint` and `_burn`. Badges are minted with `_mint`, not
     `_safe_mint`: a badge can never leave its holder, so the receiver callback would
     add a reentrancy surface and nothing else.
     Token ids start at 1 (0 means "no badge").
     tokenURI is an on-chain `data:application/json,{...}` URI: the JSON is not
     percent-encoded except for the skill, of which every byte other than A-Z a-z 0-9
     - . _ ~ is percent-encoded (after JSON escaping of quotes, backslashes and control
     characters); the static parts contain neither `%` nor `#`, so
     decodeURIComponent(uri after the comma) always gives valid JSON.
     The snekmate module's constructor grants its (unused) minter role to the deployer
     and logs RoleMinterChanged; that role has no function here.
"""

from ethereum.ercs import IERC165
from ethereum.ercs import IERC721
from snekmate.auth import ownable
from snekmate.tokens import erc721

from . import IIssuerRegistry
from . import ISkillBadge

implements: IERC165
implements: IERC721
implements: ISkillBadge

initializes: ownable
initializes: erc721[ownable := ownable]

exports: (
    ownable.owner,
    ownable.transfer_ownership,
    erc721.balanceOf,
    erc721.ownerOf,
    erc721.getApproved,
    erc721.isApprovedForAll,
    erc721.name,
    erc721.symbol,
    erc721.totalSupply,
    erc721.tokenByIndex,
    erc721.tokenOfOwnerByIndex,
)


MAX_LISTED: constant(uint256) = 256
_SOULBOUND: constant(String[16]) = "badge: soulbound"
_HEX_UPPER: constant(String[16]) = "0123456789ABCDEF"
_HEX_LOWER: constant(String[16]) = "0123456789abcdef"

# ERC-165 ids: ERC-165, ERC-721, ERC-721 Metadata, ERC-721 Enumerable, ERC-5192.
_SUPPORTED_INTERFACES: constant(bytes4[5]) = [
    0x01FFC9A7,
    0x80AC58CD,
    0x5B5E139F,
    0x780E9D63,
    0xB45A3C0E,
]


# A badge's data. `issuer` is the account that minted it: an accredited issuer, or the
# auto-minter (the JobAttester contract) for badges earned by a job.
struct Badge:
    skill: String[64]
    issuer: address
    evidence: bytes32
    minted_at: uint64


# ERC-5192: emitted once per badge, when it is minted (badges are never unlocked).
event Locked:
    tokenId: uint256


event BadgeMinted:
    token_id: indexed(uint256)
    holder: indexed(address)
    issuer: indexed(address)
    skill: String[64]
    evidence: bytes32
    by_job: bool


event BadgeRevoked:
    token_id: indexed(uint256)
    holder: indexed(address)
    issuer: indexed(address)


event AutoMinterChanged:
    auto_minter: indexed(address)


# @dev The registry whose accredited issuers may mint badges.
registry: public(immutable(IIssuerRegistry))
# @dev The only account that may call `mint_for_job` (the JobAttester); empty for none.
auto_minter: public(address)
# @dev Number of badges ever minted; it is also the id of the latest one.
minted_count: public(uint256)
# @dev Data of every existing badge; deleted when the badge is revoked.
_badges: HashMap[uint256, Badge]
# @dev keccak256 of each existing badge's skill.
_skill_hash: HashMap[uint256, bytes32]
# @dev Badges minted by `mint_for_job`: holder -> keccak256(skill) -> token id (0 for none).
_job_badge: HashMap[address, HashMap[bytes32, uint256]]
# @dev Badges minted by `mint`: issuer -> holder -> keccak256(skill) -> token id (0 for none).
_issued: HashMap[address, HashMap[address, HashMap[bytes32, uint256]]]


@deploy
def __init__(registry_: IIssuerRegistry, name_: String[25], symbol_: String[5]):
    """
    @notice Deploys the badge collection; the deployer becomes owner. The owner then
            sets the auto-minter (the JobAttester) with `set_auto_minter`.
    @param registry_ The IssuerRegistry whose accredited issuers may mint badges.
    @param name_ Collection name (at most 25 characters).
    @param symbol_ Collection symbol (at most 5 characters).
    """
    assert registry_.address != empty(address), "badge: zero registry"
    ownable.__init__()
    erc721.__init__(name_, symbol_, "", "proofwork SkillBadge", "1")
    registry = registry_


# --------------------------------------------------------------------------- admin


@external
def set_auto_minter(auto_minter_: address):
    """
    @notice Sets the account that may call `mint_for_job` (the JobAttester contract).
            Only the owner may call it, at any time (to move to a new attester, or to
            stop automatic minting with the empty address); badges already minted
            stay, and the one-badge-per-holder-and-skill rule spans all auto-minters.
    @param auto_minter_ The new auto-minter, or empty for none.
    """
    ownable._check_owner()
    self.auto_minter = auto_minter_
    log AutoMinterChanged(auto_minter=auto_minter_)


# --------------------------------------------------------------------------- minting


@external
def mint(to: address, skill: String[64], evidence: bytes32) -> uint256:
    """
    @notice An accredited issuer mints a `skill` badge to `to`; an issuer can give a
            holder one badge per skill (again after revoking it).
    @param to The holder.
    @param skill The skill (1 to 64 bytes, any UTF-8).
    @param evidence Hash of the evidence (e.g. a credential or attestation id).
    @return The new token id.
    """
    assert staticcall registry.is_accredited(msg.sender), "badge: caller is not an accredited issuer"
    skill_hash: bytes32 = self._check_skill(skill)
    assert self._issued[msg.sender][to][skill_hash] == 0, "badge: already issued"
    token_id: uint256 = self._mint_badge(to, skill, skill_hash, evidence, False)
    self._issued[msg.sender][to][skill_hash] = token_id
    return token_id


@external
def mint_for_job(to: address, skill: String[64], evidence: bytes32) -> uint256:
    """
    @notice Mints the `skill` badge to `to` unless it already holds one minted by
            this function; only the auto-minter (the job attester) may call it.
    @dev Badges from accredited issuers do not count: a holder may have both.
    @param to The freelancer.
    @param skill The job's skill category (1 to 64 bytes).
    @param evidence The JobCompleted attestation uid the badge was earned by.
    @return The new token id, or 0 when `to` already held the badge (nothing minted).
    """
    assert msg.sender == self.auto_minter and msg.sender != empty(address), "badge: caller is not the auto-minter"
    skill_hash: bytes32 = self._check_skill(skill)
    if self._job_badge[to][skill_hash] != 0:
        return 0
    token_id: uint256 = self._mint_badge(to, skill, skill_hash, evidence, True)
    self._job_badge[to][skill_hash] = token_id
    return token_id


@external
def revoke(token_id: uint256):
    """
    @notice The account that minted a badge burns it (also after losing its
            accreditation). Emits Transfer to the zero address.
    @param token_id An existing badge.
    """
    erc721._require_minted(token_id)
    data: Badge = self._badges[token_id]
    assert msg.sender == data.issuer, "badge: caller is not the badge's issuer"
    holder: address = erc721._owners[token_id]
    skill_hash: bytes32 = self._skill_hash[token_id]
    if self._job_badge[holder][skill_hash] == token_id:
        self._job_badge[holder][skill_hash] = 0
    if self._issued[data.issuer][holder][skill_hash] == token_id:
        self._issued[data.issuer][holder][skill_hash] = 0
    self._badges[token_id] = empty(Badge)
    self._skill_hash[token_id] = empty(bytes32)
    erc721._burn(token_id)
    log BadgeRevoked(token_id=token_id, holder=holder, issuer=data.issuer)


# --------------------------------------------------------------------------- soulbound


@external
@payable
def transferFrom(owner: address, to: address, token_id: uint256):
    """
    @notice Always reverts: badges are soulbound.
    """
    raise _SOULBOUND


@external
@payable
def safeTransferFrom(owner: address, to: address, token_id: uint256, data: Bytes[1_024] = b""):
    """
    @notice Always reverts (both overloads): badges are soulbound.
    """
    raise _SOULBOUND


@external
@payable
def approve(to: address, token_id: uint256):
    """
    @notice Always reverts: badges are soulbound, nobody may be approved.
    """
    raise _SOULBOUND


@external
def setApprovalForAll(operator: address, approved: bool):
    """
    @notice Always reverts: badges are soulbound, nobody may be approved.
    """
    raise _SOULBOUND


@external
@view
def locked(token_id: uint256) -> bool:
    """
    @notice ERC-5192: whether a badge is locked; always true. Reverts for a token that
            does not exist.
    @param token_id A badge.
    @return True.
    """
    erc721._require_minted(token_id)
    return True


@external
@view
def supportsInterface(interface_id: bytes4) -> bool:
    """
    @notice ERC-165: true for ERC-165, ERC-721, ERC-721 Metadata, ERC-721 Enumerable
            and ERC-5192.
    @param interface_id A 4-byte interface id.
    @return Whether the contract implements it.
    """
    return interface_id in _SUPPORTED_INTERFACES


# --------------------------------------------------------------------------- views


@external
@view
def badge(token_id: uint256) -> Badge:
    """
    @notice A badge's data. Reverts for a token that does not exist.
    @param token_id A badge.
    @return (skill, issuer, evidence, minted_at).
    """
    erc721._require_minted(token_id)
    return self._badges[token_id]


@external
@view
def badge_of(owner: address, skill: String[64]) -> uint256:
    """
    @notice The token id of `owner`'s `skill` badge, or 0 for none: the one minted for
            a job if any, else the lowest id among `owner`'s first 256 badges with
            that skill.
    @param owner A holder.
    @param skill A skill.
    @return A token id, or 0.
    """
    skill_hash: bytes32 = keccak256(skill)
    job_badge: uint256 = self._job_badge[owner][skill_hash]
    if job_badge != 0:
        return job_badge
    found: uint256 = 0
    for i: uint256 in range(min(erc721._balances[owner], MAX_LISTED), bound=MAX_LISTED):
        token_id: uint256 = erc721._owned_tokens[owner][i]
        if self._skill_hash[token_id] == skill_hash and (found == 0 or token_id < found):
            found = token_id
    return found


@external
@view
def job_badge_of(owner: address, skill: String[64]) -> uint256:
    """
    @notice The token id of the `skill` badge `owner` earned by a job, or 0 for none.
    @param owner A holder.
    @param skill A skill.
    @return A token id, or 0.
    """
    return self._job_badge[owner][keccak256(skill)]


@external
@view
def issued_badge(issuer: address, owner: address, skill: String[64]) -> uint256:
    """
    @notice The token id of the `skill` badge `issuer` minted to `owner` with `mint`, or 0.
    @param issuer An issuer.
    @param owner A holder.
    @param skill A skill.
    @return A token id, or 0.
    """
    return self._issued[issuer][owner][keccak256(skill)]


@external
@view
def tokens_of(owner: address) -> DynArray[uint256, MAX_LISTED]:
    """
    @notice The first 256 badges of `owner` (in enumeration order); use `balanceOf` and
            `tokenOfOwnerByIndex` beyond that.
    @param owner A holder.
    @return Token ids.
    """
    result: DynArray[uint256, MAX_LISTED] = []
    for i: uint256 in range(min(erc721._balances[owner], MAX_LISTED), bound=MAX_LISTED):
        result.append(erc721._owned_tokens[owner][i])
    return result


@external
@view
def tokenURI(token_id: uint256) -> String[2_048]:
    """
    @notice ERC-721 Metadata: an on-chain `data:application/json,{...}` URI with the
            badge's name, skill, issuer, evidence and minting time (see the contract's
            @dev for the encoding). Reverts for a token that does not exist.
    @param token_id A badge.
    @return The URI.
    """
    erc721._require_minted(token_id)
    data: Badge = self._badges[token_id]
    skill: String[512] = self._json_uri_escape(data.skill)
    return concat(
        'data:application/json,{"name":"',
        skill,
        ' badge","description":"Soulbound proofwork skill badge (ERC-5192)","attributes":[',
        '{"trait_type":"skill","value":"',
        skill,
        '"},{"trait_type":"issuer","value":"',
        self._hex(convert(data.issuer, uint256), 20),
        '"},{"trait_type":"evidence","value":"',
        self._hex(convert(data.evidence, uint256), 32),
        '"},{"display_type":"date","trait_type":"minted_at","value":',
        uint2str(data.minted_at),
        '},{"display_type":"number","trait_type":"token_id","value":',
        uint2str(token_id),
        "}]}",
    )


# --------------------------------------------------------------------------- internal


@internal
@pure
def _check_skill(skill: String[64]) -> bytes32:
    """
    @dev Reverts for an empty skill; returns keccak256(skill).
    @param skill A skill category.
    @return Its keccak256.
    """
    assert len(skill) > 0, "badge: empty skill"
    return keccak256(skill)


@internal
def _mint_badge(to: address, skill: String[64], skill_hash: bytes32, evidence: bytes32, by_job: bool) -> uint256:
    """
    @dev Mints the next token id to `to` (reverting for the zero address) with its data.
    @param to The holder.
    @param skill The skill category.
    @param skill_hash keccak256 of the skill.
    @param evidence The evidence (attestation uid or credential digest).
    @param by_job Whether the job attester mints it.
    @return The new token id.
    """
    token_id: uint256 = self.minted_count + 1
    self.minted_count = token_id
    self._badges[token_id] = Badge(
        skill=skill, issuer=msg.sender, evidence=evidence, minted_at=convert(block.timestamp, uint64)
    )
    self._skill_hash[token_id] = skill_hash
    erc721._mint(to, token_id)
    log Locked(tokenId=token_id)
    log BadgeMinted(token_id=token_id, holder=to, issuer=msg.sender, skill=skill, evidence=evidence, by_job=by_job)
    return token_id


@internal
@pure
def _hex(number: uint256, size: uint256) -> String[66]:
    """
    @dev "0x" and the `size` low bytes of `number` (at most 32) in lowercase hex.
    @param number The number.
    @param size Number of hex digits.
    @return The digits.
    """
    words: uint256[2] = empty(uint256[2])
    digits: uint256 = size * 2
    for i: uint256 in range(digits, bound=64):
        nibble: uint256 = (number >> (4 * (digits - 1 - i))) & 15
        char: uint256 = convert(convert(slice(_HEX_LOWER, nibble, 1), Bytes[1]), uint256)
        words[i // 32] |= char << (8 * (31 - i % 32))
    joined: Bytes[64] = concat(convert(words[0], bytes32), convert(words[1], bytes32))
    return concat("0x", convert(slice(joined, 0, digits), String[64]))


@internal
@pure
def _json_uri_escape(text: String[64]) -> String[512]:
    """
    @dev JSON-escapes `text` (quotes, backslashes and control characters) and percent-encodes every
         byte of the result other than A-Z a-z 0-9 - . _ ~ (so at most 8 bytes per byte).
    @param text The text.
    @return The escaped text.
    """
    raw: Bytes[64] = convert(text, Bytes[64])
    words: uint256[16] = empty(uint256[16])
    pos: uint256 = 0
    for i: uint256 in range(len(raw), bound=64):
        c: uint256 = convert(slice(raw, i, 1), uint256)
        piece: uint256 = c
        size: uint256 = 1
        if c == 34 or c == 92:
            # \" or \\ -> %5C%22 or %5C%5C
            piece = convert(0x253543250000, uint256) | (self._hex_upper(c >> 4) << 8) | self._hex_upper(c & 15)
            size = 6
        elif c < 32 or c == 127:
            # \u00XX -> %5Cu00XX
            piece = convert(0x2535437530300000, uint256) | (self._hex_upper(c >> 4) << 8) | self._hex_upper(c & 15)
            size = 8
        elif not (
            (c >= 48 and c <= 57) or (c >= 65 and c <= 90) or (c >= 97 and c <= 122) or c in [45, 46, 95, 126]
        ):
            piece = convert(0x250000, uint256) | (self._hex_upper(c >> 4) << 8) | self._hex_upper(c & 15)
            size = 3
        for j: uint256 in range(size, bound=8):
            out: uint256 = (piece >> (8 * (size - 1 - j))) & 255
            words[pos // 32] |= out << (8 * (31 - pos % 32))
            pos += 1
    joined: Bytes[512] = concat(
        convert(words[0], bytes32),
        convert(words[1], bytes32),
        convert(words[2], bytes32),
        convert(words[3], bytes32),
        convert(words[4], bytes32),
        convert(words[5], bytes32),
        convert(words[6], bytes32),
        convert(words[7], bytes32),
        convert(words[8], bytes32),
        convert(words[9], bytes32),
        convert(words[10], bytes32),
        convert(words[11], bytes32),
        convert(words[12], bytes32),
        convert(words[13], bytes32),
        convert(words[14], bytes32),
        convert(words[15], bytes32),
    )
    return convert(slice(joined, 0, pos), String[512])


@internal
@pure
def _hex_upper(nibble: uint256) -> uint256:
    """
    @dev The ASCII code of an uppercase hex digit.
    @param nibble 0 to 15.
    @return The ASCII code of its upper-case hex digit.
    """
    if nibble < 10:
        return 48 + nibble
    return 55 + nibble
