"""AssetRegistry: registration and its bounds, acyclic lineage, timestamps and the salt proof,
ERC-2981 and ERC-165, IP terms on a real JobEscrow job, deliverables of PAID milestones."""

from __future__ import annotations

import boa
import hypothesis.strategies as st
import pytest
from asset_fixtures import (
    DATASET,
    MANIFEST,
    MODEL,
    ZERO,
    ZERO32,
    acct,
    capture,
    commitment,
    deploy_registry,
    paid_milestone,
    record_of,
    register,
    registry_partial,
    terms_hash,
)
from escrow_harness import OK, now
from eth_utils import keccak
from hypothesis import given, settings

ALICE, BOB, CAROL, OUTSIDER = acct("alice"), acct("bob"), acct("carol"), acct("outsider")
SALT = keccak(b"a secret salt")


def norm(x) -> str:
    return str(x).lower()


@pytest.fixture(scope="module")
def registry(escrow):
    return deploy_registry(escrow)


# --------------------------------------------------------------------------- registration


def test_register_mints_with_the_record_and_event(registry):
    creators = [(BOB, 3_000), (CAROL, 2_000)]
    a1 = register(registry, ALICE, kind=DATASET, creators=creators, royalty_bps=500)
    assert a1 == 1 and registry.asset_count() == 1
    t = now()
    a2 = register(registry, BOB, manifest="bafy-child", parents=[(a1, 1_500)], to=CAROL)
    log = registry.get_logs()[-1]
    assert a2 == 2
    assert norm(registry.ownerOf(a1)) == norm(ALICE) and norm(registry.ownerOf(a2)) == norm(CAROL)
    assert type(log).__name__ == "AssetRegistered"
    assert (log.asset_id, norm(log.owner), log.kind, log.manifest) == (2, norm(CAROL), MODEL, "bafy-child")
    assert [tuple(p) for p in log.parents] == [(1, 1_500)] and list(log.creators) == []
    assert (log.existed_since, log.job_id, log.milestone, log.deliverable) == (t, 0, 0, ZERO32)
    assert log.registered_at == t
    rec = record_of(registry, a1)
    assert rec.manifest == MANIFEST and rec.kind == DATASET and rec.royalty_bps == 500
    assert [(norm(c[0]), c[1]) for c in rec.creators] == [(norm(BOB), 3_000), (norm(CAROL), 2_000)]
    assert rec.registered_at == rec.existed_since == t and rec.job_id == 0
    # only the record's hash is stored: the event's record is what it hashes
    assert (
        registry.record_hash(a1) == rec.hash() and registry.record_hash(a2) == record_of(registry, a2).hash()
    )
    assert registry.record_hash(a1) != registry.record_hash(a2)
    owner, stored = registry.sale_terms(a2)
    assert norm(owner) == norm(CAROL) and stored == registry.record_hash(a2)
    assert (registry.name(), registry.symbol()) == ("proofwork asset", "PWA")


def test_assets_are_transferable_property(registry):
    a = register(registry, ALICE)
    registry.approve(BOB, a, sender=ALICE)
    registry.transferFrom(ALICE, CAROL, a, sender=BOB)
    assert norm(registry.ownerOf(a)) == norm(CAROL)
    assert norm(registry.sale_terms(a)[0]) == norm(CAROL)
    assert registry.getApproved(a) == ZERO  # the approval went with the transfer
    assert (registry.balanceOf(ALICE), registry.balanceOf(CAROL)) == (0, 1)
    with boa.reverts("erc721: caller is not token owner or approved"):
        registry.transferFrom(CAROL, BOB, a, sender=BOB)
    with boa.reverts("erc721: transfer from incorrect owner"):
        registry.transferFrom(ALICE, BOB, a, sender=CAROL)
    with boa.reverts("erc721: transfer to the zero address"):
        registry.transferFrom(CAROL, ZERO, a, sender=CAROL)
    # a contract that does not take ERC-721 tokens (the registry itself) is refused by the safe transfer
    with boa.reverts():
        registry.safeTransferFrom(CAROL, registry.address, a, sender=CAROL)
    registry.safeTransferFrom(CAROL, BOB, a, b"hello", sender=CAROL)
    assert norm(registry.ownerOf(a)) == norm(BOB) and registry.balanceOf(BOB) == 1


