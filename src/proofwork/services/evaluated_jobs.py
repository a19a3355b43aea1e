"""Evaluated jobs: post with a hidden test set, reveal it after settlement, re-check every score.

A client posts an escrowed job whose arbiter is the oracle committee. How its deliverables are
scored is fixed when the job is created: the job's spec hash is the hash of its evaluation
(`encoding.evaluation_hash`: the spec file's CID digest, the commitment to the hidden labels
(labels CID, salt, spec digest), the pass score, the metric's direction and the outlier
tolerance), and the committee registers only that evaluation. The labels are sealed to the
committee's keys. Oracles score each submission in the sandbox, sign, and one aggregated
transaction pays on a passing median. After settlement the labels and salt are revealed, so
anyone can recompute every score.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proofwork.chain.encoding import evaluation_hash, labels_commitment
from proofwork.chain.receipts import Event
from proofwork.domain import job as J
from proofwork.domain.errors import (
    ArtifactCorrupted,
    InvalidInput,
    NotAllowed,
    NotFound,
    ProofworkError,
    TransactionRejected,
)
from proofwork.domain.evalspec import EvalSpec, metric_direction, parse_spec, threshold_fixed
from proofwork.domain.jsonsafe import safe_json_loads
from proofwork.evaluation.runner import EvalResult, Evaluator, task_rows
from proofwork.keys.sealing import Recipient, seal
from proofwork.services.jobs import Jobs, Outcome
from proofwork.services.task_files import (
    MAX_LABELS_BYTES,
    MAX_SPEC_BYTES,
    HiddenLabels,
    TaskFiles,
    committee_recipients,
)
from proofwork.services.workspace import Signer, Workspace
from proofwork.storage.files import save_file
from proofwork.storage.unixfs import cid_digest, cid_from_bytes, cid_of_bytes, cid_to_bytes

if TYPE_CHECKING:
    from proofwork.chain.committee import Registration

DEFAULT_TOLERANCE = 10_000  # 0.01 in metric units: a report further from the median is an outlier
MAX_TOLERANCE = 2**96 - 1  # the committee packs it in 96 bits
INT256_MIN = -(2**255)
INT256_MAX = 2**255 - 1
# Which reports may settle a milestone is the committee's rule (its round's designated quorum, then
# any quorum); who sends the one settling transaction is ours: the first oracle of the designated
# quorum at once, every other oracle only this long (chain time) after the milestone became
# settleable, so the committee does not race for one settlement (competitions: their designated
# oracle, the others after this long).
AGGREGATION_GRACE = 120
# When aggregation over HTTP cannot gather the reports that may settle for this long after the
# milestone became settleable, reports are posted on chain one by one (the fallback path).
POSTING_FALLBACK_AFTER = 600
# The committee registers an evaluation only when the review window is longer than three challenge
# windows (disputes; the designated quorum's turn; a full window for any quorum, should a designated
# oracle withhold); this much more is asked on top, so no settlement races a freelancer's auto-claim.
REVIEW_WINDOWS = 3
SETTLEMENT_MARGIN = 3600


def on_chain(score: int) -> int:
    """A fixed-point score as the contracts hold it: clamped into int256 (an RMSE of 1e300 is
    just "as bad as it gets"), the same way wherever it is computed."""
    return max(INT256_MIN, min(INT256_MAX, score))


def unscorable(higher_is_better: bool) -> int:
    """The score reported for a submission that cannot be scored: the worst possible one."""
    return INT256_MIN if higher_is_better else INT256_MAX


@dataclass(frozen=True)
class Evaluation:
    job_id: int
    client: str
    spec_hash: bytes  # the job's spec_hash: the hash of this evaluation
    spec_digest: bytes  # sha256 digest of the spec file's CID
    commitment: bytes
    threshold: int
    higher_is_better: bool
    tolerance: int
    sealed_labels: str  # CID of the envelope
    revealed: tuple[str, bytes] | None = None  # (labels CID, salt) once revealed
    settlements: list[dict[str, Any]] = field(default_factory=list)  # ScoreSettled args

    @property
    def hash(self) -> bytes:
        """The evaluation's hash as computed here (the job's spec_hash when it binds)."""
        return evaluation_hash(
            self.spec_digest, self.commitment, self.threshold, self.higher_is_better, self.tolerance
        )


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
    return ws.data_dir / "secrets" / str(ws.chain_id)


class Evaluations:
    def __init__(
        self, ws: Workspace, evaluator: Evaluator | None = None, *, files: TaskFiles | None = None
    ) -> None:
        self.ws = ws
        self.jobs = Jobs(ws)
        self.evaluator = evaluator
        self.files = files or TaskFiles(ws.store, ws.data_dir / "work")

    # --- post ------------------------------------------------------------------------------------

    def stage(self, task: HiddenTask, tolerance: int) -> EvaluationParams:
        """The evaluation of a prepared hidden task, its parameters and salted labels kept on disk (as
        pending, under its hash) before anything goes on chain: losing the salt would make the reveal
        impossible."""
        params = EvaluationParams(
            task.spec_hash,
            task.commitment,
            threshold_fixed(task.spec),
            metric_direction(task.spec.metric),
            tolerance,
        )
        pending = self._secret_dir() / f"pending-{params.hash.hex()}.json"
        save_file(pending.with_suffix(".evaluation.json"), params.to_json())
        save_file(pending, task.hidden.to_json())
        return params

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
        """Posts an escrowed job judged by the committee against a hidden test set: the evaluation is
        built first, the job is created with its hash as spec hash, then the evaluation is registered."""
        committee = self.ws.committee
        if not 0 <= tolerance <= MAX_TOLERANCE:
            raise InvalidInput(f"the outlier tolerance must be between 0 and {MAX_TOLERANCE} (fixed point)")
        check_review_period(review_period, committee.challenge_window)
        task = prepare_hidden_task(self.ws, self.files, spec_path, labels_path)
        params = self.stage(task, tolerance)
        spec_hash = params.hash
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
        job_id = outcome.job.job_id
        self._claim_pending(spec_hash, job_id)
        try:
            evaluation = self.registration(params, task.hidden, task.recipients)
            receipt = self.ws.committee.register(client.key, outcome.job, *evaluation)
        except ProofworkError as exc:
            raise TransactionRejected(
                f"job {job_id} was created and funded but its evaluation was not registered ({exc}); "
                f"run `proofwork eval register {job_id}` before the freelancer submits"
            ) from exc
        outcome.receipts.append(("register evaluation", receipt))
        return outcome, self.get(job_id)

    def register(self, client: Signer, job_id: int) -> Outcome:
        """Registers the evaluation of a job created by `post` whose registration failed."""
        job = self.jobs.get(job_id)
        params, hidden = self.kept(job)
        evaluation = self.registration(params, hidden, committee_recipients(self.ws.committee))
        receipt = self.ws.committee.register(client.key, job, *evaluation)
        return Outcome(job, [("register evaluation", receipt)], [])

    def kept(self, job: J.Job) -> tuple[EvaluationParams, HiddenLabels]:
        """The evaluation and hidden labels kept here for `job` (by `post` or a wallet's post), checked
        against its spec hash."""
        path = self._secret_path(job.job_id)
        if not path.exists():
            # `post` may have stopped between creating the job and naming its secret after it
            self._claim_pending(job.spec_hash, job.job_id)
        params_path = path.with_suffix(".evaluation.json")
        if not path.exists() or not params_path.exists():
            raise NotFound(f"no hidden labels for job {job.job_id} here (only its client has them)")
        hidden = HiddenLabels.from_json(path.read_bytes())
        params = EvaluationParams.from_json(params_path.read_bytes())
        if params.hash != job.spec_hash:
            raise ArtifactCorrupted(
                f"the evaluation kept for job {job.job_id} is not the one its spec hash commits to"
            )
        return params, hidden

    def registration(
        self, params: EvaluationParams, hidden: HiddenLabels, keys: list[Recipient]
    ) -> Registration:
        """The arguments of `OracleCommittee.register` after the job and its state: the evaluation, and
        its labels sealed to `keys` (every oracle's) and stored."""
        if labels_commitment(hidden.cid_bytes, hidden.salt, params.spec_digest) != params.commitment:
            raise ArtifactCorrupted("the hidden labels kept here do not open the evaluation's commitment")
        sealed_cid = self.ws.store.add_bytes(seal(hidden.to_json(), keys))
        return (
            params.spec_digest,
            params.commitment,
            params.threshold,
            params.higher_is_better,
            params.tolerance,
            cid_to_bytes(sealed_cid),
        )

    def _claim_pending(self, spec_hash: bytes, job_id: int) -> None:
        """Names the secret (and evaluation) kept for the job whose spec hash is `spec_hash` after its id."""
        pending = self._secret_dir() / f"pending-{spec_hash.hex()}.json"
        path = self._secret_path(job_id)
        if pending.with_suffix(".evaluation.json").exists():
            os.replace(pending.with_suffix(".evaluation.json"), path.with_suffix(".evaluation.json"))
        if pending.exists():
            os.replace(pending, path)

    def _secret_dir(self) -> Path:
        return secrets_dir(self.ws) / self.ws.committee.address.lower()

    def _secret_path(self, job_id: int) -> Path:
        return self._secret_dir() / f"job-{job_id}.json"

    # --- reads -----------------------------------------------------------------------------------

    def get(self, job_id: int) -> Evaluation:
        committee = self.ws.committee
        events = committee.events("EvaluationRegistered", "ScoreSettled", "LabelsRevealed", subject=job_id)
        registered = next((e for e in events if e.name == "EvaluationRegistered"), None)
        if registered is None:
            raise NotFound(f"job {job_id} is not evaluated by the oracle committee")
        a = registered.args
        revealed = next(
            (
                (cid_from_bytes(e.args["labels_cid"]), e.args["salt"])
                for e in events
                if e.name == "LabelsRevealed"
            ),
            None,
        )
        return Evaluation(
            job_id=job_id,
            client=a["client"],
            spec_hash=a["spec_hash"],
            spec_digest=a["spec_digest"],
            commitment=a["commitment"],
            threshold=int(a["threshold"]),
            higher_is_better=bool(a["higher_is_better"]),
            tolerance=int(a["tolerance"]),
            sealed_labels=cid_from_bytes(a["sealed_labels"]),
            revealed=revealed,
            settlements=[dict(e.args) for e in events if e.name == "ScoreSettled"],
        )

    def registered_jobs(self) -> list[Event]:
        return self.ws.committee.events("EvaluationRegistered")

    def binding_problem(self, job: J.Job, evaluation: Evaluation) -> str | None:
        """What is wrong with the evaluation a committee job is judged by, or None when it is sound:
        its hash must be the job's spec hash (what the freelancer signs and sends binds it), and the
        pass score and the metric's direction must be the ones written in the spec file it names."""
        if evaluation.hash != job.spec_hash:
            return (
                f"the evaluation registered for job {job.job_id} does not hash to the job's spec hash "
                f"0x{job.spec_hash.hex()}"
            )
        try:
            spec, _ = self.files.spec_by_hash(evaluation.spec_digest)
        except ProofworkError as exc:
            return f"the spec of job {job.job_id} cannot be checked: {exc}"
        threshold, higher = threshold_fixed(spec), metric_direction(spec.metric)
        if (evaluation.threshold, evaluation.higher_is_better) != (threshold, higher):
            registered = "higher" if evaluation.higher_is_better else "lower"
            return (
                f"job {job.job_id} is judged with threshold {evaluation.threshold} ({registered} is better) "
                f"but its spec says {threshold} ({'higher' if higher else 'lower'} is better)"
            )
        return None

    def check_binding(self, job: J.Job) -> Evaluation:
        """The evaluation of a committee job, refused (NotAllowed) when it is not registered or does
        not bind (`binding_problem`): what a freelancer checks before delivering work to be judged."""
        try:
            evaluation = self.get(job.job_id)
        except NotFound:
            raise NotAllowed(
                f"job {job.job_id} is judged by the oracle committee but its evaluation is not registered "
                f"yet, so how the work will be scored cannot be checked (its client runs `proofwork eval "
                f"register {job.job_id}`)"
            ) from None
        problem = self.binding_problem(job, evaluation)
        if problem is not None:
            raise NotAllowed(problem + ": not delivering work to be judged by it")
        return evaluation

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
        if any(
            m.status < J.MilestoneStatus.PAID and m.status != J.MilestoneStatus.DISPUTED
            for m in job.milestones
        ):
            raise NotAllowed(
                f"job {job_id} still has milestones that can be submitted: labels are revealed once every "
                "milestone is settled or disputed"
            )
        if labels_commitment(hidden.cid_bytes, hidden.salt, evaluation.spec_digest) != evaluation.commitment:
            raise InvalidInput("these labels and salt do not match the job's commitment")
        if self.ws.store.add_bytes(hidden.labels) != hidden.labels_cid:
            raise ArtifactCorrupted("the store gave the labels another CID than the one committed")
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
        if labels_commitment(cid_to_bytes(labels_cid), salt, evaluation.spec_digest) != evaluation.commitment:
            raise InvalidInput(f"the revealed labels of job {job_id} do not match its commitment")
        if evaluation.hash != self.jobs.get(job_id).spec_hash:
            raise InvalidInput(f"the evaluation of job {job_id} does not hash to the job's spec hash")
        spec, _ = self.files.spec_by_hash(evaluation.spec_digest)
        labels = self.files.fetch(labels_cid, MAX_LABELS_BYTES)
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

    def rescore(self, job_id: int, milestone: int) -> tuple[int | None, str | None]:
        """A milestone's current deliverable scored again from public artifacts (the spec, the
        deliverable, the revealed labels), as every oracle scored it: (score, None), or (None, why not).
        What a juror of a disputed score checks."""
        if self.evaluator is None:
            raise InvalidInput("re-scoring needs an evaluator (a sandbox)")
        evaluation = self.get(job_id)
        if evaluation.revealed is None:
            return None, "the labels are not revealed yet (the client or an oracle reveals them)"
        labels_cid, salt = evaluation.revealed
        if labels_commitment(cid_to_bytes(labels_cid), salt, evaluation.spec_digest) != evaluation.commitment:
            return None, "the revealed labels do not match the job's commitment"
        deliverable = self.jobs.get(job_id).milestones[milestone].deliverable
        if deliverable == J.ZERO_HASH:
            return None, "the milestone has no deliverable"
        spec, _ = self.files.spec_by_hash(evaluation.spec_digest)
        labels = self.files.fetch(labels_cid, MAX_LABELS_BYTES)
        result = self.score(spec, deliverable, labels)
        if not result.ok:
            return unscorable(evaluation.higher_is_better), result.reason
        return result.score, None

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
        features = self.files.fetch(spec.data.test_features, MAX_LABELS_BYTES)
        try:
            submission = self.files.fetch_by_digest(deliverable, spec.limits.max_submission_mb << 20)
        except (NotFound, InvalidInput, ArtifactCorrupted) as exc:
            return EvalResult(ok=False, score=None, reason=str(exc), passed=None)
        result = self.evaluator.evaluate(spec, submission, features, labels)
        if result.ok and result.score is not None and on_chain(result.score) != result.score:
            return replace(result, score=on_chain(result.score))
        return result


def _read(path: Path, limit: int, what: str) -> bytes:
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"no such {what} file: {path}")
    if path.stat().st_size > limit:
        raise InvalidInput(f"the {what} file {path} is over {limit} bytes")
    return path.read_bytes()


@dataclass(frozen=True)
class HiddenTask:
    """A task ready to post: its spec stored, its labels salted, committed to and sealable."""

    spec: EvalSpec
    spec_hash: bytes  # sha256 digest of the spec's CID
    hidden: HiddenLabels
    commitment: bytes  # keccak256(abi_encode(labels CID, salt, spec hash))
    recipients: list[Recipient]  # every oracle's published key


def prepare_hidden_task(ws: Workspace, files: TaskFiles, spec_path: Path, labels_path: Path) -> HiddenTask:
    """What evaluated jobs and competitions share before anything goes on chain: the spec read
    and stored, its public data present, the labels checked against the test features, a fresh
    salt and the commitment, and the committee's keys to seal to."""
    spec_bytes = _read(spec_path, MAX_SPEC_BYTES, "spec")
    spec = parse_spec(spec_bytes)
    for what, cid in (("train set", spec.data.train), ("test features", spec.data.test_features)):
        if cid and not ws.store.has(cid):
            raise NotFound(f"the spec's {what} {cid} is not in the artifact store: `proofwork store add` it")
    labels = _read(labels_path, MAX_LABELS_BYTES, "labels")
    check_labels(files, spec, Path(labels_path))
    recipients = committee_recipients(ws.committee)
    spec_hash = cid_digest(ws.store.add_bytes(spec_bytes))
    hidden = HiddenLabels(labels, cid_of_bytes(labels), secrets.token_bytes(32))
    commitment = labels_commitment(hidden.cid_bytes, hidden.salt, spec_hash)
    return HiddenTask(spec, spec_hash, hidden, commitment, recipients)


def check_labels(files: TaskFiles, spec: EvalSpec, labels: Path) -> None:
    """The labels must hold the spec's label column, one row per test-features row: a typo here
    would make every oracle abstain, and the freelancer would then be paid unjudged."""
    features = files.fetch(spec.data.test_features, MAX_LABELS_BYTES)
    labels_rows, feature_rows = task_rows(spec, labels, features)
    if labels_rows != feature_rows:
        raise InvalidInput(
            f"the labels file has {labels_rows} rows but the test features have {feature_rows}"
        )


def check_review_period(review_period: int, challenge_window: int) -> None:
    """A committee job's review window must outlast three challenge windows (the committee refuses to
    register it otherwise) and leave `SETTLEMENT_MARGIN` more."""
    needed = REVIEW_WINDOWS * challenge_window + SETTLEMENT_MARGIN
    if review_period < needed:
        raise InvalidInput(
            f"the review window must be at least {needed} s: longer than three of the committee's challenge "
            f"windows ({challenge_window} s each: disputes, the designated oracles' turn to settle, any "
            f"quorum's turn) plus {SETTLEMENT_MARGIN} s, or a freelancer could claim before the oracles settle"
        )


@dataclass(frozen=True)
class EvaluationParams:
    """A committee job's evaluation before it is on chain: what its spec hash is the hash of."""

    spec_digest: bytes
    commitment: bytes
    threshold: int
    higher_is_better: bool
    tolerance: int

    @property
    def hash(self) -> bytes:
        return evaluation_hash(
            self.spec_digest, self.commitment, self.threshold, self.higher_is_better, self.tolerance
        )

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "version": 1,
                "spec_digest": self.spec_digest.hex(),
                "commitment": self.commitment.hex(),
                "threshold": self.threshold,
                "higher_is_better": self.higher_is_better,
                "tolerance": self.tolerance,
            }
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> EvaluationParams:
        try:
            obj = safe_json_loads(data, max_bytes=1 << 16, max_depth=2)
            params = cls(
                bytes.fromhex(obj["spec_digest"]),
                bytes.fromhex(obj["commitment"]),
                int(obj["threshold"]),
                bool(obj["higher_is_better"]),
                int(obj["tolerance"]),
            )
        except (InvalidInput, ValueError, KeyError, TypeError) as exc:
            raise ArtifactCorrupted("the kept evaluation is not a proofwork evaluation document") from exc
        if len(params.spec_digest) != 32 or len(params.commitment) != 32:
            raise ArtifactCorrupted("the kept evaluation has a digest that is not 32 bytes")
        return params


def evaluation_json(e: Evaluation, binding_problem: str | None = None) -> dict[str, Any]:
    return {
        "job_id": e.job_id,
        "spec_hash": "0x" + e.spec_hash.hex(),
        "spec_digest": "0x" + e.spec_digest.hex(),
        "binds": binding_problem is None,
        "binding_problem": binding_problem,
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
