"""The writes a user's wallet signs (`services.wallet_writes`, behind the API and the web app), on the
embedded chain and on anvil: a permit then the creation, a submission and an approval, each prepared
with its nonce, gas and fees, signed outside the server and checked before broadcast."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account

from proofwork.chain.unsigned import UnsignedTx
from proofwork.domain.errors import SignedTransactionRefused
from proofwork.services import wallet_writes
from tests.integration.conftest import DAY, Market, digest


def signed(tx: UnsignedTx | None, key: bytes, **changes: Any) -> bytes:
    assert tx is not None
    fields = {k: v for k, v in tx.fields().items() if k != "from"} | changes
    return bytes(Account.sign_transaction(fields, key).raw_transaction)


def test_a_job_posted_submitted_and_approved_by_wallets(market: Market) -> None:
    ws = market.pw.ws
    terms: dict[str, Any] = {
        "budget": market.pw.amount("70"),
        "milestones": 1,
        "deadline": market.pw.now() + 7 * DAY,
        "review_period": 3 * DAY,
        "freelancer": market.freelancer.address,
    }
    first = wallet_writes.prepare_post(ws, market.client.address, **terms)
    assert first.transaction is None and first.typed_data is not None
    permit = Account.sign_typed_data(market.client.key, full_message=first.typed_data).signature
    deadline = first.typed_data["message"]["deadline"]
    second = wallet_writes.prepare_post(ws, market.client.address, permit=(deadline, permit.hex()), **terms)
    tx = second.transaction
    assert tx is not None and tx.sender == market.client.address and tx.to == ws.escrow.address
    assert tx.chain_id == ws.chain_id and tx.nonce == ws.chain.web3.eth.get_transaction_count(tx.sender)
    # fees as this process would offer them (chain.fees): within the cap, the tip within the maximum
    assert 0 < tx.max_priority_fee_per_gas <= tx.max_fee_per_gas and tx.gas > 21_000
    sent = wallet_writes.broadcast(ws, signed(tx, market.client.key), market.client.address)
    (job_id,) = sent.jobs_created
    assert sent.receipt.status == 1 and market.pw.jobs.get(job_id).budget == market.pw.amount("70")

    submit = wallet_writes.prepare_submit(ws, market.freelancer.address, job_id, 0, digest("weights"))
    raw = signed(submit.transaction, market.freelancer.key)
    wallet_writes.broadcast(ws, "0x" + raw.hex(), market.freelancer.address)
    with pytest.raises(SignedTransactionRefused) as replayed:
        wallet_writes.broadcast(ws, raw, market.freelancer.address)
    assert replayed.value.reason == "tx_replayed" and replayed.value.status == 409

    approve = wallet_writes.prepare_approve(ws, market.client.address, job_id, 0)
    # the prepared call, but to another contract, or with ether: refused, nothing sent
    for changes in ({"to": ws.token.address}, {"value": 1}):
        with pytest.raises(SignedTransactionRefused) as other:
            wallet_writes.broadcast(
                ws, signed(approve.transaction, market.client.key, **changes), market.client.address
            )
        assert other.value.reason == "tx_unexpected_call"
    wallet_writes.broadcast(ws, signed(approve.transaction, market.client.key), market.client.address)
    assert market.pw.jobs.get(job_id).status == "completed"
