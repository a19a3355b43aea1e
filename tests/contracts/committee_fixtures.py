"""Helpers for the OracleCommittee tests: oracle keys, EIP-712 score reports, and a
driver that runs a committee settlement against the escrow harness's reference model.

`CommitteeDriver.settle` (and `settle_posted`) predict the escrow side of a successful
settlement with the model's own `resolve` (the committee is the job's arbiter), run the
call, and compare the escrow's events, the token transfers and the stored job hash,
exactly as `EscrowHarness` does for direct calls; the committee's own events are
compared with the Python median rule (`expected_outcome`).

A committee job commits to its evaluation through its spec_hash (`evaluation_hash`):
`CommitteeDriver.job` takes the evaluation and creates the job with that hash; `register`
then registers it. Reports of a round settle first from its designated quorum
(`designated`): `honest(scores)` hands the scores to those oracles.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import boa
import eth_abi
from escrow_harness import DAY, OK, SPEC, EscrowHarness, addr, chain_id, now
from escrow_model import norm
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_keys import keys
from eth_utils import keccak, to_checksum_address

COMMITTEE_PATH = Path(__file__).resolve().parents[2] / "contracts" / "evaluation" / "OracleCommittee.vy"

DOMAIN_NAME = "proofwork OracleCommittee"
DOMAIN_VERSION = "1"
REPORT_TYPE = (
    "ScoreReport(uint256 jobId,uint256 milestone,bytes32 deliverable,uint256 round,"
    "int256 score,bytes32 specHash,bytes32 commitment)"
)
REPORT_FIELDS = [
    {"name": "jobId", "type": "uint256"},
    {"name": "milestone", "type": "uint256"},
    {"name": "deliverable", "type": "bytes32"},
    {"name": "round", "type": "uint256"},
    {"name": "score", "type": "int256"},
    {"name": "specHash", "type": "bytes32"},
    {"name": "commitment", "type": "bytes32"},
]
_DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]

WINDOW = 3_600  # challenge window of the test committees (the escrow jobs' review period is a day)
SCALE = 10**6  # fixed point: 1e6 = 1.0
PASS = 700_000  # default pass score 0.70
TOLERANCE = 20_000  # 0.02
LABELS_CID = bytes.fromhex("01551220") + keccak(b"hidden test labels")  # CIDv1, raw, sha2-256
SEALED_CID = bytes.fromhex("01551220") + keccak(b"labels sealed to the oracles")
SALT = keccak(b"labels salt")
DISPUTE_PERIOD = 14 * DAY  # OracleCommittee.DISPUTE_PERIOD
VERDICT_GRACE = 7 * DAY  # OracleCommittee.VERDICT_GRACE
EVALUATION_TYPE = (
    "Evaluation(bytes32 specDigest,bytes32 commitment,int256 threshold,bool higherIsBetter,uint256 tolerance)"
)
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


# titanoboa keeps a per-address trace of storage writes across test modules and uses it to
# print a contract's storage when a call reverts. A contract deployed at an address where
# another module's contract (with another storage layout) lived before makes that printout
# crash. Committees are therefore deployed from an account of their own: their addresses
# are used by nothing else.
NO_COURT = "0x" + "00" * 20  # a committee without a court adapter: disputes end by its verdict
COMMITTEE_DEPLOYER = to_checksum_address(keccak(b"proofwork committee deployer")[12:])


class CommitteeDeployer:
    """`boa.load_partial(OracleCommittee.vy)` that deploys from COMMITTEE_DEPLOYER."""

    def __init__(self, path: Path = COMMITTEE_PATH) -> None:
        self.partial = boa.load_partial(str(path))

    def deploy(self, escrow, oracles, f: int, challenge_window: int, court: str = NO_COURT):
        with boa.env.prank(COMMITTEE_DEPLOYER):
            return self.partial.deploy(escrow, oracles, f, challenge_window, court)


def oracle_accounts(count: int, label: str = "oracle") -> list:
    """`count` deterministic accounts, sorted by address (the order signatures must follow)."""
    accounts = [Account.from_key(keccak(text=f"proofwork test {label} {i}")) for i in range(count)]
    return sorted(accounts, key=lambda a: int(a.address, 16))


def public_key_of(account) -> bytes:
    """64-byte uncompressed secp256k1 public key (no 0x04 prefix)."""
    return keys.PrivateKey(bytes(account.key)).public_key.to_bytes()


def commitment_of(labels_cid: bytes, salt: bytes, spec_digest: bytes) -> bytes:
    return keccak(eth_abi.encode(["bytes", "bytes32", "bytes32"], [labels_cid, salt, spec_digest]))


def evaluation_hash(
    spec_digest: bytes, commitment: bytes, threshold: int, higher_is_better: bool, tolerance: int
) -> bytes:
    """A committee job's spec_hash: EIP-712 hashStruct of its Evaluation, by hand."""
    return keccak(
        eth_abi.encode(
            ["bytes32", "bytes32", "bytes32", "int256", "bool", "uint256"],
            [
                keccak(EVALUATION_TYPE.encode()),
                spec_digest,
                commitment,
                threshold,
                higher_is_better,
                tolerance,
            ],
        )
    )


