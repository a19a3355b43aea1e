"""Commands of verified ML evaluation: store, eval, committee, oracle, competition, leaderboard,
verify-score. Registered on the main app by `register`."""

from __future__ import annotations

import itertools
import logging
import math
import signal
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from proofwork.cli.args import uint_id
from proofwork.cli.output import CliState, money, when
from proofwork.domain.errors import InvalidInput, NotFound, ProofworkError
from proofwork.domain.units import parse_amount, parse_duration

store_app = typer.Typer(
    help="Content-addressed artifacts (IPFS CIDv1, unixfs-v1-2025).", no_args_is_help=True
)
eval_app = typer.Typer(help="Evaluated jobs: hidden test sets, local scoring, reveal.", no_args_is_help=True)
committee_app = typer.Typer(help="The evaluation-oracle committee.", no_args_is_help=True)
oracle_app = typer.Typer(help="Run an evaluation oracle.", no_args_is_help=True)
competition_app = typer.Typer(
    help="Competitions: a prize open to many until a deadline.", no_args_is_help=True
)

FromOpt = Annotated[str, typer.Option("--from", help="Signing account: a name (dev0, alice) or an address.")]
JobArg = Annotated[int, typer.Argument(help="Job id.")]
CompArg = Annotated[int, typer.Argument(help="Competition id.")]

MAX_URL_BYTES = 256  # the committee stores endpoints as String[256]: bytes, not characters
MAX_PLACES = 10


def _state(ctx: typer.Context) -> CliState:
    state = ctx.find_root().obj
    assert isinstance(state, CliState)
    return state


def register(app: typer.Typer) -> None:
    app.add_typer(store_app, name="store")
    app.add_typer(eval_app, name="eval")
    app.add_typer(committee_app, name="committee")
    app.add_typer(oracle_app, name="oracle")
    app.add_typer(competition_app, name="competition")
    app.command("verify-score")(verify_score)
    app.command("leaderboard")(leaderboard)


def _file(path: Path, what: str) -> Path:
    if not path.is_file():
        raise InvalidInput(f"no such {what} file: {path}")
    return path


_id = uint_id


def _url(url: str, option: str) -> str:
    """An endpoint URL to publish on chain: http(s) with a host, at most 256 bytes."""
    from proofwork.network.peers import endpoint_url

    text = url.strip()
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        raise InvalidInput(f"invalid {option}: a URL has no spaces or control characters")
    try:
        endpoint_url(text)
    except InvalidInput as exc:
        raise InvalidInput(
            f"invalid {option}: {exc} (expected http(s)://host[:port], at most 256 bytes)"
        ) from None
    return text


def _plain(text: str) -> Text:
    """Text printed as is: brackets in chain data, specs or reasons are not Rich markup."""
    return Text(text)


# --- store -------------------------------------------------------------------------------------------


@store_app.command("add")
def store_add(ctx: typer.Context, file: Annotated[Path, typer.Argument(help="File to add.")]) -> None:
    """Add a file; prints its CID (the same CID IPFS computes under unixfs-v1-2025)."""
    from proofwork.storage.store import open_store

    state = _state(ctx)
    store = open_store(state.settings.store or state.settings.data_dir / "store")
    cid = store.add_file(_file(file, "input"))
    state.emit({"cid": cid}, cid)


@store_app.command("get")
def store_get(
    ctx: typer.Context,
    cid: Annotated[str, typer.Argument(help="CID to read.")],
    out: Annotated[Path, typer.Argument(help="Where to write the file.")],
) -> None:
    """Write an artifact back to a file, verified block by block against its CID."""
    from proofwork.storage.store import open_store

    state = _state(ctx)
    store = open_store(state.settings.store or state.settings.data_dir / "store")
    if out.is_dir():
        raise InvalidInput(f"{out} is a directory: give a file path")
    store.get(cid.strip(), out)
    state.emit({"ok": True, "cid": cid, "path": str(out), "bytes": out.stat().st_size}, f"wrote {out}")


