"""Unit and property tests of the EAS-model attestation contracts:
contracts/attestations/SchemaRegistry.vy, Attestations.vy and ProofworkResolver.vy.

Uids are checked against an independent Python derivation (eth_abi's packed
encoder + keccak), event topics against keccak of the EAS event signatures. The
resolver is tested with a forwarder contract standing in for the JobAttester, so
JobCompleted data can be crafted freely; the JobAttester itself is tested in
test_job_attester.py.
"""

import boa
import eth_abi
import hypothesis.strategies as st
import pytest
import rlp
from attestation_fixtures import (
    ATTESTED_SIG,
    FORWARDER_SOURCE,
    JOB_COMPLETED_SCHEMA,
    REGISTERED_SIG,
    REVIEW_SCHEMA,
    REVOKED_SIG,
    SWITCH_RESOLVER_SOURCE,
    ZERO32,
    ZERO_ADDRESS,
    AttestationStack,
    attest_calldata,
    attestation_uid,
    encode_job_completed,
    encode_review,
    logs_of,
    request,
    revocation,
    schema_uid,
    topic,
    word,
)
from eth_utils import keccak
from hypothesis import HealthCheck, given, settings

SCHEMA = "uint256 value,string note"


@pytest.fixture(scope="module")
def stack():
    return AttestationStack("test_attestations")


@pytest.fixture(scope="module")
def core(stack):
    return stack.core()


@pytest.fixture(scope="module")
def registry(core):
    return core.registry


@pytest.fixture(scope="module")
def eas(core):
    return core.attestations


@pytest.fixture(scope="module")
def switch(stack):
    """A resolver whose answers the test sets."""
    return stack.loads(SWITCH_RESOLVER_SOURCE)


@pytest.fixture(scope="module")
def open_schema(registry, accounts):
    """A revocable schema without resolver."""
    return registry.register(SCHEMA, ZERO_ADDRESS, True, sender=accounts.outsider.address)


@pytest.fixture(scope="module")
def fixed_schema(registry, accounts):
    """A non-revocable schema without resolver."""
    return registry.register(SCHEMA, ZERO_ADDRESS, False, sender=accounts.outsider.address)


@pytest.fixture(scope="module")
def switched_schema(registry, switch, accounts):
    """A revocable schema whose resolver is `switch`."""
    return registry.register(SCHEMA, switch.address, True, sender=accounts.outsider.address)


@pytest.fixture(scope="module")
def forwarder(stack):
    """Stands in for the JobAttester in the resolver tests."""
    return stack.loads(FORWARDER_SOURCE)


@pytest.fixture(scope="module")
def resolver(stack, eas, forwarder):
    return stack.deploy(stack.resolver_partial, eas.address, forwarder.address)


def now() -> int:
    return boa.env.timestamp


def data_of(note: str = "hello", value: int = 7) -> bytes:
    return eth_abi.encode(["uint256", "string"], [value, note])


# --------------------------------------------------------------------------- SchemaRegistry


@pytest.mark.parametrize(
    ("schema", "resolver", "revocable"),
    [
        (SCHEMA, ZERO_ADDRESS, True),
        (SCHEMA, ZERO_ADDRESS, False),
        (SCHEMA, "0x" + "ab" * 20, True),
        ("", ZERO_ADDRESS, False),
        (JOB_COMPLETED_SCHEMA, "0x" + "01" * 20, False),
        ("string name ünïcode", ZERO_ADDRESS, True),
        ("x" * 1024, ZERO_ADDRESS, True),
    ],
)
def test_schema_uid_is_eas_packed_keccak(registry, accounts, schema, resolver, revocable):
    expected = schema_uid(schema, resolver, revocable)
    # by hand as well: UTF-8 bytes, 20-byte address, one byte for the flag
    assert expected == keccak(schema.encode() + bytes.fromhex(resolver[2:]) + bytes([revocable]))
    assert registry.schema_uid(schema, resolver, revocable) == expected
    uid = registry.register(schema, resolver, revocable, sender=accounts.client.address)
    assert uid == expected
    record = registry.get_schema(uid)
    assert (record.uid, str(record.resolver).lower(), record.revocable, record.schema) == (
        expected,
        resolver.lower(),
        revocable,
        schema,
    )
    assert registry.getSchema(uid) == record


