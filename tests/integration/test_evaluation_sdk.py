"""Verified evaluation end to end, on the embedded chain (oracle state in SQLite) and on anvil (in
PostgreSQL): hidden labels, four oracles (one lying) scoring in the real sandbox, aggregated settlement,
reveal and re-check (competitions: test_competitions_sdk.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from proofwork.chain.encoding import designated_quorum, evaluation_hash, labels_commitment
from proofwork.domain import job as J
from proofwork.domain.errors import InvalidInput, NotAllowed, TransactionRejected
from proofwork.keys.sealing import seal
from proofwork.services.evaluated_jobs import AGGREGATION_GRACE, INT256_MIN, POSTING_FALLBACK_AFTER
from proofwork.services.oracle.node import OracleNode
from proofwork.services.task_files import HiddenLabels, committee_recipients
from proofwork.storage.unixfs import cid_digest, cid_of_bytes, cid_to_bytes
from tests.integration.conftest import BACKENDS
from tests.integration.ml_fixtures import DAY, LIE, WINDOW, MlMarket, open_ml_market


class NoPeers:
    """Every peer unreachable: aggregation over HTTP gathers nothing."""

    def reports(self, endpoint: str, contract: str, kind: str, subject: int) -> list[dict[str, Any]]:
        return []


@pytest.fixture(scope="module", params=BACKENDS)
def ml(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, digits_task: dict[str, Path]
) -> Iterator[MlMarket]:
    """The embedded chain with an SQLite file per oracle; anvil with the four oracles sharing one
    database on a real PostgreSQL server (each reads and writes only its own rows)."""
    rpc_url = request.getfixturevalue("anvil_url") if request.param == "anvil" else None
    oracle_db = request.getfixturevalue("postgres").create_database() if request.param == "anvil" else None
    data_dir = tmp_path_factory.mktemp(f"ml-{request.param}")
    with open_ml_market(request.param, rpc_url, data_dir, digits_task, oracle_db) as market:
        yield market


def test_good_model_is_paid_weak_one_refunded_and_every_score_rechecks(ml: MlMarket) -> None:
    pw = ml.pw
    good_job, weak_job = ml.post(ml.good), ml.post(ml.weak)
    ml.submit(ml.good, good_job, "good")
    ml.submit(ml.weak, weak_job, "weak")
    before = {s.name: pw.balance(s.address) for s in (ml.client, ml.good, ml.weak)}
    outliers_before = ml.pw.ws.committee.outlier_reports(ml.oracles[-1].address)
    ml.settle_all()
    after = {s.name: pw.balance(s.address) for s in (ml.client, ml.good, ml.weak)}
    fee = pw.amount("100") * 250 // 10_000
    assert after[ml.good.name] - before[ml.good.name] == pw.amount("100") - fee
    assert after[ml.weak.name] == before[ml.weak.name]
    assert after[ml.client.name] - before[ml.client.name] == pw.amount("100")  # the weak job's refund
    good_eval, weak_eval = ml.evaluations.get(good_job), ml.evaluations.get(weak_job)
    assert good_eval.settlements[0]["passed"] is True and good_eval.settlements[0]["median"] > 900_000
    assert weak_eval.settlements[0]["passed"] is False and weak_eval.settlements[0]["median"] < 900_000
    # the liar said 1.0 for both; each job was settled by its round's designated quorum, and the
    # median ignored the liar wherever it was designated (the chain recorded it as an outlier there)
    committee = ml.pw.ws.committee
    for job_id in (good_job, weak_job):
        (settled,) = ml.evaluations.get(job_id).settlements
        designated = designated_quorum(job_id, 0, 0, committee.oracles, committee.threshold)
        assert (
            list(settled["signers"])
            == designated
            == committee.canonical_signers(
                job_id, 0, 0, ml.evaluations.jobs.get(job_id).milestones[0].deliverable
            )
        )
    liar_designated = sum(
        ml.oracles[-1].address in designated_quorum(j, 0, 0, committee.oracles, committee.threshold)
        for j in (good_job, weak_job)
    )
    assert committee.outlier_reports(ml.oracles[-1].address) == outliers_before + liar_designated
    for job_id in (good_job, weak_job):
        evaluation = ml.evaluations.get(job_id)
        assert evaluation.revealed is not None, "an oracle reveals the labels after settlement"
        checks = ml.evaluations.verify(job_id)
        assert [c.matches for c in checks] == [True]
        assert checks[0].recomputed == evaluation.settlements[0]["median"]


def test_honest_oracles_agree_bit_for_bit(ml: MlMarket) -> None:
    job_id = ml.post(ml.good)
    ml.submit(ml.good, job_id, "good")
    ml.run_oracles()
    committee = ml.pw.ws.committee.address
    scores = [state.reports(committee, "job", job_id)[0].score for state in ml.states]
    assert len(set(scores[:3])) == 1 and scores[3] == LIE
    ml.settle_all()


def test_broken_submission_fails_with_a_reason_and_no_money_moves_to_it(ml: MlMarket) -> None:
    job_id = ml.post(ml.weak)
    ml.submit(ml.weak, job_id, "broken")
    before = ml.pw.balance(ml.weak.address)
    ml.settle_all()
    report = ml.states[0].reports(ml.pw.ws.committee.address, "job", job_id)[0]
    assert not report.ok and report.reason and report.score == INT256_MIN
    assert ml.pw.balance(ml.weak.address) == before
    job = ml.evaluations.jobs.get(job_id)
    assert job.milestones[0].status == J.MilestoneStatus.RESOLVED and job.milestones[0].paid == 0
    # the oracles keep serving: the next good submission is scored and paid
    good_job = ml.post(ml.good)
    ml.submit(ml.good, good_job, "good")
    ml.settle_all()
    assert ml.evaluations.get(good_job).settlements[0]["passed"] is True


def test_revision_starts_a_new_round_and_old_reports_are_stale(ml: MlMarket) -> None:
    job_id = ml.post(ml.good)
    ml.submit(ml.good, job_id, "weak")
    ml.run_oracles()
    old = ml.evaluations.jobs.get(job_id)
    ml.evaluations.jobs.revise(ml.client, job_id, 0)
    ml.submit(ml.good, job_id, "good")
    committee = ml.pw.ws.committee
    round0 = {
        o.address.lower(): s.reports(committee.address, "job", job_id)[0]
        for o, s in zip(ml.oracles[:3], ml.states[:3], strict=True)
    }
    ordered = [round0[a] for a in sorted(round0, key=lambda a: int(a, 16))]  # signers ascending
    ml.pw.advance_time(WINDOW + 1)
    current = ml.evaluations.jobs.get(job_id)
    with pytest.raises(TransactionRejected, match="stale round"):
        committee.settle(
            ml.client.key,
            current,
            0,
            old.milestones[0].revisions,
            [r.score for r in ordered],
            [bytes.fromhex(r.signature[2:]) for r in ordered],
        )
    ml.settle_all()
    evaluation = ml.evaluations.get(job_id)
    assert [(s["round"], s["passed"]) for s in evaluation.settlements] == [(1, True)]


def test_a_disputed_milestone_waits_14_days_for_a_court_then_the_verdict_settles_it(ml: MlMarket) -> None:
    job_id = ml.post(ml.good)
    ml.submit(ml.good, job_id, "good")
    ml.evaluations.jobs.dispute(ml.client, job_id, 0)
    ml.settle_all()
    job = ml.evaluations.jobs.get(job_id)
    assert job.milestones[0].status == J.MilestoneStatus.DISPUTED
    assert ml.evaluations.get(job_id).settlements == []
    verdict_from = ml.evaluations.jobs.timing(job)[0].verdict_from
    assert verdict_from == job.milestones[0].timestamp + J.COMMITTEE_DISPUTE_PERIOD + 1
    ml.pw.advance_time(J.COMMITTEE_DISPUTE_PERIOD - 2 * WINDOW)  # still the court's time
    ml.run_oracles()
    assert ml.evaluations.get(job_id).settlements == []
    ml.pw.advance_time(WINDOW + AGGREGATION_GRACE + 1)
    ml.run_oracles()
    (settled,) = ml.evaluations.get(job_id).settlements
    assert settled["passed"] is True
    assert ml.evaluations.jobs.get(job_id).milestones[0].status == J.MilestoneStatus.RESOLVED


def test_the_client_cannot_veto_a_verdict_with_a_late_revision_or_dispute(ml: MlMarket) -> None:
    """Once the challenge window is over the verdict may be settled: the client can neither send the
    work back nor dispute it any more (the SDK says why; the escrow refuses anyway)."""
    job_id = ml.post(ml.good)
    ml.submit(ml.good, job_id, "good")
    ml.run_oracles()
    ml.pw.advance_time(WINDOW + 1)
    with pytest.raises(NotAllowed, match="review window of milestone 1 is over"):
        ml.evaluations.jobs.revise(ml.client, job_id, 0)
    with pytest.raises(NotAllowed, match="dispute window"):
        ml.evaluations.jobs.dispute(ml.client, job_id, 0)
    job = ml.evaluations.jobs.get(job_id)
    with pytest.raises(TransactionRejected, match="review window over"):
        ml.pw.ws.escrow.request_revision(ml.client.key, job, 0, b"\x01" * 32)
    with pytest.raises(TransactionRejected, match="dispute window over"):
        ml.pw.ws.escrow.raise_dispute(ml.client.key, job, 0)
    ml.pw.advance_time(AGGREGATION_GRACE)
    ml.run_oracles()
    assert ml.evaluations.get(job_id).settlements[0]["passed"] is True


def test_only_the_designated_quorum_settles_in_its_period_and_settlement_waits_out_the_window(
    ml: MlMarket,
) -> None:
    pw, committee = ml.pw, ml.pw.ws.committee
    job_id = ml.post(ml.good)
    ml.submit(ml.good, job_id, "good")
    ml.run_oracles()
    job = ml.evaluations.jobs.get(job_id)
    m = job.milestones[0]
    reports = {
        o.address.lower(): s.reports(committee.address, "job", job_id)[0]
        for o, s in zip(ml.oracles, ml.states, strict=True)
    }
    designated = designated_quorum(job_id, 0, 0, committee.oracles, committee.threshold)
    outsider = next(o for o in committee.oracles if o not in designated)
    others = sorted([outsider, *designated[1:]], key=lambda a: int(a, 16))

    def settle(signers: list[str]) -> None:
        chosen = [reports[s.lower()] for s in signers]
        committee.settle(
            ml.client.key,
            job,
            0,
            0,
            [r.score for r in chosen],
            [bytes.fromhex(r.signature[2:]) for r in chosen],
        )

    with pytest.raises(TransactionRejected, match="challenge window open"):
        settle(designated)
    pw.advance_time(m.timestamp + WINDOW + 1 - pw.now())
    with pytest.raises(TransactionRejected, match="signer not designated"):
        settle(others)
    settle(designated)
    (settled,) = ml.evaluations.get(job_id).settlements
    assert list(settled["signers"]) == designated


def test_a_rigged_evaluation_cannot_be_registered_and_a_mismatched_one_is_refused(ml: MlMarket) -> None:
    """The evaluation is fixed by the job's spec hash when the job is created: the client cannot
    register another threshold later, and a freelancer's SDK refuses to deliver to a job whose
    evaluation says otherwise than its spec file (the oracles abstain on it too)."""
    pw, ws = ml.pw, ml.pw.ws
    spec_digest = cid_digest(ws.store.add_file(ml.spec))
    labels = ml.labels.read_bytes().replace(b"1", b"7")  # labels of its own: none shared with other jobs
    hidden = HiddenLabels(labels, cid_of_bytes(labels), os.urandom(32))
    commitment = labels_commitment(hidden.cid_bytes, hidden.salt, spec_digest)
    sealed = cid_to_bytes(ws.store.add_bytes(seal(hidden.to_json(), committee_recipients(ws.committee))))

    def committee_job(spec_hash: bytes) -> J.Job:
        return ml.evaluations.jobs.post(
            ml.client,
            budget=pw.amount("10"),
            deadline=pw.now() + 7 * DAY,
            review_period=2 * DAY,
            freelancer=ml.good.address,
            spec_hash=spec_hash,
            arbiter=ws.committee.address,
        ).job

    honest = committee_job(evaluation_hash(spec_digest, commitment, 900_000, True, 10_000))
    for rigged in [(-(2**127), True), (900_000, False), (0, True)]:
        with pytest.raises(TransactionRejected, match="does not match the job's spec hash"):
            ws.committee.register(ml.client.key, honest, spec_digest, commitment, *rigged, 10_000, sealed)
    with pytest.raises(NotAllowed, match="not registered yet"):
        ml.submit(ml.good, honest.job_id, "good")
    # a job whose spec hash commits to another pass score than its spec file states
    lenient = committee_job(evaluation_hash(spec_digest, commitment, 0, True, 10_000))
    ws.committee.register(ml.client.key, lenient, spec_digest, commitment, 0, True, 10_000, sealed)
    with pytest.raises(NotAllowed, match="its spec says 900000"):
        ml.submit(ml.good, lenient.job_id, "good")
    evaluation = ml.evaluations.get(lenient.job_id)
    assert "its spec says" in (ml.evaluations.binding_problem(lenient, evaluation) or "")
    # the contract alone would take the delivery: every oracle abstains from judging it
    ws.escrow.submit(ml.good.key, lenient, 0, cid_digest(ws.store.add_file(ml.models["good"])))
    steps = ml.run_oracles()
    assert all("not the spec's" in " ".join(s.failures) for s in steps)
    assert all(not s.reports(ws.committee.address, "job", lenient.job_id) for s in ml.states)


def test_a_committee_job_needs_a_review_window_longer_than_three_challenge_windows(ml: MlMarket) -> None:
    pw, ws = ml.pw, ml.pw.ws
    before = ws.escrow.job_count()
    with pytest.raises(InvalidInput, match="longer than three of the committee's challenge windows"):
        ml.evaluations.post(
            ml.client,
            ml.spec,
            ml.labels,
            budget=pw.amount("1"),
            deadline=pw.now() + DAY,
            review_period=3 * WINDOW + 1,  # the contract's bare minimum: no time left to settle
            freelancer=ml.good.address,
        )
    with pytest.raises(InvalidInput, match="longer than three of its challenge windows"):
        ml.evaluations.jobs.post(
            ml.client,
            budget=pw.amount("1"),
            deadline=pw.now() + DAY,
            review_period=3 * WINDOW,
            freelancer=ml.good.address,
            arbiter=ws.committee.address,
        )
    assert ws.escrow.job_count() == before


def test_a_registration_that_failed_after_posting_is_completed_later(
    ml: MlMarket, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`post` stopped after the job was created (the registration refused, the secret not yet named
    after the job): `register` finds the kept labels and evaluation by the job's spec hash."""
    pw = ml.pw
    evaluations = ml.evaluations
    with monkeypatch.context() as patched:
        patched.setattr(evaluations, "_claim_pending", lambda spec_hash, job_id: None)

        def refused(*args: object, **kwargs: object) -> None:
            raise TransactionRejected("node down")

        patched.setattr(pw.ws.committee, "register", refused)
        with pytest.raises(TransactionRejected, match=r"run `proofwork eval register \d+`"):
            ml.post(ml.good)
    job_id = pw.ws.escrow.job_count()
    with pytest.raises(NotAllowed, match="not registered yet"):
        ml.submit(ml.good, job_id, "good")
    out = evaluations.register(ml.client, job_id)
    assert [name for name, _ in out.receipts] == ["register evaluation"]
    evaluation = evaluations.get(job_id)
    assert evaluation.hash == evaluations.jobs.get(job_id).spec_hash
    with pytest.raises(TransactionRejected, match="already registered"):
        evaluations.register(ml.client, job_id)
    # cancelled by agreement, so that its labels (shared with other jobs) need not stay hidden
    evaluations.jobs.cancel(ml.client, job_id, 0)
    evaluations.jobs.cancel(ml.good, job_id, 0)


