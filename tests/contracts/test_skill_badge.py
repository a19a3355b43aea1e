"""Unit and property tests of contracts/identity/SkillBadge.vy (ERC-721 + ERC-5192).

Minting by accredited issuers (IssuerRegistry) and by the auto-minter (once per holder
and skill), every transfer and approval path reverting, `locked`, the `Locked` event,
ERC-165 ids, the on-chain tokenURI, revocation (burn) by the minting issuer only; a
Hypothesis property checks that random sequences of mints, revocations and transfer /
approval attempts change owners and balances only by mint and burn.
"""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import boa
import eth_abi
import hypothesis.strategies as st
import pytest
from eth.exceptions import Revert
from eth_utils import function_signature_to_4byte_selector as selector
from eth_utils import keccak, to_checksum_address
from hypothesis import HealthCheck, given, settings

IDENTITY = Path(__file__).resolve().parents[2] / "contracts" / "identity"
# Own deployer accounts (see committee_fixtures.COMMITTEE_DEPLOYER for why).
DEPLOYER = to_checksum_address(keccak(b"proofwork skill badge deployer")[12:])
ZERO = "0x" + "00" * 20
ZERO32 = b"\x00" * 32
SOULBOUND = "badge: soulbound"
NOT_ISSUER = "badge: caller is not an accredited issuer"
NOT_AUTO = "badge: caller is not the auto-minter"
NO_TOKEN = "erc721: invalid token ID"
PREFIX = "data:application/json,"


def acct(label: str) -> str:
    return to_checksum_address(keccak(text=f"proofwork badge test {label}")[12:])


OWNER = acct("owner")
ISSUER = acct("issuer")
ISSUER2 = acct("issuer2")
ATTESTER = acct("job attester")
ALICE = acct("alice")
BOB = acct("bob")
OUTSIDER = acct("outsider")
EVIDENCE = keccak(b"JobCompleted attestation uid")


@pytest.fixture(scope="module")
def registry():
    with boa.env.prank(DEPLOYER):
        r = boa.load_partial(str(IDENTITY / "IssuerRegistry.vy")).deploy()
        r.accredit(ISSUER, "did:web:issuer.example", "Issuer")
        r.accredit(ISSUER2, "did:web:issuer2.example", "Issuer 2")
        r.transfer_ownership(OWNER)
    return r


@pytest.fixture(scope="session")
def badge_deployer():
    return boa.load_partial(str(IDENTITY / "SkillBadge.vy"))


@pytest.fixture(scope="module")
def badges(badge_deployer, registry):
    with boa.env.prank(DEPLOYER):
        b = badge_deployer.deploy(registry.address, "Proofwork Skill Badge", "PWSB")
        b.set_auto_minter(ATTESTER)
        b.transfer_ownership(OWNER)
    return b


def names(contract) -> list[str]:
    return [type(e).__name__ for e in contract.get_logs()]


def mint(badges, issuer, to, skill="nlp/sentiment", evidence=EVIDENCE) -> int:
    with boa.env.prank(issuer):
        return badges.mint(to, skill, evidence)


def mint_job(badges, to, skill="nlp/sentiment", evidence=EVIDENCE) -> int:
    with boa.env.prank(ATTESTER):
        return badges.mint_for_job(to, skill, evidence)


# --------------------------------------------------------------------------- deployment, admin


def test_deployment_state(badges, registry):
    assert badges.name() == "Proofwork Skill Badge"
    assert badges.symbol() == "PWSB"
    assert badges.registry() == registry.address
    assert badges.owner() == OWNER
    assert badges.auto_minter() == ATTESTER
    assert badges.totalSupply() == 0
    assert badges.minted_count() == 0
    assert badges.balanceOf(ALICE) == 0
    assert badges.tokens_of(ALICE) == []


def test_constructor_rejects_zero_registry(badge_deployer):
    with boa.reverts("badge: zero registry"):
        badge_deployer.deploy(ZERO, "Proofwork Skill Badge", "PWSB")