# --- eval --------------------------------------------------------------------------------------------


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

    state = _state(ctx)
    parsed = parse_spec(_file(spec, "spec").read_bytes())
    _file(submission, "submission")
    _file(labels, "labels")
    if features is None:
        store = open_store(state.settings.store or state.settings.data_dir / "store")
        files = TaskFiles(store, state.settings.data_dir / "work")
        features = files.fetch(parsed.data.test_features, MAX_LABELS_BYTES)
    else:
        _file(features, "features")
    with Sandbox() as sandbox:
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
        Path, typer.Option(help="Task spec (YAML or JSON); its CID digest becomes the job's spec hash.")
    ],
    labels: Annotated[
        Path, typer.Option(help="Hidden test labels: committed on chain, sealed to the oracles.")
    ],
    budget: Annotated[str, typer.Option(help="Budget in tokens, e.g. 500.")],
    freelancer: Annotated[str, typer.Option(help="Freelancer name or address.")],
    deadline: Annotated[str, typer.Option(help="Delivery deadline from now, e.g. 7d.")] = "7d",
    review: Annotated[
        str, typer.Option(help="Review window per submission (longer than the challenge window).")
    ] = "3d",
    milestones: Annotated[int, typer.Option(help="Number of milestones (each judged by the spec).")] = 1,
) -> None:
    """Post an escrowed job that the oracle committee pays on a passing score."""
    from proofwork.services.evaluated_jobs import Evaluations

    state = _state(ctx)
    with state.workspace() as ws:
        decimals = ws.token.decimals
        outcome, evaluation = Evaluations(ws).post(
            ws.signer(sender),
            _file(spec, "spec"),
            _file(labels, "labels"),
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
                "steps": steps,
            },
            f"job {outcome.job.job_id} posted: {money(outcome.job.budget, decimals, ws.token.symbol)} in escrow, "
            f"judged by the committee (labels commitment 0x{evaluation.commitment.hex()})",
        )


@eval_app.command("show")
def eval_show(ctx: typer.Context, job_id: JobArg) -> None:
    """The evaluation of a job: commitment, threshold, settled scores, revealed labels."""
    from proofwork.services.evaluated_jobs import Evaluations, evaluation_json

    state = _state(ctx)
    _id(job_id)
    with state.workspace() as ws:
        data = evaluation_json(Evaluations(ws).get(job_id))
    lines = [
        f"job {job_id}: threshold {data['threshold']} ({'higher' if data['higher_is_better'] else 'lower'} is better)"
    ]
    lines += [
        f"  milestone {s['milestone'] + 1} round {s['round']}: median {s['median']}, {'passed' if s['passed'] else 'failed'}"
        for s in data["settlements"]
    ]
    lines.append(
        f"  labels: {'revealed ' + data['revealed']['labels_cid'] if data['revealed'] else 'hidden'}"
    )
    state.emit({"ok": True, **data}, _plain("\n".join(lines)))


@eval_app.command("register")
def eval_register(ctx: typer.Context, job_id: JobArg, sender: FromOpt) -> None:
    """Register the evaluation of a job whose registration failed after `eval post` created it."""
    from proofwork.services.evaluated_jobs import Evaluations

    state = _state(ctx)
    _id(job_id)
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

    state = _state(ctx)
    _id(job_id)
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

    state = _state(ctx)
    _id(job_id)
    with state.workspace() as ws, Sandbox() as sandbox:
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
    state.emit(data, _plain(human))
    if not ok:
        raise typer.Exit(1)


# --- committee and oracles -----------------------------------------------------------------------------


@committee_app.command("deploy")
def committee_deploy(
    ctx: typer.Context,
    oracle: Annotated[list[str], typer.Option(help="Oracle account (repeat for each member).")],
    sender: FromOpt = "dev0",
    f: Annotated[int, typer.Option("--f", help="Faulty oracles tolerated (n > 3f).")] = 1,
    challenge_window: Annotated[str, typer.Option(help="Delay before a score is final, e.g. 1h.")] = "1h",
    force: Annotated[bool, typer.Option(help="Deploy a new committee even if one exists.")] = False,
) -> None:
    """Deploy an oracle committee (the arbiter of evaluated jobs) and a competition contract on it."""
    from proofwork.services.deployment import deploy_committee

    state = _state(ctx)
    with state.workspace() as ws:
        result = deploy_committee(
            ws,
            ws.signer(sender),
            [ws.address(o, "oracle") for o in oracle],
            f=f,
            challenge_window=parse_duration(challenge_window) if challenge_window not in ("0", "0s") else 0,
            force=force,
        )
        d = result.deployment
        state.emit(
            {"ok": True, "committee": d.committee, "competition": d.competition, "gas": result.gas},
            f"committee {d.committee} ({len(oracle)} oracles, threshold {ws.committee.threshold}); competitions {d.competition}",
        )