def test_the_evaluation_hash_is_the_contract_s(ml: MlMarket) -> None:
    committee = ml.pw.ws.committee
    for args in [
        (b"\x01" * 32, b"\x02" * 32, 900_000, True, 10_000),
        (os.urandom(32), os.urandom(32), -(2**127), False, 2**96 - 1),
        (b"\x00" * 32, b"\x00" * 32, 0, False, 0),
    ]:
        assert evaluation_hash(*args) == committee.evaluation_hash(*args)
    job_id = ml.post(ml.good)
    evaluation = ml.evaluations.get(job_id)
    assert evaluation.hash == evaluation.spec_hash == ml.evaluations.jobs.get(job_id).spec_hash
    on_chain = committee.evaluation(job_id)
    assert on_chain is not None and on_chain.spec_digest == evaluation.spec_digest
    assert on_chain.spec_hash == evaluation.spec_hash and on_chain.threshold == evaluation.threshold
    assert committee.evaluation(10**9) is None
    # the job is cancelled by agreement, so its labels (shared with other jobs) need not stay hidden
    ml.evaluations.jobs.cancel(ml.client, job_id, 0)
    ml.evaluations.jobs.cancel(ml.good, job_id, 0)


def test_reports_are_posted_on_chain_when_peers_are_unreachable(ml: MlMarket) -> None:
    ws = ml.pw.ws
    isolated = [
        OracleNode(
            ws, n.signer, n.state, ml.evaluator, NoPeers(), workdir=ml.workdir / "isolated", tamper=n.tamper
        )
        for n in ml.nodes
    ]
    job_id = ml.post(ml.good)
    ml.submit(ml.good, job_id, "good")
    ml.run_oracles(isolated)
    ml.pw.advance_time(WINDOW + AGGREGATION_GRACE + 1)
    ml.run_oracles(isolated)
    assert ml.evaluations.get(job_id).settlements == [], "no settlement before the fallback delay"
    ml.pw.advance_time(POSTING_FALLBACK_AFTER)
    ml.run_oracles(isolated)
    ml.run_oracles(isolated)
    evaluation = ml.evaluations.get(job_id)
    assert len(evaluation.settlements) == 1 and evaluation.settlements[0]["passed"] is True
    assert len(ws.committee.events("ReportPosted", subject=job_id)) >= 3


