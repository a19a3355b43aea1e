"""`proofwork demo --ml`: ML work paid because it measurably works.

A client posts a digit-classification task (scikit-learn's bundled `load_digits`, no
download) with a hidden test set, once to each of two freelancers. Both train a model,
export it to ONNX and submit it. A committee of four oracles, one of which lies, scores
each model in the sandbox; the aggregated reports pay the good model and refund the weak
one. The labels are then revealed and every score is recomputed from public artifacts.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proofwork.db.oracle_state import OracleState, oracle_db_path
from proofwork.domain.units import parse_amount
from proofwork.evaluation.runner import Evaluator
from proofwork.evaluation.sandbox import Sandbox
from proofwork.keys.sealing import public_key_of
from proofwork.network.peers import HttpPeers
from proofwork.services.accounts import fund
from proofwork.services.deployment import deploy, deploy_committee
from proofwork.services.evaluated_jobs import Evaluations
from proofwork.services.oracle.node import AGGREGATION_GRACE, OracleNode
from proofwork.services.workspace import Signer, Workspace
from proofwork.storage.unixfs import cid_digest

# Starts an oracle's report endpoint over its database; returns something with `.url` and `.stop()`.
ServeReports = Callable[[OracleState, str], Any]

DAY = 86_400
CHALLENGE_WINDOW = 600
THRESHOLD = 0.9


@dataclass
class MlDemoReport:
    ok: bool = False
    steps: list[str] = field(default_factory=list)
    scores: dict[str, Any] = field(default_factory=dict)  # per freelancer: median, per-oracle reports
    payouts: dict[str, int] = field(default_factory=dict)  # token units received by each party
    verified: dict[str, bool] = field(default_factory=dict)
    outliers: dict[str, int] = field(default_factory=dict)
    isolation: str = ""
    data_dir: str = ""
    decimals: int = 6
    problems: list[str] = field(default_factory=list)


def _write_csv(path: Path, header: list[str], rows: Any) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def prepare_task(workdir: Path, test_share: float = 0.3) -> dict[str, Any]:
    """Data, spec and labels of the digits task, as files a client would hold."""
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x.astype(np.float32), y, test_size=test_share, random_state=7, stratify=y
    )
    workdir.mkdir(parents=True, exist_ok=True)
    features = [f"pixel{i}" for i in range(x.shape[1])]
    paths = {
        "train": workdir / "train.csv",
        "test_features": workdir / "test_features.csv",
        "labels": workdir / "labels.csv",
    }
    _write_csv(
        paths["train"],
        [*features, "label"],
        ([*map(float, row), int(lbl)] for row, lbl in zip(x_train, y_train, strict=True)),
    )
    _write_csv(paths["test_features"], features, ([*map(float, row)] for row in x_test))
    _write_csv(paths["labels"], ["label"], ([int(lbl)] for lbl in y_test))
    return {"paths": paths, "x_train": x_train, "y_train": y_train, "n_features": x.shape[1]}


def write_spec(path: Path, train_cid: str, features_cid: str) -> Path:
    path.write_text(
        "version: 1\n"
        "name: digits-classifier\n"
        "task: classification\n"
        "metric: accuracy\n"
        f"threshold: {THRESHOLD}\n"
        "data:\n"
        f"  train: {train_cid}\n"
        f"  test_features: {features_cid}\n"
        "  label_column: label\n"
        "submission:\n"
        "  kind: onnx\n"
        "  input: input\n"
        "  output: label\n"
        "limits: {memory_mb: 1024, cpu_seconds: 60, wall_seconds: 120, max_submission_mb: 64}\n"
    )
    return path


def stored_task(ws: Workspace, workdir: Path) -> tuple[dict[str, Any], Path]:
    """The digits task prepared in `workdir` (`prepare_task`), its public train set and test features
    added to the store (their CIDs in `train_cid`, `features_cid`) and its spec written: (task, spec)."""
    task = prepare_task(workdir)
    task["train_cid"] = ws.store.add_file(task["paths"]["train"])
    task["features_cid"] = ws.store.add_file(task["paths"]["test_features"])
    return task, write_spec(workdir / "spec.yaml", task["train_cid"], task["features_cid"])


def train_onnx(x: Any, y: Any, out: Path, weak: bool) -> Path:
    """A freelancer's work: a model trained on the public train set, exported to ONNX."""
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    model: Any = (
        DecisionTreeClassifier(max_depth=3, random_state=0) if weak else LogisticRegression(max_iter=2000)
    )
    model.fit(x, y)
    onnx_model = to_onnx(
        model, x[:1], options={id(model): {"zipmap": False}}, target_opset={"": 17, "ai.onnx.ml": 3}
    )
    _rename_input(onnx_model, "input")
    out.write_bytes(onnx_model.SerializeToString())
    return out