@committee_app.command("show")
def committee_show(ctx: typer.Context) -> None:
    """Members, threshold, keys and endpoints, outlier counts."""
    state = _state(ctx)
    with state.workspace() as ws:
        c = ws.committee
        members = [
            {
                "address": o,
                "name": ws.name_of(o),
                "endpoint": c.endpoint(o),
                "key_published": len(c.public_key(o)) == 64,
                "outlier_reports": c.outlier_reports(o),
            }
            for o in c.oracles
        ]
        data = {
            "ok": True,
            "address": c.address,
            "threshold": c.threshold,
            "f": c.f,
            "challenge_window": c.challenge_window,
            "oracles": members,
        }
    human = (
        f"committee {data['address']}: threshold {data['threshold']} of {len(members)} (f={data['f']}), challenge window {data['challenge_window']} s\n"
        + "\n".join(
            f"  {m['name'] or m['address']}: {m['endpoint'] or '(no endpoint)'}; outliers {m['outlier_reports']}"
            for m in members
        )
    )
    state.emit(data, _plain(human))


@oracle_app.command("register")
def oracle_register(
    ctx: typer.Context,
    sender: FromOpt,
    url: Annotated[str, typer.Option(help="Public URL of this oracle's report endpoint.")],
) -> None:
    """Publish this oracle's public key (for sealed labels) and report endpoint on the committee."""
    from proofwork.keys.sealing import public_key_of

    state = _state(ctx)
    url = _url(url, "--url")
    with state.workspace() as ws:
        signer = ws.signer(sender)
        receipt = ws.committee.register_oracle(signer.key, public_key_of(signer.key), url)
        state.emit({"ok": True, "tx": receipt.tx_hash}, _plain(f"{signer.name} registered at {url}"))


@oracle_app.command("run")
def oracle_run(
    ctx: typer.Context,
    sender: FromOpt,
    port: Annotated[int, typer.Option(help="Port of the report endpoint (0: any free port).")] = 0,
    host: Annotated[str, typer.Option(help="Interface of the report endpoint.")] = "127.0.0.1",
    interval: Annotated[
        float, typer.Option(help="Seconds between passes over the chain (0.05 to 3600).")
    ] = 2.0,
    once: Annotated[bool, typer.Option(help="One pass, then exit (no endpoint).")] = False,
    passes: Annotated[int, typer.Option(help="Stop after this many passes (0: run until stopped).")] = 0,
    db: Annotated[str | None, typer.Option(help="Oracle database: SQLite path or SQLAlchemy URL.")] = None,
    announce: Annotated[bool, typer.Option(help="Publish the endpoint URL on chain at start.")] = False,
    public_url: Annotated[
        str | None,
        typer.Option(help="The URL --announce publishes, as peers reach it (default: the bound URL)."),
    ] = None,
    attest: Annotated[
        bool,
        typer.Option(help="Right after settling, attest JobCompleted (when the identity contracts exist)."),
    ] = True,
) -> None:
    """Watch the chain, score submissions in the sandbox, sign, share and settle. Restart-safe.

    A failed pass (chain busy or unreachable, a broken artifact...) is reported in one line and
    the next pass runs as usual: the endpoint keeps serving."""
    from proofwork.api.oracle_http import ReportServer
    from proofwork.db.oracle_state import OracleState, oracle_db_path
    from proofwork.domain.errors import ChainUnavailable
    from proofwork.evaluation.runner import Evaluator
    from proofwork.evaluation.sandbox import Sandbox
    from proofwork.keys.sealing import public_key_of
    from proofwork.network.peers import HttpPeers
    from proofwork.services.oracle.node import OracleNode
    from proofwork.services.workspace import Workspace

    state = _state(ctx)
    if not math.isfinite(interval) or not 0.05 <= interval <= 3600:
        raise InvalidInput(f"invalid --interval {interval}: expected 0.05 to 3600 seconds")
    if passes < 0:
        raise InvalidInput(f"invalid --passes {passes}: expected 0 (no limit) or more")
    if not 0 <= port <= 65535:
        raise InvalidInput(f"invalid --port {port}: expected 0 (any free port) to 65535")
    if public_url is not None:
        public_url = _url(public_url, "--public-url")
    log = logging.getLogger("proofwork.oracle")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = state.settings
    stop = {"now": False}

    def say(text: str) -> None:
        # with --json, stdout holds only the final JSON line: progress goes to the log (stderr)
        if state.json:
            log.info("%s", text)
        else:
            state.console.print(text, markup=False)

    def request_stop(*_: Any) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    with Workspace.open(settings) as ws:
        signer = ws.signer(sender)
        chain_id = ws.chain.chain_id
    oracle_db = OracleState.open(
        db or oracle_db_path(settings.data_dir, signer.address), oracle=signer.address, chain_id=chain_id
    )
    server = None
    peers = HttpPeers()
    count = 0
    try:
        server = None if once else ReportServer(oracle_db, signer.address, host, port).start()
        announce_url = None
        if announce and server is not None:
            announce_url = public_url or _url(server.url, "endpoint")
        with Sandbox() as sandbox:
            evaluator = Evaluator(sandbox)
            if server is not None:
                say(f"oracle {signer.address} serving reports at {server.url} ({sandbox.isolation})")
            node: OracleNode | None = None
            while not stop["now"]:
                if announce_url is not None:
                    try:
                        with Workspace.open(settings) as ws:
                            ws.committee.register_oracle(signer.key, public_key_of(signer.key), announce_url)
                        say(f"announced {announce_url} on the committee")
                        announce_url = None
                    except ChainUnavailable as exc:  # anything else (not a member...) is fatal
                        say(f"announcing failed, will retry: {exc}")
                try:
                    # the embedded chain admits one process at a time: hold it only for one pass;
                    # the node (its caches of opened labels and finished jobs) lives across passes
                    with Workspace.open(settings) as ws:
                        if node is None:
                            node = OracleNode(
                                ws,
                                signer,
                                oracle_db,
                                evaluator,
                                peers,
                                workdir=oracle_db_path(settings.data_dir, signer.address).with_suffix(
                                    ".work"
                                ),
                                attest=attest,
                            )
                        result = node.step(ws)
                except ProofworkError as exc:
                    say(f"pass failed: {exc}")
                except Exception as exc:  # a bug in one pass must not stop the daemon
                    log.debug("pass failed", exc_info=True)
                    detail = str(exc).splitlines()[0][:200] if str(exc) else ""
                    say(f"pass failed: unexpected {exc.__class__.__name__}: {detail}")
                else:
                    for line in result.scored:
                        say(f"scored {line}")
                    for line in result.settled:
                        say(f"settled {line}")
                    for job_id in result.revealed:
                        say(f"revealed the labels of job {job_id}")
                    for comp_id in result.finalized:
                        say(f"finalized competition {comp_id}")
                    for line in result.failures:
                        say(f"problem: {line}")
                count += 1
                if once or (passes and count >= passes):
                    break
                deadline = time.monotonic() + interval
                while time.monotonic() < deadline and not stop["now"]:
                    time.sleep(0.05)
    finally:
        if server is not None:
            server.stop()
        peers.close()
        oracle_db.close()
    if state.json:
        state.emit({"ok": True, "passes": count})


