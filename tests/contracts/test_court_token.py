"""Tests of contracts/court/CourtToken.vy: PWK, ERC-20 + EIP-2612 permit (snekmate) with
ERC-5805 votes (contracts/court/votes.vy) and the ERC-6372 block-number clock.

Unit tests pin the surface, the revert reasons and the checkpoints across blocks; the
stateful machine drives random transfers, transferFroms, delegations (direct and by
signature) and block advances against a Python model that keeps every block's votes.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import boa
import hypothesis.strategies as st
import pytest
from escrow_harness import chain_id, new_account, now, permit_signature
from escrow_model import ZERO_ADDRESS
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address
from hypothesis import HealthCheck, given, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

TOKEN_PATH = Path(__file__).resolve().parents[2] / "contracts" / "court" / "CourtToken.vy"
# Deployed from an address of its own (see committee_fixtures.COMMITTEE_DEPLOYER): titanoboa's
# per-address storage trace must not mix this token with another module's contracts.
DEPLOYER = to_checksum_address(keccak(b"proofwork court token deployer")[12:])
NAME, SYMBOL = "proofwork court", "PWK"
E18 = 10**18
SUPPLY = 1_000_000 * E18
MAX_UINT = 2**256 - 1
HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
SECP_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

HOLDERS = [new_account(f"pwk holder {i}") for i in range(4)]
A, B, C, D = HOLDERS
OUTSIDER = new_account("pwk outsider")

_DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def delegation_signature(account, token, delegatee: str, nonce: int, expiry: int):
    """EIP-712 Delegation(address delegatee,uint256 nonce,uint256 expiry) (v, r, s) of `account`."""
    message = {
        "types": {
            "EIP712Domain": _DOMAIN_FIELDS,
            "Delegation": [
                {"name": "delegatee", "type": "address"},
                {"name": "nonce", "type": "uint256"},
                {"name": "expiry", "type": "uint256"},
            ],
        },
        "primaryType": "Delegation",
        "domain": {
            "name": NAME,
            "version": "1",
            "chainId": chain_id(),
            "verifyingContract": str(token.address),
        },
        "message": {"delegatee": str(delegatee), "nonce": nonce, "expiry": expiry},
    }
    signed = account.sign_message(encode_typed_data(full_message=message))
    return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")


def events(contract, name: str) -> list:
    return [e for e in contract.get_logs() if type(e).__name__ == name]


def block() -> int:
    return boa.env.evm.patch.block_number


@pytest.fixture(scope="module")
def pwk_deployer():
    return boa.load_partial(str(TOKEN_PATH))


@pytest.fixture(scope="module")
def pwk(pwk_deployer):
    with boa.env.prank(DEPLOYER):
        token = pwk_deployer.deploy(SUPPLY)
    for h in HOLDERS:
        token.transfer(h.address, 1_000 * E18, sender=DEPLOYER)
    boa.env.time_travel(blocks=1)
    return token


# ---------------------------------------------------------------- surface


def test_metadata_and_fixed_supply(pwk_deployer):
    with boa.env.prank(DEPLOYER):
        t = pwk_deployer.deploy(SUPPLY)
    (mint,) = events(t, "Transfer")
    assert (mint.sender, mint.receiver, mint.value) == (ZERO_ADDRESS, DEPLOYER, SUPPLY)
    assert (t.name(), t.symbol(), t.decimals()) == (NAME, SYMBOL, 18)
    assert t.totalSupply() == SUPPLY == t.balanceOf(DEPLOYER)
    assert t.getVotes(DEPLOYER) == 0  # tokens vote only once delegated
    assert t.delegates(DEPLOYER) == ZERO_ADDRESS
    fields, name, version, chain, verifying, _, _ = t.eip712Domain()
    assert (fields, name, version, chain, verifying) == (b"\x0f", NAME, "1", chain_id(), t.address)
    assert t.clock() == block()
    assert t.CLOCK_MODE() == "mode=blocknumber&from=default"
    deployed = block()
    boa.env.time_travel(blocks=1)
    assert t.getPastTotalSupply(deployed) == SUPPLY
    assert t.getPastTotalSupply(deployed - 1) == 0


def test_no_mint_burn_or_owner_functions(pwk):
    """Fixed supply: the snekmate functions that change the supply or hand out roles are not exported."""
    for missing in (
        "mint",
        "burn",
        "burn_from",
        "set_minter",
        "owner",
        "transfer_ownership",
        "renounce_ownership",
    ):
        assert not hasattr(pwk, missing), missing


def test_domain_separator_matches_eip712(pwk):
    signable = encode_typed_data(
        full_message={
            "types": {"EIP712Domain": _DOMAIN_FIELDS, "Empty": []},
            "primaryType": "Empty",
            "domain": {"name": NAME, "version": "1", "chainId": chain_id(), "verifyingContract": pwk.address},
            "message": {},
        }
    )
    assert pwk.DOMAIN_SEPARATOR() == signable.header


def test_supply_cap(pwk_deployer):
    """Checkpoints hold 208 bits: a larger supply is refused at deployment."""
    with boa.env.prank(DEPLOYER):
        with boa.reverts("pwk: supply over 2**208"):
            pwk_deployer.deploy(2**208)
        t = pwk_deployer.deploy(2**208 - 1)
    t.delegate(DEPLOYER, sender=DEPLOYER)
    assert t.getVotes(DEPLOYER) == 2**208 - 1


def test_erc20_reverts(pwk):
    with boa.reverts("erc20: transfer amount exceeds balance"):
        pwk.transfer(B.address, 1_000 * E18 + 1, sender=A.address)
    with boa.reverts("erc20: transfer to the zero address"):
        pwk.transfer(ZERO_ADDRESS, 1, sender=A.address)
    with boa.reverts("erc20: insufficient allowance"):
        pwk.transferFrom(A.address, B.address, 1, sender=C.address)
    pwk.approve(C.address, 5, sender=A.address)
    with boa.reverts("erc20: insufficient allowance"):
        pwk.transferFrom(A.address, B.address, 6, sender=C.address)
    assert pwk.transferFrom(A.address, B.address, 5, sender=C.address)
    assert pwk.allowance(A.address, C.address) == 0
    pwk.approve(C.address, MAX_UINT, sender=A.address)
    pwk.transferFrom(A.address, B.address, 7, sender=C.address)
    assert pwk.allowance(A.address, C.address) == MAX_UINT  # an infinite approval stays
    assert pwk.balanceOf(B.address) == 1_000 * E18 + 12


# ---------------------------------------------------------------- delegation and votes


def test_self_delegation_counts_and_logs(pwk):
    pwk.delegate(A.address, sender=A.address)
    (changed,) = events(pwk, "DelegateChanged")
    assert (changed.delegator, changed.fromDelegate, changed.toDelegate) == (
        A.address,
        ZERO_ADDRESS,
        A.address,
    )
    (moved,) = events(pwk, "DelegateVotesChanged")
    assert (moved.delegate, moved.previousVotes, moved.newVotes) == (A.address, 0, 1_000 * E18)
    assert pwk.getVotes(A.address) == 1_000 * E18
    assert pwk.delegates(A.address) == A.address


def test_undelegated_tokens_vote_for_nobody(pwk):
    pwk.delegate(A.address, sender=A.address)
    pwk.transfer(B.address, 300 * E18, sender=A.address)  # B never delegated
    (moved,) = events(pwk, "DelegateVotesChanged")  # (read before any view call replaces the logs)
    assert (moved.delegate, moved.previousVotes, moved.newVotes) == (A.address, 1_000 * E18, 700 * E18)
    assert pwk.getVotes(A.address) == 700 * E18
    assert pwk.getVotes(B.address) == 0
    pwk.delegate(B.address, sender=B.address)  # now B's whole balance counts
    assert pwk.getVotes(B.address) == 1_300 * E18


def test_transfer_between_delegates_moves_votes(pwk):
    pwk.delegate(A.address, sender=A.address)
    pwk.delegate(C.address, sender=B.address)  # B votes through C, who holds tokens but never delegated
    pwk.transfer(B.address, 250 * E18, sender=A.address)
    moved = [(e.delegate, e.previousVotes, e.newVotes) for e in events(pwk, "DelegateVotesChanged")]
    assert moved == [(A.address, 1_000 * E18, 750 * E18), (C.address, 1_000 * E18, 1_250 * E18)]
    assert pwk.getVotes(A.address) == 750 * E18
    assert pwk.getVotes(B.address) == 0
    assert pwk.getVotes(C.address) == 1_250 * E18
    pwk.approve(D.address, MAX_UINT, sender=B.address)
    pwk.transferFrom(B.address, A.address, 50 * E18, sender=D.address)
    assert pwk.getVotes(A.address) == 800 * E18
    assert pwk.getVotes(C.address) == 1_200 * E18


def test_transfer_within_one_delegate_logs_nothing(pwk):
    pwk.delegate(C.address, sender=A.address)
    pwk.delegate(C.address, sender=B.address)
    pwk.transfer(B.address, 10 * E18, sender=A.address)
    assert events(pwk, "DelegateVotesChanged") == []
    assert pwk.getVotes(C.address) == 2_000 * E18


def test_redelegate_and_undelegate(pwk):
    pwk.delegate(B.address, sender=A.address)
    pwk.delegate(C.address, sender=A.address)
    moved = [(e.delegate, e.previousVotes, e.newVotes) for e in events(pwk, "DelegateVotesChanged")]
    assert moved == [(B.address, 1_000 * E18, 0), (C.address, 0, 1_000 * E18)]
    (changed,) = events(pwk, "DelegateChanged")
    assert (changed.fromDelegate, changed.toDelegate) == (B.address, C.address)
    pwk.delegate(ZERO_ADDRESS, sender=A.address)
    assert pwk.getVotes(C.address) == 0
    assert pwk.delegates(A.address) == ZERO_ADDRESS
    pwk.transfer(B.address, 1 * E18, sender=A.address)  # nothing to move for an undelegated sender
    assert events(pwk, "DelegateVotesChanged") == []


def test_zero_address_has_no_votes(pwk):
    """The supply's checkpoints live under the zero address; it never shows them as votes."""
    pwk.delegate(A.address, sender=A.address)
    boa.env.time_travel(blocks=2)
    assert pwk.getVotes(ZERO_ADDRESS) == 0
    assert pwk.getPastVotes(ZERO_ADDRESS, block() - 1) == 0
    assert pwk.numCheckpoints(ZERO_ADDRESS) == 0
    with boa.reverts("pwk: no such checkpoint"):
        pwk.checkpoints(ZERO_ADDRESS, 0)


