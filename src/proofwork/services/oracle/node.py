"""An evaluation oracle: watch the chain, score in the sandbox, sign, share, aggregate, settle.

`OracleNode.step()` is one pass over the chain's current state; `proofwork oracle run`
calls it in a loop. Every decision is derived again from the chain on each pass, and
every signed report is written to the oracle's database before it is shared, so a
restarted oracle neither misses a submission nor scores one twice (nor signs two
different scores for one submission).

What an oracle signs: the score of a submission it could judge, or the worst possible
score when the submission itself is broken or missing after the challenge window. It
signs nothing (abstains) when the fault is not the freelancer's: labels that do not match
the client's commitment, a missing spec, an evaluation that does not bind (its hash is not
the job's spec hash, or its pass score or direction are not the spec file's), a sandbox
that failed. Abstaining leaves the freelancer's auto-claim intact.

Who settles: every oracle scores, signs and serves its report. Once a milestone is
settleable (strictly after the challenge window that follows its submission, or the
dispute period that follows its dispute) its round's designated quorum (`designated_quorum`,
the committee's `canonical_signers`) alone may settle it for one more challenge window:
the settlement then carries exactly those oracles' reports, in ascending address order.
After that, any quorum may: by the canonical off-chain rule, every valid report the relayer
holds (up to n), ascending. The relay itself is one transaction anyone may send: the first
oracle of the designated quorum sends it at once, every other oracle after
`AGGREGATION_GRACE`, so the committee does not race for one settlement.

A disputed milestone that no quorum could settle within the week after any quorum could (the
committee had no verdict: labels nobody can open, an evaluation never registered) is released to
the freelancer by the same oracles, as keepers (`release_unjudged`), before the escrow's
half-each fallback could let a client profit from labels it made unopenable.
"""

from __future__ import annotations

import logging
from pathlib import Path

from proofwork.chain.encoding import designated_quorum, labels_commitment
from proofwork.db.oracle_state import OracleState, Report
from proofwork.domain import job as J
from proofwork.domain.errors import ProofworkError, TransactionRejected
from proofwork.domain.evalspec import EvalSpec, metric_direction, threshold_fixed
from proofwork.evaluation.runner import EvalResult, Evaluator
from proofwork.keys.sealing import open_sealed
from proofwork.services.competitions import Competitions
from proofwork.services.evaluated_jobs import (
    AGGREGATION_GRACE,
    POSTING_FALLBACK_AFTER,
    Evaluation,
    Evaluations,
    unscorable,
)
from proofwork.services.oracle.competition_duties import CompetitionDuties
from proofwork.services.oracle.job_reports import gather_reports, report_message
from proofwork.services.oracle.passes import Abstain, PeerClient, StepReport, Tamper, signature_of
from proofwork.services.task_files import MAX_LABELS_BYTES, HiddenLabels, TaskFiles
from proofwork.services.workspace import Signer, Workspace

log = logging.getLogger("proofwork.oracle")

__all__ = ["AGGREGATION_GRACE", "POSTING_FALLBACK_AFTER", "Abstain", "OracleNode", "PeerClient", "StepReport"]


def check_evaluation_binds(job: J.Job, evaluation: Evaluation) -> None:
    """The registered evaluation must be the one the job's spec hash commits to (the committee checks
    it at registration; checked again here, so that a report never signs anything else)."""
    if evaluation.hash != job.spec_hash:
        raise Abstain(
            f"the evaluation registered for job {job.job_id} does not hash to its spec hash: not signing"
        )


def settleable_from(milestone: J.Milestone, challenge_window: int) -> int | None:
    """The last second before a milestone may be settled by the committee (settlement is strictly
    after it): the end of the challenge window after its submission, or of the dispute period
    after its dispute; None when the committee cannot settle it."""
    if milestone.status == J.MilestoneStatus.SUBMITTED:
        return milestone.timestamp + challenge_window
    if milestone.status == J.MilestoneStatus.DISPUTED:
        return milestone.timestamp + J.COMMITTEE_DISPUTE_PERIOD
    return None


def check_registered_matches_spec(evaluation: Evaluation, spec: EvalSpec) -> None:
    """An oracle signs only what the spec says: the threshold and the metric's direction registered
    on the committee must be the spec's own, else a "verified pass" could mean anything (a client
    acting as freelancer registering "pass at -2^127", say). Abstain otherwise."""
    threshold, higher = threshold_fixed(spec), metric_direction(spec.metric)
    if evaluation.threshold != threshold or evaluation.higher_is_better != higher:
        registered = "higher" if evaluation.higher_is_better else "lower"
        raise Abstain(
            f"the evaluation registered on chain (threshold {evaluation.threshold}, {registered} is "
            f"better) is not the spec's (threshold {threshold}, {'higher' if higher else 'lower'} is "
            "better): not signing"
        )