# --- competitions ------------------------------------------------------------------------------------


@competition_app.command("create")
def competition_create(
    ctx: typer.Context,
    sender: FromOpt,
    spec: Annotated[Path, typer.Option(help="Task spec (YAML or JSON).")],
    labels: Annotated[Path, typer.Option(help="Hidden labels (sealed to the oracles, committed on chain).")],
    prize: Annotated[str, typer.Option(help="Prize in tokens.")],
    deadline: Annotated[str, typer.Option(help="Submission deadline from now, e.g. 7d.")] = "7d",
    reveal_period: Annotated[str, typer.Option(help="Time after the deadline to reveal entries.")] = "1d",
    split: Annotated[
        str, typer.Option(help="Prize split across the top k, in percent, e.g. 60,30,10.")
    ] = "100",
    daily_limit: Annotated[int, typer.Option(help="Submissions per address per day (1 to 255).")] = 5,
    public_percent: Annotated[
        int, typer.Option(help="Share of the hidden set scored publicly before the deadline (1 to 99).")
    ] = 30,
    min_score: Annotated[
        str | None,
        typer.Option(
            help="Score an entry needs to win anything (metric units); default: the spec's threshold."
        ),
    ] = None,
) -> None:
    """Create a competition and escrow its prize."""
    from proofwork.domain.evalspec import to_fixed
    from proofwork.services.competitions import Competitions

    state = _state(ctx)
    # everything checked before the workspace opens: no approval is sent for a create that must fail
    minimum = None if min_score is None else _min_score(min_score, to_fixed)
    shares = _split(split)
    if not 1 <= daily_limit <= 255:
        raise InvalidInput(f"invalid --daily-limit {daily_limit}: expected 1 to 255 submissions a day")
    if not 1 <= public_percent <= 99:
        raise InvalidInput(f"invalid --public-percent {public_percent}: expected 1 to 99")
    deadline_in = parse_duration(deadline)
    reveal_seconds = parse_duration(reveal_period)
    spec, labels = _file(spec, "spec"), _file(labels, "labels")
    with state.workspace() as ws:
        comp_id, receipts = Competitions(ws).create(
            ws.signer(sender),
            spec,
            labels,
            prize=parse_amount(prize, ws.token.decimals),
            deadline=ws.chain.next_timestamp() + deadline_in,
            reveal_period=reveal_seconds,
            prize_bps=shares,
            daily_limit=daily_limit,
            public_percent=public_percent,
            min_score=minimum,
        )
        state.emit(
            {
                "ok": True,
                "competition_id": comp_id,
                "steps": [{"name": n, "tx": r.tx_hash, "gas": r.gas_used} for n, r in receipts],
            },
            f"competition {comp_id} created",
        )