# ---------------------------------------------------------------- checkpoints across blocks


def test_checkpoints_across_blocks(pwk):
    b0 = block()
    pwk.delegate(A.address, sender=A.address)
    pwk.transfer(B.address, 100 * E18, sender=A.address)  # same block: the checkpoint is overwritten
    assert pwk.numCheckpoints(A.address) == 1
    assert pwk.checkpoints(A.address, 0) == (b0, 900 * E18)
    boa.env.time_travel(blocks=5)
    b1 = block()
    pwk.transfer(B.address, 200 * E18, sender=A.address)
    boa.env.time_travel(blocks=3)
    b2 = block()
    pwk.delegate(B.address, sender=B.address)
    pwk.transfer(A.address, 50 * E18, sender=B.address)
    boa.env.time_travel(blocks=1)
    assert pwk.numCheckpoints(A.address) == 3
    assert [pwk.checkpoints(A.address, i) for i in range(3)] == [
        (b0, 900 * E18),
        (b1, 700 * E18),
        (b2, 750 * E18),
    ]
    with boa.reverts("pwk: no such checkpoint"):
        pwk.checkpoints(A.address, 3)
    expected_a = {
        b0 - 1: 0,
        b0: 900 * E18,
        b1 - 1: 900 * E18,
        b1: 700 * E18,
        b2 - 1: 700 * E18,
        b2: 750 * E18,
    }
    for b, v in expected_a.items():
        assert pwk.getPastVotes(A.address, b) == v, b
    assert pwk.getPastVotes(B.address, b2 - 1) == 0
    assert pwk.getPastVotes(B.address, b2) == 1_250 * E18
    assert pwk.getVotes(A.address) == 750 * E18
    for b in (b0 - 1, b0, b1, b2):
        assert pwk.getPastTotalSupply(b) == SUPPLY