@pytest.mark.parametrize(
    "kw, reason",
    [
        ({"manifest": ""}, "asset: empty manifest"),
        ({"kind": 2}, "asset: unknown kind"),
        ({"royalty_bps": 1_001}, "asset: royalty above 10%"),
        ({"to": ZERO}, "asset: zero owner"),
        ({"creators": [(ZERO, 1)]}, "asset: zero creator"),
        ({"creators": [(BOB, 1), (CAROL, 1), (BOB, 1)]}, "asset: duplicate creator"),
        ({"creators": [(BOB, 6_000), (CAROL, 4_001)]}, "asset: creator shares above 100%"),
        ({"parents": [(0, 0)]}, "asset: unknown parent"),
        ({"parents": [(3, 0)]}, "asset: unknown parent"),  # 3 is the id being registered
        ({"parents": [(4, 0)]}, "asset: unknown parent"),
        ({"parents": [(1, 0), (2, 0), (1, 0)]}, "asset: duplicate parent"),
        ({"parents": [(1, 2_500), (2, 2_501)]}, "asset: parent shares above 50%"),
        ({"salt": SALT}, "asset: commitment not timestamped by caller"),
    ],
)
def test_register_rejects(registry, kw, reason):
    register(registry, ALICE)
    register(registry, ALICE)
    with boa.reverts(reason):
        register(registry, ALICE, **kw)
    assert registry.asset_count() == 2


def test_register_bounds_are_inclusive(registry):
    for _ in range(8):
        register(registry, ALICE)
    creators = [(acct(f"c{i}"), 1_250) for i in range(8)]
    parents = [(i + 1, 625) for i in range(8)]
    a = register(registry, ALICE, creators=creators, parents=parents, royalty_bps=1_000)
    rec = record_of(registry, a)
    assert len(rec.creators) == 8 and len(rec.parents) == 8 and rec.royalty_bps == 1_000
    assert registry.record_hash(a) == rec.hash()
    # a parent with a zero share is lineage only; a creator with a zero share is attribution only
    b = register(registry, ALICE, creators=[(BOB, 0)], parents=[(a, 0)])
    assert record_of(registry, b).parents[0][0] == a


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.integers(0, 12), max_size=4), min_size=1, max_size=8))
def test_lineage_is_acyclic_by_construction(registry, attempts):
    """Random parent lists: accepted exactly when every parent exists (and no duplicate), so every
    edge goes from a higher id to a lower one: no cycle can ever form."""
    for parent_ids in attempts:
        new_id = registry.asset_count() + 1
        ok = all(0 < p < new_id for p in parent_ids) and len(set(parent_ids)) == len(parent_ids)
        parents = [(p, 100) for p in parent_ids]
        if ok:
            assert register(registry, ALICE, parents=parents) == new_id
        else:
            with boa.reverts():
                register(registry, ALICE, parents=parents)
    for asset_id in range(1, registry.asset_count() + 1):
        rec = record_of(registry, asset_id)
        assert registry.record_hash(asset_id) == rec.hash()
        assert all(p[0] < asset_id for p in rec.parents)


def test_views_of_unknown_assets_revert(registry):
    for view in (registry.record_hash, registry.sale_terms):
        with boa.reverts("erc721: invalid token ID"):
            view(1)
    with boa.reverts("erc721: invalid token ID"):
        registry.royaltyInfo(1, 100)


# --------------------------------------------------------------------------- timestamps


def test_timestamp_once_per_committer_and_the_salt_proof(registry):
    c = commitment(MANIFEST, SALT, ALICE)
    registry.timestamp(c, sender=ALICE)
    log = registry.get_logs()[-1]
    t0 = now()
    assert (log.commitment, norm(log.by), log.timestamp) == (c, norm(ALICE), t0)
    assert registry.timestamp_of(ALICE, c) == t0 and registry.timestamp_of(BOB, c) == 0
    with boa.reverts("asset: already timestamped"):
        registry.timestamp(c, sender=ALICE)
    with boa.reverts("asset: empty commitment"):
        registry.timestamp(ZERO32, sender=ALICE)
    boa.env.time_travel(seconds=100)
    registry.timestamp(commitment(MANIFEST, SALT, BOB), sender=BOB)
    boa.env.time_travel(seconds=1_000)
    # the salt proves the manifest existed at the committer's stamp
    a = register(registry, ALICE, salt=SALT)
    assert registry.get_logs()[-1].existed_since == t0
    rec = record_of(registry, a)
    assert rec.existed_since == t0 and rec.registered_at == now() > t0
    assert registry.record_hash(a) == rec.hash()
    b = register(registry, BOB, salt=SALT)
    assert record_of(registry, b).existed_since == t0 + 100
    # a salt proves only its own manifest, and only for its committer
    with boa.reverts("asset: commitment not timestamped by caller"):
        register(registry, ALICE, manifest="bafy-other", salt=SALT)
    with boa.reverts("asset: commitment not timestamped by caller"):
        register(registry, CAROL, salt=SALT)