def test_a_restarted_oracle_does_not_score_twice(ml: MlMarket) -> None:
    job_id = ml.post(ml.good)
    ml.submit(ml.good, job_id, "good")
    first = ml.nodes[0].step()
    assert any(f"job {job_id} " in line for line in first.scored)
    state = ml.states[0]
    signed = state.reports(ml.pw.ws.committee.address, "job", job_id)
    restarted = OracleNode(
        ml.pw.ws, ml.oracles[0], state, ml.evaluator, NoPeers(), workdir=ml.workdir / "restarted"
    )
    again = restarted.step()
    assert not any(f"job {job_id} " in line for line in again.scored)
    assert state.reports(ml.pw.ws.committee.address, "job", job_id) == signed
    ml.settle_all()


def test_oracles_abstain_when_sealed_labels_do_not_match_the_commitment(ml: MlMarket) -> None:
    """A client sealing other labels than it committed to gets no signed fail: the oracles sign
    nothing, so the freelancer keeps the escrow's auto-claim."""
    pw, ws = ml.pw, ml.pw.ws
    spec_digest = cid_digest(ws.store.add_file(ml.spec))
    labels = ml.labels.read_bytes()
    honest = HiddenLabels(labels, cid_of_bytes(labels), os.urandom(32))
    scrambled_bytes = labels.replace(b"1", b"7")
    scrambled = HiddenLabels(scrambled_bytes, cid_of_bytes(scrambled_bytes), honest.salt)
    sealed = ws.store.add_bytes(seal(scrambled.to_json(), committee_recipients(ws.committee)))
    commitment = labels_commitment(honest.cid_bytes, honest.salt, spec_digest)
    outcome = ml.evaluations.jobs.post(
        ml.client,
        budget=pw.amount("10"),
        deadline=pw.now() + 7 * DAY,
        review_period=2 * DAY,
        freelancer=ml.good.address,
        spec_hash=evaluation_hash(spec_digest, commitment, 900_000, True, 10_000),
        arbiter=ws.committee.address,
    )
    ws.committee.register(
        ml.client.key, outcome.job, spec_digest, commitment, 900_000, True, 10_000, cid_to_bytes(sealed)
    )
    job_id = outcome.job.job_id
    ml.submit(ml.good, job_id, "good")
    steps = ml.run_oracles()
    assert all("do not match" in " ".join(s.failures) for s in steps)
    assert all(not s.reports(ws.committee.address, "job", job_id) for s in ml.states)
    pw.advance_time(2 * DAY + 1)
    paid = ml.evaluations.jobs.claim(ml.good, job_id, 0)
    assert paid.job.milestones[0].status == J.MilestoneStatus.PAID


