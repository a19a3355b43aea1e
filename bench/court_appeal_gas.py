"""Gas of two-sided appeal funding through EscrowArbitrable and the real Court, from real receipts on
the embedded py-evm chain (the SDK's deployment: escrow, PWK, Court, adapter; three jurors staked).
Steady state: one warm-up case first. Steps of a case whose first round rules for the freelancer:
- fund_appeal by the loser (the client: 2x the appeal cost, a deposit kept by the adapter);
- fund_appeal by the winner (1.5x), which makes the appeal: the adapter approves and calls
  Court.appeal (a new round of 7 seats);
and of a case where only the loser funds (it wins by default):
- Court.execute_ruling, which calls the adapter's `rule` (the lone funder's ruling recorded instead);
- the adapter's execute_ruling (the milestone resolved, the reserve and the lone deposit returned).
Token approvals are made beforehand and not counted.

Usage: python bench/court_appeal_gas.py. Last line: one JSON object.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from proofwork.domain import court as C  # noqa: E402
from proofwork.sdk import Proofwork  # noqa: E402
from proofwork.services.disputes import Disputes  # noqa: E402
from proofwork.services.jobs import Jobs  # noqa: E402
from proofwork.services.jurors import Jurors  # noqa: E402

DAY = 86_400


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp, Proofwork.open(Path(tmp) / "data") as pw:
        pw.deploy("dev0", treasury=pw.address("dev9"))
        pw.court.deploy("dev0")
        ws = pw.ws
        client, freelancer = pw.signer("dev1"), pw.signer("dev2")
        pw.fund(client.address, pw.amount("100000"))
        pw.fund(freelancer.address, pw.amount("100000"))
        for name in ("dev3", "dev4", "dev5"):
            pw.court.transfer_pwk("dev0", pw.address(name), 1_000 * C.PWK)
            pw.court.stake(name, 300 * C.PWK)
        adapter = ws.arbitrable
        for who in (client, freelancer):
            ws.token.approve(who.key, adapter.address, 2**255)
        jobs, disputes, jurors = Jobs(ws), Disputes(ws), Jurors(ws)
        periods = disputes.periods()

        def ruled_case() -> int:
            """A 100-token case in its appeal period, the 3 jurors ruling for the freelancer."""
            job = jobs.post(
                client,
                budget=pw.amount("100"),
                deadline=ws.chain.next_timestamp() + 7 * DAY,
                review_period=3 * DAY,
                freelancer=freelancer.address,
                spec_hash=hashlib.sha256(b"spec").digest(),
                arbiter=adapter.address,
            ).job
            jobs.submit(freelancer, job.job_id, 0, hashlib.sha256(b"work").digest())
            case_id = disputes.open(freelancer, job.job_id, 0).case.case_id
            disputes.pay_fee(client, case_id)
            ws.chain.advance_time(periods[0] + 1)
            disputes.advance(pw.signer("dev0"), case_id)
            panel = disputes.show(case_id).rounds[-1].panel
            for juror in sorted({s.juror for s in panel}):
                jurors.commit(ws.signer(ws.name_of(juror) or juror), case_id, 1)
            for juror in sorted({s.juror for s in panel}):
                jurors.reveal(ws.signer(ws.name_of(juror) or juror), case_id)
            assert disputes.show(case_id).dispute.period == C.Period.APPEAL  # type: ignore[union-attr]
            return case_id

        def both(case_id: int) -> dict[str, int]:
            first = adapter.fund_appeal(client.key, case_id).gas_used
            second = adapter.fund_appeal(freelancer.key, case_id).gas_used
            assert adapter.appeal_funding(case_id).appeals == 1
            return {"fund_appeal (loser, first)": first, "fund_appeal (winner, appeals)": second}

        def lone(case_id: int) -> dict[str, int]:
            steps = {"fund_appeal (loser, alone)": adapter.fund_appeal(client.key, case_id).gas_used}
            ws.chain.advance_time(periods[3] + 1)
            dispute = adapter.case(case_id).dispute_id
            steps["court execute_ruling + rule (lone funder)"] = ws.court.execute_ruling(
                pw.signer("dev0").key, dispute
            ).gas_used
            assert adapter.case(case_id).ruling == 2  # the client's full win, by default
            job = jobs.get(adapter.case(case_id).job_id)
            steps["execute_ruling (lone deposit back)"] = adapter.execute_ruling(
                pw.signer("dev0").key, case_id, job
            ).gas_used
            return steps

        both(ruled_case())  # warm-up
        steps = both(ruled_case())
        steps.update(lone(ruled_case()))
    for k, v in steps.items():
        print(f"  {k:<44} {v:>9,}")
    print(
        json.dumps(
            {
                "adapter_fund_appeal_first_gas": steps["fund_appeal (loser, first)"],
                "adapter_fund_appeal_second_gas": steps["fund_appeal (winner, appeals)"],
                "adapter_fund_appeal_lone_gas": steps["fund_appeal (loser, alone)"],
                "court_execute_lone_rule_gas": steps["court execute_ruling + rule (lone funder)"],
                "adapter_execute_lone_gas": steps["execute_ruling (lone deposit back)"],
                "measured_at": int(time.time()),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