# --------------------------------------------------------------------------- ERC-2981, ERC-165


def test_royalty_info(registry):
    a = register(registry, ALICE, creators=[(BOB, 100), (CAROL, 100)], royalty_bps=750)
    receiver, amount = registry.royaltyInfo(a, 1_000_001)
    assert norm(receiver) == norm(BOB) and amount == 75_000
    b = register(registry, ALICE, royalty_bps=1_000)
    assert registry.royaltyInfo(b, 999)[1] == 99
    assert norm(registry.royaltyInfo(b, 10)[0]) == norm(ALICE)
    registry.transferFrom(ALICE, CAROL, b, sender=ALICE)
    assert norm(registry.royaltyInfo(b, 10)[0]) == norm(CAROL)
    c = register(registry, ALICE, creators=[(BOB, 100)])
    # no royalty: nothing stored, the owner is named for a zero amount
    receiver, amount = registry.royaltyInfo(c, 10**30)
    assert (norm(receiver), amount) == (norm(ALICE), 0)


def test_supports_interface(registry):
    for iid in ("01ffc9a7", "80ac58cd", "2a55205a"):
        assert registry.supportsInterface(bytes.fromhex(iid))
    # no ERC-721 Metadata (tokenURI): the manifest is in the record, not in storage
    for iid in ("ffffffff", "780e9d63", "5b5e139f", "00000000"):
        assert not registry.supportsInterface(bytes.fromhex(iid))


# --------------------------------------------------------------------------- IP terms and deliverables


def test_ip_terms_proposal_acceptance_and_freeze(registry, h, accounts):
    client, freelancer = accounts.client, accounts.freelancer
    jid = h.create_job(client, [10**6, 10**6], freelancer=freelancer, expect=OK)
    st_ = h.state(jid)
    with boa.reverts("asset: caller is not the job's client"):
        registry.propose_ip_terms(jid, st_, True, 1_000, 0, sender=freelancer.address)
    with boa.reverts("asset: creator share above 100%"):
        registry.propose_ip_terms(jid, st_, True, 10_001, 0, sender=client.address)
    with boa.reverts("asset: upstream cap above 50%"):
        registry.propose_ip_terms(jid, st_, True, 1_000, 5_001, sender=client.address)
    with boa.reverts("asset: shares without transfer"):
        registry.propose_ip_terms(jid, st_, False, 1, 0, sender=client.address)
    with boa.reverts("asset: shares without transfer"):
        registry.propose_ip_terms(jid, st_, False, 0, 1, sender=client.address)
    with boa.reverts("asset: no terms proposed"):
        registry.accept_ip_terms(jid, st_, terms_hash(True, 1_000), sender=freelancer.address)
    registry.propose_ip_terms(jid, st_, True, 1_000, 2_000, sender=client.address)
    log = registry.get_logs()[-1]
    assert (log.job_id, norm(log.client), log.transfer, log.creator_bps, log.max_upstream_bps) == (
        jid,
        norm(client.address),
        True,
        1_000,
        2_000,
    )
    assert log.terms_hash == terms_hash(True, 1_000, 2_000)
    # the client changes its proposal before acceptance: the freelancer's old hash no longer fits
    registry.propose_ip_terms(jid, st_, True, 500, 2_000, sender=client.address)
    with boa.reverts("asset: terms differ"):
        registry.accept_ip_terms(jid, st_, terms_hash(True, 1_000, 2_000), sender=freelancer.address)
    with boa.reverts("asset: caller is not the job's freelancer"):
        registry.accept_ip_terms(jid, st_, terms_hash(True, 500, 2_000), sender=client.address)
    registry.accept_ip_terms(jid, st_, terms_hash(True, 500, 2_000), sender=freelancer.address)
    log = registry.get_logs()[-1]
    assert tuple(registry.ip_terms(jid))[:5] == (True, 500, 2_000, True, True)
    assert (log.job_id, norm(log.freelancer), log.terms_hash) == (
        jid,
        norm(freelancer.address),
        terms_hash(True, 500, 2_000),
    )
    with boa.reverts("asset: terms already accepted"):
        registry.propose_ip_terms(jid, st_, False, 0, 0, sender=client.address)
    with boa.reverts("asset: terms already accepted"):
        registry.accept_ip_terms(jid, st_, terms_hash(True, 500, 2_000), sender=freelancer.address)