def _min_score(text: str, to_fixed: Any) -> int:
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"invalid --min-score {text!r}: expected a number") from None
    if not math.isfinite(value):
        raise InvalidInput(f"invalid --min-score {text!r}: expected a finite number")
    try:
        fixed = int(to_fixed(value))
    except ArithmeticError:  # decimal.InvalidOperation: more digits than fixed point can hold
        fixed = 2**255
    if not -(2**255) <= fixed < 2**255:
        raise InvalidInput(f"invalid --min-score {text!r}: beyond what a score can be")
    return fixed


def _split(text: str) -> list[int]:
    """`60,30,10` -> [6000, 3000, 1000] basis points: 1 to 10 places, each > 0, non-increasing, sum 100 %."""
    bad = f"invalid --split {text!r}: "
    parts = [p.strip() for p in text.split(",")]
    if not 1 <= len(parts) <= MAX_PLACES:
        raise InvalidInput(bad + f"expected 1 to {MAX_PLACES} percentages like 60,30,10")
    shares = []
    for part in parts:
        try:
            value = float(part)
        except ValueError:
            raise InvalidInput(bad + "expected percentages like 60,30,10") from None
        if not math.isfinite(value):
            raise InvalidInput(bad + "every share must be a finite number")
        bps = round(value * 100)
        if abs(value * 100 - bps) > 1e-6:
            raise InvalidInput(bad + "shares have at most two decimals (whole basis points)")
        if bps <= 0:
            raise InvalidInput(bad + "every share must be more than 0")
        shares.append(bps)
    if any(later > earlier for earlier, later in itertools.pairwise(shares)):
        raise InvalidInput(bad + "shares must not increase (first place gets the most)")
    if sum(shares) != 10_000:
        raise InvalidInput(bad + f"shares add up to {sum(shares) / 100:g} %, not 100 %")
    return shares


@competition_app.command("cancel")
def competition_cancel(ctx: typer.Context, comp_id: CompArg, sender: FromOpt) -> None:
    """Refund a competition the committee never judged (after the judging period), so a dead
    committee cannot lock the prize."""
    state = _state(ctx)
    _id(comp_id, "competition id")
    with state.workspace() as ws:
        receipt = ws.competitions.cancel_unjudged(ws.signer(sender).key, comp_id)
        state.emit(
            {"ok": True, "competition_id": comp_id, "tx": receipt.tx_hash},
            f"competition {comp_id} cancelled: the prize went back to its creator (tx {receipt.tx_hash})",
        )


@competition_app.command("enter")
def competition_enter(
    ctx: typer.Context,
    comp_id: CompArg,
    sender: FromOpt,
    file: Annotated[Path, typer.Option(help="Submission: ONNX model or predictions file.")],
) -> None:
    """Commit to a submission (sealed to the oracles, so nobody can copy it)."""
    from proofwork.services.competitions import Competitions

    state = _state(ctx)
    _id(comp_id, "competition id")
    with state.workspace() as ws:
        entry, receipt = Competitions(ws).enter(ws.signer(sender), comp_id, _file(file, "submission"))
        state.emit(
            {"ok": True, "entry": entry, "tx": receipt.tx_hash},
            f"entry {entry} committed to competition {comp_id}",
        )