def test_future_lookup_reverts(pwk):
    now_block = pwk.clock()
    with boa.reverts("pwk: future lookup"):
        pwk.getPastVotes(A.address, now_block)
    with boa.reverts("pwk: future lookup"):
        pwk.getPastTotalSupply(now_block)
    with boa.reverts("pwk: future lookup"):
        pwk.getPastVotes(A.address, now_block + 10)
    assert pwk.getPastVotes(A.address, now_block - 1) == 0


def test_binary_search_over_many_checkpoints(pwk):
    """37 checkpoints at uneven block gaps: every block in range answers the last value set at or before it."""
    pwk.delegate(A.address, sender=A.address)
    history = [(block(), 1_000 * E18)]
    votes = 1_000 * E18
    for i in range(36):
        boa.env.time_travel(blocks=1 + (i * 7) % 5)
        votes -= (i + 1) * E18
        pwk.transfer(B.address, (i + 1) * E18, sender=A.address)
        history.append((block(), votes))
    boa.env.time_travel(blocks=1)
    assert pwk.numCheckpoints(A.address) == len(history)
    first, last = history[0][0], block()
    expected, k = 0, 0
    for b in range(first - 2, last):
        while k < len(history) and history[k][0] <= b:
            expected = history[k][1]
            k += 1
        assert pwk.getPastVotes(A.address, b) == expected, b


