"""The identity layer end to end, on the embedded chain and on anvil: a did:web issuer served over
HTTP and accredited in the on-chain registry (status lists anchored, keys rotated), JobCompleted
attestations and reviews, skill badges from committee-verified jobs, and reputation over the
attestation graph, exported as a credential that verifies offline.

One deployment per backend (escrow, a 4-oracle committee, then the identity contracts); every test
uses its own jobs and, where the chain state matters, its own fresh freelancer accounts.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account import Account

from proofwork.api import issuer_http
from proofwork.chain.attestations import REVIEW_TYPES
from proofwork.chain.encoding import designated_quorum, keccak
from proofwork.domain import job as J
from proofwork.domain.errors import (
    CredentialRejected,
    InvalidInput,
    NotAllowed,
    NotFound,
    TransactionRejected,
)
from proofwork.domain.reputation import PaidJob, compute_reputation
from proofwork.identity import sdjwt
from proofwork.identity import status_list as sl
from proofwork.identity.did import did_pkh_of
from proofwork.keys.jwk import b64url_decode
from proofwork.sdk import Proofwork, Signer
from proofwork.services import assets as assets_service
from proofwork.services import attestations, reputation
from proofwork.services.credentials import issuing, profiles, status_lists, verification, wallet
from proofwork.services.evaluated_jobs import AGGREGATION_GRACE, POSTING_FALLBACK_AFTER
from proofwork.services.issuers import RegisteredIssuer
from proofwork.services.oracle.node import OracleNode
from tests.integration.conftest import BACKENDS
from tests.integration.ml_fixtures import DAY, WINDOW, MlMarket, open_ml_market

AUDIENCE = "did:web:client.example"
COURSE = issuing.VCT_COURSE_CERTIFICATE
ZERO = b"\x00" * 32


@dataclass
class IdMarket:
    ml: MlMarket
    web: issuer_http.WebRootServer
    uni: profiles.IssuerProfile  # did:web, account dev5, registered in the fixture
    registered: RegisteredIssuer
    last_rejection: str = ""

    @property
    def pw(self) -> Proofwork:
        return self.ml.pw

    def fresh(self, tokens: str = "0") -> Signer:
        """A new account nobody has used, with gas money (and `tokens`)."""
        account = Account.create()
        self.pw.fund(account.address, self.pw.amount(tokens))
        return Signer(f"fresh-{account.address[2:10].lower()}", account.address, bytes(account.key))

    def plain_job(self, client: Signer, freelancer: Signer, amounts: list[str], approve: int = 1) -> int:
        """A job without arbiter; every milestone submitted, the first `approve` approved (paid)."""
        pw = self.pw
        job_id = pw.jobs.post(
            client,
            milestones=[pw.amount(a) for a in amounts],
            deadline=pw.now() + 7 * DAY,
            review_period=3 * DAY,
            freelancer=freelancer.address,
        ).job.job_id
        for index in range(len(amounts)):
            pw.jobs.submit(freelancer, job_id, index, keccak(f"work {job_id}/{index}".encode()))
        for index in range(approve):
            pw.jobs.approve(client, job_id, index)
        return job_id

    def course(self, issuer: str, holder: str, course: str = "Machine Learning") -> issuing.IssuedRecord:
        return self.pw.identity.issue(
            issuer,
            holder,
            COURSE,
            {"course": course, "grade": "A", "student_id": "S-42"},
            valid_for=365 * DAY,
        )

    def show(self, holder: str, credential: str, **options: object) -> verification.Verification:
        """Presents `credential` (id or file) to AUDIENCE with a fresh nonce and verifies it."""
        nonce = secrets.token_urlsafe(12)
        presentation = self.pw.identity.present(holder, credential, ["course"], AUDIENCE, nonce)
        options.setdefault("allow_insecure_localhost", True)
        return self.pw.identity.verify(presentation, AUDIENCE, nonce, **options)

    def rejection(self, holder: str, credential: str, **options: object) -> str:
        """The reason code a verifier refuses the presentation with."""
        with pytest.raises(CredentialRejected) as caught:
            self.show(holder, credential, **options)
        self.last_rejection = str(caught.value)
        return caught.value.reason


@pytest.fixture(scope="module", params=BACKENDS)
def idm(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, digits_task: dict[str, Path]
) -> Iterator[IdMarket]:
    rpc_url = request.getfixturevalue("anvil_url") if request.param == "anvil" else None
    data_dir = tmp_path_factory.mktemp(f"id-{request.param}")
    with open_ml_market(request.param, rpc_url, data_dir, digits_task) as ml, ExitStack() as stack:
        pw = ml.pw
        pw.identity.deploy("dev0")  # after the committee, whose signed scores the attester trusts
        web = issuer_http.WebRootServer(profiles.issuer_web_root(pw.ws.data_dir, "uni"))
        stack.callback(web.close)
        uni = pw.identity.create_issuer("uni", "dev5", base_url=f"{web.url}/uni")
        web.start()
        registered = pw.identity.register_issuer("uni")
        yield IdMarket(ml, web, uni, registered)


def served_status_file(m: IdMarket, uri: str) -> Path:
    """The file behind a status list URI of the "uni" issuer's web root."""
    return m.uni.web_root.joinpath(*[s for s in urlsplit(uri).path.split("/") if s])


