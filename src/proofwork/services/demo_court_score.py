"""The second case of `proofwork demo --dispute`: a score challenged on a committee-evaluated job.

A committee of four oracles (its own keys, none of them a juror) is deployed after the court, so it
names the court's adapter as the place its disputed scores go. The client posts a digit-classification
job (accuracy at least 0.9 on hidden labels); the freelancer submits a weak model; the oracles score it
in the sandbox and sign a failing score. Inside the challenge window the freelancer challenges the
score ("the hidden labels are wrong") and takes it to the court; the client pays its fee and reveals
the labels so the jurors can check. Each drawn juror runs `juror check`: the oracles' signed reports
next to the score recomputed in the sandbox from public artifacts. They agree, the jurors rule for the
client, and the ruling executes through the committee (`resolve_by_court`): the budget goes back to
the client.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from eth_utils import keccak

from proofwork.domain import court as C
from proofwork.domain import job as J
from proofwork.domain.units import parse_amount
from proofwork.evaluation.runner import Evaluator
from proofwork.evaluation.sandbox import Sandbox
from proofwork.keys.accounts import address_of
from proofwork.network.peers import HttpPeers
from proofwork.services.accounts import fund
from proofwork.services.demo_court import run_round
from proofwork.services.demo_ml import ServeReports, start_oracles, stored_task, train_onnx
from proofwork.services.deployment import deploy_committee
from proofwork.services.disputes import Disputes
from proofwork.services.evaluated_jobs import Evaluations
from proofwork.services.jurors import Jurors
from proofwork.services.workspace import Signer, Workspace
from proofwork.storage.unixfs import cid_digest

DAY = 86_400
CHALLENGE_WINDOW = 600


def demo_oracles(count: int = 4) -> list[Signer]:
    """The committee's oracles: keys of their own (derived from a fixed phrase), so no oracle sits as a
    juror on the score it signed."""
    out = []
    for i in range(count):
        key = keccak(text=f"proofwork demo oracle {i + 1}")
        out.append(Signer(f"oracle{i + 1}", address_of(key), key))
    return out


def run_score_challenge(
    ws: Workspace,
    serve: ServeReports,
    operator: Signer,
    client: Signer,
    freelancer: Signer,
    jurors: list[Signer],
    step: Callable[[str, int], None],
) -> dict[str, Any]:
    """The story in the module docstring; returns the case's facts, the ruling and the balance changes
    of both parties (`problems` lists what did not happen as told)."""
    token = ws.token
    oracles = demo_oracles()
    for oracle in oracles:
        fund(ws, oracle.address, 0)  # gas money only
    deployed = deploy_committee(
        ws, operator, [o.address for o in oracles], f=1, challenge_window=CHALLENGE_WINDOW, force=True
    )
    step(
        f"committee of 4 oracles deployed; disputed scores go to the court ({ws.committee.court})",
        sum(deployed.gas.values()),
    )
    result: dict[str, Any] = {"problems": []}
    problems: list[str] = result["problems"]
    with ExitStack() as stack:
        sandbox = stack.enter_context(Sandbox(debug=ws.settings.sandbox_debug))
        evaluator = Evaluator(sandbox)
        peers = HttpPeers()
        stack.callback(peers.close)
        nodes = start_oracles(ws, stack, oracles, evaluator, peers, serve)
        task, spec_path = stored_task(ws, ws.data_dir / "score-case")
        paths = task["paths"]
        evaluations = Evaluations(ws, evaluator)
        budget = parse_amount("100", token.decimals)
        posted, _ = evaluations.post(
            client,
            spec_path,
            paths["labels"],
            budget=budget,
            deadline=ws.chain.next_timestamp() + 7 * DAY,
            review_period=2 * DAY,
            freelancer=freelancer.address,
        )
        job_id = result["job_id"] = posted.job.job_id
        step(
            f"client posts evaluated job {job_id} (100 tokens, accuracy >= 0.9 on hidden labels)", posted.gas
        )
        model = train_onnx(
            task["x_train"], task["y_train"], ws.data_dir / "score-case" / "model.onnx", weak=True
        )
        submitted = evaluations.jobs.submit(freelancer, job_id, 0, cid_digest(ws.store.add_file(model)))
        step("freelancer submits a model (a shallow decision tree, ONNX)", submitted.gas)
        for node in nodes:
            node.step()
        step("the 4 oracles score it in the sandbox and sign their reports", 0)
        before = {who.name: token.balance_of(who.address) for who in (client, freelancer)}
        disputes = Disputes(ws)
        opened = disputes.open(
            freelancer, job_id, 0, "The hidden labels are wrong: my model is fine. I challenge the score."
        )
        case_id = result["case_id"] = opened.case.case_id
        step(
            f"freelancer challenges the failing score inside the challenge window: case {case_id}", opened.gas
        )
        paid = disputes.pay_fee(client, case_id)
        step("client pays its fee: the case goes to the court", paid.gas)
        revealed = evaluations.reveal(client, job_id)
        step("client reveals the hidden labels so that anyone can re-score", revealed.receipts[0][1].gas_used)
        checks: dict[str, dict[str, Any]] = {}

        def check(panel: list[Any]) -> None:
            """Each drawn juror checks the case (`juror check`) before voting."""
            for seat in panel:
                name = ws.name_of(seat.juror) or seat.juror
                if name not in checks:
                    checks[name] = Jurors(ws).check(case_id, evaluator, peers)["score_check"]

        rnd = run_round(
            ws, operator, jurors, case_id, paid.case.dispute_id, step, majority=2, before_votes=check
        )
        result["round"] = rnd
        ws.chain.advance_time(int(disputes.periods()[3]) + 1)
        advanced = disputes.advance(operator, case_id)
        step("appeal period over: the ruling executes through the committee; jurors rewarded", advanced.gas)
        after = {who.name: token.balance_of(who.address) for who in (client, freelancer)}
    view = disputes.show(case_id)
    first = next(iter(checks.values()), None)
    result.update(
        {
            "reported_median": first["reported_median"] if first else None,
            "recomputed": first["recomputed"] if first else None,
            "threshold": first["threshold"] if first else None,
            "checked_by": sorted(checks),
            "ruling": view.case.ruling if view.case.ruled else None,
            "ruling_label": C.ruling_label(view.case.ruling) if view.case.ruled else None,
            "balances": {name: after[name] - before[name] for name in after},
        }
    )
    if not checks or any(
        c["recomputed"] is None or c["recomputed"] != c["reported_median"] for c in checks.values()
    ):
        problems.append(f"the jurors' checks did not recompute the reported score: {checks}")
    if first and first["recomputed_pass"] is not False:
        problems.append("the weak model's recomputed score passes")
    if result["ruling"] != 2:
        problems.append(f"score case ruled {result['ruling']}, expected 2 (refund the client)")
    job = evaluations.jobs.get(job_id)
    if job.milestones[0].paid != 0 or job.milestones[0].status < J.MilestoneStatus.PAID:
        problems.append(
            f"the evaluated milestone ended {job.milestones[0].status.label}, paid {job.milestones[0].paid}"
        )
    return result