def test_set_auto_minter_owner_only(badges):
    for caller in (ATTESTER, ISSUER, OUTSIDER, DEPLOYER):
        with boa.env.prank(caller), boa.reverts("ownable: caller is not the owner"):
            badges.set_auto_minter(OUTSIDER)
    with boa.env.prank(OWNER):
        badges.set_auto_minter(BOB)
    (ev,) = badges.get_logs()
    assert type(ev).__name__ == "AutoMinterChanged" and ev.auto_minter == BOB
    assert badges.auto_minter() == BOB
    with boa.env.prank(ATTESTER), boa.reverts(NOT_AUTO):
        badges.mint_for_job(ALICE, "nlp", EVIDENCE)
    # disabled: nobody may auto-mint
    with boa.env.prank(OWNER):
        badges.set_auto_minter(ZERO)
    for caller in (ATTESTER, BOB, OWNER):
        with boa.env.prank(caller), boa.reverts(NOT_AUTO):
            badges.mint_for_job(ALICE, "nlp", EVIDENCE)


# --------------------------------------------------------------------------- minting


def test_mint_by_accredited_issuer(badges):
    token = mint(badges, ISSUER, ALICE, "computer-vision")
    assert token == 1
    assert names(badges) == ["Transfer", "Locked", "BadgeMinted"]
    transfer, locked, minted = badges.get_logs()
    assert (transfer.sender, transfer.receiver, transfer.token_id) == (ZERO, ALICE, 1)
    assert locked.tokenId == 1
    assert (minted.token_id, minted.holder, minted.issuer, minted.skill, minted.evidence, minted.by_job) == (
        1,
        ALICE,
        ISSUER,
        "computer-vision",
        EVIDENCE,
        False,
    )
    assert badges.ownerOf(1) == ALICE
    assert badges.balanceOf(ALICE) == 1
    assert badges.badge(1) == ("computer-vision", ISSUER, EVIDENCE, boa.env.timestamp)
    assert badges.issued_badge(ISSUER, ALICE, "computer-vision") == 1
    assert badges.badge_of(ALICE, "computer-vision") == 1
    assert badges.locked(1)
    assert badges.totalSupply() == 1 and badges.tokenByIndex(0) == 1


@pytest.mark.parametrize("caller", [OUTSIDER, OWNER, DEPLOYER, ATTESTER, ALICE])
def test_mint_refused_for_non_issuers(badges, caller):
    with boa.env.prank(caller), boa.reverts(NOT_ISSUER):
        badges.mint(ALICE, "nlp", EVIDENCE)
    assert badges.totalSupply() == 0


def test_revoked_issuer_cannot_mint(badges, registry):
    mint(badges, ISSUER, ALICE)
    with boa.env.prank(OWNER):
        registry.revoke_accreditation(ISSUER)
    with boa.env.prank(ISSUER), boa.reverts(NOT_ISSUER):
        badges.mint(BOB, "nlp", EVIDENCE)
    with boa.env.prank(OWNER):
        registry.accredit(ISSUER, "did:web:issuer.example", "Issuer")
    assert mint(badges, ISSUER, BOB) == 2


def test_one_badge_per_issuer_holder_skill(badges):
    assert mint(badges, ISSUER, ALICE, "nlp") == 1
    with boa.env.prank(ISSUER), boa.reverts("badge: already issued"):
        badges.mint(ALICE, "nlp", keccak(b"other evidence"))
    assert mint(badges, ISSUER, ALICE, "vision") == 2  # another skill
    assert mint(badges, ISSUER, BOB, "nlp") == 3  # another holder
    assert mint(badges, ISSUER2, ALICE, "nlp") == 4  # another issuer
    assert badges.balanceOf(ALICE) == 3
    assert badges.badge_of(ALICE, "nlp") == 1  # the first
    assert badges.issued_badge(ISSUER2, ALICE, "nlp") == 4


@pytest.mark.parametrize(
    ("to", "skill", "reason"),
    [(ALICE, "", "badge: empty skill"), (ZERO, "nlp", "erc721: mint to the zero address")],
)
def test_mint_validates_arguments(badges, to, skill, reason):
    with boa.env.prank(ISSUER), boa.reverts(reason):
        badges.mint(to, skill, EVIDENCE)
    with boa.env.prank(ATTESTER), boa.reverts(reason):
        badges.mint_for_job(to, skill, EVIDENCE)