def test_a_dispute_over_labels_nobody_can_open_is_released_to_the_freelancer(ml: MlMarket) -> None:
    """Second review, F9: the client seals labels the oracles cannot use, then disputes the delivered
    work to reach the escrow's half split 30 days later. No verdict can exist, so a week after any
    quorum could have settled it the oracles (as keepers) release it in full to the freelancer, before
    that split; the SDK says when, and refuses earlier."""
    pw, ws = ml.pw, ml.pw.ws
    spec_digest = cid_digest(ws.store.add_file(ml.spec))
    labels = ml.labels.read_bytes()
    honest = HiddenLabels(labels, cid_of_bytes(labels), os.urandom(32))
    sealed = ws.store.add_bytes(seal(b"not the labels", committee_recipients(ws.committee)))
    commitment = labels_commitment(honest.cid_bytes, honest.salt, spec_digest)
    outcome = ml.evaluations.jobs.post(
        ml.client,
        budget=pw.amount("10"),
        deadline=pw.now() + 7 * DAY,
        review_period=2 * DAY,
        freelancer=ml.good.address,
        spec_hash=evaluation_hash(spec_digest, commitment, 900_000, True, 10_000),
        arbiter=ws.committee.address,
    )
    ws.committee.register(
        ml.client.key, outcome.job, spec_digest, commitment, 900_000, True, 10_000, cid_to_bytes(sealed)
    )
    job_id = outcome.job.job_id
    ml.submit(ml.good, job_id, "good")
    disputed = ml.evaluations.jobs.dispute(ml.client, job_id, 0).job
    released_from = disputed.milestones[0].timestamp + J.COMMITTEE_DISPUTE_PERIOD + WINDOW + 7 * DAY + 1
    timing = ml.evaluations.jobs.timing(disputed)[0]
    assert timing.released_from == released_from < timing.resolvable_from  # before the half split
    ml.run_oracles()
    pw.advance_time(released_from - 60 - pw.now())  # a minute before (anvil's clock also runs)
    with pytest.raises(NotAllowed, match="may still get the committee's verdict"):
        ml.evaluations.jobs.resolve(ml.client, job_id, 0)
    with pytest.raises(InvalidInput, match="leave out the freelancer's share"):
        ml.evaluations.jobs.resolve(ml.client, job_id, 0, pw.amount("5"))
    steps = ml.run_oracles()
    assert not any("released" in line for st in steps for line in st.settled)
    assert all("cannot be used" in " ".join(st.failures) for st in steps)  # abstained: no report
    pw.advance_time(60)
    before = pw.balance(ml.good.address)
    steps = ml.run_oracles()
    assert sum("released to the freelancer" in line for st in steps for line in st.settled) == 1
    job = ml.evaluations.jobs.get(job_id)
    assert job.milestones[0].status == J.MilestoneStatus.RESOLVED
    assert job.milestones[0].paid == pw.amount("10")
    assert pw.balance(ml.good.address) - before == pw.amount("10") - J.fee_of(pw.amount("10"), job.fee_bps)
    (event,) = ws.committee.events("UnjudgedReleased", subject=job_id)
    assert event.args["milestone"] == 0


