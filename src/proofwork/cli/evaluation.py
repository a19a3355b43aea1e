"""Verified evaluation's artifacts and jobs: `store add|get`, `eval run|post|show|register|reveal`, `verify-score`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from proofwork.cli.args import FromOpt, JobArg, cli_state, existing_file, plain, uint_id
from proofwork.cli.output import money
from proofwork.domain.errors import InvalidInput, NotFound
from proofwork.domain.units import parse_amount, parse_duration

store_app = typer.Typer(
    help="Content-addressed artifacts (IPFS CIDv1, unixfs-v1-2025).", no_args_is_help=True
)
eval_app = typer.Typer(help="Evaluated jobs: hidden test sets, local scoring, reveal.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(store_app, name="store")
    app.add_typer(eval_app, name="eval")
    app.command("verify-score")(verify_score)


@store_app.command("add")
def store_add(ctx: typer.Context, file: Annotated[Path, typer.Argument(help="File to add.")]) -> None:
    """Add a file; prints its CID (the same CID IPFS computes under unixfs-v1-2025)."""
    from proofwork.storage.store import open_store

    state = cli_state(ctx)
    store = open_store(state.settings.store or state.settings.data_dir / "store")
    cid = store.add_file(existing_file(file, "input"))
    state.emit({"cid": cid}, cid)


@store_app.command("get")
def store_get(
    ctx: typer.Context,
    cid: Annotated[str, typer.Argument(help="CID to read.")],
    out: Annotated[Path, typer.Argument(help="Where to write the file.")],
) -> None:
    """Write an artifact back to a file, verified block by block against its CID."""
    from proofwork.storage.store import open_store

    state = cli_state(ctx)
    store = open_store(state.settings.store or state.settings.data_dir / "store")
    if out.is_dir():
        raise InvalidInput(f"{out} is a directory: give a file path")
    store.get(cid.strip(), out)
    state.emit({"ok": True, "cid": cid, "path": str(out), "bytes": out.stat().st_size}, f"wrote {out}")


@eval_app.command("run")
def eval_run(
    ctx: typer.Context,
    spec: Annotated[Path, typer.Argument(help="Task spec (YAML or JSON).")],
    submission: Annotated[
        Path, typer.Argument(help="ONNX model, predictions file (CSV/Parquet) or zip bundle.")
    ],
    labels: Annotated[Path, typer.Option(help="Labels file to score against (CSV/Parquet).")],
    features: Annotated[
        Path | None,
        typer.Option(help="Test features file; default: the spec's test_features CID from the store."),
    ] = None,
) -> None:
    """Score a submission locally, in the same sandbox and the same way as an oracle."""
    from proofwork.domain.evalspec import parse_spec
    from proofwork.evaluation.runner import Evaluator
    from proofwork.evaluation.sandbox import Sandbox
    from proofwork.services.task_files import MAX_LABELS_BYTES, TaskFiles
    from proofwork.storage.store import open_store

    state = cli_state(ctx)
    parsed = parse_spec(existing_file(spec, "spec").read_bytes())
    existing_file(submission, "submission")
    existing_file(labels, "labels")
    if features is None:
        store = open_store(state.settings.store or state.settings.data_dir / "store")
        files = TaskFiles(store, state.settings.data_dir / "work")
        features = files.fetch(parsed.data.test_features, MAX_LABELS_BYTES)
    else:
        existing_file(features, "features")
    with Sandbox(debug=state.settings.sandbox_debug) as sandbox:
        result = Evaluator(sandbox).evaluate(parsed, submission, features, labels)
    data = result.to_json()
    human = (
        f"score {result.score} ({result.score / 1e6:.6f} {parsed.metric}); "
        + ("passes" if result.passed else "does not pass")
        + f" the threshold {parsed.threshold}"
        if result.ok and result.score is not None
        else f"scoring failed: {result.reason}"
    )
    if state.json:
        state.emit(data)
    else:
        state.console.print(human, markup=False)
    if not result.ok:
        raise typer.Exit(1)


@eval_app.command("post")
def eval_post(
    ctx: typer.Context,
    sender: FromOpt,
    spec: Annotated[
        Path,
        typer.Option(
            help="Task spec (YAML or JSON); the job's spec hash binds its CID digest and pass score."
        ),
    ],
    labels: Annotated[
        Path, typer.Option(help="Hidden test labels: committed on chain, sealed to the oracles.")
    ],
    budget: Annotated[str, typer.Option(help="Budget in tokens, e.g. 500.")],
    freelancer: Annotated[str, typer.Option(help="Freelancer name or address.")],
    deadline: Annotated[str, typer.Option(help="Delivery deadline from now, e.g. 7d.")] = "7d",
    review: Annotated[
        str,
        typer.Option(help="Review window per submission (longer than three challenge windows and an hour)."),
    ] = "3d",
    milestones: Annotated[int, typer.Option(help="Number of milestones (each judged by the spec).")] = 1,
) -> None:
    """Post an escrowed job that the oracle committee pays on a passing score."""
    from proofwork.services.evaluated_jobs import Evaluations

    state = cli_state(ctx)
    with state.workspace() as ws:
        decimals = ws.token.decimals
        outcome, evaluation = Evaluations(ws).post(
            ws.signer(sender),
            existing_file(spec, "spec"),
            existing_file(labels, "labels"),
            budget=parse_amount(budget, decimals),
            milestones=milestones,
            deadline=ws.chain.next_timestamp() + parse_duration(deadline),
            review_period=parse_duration(review),
            freelancer=ws.address(freelancer, "freelancer"),
        )
        steps = [{"name": n, "tx": r.tx_hash, "gas": r.gas_used} for n, r in outcome.receipts]
        state.emit(
            {
                "ok": True,
                "job_id": outcome.job.job_id,
                "commitment": "0x" + evaluation.commitment.hex(),
                "sealed_labels": evaluation.sealed_labels,
                "spec_hash": "0x" + evaluation.spec_hash.hex(),
                "spec_digest": "0x" + evaluation.spec_digest.hex(),
                "steps": steps,
            },
            f"job {outcome.job.job_id} posted: {money(outcome.job.budget, decimals, ws.token.symbol)} in escrow, "
            f"judged by the committee (labels commitment 0x{evaluation.commitment.hex()})",
        )


@eval_app.command("show")
def eval_show(ctx: typer.Context, job_id: JobArg) -> None:
    """The evaluation of a job: commitment, threshold, settled scores, revealed labels."""
    from proofwork.services.evaluated_jobs import Evaluations, evaluation_json

    state = cli_state(ctx)
    uint_id(job_id)
    with state.workspace() as ws:
        evaluations = Evaluations(ws)
        evaluation = evaluations.get(job_id)
        problem = evaluations.binding_problem(evaluations.jobs.get(job_id), evaluation)
        data = evaluation_json(evaluation, problem)
    lines = [
        f"job {job_id}: threshold {data['threshold']} ({'higher' if data['higher_is_better'] else 'lower'} is better)"
    ]
    if problem is not None:
        lines.append(f"  WARNING: {problem}")
    lines += [
        f"  milestone {s['milestone'] + 1} round {s['round']}: median {s['median']}, {'passed' if s['passed'] else 'failed'}"
        for s in data["settlements"]
    ]
    lines.append(
        f"  labels: {'revealed ' + data['revealed']['labels_cid'] if data['revealed'] else 'hidden'}"
    )
    state.emit({"ok": True, **data}, plain("\n".join(lines)))


@eval_app.command("register")
def eval_register(ctx: typer.Context, job_id: JobArg, sender: FromOpt) -> None:
    """Register the evaluation of a job whose registration failed after `eval post` created it."""
    from proofwork.services.evaluated_jobs import Evaluations

    state = cli_state(ctx)
    uint_id(job_id)
    with state.workspace() as ws:
        out = Evaluations(ws).register(ws.signer(sender), job_id)
        steps = [{"name": n, "tx": r.tx_hash, "gas": r.gas_used} for n, r in out.receipts]
        state.emit(
            {"ok": True, "job_id": job_id, "steps": steps},
            f"the evaluation of job {job_id} is registered with the committee",
        )


@eval_app.command("reveal")
def eval_reveal(ctx: typer.Context, job_id: JobArg, sender: FromOpt) -> None:
    """After settlement, publish the hidden labels and reveal (labels CID, salt) on chain."""
    from proofwork.services.evaluated_jobs import Evaluations

    state = cli_state(ctx)
    uint_id(job_id)
    with state.workspace() as ws:
        out = Evaluations(ws).reveal(ws.signer(sender), job_id)
        tx = out.receipts[0][1]
        state.emit(
            {"ok": True, "job_id": job_id, "tx": tx.tx_hash},
            f"labels of job {job_id} revealed (tx {tx.tx_hash})",
        )


def verify_score(ctx: typer.Context, job_id: JobArg) -> None:
    """Recompute every settled score of a job from public artifacts and compare with what was paid on."""
    from proofwork.evaluation.runner import Evaluator
    from proofwork.evaluation.sandbox import Sandbox
    from proofwork.services.evaluated_jobs import Evaluations

    state = cli_state(ctx)
    uint_id(job_id)
    with state.workspace() as ws, Sandbox(debug=state.settings.sandbox_debug) as sandbox:
        checks = Evaluations(ws, Evaluator(sandbox)).verify(job_id)
    ok = bool(checks) and all(c.matches for c in checks)
    data = {
        "ok": ok,
        "job_id": job_id,
        "scores": [
            {
                "milestone": c.milestone + 1,
                "round": c.round,
                "deliverable": c.deliverable,
                "paid_on": c.paid_on,
                "passed": c.passed,
                "recomputed": c.recomputed,
                "matches": c.matches,
                "reason": c.reason,
            }
            for c in checks
        ],
    }
    if not checks:
        raise NotFound(f"job {job_id} has no settled score to verify")
    human = "\n".join(
        f"milestone {c.milestone + 1} round {c.round}: paid on {c.paid_on}, recomputed {c.recomputed}: "
        + ("match" if c.matches else "MISMATCH")
        for c in checks
    )
    state.emit(data, plain(human))
    if not ok:
        raise typer.Exit(1)