# --- issuers and credentials against the on-chain registry -------------------------------------------


def test_registered_web_issuer_credential_verifies_accredited_and_valid(idm: IdMarket) -> None:
    pw, ws, uni = idm.pw, idm.pw.ws, idm.uni
    dev5 = pw.address("dev5")
    assert uni.did == f"did:web:127.0.0.1%3A{idm.web.port}:uni"
    status_uri = f"{idm.web.url}/uni/status/1"
    assert [name for name, _ in idm.registered.steps] == [
        "accredit",
        f"add key {uni.did}#key-1",
        f"anchor {status_uri}",
    ]
    assert ws.issuer_registry.issuer_of_did(uni.did) == dev5
    assert ws.issuer_registry.info(dev5).did == uni.did and ws.issuer_registry.is_accredited(dev5)
    anchored = idm.pw.identity.directory.anchored_status_digest(dev5, status_uri)
    assert anchored == sl.token_digest(served_status_file(idm, status_uri).read_text())

    record = idm.course("uni", "dev2")
    assert record.status is not None and record.status.uri == status_uri
    checked = idm.show("dev2", record.id, expected_vct=COURSE)
    assert checked.accredited is True
    assert checked.status == "valid"
    assert checked.claims == {"course": "Machine Learning"}, "only the disclosed claim"
    assert checked.issuer == uni.did and checked.issuer_address == dev5
    assert checked.holder_address == pw.address("dev2") and checked.key_bound
    # registering again adds nothing
    assert [n for n, _ in pw.identity.register_issuer("uni").steps] == [f"anchor {status_uri}"]


def test_an_issuer_not_in_the_registry_is_unknown(idm: IdMarket) -> None:
    pw = idm.pw
    web = issuer_http.WebRootServer(profiles.issuer_web_root(pw.ws.data_dir, "rogue"))
    try:
        rogue = pw.identity.create_issuer("rogue", "dev4", base_url=f"{web.url}/rogue")
        web.start()
        record = idm.course("rogue", "dev3", "Forged Degree")
        assert pw.ws.issuer_registry.issuer_of_did(rogue.did) is None
        assert idm.rejection("dev3", record.id) == "unknown-issuer"
        assert "is not an accredited issuer in the registry" in idm.last_rejection
        # the signature, DID document and status list are all fine: only the registry refuses it
        unchecked = idm.show("dev3", record.id, directory=None)
        assert unchecked.accredited is None and unchecked.status == "valid"
    finally:
        web.close()


def test_suspended_and_revoked_credentials_are_refused(idm: IdMarket) -> None:
    pw = idm.pw
    suspended, revoked = idm.course("uni", "dev3", "Statistics"), idm.course("uni", "dev3", "Databases")
    assert idm.show("dev3", suspended.id).status == "valid"
    assert idm.show("dev3", revoked.id).status == "valid"
    assert pw.identity.suspend("uni", suspended.id)["status"] == "suspended"
    assert idm.rejection("dev3", suspended.id) == "suspended"
    assert pw.identity.revoke("uni", revoked.id)["status"] == "revoked"
    assert idm.rejection("dev3", revoked.id) == "revoked"
    with pytest.raises(NotAllowed, match="revocation is final"):
        status_lists.reinstate(pw.ws, "uni", revoked.id, directory=pw.identity.directory)
    status_lists.reinstate(pw.ws, "uni", suspended.id, directory=pw.identity.directory)
    assert idm.show("dev3", suspended.id).status == "valid", "a suspension is reversible"


def test_an_older_status_list_served_after_a_revocation_is_stale(idm: IdMarket) -> None:
    pw = idm.pw
    record = idm.course("uni", "dev4", "Compilers")
    assert record.status is not None
    served = served_status_file(idm, record.status.uri)
    before = served.read_bytes()  # signed and anchored, the credential still valid in it
    pw.identity.revoke("uni", record.id)
    after = served.read_bytes()
    assert after != before
    try:
        served.write_bytes(before)  # the web host replays the older, validly signed list
        assert idm.rejection("dev4", record.id) == "stale-status-list"
        # without the registry's anchor the replay would have worked
        assert idm.show("dev4", record.id, directory=None).status == "valid"
    finally:
        served.write_bytes(after)
    assert idm.rejection("dev4", record.id) == "revoked"