def test_shared_labels_stay_hidden_until_every_job_using_them_is_settled(ml: MlMarket) -> None:
    first, second = ml.post(ml.good), ml.post(ml.weak)
    ml.submit(ml.good, first, "good")
    ml.settle_all()
    assert ml.evaluations.get(first).settlements, "the first job settled"
    assert ml.evaluations.get(first).revealed is None, "its labels are still needed by the second job"
    ml.submit(ml.weak, second, "weak")
    ml.settle_all()
    assert ml.evaluations.get(first).revealed is not None
    assert ml.evaluations.get(second).revealed is not None


def test_a_sandbox_failure_is_retried_never_signed_as_a_fail(
    ml: MlMarket, monkeypatch: pytest.MonkeyPatch
) -> None:
    from proofwork.evaluation.sandbox import JobResult

    job_id = ml.post(ml.good)
    ml.submit(ml.good, job_id, "good")
    committee = ml.pw.ws.committee.address
    with monkeypatch.context() as patched:
        patched.setattr(
            ml.evaluator.sandbox,
            "run",
            lambda *a, **k: JobResult(False, reason="worker died", transient=True),
        )
        ml.evaluator._predictions.clear()
        step = ml.nodes[0].step()
    assert any("will retry" in line for line in step.failures)
    assert ml.states[0].reports(committee, "job", job_id) == []
    ml.settle_all()  # the sandbox works again: scored, signed and paid
    assert ml.states[0].reports(committee, "job", job_id)[0].ok
    assert ml.evaluations.get(job_id).settlements[0]["passed"] is True