def designated_indexes(job_id: int, milestone: int, round_: int, n: int, quorum: int) -> list[int]:
    """Oracle indexes (ascending address order) of a round's designated quorum."""
    start = int.from_bytes(keccak(eth_abi.encode(["uint256"] * 3, [job_id, milestone, round_])), "big") % n
    return sorted((start + k) % n for k in range(quorum))


class Honest(list):
    """Scores for `CommitteeDriver.sign` to hand to a round's designated quorum (if there
    are as many as the quorum), else to the first oracles."""


def py_median(scores: list[int]) -> int:
    """The OCR2 median: the element at len // 2 of the sorted scores."""
    return sorted(scores)[len(scores) // 2]


def expected_outcome(scores: list[int], threshold: int, higher_is_better: bool) -> tuple[int, bool]:
    median = py_median(scores)
    return median, (median >= threshold if higher_is_better else median <= threshold)


def report_message(
    committee,
    job_id: int,
    milestone: int,
    deliverable: bytes,
    round_: int,
    score: int,
    spec_hash: bytes,
    commitment: bytes,
    *,
    chain: int | None = None,
    verifying: str | None = None,
    name: str = DOMAIN_NAME,
) -> dict:
    return {
        "types": {"EIP712Domain": _DOMAIN_FIELDS, "ScoreReport": REPORT_FIELDS},
        "primaryType": "ScoreReport",
        "domain": {
            "name": name,
            "version": DOMAIN_VERSION,
            "chainId": chain_id() if chain is None else chain,
            "verifyingContract": str(committee.address) if verifying is None else str(verifying),
        },
        "message": {
            "jobId": job_id,
            "milestone": milestone,
            "deliverable": deliverable,
            "round": round_,
            "score": score,
            "specHash": spec_hash,
            "commitment": commitment,
        },
    }


def sign_report(account, message: dict) -> bytes:
    return bytes(account.sign_message(encode_typed_data(full_message=message)).signature)


def report_digest_by_hand(
    committee, job_id, milestone, deliverable, round_, score, spec_hash, commitment
) -> bytes:
    """The EIP-712 digest built from first principles (no eth_account), to cross-check both."""
    domain_type = keccak(
        b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    )
    domain = keccak(
        eth_abi.encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [domain_type, keccak(DOMAIN_NAME.encode()), keccak(b"1"), chain_id(), str(committee.address)],
        )
    )
    struct = keccak(
        eth_abi.encode(
            ["bytes32", "uint256", "uint256", "bytes32", "uint256", "int256", "bytes32", "bytes32"],
            [
                keccak(REPORT_TYPE.encode()),
                job_id,
                milestone,
                deliverable,
                round_,
                score,
                spec_hash,
                commitment,
            ],
        )
    )
    return keccak(b"\x19\x01" + domain + struct)


def committee_events(committee, logs) -> list[tuple[str, dict]]:
    """The committee's events among `logs`, as (name, normalised fields)."""
    own = norm(str(committee.address))
    out = []
    for log in logs:
        if norm(str(log.address)) != own:
            continue
        fields = log._asdict()
        fields.pop("address")
        out.append((type(log).__name__, {k: norm(v) for k, v in fields.items()}))
    return out


@dataclass
class Settled:
    median: int
    passed: bool
    outliers: list[str]  # lower-case addresses of the signers recorded as outliers
    events: list[tuple[str, dict]]  # the committee's events