def test_ip_terms_need_the_current_job_and_nothing_settled(registry, h, accounts):
    client, freelancer = accounts.client, accounts.freelancer
    with boa.reverts("asset: unknown job"):
        registry.propose_ip_terms(1, h._state(1, None), True, 0, 0, sender=client.address)
    jid = h.create_job(client, [10**6, 10**6], freelancer=freelancer, expect=OK)
    old = h.state(jid)
    h.submit(freelancer, jid, 0, expect=OK)
    with boa.reverts("asset: stale job state"):
        registry.propose_ip_terms(jid, old, True, 0, 0, sender=client.address)
    registry.propose_ip_terms(
        jid, h.state(jid), True, 0, 0, sender=client.address
    )  # submitted is not settled
    h.approve(client, jid, 0, expect=OK)
    with boa.reverts("asset: a milestone is settled"):
        registry.propose_ip_terms(jid, h.state(jid), False, 0, 0, sender=client.address)


def _deliver(registry, jid, st_, sender, milestone=0, parents=(), royalty=0):
    asset_id = registry.register_deliverable(
        jid, st_, milestone, MANIFEST, MODEL, list(parents), royalty, sender=sender
    )
    assert capture(registry) == asset_id
    return asset_id


def test_deliverable_without_terms_belongs_to_the_freelancer(registry, h, accounts):
    client, freelancer = accounts.client, accounts.freelancer
    base = register(registry, OUTSIDER)
    jid, st_ = paid_milestone(h, client, freelancer)
    with boa.reverts("asset: caller does not own the deliverable"):
        _deliver(registry, jid, st_, client.address)
    a = _deliver(registry, jid, st_, freelancer.address, parents=[(base, 2_000)], royalty=300)
    log = registry.get_logs()[-1]
    rec = record_of(registry, a)
    assert registry.record_hash(a) == rec.hash()
    assert norm(registry.ownerOf(a)) == norm(freelancer.address)
    assert [(norm(c[0]), c[1]) for c in rec.creators] == [(norm(freelancer.address), 10_000)]
    assert (rec.job_id, rec.milestone, rec.deliverable) == (jid, 0, h.job(jid).milestones[0].deliverable)
    assert [tuple(p) for p in rec.parents] == [(base, 2_000)] and rec.royalty_bps == 300
    assert registry.deliverable_asset(jid, 0) == a
    assert (log.job_id, log.milestone, log.deliverable) == (jid, 0, rec.deliverable)
    with boa.reverts("asset: deliverable already registered"):
        _deliver(registry, jid, st_, freelancer.address)
    with boa.reverts("asset: deliverable already registered"):
        _deliver(registry, jid, st_, client.address)


def test_deliverable_with_accepted_transfer_belongs_to_the_client(registry, h, accounts):
    client, freelancer = accounts.client, accounts.freelancer
    base = register(registry, OUTSIDER)
    jid, st_ = paid_milestone(h, client, freelancer, terms=(True, 1_500, 1_000), registry=registry)
    with boa.reverts("asset: caller does not own the deliverable"):
        _deliver(registry, jid, st_, freelancer.address)
    with boa.reverts("asset: parent shares above the agreed cap"):
        _deliver(registry, jid, st_, client.address, parents=[(base, 1_001)])
    a = _deliver(registry, jid, st_, client.address, parents=[(base, 1_000)], royalty=250)
    assert norm(registry.ownerOf(a)) == norm(client.address)
    # the freelancer keeps the verifiable record of authorship (the hashed record names them), and
    # ERC-2981 pays them the royalty
    assert [(norm(c[0]), c[1]) for c in record_of(registry, a).creators] == [
        (norm(freelancer.address), 1_500)
    ]
    assert registry.record_hash(a) == record_of(registry, a).hash()
    receiver, amount = registry.royaltyInfo(a, 100)
    assert (norm(receiver), amount) == (norm(freelancer.address), 2)


def test_proposed_but_unaccepted_terms_transfer_nothing(registry, h, accounts):
    client, freelancer = accounts.client, accounts.freelancer
    jid = h.create_job(client, [10**6], freelancer=freelancer, expect=OK)
    registry.propose_ip_terms(jid, h.state(jid), True, 0, 0, sender=client.address)
    h.submit(freelancer, jid, 0, expect=OK)
    h.approve(client, jid, 0, expect=OK)
    with boa.reverts("asset: caller does not own the deliverable"):
        _deliver(registry, jid, h.state(jid), client.address)
    a = _deliver(registry, jid, h.state(jid), freelancer.address)
    assert norm(registry.ownerOf(a)) == norm(freelancer.address)


