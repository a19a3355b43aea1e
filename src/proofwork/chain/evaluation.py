"""Typed handles on the evaluation contracts: the oracle committee (a job's arbiter) and competitions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_defunct
from web3 import Web3

from proofwork.chain.artifacts import Artifact
from proofwork.chain.client import Chain, Receipt, keccak
from proofwork.chain.contracts import event_signature, job_tuple, typed_data
from proofwork.domain import job as J
from proofwork.domain.errors import InvalidInput, ProofworkError

COMMITTEE_EIP712 = ("proofwork OracleCommittee", "1")
COMPETITION_EIP712 = ("proofwork Competition", "1")

SCORE_REPORT_FIELDS = [
    {"name": "jobId", "type": "uint256"},
    {"name": "milestone", "type": "uint256"},
    {"name": "deliverable", "type": "bytes32"},
    {"name": "round", "type": "uint256"},
    {"name": "score", "type": "int256"},
    {"name": "specHash", "type": "bytes32"},
    {"name": "commitment", "type": "bytes32"},
]
FINAL_SCORES_FIELDS = [
    {"name": "competitionId", "type": "uint256"},
    {"name": "scoresHash", "type": "bytes32"},
    {"name": "commitment", "type": "bytes32"},
]


def labels_commitment(labels_cid: bytes, salt: bytes, spec_hash: bytes) -> bytes:
    """keccak256(abi_encode(labels_cid, salt, spec_hash)): what the client commits to on chain."""
    return keccak(abi_encode(["bytes", "bytes32", "bytes32"], [labels_cid, salt, spec_hash]))


def submission_commitment(submission_cid: bytes, salt: bytes, submitter: str) -> bytes:
    """keccak256(abi_encode(cid, salt, submitter)): a competition entry's commitment."""
    return keccak(
        abi_encode(
            ["bytes", "bytes32", "address"], [submission_cid, salt, Web3.to_checksum_address(submitter)]
        )
    )