def test_register_emits_eas_registered_event(registry, accounts):
    resolver = "0x" + "cd" * 20
    uid = registry.register(SCHEMA, resolver, True, sender=accounts.client.address)
    logs = logs_of(registry, registry)
    assert len(logs) == 1
    log = logs[0]
    assert log.topics == (topic(REGISTERED_SIG), word(uid), word(accounts.client.address))
    assert log.data == eth_abi.encode(["(bytes32,address,bool,string)"], [(uid, resolver, True, SCHEMA)])
    decoded = registry.get_logs()[0]
    assert type(decoded).__name__ == "Registered"


def test_register_twice_reverts(registry, accounts):
    registry.register(SCHEMA, ZERO_ADDRESS, True, sender=accounts.client.address)
    with boa.reverts("schemas: already registered"):
        registry.register(SCHEMA, ZERO_ADDRESS, True, sender=accounts.outsider.address)
    # another flag or resolver is another schema
    registry.register(SCHEMA, ZERO_ADDRESS, False, sender=accounts.outsider.address)
    registry.register(SCHEMA, accounts.outsider.address, True, sender=accounts.outsider.address)


def test_unknown_schema_is_empty(registry):
    record = registry.get_schema(keccak(b"nothing"))
    assert (record.uid, str(record.resolver), record.revocable, record.schema) == (
        ZERO32,
        ZERO_ADDRESS,
        False,
        "",
    )


# --------------------------------------------------------------------------- attest


def test_attest_stores_eas_attestation(eas, open_schema, registry, accounts):
    client, freelancer = accounts.client.address, accounts.freelancer.address
    assert eas.get_schema_registry() == registry.address == eas.getSchemaRegistry()
    data = data_of()
    expiration = now() + 1_000
    t = now()
    uid = eas.attest(
        request(open_schema, freelancer, data=data, expiration=expiration, revocable=True), sender=client
    )
    assert uid == attestation_uid(open_schema, freelancer, client, t, expiration, True, ZERO32, data, 0)
    a = eas.get_attestation(uid)
    assert a.uid == uid and a.schema == open_schema
    assert (a.time, a.expirationTime, a.revocationTime) == (t, expiration, 0)
    assert a.refUID == ZERO32
    assert a.recipient == freelancer and a.attester == client
    assert a.revocable is True and a.data == data
    assert eas.getAttestation(uid) == a
    assert eas.is_attestation_valid(uid) and eas.isAttestationValid(uid)
    assert not eas.is_attestation_valid(keccak(b"other")) and not eas.isAttestationValid(ZERO32)
    empty = eas.get_attestation(keccak(b"other"))
    assert empty.uid == ZERO32 and empty.data == b""


def test_attested_event_matches_eas(eas, open_schema, accounts):
    client, freelancer = accounts.client.address, accounts.freelancer.address
    uid = eas.attest(request(open_schema, freelancer, data=data_of()), sender=client)
    logs = logs_of(eas, eas)
    assert len(logs) == 1
    assert logs[0].topics == (topic(ATTESTED_SIG), word(freelancer), word(client), word(open_schema))
    assert logs[0].data == uid
    assert topic(ATTESTED_SIG) == int(
        "8bf46bf4cfd674fa735a3d63ec1c9ad4153f033c290341f3a588b75685141b35", 16
    )  # the topic EAS explorers index


def test_uid_bump_on_collision(eas, open_schema, accounts):
    """Same attester, same content, same block: EAS bumps the uint32 nonce."""
    client, freelancer = accounts.client.address, accounts.freelancer.address
    data = data_of("same")
    t = now()
    req = request(open_schema, freelancer, data=data, revocable=True)
    uids = [eas.attest(req, sender=client) for _ in range(3)]
    assert now() == t  # same block time
    assert uids == [
        attestation_uid(open_schema, freelancer, client, t, 0, True, ZERO32, data, bump) for bump in range(3)
    ]
    assert len(set(uids)) == 3
    for uid in uids:
        assert eas.get_attestation(uid).uid == uid
    # a later block needs no bump
    boa.env.time_travel(seconds=1)
    later = eas.attest(req, sender=client)
    assert later == attestation_uid(open_schema, freelancer, client, t + 1, 0, True, ZERO32, data, 0)


