"""Quality of a labeling campaign (issue 14): the demo's campaign (scikit-learn's 1,797 digits, 10 %
gold) worked by the simulated crowd of `services/labeling/simulate.py` (60 % right with probability
0.9, 20 % with 0.6, 10 % random, 10 % one class), round by round as the labeling service serves it,
with the demo spec's levers (`simulate.DEMO_LEVERS`: 3 labels, up to 6 when Dawid-Skene's confidence
is below 99 %, exclusion after 5 gold answers below 40 % right or a median under 700 ms a label).

Figures, per seed and averaged over the seeds:
- `ds_accuracy`, `mv_accuracy`: the final round's Dawid-Skene and majority-vote labels against the
  true digits, over the campaign's non-gold items (an item left without a label counts as wrong), on
  the same answers (the issue's bound: at least 0.98, and Dawid-Skene at least majority vote);
- `labels_per_item`: every answer given (gold, excluded labelers' answers and extra labels included)
  over the 1,797 items (the issue's bound: at most 4);
- `compute_round_s`: `compute_round` over all the campaign's answers (the last round), crowd-kit
  already imported; `compute_round_max_s`: the slowest round of the runs (the first round, which
  imports crowd-kit and pandas, left out);
- the same three quality figures with gold revealed once it has `labels_per_item` answers
  (`*_reveal_full`; the service today reveals a gold item after its first round, see simulate.py);
- `*_baseline`: 3 labels an item, neither exclusion nor extra labels (the issue: about 0.88 for
  Dawid-Skene);
- excluded labelers by kind (summed over seeds) and `run_s`, the whole bench's time.

Usage: python bench/label_quality.py [--seeds 1,2,3] [--crowd 50]. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from proofwork.evaluation.label_quality import compute_round  # noqa: E402
from proofwork.services.labeling.simulate import (  # noqa: E402
    CampaignData,
    CampaignRun,
    GoldFile,
    accuracy_against,
    demo_spec,
    digits_data,
    make_crowd,
    make_gold,
    run_campaign,
)

TOKEN = "0x" + "1" * 40
# The reference point: 3 labels an item, no exclusion, no extra labels.
BASELINE = {
    "max_labels_per_item": 3,
    "extra_below_bps": 0,
    "exclusion": {"min_gold_answers": 0, "min_gold_accuracy_bps": 0, "min_ms_per_label": 0},
}


def figures(data: CampaignData, gold: GoldFile, run: CampaignRun) -> dict[str, float]:
    final = run.final
    non_gold = len(data.items) - len(gold.labels)
    ds = accuracy_against(data.truth, final.by_aggregator["dawid_skene"]) * len(final.items) / non_gold
    mv = accuracy_against(data.truth, final.by_aggregator["majority_vote"]) * len(final.items) / non_gold
    return {
        "ds_accuracy": round(ds, 4),
        "mv_accuracy": round(mv, 4),
        "labels_per_item": round(len(run.answers) / len(data.items), 3),
        "rounds": len(run.rounds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated seeds")
    parser.add_argument("--crowd", type=int, default=50, help="simulated labelers")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    started = time.perf_counter()
    data = digits_data()
    rows: dict[str, list[dict[str, float]]] = {"service": [], "reveal_full": [], "baseline": []}
    excluded: Counter[str] = Counter()
    round_times: list[float] = []
    last_round_s = 0.0
    for seed in seeds:
        gold = make_gold(data, 1_000, f"bench-secret-{seed}".encode(), seed)
        spec = demo_spec(data, gold, token=TOKEN)
        baseline = demo_spec(data, gold, token=TOKEN, levers=BASELINE)
        crowd = make_crowd(args.crowd, data.labels, seed)
        kinds = {c.address: c.kind for c in crowd}
        for mode, reveal_at in (("service", 1), ("reveal_full", spec.labels_per_item), ("baseline", 1)):
            used = baseline if mode == "baseline" else spec
            run = run_campaign(used, data, gold, crowd, seed=seed, reveal_at=reveal_at)
            row = figures(data, gold, run)
            row["excluded"] = len(run.final.excluded)
            rows[mode].append(row)
            round_times += run.round_seconds[0 if round_times else 1 :]  # the first imports crowd-kit
            if mode == "service":
                excluded.update(kinds[a] for a in run.final.excluded)
                t0 = time.perf_counter()
                again = compute_round(
                    spec, run.answers, run.reveals, gold.commitments, floor=run.rounds[-2].owed
                )
                last_round_s = max(last_round_s, time.perf_counter() - t0)
                assert again == run.final
            print(f"seed {seed} {mode:<12} {json.dumps(row)}", file=sys.stderr)

    def mean(mode: str, key: str) -> float:
        return round(statistics.fmean(r[key] for r in rows[mode]), 4)

    out: dict[str, object] = {
        "ds_accuracy": mean("service", "ds_accuracy"),
        "mv_accuracy": mean("service", "mv_accuracy"),
        "labels_per_item": mean("service", "labels_per_item"),
        "ds_accuracy_min": min(r["ds_accuracy"] for r in rows["service"]),
        "labels_per_item_max": max(r["labels_per_item"] for r in rows["service"]),
        "ds_at_least_mv_seeds": sum(r["ds_accuracy"] >= r["mv_accuracy"] for r in rows["service"]),
        "ds_accuracy_reveal_full": mean("reveal_full", "ds_accuracy"),
        "mv_accuracy_reveal_full": mean("reveal_full", "mv_accuracy"),
        "labels_per_item_reveal_full": mean("reveal_full", "labels_per_item"),
        "ds_at_least_mv_seeds_reveal_full": sum(
            r["ds_accuracy"] >= r["mv_accuracy"] for r in rows["reveal_full"]
        ),
        "ds_accuracy_baseline": mean("baseline", "ds_accuracy"),
        "mv_accuracy_baseline": mean("baseline", "mv_accuracy"),
        "excluded_by_kind": dict(sorted(excluded.items())),
        "compute_round_s": round(last_round_s, 3),
        "compute_round_max_s": round(max(round_times), 3),
        "seeds": seeds,
        "crowd": args.crowd,
        "run_s": round(time.perf_counter() - started, 1),
    }
    for key, value in out.items():
        print(f"  {key:<34} {value}", file=sys.stderr)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
