"""`proofwork demo --labeling`: a labeling campaign over scikit-learn's bundled digits, worked end to end
by a simulated crowd through the real labeling service on a fresh embedded chain.

The client escrows the budget in `LabelPayouts`; 1,797 digit images (10 % of them gold, committed and
hidden) get 3 labels each from 50 simulated labelers (60 % right with probability 0.9, 20 % with 0.6,
10 % answering at random, 10 % always giving the same digit), each batch signed (EIP-712) by its
labeler's key and checked by the service. After each round the local committee (4 oracles, f = 1)
recomputes the aggregation and the pay from the published bundle and signs the root; items the
aggregate is unsure of get extra labels in the next round. Then a relayer pays every labeler with
batch claims, anyone verifies the rounds, the dataset is exported (CSV, Parquet) and registered as an
asset whose labelers share its royalties, and the campaign closes: what was not spent returns to the
client. Speed is not an exclusion rule here: the simulated labelers answer at machine speed (the
service measures each batch by the wall clock); gold catches the random and one-class labelers.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from proofwork.domain.errors import LabelRefused
from proofwork.domain.units import parse_amount
from proofwork.keys.accounts import address_of
from proofwork.services.accounts import fund
from proofwork.services.deployment import deploy, deploy_assets, deploy_committee, deploy_labeling
from proofwork.services.labeling import campaigns, claims, export, rounds, simulate, work
from proofwork.services.workspace import Signer, Workspace

CROWD = 50
SEED = 7
ORACLES = ("dev6", "dev7", "dev8", "dev9")  # the local committee, f = 1
DAY = 86_400
WINDOW = 3_600  # the campaign's challenge window
MAX_ROUNDS = 6


@dataclass
class LabelingDemoReport:
    ok: bool = False
    steps: list[str] = field(default_factory=list)
    campaign_id: int = 0
    items: int = 0
    gold_items: int = 0
    labelers: dict[str, int] = field(default_factory=dict)  # kind -> how many
    ds_accuracy: float = 0.0
    mv_accuracy: float = 0.0
    labels_per_item: float = 0.0
    excluded: dict[str, str] = field(default_factory=dict)  # labeler -> kind: reason
    rounds: list[dict[str, Any]] = field(default_factory=list)  # round, root, total, labels, uncertain
    claims: dict[str, int] = field(default_factory=dict)  # labeler kind -> units paid in all
    balances: dict[str, dict[str, int]] = field(default_factory=dict)  # role -> before/after
    verified: list[int] = field(default_factory=list)  # rounds recomputed to their root by anyone
    dataset: dict[str, Any] = field(default_factory=dict)
    decimals: int = 6
    symbol: str = ""
    seconds: float = 0.0
    data_dir: str = ""
    problems: list[str] = field(default_factory=list)


def _labeler_signer(i: int) -> Signer:
    """A simulated labeler's key, derived from the demo's seed (they never need gas: a relayer claims)."""
    key = hashlib.sha256(f"proofwork demo labeler {SEED}:{i}".encode()).digest()
    return Signer(f"labeler{i}", address_of(key), key)


def _work_round(
    ws: Workspace,
    campaign_id: int,
    crowd: dict[str, tuple[simulate.SimLabeler, Signer]],
    truth: dict[str, str],
    labels: tuple[str, ...],
    rng: random.Random,
) -> int:
    """Every labeler takes batches in turn until none has work; returns the labels given."""
    given, active = 0, list(crowd)
    while active:
        still = []
        for address in active:
            sim, signer = crowd[address]
            try:
                batch = work.next_batch(ws, campaign_id, address)
            except LabelRefused as refused:
                if refused.reason in ("no_work", "labeler_cap", "budget_spent"):
                    continue
                raise
            answers = [(item, sim.answer(truth[item], labels, rng)) for item in batch.items]
            work.submit_batch(ws, campaign_id, batch.batch_id, answers, batch.sign(signer.key, answers))
            given += len(answers)
            still.append(address)
        active = still
    return given


def run_labeling_demo(
    ws: Workspace, serve: Any = None, on_step: Callable[[str], None] = lambda _: None
) -> LabelingDemoReport:
    """The story (see the module doc). `serve` is unused (the `run_story` shape): the committee's
    oracles recompute and sign in process with the keys this node holds."""
    started = time.monotonic()
    report = LabelingDemoReport(data_dir=str(ws.data_dir))

    def step(text: str) -> None:
        report.steps.append(text)
        on_step(text)

    operator, client, relayer = ws.signer("dev0"), ws.signer("dev1"), ws.signer("dev2")
    deploy(ws, operator)
    deploy_committee(ws, operator, [ws.address(o) for o in ORACLES], f=1)
    deploy_labeling(ws, operator)
    deploy_assets(ws, operator)
    token = ws.token
    report.decimals, report.symbol = token.decimals, token.symbol

    data = simulate.digits_data()
    report.items = len(data.items)
    for item in data.items:
        ws.store.add_bytes(data.content[item])
    gold_rng = random.Random(f"gold:{SEED}")
    gold = {
        item: data.truth[item] for item in sorted(gold_rng.sample(sorted(data.items), len(data.items) // 10))
    }
    report.gold_items = len(gold)
    spec_doc = _spec(data, ws.deployment.token)
    fund(ws, client.address, int(spec_doc["budget"]) + parse_amount("1", token.decimals))
    before = {"client": token.balance_of(client.address), "relayer": token.balance_of(relayer.address)}
    created = campaigns.create_campaign(
        ws,
        client,
        json.dumps(spec_doc).encode(),
        json.dumps(gold).encode(),
        challenge_window=WINDOW,
        duration=30 * DAY,
    )
    cid = report.campaign_id = created.campaign_id
    step(
        f"campaign {cid}: {report.items} digit images, {report.gold_items} gold (committed, hidden), "
        f"budget {spec_doc['budget']} units escrowed in LabelPayouts"
    )

    crowd_sims = simulate.make_crowd(
        CROWD, data.labels, SEED, [_labeler_signer(i).address.lower() for i in range(CROWD)]
    )
    crowd = {s.address: (s, _labeler_signer(i)) for i, s in enumerate(crowd_sims)}
    for sim in crowd_sims:
        report.labelers[sim.kind] = report.labelers.get(sim.kind, 0) + 1
    rng = random.Random(f"answers:{SEED}")
    total_labels = 0
    outcome = None
    for _ in range(MAX_ROUNDS):
        given = _work_round(ws, cid, crowd, dict(data.truth), data.labels, rng)
        if not given and outcome is not None:
            break
        total_labels += given
        outcome = rounds.run_round(ws, relayer, cid, [ws.signer(o) for o in ORACLES])
        uncertain = outcome.uncertain
        report.rounds.append(
            {
                "round": outcome.round,
                "labels": given,
                "root": "0x" + outcome.root.hex(),
                "total": outcome.total,
                "excluded": len(outcome.excluded),
                "uncertain": uncertain,
            }
        )
        step(
            f"round {outcome.round}: {given} signed labels; the committee recomputed and signed root "
            f"0x{outcome.root.hex()[:16]}... owing {outcome.total} units; {len(outcome.excluded)} labelers "
            f"excluded, {uncertain} items to label again"
        )
        ws.chain.advance_time(WINDOW + 1)
        if not uncertain:
            break
    assert outcome is not None

    final = rounds.verify_round(ws, cid, outcome.round)
    result = final.again.result
    for r in report.rounds:
        if rounds.verify_round(ws, cid, r["round"]).matches:
            report.verified.append(r["round"])
    kind_of = {a: s.kind for a, (s, _) in crowd.items()}
    report.excluded = {a: f"{kind_of.get(a, '?')}: {why}" for a, why in result.excluded.items()}
    truth = dict(data.truth)
    report.ds_accuracy = simulate.accuracy_against(truth, result.by_aggregator["dawid_skene"])
    report.mv_accuracy = simulate.accuracy_against(truth, result.by_aggregator["majority_vote"])
    report.labels_per_item = round(total_labels / len(data.items), 3)
    step(
        f"aggregate accuracy against the true digits: Dawid-Skene {report.ds_accuracy:.4f}, majority vote "
        f"{report.mv_accuracy:.4f}, {report.labels_per_item} labels per item"
    )

    paid = claims.claim(ws, relayer, cid)
    for address, amount in paid.paid.items():
        kind = kind_of.get(address, "?")
        report.claims[kind] = report.claims.get(kind, 0) + amount
    step(
        f"a relayer paid {len(paid.paid)} labelers in {len(paid.receipts)} batch claims "
        f"({sum(r.gas_used for r in paid.receipts):,} gas); labelers paid no gas"
    )

    exported = export.export_round(
        ws, cid, None, ws.data_dir / "labeled-digits", registrant=client, license="CC-BY-4.0"
    )
    report.dataset = exported.to_json()
    step(
        f"dataset exported (CSV, Parquet, labelers.csv) and registered as asset {exported.asset_id}; "
        f"its labelers share its royalties through {exported.royalties}"
    )

    ws.chain.advance_time(30 * DAY)
    refund, _ = campaigns.close_campaign(ws, relayer, cid)
    step(f"campaign closed: {refund} units not spent returned to the client")
    after = {"client": token.balance_of(client.address), "relayer": token.balance_of(relayer.address)}
    report.balances = {role: {"before": before[role], "after": after[role]} for role in before}

    problems = report.problems
    spent = before["client"] - after["client"]
    if spent != sum(paid.paid.values()):
        problems.append(f"the client spent {spent} units, the labelers were paid {sum(paid.paid.values())}")
    if after["relayer"] != before["relayer"]:
        problems.append("the relayer's token balance changed")
    if report.ds_accuracy < report.mv_accuracy:
        problems.append("Dawid-Skene was less accurate than majority vote")
    if len(report.verified) != len(report.rounds):
        problems.append("a round did not recompute to its root")
    report.ok = not problems
    report.seconds = round(time.monotonic() - started, 1)
    return report


def _spec(data: simulate.CampaignData, token: str) -> dict[str, Any]:
    """The demo's spec as the service takes it (the gold commitments are filled in at creation)."""
    levers = dict(simulate.DEMO_LEVERS)
    exclusion = dict(levers["exclusion"])  # type: ignore[call-overload]
    exclusion["min_ms_per_label"] = 0  # machine-speed labelers: the wall clock cannot tell them apart
    levers["exclusion"] = exclusion
    pay = levers["pay"]
    assert isinstance(pay, dict)
    per_label = int(pay["price_per_label"]) + int(pay["quality_bonus"])
    return {
        **levers,
        "version": 1,
        "name": "digits-demo",
        "token": token,
        "budget": len(data.items) * int(str(levers["max_labels_per_item"])) * per_label,
        "items": list(data.items),
        "labels": list(data.labels),
        "gold": {"share_bps": 1_000},
        "eligibility": {"kind": "anyone"},
    }
