"""Transactions for someone else's wallet to sign, and the reads a web page needs about transactions.

Nothing here signs: a call is encoded against the deployed contract's ABI and handed back as
`{to, data, value, chainId}` for an EIP-1193 wallet's `eth_sendTransaction` (the wallet picks the
nonce, the gas and the fees). The web app polls `transaction_status` for the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from web3 import Web3
from web3.exceptions import TransactionNotFound

from proofwork.chain.client import Chain, translate_errors
from proofwork.chain.encoding import job_tuple, keccak
from proofwork.domain import job as J

TRANSFER_TOPIC = "0x" + keccak(b"Transfer(address,address,uint256)").hex()


@dataclass(frozen=True)
class UnsignedTx:
    """One contract call for a wallet: `label` says what it does, for people."""

    label: str
    to: str
    data: str  # 0x hex calldata
    value: int
    chain_id: int

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "to": self.to,
            "data": self.data,
            "value": hex(self.value),
            "chainId": hex(self.chain_id),
        }


def _call(handle: Any, label: str, name: str, args: list[Any]) -> UnsignedTx:
    data = handle.contract.encode_abi(name, args=args)
    return UnsignedTx(label, Web3.to_checksum_address(handle.address), str(data), 0, handle.chain.chain_id)


def token_approve(token: Any, spender: str, amount: int) -> UnsignedTx:
    """ERC-20 `approve(spender, amount)` on a `TokenContract`."""
    return _call(
        token, "approve the escrow to take the budget", "approve", [Web3.to_checksum_address(spender), amount]
    )


def create_job(
    escrow: Any,
    token: str,
    freelancer: str,
    amounts: list[int],
    deadline: int,
    review_period: int,
    spec_hash: bytes,
    arbiter: str,
) -> UnsignedTx:
    """`JobEscrow.create_job` on an `EscrowContract` (the budget taken with the token approval)."""
    args = [
        Web3.to_checksum_address(token),
        Web3.to_checksum_address(freelancer),
        amounts,
        deadline,
        review_period,
        spec_hash,
        Web3.to_checksum_address(arbiter),
    ]
    return _call(escrow, "create and fund the job", "create_job", args)


def submit(escrow: Any, job: J.Job, milestone: int, deliverable: bytes) -> UnsignedTx:
    args = [job.job_id, job_tuple(job), milestone, deliverable]
    return _call(escrow, f"submit milestone {milestone + 1} of job {job.job_id}", "submit", args)


def approve_milestone(escrow: Any, job: J.Job, milestone: int) -> UnsignedTx:
    args = [job.job_id, job_tuple(job), milestone]
    return _call(escrow, f"approve and pay milestone {milestone + 1} of job {job.job_id}", "approve", args)


def register_evaluation(
    committee: Any,
    job: J.Job,
    spec_digest: bytes,
    commitment: bytes,
    threshold: int,
    higher_is_better: bool,
    tolerance: int,
    sealed_labels: bytes,
) -> UnsignedTx:
    """`OracleCommittee.register` on a `CommitteeContract`: the job's evaluation and sealed labels."""
    args = [
        job.job_id,
        job_tuple(job),
        spec_digest,
        commitment,
        threshold,
        higher_is_better,
        tolerance,
        sealed_labels,
    ]
    return _call(committee, f"register the evaluation of job {job.job_id}", "register", args)


@dataclass(frozen=True)
class TxStatus:
    tx_hash: str
    status: str  # "pending" (not mined, or unknown to the node), "success" or "failed"
    block: int | None = None
    sender: str | None = None
    to: str | None = None
    gas_used: int | None = None
    timestamp: int | None = None
    logs: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (emitter, topics) of each log, 0x hex


def transaction_status(chain: Chain, tx_hash: str) -> TxStatus:
    """Whether a transaction is mined, and how it went."""
    with translate_errors(chain.url):
        try:
            raw = chain.web3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        except TransactionNotFound:
            return TxStatus(tx_hash, "pending")
        block = int(raw["blockNumber"])
        return TxStatus(
            tx_hash,
            "success" if int(raw["status"]) == 1 else "failed",
            block,
            str(raw["from"]),
            str(raw["to"]) if raw.get("to") else None,
            int(raw["gasUsed"]),
            block_timestamp(chain, block),
            tuple(
                (str(log["address"]).lower(), tuple("0x" + bytes(t).hex() for t in log["topics"]))
                for log in raw["logs"]
            ),
        )


def jobs_created(escrow: Any, status: TxStatus) -> list[int]:
    """The ids of the jobs a mined transaction created on `escrow`."""
    topic = next(t for t, name in escrow._topics.items() if name == "JobCreated")
    return [
        int(topics[1], 16)
        for address, topics in status.logs
        if address == escrow.address.lower() and len(topics) > 1 and topics[0] == topic
    ]


def block_timestamp(chain: Chain, block: int) -> int:
    with translate_errors(chain.url):
        return int(chain.web3.eth.get_block(block)["timestamp"])


@dataclass(frozen=True)
class Transfer:
    """An ERC-20 Transfer log."""

    block: int
    tx_hash: str
    log_index: int
    sender: str
    recipient: str
    amount: int


def transfers(chain: Chain, token: str, account: str, from_block: int = 0) -> list[Transfer]:
    """Every Transfer of `token` from or to `account`, in chain order."""
    padded = "0x" + bytes.fromhex(Web3.to_checksum_address(account)[2:]).rjust(32, b"\0").hex()
    logs = chain.get_logs(token, [TRANSFER_TOPIC, padded], from_block) + chain.get_logs(
        token, [TRANSFER_TOPIC, None, padded], from_block
    )
    seen: dict[tuple[str, int], Transfer] = {}
    for log in logs:
        topics = log["topics"]
        if len(topics) != 3:
            continue
        tx_hash = "0x" + bytes(log["transactionHash"]).hex()
        index = int(log["logIndex"])
        seen[(tx_hash, index)] = Transfer(
            int(log["blockNumber"]),
            tx_hash,
            index,
            Web3.to_checksum_address(bytes(topics[1])[-20:]),
            Web3.to_checksum_address(bytes(topics[2])[-20:]),
            int.from_bytes(bytes(log["data"]), "big"),
        )
    return sorted(seen.values(), key=lambda t: (t.block, t.log_index))


def job_event_transactions(escrow: Any, job_id: int | None = None) -> list[tuple[int, str, str, int]]:
    """(block, transaction hash, event name, job id) of each escrow job event (one job's, or every
    job's), in chain order."""
    topics: list[Any] = [list(escrow._topics)]
    if job_id is not None:
        topics.append("0x" + job_id.to_bytes(32, "big").hex())
    logs = escrow.chain.get_logs(escrow.address, topics, escrow.deploy_block)
    return [
        (
            int(log["blockNumber"]),
            "0x" + bytes(log["transactionHash"]).hex(),
            escrow._topics["0x" + bytes(log["topics"][0]).hex()],
            int.from_bytes(bytes(log["topics"][1]), "big"),
        )
        for log in logs
    ]