def _rename_input(model: Any, name: str) -> None:
    old = model.graph.input[0].name
    model.graph.input[0].name = name
    for node in model.graph.node:
        for i, value in enumerate(node.input):
            if value == old:
                node.input[i] = name


def start_oracles(
    ws: Workspace,
    stack: ExitStack,
    signers: list[Signer],
    evaluator: Evaluator,
    peers: HttpPeers,
    serve: ServeReports,
    liars: dict[str, Callable[[str, int, int], int]] | None = None,
    attest: bool = False,
) -> list[OracleNode]:
    """In-process oracles of the committee: each with its database and report endpoint (closed by
    `stack`), its key and URL published on chain; `liars` tamper with their reports; `attest`: the
    settling oracle attests JobCompleted at once."""
    nodes = []
    for signer in signers:
        state = OracleState.open(
            oracle_db_path(ws.data_dir, signer.address), oracle=signer.address, chain_id=ws.chain_id
        )
        stack.callback(state.close)
        server = serve(state, signer.address)
        stack.callback(server.stop)
        ws.committee.register_oracle(signer.key, public_key_of(signer.key), server.url)
        nodes.append(
            OracleNode(
                ws,
                signer,
                state,
                evaluator,
                peers,
                workdir=ws.data_dir / "oracles" / signer.name,
                tamper=(liars or {}).get(signer.address),
                attest=attest,
            )
        )
    return nodes


