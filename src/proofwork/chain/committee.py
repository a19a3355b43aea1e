"""`OracleCommittee`'s handle: the arbiter of evaluated jobs (signed score reports, settlement, reveal)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from web3 import Web3

from proofwork.chain.artifacts import Artifact
from proofwork.chain.client import Chain
from proofwork.chain.encoding import job_tuple
from proofwork.chain.events import ContractHandle, check_id
from proofwork.chain.receipts import Receipt
from proofwork.domain import job as J
from proofwork.domain.errors import NotAllowed, ProofworkError

if TYPE_CHECKING:
    from proofwork.chain.unsigned import UnsignedTx

COMMITTEE_EIP712 = ("proofwork OracleCommittee", "1")
# `register`'s arguments after the job: spec digest, labels commitment, threshold, higher is better,
# tolerance, sealed labels' CID bytes
Registration = tuple[bytes, bytes, int, bool, int, bytes]

SCORE_REPORT_FIELDS = [
    {"name": "jobId", "type": "uint256"},
    {"name": "milestone", "type": "uint256"},
    {"name": "deliverable", "type": "bytes32"},
    {"name": "round", "type": "uint256"},
    {"name": "score", "type": "int256"},
    {"name": "specHash", "type": "bytes32"},
    {"name": "commitment", "type": "bytes32"},
]


@dataclass(frozen=True)
class Settlement:
    """A committee settlement as the chain recorded it, with the signed reports it was made from."""

    job_id: int
    milestone: int
    round: int
    median: int
    passed: bool
    signers: list[str]
    scores: list[int]  # in `signers` order (from `settle`, or from each `post_report` relay)
    signatures: list[bytes]
    tx_hash: str


@dataclass(frozen=True)
class RegisteredEvaluation:
    """A job's evaluation as the committee stores it (`OracleCommittee.evaluation`)."""

    commitment: bytes
    spec_hash: bytes  # the job's spec_hash: the evaluation's hash
    spec_digest: bytes  # sha256 digest of the spec file's CID
    threshold: int
    higher_is_better: bool
    tolerance: int


