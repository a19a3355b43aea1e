"""An evaluation oracle: watch the chain, score in the sandbox, sign, share, aggregate, settle.

`OracleNode.step()` is one pass over the chain's current state; `proofwork oracle run`
calls it in a loop. Every decision is derived again from the chain on each pass, and
every signed report is written to the oracle's database before it is shared, so a
restarted oracle neither misses a submission nor scores one twice (nor signs two
different scores for one submission).

What an oracle signs: the score of a submission it could judge, or the worst possible
score when the submission itself is broken or missing after the challenge window. It
signs nothing (abstains) when the fault is not the freelancer's: labels that do not match
the client's commitment, a missing spec, a sandbox that failed. Abstaining leaves the
freelancer's auto-claim intact.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from proofwork.chain.committee import CommitteeContract
from proofwork.chain.encoding import labels_commitment
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
from proofwork.services.oracle.passes import Abstain, PeerClient, StepReport, Tamper, signature_of
from proofwork.services.task_files import MAX_LABELS_BYTES, HiddenLabels, TaskFiles
from proofwork.services.workspace import Signer, Workspace

log = logging.getLogger("proofwork.oracle")

__all__ = ["AGGREGATION_GRACE", "POSTING_FALLBACK_AFTER", "Abstain", "OracleNode", "PeerClient", "StepReport"]


def _report_message(
    committee: CommitteeContract, job: J.Job, index: int, evaluation: Evaluation, score: int
) -> dict[str, Any]:
    """The EIP-712 `ScoreReport` for a milestone's current submission (its round and deliverable)."""
    milestone = job.milestones[index]
    return committee.report_message(
        job.job_id,
        index,
        milestone.deliverable,
        milestone.revisions,
        score,
        job.spec_hash,
        evaluation.commitment,
    )


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
        for index in range(len(job.milestones)):
            milestone = job.milestones[index]
            if milestone.status != J.MilestoneStatus.SUBMITTED:
                continue
            window_end = milestone.timestamp + committee.challenge_window
            try:
                own = self._job_report(job, index, evaluation, now >= window_end, report)
            except Abstain as exc:
                report.failures.append(f"job {job_id} milestone {index + 1}: abstained: {exc}")
                continue
            if now < window_end:
                continue
            designated = committee.oracles[(job_id + index + milestone.revisions) % len(committee.oracles)]
            if designated.lower() != self.signer.address.lower() and now < window_end + AGGREGATION_GRACE:
                continue
            if self._settle(job, index, own, evaluation, now - window_end, report):
                job = self.evaluations.jobs.get(job_id)  # the escrow's state changed
                evaluation = self.evaluations.get(job_id)
        if any(m.status < J.MilestoneStatus.PAID for m in job.milestones):
            return
        if evaluation.revealed is not None or not evaluation.settlements:
            self._done.add(job_id)
            return
        hidden = self._hidden_labels(evaluation.sealed_labels, evaluation.commitment, job.spec_hash)
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
                hidden = self._hidden_labels(evaluation.sealed_labels, evaluation.commitment, job.spec_hash)
            except ProofworkError:
                continue
            if hidden.labels_cid == labels_cid:
                return True
        if self.ws.deployment.competition:
            comps = Competitions(self.ws)
            for comp_id in comps.ids():
                try:
                    comp = comps.get(comp_id)
                    if comp.finalized or comp.cancelled:
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
            self.signer.key, _report_message(committee, job, index, evaluation, score)
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
        spec = self._spec(job.spec_hash)
        check_registered_matches_spec(evaluation, spec)
        hidden = self._hidden_labels(evaluation.sealed_labels, evaluation.commitment, job.spec_hash)
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
        self, job: J.Job, index: int, own: Report, evaluation: Evaluation, since_window: int, step: StepReport
    ) -> bool:
        committee = self.ws.committee
        milestone = job.milestones[index]

        collected: dict[str, tuple[int, bytes]] = {}
        for oracle in committee.oracles:
            candidates: list[dict[str, Any]]
            if oracle.lower() == self.signer.address.lower():
                candidates = [
                    {
                        "item": index,
                        "round": milestone.revisions,
                        "deliverable": own.deliverable,
                        "score": own.score,
                        "signature": own.signature,
                    }
                ]
            else:
                endpoint = committee.endpoint(oracle)
                candidates = (
                    self.peers.reports(endpoint, committee.address, "job", job.job_id) if endpoint else []
                )
            for r in candidates:
                try:
                    same = (int(r["item"]), int(r["round"]), str(r["deliverable"])) == (
                        index,
                        milestone.revisions,
                        "0x" + milestone.deliverable.hex(),
                    )
                    score, signature = int(r["score"]), bytes.fromhex(str(r["signature"]).removeprefix("0x"))
                except (KeyError, ValueError, TypeError):
                    continue
                signer = (
                    committee.report_signer(
                        _report_message(committee, job, index, evaluation, score), signature
                    )
                    if same
                    else None
                )
                if signer is not None and signer.lower() == oracle.lower():
                    collected[oracle.lower()] = (score, signature)
                    break
        label = f"job {job.job_id} milestone {index + 1}"
        if len(collected) >= committee.threshold:
            ordered = sorted(collected.items(), key=lambda item: int(item[0], 16))
            try:
                committee.settle(
                    self.signer.key,
                    job,
                    index,
                    milestone.revisions,
                    [score for _, (score, _) in ordered],
                    [sig for _, (_, sig) in ordered],
                )
                step.settled.append(f"{label}: {len(ordered)} signatures")
                self._attest(job.job_id, label, step)
                return True
            except TransactionRejected as exc:
                step.failures.append(f"{label}: settle refused ({exc})")
        if since_window < POSTING_FALLBACK_AFTER:
            return False
        # Fallback: not enough signatures over HTTP; put this oracle's report on chain.
        position = [o.lower() for o in committee.oracles].index(self.signer.address.lower())
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
            if bin(posted).count("1") >= committee.threshold:
                committee.settle_posted(self.signer.key, job, index)
                step.settled.append(f"{label}: from {bin(posted).count('1')} reports posted on chain")
                self._attest(job.job_id, label, step)
                return True
        except TransactionRejected as exc:
            step.failures.append(f"{label}: posting refused ({exc})")
        return False

    def _attest(self, job_id: int, label: str, step: StepReport) -> None:
        """The settling oracle attests at once; anyone can still do it later if this fails."""
        if not self.attest or not self.ws.has_identity:
            return
        from proofwork.services.attestations import attest_settled

        try:
            for done in attest_settled(self.ws, self.signer, job_id):
                step.settled.append(
                    f"{label}: JobCompleted 0x{done.uid.hex()}"
                    + (f", badge #{done.badge}" if done.badge else "")
                )
        except ProofworkError as exc:
            step.failures.append(f"{label}: settled, but not attested ({exc})")