def run_ml_demo(
    ws: Workspace, serve: ServeReports, on_step: Callable[[str], None] = lambda _: None
) -> MlDemoReport:
    report = MlDemoReport(data_dir=str(ws.data_dir))

    def step(text: str) -> None:
        report.steps.append(text)
        on_step(text)

    operator, client, good, weak = (ws.signer(f"dev{i}") for i in range(4))
    oracle_signers = [ws.signer(f"dev{i}") for i in range(6, 10)]
    liar = oracle_signers[-1]
    deploy(ws, operator)
    deploy_committee(
        ws, operator, [o.address for o in oracle_signers], f=1, challenge_window=CHALLENGE_WINDOW
    )
    committee = ws.committee
    step(
        f"committee of 4 oracles deployed (f=1, {committee.threshold} signatures, challenge window {CHALLENGE_WINDOW} s)"
    )
    token = ws.token
    report.decimals = token.decimals
    fund(ws, client.address, parse_amount("5000", token.decimals))
    for who in (good, weak):
        fund(ws, who.address, 0)

    with ExitStack() as stack:
        sandbox = stack.enter_context(Sandbox(debug=ws.settings.sandbox_debug))
        report.isolation = sandbox.isolation
        evaluator = Evaluator(sandbox)
        peers = HttpPeers()
        stack.callback(peers.close)
        nodes = start_oracles(ws, stack, oracle_signers, evaluator, peers, serve, liars={liar.address: _liar})
        step("each oracle published its key and report endpoint on chain; dev9 will lie")

        task, spec_path = stored_task(ws, ws.data_dir / "client")
        paths = task["paths"]
        step(
            f"client stored the public train set ({task['train_cid']}) and test features ({task['features_cid']})"
        )

        evaluations = Evaluations(ws, evaluator)
        budget = parse_amount("500", token.decimals)
        jobs: dict[str, int] = {}
        for role, freelancer in (("good", good), ("weak", weak)):
            outcome, evaluation = evaluations.post(
                client,
                spec_path,
                paths["labels"],
                budget=budget,
                deadline=ws.chain.next_timestamp() + 7 * DAY,
                review_period=2 * DAY,
                freelancer=freelancer.address,
            )
            jobs[role] = outcome.job.job_id
            step(
                f"client posted job {outcome.job.job_id} for {freelancer.name} (500 pwUSD, accuracy >= {THRESHOLD}); "
                f"labels committed 0x{evaluation.commitment.hex()[:16]}… and sealed to the oracles"
            )

        before = {p.name: token.balance_of(p.address) for p in (client, good, weak)}
        for role, freelancer in (("good", good), ("weak", weak)):
            model = train_onnx(
                task["x_train"],
                task["y_train"],
                ws.data_dir / f"{freelancer.name}-model.onnx",
                weak=role == "weak",
            )
            cid = ws.store.add_file(model)
            evaluations.jobs.submit(freelancer, jobs[role], 0, cid_digest(cid))
            step(
                f"{freelancer.name} trained a {'weak decision tree' if role == 'weak' else 'logistic regression'}, exported ONNX {cid} and submitted it"
            )

        def run_oracles() -> None:
            for node in nodes:
                done = node.step()
                for line in done.settled:
                    step(f"{node.signer.name} aggregated the signed reports and settled {line}")
                for job_id in done.revealed:
                    step(
                        f"{node.signer.name} revealed the hidden labels of job {job_id} (anyone can re-check now)"
                    )

        run_oracles()
        step("oracles scored both models in the sandbox, signed their reports and serve them over HTTP")
        ws.chain.advance_time(CHALLENGE_WINDOW + AGGREGATION_GRACE + 1)
        step("the challenge window passed with no dispute")
        run_oracles()
        run_oracles()

        after = {p.name: token.balance_of(p.address) for p in (client, good, weak)}
        report.payouts = {name: after[name] - before[name] for name in after}
        for role, freelancer in (("good", good), ("weak", weak)):
            evaluation = evaluations.get(jobs[role])
            reports = {
                n.signer.name: r.score
                for n in nodes
                for r in n.state.reports(committee.address, "job", jobs[role])
            }
            median = evaluation.settlements[0]["median"] if evaluation.settlements else None
            passed = evaluation.settlements[0]["passed"] if evaluation.settlements else None
            report.scores[freelancer.name] = {
                "job": jobs[role],
                "median": median,
                "passed": passed,
                "reports": reports,
            }
            checks = evaluations.verify(jobs[role])
            report.verified[freelancer.name] = bool(checks) and all(c.matches for c in checks)
            step(
                f"verify-score job {jobs[role]}: recomputed "
                + ", ".join(
                    f"{c.recomputed} vs paid on {c.paid_on}: {'match' if c.matches else 'MISMATCH'}"
                    for c in checks
                )
            )
        report.outliers = {o.name: committee.outlier_reports(o.address) for o in oracle_signers}

    good_score, weak_score = report.scores[good.name], report.scores[weak.name]
    if not good_score["passed"]:
        report.problems.append("the good model was not paid")
    if weak_score["passed"] is not False:
        report.problems.append("the weak model was not refused")
    if report.payouts[good.name] <= 0 or report.payouts[weak.name] != 0:
        report.problems.append(f"unexpected payouts {report.payouts}")
    if not all(report.verified.values()):
        report.problems.append("a recomputed score does not match what was paid on")
    if report.outliers.get(liar.name, 0) < 1:
        report.problems.append("the lying oracle's reports were not recorded as outliers")
    report.ok = not report.problems
    return report


def _liar(kind: str, subject: int, honest: int) -> int:
    """The byzantine oracle: claims every model is perfect."""
    return 1_000_000