def test_attest_with_ref_uid(eas, open_schema, accounts):
    client, freelancer = accounts.client.address, accounts.freelancer.address
    first = eas.attest(request(open_schema, freelancer, data=data_of()), sender=client)
    t = now()
    second = eas.attest(request(open_schema, client, ref=first, data=b""), sender=freelancer)
    assert second == attestation_uid(open_schema, client, freelancer, t, 0, False, first, b"", 0)
    assert eas.get_attestation(second).refUID == first
    with boa.reverts("attestations: unknown refUID"):
        eas.attest(request(open_schema, client, ref=keccak(b"missing")), sender=freelancer)


def test_attest_refusals(eas, open_schema, fixed_schema, accounts):
    client, freelancer = accounts.client.address, accounts.freelancer.address
    with boa.reverts("attestations: unknown schema"):
        eas.attest(request(keccak(b"no schema"), freelancer), sender=client)
    with boa.reverts("attestations: expiration in the past"):
        eas.attest(request(open_schema, freelancer, expiration=now()), sender=client)
    with boa.reverts("attestations: expiration in the past"):
        eas.attest(request(open_schema, freelancer, expiration=1), sender=client)
    eas.attest(request(open_schema, freelancer, expiration=now() + 1), sender=client)
    with boa.reverts("attestations: schema is irrevocable"):
        eas.attest(request(fixed_schema, freelancer, revocable=True), sender=client)
    eas.attest(request(fixed_schema, freelancer, revocable=False), sender=client)
    with boa.reverts("attestations: no value accepted"):
        eas.attest(request(open_schema, freelancer, value=1), sender=client)
    # not payable: no ETH can be sent along
    boa.env.set_balance(client, 10**18)
    with boa.reverts():
        eas.attest(request(open_schema, freelancer), sender=client, value=1)
    # the largest data accepted: 1,024 bytes
    big = b"\x07" * 1024
    uid = eas.attest(request(open_schema, freelancer, data=big), sender=client)
    assert eas.get_attestation(uid).data == big


# --------------------------------------------------------------------------- revoke


def test_revoke_by_attester(eas, open_schema, accounts):
    client, freelancer = accounts.client.address, accounts.freelancer.address
    uid = eas.attest(request(open_schema, freelancer, data=data_of(), revocable=True), sender=client)
    boa.env.time_travel(seconds=100)
    t = now()
    eas.revoke(revocation(open_schema, uid), sender=client)
    logs = logs_of(eas, eas)
    assert len(logs) == 1
    assert logs[0].topics == (topic(REVOKED_SIG), word(freelancer), word(client), word(open_schema))
    assert logs[0].data == uid
    a = eas.get_attestation(uid)
    assert a.revocationTime == t and a.time == t - 100
    assert eas.is_attestation_valid(uid)  # EAS: a revoked attestation still exists
    with boa.reverts("attestations: already revoked"):
        eas.revoke(revocation(open_schema, uid), sender=client)


def test_revoke_refusals(eas, open_schema, fixed_schema, registry, accounts):
    client, freelancer = accounts.client.address, accounts.freelancer.address
    uid = eas.attest(request(open_schema, freelancer, revocable=True), sender=client)
    with boa.reverts("attestations: caller is not the attester"):
        eas.revoke(revocation(open_schema, uid), sender=freelancer)
    with boa.reverts("attestations: unknown attestation"):
        eas.revoke(revocation(open_schema, keccak(b"missing")), sender=client)
    with boa.reverts("attestations: unknown schema"):
        eas.revoke(revocation(keccak(b"no schema"), uid), sender=client)
    with boa.reverts("attestations: wrong schema"):
        eas.revoke(revocation(fixed_schema, uid), sender=client)
    with boa.reverts("attestations: no value accepted"):
        eas.revoke(revocation(open_schema, uid, value=1), sender=client)
    # a non-revocable attestation of a revocable schema
    fixed = eas.attest(request(open_schema, freelancer, revocable=False), sender=client)
    with boa.reverts("attestations: attestation is irrevocable"):
        eas.revoke(revocation(open_schema, fixed), sender=client)
    # of an irrevocable schema
    frozen = eas.attest(request(fixed_schema, freelancer), sender=client)
    with boa.reverts("attestations: attestation is irrevocable"):
        eas.revoke(revocation(fixed_schema, frozen), sender=client)
    assert eas.get_attestation(uid).revocationTime == 0
    eas.revoke(revocation(open_schema, uid), sender=client)


