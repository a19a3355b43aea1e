"""Unit and property tests of contracts/identity/IssuerRegistry.vy.

Accreditation by the owner only (and by a governor after an ownership transfer),
DID binding, key history (valid_from <= at < valid_until), status list anchors,
events; a Hypothesis property drives random operation sequences against a Python
model of the registry.
"""

from __future__ import annotations

from pathlib import Path

import boa
import hypothesis.strategies as st
import pytest
from eth_utils import keccak, to_checksum_address
from hypothesis import HealthCheck, given, settings

REGISTRY_PATH = Path(__file__).resolve().parents[2] / "contracts" / "identity" / "IssuerRegistry.vy"
# Deployed from an account of their own (see committee_fixtures.COMMITTEE_DEPLOYER): titanoboa's
# storage printout on a revert breaks if another module's contract lived at the same address.
REGISTRY_DEPLOYER = to_checksum_address(keccak(b"proofwork issuer registry deployer")[12:])
ZERO = "0x" + "00" * 20
ZERO32 = b"\x00" * 32
DID_A = "did:web:issuer-a.example"
DID_B = "did:pkh:eip155:1:0xab16a96D359eC26a11e2C2b3d8f8B8942d5Bfcdb"
OWNER_ONLY = "ownable: caller is not the owner"
NOT_ACCREDITED = "registry: not accredited"


def acct(label: str) -> str:
    return to_checksum_address(keccak(text=f"proofwork registry test {label}")[12:])


OWNER = acct("owner")
ISSUER = acct("issuer")
ISSUER2 = acct("issuer2")
OUTSIDER = acct("outsider")
GOVERNOR = acct("governor")
TP1 = keccak(b"jwk thumbprint 1")
TP2 = keccak(b"jwk thumbprint 2")
LIST_ID = keccak(text="https://issuer-a.example/status/1")


@pytest.fixture(scope="session")
def registry_deployer():
    return boa.load_partial(str(REGISTRY_PATH))


@pytest.fixture(scope="module")
def registry(registry_deployer):
    with boa.env.prank(REGISTRY_DEPLOYER):
        r = registry_deployer.deploy()
        r.transfer_ownership(OWNER)
    return r


@pytest.fixture
def accredited(registry):
    """`registry` with ISSUER accredited as DID_A."""
    with boa.env.prank(OWNER):
        registry.accredit(ISSUER, DID_A, "Issuer A")
    return registry


def names(contract) -> list[str]:
    return [type(e).__name__ for e in contract.get_logs()]


def now() -> int:
    return boa.env.timestamp


# --------------------------------------------------------------------------- accreditation


def test_deployment_state(registry_deployer):
    with boa.env.prank(REGISTRY_DEPLOYER):
        r = registry_deployer.deploy()
    assert r.owner() == REGISTRY_DEPLOYER
    assert r.issuer_count() == 0
    assert r.issuers() == []
    assert not r.is_accredited(ISSUER)
    assert r.issuer_info(ISSUER) == ("", "", False, 0, 0)
    with boa.reverts("registry: index out of range"):
        r.issuer_at(0)


def test_accredit_by_owner(registry):
    with boa.env.prank(OWNER):
        registry.accredit(ISSUER, DID_A, "Issuer A")
    (ev,) = registry.get_logs()
    assert type(ev).__name__ == "IssuerAccredited"
    assert (ev.issuer, ev.did_hash, ev.did, ev.name) == (ISSUER, keccak(text=DID_A), DID_A, "Issuer A")
    assert registry.is_accredited(ISSUER)
    assert registry.issuer_info(ISSUER) == (DID_A, "Issuer A", True, now(), 0)
    assert registry.issuer_of_did(keccak(text=DID_A)) == ISSUER
    assert registry.issuer_count() == 1
    assert registry.issuer_at(0) == ISSUER
    assert registry.issuers() == [ISSUER]


@pytest.mark.parametrize("caller", [ISSUER, OUTSIDER, REGISTRY_DEPLOYER])
def test_accredit_is_owner_only(registry, caller):
    with boa.env.prank(caller), boa.reverts(OWNER_ONLY):
        registry.accredit(ISSUER, DID_A, "Issuer A")
    assert not registry.is_accredited(ISSUER)