@given(
    steps=st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 1_000), st.booleans()),
        min_size=1,
        max_size=40,
    )
)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_past_votes_match_history(pwk, steps):
    """Property: after any sequence of A -> B transfers (0 to 4 blocks apart, several per block),
    every block from before A's first checkpoint to the last one answers the value A's votes
    and B's had at its end, for A self-delegated and B delegating to D."""
    pwk.delegate(A.address, sender=A.address)
    pwk.delegate(D.address, sender=B.address)
    at_end = {block(): (1_000 * E18, 1_000 * E18)}
    a_votes, d_votes = 1_000 * E18, 1_000 * E18
    for gap, amount, back in steps:
        if gap:
            boa.env.time_travel(blocks=gap)
        src, dst = (B, A) if back else (A, B)
        amount = min(amount * E18 // 10, pwk.balanceOf(src.address))
        pwk.transfer(dst.address, amount, sender=src.address)
        a_votes += -amount if src is A else amount
        d_votes += amount if src is A else -amount
        at_end[block()] = (a_votes, d_votes)
    boa.env.time_travel(blocks=1)
    assert pwk.getVotes(A.address) == a_votes and pwk.getVotes(D.address) == d_votes
    assert pwk.numCheckpoints(A.address) <= len(at_end)
    first = min(at_end)
    expected = (0, 0)
    for b in range(first - 1, block()):
        expected = at_end.get(b, expected)
        assert (pwk.getPastVotes(A.address, b), pwk.getPastVotes(D.address, b)) == expected, b
        assert pwk.getPastTotalSupply(b) == SUPPLY


# ---------------------------------------------------------------- permit (EIP-2612)


def test_permit(pwk):
    deadline = now() + 3600
    v, r, s = permit_signature(A, pwk, C.address, 400 * E18, deadline)
    pwk.permit(A.address, C.address, 400 * E18, deadline, v, r, s, sender=OUTSIDER.address)
    assert pwk.allowance(A.address, C.address) == 400 * E18
    assert pwk.nonces(A.address) == 1
    with boa.reverts("erc20: invalid signature"):  # replay: the nonce moved on
        pwk.permit(A.address, C.address, 400 * E18, deadline, v, r, s, sender=OUTSIDER.address)
    v2, r2, s2 = permit_signature(A, pwk, C.address, 1, now() - 1)
    with boa.reverts("erc20: expired deadline"):
        pwk.permit(A.address, C.address, 1, now() - 1, v2, r2, s2, sender=OUTSIDER.address)
    pwk.delegate(A.address, sender=A.address)
    pwk.delegate(D.address, sender=B.address)
    pwk.transferFrom(A.address, B.address, 400 * E18, sender=C.address)
    assert pwk.getVotes(A.address) == 600 * E18
    assert pwk.getVotes(D.address) == 1_400 * E18


# ---------------------------------------------------------------- delegateBySig


def test_delegate_by_sig(pwk):
    expiry = now() + 3600
    v, r, s = delegation_signature(A, pwk, B.address, 0, expiry)
    pwk.delegateBySig(B.address, 0, expiry, v, r, s, sender=OUTSIDER.address)
    (changed,) = events(pwk, "DelegateChanged")
    assert (changed.delegator, changed.fromDelegate, changed.toDelegate) == (
        A.address,
        ZERO_ADDRESS,
        B.address,
    )
    assert pwk.delegates(A.address) == B.address
    assert pwk.getVotes(B.address) == 1_000 * E18
    assert pwk.nonces(A.address) == 1
    with boa.reverts("pwk: invalid nonce"):  # replay
        pwk.delegateBySig(B.address, 0, expiry, v, r, s, sender=OUTSIDER.address)


def test_delegate_by_sig_shares_nonces_with_permit(pwk):
    deadline = now() + 3600
    stale = delegation_signature(A, pwk, A.address, 0, deadline)
    pv, pr, ps = permit_signature(A, pwk, C.address, 1, deadline)
    pwk.permit(A.address, C.address, 1, deadline, pv, pr, ps, sender=OUTSIDER.address)
    with boa.reverts("pwk: invalid nonce"):  # the permit used nonce 0
        pwk.delegateBySig(A.address, 0, deadline, *stale, sender=OUTSIDER.address)
    fresh = delegation_signature(A, pwk, A.address, 1, deadline)
    pwk.delegateBySig(A.address, 1, deadline, *fresh, sender=OUTSIDER.address)
    assert pwk.getVotes(A.address) == 1_000 * E18
    assert pwk.nonces(A.address) == 2
    old_permit = permit_signature(A, pwk, C.address, 5, deadline, nonce=2)
    fresh2 = delegation_signature(A, pwk, B.address, 2, deadline)
    pwk.delegateBySig(B.address, 2, deadline, *fresh2, sender=OUTSIDER.address)
    with boa.reverts("erc20: invalid signature"):  # and the delegation used nonce 2
        pwk.permit(A.address, C.address, 5, deadline, *old_permit, sender=OUTSIDER.address)


def test_delegate_by_sig_expired(pwk):
    expiry = now() + 60
    v, r, s = delegation_signature(A, pwk, B.address, 0, expiry)
    boa.env.time_travel(seconds=61)
    with boa.reverts("pwk: signature expired"):
        pwk.delegateBySig(B.address, 0, expiry, v, r, s, sender=OUTSIDER.address)
    assert pwk.nonces(A.address) == 0


def test_delegate_by_sig_future_nonce(pwk):
    expiry = now() + 3600
    v, r, s = delegation_signature(A, pwk, B.address, 1, expiry)
    with boa.reverts("pwk: invalid nonce"):
        pwk.delegateBySig(B.address, 1, expiry, v, r, s, sender=OUTSIDER.address)


def test_delegate_by_sig_bad_signatures(pwk):
    expiry = now() + 3600
    v, r, s = delegation_signature(A, pwk, B.address, 0, expiry)
    high_s = (SECP_N - int.from_bytes(s, "big")).to_bytes(32, "big")  # the malleable twin
    assert int.from_bytes(high_s, "big") > HALF_N
    with boa.reverts("pwk: invalid signature"):
        pwk.delegateBySig(B.address, 0, expiry, 55 - v, r, high_s, sender=OUTSIDER.address)
    with boa.reverts("pwk: invalid signature"):  # r = 0: ecrecover finds nobody
        pwk.delegateBySig(B.address, 0, expiry, v, b"\x00" * 32, s, sender=OUTSIDER.address)
    with boa.reverts("pwk: invalid signature"):  # v neither 27 nor 28
        pwk.delegateBySig(B.address, 0, expiry, 29, r, s, sender=OUTSIDER.address)
    # A tampered message (another delegatee) recovers some other key, not A: with nonce 0 it
    # "delegates" that stranger's empty balance; A's delegation and nonce are untouched.
    pwk.delegateBySig(C.address, 0, expiry, v, r, s, sender=OUTSIDER.address)
    (changed,) = events(pwk, "DelegateChanged")
    assert changed.delegator != A.address and changed.toDelegate == C.address
    assert pwk.delegates(A.address) == ZERO_ADDRESS
    assert pwk.nonces(A.address) == 0
    assert pwk.getVotes(C.address) == 0
    # A signature by another key for A's intent delegates that key's own balance, not A's.
    bv, br, bs = delegation_signature(B, pwk, C.address, 0, expiry)
    pwk.delegateBySig(C.address, 0, expiry, bv, br, bs, sender=OUTSIDER.address)
    assert pwk.delegates(B.address) == C.address and pwk.delegates(A.address) == ZERO_ADDRESS
    # The genuine signature still works afterwards.
    pwk.delegateBySig(B.address, 0, expiry, v, r, s, sender=OUTSIDER.address)
    assert pwk.delegates(A.address) == B.address


# ---------------------------------------------------------------- stateful machine

STATS: Counter = Counter()
ACTORS = [DEPLOYER] + [h.address for h in HOLDERS]
SIGNERS = {h.address: h for h in HOLDERS}
DELEGATEES = [*ACTORS, OUTSIDER.address, ZERO_ADDRESS]
actor = st.sampled_from(ACTORS)
delegatee = st.sampled_from(DELEGATEES)


class VotesMachine(RuleBasedStateMachine):
    """Random transfers, transferFroms, delegations and block advances against a model that
    keeps the votes and supply at the end of every block since deployment."""

    def __init__(self, token, deployed: int):
        super().__init__()
        self.anchor = boa.env.anchor()  # each run starts from the fresh deployment
        self.anchor.__enter__()
        self.t = token
        self.deployed = deployed
        self.balances = {a: 0 for a in ACTORS}
        self.balances[DEPLOYER] = SUPPLY
        self.delegates = {a: ZERO_ADDRESS for a in ACTORS}
        self.nonces = {a: 0 for a in ACTORS}
        self.allowances: dict[tuple[str, str], int] = {}
        # (first block, votes per delegatee) of each run of blocks with the same state, oldest first
        self.segments: list[tuple[int, dict[str, int]]] = []
        self.before: dict[str, int] = {}  # votes when the current block began
        self.changes: Counter = Counter()  # rules that changed each delegatee's votes in this block
        self.changed_in: dict[str, int] = {}  # last block in which each delegatee's votes changed
        for h in HOLDERS:  # everyone starts with tokens
            self.t.transfer(h.address, 1_000 * E18, sender=DEPLOYER)
            self.balances[h.address] += 1_000 * E18
            self.balances[DEPLOYER] -= 1_000 * E18
        for who, to in ((A, A.address), (B, B.address), (C, OUTSIDER.address)):  # and some already vote
            self.t.delegate(to, sender=who.address)
            self.delegates[who.address] = to
        self.before = self.votes()

    def note(self, before: dict[str, int]):
        """Counts what the last rule changed, for the coverage figures of the test."""
        after = self.votes()
        for d in DELEGATEES:
            if after[d] != before[d]:
                self.changes[d] += 1
                if self.changes[d] == 2:
                    STATS["checkpoint rewritten in its block"] += 1

    def votes(self) -> dict[str, int]:
        v = {d: 0 for d in DELEGATEES}
        for a, bal in self.balances.items():
            if self.delegates[a] != ZERO_ADDRESS:
                v[self.delegates[a]] += bal
        return v

    @rule(src=actor, dst=actor, frac=st.integers(0, 100), next_block=st.booleans())
    def transfer(self, src, dst, frac, next_block):
        before = self.votes()
        amount = self.balances[src] * frac // 100
        self.t.transfer(dst, amount, sender=src)
        self.balances[src] -= amount
        self.balances[dst] += amount
        self.note(before)
        if next_block:
            self.advance(1)

    @rule(src=actor, dst=actor, frac=st.integers(0, 110), spender=actor, infinite=st.booleans())
    def transfer_from(self, src, dst, frac, spender, infinite):
        amount = self.balances[src] * frac // 100
        allowance = MAX_UINT if infinite else amount
        self.t.approve(spender, allowance, sender=src)
        if amount > self.balances[src]:
            with boa.reverts("erc20: transfer amount exceeds balance"):
                self.t.transferFrom(src, dst, amount, sender=spender)
            return
        before = self.votes()
        self.t.transferFrom(src, dst, amount, sender=spender)
        assert self.t.allowance(src, spender) == (MAX_UINT if infinite else 0)
        self.balances[src] -= amount
        self.balances[dst] += amount
        self.note(before)

    @rule(who=actor, to=delegatee)
    def delegate(self, who, to):
        before = self.votes()
        self.t.delegate(to, sender=who)
        self.delegates[who] = to
        self.note(before)

    @rule(who=st.sampled_from(sorted(SIGNERS)), to=delegatee, replay=st.booleans())
    def delegate_by_sig(self, who, to, replay):
        nonce = self.nonces[who]
        sig = delegation_signature(SIGNERS[who], self.t, to, nonce, now() + 100)
        before = self.votes()
        self.t.delegateBySig(to, nonce, now() + 100, *sig, sender=OUTSIDER.address)
        self.delegates[who] = to
        self.nonces[who] += 1
        self.note(before)
        if replay:
            with boa.reverts("pwk: invalid nonce"):
                self.t.delegateBySig(to, nonce, now() + 100, *sig, sender=OUTSIDER.address)

    @rule(blocks=st.sampled_from([1, 1, 1, 1, 2, 3, 17, 500]))
    def advance(self, blocks):
        votes, b = self.votes(), block()
        self.segments.append((b, votes))
        for d in DELEGATEES:
            if votes[d] != self.before[d]:
                if self.changed_in.get(d) == b - 1:
                    STATS["votes changed in consecutive blocks"] += 1
                self.changed_in[d] = b
        self.before, self.changes = votes, Counter()
        boa.env.time_travel(blocks=blocks)

    @invariant()
    def balances_conserved(self):
        for a, bal in self.balances.items():
            assert self.t.balanceOf(a) == bal
        assert sum(self.balances.values()) == SUPPLY == self.t.totalSupply()

    @invariant()
    def current_votes(self):
        model = self.votes()
        chain = {d: self.t.getVotes(d) for d in DELEGATEES}
        assert chain == {**model, ZERO_ADDRESS: 0}
        delegated = sum(bal for a, bal in self.balances.items() if self.delegates[a] != ZERO_ADDRESS)
        assert sum(chain.values()) == delegated
        for a in ACTORS:
            assert self.t.delegates(a) == self.delegates[a]
            assert self.t.nonces(a) == self.nonces[a]

    @invariant()
    def last_block_votes(self):
        """The block just closed answers the model's votes of the latest run of blocks."""
        if self.segments:
            _, votes = self.segments[-1]
            b = block() - 1
            assert self.t.getPastTotalSupply(b) == SUPPLY
            for d in DELEGATEES:
                assert self.t.getPastVotes(d, b) == (votes[d] if d != ZERO_ADDRESS else 0), (d, b)

    def teardown(self):
        """Every past block of the run: the blocks before and of deployment, and every block of each run
        of equal state (its first 10 and its last, when it is longer)."""
        try:
            assert self.t.getPastTotalSupply(self.deployed - 1) == 0
            assert self.t.getPastTotalSupply(self.deployed) == SUPPLY
            for d in DELEGATEES:
                assert self.t.getPastVotes(d, self.deployed - 1) == 0
                assert self.t.getPastVotes(d, self.deployed) == 0  # nobody had delegated yet
            for i, (start, votes) in enumerate(self.segments):
                end = self.segments[i + 1][0] if i + 1 < len(self.segments) else block()
                for b in sorted(set(range(start, min(end, start + 10))) | {end - 1}):
                    assert self.t.getPastTotalSupply(b) == SUPPLY
                    for d in DELEGATEES:
                        assert self.t.getPastVotes(d, b) == (votes[d] if d != ZERO_ADDRESS else 0), (d, b)
        finally:
            self.anchor.__exit__(None, None, None)


MACHINE_SETTINGS = settings(
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def test_votes_machine(pwk_deployer):
    STATS.clear()
    with boa.env.anchor():
        with boa.env.prank(DEPLOYER):
            token = pwk_deployer.deploy(SUPPLY)
        deployed = block()
        boa.env.time_travel(blocks=1)
        run_state_machine_as_test(lambda: VotesMachine(token, deployed), settings=MACHINE_SETTINGS)
    print("coverage:", sorted(STATS.items()))
    assert STATS["checkpoint rewritten in its block"] >= 10
    assert STATS["votes changed in consecutive blocks"] >= 10