# --------------------------------------------------------------------------- resolver hook


def test_resolver_sees_the_stored_attestation(eas, switched_schema, switch, accounts):
    client, freelancer = accounts.client.address, accounts.freelancer.address
    data = data_of("resolved")
    uid = eas.attest(request(switched_schema, freelancer, data=data, revocable=True), sender=client)
    assert switch.calls() == 1 and switch.last_uid() == uid and switch.last_data() == data
    boa.env.time_travel(seconds=5)
    eas.revoke(revocation(switched_schema, uid), sender=client)
    assert switch.calls() == 2 and switch.last_uid() == uid and switch.last_revocation_time() == now()


def test_resolver_refusal_reverts(eas, switched_schema, switch, accounts):
    client, freelancer = accounts.client.address, accounts.freelancer.address
    uid = eas.attest(request(switched_schema, freelancer, revocable=True), sender=client)
    switch.set_answers(False, True)
    with boa.reverts("attestations: refused by resolver"):
        eas.attest(request(switched_schema, freelancer, data=b"\x01"), sender=client)
    switch.set_answers(True, False)
    with boa.reverts("attestations: refused by resolver"):
        eas.revoke(revocation(switched_schema, uid), sender=client)
    assert eas.get_attestation(uid).revocationTime == 0
    switch.set_answers(True, True)
    eas.revoke(revocation(switched_schema, uid), sender=client)


# --------------------------------------------------------------------------- property


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    recipient=st.binary(min_size=20, max_size=20),
    data=st.binary(max_size=1024),
    ttl=st.one_of(st.just(0), st.integers(min_value=1, max_value=2**40)),
    revocable=st.booleans(),
    refer=st.booleans(),
    repeats=st.integers(min_value=1, max_value=3),
)
def test_uid_derivation_property(eas, open_schema, accounts, recipient, data, ttl, revocable, refer, repeats):
    attester = accounts.relayer.address
    recipient_address = "0x" + recipient.hex()
    ref = ZERO32
    if refer:
        ref = eas.attest(request(open_schema, attester, data=b"ref"), sender=attester)
    t = now()
    expiration = t + ttl if ttl else 0
    req = request(
        open_schema, recipient_address, data=data, expiration=expiration, revocable=revocable, ref=ref
    )
    for bump in range(repeats):
        uid = eas.attest(req, sender=attester)
        assert uid == attestation_uid(
            open_schema, recipient_address, attester, t, expiration, revocable, ref, data, bump
        )
        a = eas.get_attestation(uid)
        assert (a.data, a.expirationTime, a.refUID, a.revocable) == (data, expiration, ref, revocable)


# --------------------------------------------------------------------------- ProofworkResolver


def _job_completed(
    client, freelancer, job_id=1, milestone=0, token=ZERO_ADDRESS, paid=10**9, score=0, verified=False
):
    return encode_job_completed(job_id, milestone, client, freelancer, token, paid, score, verified, "nlp")


def _forward(forwarder, eas, req, sender):
    out = forwarder.forward(eas.address, attest_calldata(eas, req), sender=sender)
    return bytes(out[:32])


@pytest.fixture
def completed(resolver, eas, forwarder, accounts):
    """A JobCompleted attestation (job 1) made through the forwarder (the job attester)."""
    client, freelancer = accounts.client.address, accounts.freelancer.address
    schema = resolver.job_completed_schema()
    uid = _forward(
        forwarder, eas, request(schema, freelancer, data=_job_completed(client, freelancer)), client
    )
    return uid