@pytest.mark.parametrize(
    ("issuer", "did", "name", "reason"),
    [
        (ZERO, DID_A, "A", "registry: zero issuer"),
        (ISSUER, "", "A", "registry: bad did"),
        (ISSUER, "did:", "A", "registry: bad did"),
        (ISSUER, "web:issuer.example", "A", "registry: bad did"),
        (ISSUER, "DID:web:issuer.example", "A", "registry: bad did"),
        (ISSUER, DID_A, "", "registry: empty name"),
    ],
)
def test_accredit_validates_arguments(registry, issuer, did, name, reason):
    with boa.env.prank(OWNER), boa.reverts(reason):
        registry.accredit(issuer, did, name)


def test_did_is_bound_to_one_issuer(accredited):
    r = accredited
    with boa.env.prank(OWNER), boa.reverts("registry: did taken"):
        r.accredit(ISSUER2, DID_A, "Impostor")
    assert not r.is_accredited(ISSUER2)
    # also after ISSUER's accreditation is revoked: its old credentials stay attributable
    with boa.env.prank(OWNER):
        r.revoke_accreditation(ISSUER)
    with boa.env.prank(OWNER), boa.reverts("registry: did taken"):
        r.accredit(ISSUER2, DID_A, "Impostor")
    assert r.issuer_of_did(keccak(text=DID_A)) == ISSUER
    with boa.env.prank(OWNER):
        r.accredit(ISSUER2, DID_B, "Issuer B")
    assert r.issuer_of_did(keccak(text=DID_B)) == ISSUER2
    assert r.issuer_of_did(keccak(text="did:web:unknown.example")) == ZERO


def test_update_keeps_since_and_old_did(accredited):
    r = accredited
    since = now()
    boa.env.time_travel(seconds=100)
    with boa.env.prank(OWNER):
        r.accredit(ISSUER, DID_B, "Issuer A renamed")
    assert r.issuer_info(ISSUER) == (DID_B, "Issuer A renamed", True, since, 0)
    assert r.issuer_of_did(keccak(text=DID_B)) == ISSUER
    assert r.issuer_of_did(keccak(text=DID_A)) == ISSUER  # the old DID stays bound
    assert r.issuer_count() == 1
    # the same issuer may take its old DID back
    with boa.env.prank(OWNER):
        r.accredit(ISSUER, DID_A, "Issuer A")
    assert r.issuer_info(ISSUER)[0] == DID_A


def test_revoke_and_reaccredit(accredited):
    r = accredited
    boa.env.time_travel(seconds=50)
    for caller in (ISSUER, OUTSIDER):
        with boa.env.prank(caller), boa.reverts(OWNER_ONLY):
            r.revoke_accreditation(ISSUER)
    with boa.env.prank(OWNER):
        r.revoke_accreditation(ISSUER)
    assert names(r) == ["AccreditationRevoked"]
    revoked_at = now()
    assert not r.is_accredited(ISSUER)
    assert r.issuer_info(ISSUER) == (DID_A, "Issuer A", False, revoked_at - 50, revoked_at)
    with boa.env.prank(OWNER), boa.reverts(NOT_ACCREDITED):
        r.revoke_accreditation(ISSUER)
    with boa.env.prank(OWNER), boa.reverts(NOT_ACCREDITED):
        r.revoke_accreditation(OUTSIDER)
    assert r.issuers() == [ISSUER]  # still listed
    boa.env.time_travel(seconds=10)
    with boa.env.prank(OWNER):
        r.accredit(ISSUER, DID_A, "Issuer A")
    assert r.is_accredited(ISSUER)
    assert r.issuer_info(ISSUER) == (DID_A, "Issuer A", True, now(), 0)
    assert r.issuer_count() == 1


def test_revocation_stops_keys_and_anchoring(accredited):
    r = accredited
    with boa.env.prank(ISSUER):
        r.add_key(TP1)
    with boa.env.prank(OWNER):
        r.revoke_accreditation(ISSUER)
    with boa.env.prank(ISSUER), boa.reverts(NOT_ACCREDITED):
        r.add_key(TP2)
    with boa.env.prank(ISSUER), boa.reverts(NOT_ACCREDITED):
        r.anchor_status_list(LIST_ID, keccak(b"token"))
    # a revoked issuer can still retire its own (say, compromised) key
    with boa.env.prank(ISSUER):
        r.retire_key(TP1)
    assert r.key_record(ISSUER, TP1) == (now(), now() + 1)