def test_mint_for_job_once_per_holder_and_skill(badges):
    assert mint_job(badges, ALICE, "nlp") == 1
    assert names(badges) == ["Transfer", "Locked", "BadgeMinted"]
    assert badges.get_logs()[2].by_job
    assert badges.badge(1) == ("nlp", ATTESTER, EVIDENCE, boa.env.timestamp)
    # a second passing job in the same skill: nothing minted, 0 returned
    assert mint_job(badges, ALICE, "nlp", keccak(b"second job")) == 0
    assert badges.get_logs() == []
    assert badges.balanceOf(ALICE) == 1 and badges.minted_count() == 1
    assert badges.badge(1)[2] == EVIDENCE
    assert mint_job(badges, ALICE, "vision") == 2
    assert mint_job(badges, BOB, "nlp") == 3
    # also for a new auto-minter (a redeployed attester)
    with boa.env.prank(OWNER):
        badges.set_auto_minter(OUTSIDER)
    with boa.env.prank(OUTSIDER):
        assert badges.mint_for_job(ALICE, "nlp", EVIDENCE) == 0
        assert badges.mint_for_job(ALICE, "tabular", EVIDENCE) == 4
    assert badges.job_badge_of(ALICE, "nlp") == 1
    assert badges.job_badge_of(ALICE, "tabular") == 4
    assert badges.job_badge_of(BOB, "vision") == 0


@pytest.mark.parametrize("caller", [ISSUER, OWNER, OUTSIDER, ALICE])
def test_mint_for_job_is_auto_minter_only(badges, caller):
    with boa.env.prank(caller), boa.reverts(NOT_AUTO):
        badges.mint_for_job(ALICE, "nlp", EVIDENCE)


def test_badge_of_prefers_the_job_badge(badges):
    assert badges.badge_of(ALICE, "nlp") == 0
    mint(badges, ISSUER2, ALICE, "nlp")  # 1
    mint(badges, ISSUER, ALICE, "nlp")  # 2
    mint(badges, ISSUER, ALICE, "vision")  # 3
    assert badges.badge_of(ALICE, "nlp") == 1
    with boa.env.prank(ISSUER2):
        badges.revoke(1)
    assert badges.badge_of(ALICE, "nlp") == 2
    assert mint_job(badges, ALICE, "nlp") == 4
    assert badges.badge_of(ALICE, "nlp") == 4
    assert badges.badge_of(ALICE, "vision") == 3
    assert badges.badge_of(BOB, "nlp") == 0
    assert badges.badge_of(ALICE, "NLP") == 0  # skills are exact strings


# --------------------------------------------------------------------------- soulbound


def _transfer_and_approval_calls(badges, token):
    return {
        "transferFrom": lambda v: badges.transferFrom(ALICE, BOB, token, value=v),
        "safeTransferFrom/3": lambda v: badges.safeTransferFrom(ALICE, BOB, token, value=v),
        "safeTransferFrom/4": lambda v: badges.safeTransferFrom(ALICE, BOB, token, b"data", value=v),
        "approve": lambda v: badges.approve(BOB, token, value=v),
        "setApprovalForAll": lambda v: badges.setApprovalForAll(BOB, True),
    }


@pytest.mark.parametrize(
    "path", ["transferFrom", "safeTransferFrom/3", "safeTransferFrom/4", "approve", "setApprovalForAll"]
)
@pytest.mark.parametrize("caller", [ALICE, ISSUER, OWNER, BOB])
def test_every_transfer_and_approval_path_reverts(badges, path, caller):
    token = mint(badges, ISSUER, ALICE)
    boa.env.set_balance(caller, 10**18)
    for value in (0, 1) if path != "setApprovalForAll" else (0,):
        with boa.env.prank(caller), boa.reverts(SOULBOUND):
            _transfer_and_approval_calls(badges, token)[path](value)
    assert badges.ownerOf(token) == ALICE
    assert badges.balanceOf(ALICE) == 1 and badges.balanceOf(BOB) == 0
    assert badges.getApproved(token) == ZERO
    assert not badges.isApprovedForAll(ALICE, BOB)