class CommitteeDriver:
    """Jobs judged by `committee`, driven through the escrow harness `h`."""

    def __init__(self, h: EscrowHarness, committee, oracles: list, relayer) -> None:
        self.h = h
        self.committee = committee
        self.oracles = oracles
        self.relayer = addr(relayer)
        self.config: dict[int, dict] = {}  # job id -> registered evaluation
        self.evaluations: dict[int, dict] = {}  # job id -> the evaluation its spec_hash commits to
        self.posted_scores: dict[tuple[int, int, str], int] = {}  # (job, milestone, oracle) -> stored score

    # ------------------------------------------------------------- set-up

    def job(
        self,
        client,
        freelancer,
        amounts,
        *,
        threshold: int = PASS,
        higher_is_better: bool = True,
        tolerance: int = TOLERANCE,
        labels_cid: bytes = LABELS_CID,
        salt: bytes = SALT,
        spec_digest: bytes = SPEC,
        **kw,
    ) -> int:
        """A job judged by the committee whose spec_hash commits to the given evaluation
        (unless `spec_hash` is given)."""
        kw.setdefault("arbiter", self.committee)
        commitment = commitment_of(labels_cid, salt, spec_digest)
        kw.setdefault(
            "spec_hash", evaluation_hash(spec_digest, commitment, threshold, higher_is_better, tolerance)
        )
        job_id = self.h.create_job(client, amounts, freelancer=freelancer, expect=OK, **kw)
        self.evaluations[job_id] = {
            "spec_digest": spec_digest,
            "commitment": commitment,
            "threshold": threshold,
            "higher_is_better": higher_is_better,
            "tolerance": tolerance,
            "labels_cid": labels_cid,
            "salt": salt,
        }
        return job_id

    def register(self, job_id: int, *, sender=None, state=None, expect=OK, **overrides) -> bytes:
        """Registers the evaluation the job was created with (fields may be overridden)."""
        job = self.h.job(job_id) if job_id in self.h.model.jobs else None
        ev = dict(self.evaluations.get(job_id) or next(iter(self.evaluations.values())))
        ev.update(overrides)
        sender = addr(job.client) if sender is None else addr(sender)
        st = self.h.state(job_id) if state is None else state
        args = (
            job_id,
            st,
            ev["spec_digest"],
            ev["commitment"],
            ev["threshold"],
            ev["higher_is_better"],
            ev["tolerance"],
            SEALED_CID,
        )
        if expect is not OK:
            with boa.reverts(expect):
                self.committee.register(*args, sender=sender)
            return ev["commitment"]
        self.committee.register(*args, sender=sender)
        self.config[job_id] = ev
        return ev["commitment"]

    def submit(self, job_id: int, i: int = 0, deliverable: bytes | None = None) -> bytes:
        return self.h.submit(self.h.job(job_id).freelancer, job_id, i, deliverable, expect=OK)

    def past_window(self, job_id: int, i: int = 0) -> None:
        """To the first second the milestone may be settled (its challenge window, or for a
        disputed one the dispute period, is over)."""
        m = self.h.job(job_id).milestones[i]
        due = m.timestamp + (DISPUTE_PERIOD if m.status == 2 else WINDOW) + 1
        if now() < due:
            boa.env.time_travel(seconds=due - now())

    def late(self, job_id: int, i: int = 0) -> None:
        """Past the designated quorum's period: any quorum may settle."""
        m = self.h.job(job_id).milestones[i]
        due = m.timestamp + (DISPUTE_PERIOD if m.status == 2 else WINDOW) + WINDOW + 1
        if now() < due:
            boa.env.time_travel(seconds=due - now())

    def designated(self, job_id: int, i: int = 0, round_: int | None = None) -> list:
        """The round's designated quorum (oracle accounts, ascending)."""
        if round_ is None:
            round_ = self.h.job(job_id).milestones[i].revisions
        quorum = self.committee.threshold()
        return [self.oracles[k] for k in designated_indexes(job_id, i, round_, len(self.oracles), quorum)]

    def submitted(self, client, freelancer, amounts=(1_000 * SCALE,), **eval_kw) -> int:
        """A job judged by the committee, evaluation registered, milestone 0 submitted, window over."""
        job_id = self.job(client, freelancer, list(amounts), **eval_kw)
        self.register(job_id)
        self.submit(job_id, 0)
        self.past_window(job_id, 0)
        return job_id

    # ------------------------------------------------------------- reports

    def sign(
        self,
        job_id: int,
        i: int,
        signed: list[tuple[object, int]],
        *,
        round_: int | None = None,
        deliverable: bytes | None = None,
        **domain_kw,
    ) -> tuple[list[int], list[bytes]]:
        """Scores and signatures of (oracle account, score) pairs, in the given order."""
        job = self.h.job(job_id)
        m = job.milestones[i]
        round_ = m.revisions if round_ is None else round_
        deliverable = m.deliverable if deliverable is None else deliverable
        commitment = self.config[job_id]["commitment"]
        signed = self.resolve_signed(job_id, i, signed, round_)
        scores, sigs = [], []
        for oracle, score in signed:
            message = report_message(
                self.committee, job_id, i, deliverable, round_, score, job.spec_hash, commitment, **domain_kw
            )
            scores.append(score)
            sigs.append(sign_report(oracle, message))
        return scores, sigs

    def honest(self, scores: list[int]) -> Honest:
        """`scores` reported by the round's designated quorum (in ascending order) if there
        are as many scores as the quorum, else by the first len(scores) oracles."""
        return Honest(scores)

    def resolve_signed(self, job_id: int, i: int, signed, round_: int | None = None) -> list:
        """(oracle, score) pairs of `signed`, handing `Honest` scores to their oracles."""
        if not isinstance(signed, Honest):
            return list(signed)
        quorum = self.committee.threshold()
        known = job_id in self.h.model.jobs and i < len(self.h.job(job_id).milestones)
        if len(signed) == quorum and known:
            return list(zip(self.designated(job_id, i, round_), signed, strict=True))
        return list(zip(self.oracles, signed, strict=False))

    # ------------------------------------------------------------- settlement

    def settle(
        self,
        job_id: int,
        i: int,
        signed: list[tuple[object, int]] | None = None,
        *,
        scores: list[int] | None = None,
        sigs: list[bytes] | None = None,
        round_: int | None = None,
        state=None,
        expect=OK,
    ) -> Settled | None:
        """`committee.settle` with reports from `signed` (or raw `scores` + `sigs`)."""
        if round_ is None:
            known = job_id in self.h.model.jobs and i < len(self.h.job(job_id).milestones)
            round_ = self.h.job(job_id).milestones[i].revisions if known else 0
        if sigs is None:
            assert signed is not None
            signed = self.resolve_signed(job_id, i, signed, round_)
            scores, sigs = self.sign(job_id, i, signed, round_=round_)
        assert scores is not None
        st = self.h.state(job_id) if state is None else state

        def call():
            return self.committee.settle(job_id, st, i, round_, scores, sigs, sender=self.relayer)

        if expect is not OK:
            before = self.h.escrow.job_state(job_id)
            with boa.reverts(expect):
                call()
            assert self.h.escrow.job_state(job_id) == before
            return None
        signers = [o.address for o, _ in signed] if signed is not None else None
        return self._resolved(job_id, i, round_, scores, signers, call)

    def post(
        self, job_id: int, i: int, oracle, score: int, *, round_=None, deliverable=None, expect=OK, **kw
    ):
        m = self.h.job(job_id).milestones[i]
        round_ = m.revisions if round_ is None else round_
        deliverable = m.deliverable if deliverable is None else deliverable
        _, sigs = self.sign(job_id, i, [(oracle, score)], round_=round_, deliverable=deliverable, **kw)
        args = (job_id, i, round_, deliverable, score, sigs[0])
        if expect is not OK:
            with boa.reverts(expect):
                self.committee.post_report(*args, sender=self.relayer)
            return
        self.committee.post_report(*args, sender=self.relayer)
        if round_ == m.revisions and deliverable == m.deliverable:
            self.posted_scores[(job_id, i, oracle.address)] = score
        assert committee_events(self.committee, self.committee.get_logs()) == [
            (
                "ReportPosted",
                {
                    "job_id": job_id,
                    "milestone": i,
                    "oracle": norm(oracle.address),
                    "round": round_,
                    "deliverable": deliverable,
                    "score": score,
                },
            )
        ]

    def settle_posted(self, job_id: int, i: int, *, state=None, expect=OK) -> Settled | None:
        st = self.h.state(job_id) if state is None else state
        m = self.h.job(job_id).milestones[i]

        def call():
            return self.committee.settle_posted(job_id, st, i, sender=self.relayer)

        if expect is not OK:
            before = self.h.escrow.job_state(job_id)
            with boa.reverts(expect):
                call()
            assert self.h.escrow.job_state(job_id) == before
            return None
        mask = self.committee.posted_reports(job_id, i, m.revisions, m.deliverable)
        signers = [o.address for k, o in enumerate(self.oracles) if mask >> k & 1]
        scores = [self.posted_scores[(job_id, i, o.address)] for o in self.oracles if o.address in signers]
        settled = self._resolved(job_id, i, m.revisions, scores, signers, call)
        assert self.committee.posted_reports(job_id, i, m.revisions, m.deliverable) == 0
        return settled

    def release_opens(self, job_id: int, i: int = 0) -> int:
        """Last second before `release_unjudged` may release a disputed milestone."""
        return self.h.job(job_id).milestones[i].timestamp + DISPUTE_PERIOD + WINDOW + VERDICT_GRACE

    def release_unjudged(self, job_id: int, i: int = 0, *, sender=None, expect=OK) -> None:
        """`committee.release_unjudged`, the escrow side checked against the model (the whole
        milestone to the freelancer, through the escrow's `resolve`)."""
        sender = self.relayer if sender is None else addr(sender)
        st = self.h.state(job_id)

        def call():
            return self.committee.release_unjudged(job_id, st, i, sender=sender)

        if expect is not OK:
            before = self.h.escrow.job_state(job_id)
            with boa.reverts(expect):
                call()
            assert self.h.escrow.job_state(job_id) == before
            return
        m = self.h.job(job_id).milestones[i]
        trial = self.h.model.clone()
        outcome = trial.resolve(str(self.committee.address), job_id, None, i, m.amount)
        call()
        logs = self.committee.get_logs()
        self.h._check_logs("release_unjudged", logs, outcome, job_id, None)
        self.h.model = trial
        self.h.check_job(job_id)
        assert committee_events(self.committee, logs) == [
            ("UnjudgedReleased", {"job_id": job_id, "milestone": i, "round": m.revisions})
        ]

    def record_signers(self, job_id: int, i: int, signed, *, expect=OK) -> None:
        """`committee.record_signers` with reports of (oracle, score) pairs; on success the
        signers become the round's canonical signers."""
        scores, sigs = self.sign(job_id, i, signed)
        st = self.h.state(job_id)

        def call():
            return self.committee.record_signers(job_id, st, i, scores, sigs, sender=self.relayer)

        if expect is not OK:
            with boa.reverts(expect):
                call()
            return
        call()
        m = self.h.job(job_id).milestones[i]
        signers = [o.address for o, _ in signed]
        assert committee_events(self.committee, self.committee.get_logs()) == [
            (
                "SignersRecorded",
                {
                    "job_id": job_id,
                    "milestone": i,
                    "round": m.revisions,
                    "signers": [norm(x) for x in signers],
                },
            )
        ]
        assert self.committee.canonical_signers(job_id, i, m.revisions, m.deliverable) == signers

    def _resolved(self, job_id, i, round_, scores, signers, call) -> Settled:
        h = self.h
        cfg = self.config[job_id]
        median, passed = expected_outcome(scores, cfg["threshold"], cfg["higher_is_better"])
        held = h.job(job_id).milestones[i].amount
        trial = h.model.clone()
        outcome = trial.resolve(str(self.committee.address), job_id, None, i, held if passed else 0)
        before = {s: self.committee.outlier_reports(s) for s in signers} if signers else {}
        call()
        logs = self.committee.get_logs()
        h._check_logs("settle", logs, outcome, job_id, None)
        h.model = trial
        h.check_job(job_id)
        events = committee_events(self.committee, logs)
        settled = events[-1]
        assert settled[0] == "ScoreSettled"
        fields = settled[1]
        assert fields["job_id"] == job_id and fields["milestone"] == i and fields["round"] == round_
        assert fields["median"] == median and fields["passed"] == passed
        if signers is not None:
            assert fields["signers"] == [norm(s) for s in signers]
        outliers = []
        expected_events = []
        for signer, score in zip(fields["signers"], scores, strict=True):
            if abs(score - median) > cfg["tolerance"]:
                outliers.append(signer)
                expected_events.append(
                    (
                        "OutlierReported",
                        {
                            "job_id": job_id,
                            "milestone": i,
                            "oracle": signer,
                            "score": score,
                            "median": median,
                        },
                    )
                )
        assert events[:-1] == expected_events
        for s in before:
            assert self.committee.outlier_reports(s) == before[s] + (1 if norm(s) in outliers else 0)
        return Settled(median, passed, outliers, events)


__all__ = [
    "COMMITTEE_PATH",
    "DAY",
    "DISPUTE_PERIOD",
    "LABELS_CID",
    "PASS",
    "REPORT_TYPE",
    "SALT",
    "SCALE",
    "SEALED_CID",
    "SECP256K1_N",
    "TOLERANCE",
    "VERDICT_GRACE",
    "WINDOW",
    "CommitteeDeployer",
    "CommitteeDriver",
    "Honest",
    "Settled",
    "commitment_of",
    "committee_events",
    "designated_indexes",
    "evaluation_hash",
    "expected_outcome",
    "oracle_accounts",
    "public_key_of",
    "py_median",
    "report_digest_by_hand",
    "report_message",
    "sign_report",
]