def test_governor_takes_over_admin(accredited):
    r = accredited
    with boa.env.prank(OWNER):
        r.transfer_ownership(GOVERNOR)
    assert r.owner() == GOVERNOR
    with boa.env.prank(OWNER), boa.reverts(OWNER_ONLY):
        r.accredit(ISSUER2, DID_B, "Issuer B")
    with boa.env.prank(GOVERNOR):
        r.accredit(ISSUER2, DID_B, "Issuer B")
        r.revoke_accreditation(ISSUER)
    assert r.issuers() == [ISSUER, ISSUER2]
    assert [r.is_accredited(i) for i in (ISSUER, ISSUER2)] == [False, True]


# --------------------------------------------------------------------------- keys


def test_key_history(accredited):
    r = accredited
    with boa.env.prank(ISSUER):
        r.add_key(TP1)
    t0 = now()
    (ev,) = r.get_logs()
    assert type(ev).__name__ == "KeyAdded"
    assert (ev.issuer, ev.thumbprint, ev.valid_from) == (ISSUER, TP1, t0)
    assert r.key_record(ISSUER, TP1) == (t0, 0)
    assert r.key_count(ISSUER) == 1 and r.key_at(ISSUER, 0) == TP1

    boa.env.time_travel(seconds=1_000)
    with boa.env.prank(ISSUER):
        r.add_key(TP2)  # rotation: the new key first ...
    t1 = now()
    boa.env.time_travel(seconds=500)
    with boa.env.prank(ISSUER):
        r.retire_key(TP1)  # ... then the old one is retired
    t2 = now() + 1  # the retired key still covers the second of its retirement
    (ev,) = r.get_logs()
    assert type(ev).__name__ == "KeyRetired"
    assert (ev.issuer, ev.thumbprint, ev.valid_until, ev.by) == (ISSUER, TP1, t2, ISSUER)
    assert r.key_record(ISSUER, TP1) == (t0, t2)
    assert r.key_count(ISSUER) == 2 and r.key_at(ISSUER, 1) == TP2

    valid = r.key_valid_at
    assert not valid(ISSUER, TP1, t0 - 1)
    assert valid(ISSUER, TP1, t0)
    assert valid(ISSUER, TP1, t2 - 1)  # valid before the retirement ...
    assert not valid(ISSUER, TP1, t2)  # ... and not from then on
    assert not valid(ISSUER, TP1, t2 + 10**6)
    assert not valid(ISSUER, TP2, t0)  # a key added later is invalid for earlier times
    assert not valid(ISSUER, TP2, t1 - 1)
    assert valid(ISSUER, TP2, t1)
    assert valid(ISSUER, TP2, 2**64 - 1)  # never retired
    assert not valid(ISSUER2, TP2, t1)  # keys are per issuer
    assert not valid(ISSUER, keccak(b"unknown"), t1)
    with boa.reverts("registry: index out of range"):
        r.key_at(ISSUER, 2)


def test_key_add_rules(accredited):
    r = accredited
    for caller in (OUTSIDER, OWNER):
        with boa.env.prank(caller), boa.reverts(NOT_ACCREDITED):
            r.add_key(TP1)
    with boa.env.prank(ISSUER), boa.reverts("registry: zero thumbprint"):
        r.add_key(ZERO32)
    with boa.env.prank(ISSUER):
        r.add_key(TP1)
    with boa.env.prank(ISSUER), boa.reverts("registry: key exists"):
        r.add_key(TP1)
    with boa.env.prank(ISSUER):
        r.retire_key(TP1)
    # history is never overwritten: a retired key cannot come back
    with boa.env.prank(ISSUER), boa.reverts("registry: key exists"):
        r.add_key(TP1)