def test_both_safe_transfer_overloads_exist(badges):
    """Both ERC-721 selectors are dispatched (and revert with the reason), not the fallback."""
    token = mint(badges, ISSUER, ALICE)
    reason = eth_abi.encode(["string"], [SOULBOUND])
    for types in (["address", "address", "uint256"], ["address", "address", "uint256", "bytes"]):
        signature = f"safeTransferFrom({','.join(types)})"
        calldata = selector(signature) + eth_abi.encode(types, [ALICE, BOB, token, b""][: len(types)])
        with pytest.raises(Revert) as info:
            boa.env.raw_call(badges.address, sender=ALICE, data=calldata)
        assert info.value.args[0] == selector("Error(string)") + reason


def test_locked(badges):
    with boa.reverts(NO_TOKEN):
        badges.locked(1)
    token = mint(badges, ISSUER, ALICE)
    assert badges.locked(token) is True
    with boa.reverts(NO_TOKEN):
        badges.locked(token + 1)


@pytest.mark.parametrize(
    ("interface_id", "supported"),
    [
        ("01ffc9a7", True),  # ERC-165
        ("80ac58cd", True),  # ERC-721
        ("5b5e139f", True),  # ERC-721 Metadata
        ("780e9d63", True),  # ERC-721 Enumerable
        ("b45a3c0e", True),  # ERC-5192
        ("ffffffff", False),  # ERC-165 says: must be false
        ("00000000", False),
        ("12345678", False),
        ("589c5ce2", False),  # ERC-4494 permit: not exported
        ("49064906", False),  # ERC-4906: not implemented
    ],
)
def test_supports_interface(badges, interface_id, supported):
    assert badges.supportsInterface(bytes.fromhex(interface_id)) is supported


def test_interface_ids_are_what_the_standards_say():
    assert selector("locked(uint256)").hex() == "b45a3c0e"
    erc721 = [
        "balanceOf(address)",
        "ownerOf(uint256)",
        "safeTransferFrom(address,address,uint256,bytes)",
        "safeTransferFrom(address,address,uint256)",
        "transferFrom(address,address,uint256)",
        "approve(address,uint256)",
        "setApprovalForAll(address,bool)",
        "getApproved(uint256)",
        "isApprovedForAll(address,address)",
    ]
    acc = 0
    for sig in erc721:
        acc ^= int.from_bytes(selector(sig), "big")
    assert f"{acc:08x}" == "80ac58cd"


# --------------------------------------------------------------------------- tokenURI


def decode_uri(uri: str) -> dict:
    assert uri.startswith(PREFIX)
    payload = uri[len(PREFIX) :]
    assert "#" not in payload
    return json.loads(urllib.parse.unquote(payload))


def test_token_uri(badges):
    with boa.reverts(NO_TOKEN):
        badges.tokenURI(1)
    token = mint(badges, ISSUER, ALICE, "nlp/sentiment")
    meta = decode_uri(badges.tokenURI(token))
    assert meta["name"] == "nlp/sentiment badge"
    assert "Soulbound" in meta["description"]
    attrs = {a["trait_type"]: a["value"] for a in meta["attributes"]}
    assert attrs == {
        "skill": "nlp/sentiment",
        "issuer": ISSUER.lower(),
        "evidence": "0x" + EVIDENCE.hex(),
        "minted_at": boa.env.timestamp,
        "token_id": token,
    }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(skill=st.text(min_size=1, max_size=64).filter(lambda s: len(s.encode()) <= 64))
def test_token_uri_escapes_any_skill(badges, skill):
    """Quotes, backslashes, control characters, %, # and non-ASCII survive the round trip."""
    token = mint_job(badges, ALICE, skill)
    meta = decode_uri(badges.tokenURI(token))
    assert meta["attributes"][0] == {"trait_type": "skill", "value": skill}
    assert meta["name"] == skill + " badge"
    assert badges.badge(token)[0] == skill
    assert badges.badge_of(ALICE, skill) == token