def test_register_deliverable_rejects(registry, h, accounts):
    client, freelancer = accounts.client, accounts.freelancer
    jid = h.create_job(client, [10**6, 10**6], freelancer=freelancer, expect=OK)
    with boa.reverts("asset: milestone not paid"):
        _deliver(registry, jid, h.state(jid), client.address)  # OPEN
    old = h.state(jid)
    h.submit(freelancer, jid, 0, expect=OK)
    with boa.reverts("asset: milestone not paid"):
        _deliver(registry, jid, h.state(jid), freelancer.address)  # SUBMITTED
    h.approve(client, jid, 0, expect=OK)
    st_ = h.state(jid)
    with boa.reverts("asset: stale job state"):
        _deliver(registry, jid, old, client.address)
    with boa.reverts("asset: unknown job"):
        _deliver(registry, jid + 1, st_, client.address)
    with boa.reverts("asset: caller is not a party to the job"):
        _deliver(registry, jid, st_, accounts.outsider.address)
    with boa.reverts("asset: no such milestone"):
        _deliver(registry, jid, st_, freelancer.address, milestone=2)
    with boa.reverts("asset: milestone not paid"):
        _deliver(registry, jid, st_, freelancer.address, milestone=1)
    with boa.reverts("asset: unknown parent"):
        _deliver(registry, jid, st_, freelancer.address, parents=[(1, 0)])
    with boa.reverts("asset: royalty above 10%"):
        _deliver(registry, jid, st_, freelancer.address, royalty=1_001)
    assert _deliver(registry, jid, st_, freelancer.address) == 1


def test_zero_escrow_refused():
    with boa.reverts("asset: zero escrow"):
        registry_partial().deploy(ZERO)


def test_a_resolution_passes_the_rights_only_when_it_paid_the_full_price(registry, h, accounts):
    """A committee's passing verdict or a ruling settles a milestone RESOLVED, not PAID. Under transfer
    terms its deliverable is the client's when the resolution paid the full price acceptance recorded
    (the IpTermsAccepted totals), else the freelancer's (a split); one resolved to nothing is not
    registered; totals other than the recorded ones are refused."""
    client, freelancer, arbiter = accounts.client, accounts.freelancer, accounts.arbiter
    amounts = [10**6, 2 * 10**6, 3 * 10**6]
    jid = h.create_job(client, amounts, freelancer=freelancer, arbiter=arbiter, expect=OK)
    registry.propose_ip_terms(jid, h.state(jid), True, 1_000, 0, sender=client.address)
    registry.accept_ip_terms(jid, h.state(jid), terms_hash(True, 1_000, 0), sender=freelancer.address)
    (accepted,) = [e for e in registry.get_logs() if type(e).__name__ == "IpTermsAccepted"]
    assert list(accepted.totals) == amounts
    for i in range(3):
        h.submit(freelancer, jid, i, expect=OK)
    h.resolve(arbiter, jid, 0, amounts[0] // 2, expect=OK)  # a split: the freelancer paid half
    h.resolve(arbiter, jid, 1, amounts[1], expect=OK)  # a passing verdict: the full price
    h.resolve(arbiter, jid, 2, 0, expect=OK)  # all back to the client

    def deliver(sender, milestone, totals):
        return registry.register_deliverable(
            jid, h.state(jid), milestone, MANIFEST, MODEL, [], 0, totals, sender=sender
        )

    for wrong in ([], [10**6, 2 * 10**6], [10**6, 2 * 10**6, 3 * 10**6 + 1]):
        with boa.reverts("asset: milestone totals differ"):
            deliver(freelancer.address, 0, wrong)
    with boa.reverts("asset: caller does not own the deliverable"):
        deliver(client.address, 0, amounts)
    split = deliver(freelancer.address, 0, amounts)
    assert norm(registry.ownerOf(split)) == norm(freelancer.address)
    with boa.reverts("asset: caller does not own the deliverable"):
        deliver(freelancer.address, 1, amounts)
    full = deliver(client.address, 1, amounts)
    assert norm(registry.ownerOf(full)) == norm(client.address)
    with boa.reverts("asset: milestone not paid"):
        deliver(client.address, 2, amounts)