def test_a_submission_that_stops_the_sandbox_every_time_is_signed_as_a_fail(
    ml: MlMarket, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its jobs always end with the worker gone while the sandbox runs anything else: after a
    bounded number of tries it is a failing score the oracles sign and settle, not silence (which
    would let the freelancer claim by auto-release without passing)."""
    from proofwork.evaluation.sandbox import JobResult

    sandbox = ml.evaluator.sandbox
    run = sandbox.run
    tries: list[str] = []

    def dies_on_submissions(kind: str, *args: Any, **kwargs: Any) -> JobResult:
        if kind in ("onnx", "predictions"):
            tries.append(kind)
            return JobResult(
                False, reason="the sandbox worker stopped while scoring this submission", transient=True
            )
        return run(kind, *args, **kwargs)

    job_id = ml.post(ml.good)
    ml.submit(ml.good, job_id, "good")
    before = ml.pw.balance(ml.good.address)
    with monkeypatch.context() as patched:
        patched.setattr(sandbox, "run", dies_on_submissions)
        ml.evaluator._predictions.clear()
        ml.settle_all()
    assert tries and len(tries) % 3 == 0  # three tries per scoring, then a verdict
    report = ml.states[0].reports(ml.pw.ws.committee.address, "job", job_id)[0]
    assert not report.ok and report.score == INT256_MIN and "stopped the sandbox on 3 tries" in report.reason
    job = ml.evaluations.jobs.get(job_id)
    assert job.milestones[0].status == J.MilestoneStatus.RESOLVED and job.milestones[0].paid == 0
    assert ml.pw.balance(ml.good.address) == before