class OracleNode(CompetitionDuties):
    def __init__(
        self,
        ws: Workspace,
        signer: Signer,
        state: OracleState,
        evaluator: Evaluator,
        peers: PeerClient,
        *,
        workdir: Path,
        tamper: Tamper | None = None,
        attest: bool = False,
    ) -> None:
        """`attest`: right after settling a milestone, attest JobCompleted for it (when the
        identity contracts are deployed), so that a settlement is an attestation at once."""
        self.ws = ws
        self.attest = attest
        self.signer = signer
        self.state = state
        self.evaluator = evaluator
        self.peers = peers
        self.tamper = tamper
        self.files = TaskFiles(ws.store, workdir)
        self.files.remove_plaintext()  # what a crash may have left behind
        self.evaluations = Evaluations(ws, evaluator, files=self.files)
        self._hidden: dict[str, HiddenLabels] = {}  # sealed CID -> opened labels (this process only)
        self._done: set[int] = set()  # jobs settled and revealed: nothing left to do

    # --- one pass --------------------------------------------------------------------------------

    def step(self, ws: Workspace | None = None) -> StepReport:
        """One pass; `ws` rebinds the node to a freshly opened workspace (the daemon reopens the
        chain for each pass), keeping what the node has learnt."""
        if ws is not None and ws is not self.ws:
            self.ws = ws
            self.files.store = ws.store
            self.evaluations = Evaluations(ws, self.evaluator, files=self.files)
        report = StepReport()
        committee = self.ws.committee
        if self.signer.address.lower() not in {o.lower() for o in committee.oracles}:
            raise ProofworkError(
                f"{self.signer.address} is not a member of the committee at {committee.address}"
            )
        registered = [int(e.args["job_id"]) for e in self.evaluations.registered_jobs()]
        for job_id in registered:
            if job_id in self._done:
                continue
            try:
                self._job(job_id, registered, report)
            except ProofworkError as exc:
                report.failures.append(f"job {job_id}: {exc}")
                log.warning("job %s: %s", job_id, exc)
        if self.ws.deployment.competition:
            for comp_id in Competitions(self.ws).ids():
                try:
                    self._competition(comp_id, report)
                except ProofworkError as exc:
                    report.failures.append(f"competition {comp_id}: {exc}")
                    log.warning("competition %s: %s", comp_id, exc)
        return report

    # --- hidden labels -----------------------------------------------------------------------------

    def _hidden_labels(self, sealed_cid: str, commitment: bytes, spec_hash: bytes) -> HiddenLabels:
        """The client's sealed labels, checked against its on-chain commitment before any use."""
        hidden = self._hidden.get(sealed_cid)
        if hidden is None:
            try:
                envelope = self.ws.store.read_bytes(sealed_cid, 2 * MAX_LABELS_BYTES)
                hidden = HiddenLabels.from_json(open_sealed(envelope, self.signer.key))
            except ProofworkError as exc:
                raise Abstain(f"the client's sealed labels cannot be used: {exc}") from exc
            self._hidden[sealed_cid] = hidden
        if labels_commitment(hidden.cid_bytes, hidden.salt, spec_hash) != commitment:
            raise Abstain("the sealed labels do not match the client's on-chain commitment: not scoring")
        return hidden

    def _spec(self, spec_hash: bytes) -> EvalSpec:
        try:
            spec, _ = self.files.spec_by_hash(spec_hash)
        except ProofworkError as exc:
            raise Abstain(f"the task spec is unusable: {exc}") from exc
        return spec

    # --- evaluated jobs --------------------------------------------------------------------------

    def _job(self, job_id: int, registered: list[int], report: StepReport) -> None:
        committee = self.ws.committee
        job = self.evaluations.jobs.get(job_id)
        if job.arbiter.lower() != committee.address.lower():
            self._done.add(job_id)
            return
        evaluation = self.evaluations.get(job_id)
        now = self.ws.chain.next_timestamp()
        window = committee.challenge_window
        for index in range(len(job.milestones)):
            milestone = job.milestones[index]
            opens = settleable_from(milestone, window)
            if opens is None:
                continue
            designated = designated_quorum(
                job_id, index, milestone.revisions, committee.oracles, committee.threshold
            )
            relays_first = designated[0].lower() == self.signer.address.lower()
            try:
                own = self._job_report(job, index, evaluation, now > milestone.timestamp + window, report)
            except Abstain as exc:
                report.failures.append(f"job {job_id} milestone {index + 1}: abstained: {exc}")
                if self._release_unjudged(job, index, now, relays_first, report):
                    job = self.evaluations.jobs.get(job_id)
                continue
            if now <= opens:
                continue
            if not relays_first and now <= opens + AGGREGATION_GRACE:
                continue
            late = now > opens + window
            if self._settle(job, index, own, evaluation, designated, late, now - opens, report) or (
                self._release_unjudged(job, index, now, relays_first, report)
            ):
                job = self.evaluations.jobs.get(job_id)  # the escrow's state changed
                evaluation = self.evaluations.get(job_id)
        if any(m.status < J.MilestoneStatus.PAID for m in job.milestones):
            return
        if evaluation.revealed is not None or not evaluation.settlements:
            self._done.add(job_id)
            return
        hidden = self._hidden_labels(evaluation.sealed_labels, evaluation.commitment, evaluation.spec_digest)
        if self._labels_still_hidden_elsewhere(hidden.labels_cid, job_id, registered):
            return
        if self.ws.committee.revealed_labels(job_id):
            return
        self.evaluations.reveal(self.signer, job_id, hidden)
        report.revealed.append(job_id)
        self._done.add(job_id)

    def _labels_still_hidden_elsewhere(self, labels_cid: str, job_id: int, registered: list[int]) -> bool:
        """Clients reuse a test set across jobs and competitions: revealing it for one would hand
        it to freelancers still working on another. Those labels stay hidden until all are over."""
        for other in registered:
            if other == job_id or other in self._done:
                continue
            try:
                evaluation = self.evaluations.get(other)
                if evaluation.revealed is not None:
                    continue
                job = self.evaluations.jobs.get(other)
                if all(m.status >= J.MilestoneStatus.PAID for m in job.milestones):
                    continue
                hidden = self._hidden_labels(
                    evaluation.sealed_labels, evaluation.commitment, evaluation.spec_digest
                )
            except ProofworkError:
                continue
            if hidden.labels_cid == labels_cid:
                return True
        if self.ws.deployment.competition:
            comps = Competitions(self.ws)
            for comp_id in comps.ids():
                try:
                    comp = comps.get(comp_id)
                    if comp.ranked or comp.cancelled:  # ranked: its labels are revealed
                        continue
                    hidden = self._hidden_labels(comp.sealed_labels, comp.commitment, comp.spec_hash)
                except ProofworkError:
                    continue
                if hidden.labels_cid == labels_cid:
                    return True
        return False

    def _job_report(
        self, job: J.Job, index: int, evaluation: Evaluation, window_over: bool, step: StepReport
    ) -> Report:
        committee = self.ws.committee
        milestone = job.milestones[index]
        key = (
            committee.address,
            "job",
            job.job_id,
            index,
            milestone.revisions,
            "0x" + milestone.deliverable.hex(),
        )
        existing = self.state.find(*key)
        if existing is not None:
            return existing
        result = self._score_job(job, index, evaluation, window_over)
        honest = (
            result.score
            if result.ok and result.score is not None
            else unscorable(evaluation.higher_is_better)
        )
        score = self.tamper("job", job.job_id, honest) if self.tamper else honest
        signature = committee.sign_report(
            self.signer.key, report_message(committee, job, index, evaluation.commitment, score)
        )
        saved = self.state.save(
            Report(
                *key, ok=result.ok, score=score, reason=result.reason or "", signature="0x" + signature.hex()
            )
        )
        step.scored.append(
            f"job {job.job_id} milestone {index + 1} round {milestone.revisions}: {saved.score}"
        )
        return saved

    def _score_job(self, job: J.Job, index: int, evaluation: Evaluation, window_over: bool) -> EvalResult:
        check_evaluation_binds(job, evaluation)
        spec = self._spec(evaluation.spec_digest)
        check_registered_matches_spec(evaluation, spec)
        hidden = self._hidden_labels(evaluation.sealed_labels, evaluation.commitment, evaluation.spec_digest)
        deliverable = job.milestones[index].deliverable
        if self.ws.store.find_by_digest(deliverable) is None and not window_over:
            # it may still be on its way through the network: judge it missing only at the window's end
            raise Abstain("the submission is not in the artifact store yet")
        labels = self.files.write_temp(hidden.labels, ".labels")
        try:
            result = self.evaluations.score(spec, deliverable, labels)
        except ProofworkError as exc:
            raise Abstain(f"the evaluation could not run: {exc}") from exc
        finally:
            labels.unlink(missing_ok=True)
        if result.transient:
            raise Abstain(f"the sandbox failed, will retry: {result.reason}")
        return result

    def _settle(
        self,
        job: J.Job,
        index: int,
        own: Report,
        evaluation: Evaluation,
        designated: list[str],
        late: bool,
        since_settleable: int,
        step: StepReport,
    ) -> bool:
        """Settles the milestone from the reports that may settle it now: exactly the designated
        quorum's during its period, every valid report held (a quorum at least) after it. When they
        cannot be gathered over HTTP for `POSTING_FALLBACK_AFTER`, this oracle's report goes on chain
        and the posted reports settle it."""
        committee = self.ws.committee
        milestone = job.milestones[index]
        collected = self._collect_reports(job, index, own, evaluation)
        label = f"job {job.job_id} milestone {index + 1}"
        if late:
            chosen = collected
        else:
            wanted = {o.lower() for o in designated}
            chosen = {o: r for o, r in collected.items() if o in wanted}
            if len(chosen) < len(wanted):
                chosen = {}
        if chosen and len(chosen) >= committee.threshold:
            ordered = sorted(chosen.items(), key=lambda item: int(item[0], 16))
            try:
                committee.settle(
                    self.signer.key,
                    job,
                    index,
                    milestone.revisions,
                    [score for _, (score, _) in ordered],
                    [sig for _, (_, sig) in ordered],
                )
                who = "the designated quorum" if not late else "any quorum"
                step.settled.append(f"{label}: {len(ordered)} signatures ({who})")
                self._attest(job.job_id, label, step)
                return True
            except TransactionRejected as exc:
                step.failures.append(f"{label}: settle refused ({exc})")
        if since_settleable < POSTING_FALLBACK_AFTER:
            return False
        # Fallback: the reports could not be gathered over HTTP; put this oracle's report on chain.
        oracles = [o.lower() for o in committee.oracles]
        position = oracles.index(self.signer.address.lower())
        usable = (1 << len(oracles)) - 1
        if not late:
            usable = sum(1 << oracles.index(o.lower()) for o in designated)
        try:
            posted = committee.posted_reports(job.job_id, index, milestone.revisions, milestone.deliverable)
            if not posted >> position & 1:
                committee.post_report(
                    self.signer.key,
                    job.job_id,
                    index,
                    milestone.revisions,
                    milestone.deliverable,
                    own.score,
                    signature_of(own),
                )
                posted |= 1 << position
            count = bin(posted & usable).count("1")
            if count >= committee.threshold and (late or posted & usable == usable):
                committee.settle_posted(self.signer.key, job, index)
                step.settled.append(f"{label}: from {count} reports posted on chain")
                self._attest(job.job_id, label, step)
                return True
        except TransactionRejected as exc:
            step.failures.append(f"{label}: posting refused ({exc})")
        return False

    def _release_unjudged(
        self, job: J.Job, index: int, now: int, relays_first: bool, step: StepReport
    ) -> bool:
        """As a keeper: releases to the freelancer a disputed milestone no quorum settled in its week
        for a verdict (the first designated oracle at once, the others after `AGGREGATION_GRACE`)."""
        committee = self.ws.committee
        opens = J.unjudged_releasable_at(job, index, committee.challenge_window)
        if opens is None or now < opens or not committee.has("release_unjudged"):
            return False
        if not relays_first and now < opens + AGGREGATION_GRACE:
            return False
        label = f"job {job.job_id} milestone {index + 1}"
        try:
            self.evaluations.jobs.release_unjudged(self.signer, job.job_id, index)
        except ProofworkError as exc:
            step.failures.append(f"{label}: release without a verdict refused ({exc})")
            return False
        step.settled.append(f"{label}: no verdict was possible; released to the freelancer")
        return True

    def _collect_reports(
        self, job: J.Job, index: int, own: Report, evaluation: Evaluation
    ) -> dict[str, tuple[int, bytes]]:
        """Every valid report for the milestone's current round and deliverable this oracle can get
        (its own and its peers'), by lower-case oracle address: (score, signature)."""
        mine = {
            "item": index,
            "round": job.milestones[index].revisions,
            "deliverable": own.deliverable,
            "score": own.score,
            "signature": own.signature,
        }
        return gather_reports(
            self.ws.committee,
            self.peers,
            job,
            index,
            evaluation.commitment,
            held={self.signer.address.lower(): mine},
        )

    def _attest(self, job_id: int, label: str, step: StepReport) -> None:
        """The settling oracle attests at once; anyone can still do it later if this fails."""
        if not self.attest or not self.ws.has_identity:
            return
        from proofwork.services.attestations import attest_settled

        try:
            for done in attest_settled(self.ws, self.signer, job_id, peers=self.peers):
                step.settled.append(
                    f"{label}: JobCompleted 0x{done.uid.hex()}"
                    + (f", badge #{done.badge}" if done.badge else "")
                )
        except ProofworkError as exc:
            step.failures.append(f"{label}: settled, but not attested ({exc})")