def check_id(value: object, what: str = "id") -> int:
    """A uint256 id (job, competition, entry), or a one-line InvalidInput."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**256:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise InvalidInput(f"invalid {what} {shown}: expected a whole number from 0 to 2^256 - 1")
    return value


@dataclass(frozen=True)
class Event:
    name: str
    block: int
    tx_hash: str
    args: dict[str, Any]


class _Events:
    """Event scanning and decoding shared by both contracts."""

    def __init__(self, chain: Chain, artifact: Artifact, address: str, deploy_block: int) -> None:
        self.chain = chain
        self.address = Web3.to_checksum_address(address)
        self.contract = chain.contract(artifact.abi, address)
        self.deploy_block = deploy_block
        self._topics = {
            "0x" + keccak(event_signature(item).encode()).hex(): item["name"]
            for item in artifact.abi
            if item.get("type") == "event"
        }
        self._by_name = {name: topic for topic, name in self._topics.items()}

    def events(self, *names: str, subject: int | None = None) -> list[Event]:
        """Events of the given names in chain order; `subject` filters on the first indexed argument."""
        topics: list[Any] = [[self._by_name[n] for n in names]]
        if subject is not None:
            topics.append("0x" + check_id(subject).to_bytes(32, "big").hex())
        return [self._decode(log) for log in self.chain.get_logs(self.address, topics, self.deploy_block)]

    def receipt_events(self, receipt: Receipt) -> list[Event]:
        return [
            self._decode(log)
            for log in receipt.logs
            if log["address"].lower() == self.address.lower()
            and log["topics"]
            and "0x" + bytes(log["topics"][0]).hex() in self._topics
        ]

    def _decode(self, log: Any) -> Event:
        name = self._topics["0x" + bytes(log["topics"][0]).hex()]
        decoded = getattr(self.contract.events, name)().process_log(log)
        args = {k: (bytes(v) if isinstance(v, bytes | bytearray) else v) for k, v in decoded["args"].items()}
        return Event(name, int(log["blockNumber"]), "0x" + bytes(log["transactionHash"]).hex(), args)

    def _sign(self, key: bytes, domain: tuple[str, str], primary: str, fields: Any, message: Any) -> bytes:
        typed = typed_data(
            (domain[0], domain[1], self.chain.chain_id, self.address), primary, fields, message
        )
        return bytes(Account.sign_message(typed, key).signature)

    def _recover(
        self, domain: tuple[str, str], primary: str, fields: Any, message: Any, sig: bytes | str
    ) -> str | None:
        """The signer of an EIP-712 message, or None when the message or signature cannot be
        encoded or recovered (whatever a peer sent: wrong lengths, scores beyond int256, bad v...)."""
        if not _well_formed(fields, message):
            return None
        try:
            typed = typed_data(
                (domain[0], domain[1], self.chain.chain_id, self.address), primary, fields, message
            )
            return str(Account.recover_message(typed, signature=sig))
        except Exception:  # eth_utils/eth_keys ValidationError, eth_abi EncodingError, ValueError...
            return None


def _well_formed(fields: list[dict[str, str]], message: Any) -> bool:
    """Exactly the fields, each of its exact type: no padding of short hashes, no out-of-range
    numbers (the encoder would otherwise sign something other than what was sent)."""
    if not isinstance(message, dict) or set(message) != {f["name"] for f in fields}:
        return False
    ranges = {"uint256": (0, 2**256), "int256": (-(2**255), 2**255)}
    for field in fields:
        value = message[field["name"]]
        if field["type"] == "bytes32":
            ok = isinstance(value, bytes | bytearray) and len(value) == 32
        else:
            low, high = ranges[field["type"]]
            ok = isinstance(value, int) and not isinstance(value, bool) and low <= value < high
        if not ok:
            return False
    return True


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


class CommitteeContract(_Events):
    """`OracleCommittee`: holds the committee, checks signed score reports, releases or refunds."""

    def __init__(self, chain: Chain, artifact: Artifact, address: str, deploy_block: int = 0) -> None:
        super().__init__(chain, artifact, address, deploy_block)
        self._static: dict[str, Any] = {}

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

    def public_key(self, oracle: str) -> bytes:
        return bytes(self.chain.call(self.contract.functions.public_keys(Web3.to_checksum_address(oracle))))

    def endpoint(self, oracle: str) -> str:
        return str(self.chain.call(self.contract.functions.endpoints(Web3.to_checksum_address(oracle))))

    def outlier_reports(self, oracle: str) -> int:
        return int(self.chain.call(self.contract.functions.outlier_reports(Web3.to_checksum_address(oracle))))

    def revealed_labels(self, job_id: int) -> bytes:
        """The labels CID revealed for a job (empty until revealed)."""
        return bytes(self.chain.call(self.contract.functions.revealed_labels(check_id(job_id, "job id"))))

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
        commitment: bytes,
        threshold: int,
        higher_is_better: bool,
        tolerance: int,
        sealed_labels: bytes,
    ) -> Receipt:
        fn = self.contract.functions.register(
            job.job_id, job_tuple(job), commitment, threshold, higher_is_better, tolerance, sealed_labels
        )
        return self.chain.transact(key, fn)

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


class CompetitionContract(_Events):
    """`Competition`: bounties open to many, commit-reveal entries, committee-signed final scores."""

    def competition(self, comp_id: int) -> Any:
        return self.chain.call(self.contract.functions.competition(check_id(comp_id, "competition id")))

    def count(self) -> int:
        return int(self.chain.call(self.contract.functions.competition_count()))

    def revealed_count(self, comp_id: int) -> int:
        """Entries revealed so far (the length the final ranking must have)."""
        fn = self.contract.functions.revealed_count(check_id(comp_id, "competition id"))
        return int(self.chain.call(fn))

    def create(
        self,
        key: bytes,
        *,
        token: str,
        prize: int,
        spec_hash: bytes,
        commitment: bytes,
        deadline: int,
        reveal_period: int,
        daily_limit: int,
        public_percent: int,
        prize_bps: list[int],
        min_score: int,
        higher_is_better: bool,
        sealed_labels: bytes,
    ) -> Receipt:
        fn = self.contract.functions.create(
            Web3.to_checksum_address(token),
            prize,
            spec_hash,
            commitment,
            deadline,
            reveal_period,
            daily_limit,
            public_percent,
            prize_bps,
            min_score,
            higher_is_better,
            sealed_labels,
        )
        return self.chain.transact(key, fn)

    def commit(self, key: bytes, comp_id: int, commitment: bytes, sealed_submission: bytes) -> Receipt:
        return self.chain.transact(
            key, self.contract.functions.commit(comp_id, commitment, sealed_submission)
        )

    def reveal(self, key: bytes, comp_id: int, entry: int, cid: bytes, salt: bytes) -> Receipt:
        return self.chain.transact(key, self.contract.functions.reveal(comp_id, entry, cid, salt))

    def finalize(
        self,
        key: bytes,
        comp_id: int,
        labels_cid: bytes,
        labels_salt: bytes,
        ranking: list[tuple[int, int]],
        signatures: list[bytes],
    ) -> Receipt:
        fn = self.contract.functions.finalize(comp_id, labels_cid, labels_salt, ranking, signatures)
        return self.chain.transact(key, fn)

    def cancel_unjudged(self, key: bytes, comp_id: int) -> Receipt:
        return self.chain.transact(key, self.contract.functions.cancel_unjudged(comp_id))

    @staticmethod
    def scores_hash(ranking: list[tuple[int, int]]) -> bytes:
        return keccak(abi_encode(["(uint256,int256)[]"], [ranking]))

    def final_message(
        self, comp_id: int, ranking: list[tuple[int, int]], commitment: bytes
    ) -> dict[str, Any]:
        return {"competitionId": comp_id, "scoresHash": self.scores_hash(ranking), "commitment": commitment}

    def sign_final(self, key: bytes, message: dict[str, Any]) -> bytes:
        return self._sign(key, COMPETITION_EIP712, "FinalScores", FINAL_SCORES_FIELDS, message)

    def final_signer(self, message: dict[str, Any], signature: bytes | str) -> str | None:
        """The address that signed a final ranking, or None if it cannot be recovered."""
        return self._recover(COMPETITION_EIP712, "FinalScores", FINAL_SCORES_FIELDS, message, signature)

    # --- public (leaderboard) scores: EIP-191 personal messages ------------------------------------

    def public_score_text(self, comp_id: int, entry: int, score: int) -> str:
        return f"proofwork public score {self.address.lower()} {comp_id} {entry} {score}"

    def sign_public_score(self, key: bytes, comp_id: int, entry: int, score: int) -> bytes:
        """An oracle's signature on an entry's public-split score (shown on the leaderboard)."""
        message = encode_defunct(text=self.public_score_text(comp_id, entry, score))
        return bytes(Account.sign_message(message, key).signature)

    def public_score_signer(self, comp_id: int, entry: int, score: int, signature: bytes | str) -> str | None:
        """The address that signed a public score, or None if the inputs or signature are unusable."""
        try:
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in (comp_id, entry, score)):
                return None
            message = encode_defunct(text=self.public_score_text(comp_id, entry, score))
            return str(Account.recover_message(message, signature=signature))
        except Exception:  # eth_keys BadSignature, ValidationError, ValueError on bad hex...
            return None
