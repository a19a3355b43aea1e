"""The end-to-end story `proofwork demo` tells, on a fresh embedded chain."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from proofwork.domain.job import fee_of
from proofwork.domain.units import parse_amount
from proofwork.services.accounts import fund
from proofwork.services.deployment import deploy
from proofwork.services.jobs import Jobs
from proofwork.services.workspace import Workspace

DAY = 86_400


@dataclass
class DemoReport:
    ok: bool = False
    steps: list[dict[str, object]] = field(default_factory=list)  # {"name", "gas", "detail"}
    balances: dict[str, dict[str, int]] = field(default_factory=dict)  # before/after per role, token units
    job_id: int = 0
    decimals: int = 6
    symbol: str = ""
    data_dir: str = ""
    problems: list[str] = field(default_factory=list)


def run_demo(ws: Workspace, on_step: Callable[[str], None] = lambda _: None) -> DemoReport:
    """Deploy, fund three accounts, post a two-milestone job, deliver both, approve one, and
    let the other auto-release after the client's review window passes in silence."""
    report = DemoReport(data_dir=str(ws.data_dir))
    operator, client, freelancer, treasury = (ws.signer(f"dev{i}") for i in range(4))

    def step(name: str, gas: int, detail: str = "") -> None:
        report.steps.append({"name": name, "gas": gas, "detail": detail})
        on_step(name)

    deployed = deploy(ws, operator, treasury=treasury.address)
    for name, gas in deployed.gas.items():
        step(name, gas)
    token = ws.token
    report.decimals, report.symbol = token.decimals, token.symbol
    budget = parse_amount("1500.50", token.decimals)
    for role, who, tokens in (
        ("client", client, parse_amount("5000", token.decimals)),
        ("freelancer", freelancer, 0),
        ("treasury", treasury, 0),
    ):
        for name, receipt in fund(ws, who.address, tokens):
            step(f"fund {role}: {name}", receipt.gas_used)

    roles = {"client": client.address, "freelancer": freelancer.address, "treasury": treasury.address}
    roles["escrow"] = ws.escrow.address

    def snapshot() -> dict[str, int]:
        return {role: token.balance_of(address) for role, address in roles.items()}

    before = snapshot()
    jobs = Jobs(ws)
    spec = hashlib.sha256(b"Train a digit classifier; macro-F1 >= 0.95 on the hidden test set.").digest()
    posted = jobs.post(
        client,
        budget=budget,
        milestones=2,
        deadline=ws.chain.next_timestamp() + 7 * DAY,
        review_period=3 * DAY,
        freelancer=freelancer.address,
        spec_hash=spec,
    )
    job_id = posted.job.job_id
    report.job_id = job_id
    for name, receipt in posted.receipts:
        step(
            f"client posts job {job_id} and escrows 1500.50 in one transaction ({name}, permit)",
            receipt.gas_used,
        )
    for index, payload in enumerate((b"model.onnx v1", b"evaluation report v1")):
        out = jobs.submit(freelancer, job_id, index, hashlib.sha256(payload).digest())
        step(f"freelancer submits milestone {index + 1}", out.gas)
    out = jobs.approve(client, job_id, 0)
    step("client approves milestone 1 (paid at once)", out.gas)
    ws.chain.advance_time(3 * DAY + 60)
    step("client stays silent; the chain's clock moves 3 days past the review window", 0)
    out = jobs.claim(freelancer, job_id, 1)
    step("freelancer claims milestone 2 (auto-release)", out.gas)
    receipt = ws.escrow.withdraw_fees(operator.key, token.address)
    step("platform fees sent to the treasury", receipt.gas_used)
    after = snapshot()
    report.balances = {role: {"before": before[role], "after": after[role]} for role in roles}

    job = jobs.get(job_id)
    # each milestone was paid out in one payment, and the fee is taken per payment
    fee = sum(fee_of(m.paid, job.fee_bps) for m in job.milestones)
    expected = {
        "client": before["client"] - budget,
        "freelancer": before["freelancer"] + budget - fee,
        "treasury": before["treasury"] + fee,
        "escrow": before["escrow"],
    }
    for role, value in expected.items():
        if after[role] != value:
            report.problems.append(f"{role} balance {after[role]} != expected {value}")
    if job.status != "completed":
        report.problems.append(f"job status is {job.status}, expected completed")
    report.ok = not report.problems
    return report
