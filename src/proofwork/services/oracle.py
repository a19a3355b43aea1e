"""An evaluation oracle: watch the chain, score in the sandbox, sign, share, aggregate, settle.

`OracleNode.step()` is one pass over the chain's current state; `proofwork oracle run`
calls it in a loop. Every decision is derived again from the chain on each pass, and
every signed report is written to the oracle's database before it is shared, so a
restarted oracle neither misses a submission nor scores one twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from web3 import Web3

from proofwork.db.oracle_state import OracleState, Report
from proofwork.domain import job as J
from proofwork.domain.errors import ProofworkError, TransactionRejected
from proofwork.domain.evalspec import split_rows
from proofwork.evaluation.runner import EvalResult, Evaluator
from proofwork.identity.sealing import open_sealed
from proofwork.services.artifacts import MAX_LABELS_BYTES, Artifacts, HiddenLabels, cid_text
from proofwork.services.competitions import Competitions
from proofwork.services.evaluation import Evaluations, unscorable
from proofwork.services.workspace import Signer, Workspace

log = logging.getLogger("proofwork.oracle")

# An oracle that is not the designated aggregator of a report waits this long (chain time)
# after the challenge window before settling itself, so four oracles do not race for one settle.
AGGREGATION_GRACE = 120
# When aggregation over HTTP cannot gather enough signatures for this long after the window,
# reports are posted on chain one by one (the fallback path).
POSTING_FALLBACK_AFTER = 600


class PeerClient(Protocol):
    def reports(self, endpoint: str, contract: str, kind: str, subject: int) -> list[dict[str, Any]]: ...


Tamper = Callable[[str, int, int], int]  # (kind, subject, honest score) -> reported score


@dataclass
class StepReport:
    scored: list[str] = field(default_factory=list)
    settled: list[str] = field(default_factory=list)
    revealed: list[int] = field(default_factory=list)
    finalized: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.scored or self.settled or self.revealed or self.finalized)


def report_json(r: Report) -> dict[str, Any]:
    return {
        "kind": r.kind,
        "subject": r.subject,
        "item": r.item,
        "round": r.round,
        "deliverable": r.deliverable,
        "ok": r.ok,
        "score": str(r.score),
        "reason": r.reason,
        "signature": r.signature,
        "payload": r.payload,
    }


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
    ) -> None:
        self.ws = ws
        self.signer = signer
        self.state = state
        self.evaluator = evaluator
        self.peers = peers
        self.tamper = tamper
        self.artifacts = Artifacts(ws.store, workdir)
        self.evaluations = Evaluations(ws, evaluator)
        self.evaluations.artifacts = self.artifacts

    # --- one pass --------------------------------------------------------------------------------

    def step(self) -> StepReport:
        report = StepReport()
        committee = self.ws.committee
        if self.signer.address.lower() not in {o.lower() for o in committee.oracles}:
            raise ProofworkError(
                f"{self.signer.address} is not a member of the committee at {committee.address}"
            )
        for registered in self.evaluations.registered_jobs():
            job_id = int(registered.args["job_id"])
            try:
                self._job(job_id, report)
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

    # --- evaluated jobs --------------------------------------------------------------------------

    def _job(self, job_id: int, report: StepReport) -> None:
        job = self.evaluations.jobs.get(job_id)
        committee = self.ws.committee
        if job.arbiter.lower() != committee.address.lower():
            return
        evaluation = self.evaluations.get(job_id)
        now = self.ws.chain.next_timestamp()
        for index, milestone in enumerate(job.milestones):
            if milestone.status != J.MilestoneStatus.SUBMITTED:
                continue
            own = self._job_report(job, index, evaluation, report)
            window_end = milestone.timestamp + committee.challenge_window
            if now < window_end:
                continue
            designated = committee.oracles[(job_id + index + milestone.revisions) % len(committee.oracles)]
            if designated.lower() != self.signer.address.lower() and now < window_end + AGGREGATION_GRACE:
                continue
            self._settle(job, index, own, evaluation, now - window_end, report)
        if (
            evaluation.revealed is None
            and evaluation.settlements
            and all(m.status >= J.MilestoneStatus.PAID for m in job.milestones)
        ):
            hidden = self._hidden_labels(evaluation.sealed_labels)
            try:
                self.evaluations.reveal(self.signer, job_id, hidden)
                report.revealed.append(job_id)
            except TransactionRejected as exc:
                if "revealed" not in str(exc):
                    raise

    def _job_report(self, job: J.Job, index: int, evaluation: Any, step: StepReport) -> Report:
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
        result = self._score_job(job, index, evaluation)
        honest = (
            result.score
            if result.ok and result.score is not None
            else unscorable(evaluation.higher_is_better)
        )
        score = self.tamper("job", job.job_id, honest) if self.tamper else honest
        message = committee.report_message(
            job.job_id,
            index,
            milestone.deliverable,
            milestone.revisions,
            score,
            job.spec_hash,
            evaluation.commitment,
        )
        signature = committee.sign_report(self.signer.key, message)
        saved = self.state.save(
            Report(
                *key, ok=result.ok, score=score, reason=result.reason or "", signature="0x" + signature.hex()
            )
        )
        step.scored.append(f"job {job.job_id} milestone {index + 1} round {milestone.revisions}: {score}")
        return saved

    def _score_job(self, job: J.Job, index: int, evaluation: Any) -> EvalResult:
        try:
            spec, _ = self.artifacts.spec_by_hash(job.spec_hash)
            hidden = self._hidden_labels(evaluation.sealed_labels)
            labels = self.artifacts.write_temp(hidden.labels, ".labels")
        except ProofworkError as exc:
            return EvalResult(
                ok=False, score=None, reason=f"cannot prepare the evaluation: {exc}", passed=None
            )
        try:
            return self.evaluations.score(spec, job.milestones[index].deliverable, labels)
        finally:
            labels.unlink(missing_ok=True)

    def _hidden_labels(self, sealed_cid: str) -> HiddenLabels:
        envelope = self.ws.store.read_bytes(sealed_cid, 2 * MAX_LABELS_BYTES)
        return HiddenLabels.from_json(open_sealed(envelope, self.signer.key))

    def _settle(
        self, job: J.Job, index: int, own: Report, evaluation: Any, since_window: int, step: StepReport
    ) -> None:
        committee = self.ws.committee
        milestone = job.milestones[index]
        message_of = lambda score: committee.report_message(  # noqa: E731
            job.job_id,
            index,
            milestone.deliverable,
            milestone.revisions,
            score,
            job.spec_hash,
            evaluation.commitment,
        )
        collected = {self.signer.address.lower(): (own.score, bytes.fromhex(own.signature[2:]))}
        for oracle in committee.oracles:
            if oracle.lower() in collected:
                continue
            endpoint = committee.endpoint(oracle)
            if not endpoint:
                continue
            for r in self.peers.reports(endpoint, committee.address, "job", job.job_id):
                try:
                    if (int(r["item"]), int(r["round"]), r["deliverable"]) != (
                        index,
                        milestone.revisions,
                        "0x" + milestone.deliverable.hex(),
                    ):
                        continue
                    score, signature = int(r["score"]), bytes.fromhex(str(r["signature"])[2:])
                    if committee.report_signer(message_of(score), signature).lower() == oracle.lower():
                        collected[oracle.lower()] = (score, signature)
                except (KeyError, ValueError, TypeError):
                    continue
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
            except TransactionRejected as exc:
                step.failures.append(f"{label}: settle refused ({exc})")
            return
        if since_window < POSTING_FALLBACK_AFTER:
            return
        # Fallback: peers unreachable over HTTP; put this oracle's report on chain.
        posted = {
            str(e.args["oracle"]).lower()
            for e in committee.events("ReportPosted", subject=job.job_id)
            if int(e.args["milestone"]) == index and int(e.args["round"]) == milestone.revisions
        }
        try:
            if self.signer.address.lower() not in posted:
                committee.post_report(
                    self.signer.key,
                    job.job_id,
                    index,
                    milestone.revisions,
                    milestone.deliverable,
                    own.score,
                    bytes.fromhex(own.signature[2:]),
                )
                posted.add(self.signer.address.lower())
            if len(posted) >= committee.threshold:
                committee.settle_posted(self.signer.key, job, index)
                step.settled.append(f"{label}: from {len(posted)} reports posted on chain")
        except TransactionRejected as exc:
            step.failures.append(f"{label}: posting refused ({exc})")

    # --- competitions ----------------------------------------------------------------------------

    def _competition(self, comp_id: int, step: StepReport) -> None:
        comps = Competitions(self.ws)
        comp = comps.get(comp_id)
        if comp.finalized or comp.cancelled:
            return
        contract = self.ws.competitions.address
        hidden = self._hidden_labels(comp.sealed_labels)
        spec, _ = self.artifacts.spec_by_hash(comp.spec_hash)
        labels = self.artifacts.write_temp(hidden.labels, ".labels")
        try:
            n_rows = self.evaluator.count_rows(spec, labels)
            public_rows, private_rows = split_rows(n_rows, hidden.salt, comp.public_percent)
            features = self.artifacts.fetch(spec.data.test_features, MAX_LABELS_BYTES, ".tab")
            for entry in comp.entries:
                key = (contract, "public", comp_id, entry.index, 0, entry.sealed_submission)
                if self.state.find(*key) is not None:
                    continue
                public, private, reason, digest = self._score_entry(
                    spec,
                    entry.sealed_submission,
                    features,
                    labels,
                    public_rows,
                    private_rows,
                    comp.higher_is_better,
                )
                public = self.tamper("public", comp_id, public) if self.tamper else public
                private = self.tamper("private", comp_id, private) if self.tamper else private
                # the private score is kept, never served, until the final ranking is signed
                self.state.save(
                    Report(
                        contract,
                        "private",
                        comp_id,
                        entry.index,
                        0,
                        entry.sealed_submission,
                        not reason,
                        private,
                        reason,
                        "",
                        payload=digest,
                    )
                )
                text = f"proofwork public score {contract.lower()} {comp_id} {entry.index} {public}"
                from eth_account import Account
                from eth_account.messages import encode_defunct

                signature = bytes(Account.sign_message(encode_defunct(text=text), self.signer.key).signature)
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
        now = self.ws.chain.next_timestamp()
        if now <= comp.deadline + comp.reveal_period:
            return
        final = self._final_report(comp, contract)
        designated = self.ws.committee.oracles[comp_id % len(self.ws.committee.oracles)]
        if (
            designated.lower() != self.signer.address.lower()
            and now < comp.deadline + comp.reveal_period + AGGREGATION_GRACE
        ):
            return
        self._finalize(comp, final, hidden, step)

    def _score_entry(
        self,
        spec: Any,
        sealed_cid: str,
        features: Path,
        labels: Path,
        public_rows: list[int],
        private_rows: list[int],
        higher_is_better: bool,
    ) -> tuple[int, int, str, str]:
        worst = unscorable(higher_is_better)
        try:
            envelope = self.ws.store.read_bytes(sealed_cid, (spec.limits.max_submission_mb << 21) + (1 << 20))
            submission_bytes = open_sealed(envelope, self.signer.key)
        except ProofworkError as exc:
            return worst, worst, f"cannot open the sealed submission: {exc}", ""
        from proofwork.storage.unixfs import cid_of_bytes

        digest = cid_of_bytes(submission_bytes)
        submission = self.artifacts.write_temp(submission_bytes, ".sub")
        try:
            public = self.evaluator.evaluate(spec, submission, features, labels, rows=public_rows)
            if not public.ok or public.score is None:
                return worst, worst, public.reason or "not scorable", digest
            private = self.evaluator.evaluate(spec, submission, features, labels, rows=private_rows)
            if not private.ok or private.score is None:
                return worst, worst, private.reason or "not scorable", digest
            return public.score, private.score, "", digest
        finally:
            submission.unlink(missing_ok=True)

    def _final_report(self, comp: Any, contract: str) -> Report:
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
            # the revealed CID must be what was sealed to the committee, or the entry scores nothing
            if scored is None or scored.payload != entry.revealed_cid:
                ranking.append((entry.index, worst))
            else:
                ranking.append((entry.index, scored.score))
        competitions = self.ws.competitions
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

    def _finalize(self, comp: Any, own: Report, hidden: HiddenLabels, step: StepReport) -> None:
        competitions = self.ws.competitions
        committee = self.ws.committee
        ranking = [(int(a), int(b)) for a, b in json.loads(own.payload)]
        message = competitions.final_message(comp.comp_id, ranking, comp.commitment)
        collected = {self.signer.address.lower(): bytes.fromhex(own.signature[2:])}
        for oracle in committee.oracles:
            if oracle.lower() in collected or not (endpoint := committee.endpoint(oracle)):
                continue
            for r in self.peers.reports(endpoint, competitions.address, "final", comp.comp_id):
                try:
                    signature = bytes.fromhex(str(r["signature"])[2:])
                    if competitions.final_signer(message, signature).lower() == oracle.lower():
                        collected[oracle.lower()] = signature
                except (KeyError, ValueError, TypeError):
                    continue
        if len(collected) < committee.threshold:
            return
        ordered = [sig for _, sig in sorted(collected.items(), key=lambda item: int(item[0], 16))]
        try:
            competitions.finalize(
                self.signer.key, comp.comp_id, hidden.cid_bytes, hidden.salt, ranking, ordered
            )
            self.ws.store.add_bytes(hidden.labels)
            step.finalized.append(comp.comp_id)
        except TransactionRejected as exc:
            step.failures.append(f"competition {comp.comp_id}: finalize refused ({exc})")


def checksum(address: str) -> str:
    return str(Web3.to_checksum_address(address))


__all__ = ["OracleNode", "PeerClient", "StepReport", "cid_text", "report_json"]