def test_only_issuer_or_owner_retires(accredited):
    r = accredited
    with boa.env.prank(OWNER):
        r.accredit(ISSUER2, DID_B, "Issuer B")
    with boa.env.prank(ISSUER):
        r.add_key(TP1)
        r.add_key(TP2)
    for caller in (OUTSIDER, ISSUER2):
        with boa.env.prank(caller), boa.reverts("registry: caller is not the issuer or owner"):
            r.retire_key(TP1, ISSUER)
        # without the issuer argument the caller retires its own key: it has none
        with boa.env.prank(caller), boa.reverts("registry: unknown key"):
            r.retire_key(TP1)
    assert r.key_record(ISSUER, TP1) == (now(), 0)
    with boa.env.prank(ISSUER):
        r.retire_key(TP1, ISSUER)  # explicit self
    with boa.env.prank(OWNER):
        r.retire_key(TP2, ISSUER)
    (ev,) = r.get_logs()
    assert (ev.issuer, ev.thumbprint, ev.by) == (ISSUER, TP2, OWNER)
    assert r.key_record(ISSUER, TP2) == (now(), now() + 1)
    with boa.env.prank(ISSUER), boa.reverts("registry: key retired"):
        r.retire_key(TP2)
    with boa.env.prank(OWNER), boa.reverts("registry: unknown key"):
        r.retire_key(keccak(b"never added"), ISSUER)


# --------------------------------------------------------------------------- status lists


def test_anchor_status_list(accredited):
    r = accredited
    d1, d2 = keccak(b"status list v1"), keccak(b"status list v2")
    assert r.status_list_anchor(ISSUER, LIST_ID) == (ZERO32, 0)
    with boa.env.prank(ISSUER):
        r.anchor_status_list(LIST_ID, d1)
    t1 = now()
    (ev,) = r.get_logs()
    assert type(ev).__name__ == "StatusListAnchored"
    assert (ev.issuer, ev.list_id, ev.digest, ev.updated_at) == (ISSUER, LIST_ID, d1, t1)
    assert r.status_list_anchor(ISSUER, LIST_ID) == (d1, t1)
    boa.env.time_travel(seconds=3_600)
    with boa.env.prank(ISSUER):
        r.anchor_status_list(LIST_ID, d2)
    assert r.status_list_anchor(ISSUER, LIST_ID) == (d2, t1 + 3_600)
    # anchors are per issuer
    assert r.status_list_anchor(ISSUER2, LIST_ID) == (ZERO32, 0)


def test_anchor_refused_for_non_issuers_and_zero_values(accredited):
    r = accredited
    for caller in (OUTSIDER, OWNER, ISSUER2):
        with boa.env.prank(caller), boa.reverts(NOT_ACCREDITED):
            r.anchor_status_list(LIST_ID, keccak(b"forged"))
    with boa.env.prank(ISSUER), boa.reverts("registry: zero list id"):
        r.anchor_status_list(ZERO32, keccak(b"x"))
    with boa.env.prank(ISSUER), boa.reverts("registry: zero digest"):
        r.anchor_status_list(LIST_ID, ZERO32)
    assert r.status_list_anchor(OUTSIDER, LIST_ID) == (ZERO32, 0)


# --------------------------------------------------------------------------- property

ACTORS = [ISSUER, ISSUER2, OUTSIDER]
DIDS = [DID_A, DID_B, "did:web:c.example"]
THUMBS = [TP1, TP2, keccak(b"jwk thumbprint 3")]