@competition_app.command("reveal")
def competition_reveal(ctx: typer.Context, comp_id: CompArg, sender: FromOpt) -> None:
    """After the deadline, reveal all of this account's entries (unrevealed entries cannot win)."""
    from proofwork.services.competitions import Competitions

    state = _state(ctx)
    _id(comp_id, "competition id")
    with state.workspace() as ws:
        entries = Competitions(ws).reveal_all(ws.signer(sender), comp_id)
        state.emit(
            {"ok": True, "revealed": entries},
            f"revealed entries {entries}" if entries else "nothing to reveal",
        )


def leaderboard(ctx: typer.Context, comp_id: CompArg) -> None:
    """Public scores before the deadline; private scores and prizes once the competition is final."""
    from rich.table import Table

    from proofwork.network.peers import HttpPeers
    from proofwork.services.competitions import Competitions

    state = _state(ctx)
    _id(comp_id, "competition id")
    peers = HttpPeers()
    try:
        with state.workspace() as ws:
            comp, rows = Competitions(ws).leaderboard(comp_id, peers)
            decimals, symbol = ws.token.decimals, ws.token.symbol
            names = {r.submitter: ws.name_of(r.submitter) for r in rows}
    finally:
        peers.close()
    data = {
        "ok": True,
        "competition_id": comp_id,
        "deadline": comp.deadline,
        "finalized": comp.finalized,
        "rows": [
            {
                "entry": r.entry,
                "submitter": r.submitter,
                "public_score": r.public_score,
                "oracles": r.oracles,
                "private_score": r.private_score,
                "prize": r.prize,
            }
            for r in rows
        ],
    }

    def table() -> Table:
        t = Table(
            title=_plain(
                f"competition {comp_id} ({'final' if comp.finalized else 'deadline ' + when(comp.deadline)})"
            ),
            title_justify="left",
        )
        for col in ("rank", "entry", "submitter", "public", "private", "prize"):
            t.add_column(col)
        for rank, r in enumerate(rows, 1):
            # every cell as plain Text: token symbols and names come from the chain and the keystore
            t.add_row(
                *(
                    _plain(cell)
                    for cell in (
                        str(rank),
                        str(r.entry),
                        names[r.submitter] or r.submitter,
                        "-" if r.public_score is None else f"{r.public_score / 1e6:.6f}",
                        "-" if r.private_score is None else f"{r.private_score / 1e6:.6f}",
                        money(r.prize, decimals, symbol) if r.prize else "-",
                    )
                )
            )
        return t

    state.emit(data, table)


# --- demo --ml ---------------------------------------------------------------------------------------


def run_story(state: CliState, settings: Any, story: Any) -> Any:
    """Runs a demo story `story(ws, serve, on_step=...)` with in-process oracle endpoints on a fresh
    workspace; its steps are printed as they happen unless the output is JSON."""
    from proofwork.api.oracle_http import ReportServer
    from proofwork.services.workspace import Workspace

    def serve(oracle_state: Any, oracle: str) -> ReportServer:
        return ReportServer(oracle_state, oracle).start()

    with Workspace.open(settings) as ws:
        if state.json:
            return story(ws, serve)
        return story(ws, serve, on_step=lambda text: state.console.print(f"• {text}", markup=False))


def demo_ml(state: CliState, settings: Any) -> None:
    from rich.table import Table

    from proofwork.services.demo_ml import run_ml_demo

    report = run_story(state, settings, run_ml_demo)
    data = {
        "ok": report.ok,
        "scores": report.scores,
        "payouts": report.payouts,
        "verified": report.verified,
        "outliers": report.outliers,
        "isolation": report.isolation,
        "data_dir": report.data_dir,
        "problems": report.problems,
    }
    if state.json:
        state.emit(data)
    else:
        table = Table(title="proofwork demo --ml", title_justify="left")
        for col in ("freelancer", "job", "median accuracy", "passed", "paid", "verify-score"):
            table.add_column(col)
        for name, s in report.scores.items():
            table.add_row(
                name,
                str(s["job"]),
                "-" if s["median"] is None else f"{s['median'] / 1e6:.6f}",
                str(s["passed"]),
                money(report.payouts.get(name, 0), report.decimals, "pwUSD"),
                "match" if report.verified.get(name) else "MISMATCH",
            )
        state.console.print(table)
        state.console.print(f"outlier reports recorded on chain: {report.outliers}")
        state.console.print(
            "[green]ok[/green]: the good model was paid, the weak one was not, every score re-checked"
            if report.ok
            else "[red]FAILED[/red]: " + "; ".join(report.problems)
        )
        state.console.print(f"chain kept in {report.data_dir}")
    if not report.ok:
        raise typer.Exit(1)