def test_token_uri_of_longest_worst_case_skill(badges):
    skill = "\x01" * 64  # every byte becomes %5Cu0001 (8 bytes)
    token = mint(badges, ISSUER, ALICE, skill)
    assert decode_uri(badges.tokenURI(token))["attributes"][0]["value"] == skill


# --------------------------------------------------------------------------- revoke


def test_revoke_by_its_issuer_only(badges):
    token = mint(badges, ISSUER, ALICE, "nlp")
    other = mint(badges, ISSUER, ALICE, "vision")
    for caller in (ALICE, ISSUER2, OWNER, ATTESTER, OUTSIDER):
        with boa.env.prank(caller), boa.reverts("badge: caller is not the badge's issuer"):
            badges.revoke(token)
    with boa.env.prank(ISSUER):
        badges.revoke(token)
    transfer, revoked = badges.get_logs()
    assert type(transfer).__name__ == "Transfer"
    assert (transfer.sender, transfer.receiver, transfer.token_id) == (ALICE, ZERO, token)
    assert type(revoked).__name__ == "BadgeRevoked"
    assert (revoked.token_id, revoked.holder, revoked.issuer) == (token, ALICE, ISSUER)
    assert badges.balanceOf(ALICE) == 1
    assert badges.tokens_of(ALICE) == [other]
    assert badges.totalSupply() == 1
    for view in (badges.ownerOf, badges.locked, badges.badge, badges.tokenURI):
        with boa.reverts(NO_TOKEN):
            view(token)
    with boa.env.prank(ISSUER), boa.reverts(NO_TOKEN):
        badges.revoke(token)
    assert badges.badge_of(ALICE, "nlp") == 0
    assert badges.issued_badge(ISSUER, ALICE, "nlp") == 0
    # the issuer may issue it again: a new id
    assert mint(badges, ISSUER, ALICE, "nlp") == 3


def test_revoked_issuer_may_still_revoke(badges, registry):
    token = mint(badges, ISSUER, ALICE)
    with boa.env.prank(OWNER):
        registry.revoke_accreditation(ISSUER)
    with boa.env.prank(ISSUER):
        badges.revoke(token)
    assert badges.balanceOf(ALICE) == 0


def test_revoking_a_job_badge_lets_a_later_job_mint_again(badges):
    token = mint_job(badges, ALICE, "nlp")
    with boa.env.prank(ISSUER), boa.reverts("badge: caller is not the badge's issuer"):
        badges.revoke(token)
    with boa.env.prank(ATTESTER):
        badges.revoke(token)
    assert badges.job_badge_of(ALICE, "nlp") == 0
    assert mint_job(badges, ALICE, "nlp") == token + 1


def test_enumeration_helpers(badges):
    ids = [mint(badges, ISSUER, ALICE, f"skill-{i}") for i in range(5)]
    mint(badges, ISSUER, BOB, "skill-0")
    assert badges.tokens_of(ALICE) == ids
    assert [badges.tokenOfOwnerByIndex(ALICE, i) for i in range(5)] == ids
    with boa.env.prank(ISSUER):
        badges.revoke(ids[1])
    assert sorted(badges.tokens_of(ALICE)) == [ids[0], *ids[2:]]
    assert badges.tokens_of(BOB) == [6]
    assert badges.totalSupply() == 5


# --------------------------------------------------------------------------- property

HOLDERS = [ALICE, BOB, OUTSIDER]
MINTERS = [ISSUER, ISSUER2, ATTESTER, OUTSIDER]  # OUTSIDER may do neither
SKILLS = ["nlp", "vision", "tabular"]