op = st.one_of(
    st.tuples(st.just("accredit"), st.integers(0, 2), st.integers(0, 2)),
    st.tuples(st.just("revoke"), st.integers(0, 2), st.just(0)),
    st.tuples(st.just("add"), st.integers(0, 2), st.integers(0, 2)),
    st.tuples(st.just("retire"), st.integers(0, 2), st.integers(0, 2)),
    st.tuples(st.just("owner_retire"), st.integers(0, 2), st.integers(0, 2)),
    st.tuples(st.just("wait"), st.integers(1, 1_000), st.just(0)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(op, min_size=1, max_size=20))
def test_random_operations_match_model(registry, ops):
    """Every call succeeds or reverts exactly as a Python model says, and afterwards
    accreditation, DID bindings and key_valid_at agree with the model at every instant."""
    accredited: dict[str, bool] = {}
    did_owner: dict[str, str] = {}
    keys: dict[tuple[str, bytes], list[int]] = {}  # (issuer, thumbprint) -> [from, until]
    times = {now()}
    for kind, a, b in ops:
        if kind == "wait":
            boa.env.time_travel(seconds=a)
            times.add(now())
            continue
        who = ACTORS[a]
        t = now()
        if kind == "accredit":
            did = DIDS[b]
            expect = None if did_owner.get(did, who) == who else "registry: did taken"
            with boa.env.prank(OWNER):
                _run(lambda did=did, who=who: registry.accredit(who, did, "x"), expect)
            if expect is None:
                accredited[who] = True
                did_owner[did] = who
        elif kind == "revoke":
            expect = None if accredited.get(who) else NOT_ACCREDITED
            with boa.env.prank(OWNER):
                _run(lambda who=who: registry.revoke_accreditation(who), expect)
            if expect is None:
                accredited[who] = False
        elif kind == "add":
            k = (who, THUMBS[b])
            expect = (
                NOT_ACCREDITED if not accredited.get(who) else ("registry: key exists" if k in keys else None)
            )
            with boa.env.prank(who):
                _run(lambda k=k: registry.add_key(k[1]), expect)
            if expect is None:
                keys[k] = [t, 0]
        else:
            k = (who, THUMBS[b])
            expect = (
                "registry: unknown key"
                if k not in keys
                else ("registry: key retired" if keys[k][1] else None)
            )
            sender = who if kind == "retire" else OWNER
            with boa.env.prank(sender):
                _run(lambda k=k: registry.retire_key(k[1], k[0]), expect)
            if expect is None:
                keys[k][1] = t + 1

    for who in ACTORS:
        assert registry.is_accredited(who) == accredited.get(who, False)
    for did in DIDS:
        assert registry.issuer_of_did(keccak(text=did)) == did_owner.get(did, ZERO)
    probes = sorted({x + d for x in times for d in (-1, 0, 1)})
    for who in ACTORS:
        for tp in THUMBS:
            valid_from, valid_until = keys.get((who, tp), [0, 0])
            assert registry.key_record(who, tp) == (valid_from, valid_until)
            for at in probes:
                model = valid_from != 0 and valid_from <= at and (valid_until == 0 or at < valid_until)
                assert registry.key_valid_at(who, tp, at) == model


def _run(call, expect: str | None) -> None:
    if expect is None:
        call()
    else:
        with boa.reverts(expect):
            call()


def test_a_compromised_key_verifies_nothing_not_even_backdated_credentials(accredited):
    """Retiring keeps what a key signed before; a stolen key can backdate `iat`, so declaring it
    compromised voids it for every time, retired or not, and only its issuer or the owner may."""
    r = accredited
    with boa.env.prank(ISSUER):
        r.add_key(TP1)
        r.add_key(TP2)
    t0 = now()
    boa.env.time_travel(seconds=100)
    with boa.env.prank(ISSUER):
        r.retire_key(TP1)
    assert r.key_valid_at(ISSUER, TP1, t0)
    with boa.env.prank(OUTSIDER), boa.reverts("registry: caller is not the issuer or owner"):
        r.compromise_key(TP1, ISSUER)
    with boa.env.prank(ISSUER):
        r.compromise_key(TP1)  # after a retirement
    with boa.env.prank(OWNER):
        r.compromise_key(TP2, ISSUER)  # still in use
    (ev,) = r.get_logs()
    assert type(ev).__name__ == "KeyCompromised" and (ev.issuer, ev.thumbprint, ev.by) == (ISSUER, TP2, OWNER)
    for tp in (TP1, TP2):
        valid_from, valid_until = r.key_record(ISSUER, tp)
        assert valid_until == valid_from
        assert not any(r.key_valid_at(ISSUER, tp, at) for at in (0, t0 - 1, t0, t0 + 50, now(), 2**64 - 1))
    with boa.env.prank(ISSUER), boa.reverts("registry: key compromised"):
        r.compromise_key(TP1)
    with boa.env.prank(ISSUER), boa.reverts("registry: key retired"):
        r.retire_key(TP2)
    with boa.env.prank(ISSUER), boa.reverts("registry: unknown key"):
        r.compromise_key(keccak(b"never added"))