def test_key_rotation_keeps_old_credentials_and_retires_the_old_key_on_chain(
    idm: IdMarket, tmp_path: Path
) -> None:
    pw, ws, uni = idm.pw, idm.pw.ws, idm.uni
    dev5 = pw.address("dev5")
    profile = profiles.load_issuer(ws, "uni")
    old_key, old_kid, _ = profiles.issuer_signing_key(ws, profile)
    old_thumb = profiles.key_thumbprint(old_key)
    did_json = profile.web_root.joinpath(*profiles.did_document_path(profile.base_url or ""))
    old_document = json.loads(did_json.read_text())
    before = idm.course("uni", "dev2", "Algorithms")

    rotated = profiles.rotate_key(ws, "uni")
    assert [k.fragment for k in rotated.keys] == ["key-1", "key-2"]
    steps = [name for name, _ in pw.identity.register_issuer("uni").steps]
    assert steps[:2] == [f"retire key {uni.did}#key-1", f"add key {uni.did}#key-2"]
    assert all(s.startswith("anchor ") for s in steps[2:]) and steps[2:]
    new_key, new_kid, _ = profiles.issuer_signing_key(ws, profiles.load_issuer(ws, "uni"))
    new_thumb = profiles.key_thumbprint(new_key)
    now = pw.now() + 1  # the retired key still covers the second it was retired in
    assert not ws.issuer_registry.key_valid_at(dev5, old_thumb, now)
    assert ws.issuer_registry.key_valid_at(dev5, new_thumb, now)
    assert ws.issuer_registry.key_valid_at(dev5, old_thumb, before.iat)

    after = idm.course("uni", "dev2", "Operating Systems")
    assert (
        new_kid == f"{uni.did}#key-2"
        and json.loads(b64url_decode(after.sd_jwt.split(".")[0]))["kid"] == new_kid
    )
    assert idm.show("dev2", before.id).status == "valid", "signed before the rotation: still valid"
    assert idm.show("dev2", after.id).status == "valid"

    # the old key, if stolen, signs nothing new: the DID document marks it revoked, and a verifier
    # holding the pre-rotation document is stopped by the registry's key history
    forged_token = sdjwt.issue_credential(
        issuer=uni.did,
        key=old_key,
        kid=old_kid,
        vct=COURSE,
        claims={"course": "Forged", "grade": "A+"},
        holder_jwk=wallet.holder_jwk_of(pw.signer("dev2")),
        # dated after the rotation both in the DID document and on chain
        iat=max(now, rotated.keys[0].revoked or now),
    )
    forged = tmp_path / "forged.sdjwt"
    forged.write_text(forged_token)
    assert idm.rejection("dev2", str(forged)) == "key-revoked"
    assert idm.rejection("dev2", str(forged), documents={uni.did: old_document}) == "key-not-registered"


# --- attestations and reviews ------------------------------------------------------------------------


def test_client_approved_job_is_attested_once_unverified(idm: IdMarket) -> None:
    pw, ws, ml = idm.pw, idm.pw.ws, idm.ml
    freelancer = idm.fresh()
    job_id = idm.plain_job(ml.client, freelancer, ["200", "100"], approve=1)

    done = pw.identity.attest("dev4", job_id)  # anyone may attest
    assert [(a.job_id, a.milestone, a.verified, a.score, a.badge) for a in done] == [(job_id, 0, False, 0, 0)]
    uid = done[0].uid
    assert ws.job_attester.attestation_of(job_id, 0) == uid
    assert ws.job_attester.attestation_of(job_id, 1) == ZERO, "milestone 2 is not paid yet"

    records = [r for r in pw.identity.completions() if r.job_id == job_id]
    assert len(records) == 1
    record = records[0]
    assert record.uid == uid and record.milestone == 0
    assert record.client == ml.client.address and record.freelancer == freelancer.address
    assert record.amount_paid == pw.amount("200"), "the gross milestone amount, fee included"
    assert record.token == ws.deployment.token
    assert (record.score, record.verified, record.skill, record.revoked) == (0, False, "", False)
    job = pw.jobs.get(job_id)
    assert (record.threshold, record.higher_is_better, record.spec_hash) == (0, False, job.spec_hash)
    assert record.passed is None
    stored = ws.attestations.get(uid)
    assert stored.attester == ws.deployment.job_attester and stored.recipient == freelancer.address
    assert not stored.revocable

    assert pw.identity.attest("dev4", job_id) == [], "nothing left to attest"
    with pytest.raises(TransactionRejected, match="milestone not settled"):
        ws.job_attester.attest_job(pw.signer("dev4").key, pw.jobs.get(job_id), 1)
    with pytest.raises(TransactionRejected, match="already attested"):
        ws.job_attester.attest_job(pw.signer("dev4").key, pw.jobs.get(job_id), 0)
    # nobody but the job attester makes JobCompleted attestations
    schema = bytes.fromhex(ws.deployment.job_completed_schema[2:])
    with pytest.raises(TransactionRejected, match="only the job attester"):
        ws.attestations.attest(
            ml.client.key, schema, freelancer.address, ZERO, b"\x00" * 288, revocable=False
        )

    pw.jobs.approve(ml.client, job_id, 1)
    second = pw.identity.attest("dev4", job_id)
    assert [(a.milestone, a.verified) for a in second] == [(1, False)]


