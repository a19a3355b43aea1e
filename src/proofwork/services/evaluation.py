"""Evaluated jobs: post with a hidden test set, reveal it after settlement, re-check every score.

A client posts an escrowed job whose arbiter is the oracle committee, with the task spec as
the job's spec hash (the spec's CID digest). The labels are committed on chain by hash
(labels CID, salt, spec hash) and sealed to the committee's keys. Oracles score each
submission in the sandbox, sign, and one aggregated transaction pays on a passing median.
After settlement the labels and salt are revealed, so anyone can recompute every score.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proofwork.chain.evaluation import Event, labels_commitment
from proofwork.domain import job as J
from proofwork.domain.errors import InvalidInput, NotAllowed, NotFound
from proofwork.domain.evalspec import EvalSpec, metric_direction, parse_spec, threshold_fixed
from proofwork.evaluation.runner import EvalResult, Evaluator
from proofwork.identity.sealing import recipient, seal
from proofwork.services.artifacts import MAX_LABELS_BYTES, Artifacts, HiddenLabels, cid_text, digest_of
from proofwork.services.jobs import Jobs, Outcome
from proofwork.services.workspace import Signer, Workspace
from proofwork.storage.unixfs import cid_of_bytes, cid_to_bytes

DEFAULT_TOLERANCE = 10_000  # 0.01 in metric units: a report further from the median is an outlier
INT256_MIN = -(2**255)
INT256_MAX = 2**255 - 1


def unscorable(higher_is_better: bool) -> int:
    """The score reported for a submission that cannot be scored: the worst possible one."""
    return INT256_MIN if higher_is_better else INT256_MAX


@dataclass(frozen=True)
class Evaluation:
    job_id: int
    client: str
    spec_hash: bytes
    commitment: bytes
    threshold: int
    higher_is_better: bool
    tolerance: int
    sealed_labels: str  # CID of the envelope
    revealed: tuple[str, bytes] | None = None  # (labels CID, salt) once revealed
    settlements: list[dict[str, Any]] = field(default_factory=list)  # ScoreSettled args


@dataclass(frozen=True)
class ScoreCheck:
    milestone: int
    round: int
    deliverable: str
    paid_on: int  # the median the contract settled on
    passed: bool
    recomputed: int | None
    reason: str | None

    @property
    def matches(self) -> bool:
        return self.recomputed == self.paid_on


def secrets_dir(ws: Workspace) -> Path:
    return ws.data_dir / "secrets" / str(ws.chain.chain_id)


class Evaluations:
    def __init__(self, ws: Workspace, evaluator: Evaluator | None = None) -> None:
        self.ws = ws
        self.jobs = Jobs(ws)
        self.evaluator = evaluator
        self.artifacts = Artifacts(ws.store, ws.data_dir / "work")

    # --- post ------------------------------------------------------------------------------------

    def post(
        self,
        client: Signer,
        spec_path: Path,
        labels_path: Path,
        *,
        budget: int | None = None,
        milestones: int | list[int] = 1,
        deadline: int,
        review_period: int,
        freelancer: str | None = None,
        tolerance: int = DEFAULT_TOLERANCE,
    ) -> tuple[Outcome, Evaluation]:
        """Posts an escrowed job judged by the committee against a hidden test set."""
        committee = self.ws.committee
        spec_bytes = _read(spec_path, 1 << 20, "spec")
        spec = parse_spec(spec_bytes)
        for what, cid in (("train set", spec.data.train), ("test features", spec.data.test_features)):
            if cid and not self.ws.store.has(cid):
                raise NotFound(
                    f"the spec's {what} {cid} is not in the artifact store: `proofwork store add` it"
                )
        labels = _read(labels_path, MAX_LABELS_BYTES, "labels")
        if not 0 <= tolerance < 2**255:
            raise InvalidInput("the outlier tolerance must be a non-negative fixed-point number")
        window = committee.challenge_window
        if review_period <= window:
            raise InvalidInput(
                f"the review window must be longer than the committee's challenge window ({window} s), "
                "or a freelancer could claim before the oracles settle"
            )
        keys = []
        for oracle in committee.oracles:
            public_key = committee.public_key(oracle)
            if len(public_key) != 64:
                raise NotAllowed(
                    f"oracle {oracle} has not published its key yet: the labels cannot be sealed"
                )
            keys.append(recipient(public_key))
        spec_cid = self.ws.store.add_bytes(spec_bytes)
        spec_hash = digest_of(spec_cid)
        hidden = HiddenLabels(labels, cid_of_bytes(labels), secrets.token_bytes(32))
        commitment = labels_commitment(hidden.cid_bytes, hidden.salt, spec_hash)
        # The salt is kept before anything goes on chain: losing it would make the reveal impossible.
        pending = self._save_secret(f"pending-{commitment.hex()}", hidden, spec_cid)
        sealed_cid = self.ws.store.add_bytes(seal(hidden.to_json(), keys))
        outcome = self.jobs.post(
            client,
            budget=budget,
            milestones=milestones,
            deadline=deadline,
            review_period=review_period,
            freelancer=freelancer,
            spec_hash=spec_hash,
            arbiter=committee.address,
        )
        os.replace(pending, self._secret_path(outcome.job.job_id))
        receipt = committee.register(
            client.key,
            outcome.job,
            commitment,
            threshold_fixed(spec),
            metric_direction(spec.metric),
            tolerance,
            cid_to_bytes(sealed_cid),
        )
        outcome.receipts.append(("register evaluation", receipt))
        return outcome, self.get(outcome.job.job_id)

    def _secret_path(self, job_id: int) -> Path:
        return secrets_dir(self.ws) / self.ws.committee.address.lower() / f"job-{job_id}.json"

    def _save_secret(self, name: str, hidden: HiddenLabels, spec_cid: str) -> Path:
        directory = secrets_dir(self.ws) / self.ws.committee.address.lower()
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{name}.json"
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(hidden.to_json())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return path

    # --- reads -----------------------------------------------------------------------------------

    def get(self, job_id: int) -> Evaluation:
        committee = self.ws.committee
        events = committee.events("EvaluationRegistered", "ScoreSettled", "LabelsRevealed", subject=job_id)
        registered = next((e for e in events if e.name == "EvaluationRegistered"), None)
        if registered is None:
            raise NotFound(f"job {job_id} is not evaluated by the oracle committee")
        a = registered.args
        revealed = next(
            ((cid_text(e.args["labels_cid"]), e.args["salt"]) for e in events if e.name == "LabelsRevealed"),
            None,
        )
        return Evaluation(
            job_id=job_id,
            client=a["client"],
            spec_hash=a["spec_hash"],
            commitment=a["commitment"],
            threshold=int(a["threshold"]),
            higher_is_better=bool(a["higher_is_better"]),
            tolerance=int(a["tolerance"]),
            sealed_labels=cid_text(a["sealed_labels"]),
            revealed=revealed,
            settlements=[dict(e.args) for e in events if e.name == "ScoreSettled"],
        )

    def registered_jobs(self) -> list[Event]:
        return self.ws.committee.events("EvaluationRegistered")

    # --- reveal and re-check ---------------------------------------------------------------------

    def reveal(self, caller: Signer, job_id: int, hidden: HiddenLabels | None = None) -> Outcome:
        """Publishes the labels and reveals (labels CID, salt) on chain after settlement.

        The client reveals from the secret kept at posting time; an oracle passes the
        labels it opened from the sealed envelope.
        """
        evaluation = self.get(job_id)
        if evaluation.revealed is not None:
            raise NotAllowed(f"the labels of job {job_id} are already revealed")
        if hidden is None:
            path = self._secret_path(job_id)
            if not path.exists():
                raise NotFound(
                    f"no hidden labels for job {job_id} on this machine (only the client has them)"
                )
            hidden = HiddenLabels.from_json(path.read_bytes())
        job = self.jobs.get(job_id)
        if any(m.status < J.MilestoneStatus.PAID for m in job.milestones):
            raise NotAllowed(
                f"job {job_id} still has unsettled milestones: labels are revealed after settlement"
            )
        if labels_commitment(hidden.cid_bytes, hidden.salt, job.spec_hash) != evaluation.commitment:
            raise InvalidInput("these labels and salt do not match the job's commitment")
        published = self.ws.store.add_bytes(hidden.labels)
        assert published == hidden.labels_cid
        receipt = self.ws.committee.reveal(caller.key, job, hidden.cid_bytes, hidden.salt)
        return Outcome(job, [("reveal labels", receipt)], [])

    def verify(self, job_id: int) -> list[ScoreCheck]:
        """Recomputes every settled score from public artifacts (the revealed labels included)."""
        if self.evaluator is None:
            raise InvalidInput("verifying scores needs an evaluator (a sandbox)")
        evaluation = self.get(job_id)
        if evaluation.revealed is None:
            raise NotAllowed(f"the labels of job {job_id} are not revealed yet: scores cannot be re-checked")
        labels_cid, salt = evaluation.revealed
        if labels_commitment(cid_to_bytes(labels_cid), salt, evaluation.spec_hash) != evaluation.commitment:
            raise InvalidInput(f"the revealed labels of job {job_id} do not match its commitment")
        spec, _ = self.artifacts.spec_by_hash(evaluation.spec_hash)
        labels = self.artifacts.fetch(labels_cid, MAX_LABELS_BYTES, _suffix(labels_cid, spec, "labels"))
        deliverables = self._settled_deliverables(job_id)
        checks = []
        for settled in evaluation.settlements:
            milestone, round_ = int(settled["milestone"]), int(settled["round"])
            deliverable = deliverables.get((milestone, round_))
            result = self.score(spec, deliverable, labels) if deliverable else None
            recomputed: int | None
            if result is None:
                recomputed, reason = None, "the submission's deliverable is not known"
            elif result.ok:
                recomputed, reason = result.score, None
            else:
                recomputed, reason = unscorable(evaluation.higher_is_better), result.reason
            checks.append(
                ScoreCheck(
                    milestone,
                    round_,
                    "0x" + deliverable.hex() if deliverable else "",
                    int(settled["median"]),
                    bool(settled["passed"]),
                    recomputed,
                    reason,
                )
            )
        return checks

    def _settled_deliverables(self, job_id: int) -> dict[tuple[int, int], bytes]:
        """(milestone, round) -> the deliverable that round scored, from the escrow's events."""
        rounds: dict[int, int] = {}
        out: dict[tuple[int, int], bytes] = {}
        for _, event in self.ws.escrow.events(job_id):
            if isinstance(event, J.RevisionRequested):
                rounds[event.milestone] = rounds.get(event.milestone, 0) + 1
            elif isinstance(event, J.MilestoneSubmitted):
                out[(event.milestone, rounds.get(event.milestone, 0))] = event.deliverable
        return out

    def score(self, spec: EvalSpec, deliverable: bytes, labels: Path) -> EvalResult:
        """Scores one submission exactly as an oracle does."""
        assert self.evaluator is not None
        features = self.artifacts.fetch(
            spec.data.test_features, MAX_LABELS_BYTES, _suffix(spec.data.test_features, spec, "features")
        )
        try:
            submission = self.artifacts.fetch_by_digest(
                deliverable, spec.limits.max_submission_mb << 20, _submission_suffix(spec)
            )
        except (NotFound, InvalidInput) as exc:
            return EvalResult(ok=False, score=None, reason=str(exc), passed=None)
        return self.evaluator.evaluate(spec, submission, features, labels)


def _read(path: Path, limit: int, what: str) -> bytes:
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"no such {what} file: {path}")
    if path.stat().st_size > limit:
        raise InvalidInput(f"the {what} file {path} is over {limit} bytes")
    return path.read_bytes()


def _suffix(cid: str, spec: EvalSpec, kind: str) -> str:
    """Tabular artifacts keep a suffix the readers recognise (parquet starts with PAR1)."""
    return ".tab"


def _submission_suffix(spec: EvalSpec) -> str:
    return ".sub"


def evaluation_json(e: Evaluation) -> dict[str, Any]:
    return {
        "job_id": e.job_id,
        "spec_hash": "0x" + e.spec_hash.hex(),
        "commitment": "0x" + e.commitment.hex(),
        "threshold": e.threshold,
        "higher_is_better": e.higher_is_better,
        "tolerance": e.tolerance,
        "sealed_labels": e.sealed_labels,
        "revealed": {"labels_cid": e.revealed[0], "salt": "0x" + e.revealed[1].hex()} if e.revealed else None,
        "settlements": [
            {k: ("0x" + v.hex() if isinstance(v, bytes) else v) for k, v in s.items()} for s in e.settlements
        ],
    }


def load_json(path: Path) -> Any:
    return json.loads(path.read_text())
