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

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from proofwork.chain.committee import CommitteeContract
from proofwork.chain.encoding import labels_commitment
from proofwork.db.oracle_state import OracleState, Report
from proofwork.domain import job as J
from proofwork.domain.errors import NotFound, ProofworkError, TransactionRejected
from proofwork.domain.evalspec import EvalSpec, metric_direction, split_rows, threshold_fixed
from proofwork.evaluation.runner import EvalResult, Evaluator
from proofwork.keys.sealing import open_sealed
from proofwork.services.competitions import Competition, Competitions
from proofwork.services.evaluated_jobs import (
    AGGREGATION_GRACE,
    POSTING_FALLBACK_AFTER,
    Evaluation,
    Evaluations,
    on_chain,
    unscorable,
)
from proofwork.services.task_files import MAX_LABELS_BYTES, HiddenLabels, TaskFiles
from proofwork.services.workspace import Signer, Workspace
from proofwork.storage.unixfs import cid_of_bytes

log = logging.getLogger("proofwork.oracle")

__all__ = ["AGGREGATION_GRACE", "POSTING_FALLBACK_AFTER", "Abstain", "OracleNode", "PeerClient", "StepReport"]


class PeerClient(Protocol):
    def reports(self, endpoint: str, contract: str, kind: str, subject: int) -> list[dict[str, Any]]: ...


Tamper = Callable[[str, int, int], int]  # (kind, subject, honest score) -> reported score


class Abstain(ProofworkError):
    """This oracle signs nothing for now (not the freelancer's fault, or worth retrying)."""


@dataclass
class StepReport:
    scored: list[str] = field(default_factory=list)
    settled: list[str] = field(default_factory=list)
    revealed: list[int] = field(default_factory=list)
    finalized: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.scored or self.settled or self.revealed or self.finalized)


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


def _signature(report: Report) -> bytes:
    return bytes.fromhex(report.signature.removeprefix("0x"))


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