def test_resolver_registers_both_schemas(resolver, registry, eas, forwarder):
    assert resolver.attestations() == eas.address
    assert resolver.job_attester() == forwarder.address
    assert resolver.isPayable() is False
    jc, rv = resolver.job_completed_schema(), resolver.review_schema()
    assert jc == schema_uid(JOB_COMPLETED_SCHEMA, resolver.address, False)
    assert rv == schema_uid(REVIEW_SCHEMA, resolver.address, True)
    r = registry.get_schema(jc)
    assert (r.uid, r.resolver, r.revocable, r.schema) == (jc, resolver.address, False, JOB_COMPLETED_SCHEMA)
    r = registry.get_schema(rv)
    assert (r.uid, r.resolver, r.revocable, r.schema) == (rv, resolver.address, True, REVIEW_SCHEMA)


def test_resolver_deploys_over_a_preregistered_schema(stack, registry, eas, forwarder):
    """Someone registering the schemas for the resolver's future address cannot block its deployment."""
    nonce = boa.env.evm.vm.state.get_nonce(bytes.fromhex(stack.deployer[2:]))
    future = "0x" + keccak(rlp.encode([bytes.fromhex(stack.deployer[2:]), nonce]))[12:].hex()
    registry.register(JOB_COMPLETED_SCHEMA, future, False)
    registry.register(REVIEW_SCHEMA, future, True)
    r = stack.deploy(stack.resolver_partial, eas.address, forwarder.address)
    assert str(r.address).lower() == future
    assert r.job_completed_schema() == schema_uid(JOB_COMPLETED_SCHEMA, future, False)


def test_job_completed_only_by_the_job_attester(resolver, eas, forwarder, accounts):
    client, freelancer = accounts.client.address, accounts.freelancer.address
    schema = resolver.job_completed_schema()
    data = _job_completed(client, freelancer)
    with boa.reverts("resolver: only the job attester attests JobCompleted"):
        eas.attest(request(schema, freelancer, data=data), sender=client)
    with boa.reverts("resolver: recipient is not the freelancer"):
        _forward(forwarder, eas, request(schema, client, data=data), client)
    with boa.reverts("attestations: schema is irrevocable"):
        _forward(forwarder, eas, request(schema, freelancer, data=data, revocable=True), client)
    uid = _forward(forwarder, eas, request(schema, freelancer, data=data), client)
    a = eas.get_attestation(uid)
    assert a.attester == forwarder.address and a.recipient == freelancer and a.data == data


def test_resolver_answers_only_the_attestation_service(resolver, eas, completed, accounts):
    a = eas.get_attestation(completed)
    with boa.reverts("resolver: caller is not the attestation service"):
        resolver.attest(a, sender=accounts.outsider.address)
    with boa.reverts("resolver: caller is not the attestation service"):
        resolver.revoke(a, sender=accounts.outsider.address)


def test_reviews_by_both_parties_once(resolver, eas, completed, forwarder, accounts):
    client, freelancer = accounts.client.address, accounts.freelancer.address
    review = resolver.review_schema()
    by_client = eas.attest(
        request(review, freelancer, data=encode_review(5), ref=completed, revocable=True), sender=client
    )
    events = [e for e in eas.get_logs() if type(e).__name__ == "ReviewRecorded"]
    assert len(events) == 1
    assert (events[0].job_id, events[0].reviewer, events[0].reviewee, events[0].uid, events[0].rating) == (
        1,
        client,
        freelancer,
        by_client,
        5,
    )
    assert resolver.reviewed(1, client) and not resolver.reviewed(1, freelancer)
    eas.attest(request(review, client, data=encode_review(1), ref=completed), sender=freelancer)
    assert resolver.reviewed(1, freelancer)
    with boa.reverts("resolver: job already reviewed"):
        eas.attest(request(review, freelancer, data=encode_review(4), ref=completed), sender=client)
    # another milestone of the same job is the same job
    other = _forward(
        forwarder,
        eas,
        request(
            resolver.job_completed_schema(), freelancer, data=_job_completed(client, freelancer, milestone=1)
        ),
        client,
    )
    with boa.reverts("resolver: job already reviewed"):
        eas.attest(request(review, client, data=encode_review(4), ref=other), sender=freelancer)
    # a revoked review is not replaced
    eas.revoke(revocation(review, by_client), sender=client)
    assert eas.get_attestation(by_client).revocationTime == now()
    with boa.reverts("resolver: job already reviewed"):
        eas.attest(request(review, freelancer, data=encode_review(4), ref=completed), sender=client)


