"""`JobEscrow`'s handle: encode calls from domain jobs, decode its events back into domain events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eth_account import Account
from web3 import Web3

from proofwork.chain.artifacts import Artifact
from proofwork.chain.client import Chain
from proofwork.chain.encoding import job_hash, job_tuple, keccak
from proofwork.chain.events import event_topics, typed_data
from proofwork.chain.receipts import Receipt
from proofwork.domain import job as J
from proofwork.domain.errors import NotAllowed
from proofwork.keys.accounts import address_of

if TYPE_CHECKING:
    from proofwork.chain.unsigned import UnsignedTx

ESCROW_EIP712_NAME = "proofwork JobEscrow"
ESCROW_EIP712_VERSION = "1"

_CHALLENGE_WINDOW_SELECTOR = keccak(b"challenge_window()")[:4]


def _to_domain(name: str, args: dict[str, Any]) -> J.JobEvent:
    values = {k: (bytes(v) if isinstance(v, bytes | bytearray) else v) for k, v in args.items()}
    if name == "JobCreated":
        values["amounts"] = tuple(values["amounts"])
    if name == "MilestonePaid":
        values["reason"] = J.PaymentReason(int(values["reason"]))
    return J.EVENT_TYPES[name](**values)  # type: ignore[no-any-return]


class EscrowContract:
    """`JobEscrow`: every state-changing call passes the job's current state."""

    def __init__(self, chain: Chain, artifact: Artifact, address: str, deploy_block: int = 0) -> None:
        self.chain = chain
        self.address = Web3.to_checksum_address(address)
        self.contract = chain.contract(artifact.abi, address)
        self.deploy_block = deploy_block
        self._topics = event_topics(artifact.abi, J.EVENT_TYPES)
        self._functions = {item["name"] for item in artifact.abi if item.get("type") == "function"}

    def _needs(self, function: str) -> None:
        """A one-line refusal for an escrow deployed by an older proofwork that lacks `function`."""
        if function not in self._functions:
            raise NotAllowed(
                f"the escrow at {self.address} predates `{function}` (deployed by an older proofwork): "
                "payouts a token refuses are not credited there; deploy the current contracts for new jobs"
            )

    @property
    def credits_payouts(self) -> bool:
        """Whether this escrow credits payouts its token refuses (`claimable` and `withdraw`)."""
        return "withdraw" in self._functions

    # --- reads ---------------------------------------------------------------------------------

    def job_count(self) -> int:
        return int(self.chain.call(self.contract.functions.job_count()))

    def stored_hash(self, job_id: int) -> bytes:
        return bytes(self.chain.call(self.contract.functions.job_state(job_id)))

    def fee_bps(self) -> int:
        return int(self.chain.call(self.contract.functions.fee_bps()))

    def treasury(self) -> str:
        return str(self.chain.call(self.contract.functions.treasury()))

    def fees_owed(self, token: str) -> int:
        return int(self.chain.call(self.contract.functions.fees_owed(Web3.to_checksum_address(token))))

    def claimable(self, token: str, account: str) -> int:
        """Payouts of `token` the escrow could not deliver to `account` and holds for it (0 on an
        escrow that predates credited payouts)."""
        if not self.credits_payouts:
            return 0
        fn = self.contract.functions.claimable(
            Web3.to_checksum_address(token), Web3.to_checksum_address(account)
        )
        return int(self.chain.call(fn))

    def owner(self) -> str:
        return str(self.chain.call(self.contract.functions.owner()))

    def has_applied(self, job_id: int, account: str) -> bool:
        return bool(
            self.chain.call(self.contract.functions.applied(job_id, Web3.to_checksum_address(account)))
        )

    def arbiter_challenge_window(self, arbiter: str) -> int | None:
        """The window an arbiter declares through `challenge_window()`, read the way the escrow reads
        it (a static call whose failure or answer of another size than 32 bytes means none): None for
        an account without code or a contract without the function."""
        answer = self.chain.static_call(arbiter, _CHALLENGE_WINDOW_SELECTOR)
        if answer is None or len(answer) != 32:
            return None
        return int.from_bytes(answer, "big")

    def events(self, job_id: int | None = None) -> list[tuple[int, J.JobEvent]]:
        """Job events in chain order, as (block number, event); all jobs when job_id is None."""
        topics: list[Any] = [list(self._topics)]
        if job_id is not None:
            topics.append("0x" + job_id.to_bytes(32, "big").hex())
        logs = self.chain.get_logs(self.address, topics, self.deploy_block)
        return [(int(log["blockNumber"]), self.decode(log)) for log in logs]

    def decode(self, log: Any) -> J.JobEvent:
        name = self._topics["0x" + bytes(log["topics"][0]).hex()]
        decoded = getattr(self.contract.events, name)().process_log(log)
        return _to_domain(name, dict(decoded["args"]))

    def decode_receipt(self, receipt: Receipt) -> list[J.JobEvent]:
        out = []
        for log in receipt.logs:
            topic = "0x" + bytes(log["topics"][0]).hex() if log["topics"] else ""
            if log["address"].lower() == self.address.lower() and topic in self._topics:
                out.append(self.decode(log))
        return out

    def credits_in(self, receipt: Receipt) -> list[tuple[str, str, int]]:
        """(token, account, amount) of every payout the receipt credited instead of delivering
        (`PaymentCredited`: the token refused the transfer)."""
        topic = "0x" + keccak(b"PaymentCredited(address,address,uint256)").hex()
        out = []
        for log in receipt.logs:
            if log["address"].lower() != self.address.lower() or not log["topics"]:
                continue
            if "0x" + bytes(log["topics"][0]).hex() != topic:
                continue
            args = self.contract.events.PaymentCredited().process_log(log)["args"]
            out.append((str(args["token"]), str(args["account"]), int(args["amount"])))
        return out

    # --- writes --------------------------------------------------------------------------------

    def create_job(
        self,
        key: bytes,
        token: str,
        freelancer: str,
        amounts: list[int],
        deadline: int,
        review_period: int,
        spec_hash: bytes,
        arbiter: str,
        permit: tuple[int, int, bytes, bytes] | None = None,
    ) -> Receipt:
        fn = self._create_job_fn(
            token, freelancer, amounts, deadline, review_period, spec_hash, arbiter, permit
        )
        return self.chain.transact(key, fn)

    def prepare_create_job(
        self,
        sender: str,
        token: str,
        freelancer: str,
        amounts: list[int],
        deadline: int,
        review_period: int,
        spec_hash: bytes,
        arbiter: str,
        permit: tuple[int, int, bytes, bytes] | None = None,
    ) -> UnsignedTx:
        """`create_job` (or `create_job_with_permit`) unsigned, for `sender`'s wallet."""
        fn = self._create_job_fn(
            token, freelancer, amounts, deadline, review_period, spec_hash, arbiter, permit
        )
        return self.chain.prepare(sender, fn, "create and fund the job")

    def _create_job_fn(
        self,
        token: str,
        freelancer: str,
        amounts: list[int],
        deadline: int,
        review_period: int,
        spec_hash: bytes,
        arbiter: str,
        permit: tuple[int, int, bytes, bytes] | None,
    ) -> Any:
        """The `create_job` call (or `create_job_with_permit` with a permit's deadline, v, r, s)."""
        args = [
            Web3.to_checksum_address(token),
            Web3.to_checksum_address(freelancer),
            amounts,
            deadline,
            review_period,
            spec_hash,
            Web3.to_checksum_address(arbiter),
        ]
        fns = self.contract.functions
        return fns.create_job(*args) if permit is None else fns.create_job_with_permit(*args, *permit)

    def prepare_submit(self, sender: str, job: J.Job, milestone: int, deliverable: bytes) -> UnsignedTx:
        fn = self._submit_fn(job, milestone, deliverable)
        return self.chain.prepare(sender, fn, f"submit milestone {milestone + 1} of job {job.job_id}")

    def prepare_approve(self, sender: str, job: J.Job, milestone: int) -> UnsignedTx:
        label = f"approve and pay milestone {milestone + 1} of job {job.job_id}"
        return self.chain.prepare(sender, self._approve_fn(job, milestone), label)

    def _submit_fn(self, job: J.Job, milestone: int, deliverable: bytes) -> Any:
        return self.contract.functions.submit(job.job_id, job_tuple(job), milestone, deliverable)

    def _approve_fn(self, job: J.Job, milestone: int) -> Any:
        return self.contract.functions.approve(job.job_id, job_tuple(job), milestone)

    def apply(self, key: bytes, job: J.Job, proposal: bytes) -> Receipt:
        return self.chain.transact(key, self.contract.functions.apply(job.job_id, job_tuple(job), proposal))

    def apply_with_sig(
        self, relayer_key: bytes, job: J.Job, applicant: str, proposal: bytes, signature: bytes
    ) -> Receipt:
        fn = self.contract.functions.apply_with_sig(
            job.job_id, job_tuple(job), Web3.to_checksum_address(applicant), proposal, signature
        )
        return self.chain.transact(relayer_key, fn)

    def assign(self, key: bytes, job: J.Job, freelancer: str) -> Receipt:
        fn = self.contract.functions.assign(job.job_id, job_tuple(job), Web3.to_checksum_address(freelancer))
        return self.chain.transact(key, fn)

    def submit(self, key: bytes, job: J.Job, milestone: int, deliverable: bytes) -> Receipt:
        return self.chain.transact(key, self._submit_fn(job, milestone, deliverable))

    def submit_with_sig(
        self, relayer_key: bytes, job: J.Job, milestone: int, deliverable: bytes, signature: bytes
    ) -> Receipt:
        fn = self.contract.functions.submit_with_sig(
            job.job_id, job_tuple(job), milestone, deliverable, signature
        )
        return self.chain.transact(relayer_key, fn)

    def approve(self, key: bytes, job: J.Job, milestone: int) -> Receipt:
        return self.chain.transact(key, self._approve_fn(job, milestone))

    def pay_partial(self, key: bytes, job: J.Job, milestone: int, amount: int) -> Receipt:
        fn = self.contract.functions.pay_partial(job.job_id, job_tuple(job), milestone, amount)
        return self.chain.transact(key, fn)

    def request_revision(self, key: bytes, job: J.Job, milestone: int, feedback: bytes) -> Receipt:
        fn = self.contract.functions.request_revision(job.job_id, job_tuple(job), milestone, feedback)
        return self.chain.transact(key, fn)

    def claim(self, key: bytes, job: J.Job, milestone: int) -> Receipt:
        return self.chain.transact(key, self.contract.functions.claim(job.job_id, job_tuple(job), milestone))

    def reclaim(self, key: bytes, job: J.Job) -> Receipt:
        return self.chain.transact(key, self.contract.functions.reclaim(job.job_id, job_tuple(job)))

    def cancel(self, key: bytes, job: J.Job, freelancer_amount: int) -> Receipt:
        fn = self.contract.functions.cancel(job.job_id, job_tuple(job), freelancer_amount)
        return self.chain.transact(key, fn)

    def raise_dispute(self, key: bytes, job: J.Job, milestone: int) -> Receipt:
        fn = self.contract.functions.raise_dispute(job.job_id, job_tuple(job), milestone)
        return self.chain.transact(key, fn)

    def resolve(self, key: bytes, job: J.Job, milestone: int, freelancer_amount: int) -> Receipt:
        fn = self.contract.functions.resolve(job.job_id, job_tuple(job), milestone, freelancer_amount)
        return self.chain.transact(key, fn)

    def set_fee(self, key: bytes, fee_bps: int) -> Receipt:
        return self.chain.transact(key, self.contract.functions.set_fee(fee_bps))

    def withdraw(self, key: bytes, token: str) -> Receipt:
        """The caller pulls what the escrow credited to it in `token`."""
        self._needs("withdraw")
        return self.chain.transact(key, self.contract.functions.withdraw(Web3.to_checksum_address(token)))

    def withdraw_fees(self, key: bytes, token: str) -> Receipt:
        fn = self.contract.functions.withdraw_fees(Web3.to_checksum_address(token))
        return self.chain.transact(key, fn)

    # --- EIP-712 messages for gasless freelancers ---------------------------------------------------

    def _typed(self, primary: str, fields: list[dict[str, str]], message: dict[str, Any]) -> Any:
        domain = (ESCROW_EIP712_NAME, ESCROW_EIP712_VERSION, self.chain.chain_id, self.address)
        return typed_data(domain, primary, fields, message)

    def sign_apply(self, key: bytes, job_id: int, proposal: bytes) -> bytes:
        message = self._typed(
            "Apply",
            [
                {"name": "jobId", "type": "uint256"},
                {"name": "applicant", "type": "address"},
                {"name": "proposal", "type": "bytes32"},
            ],
            {"jobId": job_id, "applicant": address_of(key), "proposal": proposal},
        )
        return bytes(Account.sign_message(message, key).signature)

    def sign_submit(self, key: bytes, job: J.Job, milestone: int, deliverable: bytes) -> bytes:
        message = self._typed(
            "Submit",
            [
                {"name": "jobId", "type": "uint256"},
                {"name": "milestone", "type": "uint256"},
                {"name": "deliverable", "type": "bytes32"},
                {"name": "state", "type": "bytes32"},
            ],
            {"jobId": job.job_id, "milestone": milestone, "deliverable": deliverable, "state": job_hash(job)},
        )
        return bytes(Account.sign_message(message, key).signature)