action = st.one_of(
    st.tuples(st.just("mint"), st.integers(0, 3), st.integers(0, 2), st.integers(0, 2)),
    st.tuples(st.just("job"), st.integers(0, 3), st.integers(0, 2), st.integers(0, 2)),
    st.tuples(st.just("revoke"), st.integers(0, 3), st.integers(0, 12), st.just(0)),
    st.tuples(
        st.sampled_from(
            ["transferFrom", "safeTransferFrom/3", "safeTransferFrom/4", "approve", "setApprovalForAll"]
        ),
        st.integers(0, 2),
        st.integers(0, 12),
        st.integers(0, 2),
    ),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(action, min_size=1, max_size=15))
def test_owners_change_only_by_mint_and_burn(badges, actions):
    owners: dict[int, str] = {}  # live token -> holder
    minter_of: dict[int, str] = {}
    issued: set[tuple[str, str, str]] = set()  # (issuer, holder, skill) via mint
    job: set[tuple[str, str]] = set()  # (holder, skill) via mint_for_job
    token_skill: dict[int, str] = {}
    next_id = 1
    for kind, a, b, c in actions:
        if kind in ("mint", "job"):
            minter, holder, skill = MINTERS[a], HOLDERS[b], SKILLS[c]
            with boa.env.prank(minter):
                if kind == "mint":
                    if minter not in (ISSUER, ISSUER2):
                        with boa.reverts(NOT_ISSUER):
                            badges.mint(holder, skill, EVIDENCE)
                    elif (minter, holder, skill) in issued:
                        with boa.reverts("badge: already issued"):
                            badges.mint(holder, skill, EVIDENCE)
                    else:
                        assert badges.mint(holder, skill, EVIDENCE) == next_id
                        issued.add((minter, holder, skill))
                        owners[next_id], minter_of[next_id], token_skill[next_id] = holder, minter, skill
                        next_id += 1
                elif minter != ATTESTER:
                    with boa.reverts(NOT_AUTO):
                        badges.mint_for_job(holder, skill, EVIDENCE)
                elif (holder, skill) in job:
                    assert badges.mint_for_job(holder, skill, EVIDENCE) == 0
                else:
                    assert badges.mint_for_job(holder, skill, EVIDENCE) == next_id
                    job.add((holder, skill))
                    owners[next_id], minter_of[next_id], token_skill[next_id] = holder, minter, skill
                    next_id += 1
        elif kind == "revoke":
            caller, token = MINTERS[a], b
            with boa.env.prank(caller):
                if token not in owners:
                    with boa.reverts(NO_TOKEN):
                        badges.revoke(token)
                elif minter_of[token] != caller:
                    with boa.reverts("badge: caller is not the badge's issuer"):
                        badges.revoke(token)
                else:
                    badges.revoke(token)
                    holder, skill = owners.pop(token), token_skill[token]
                    issued.discard((caller, holder, skill))
                    if caller == ATTESTER:
                        job.discard((holder, skill))
        else:
            caller, token, to = HOLDERS[a], b, HOLDERS[c]
            with boa.env.prank(caller), boa.reverts(SOULBOUND):
                _attempt(badges, kind, caller, to, token)

        # after every step: owners and balances are exactly the model's
        for token in range(1, next_id + 1):
            if token in owners:
                assert badges.ownerOf(token) == owners[token]
                assert badges.locked(token)
            else:
                with boa.reverts(NO_TOKEN):
                    badges.ownerOf(token)
        for holder in HOLDERS:
            mine = sorted(t for t, h in owners.items() if h == holder)
            assert badges.balanceOf(holder) == len(mine)
            assert sorted(badges.tokens_of(holder)) == mine
            assert not any(badges.isApprovedForAll(holder, other) for other in HOLDERS)
        assert badges.totalSupply() == len(owners)
        assert badges.minted_count() == next_id - 1


def _attempt(badges, kind: str, caller: str, to: str, token: int) -> None:
    if kind == "transferFrom":
        badges.transferFrom(caller, to, token)
    elif kind == "safeTransferFrom/3":
        badges.safeTransferFrom(caller, to, token)
    elif kind == "safeTransferFrom/4":
        badges.safeTransferFrom(caller, to, token, b"x")
    elif kind == "approve":
        badges.approve(to, token)
    else:
        badges.setApprovalForAll(to, True)