class OracleNode:
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
                    _signature(own),
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

    # --- competitions ----------------------------------------------------------------------------

    def _competition(self, comp_id: int, step: StepReport) -> None:
        comp = Competitions(self.ws).get(comp_id)
        if comp.finalized or comp.cancelled:
            return
        contract = self.ws.competitions.address
        hidden = self._hidden_labels(comp.sealed_labels, comp.commitment, comp.spec_hash)
        spec = self._spec(comp.spec_hash)
        labels = self.files.write_temp(hidden.labels, ".labels")
        try:
            n_rows = self.evaluator.count_rows(spec, labels)
            public_rows, private_rows = split_rows(n_rows, hidden.salt, comp.public_percent)
            features = self.files.fetch(spec.data.test_features, MAX_LABELS_BYTES)
            seen: set[str] = set()
            for entry in comp.entries:
                # a copied envelope is scored for its first entry only
                duplicate = entry.sealed_submission is not None and entry.sealed_submission in seen
                if entry.sealed_submission is not None:
                    seen.add(entry.sealed_submission)
                key = (contract, "public", comp_id, entry.index, 0, entry.sealed_submission or "")
                if self.state.find(*key) is not None:
                    continue
                try:
                    public, private, reason, digest = self._score_entry(
                        spec,
                        None if duplicate else entry.sealed_submission,
                        features,
                        labels,
                        public_rows,
                        private_rows,
                        comp.higher_is_better,
                        missing_is_final=self.ws.chain.now() > comp.deadline,
                    )
                except Abstain as exc:  # this entry only: the others are scored all the same
                    step.failures.append(f"competition {comp_id} entry {entry.index}: abstained: {exc}")
                    continue
                if self.tamper:
                    public, private = (
                        self.tamper("public", comp_id, public),
                        self.tamper("private", comp_id, private),
                    )
                # the private score is kept, never served, until the final ranking is signed
                self.state.save(
                    Report(
                        contract,
                        "private",
                        comp_id,
                        entry.index,
                        0,
                        entry.sealed_submission or "",
                        ok=not reason,
                        score=private,
                        reason=reason,
                        signature="",
                        payload=digest,
                    )
                )
                signature = self.ws.competitions.sign_public_score(
                    self.signer.key, comp_id, entry.index, public
                )
                self.state.save(
                    Report(
                        *key,
                        ok=not reason,
                        score=public,
                        reason=reason,
                        signature="0x" + signature.hex(),
                        payload=digest,
                    )
                )
                step.scored.append(f"competition {comp_id} entry {entry.index}: public {public}")
        finally:
            labels.unlink(missing_ok=True)
        # judged on mined blocks: once the latest block is past the reveal period, no reveal can follow
        if self.ws.chain.now() <= comp.deadline + comp.reveal_period:
            return
        final = self._final_report(comp, contract)
        if final is None:
            return
        designated = self.ws.committee.oracles[comp_id % len(self.ws.committee.oracles)]
        if (
            designated.lower() != self.signer.address.lower()
            and self.ws.chain.now() < comp.deadline + comp.reveal_period + AGGREGATION_GRACE
        ):
            return
        self._finalize(comp, final, hidden, step)

    def _score_entry(
        self,
        spec: EvalSpec,
        sealed_cid: str | None,
        features: Path,
        labels: Path,
        public_rows: list[int],
        private_rows: list[int],
        higher_is_better: bool,
        *,
        missing_is_final: bool,
    ) -> tuple[int, int, str, str]:
        worst = unscorable(higher_is_better)
        if sealed_cid is None:
            return worst, worst, "the entry names no usable sealed submission (or a copy of another's)", ""
        try:
            envelope = self.ws.store.read_bytes(sealed_cid, (spec.limits.max_submission_mb << 21) + (1 << 20))
            submission_bytes = open_sealed(envelope, self.signer.key)
        except NotFound as exc:
            if missing_is_final:  # the deadline has passed: an entry nobody can fetch scores nothing
                return worst, worst, f"the sealed submission was never published: {exc}", ""
            raise Abstain(f"entry not in the artifact store yet: {exc}") from exc
        except ProofworkError as exc:
            return worst, worst, f"cannot open the sealed submission: {exc}", ""
        digest = cid_of_bytes(submission_bytes)
        submission = self.files.write_temp(submission_bytes, ".sub")
        try:
            results = [
                self.evaluator.evaluate(spec, submission, features, labels, rows=rows)
                for rows in (public_rows, private_rows)
            ]
        finally:
            submission.unlink(missing_ok=True)
        for result in results:
            if result.transient:
                raise Abstain(f"the sandbox failed, will retry: {result.reason}")
            if not result.ok or result.score is None:
                return worst, worst, result.reason or "not scorable", digest
        return on_chain(int(results[0].score or 0)), on_chain(int(results[1].score or 0)), "", digest

    def _final_report(self, comp: Competition, contract: str) -> Report | None:
        key = (contract, "final", comp.comp_id, 0, 0, "")
        existing = self.state.find(*key)
        if existing is not None:
            return existing
        private = {r.item: r for r in self.state.reports(contract, "private", comp.comp_id)}
        ranking: list[tuple[int, int]] = []
        worst = unscorable(comp.higher_is_better)
        for entry in comp.entries:
            if entry.revealed_cid is None:
                continue
            scored = private.get(entry.index)
            if scored is None:
                return None  # not every revealed entry is scored yet: sign nothing half-done
            # the revealed CID must be what was sealed to the committee, or the entry scores nothing
            ranking.append((entry.index, scored.score if scored.payload == entry.revealed_cid else worst))
        competitions = self.ws.competitions
        if len(ranking) != competitions.revealed_count(comp.comp_id):
            return None  # the node's logs lag behind its state: wait for the next pass
        signature = competitions.sign_final(
            self.signer.key, competitions.final_message(comp.comp_id, ranking, comp.commitment)
        )
        return self.state.save(
            Report(
                *key,
                ok=True,
                score=0,
                reason="",
                signature="0x" + signature.hex(),
                payload=json.dumps(ranking),
            )
        )

    def _finalize(self, comp: Competition, own: Report, hidden: HiddenLabels, step: StepReport) -> None:
        competitions = self.ws.competitions
        committee = self.ws.committee
        ranking = [(int(a), int(b)) for a, b in json.loads(own.payload)]
        message = competitions.final_message(comp.comp_id, ranking, comp.commitment)
        collected = {self.signer.address.lower(): _signature(own)}
        for oracle in committee.oracles:
            if oracle.lower() in collected or not (endpoint := committee.endpoint(oracle)):
                continue
            for r in self.peers.reports(endpoint, competitions.address, "final", comp.comp_id):
                try:
                    signature = bytes.fromhex(str(r["signature"]).removeprefix("0x"))
                except (KeyError, ValueError, TypeError):
                    continue
                signer = competitions.final_signer(message, signature)
                if signer is not None and signer.lower() == oracle.lower():
                    collected[oracle.lower()] = signature
                    break
        if len(collected) < committee.threshold:
            return
        ordered = [sig for _, sig in sorted(collected.items(), key=lambda item: int(item[0], 16))]
        try:
            competitions.finalize(
                self.signer.key, comp.comp_id, hidden.cid_bytes, hidden.salt, ranking, ordered
            )
        except TransactionRejected as exc:
            step.failures.append(f"competition {comp.comp_id}: finalize refused ({exc})")
            return
        self.ws.store.add_bytes(hidden.labels)  # revealed on chain just now: anyone may re-check
        step.finalized.append(comp.comp_id)