def test_reviews_reference_the_attestation_once_per_party(idm: IdMarket) -> None:
    pw, ws, ml = idm.pw, idm.pw.ws, idm.ml
    freelancer = idm.fresh()
    job_id = idm.plain_job(ml.client, freelancer, ["50", "50"], approve=1)
    with pytest.raises(NotFound, match="no JobCompleted attestation"):
        pw.identity.review("dev1", job_id, 0, 5, "not attested yet")
    (done,) = pw.identity.attest("dev5", job_id)

    uid = pw.identity.review("dev1", job_id, 0, 4, "solid work")
    review = ws.attestations.get(uid)
    assert review.ref_uid == done.uid and review.recipient == freelancer.address
    assert review.attester == ml.client.address and review.schema.hex() == ws.deployment.review_schema[2:]
    assert list(abi_decode(REVIEW_TYPES, review.data)) == [4, keccak(b"solid work")]

    back = attestations.review(ws, freelancer, job_id, 0, 5, "clear spec, paid on time")
    assert ws.attestations.get(back).recipient == ml.client.address

    with pytest.raises(NotAllowed, match="client or freelancer"):
        pw.identity.review("dev4", job_id, 0, 5)
    schema = bytes.fromhex(ws.deployment.review_schema[2:])
    with pytest.raises(TransactionRejected, match="reviewer is not a party"):
        ws.attestations.attest(
            pw.signer("dev4").key, schema, freelancer.address, done.uid, abi_encode(REVIEW_TYPES, [5, ZERO])
        )
    for rating in (0, 6):
        with pytest.raises(InvalidInput, match="rating"):
            pw.identity.review("dev1", job_id, 0, rating)
    with pytest.raises(TransactionRejected, match="job already reviewed"):
        pw.identity.review("dev1", job_id, 0, 1, "changed my mind")
    with pytest.raises(NotFound, match="milestone 2 has no JobCompleted attestation"):
        pw.identity.review("dev1", job_id, 1, 5)


def test_review_rating_is_checked_on_chain_too(idm: IdMarket) -> None:
    ws, ml = idm.pw.ws, idm.ml
    freelancer = idm.fresh()
    job_id = idm.plain_job(ml.client, freelancer, ["10"])
    (done,) = idm.pw.identity.attest("dev5", job_id)
    schema = bytes.fromhex(ws.deployment.review_schema[2:])
    for rating in (0, 6):
        with pytest.raises(TransactionRejected, match="rating out of range"):
            ws.attestations.attest(
                ml.client.key, schema, freelancer.address, done.uid, abi_encode(REVIEW_TYPES, [rating, ZERO])
            )


# --- committee-verified jobs and skill badges -----------------------------------------------------------


@pytest.mark.slow
def test_verified_passing_jobs_attest_the_median_and_earn_one_badge_per_skill(idm: IdMarket) -> None:
    pw, ws, ml = idm.pw, idm.pw.ws, idm.ml
    skill = "vision/digit-classification"
    good, weak = idm.fresh(), idm.fresh()
    skilled, weak_job, unskilled, again = ml.post(good), ml.post(weak), ml.post(good), ml.post(good)
    for job_id in (skilled, weak_job, again):
        pw.identity.declare_skill("dev1", job_id, skill)
    assert ws.job_attester.skill_of(skilled) == skill and ws.job_attester.skill_of(unskilled) == ""
    with pytest.raises(NotAllowed, match="client declares"):
        pw.identity.declare_skill("dev4", unskilled, skill)
    with pytest.raises(TransactionRejected, match="caller is not the client"):
        ws.job_attester.declare_skill(pw.signer("dev4").key, pw.jobs.get(unskilled), skill)
    with pytest.raises(TransactionRejected, match="skill already declared"):
        pw.identity.declare_skill("dev1", skilled, "nlp/other")
    for job_id, who, model in ((skilled, good, "good"), (weak_job, weak, "weak"), (unskilled, good, "good")):
        ml.submit(who, job_id, model)
    ml.settle_all()

    settled = ml.evaluations.get(skilled).settlements[0]
    assert settled["passed"] is True
    (first,) = pw.identity.attest("dev4", skilled)
    assert first.verified is True and first.score == settled["median"] and first.score > 900_000
    assert first.badge > 0
    badges = pw.identity.badges(good.address)
    assert [(b.token_id, b.skill, b.holder, b.by_job) for b in badges] == [
        (first.badge, skill, good.address, True)
    ]
    assert badges[0].evidence == first.uid and badges[0].issuer == ws.deployment.job_attester
    assert ws.badges.locked(first.badge) is True
    (record,) = [r for r in pw.identity.completions() if r.job_id == skilled]
    assert (record.verified, record.score, record.skill) == (True, settled["median"], skill)
    assert record.amount_paid == pw.amount("100")
    # what the verified pass meant: the pass score, direction and evaluation it was judged against
    assert (record.threshold, record.higher_is_better, record.passed) == (900_000, True, True)
    assert record.spec_hash == pw.jobs.get(skilled).spec_hash == ml.evaluations.get(skilled).hash
    assert first.threshold == 900_000

    # the weak model failed: refunded, nothing paid, nothing to attest
    assert ml.evaluations.get(weak_job).settlements[0]["passed"] is False
    assert pw.jobs.get(weak_job).milestones[0].paid == 0
    assert pw.identity.attest("dev4", weak_job) == []
    with pytest.raises(TransactionRejected, match="nothing paid to the freelancer"):
        ws.job_attester.attest_job(pw.signer("dev4").key, pw.jobs.get(weak_job), 0)
    assert pw.identity.badges(weak.address) == []

    # passing without a declared skill: verified, no badge
    (plain,) = pw.identity.attest("dev4", unskilled)
    assert plain.verified is True and plain.badge == 0
    assert plain.score == ml.evaluations.get(unskilled).settlements[0]["median"]
    with pytest.raises(TransactionRejected, match="already settled"):
        pw.identity.declare_skill("dev1", unskilled, skill)

    # a second pass in the same skill: attested, but no second badge
    ml.submit(good, again, "good")
    ml.settle_all()
    (second,) = pw.identity.attest("dev4", again)
    assert second.verified is True and second.badge == 0
    assert ws.job_attester.events("BadgeAwarded", subject=again) == []
    assert [b.token_id for b in pw.identity.badges(good.address)] == [first.badge]