def test_review_refusals(resolver, eas, completed, open_schema, accounts):
    client, freelancer, outsider = (
        accounts.client.address,
        accounts.freelancer.address,
        accounts.outsider.address,
    )
    review = resolver.review_schema()
    good = encode_review(3)
    with boa.reverts("resolver: review without a job"):
        eas.attest(request(review, freelancer, data=good), sender=client)
    with boa.reverts("attestations: unknown refUID"):
        eas.attest(request(review, freelancer, data=good, ref=keccak(b"x")), sender=client)
    not_a_job = eas.attest(request(open_schema, freelancer, data=b""), sender=client)
    with boa.reverts("resolver: refUID is not a JobCompleted attestation"):
        eas.attest(request(review, freelancer, data=good, ref=not_a_job), sender=client)
    with boa.reverts("resolver: reviewer is not a party"):
        eas.attest(request(review, freelancer, data=good, ref=completed), sender=outsider)
    with boa.reverts("resolver: recipient is not the other party"):
        eas.attest(request(review, client, data=good, ref=completed), sender=client)
    with boa.reverts("resolver: recipient is not the other party"):
        eas.attest(request(review, outsider, data=good, ref=completed), sender=client)
    with boa.reverts("resolver: recipient is not the other party"):
        eas.attest(request(review, freelancer, data=good, ref=completed), sender=freelancer)
    for rating in (0, 6, 255):
        with boa.reverts("resolver: rating out of range"):
            eas.attest(request(review, freelancer, data=encode_review(rating), ref=completed), sender=client)
    for bad in (b"", good[:63], good + b"\x00"):
        with boa.reverts("resolver: bad review data"):
            eas.attest(request(review, freelancer, data=bad, ref=completed), sender=client)
    with boa.reverts():  # a uint8 word above 255 is not an ABI-valid uint8
        eas.attest(
            request(review, freelancer, data=(256).to_bytes(32, "big") + good[32:], ref=completed),
            sender=client,
        )
    # a review referring to a review
    first = eas.attest(request(review, freelancer, data=encode_review(1), ref=completed), sender=client)
    with boa.reverts("resolver: refUID is not a JobCompleted attestation"):
        eas.attest(request(review, client, data=good, ref=first), sender=freelancer)
    # ratings 1 and 5 are the bounds (1 was accepted above)
    eas.attest(request(review, client, data=encode_review(5), ref=completed), sender=freelancer)


def test_resolver_refuses_other_schemas(resolver, registry, eas, accounts):
    client, freelancer = accounts.client.address, accounts.freelancer.address
    foreign = registry.register("string anything", resolver.address, True, sender=client)
    with boa.reverts("resolver: unknown schema"):
        eas.attest(request(foreign, freelancer, data=b""), sender=client)


def test_resolver_refuses_revoking_job_completed(resolver, eas, completed, accounts):
    """JobCompleted cannot be revoked: its schema is irrevocable, and the resolver
    itself answers no to the revocation of anything but a review."""
    a = eas.get_attestation(completed)
    with boa.reverts("attestations: attestation is irrevocable"):
        eas.revoke(revocation(a.schema, completed), sender=a.attester)
    assert resolver.revoke(a, sender=eas.address) is False
    review = eas.attest(
        request(resolver.review_schema(), accounts.freelancer.address, data=encode_review(2), ref=completed),
        sender=accounts.client.address,
    )
    assert resolver.revoke(eas.get_attestation(review), sender=eas.address) is True


def test_resolver_without_code_blocks_the_schema(registry, eas, accounts):
    """As in EAS, a schema whose resolver has no code takes no attestation."""
    client = accounts.client.address
    schema = registry.register(SCHEMA, accounts.outsider.address, False, sender=client)
    with boa.reverts():
        eas.attest(request(schema, accounts.freelancer.address), sender=client)