class CommitteeContract(ContractHandle):
    """`OracleCommittee`: holds the committee, checks signed score reports, releases or refunds."""

    def __init__(self, chain: Chain, artifact: Artifact, address: str, deploy_block: int = 0) -> None:
        super().__init__(chain, artifact, address, deploy_block)
        self._static: dict[str, Any] = {}
        self._functions = {item["name"] for item in artifact.abi if item.get("type") == "function"}

    def has(self, function: str) -> bool:
        """Whether the deployed committee has `function` (one deployed by an older proofwork may not)."""
        return function in self._functions

    def _needs(self, function: str) -> None:
        if not self.has(function):
            raise NotAllowed(
                f"the committee at {self.address} predates `{function}` (deployed by an older proofwork); "
                "deploy the current contracts for new jobs"
            )

    def _cached(self, name: str) -> Any:
        if name not in self._static:
            self._static[name] = self.chain.call(getattr(self.contract.functions, name)())
        return self._static[name]

    # --- reads ---------------------------------------------------------------------------------

    @property
    def oracles(self) -> list[str]:
        if "oracles" not in self._static:
            count = int(self._cached("oracle_count"))
            self._static["oracles"] = [
                str(self.chain.call(self.contract.functions.oracles(i))) for i in range(count)
            ]
        return list(self._static["oracles"])

    @property
    def threshold(self) -> int:
        return int(self._cached("threshold"))

    @property
    def f(self) -> int:
        return int(self._cached("f"))

    @property
    def challenge_window(self) -> int:
        return int(self._cached("challenge_window"))

    @property
    def escrow(self) -> str:
        return str(self._cached("escrow"))

    @property
    def court(self) -> str:
        """The court adapter this committee hands disputed milestones to; the zero address when it has
        none (or predates courts): its disputes then end by its own verdict."""
        if not self.has("court"):
            return J.ZERO_ADDRESS
        return str(self._cached("court"))

    def public_key(self, oracle: str) -> bytes:
        return bytes(self.chain.call(self.contract.functions.public_keys(Web3.to_checksum_address(oracle))))

    def endpoint(self, oracle: str) -> str:
        return str(self.chain.call(self.contract.functions.endpoints(Web3.to_checksum_address(oracle))))

    def outlier_reports(self, oracle: str) -> int:
        return int(self.chain.call(self.contract.functions.outlier_reports(Web3.to_checksum_address(oracle))))

    def revealed_labels(self, job_id: int) -> bytes:
        """The labels CID revealed for a job (empty until revealed)."""
        return bytes(self.chain.call(self.contract.functions.revealed_labels(check_id(job_id, "job id"))))

    def evaluation(self, job_id: int) -> RegisteredEvaluation | None:
        """The evaluation registered for a job (the contract's storage), None when none is."""
        raw = self.chain.call(self.contract.functions.evaluation(check_id(job_id, "job id")))
        if bytes(raw[0]) == J.ZERO_HASH:
            return None
        return RegisteredEvaluation(
            bytes(raw[0]), bytes(raw[1]), bytes(raw[2]), int(raw[3]), bool(raw[4]), int(raw[5])
        )

    def evaluation_hash(
        self, spec_digest: bytes, commitment: bytes, threshold: int, higher_is_better: bool, tolerance: int
    ) -> bytes:
        """The contract's own `evaluation_hash` (the off-chain one is `encoding.evaluation_hash`)."""
        fn = self.contract.functions.evaluation_hash(
            spec_digest, commitment, threshold, higher_is_better, tolerance
        )
        return bytes(self.chain.call(fn))

    def canonical_signers(self, job_id: int, milestone: int, round_: int, deliverable: bytes) -> list[str]:
        """The oracles whose reports are a round's canonical result (ascending): its designated
        quorum, or the signers recorded by a settlement made after the designated period (or by
        `record_signers` for a round paid without a settlement)."""
        fn = self.contract.functions.canonical_signers(
            check_id(job_id, "job id"),
            check_id(milestone, "milestone"),
            check_id(round_, "round"),
            deliverable,
        )
        return [str(a) for a in self.chain.call(fn)]

    def posted_reports(self, job_id: int, milestone: int, round_: int, deliverable: bytes) -> int:
        """Bitmap of the oracles (bit i: `oracles[i]`) with a posted report for this round and deliverable."""
        fn = self.contract.functions.posted_reports(
            check_id(job_id, "job id"),
            check_id(milestone, "milestone"),
            check_id(round_, "round"),
            deliverable,
        )
        return int(self.chain.call(fn))

    def settlement(self, job_id: int, milestone: int, deliverable: bytes | None = None) -> Settlement | None:
        """The latest settlement of a milestone, signatures included, read back from the settling
        transaction's calldata (or, after `settle_posted`, from each `post_report` relay), so anyone
        can re-check or re-use them (the job attester does); None when this committee never settled
        the milestone. Calls made through another contract (a multisig, a forwarder) leave no
        decodable calldata: the settlement then comes back without its reports."""
        settled = [e for e in self.events("ScoreSettled", subject=job_id) if e.args["milestone"] == milestone]
        if not settled:
            return None
        event = settled[-1]
        signers = [str(s) for s in event.args["signers"]]
        scores: list[int] = []
        signatures: list[bytes] = []
        call = self._decoded_call(event.tx_hash)
        if call is not None and call[0] == "settle":
            scores = [int(s) for s in call[1]["scores"]]
            signatures = [bytes(s) for s in call[1]["signatures"]]
        elif call is not None and call[0] == "settle_posted":
            posted: dict[str, tuple[int, bytes]] = {}
            for report in self.events("ReportPosted", subject=job_id):
                args = report.args
                if args["milestone"] != milestone or args["round"] != event.args["round"]:
                    continue
                if deliverable is not None and bytes(args["deliverable"]) != deliverable:
                    continue
                relayed = self._decoded_call(report.tx_hash)
                if relayed is None or relayed[0] != "post_report":
                    continue
                # the first relay of an oracle's report is the one settled (reposts come after)
                posted.setdefault(
                    str(args["oracle"]).lower(), (int(relayed[1]["score"]), bytes(relayed[1]["signature"]))
                )
            if all(s.lower() in posted for s in signers):
                scores = [posted[s.lower()][0] for s in signers]
                signatures = [posted[s.lower()][1] for s in signers]
        return Settlement(
            job_id,
            milestone,
            int(event.args["round"]),
            int(event.args["median"]),
            bool(event.args["passed"]),
            signers,
            scores,
            signatures,
            event.tx_hash,
        )

    def _decoded_call(self, tx_hash: str) -> tuple[str, dict[str, Any]] | None:
        """(function name, arguments) of a transaction sent straight to this contract, else None."""
        try:
            fn, args = self.contract.decode_function_input(self.chain.transaction_input(tx_hash))
        except ProofworkError:
            raise
        except Exception:  # a call through another contract: not this contract's calldata
            return None
        return str(fn.fn_name), dict(args)

    # --- writes --------------------------------------------------------------------------------

    def register_oracle(self, key: bytes, public_key: bytes, endpoint: str) -> Receipt:
        return self.chain.transact(key, self.contract.functions.register_oracle(public_key, endpoint))

    def register(
        self,
        key: bytes,
        job: J.Job,
        spec_digest: bytes,
        commitment: bytes,
        threshold: int,
        higher_is_better: bool,
        tolerance: int,
        sealed_labels: bytes,
    ) -> Receipt:
        """Registers the job's evaluation; the contract accepts only the one whose
        `evaluation_hash` is the job's spec_hash."""
        args = (spec_digest, commitment, threshold, higher_is_better, tolerance, sealed_labels)
        return self.chain.transact(key, self._register_fn(job, *args))

    def prepare_register(self, sender: str, job: J.Job, evaluation: Registration) -> UnsignedTx:
        """`register` unsigned, for `sender`'s wallet; `evaluation`: the arguments after the job."""
        label = f"register the evaluation of job {job.job_id}"
        return self.chain.prepare(sender, self._register_fn(job, *evaluation), label)

    def _register_fn(self, job: J.Job, *evaluation: Any) -> Any:
        """`register(job id, job state, spec digest, commitment, threshold, higher is better, tolerance,
        sealed labels)`."""
        return self.contract.functions.register(job.job_id, job_tuple(job), *evaluation)

    def settle(
        self, key: bytes, job: J.Job, milestone: int, round_: int, scores: list[int], signatures: list[bytes]
    ) -> Receipt:
        fn = self.contract.functions.settle(job.job_id, job_tuple(job), milestone, round_, scores, signatures)
        return self.chain.transact(key, fn)

    def post_report(
        self,
        key: bytes,
        job_id: int,
        milestone: int,
        round_: int,
        deliverable: bytes,
        score: int,
        signature: bytes,
    ) -> Receipt:
        fn = self.contract.functions.post_report(job_id, milestone, round_, deliverable, score, signature)
        return self.chain.transact(key, fn)

    def settle_posted(self, key: bytes, job: J.Job, milestone: int) -> Receipt:
        fn = self.contract.functions.settle_posted(job.job_id, job_tuple(job), milestone)
        return self.chain.transact(key, fn)

    def record_signers(
        self, key: bytes, job: J.Job, milestone: int, scores: list[int], signatures: list[bytes]
    ) -> Receipt:
        """Records, once, a quorum of valid reports (ascending signers) as the canonical signers of a
        milestone paid without a settlement (approved or claimed), two challenge windows after its
        timestamp."""
        self._needs("record_signers")
        fn = self.contract.functions.record_signers(job.job_id, job_tuple(job), milestone, scores, signatures)
        return self.chain.transact(key, fn)

    def release_unjudged(self, key: bytes, job: J.Job, milestone: int) -> Receipt:
        """Releases in full to the freelancer a disputed milestone no quorum settled within the week
        after any quorum could (`J.unjudged_releasable_at`)."""
        self._needs("release_unjudged")
        fn = self.contract.functions.release_unjudged(job.job_id, job_tuple(job), milestone)
        return self.chain.transact(key, fn)

    def reveal(self, key: bytes, job: J.Job, labels_cid: bytes, salt: bytes) -> Receipt:
        fn = self.contract.functions.reveal(job.job_id, job_tuple(job), labels_cid, salt)
        return self.chain.transact(key, fn)

    # --- EIP-712 score reports -------------------------------------------------------------------

    def report_message(
        self,
        job_id: int,
        milestone: int,
        deliverable: bytes,
        round_: int,
        score: int,
        spec_hash: bytes,
        commitment: bytes,
    ) -> dict[str, Any]:
        return {
            "jobId": job_id,
            "milestone": milestone,
            "deliverable": deliverable,
            "round": round_,
            "score": score,
            "specHash": spec_hash,
            "commitment": commitment,
        }

    def sign_report(self, key: bytes, message: dict[str, Any]) -> bytes:
        return self._sign(key, COMMITTEE_EIP712, "ScoreReport", SCORE_REPORT_FIELDS, message)

    def report_signer(self, message: dict[str, Any], signature: bytes | str) -> str | None:
        """The address that signed a score report, or None if it cannot be recovered."""
        return self._recover(COMMITTEE_EIP712, "ScoreReport", SCORE_REPORT_FIELDS, message, signature)