def test_verified_attestation_takes_exactly_the_canonical_reports(idm: IdMarket) -> None:
    """The designated quorum settles, and the attested median is the median of exactly the round's
    canonical reports: nobody picks which reports count, and nobody forces an unverified record."""
    pw, ws, ml = idm.pw, idm.pw.ws, idm.ml
    committee = ws.committee
    worker = idm.fresh()
    job_id = ml.post(worker)
    ml.submit(worker, job_id, "good")
    ml.settle_all()
    job = pw.jobs.get(job_id)
    m = job.milestones[0]
    assert m.status == J.MilestoneStatus.RESOLVED
    settlement = committee.settlement(job_id, 0)
    canonical = committee.canonical_signers(job_id, 0, m.revisions, m.deliverable)
    assert settlement is not None and settlement.signers == canonical
    assert canonical == designated_quorum(job_id, 0, m.revisions, committee.oracles, committee.threshold)
    assert settlement.median == sorted(settlement.scores)[len(canonical) // 2]
    dev4 = pw.signer("dev4").key
    with pytest.raises(TransactionRejected, match="only the freelancer may attest unverified"):
        ws.job_attester.attest_job(dev4, job, 0)
    with pytest.raises(TransactionRejected, match="only the freelancer may attest unverified"):
        ws.job_attester.attest_job(ml.client.key, job, 0)
    forged = [settlement.scores[0] + 1, *settlement.scores[1:]]
    with pytest.raises(TransactionRejected, match="bad signature"):
        ws.job_attester.attest_job(dev4, job, 0, settlement.signers, forged, settlement.signatures)
    # another quorum's reports (the one oracle left out, in place of a designated one) are refused
    outsider = next(o for o in committee.oracles if o not in canonical)
    state = ml.states[[o.address for o in ml.oracles].index(outsider)]
    report = state.reports(committee.address, "job", job_id)[0]
    others = sorted([outsider, *canonical[1:]], key=lambda a: int(a, 16))
    by_signer = dict(
        zip(settlement.signers, zip(settlement.scores, settlement.signatures, strict=True), strict=True)
    )
    by_signer[outsider] = (report.score, bytes.fromhex(report.signature[2:]))
    with pytest.raises(TransactionRejected, match="not the canonical signers"):
        ws.job_attester.attest_job(
            dev4, job, 0, others, [by_signer[o][0] for o in others], [by_signer[o][1] for o in others]
        )
    (done,) = pw.identity.attest("dev4", job_id)
    assert done.verified and done.score == settlement.median


def test_a_committee_job_the_client_approved_is_attested_from_the_oracles_reports(idm: IdMarket) -> None:
    """A milestone the client paid itself after the oracles scored it: anyone attests it verified with
    the canonical oracles' reports, fetched from their endpoints."""
    pw, ws, ml = idm.pw, idm.pw.ws, idm.ml
    freelancer = idm.fresh()
    job_id = ml.post(freelancer)
    ml.submit(freelancer, job_id, "good")
    ml.run_oracles()
    pw.jobs.approve(ml.client, job_id, 0)
    (done,) = pw.identity.attest("dev4", job_id)
    m = pw.jobs.get(job_id).milestones[0]
    canonical = ws.committee.canonical_signers(job_id, 0, m.revisions, m.deliverable)
    scores = [
        ml.states[[o.address for o in ml.oracles].index(c)]
        .reports(ws.committee.address, "job", job_id)[0]
        .score
        for c in canonical
    ]
    assert done.verified and done.score == sorted(scores)[len(scores) // 2]
    (record,) = [r for r in pw.identity.completions() if r.job_id == job_id]
    assert (record.verified, record.passed, record.amount_paid) == (True, True, pw.amount("100"))


def test_a_withholding_designated_oracle_cannot_veto_the_verified_record_of_an_approved_job(
    idm: IdMarket,
) -> None:
    """Second review, F8: the client approves at once and one oracle of the round's designated quorum
    never signs. Until the designated period is over nothing verified can be attested; after it,
    attesting records the other oracles' reports (a quorum) as the round's canonical signers
    (`record_signers`), and the record is verified."""
    pw, ws, ml = idm.pw, idm.pw.ws, idm.ml
    committee = ws.committee
    freelancer = idm.fresh()
    job_id = ml.post(freelancer)
    ml.submit(freelancer, job_id, "good")
    designated = designated_quorum(job_id, 0, 0, committee.oracles, committee.threshold)
    withholding = designated[0]
    others = [n for n in ml.nodes if n.signer.address != withholding]
    ml.run_oracles(others)
    pw.jobs.approve(ml.client, job_id, 0)
    with pytest.raises(NotAllowed, match="cannot be had"):
        pw.identity.attest("dev4", job_id)
    m = pw.jobs.get(job_id).milestones[0]
    assert committee.canonical_signers(job_id, 0, 0, m.deliverable) == designated
    pw.advance_time(m.timestamp + 2 * WINDOW + 1 - pw.now())
    (done,) = pw.identity.attest("dev4", job_id)
    recorded = sorted((n.signer.address for n in others), key=lambda a: int(a, 16))
    assert committee.canonical_signers(job_id, 0, 0, m.deliverable) == recorded
    scores = sorted(
        ml.states[ml.nodes.index(n)].reports(committee.address, "job", job_id)[0].score for n in others
    )
    assert done.verified and done.score == scores[len(scores) // 2]
    (event,) = committee.events("SignersRecorded", subject=job_id)
    assert [str(a) for a in event.args["signers"]] == recorded


def test_an_outsider_cannot_force_an_unverified_record_only_the_freelancer_can(idm: IdMarket) -> None:
    """The client pays a committee-judged milestone before any oracle scored it: nobody can bring the
    reports, and only the freelancer may give up the verification (and only by asking for it)."""
    pw, ws, ml = idm.pw, idm.pw.ws, idm.ml
    freelancer = idm.fresh()
    job_id = ml.post(freelancer)
    ml.submit(freelancer, job_id, "good")
    pw.jobs.approve(ml.client, job_id, 0)
    for caller in ("dev4", "dev1"):
        with pytest.raises(
            NotAllowed, match=r"only its freelancer \(0x[0-9a-fA-F]{40}\) may record it unverified"
        ):
            pw.identity.attest(caller, job_id)
    with pytest.raises(TransactionRejected, match="only the freelancer may attest unverified"):
        ws.job_attester.attest_job(pw.signer("dev4").key, pw.jobs.get(job_id), 0)
    with pytest.raises(NotAllowed, match="--unverified"):
        attestations.attest_settled(ws, freelancer, job_id)  # not without asking
    assert ws.job_attester.attestation_of(job_id, 0) == ZERO
    (done,) = attestations.attest_settled(ws, freelancer, job_id, unverified=True)
    assert (done.verified, done.score, done.badge) == (False, 0, 0)
    (record,) = [r for r in pw.identity.completions() if r.job_id == job_id]
    assert (record.freelancer, record.verified, record.threshold) == (freelancer.address, False, 0)
    assert record.amount_paid == pw.amount("100")
    # the oracles, which scored nothing while the milestone was open, leave the paid job alone
    ml.run_oracles()
    assert all(not s.reports(ws.committee.address, "job", job_id) for s in ml.states)
    # the deliverable as an asset: its lineage names the attestation (PROV `wasGeneratedBy` evidence)
    pw.assets.deploy("dev0")
    manifest, _ = pw.assets.manifest([ml.models["good"]], kind="model", name="good", license="MIT")
    asset_id = pw.assets.register_deliverable(freelancer, job_id, 0, manifest).asset_id
    assert assets_service.lineage(ws, asset_id)[asset_id].attestation == done.uid
    assert "0x" + done.uid.hex() in pw.assets.lineage_prov(asset_id)


# --- a committee job settled from reports posted on chain -----------------------------------------


class NoPeers:
    """Every peer unreachable: the oracles fall back to posting their reports on chain."""

    def reports(self, endpoint: str, contract: str, kind: str, subject: int) -> list[dict[str, Any]]:
        return []


def test_a_job_settled_from_reports_posted_on_chain_is_attested_verified(idm: IdMarket) -> None:
    pw, ws, ml = idm.pw, idm.pw.ws, idm.ml
    isolated = [
        OracleNode(
            ws, n.signer, n.state, ml.evaluator, NoPeers(), workdir=ml.workdir / "isolated", tamper=n.tamper
        )
        for n in ml.nodes
    ]
    worker = idm.fresh()
    job_id = ml.post(worker)
    ml.submit(worker, job_id, "good")
    ml.run_oracles(isolated)
    pw.advance_time(WINDOW + AGGREGATION_GRACE + 1)
    ml.run_oracles(isolated)
    pw.advance_time(POSTING_FALLBACK_AFTER)
    steps = ml.run_oracles(isolated) + ml.run_oracles(isolated)
    assert any("reports posted on chain" in line for st in steps for line in st.settled)
    # the signatures are read back from the post_report transactions, not the settling one
    settlement = ws.committee.settlement(job_id, 0)
    assert settlement is not None and settlement.passed
    assert len(settlement.scores) == len(settlement.signatures) == len(settlement.signers) >= 3
    # settled after the designated quorum's period: its signers are recorded as the canonical ones
    m = pw.jobs.get(job_id).milestones[0]
    assert ws.committee.canonical_signers(job_id, 0, m.revisions, m.deliverable) == settlement.signers
    assert pw.jobs.get(job_id).milestones[0].paid == pw.amount("100")
    (done,) = pw.identity.attest("dev4", job_id)
    assert done.verified and done.score == settlement.median


# --- reputation from the chain ------------------------------------------------------------------------------


def test_reputation_from_attestations_resists_a_ring_and_exports_offline(idm: IdMarket) -> None:
    pw, ws, ml = idm.pw, idm.pw.ws, idm.ml
    dev0, dev1, dev2, dev5 = (pw.address(f"dev{i}") for i in (0, 1, 2, 5))
    wallet = pw.identity.create_issuer("proofwork", "dev0")
    assert wallet.did == did_pkh_of(ws.chain_id, dev0)
    assert [n for n, _ in pw.identity.register_issuer("proofwork").steps] == ["accredit"]
    vouch = pw.identity.mint_badge("dev0", "dev1", "org/verified-client")
    assert vouch > 0
    with pytest.raises(NotAllowed, match="not an accredited issuer"):
        pw.identity.mint_badge("dev4", "dev3", "org/verified-client")

    # the honest freelancer (dev2) is paid by a vouched-for client
    honest_job = idm.plain_job(ml.client, ml.good, ["300"])
    assert len(pw.identity.attest("dev4", honest_job)) == 1
    # a ring of fresh accounts paying one another with their own money
    ring = [idm.fresh("5000") for _ in range(4)]
    for i, payer in enumerate(ring):
        job_id = idm.plain_job(payer, ring[(i + 1) % 4], ["1000"])
        assert len(pw.identity.attest("dev4", job_id)) == 1

    seeds = reputation.trust_seeds(ws)
    assert {a.lower() for a in seeds} == {dev0.lower(), dev1.lower(), dev5.lower()}
    completions = pw.identity.completions()
    ring_addresses = {s.address for s in ring}
    assert sum(1 for r in completions if r.client in ring_addresses) == 4
    by_hand = [
        PaidJob(
            r.job_id,
            r.client,
            r.freelancer,
            r.amount_paid,
            r.score if r.verified else None,
            milestone=r.milestone,
            uid="0x" + r.uid.hex(),
        )
        for r in completions
    ]
    expected = compute_reputation(by_hand, seeds, alpha=reputation.ALPHA)

    view = pw.identity.reputation(dev2)
    assert view.score > 0 and view.score == pytest.approx(expected.score(dev2), rel=1e-12)
    assert (view.paid_jobs, view.verified_jobs, view.total_paid) == (1, 0, pw.amount("300"))
    assert view.rank >= 1 and view.seeds == 3
    for member in ring:
        assert pw.identity.reputation(member.address).score == 0.0
        assert expected.score(member.address) == 0.0
    assert pw.identity.reputation(ring[0].address).rank == 0

    record = pw.identity.export_reputation("proofwork", "dev2")
    nonce = secrets.token_urlsafe(12)
    shown = pw.identity.present(
        "dev2", record.id, ["score", "paid_jobs", "address", "chain_id"], "did:web:hiring.example", nonce
    )
    offline = pw.identity.verify(
        shown,
        "did:web:hiring.example",
        nonce,
        offline=True,
        now=pw.now(),
        expected_vct=issuing.VCT_REPUTATION_SUMMARY,
    )
    assert offline.issuer == wallet.did and offline.accredited is None and offline.key_bound
    assert offline.claims == {
        "score": round(view.score, 12),
        "paid_jobs": 1,
        "address": dev2,
        "chain_id": ws.chain_id,
    }
    with pytest.raises(CredentialRejected) as caught:
        pw.identity.verify(shown, "did:web:hiring.example", "another-nonce", offline=True, now=pw.now())
    assert caught.value.reason == "wrong-nonce"
    online = pw.identity.verify(shown, "did:web:hiring.example", nonce, now=pw.now())
    assert online.accredited is True and online.issuer_address == dev0 and online.status == "not-revocable"


def test_payments_in_a_token_the_deployment_does_not_accept_count_for_nothing(idm: IdMarket) -> None:
    """Audit finding: a self-dealer paying in a worthless token of its own inflated `total_paid` and
    `paid_jobs` in the exported credential. Only the deployment's accepted tokens count."""
    pw, ws = idm.pw, idm.pw.ws
    if not reputation.trust_seeds(ws):
        pw.identity.create_issuer("seedwallet", "dev0")
        pw.identity.register_issuer("seedwallet")
    dealer, puppet = idm.fresh("0"), idm.fresh("0")
    # the dealer's own token: minted at will, worth nothing
    artifact = ws.artifacts.get("StableToken")
    worthless = str(
        ws.chain.deploy(dealer.key, artifact.abi, artifact.bytecode, "Mine", "MINE").contract_address
    )
    token = ws.token_at(worthless)
    token.mint(dealer.key, dealer.address, 10**30)
    token.approve(dealer.key, ws.escrow.address, 10**30)
    receipt = ws.escrow.create_job(
        dealer.key,
        worthless,
        puppet.address,
        [10**29],
        pw.now() + 7 * DAY,
        3 * DAY,
        J.ZERO_HASH,
        J.ZERO_ADDRESS,
    )
    job_id = ws.escrow.decode_receipt(receipt)[0].job_id
    pw.jobs.submit(puppet, job_id, 0, keccak(b"nothing"))
    pw.jobs.approve(dealer, job_id, 0)
    assert [a.milestone for a in pw.identity.attest("dev4", job_id)] == [0]
    completed = [r for r in pw.identity.completions() if r.job_id == job_id]
    assert completed and completed[0].token == worthless and completed[0].amount_paid == 10**29
    # an honest job in the accepted token does count, in the unit
    honest = idm.plain_job(idm.ml.client, puppet, ["7"])
    assert len(pw.identity.attest("dev4", honest)) == 1
    view = pw.identity.reputation(puppet.address)
    assert (view.paid_jobs, view.total_paid) == (1, 7_000_000)
    assert view.accepted == (ws.deployment.token,)
    assert view.to_json()["unit"] == "USD (x10^-6)"


# --- key rotation within one second -------------------------------------------------------------------------


def test_a_credential_signed_in_the_second_of_a_key_rotation_stays_valid(idm: IdMarket) -> None:
    pw, ws = idm.pw, idm.pw.ws
    dev4 = pw.address("dev4")
    # an issuer of its own (never served, never shown to a verifier), un-accredited at the end
    pw.identity.create_issuer("rotor", "dev4", base_url="http://127.0.0.1:9/rotor")
    pw.identity.register_issuer("rotor")
    try:
        old_key, _, _ = profiles.issuer_signing_key(ws, profiles.load_issuer(ws, "rotor"))
        signed = pw.identity.issue("rotor", "dev3", COURSE, {"course": "Networks"})
        profiles.rotate_key(ws, "rotor")
        pw.identity.register_issuer("rotor")
        assert ws.issuer_registry.key_valid_at(dev4, profiles.key_thumbprint(old_key), signed.iat)
    finally:
        ws.issuer_registry.revoke_accreditation(pw.signer("dev0").key, dev4)


def test_the_settling_oracle_attests_at_once(idm: IdMarket) -> None:
    """With attest on (as `oracle run` has it by default), a settlement is an attestation at once."""
    pw, ws, ml = idm.pw, idm.pw.ws, idm.ml
    freelancer = idm.fresh()
    job_id = ml.post(freelancer)
    ml.submit(freelancer, job_id, "good")
    for node in ml.nodes:
        node.attest = True
    try:
        ml.run_oracles()
        pw.advance_time(WINDOW + AGGREGATION_GRACE + 1)
        lines = [line for report in ml.run_oracles() + ml.run_oracles() for line in report.settled]
    finally:
        for node in ml.nodes:
            node.attest = False
    uid = ws.job_attester.attestation_of(job_id, 0)
    assert uid != b"\x00" * 32
    assert any(f"JobCompleted 0x{uid.hex()}" in line for line in lines)
    (record,) = [r for r in pw.identity.completions() if r.job_id == job_id]
    assert record.verified is True and record.score == ml.evaluations.get(job_id).settlements[0]["median"]
    assert pw.identity.attest("dev4", job_id) == []  # nothing left to attest
