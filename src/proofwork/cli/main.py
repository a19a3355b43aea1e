"""`proofwork`: the command line. Each command opens the workspace, calls one service, prints."""

from __future__ import annotations

import getpass
import hashlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from proofwork.cli import identity as identity_commands
from proofwork.cli import ml as ml_commands
from proofwork.cli.args import hash32, milestone_index
from proofwork.cli.output import CliState, job_json, job_table, money, when
from proofwork.domain import job as J
from proofwork.domain.errors import InvalidInput, NotAllowed, ProofworkError
from proofwork.domain.units import format_amount, parse_amount, parse_duration
from proofwork.services import accounts as account_service
from proofwork.services.artifacts import digest_of
from proofwork.services.demo import run_demo
from proofwork.services.deployment import DEFAULT_FEE_BPS, deploy
from proofwork.services.jobs import Jobs, Outcome
from proofwork.services.workspace import Settings, Workspace, default_cache_dir, default_data_dir

app = typer.Typer(
    name="proofwork",
    help="Escrowed AI/ML jobs on Ethereum: post, deliver, review and get paid as the contract allows.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
)
account_app = typer.Typer(
    help="Accounts: dev accounts, encrypted keystores, test funds.", no_args_is_help=True
)
job_app = typer.Typer(help="Escrowed jobs with milestones.", no_args_is_help=True)
chain_app = typer.Typer(help="The chain proofwork talks to.", no_args_is_help=True)
fees_app = typer.Typer(help="The platform fee: rate, treasury, fees owed.", no_args_is_help=True)
app.add_typer(account_app, name="account")
app.add_typer(job_app, name="job")
app.add_typer(chain_app, name="chain")
app.add_typer(fees_app, name="fees")
ml_commands.register(app)
identity_commands.register(app)

FromOpt = Annotated[str, typer.Option("--from", help="Signing account: a name (dev0, alice) or an address.")]
MilestoneOpt = Annotated[int, typer.Option("--milestone", "-m", help="Milestone number, from 1.")]
JobArg = Annotated[int, typer.Argument(help="Job id.")]
AttestOpt = Annotated[
    bool,
    typer.Option(help="Attest JobCompleted for what this pays (when the identity contracts are deployed)."),
]


def _password(name: str) -> str:
    password = os.environ.get("PROOFWORK_PASSWORD")
    if password is not None:
        return password
    if not sys.stdin.isatty():
        raise InvalidInput(f"account {name!r} is encrypted: set PROOFWORK_PASSWORD (no terminal to ask on)")
    return getpass.getpass(f"Password for {name}: ")


@app.callback()
def main(
    ctx: typer.Context,
    data_dir: Annotated[
        str | None,
        typer.Option(help="Where keys, manifests and the embedded chain live.", envvar="PROOFWORK_DATA_DIR"),
    ] = None,
    rpc_url: Annotated[
        str | None,
        typer.Option(help="EVM JSON-RPC URL; absent means the embedded chain.", envvar="PROOFWORK_RPC_URL"),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    store: Annotated[
        str | None,
        typer.Option(
            help="Artifact store: a directory or a kubo RPC URL (default DATA_DIR/store).",
            envvar="PROOFWORK_STORE",
        ),
    ] = None,
) -> None:
    ctx.obj = CliState(
        Settings(
            # an empty value (PROOFWORK_DATA_DIR="") means the default, not the current directory
            data_dir=Path(data_dir).expanduser() if data_dir else default_data_dir(),
            rpc_url=rpc_url or None,
            cache_dir=default_cache_dir(),
            password=_password,
            store=store or None,
        ),
        json=json_output,
    )


def _state(ctx: typer.Context) -> CliState:
    state = ctx.find_root().obj
    assert isinstance(state, CliState)
    # `--json` may also follow the subcommand: `proofwork job show 1 --json`.
    return state


def _hash_arg(file: Path | None, hex_hash: str | None, what: str, required: bool = True) -> bytes:
    if file is not None and hex_hash is not None:
        raise InvalidInput(f"give either a {what} file or a {what} hash, not both")
    if file is not None:
        try:
            digest = hashlib.sha256()
            with file.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
            return digest.digest()
        except OSError as exc:
            raise InvalidInput(f"cannot read {what} file {file}: {exc.strerror}") from exc
    if hex_hash is not None:
        return hash32(hex_hash, what)
    if required:
        raise InvalidInput(f"a {what} is required: pass a file or a hash")
    return J.ZERO_HASH


_milestone = milestone_index


def _report(
    state: CliState, ws: Workspace, out: Outcome, message: str, attested: dict[str, Any] | None = None
) -> None:
    token = ws.token
    steps = [
        {"name": name, "tx": r.tx_hash, "gas": r.gas_used, "block": r.block_number}
        for name, r in out.receipts
    ]
    human = f"{message}\n" + "\n".join(f"  {s['name']}: tx {s['tx']} (gas {s['gas']:,})" for s in steps)
    data: dict[str, Any] = {"ok": True, "job": job_json(out.job, token.decimals, ws), "steps": steps}
    if attested is not None:
        data["attested"] = attested
        for a in attested.get("attestations", []):
            human += (
                f"\n  JobCompleted attested for milestone {a['milestone']}: {a['uid']} (gas {a['gas']:,})"
            )
        if attested.get("error"):
            human += f"\n  paid, but not attested: {attested['error']} (`proofwork attest job` retries)"
    state.emit(data, Text(human))


def _attest_paid(ws: Workspace, signer: Any, job_id: int, attest: bool) -> dict[str, Any] | None:
    """Right after a payment, the paid milestones become JobCompleted attestations (when the identity
    contracts are deployed). The payment stands whatever happens here; a failure is reported."""
    if not attest or not ws.has_identity:
        return None
    from proofwork.services.identity import attest_settled

    try:
        done = attest_settled(ws, signer, job_id)
    except ProofworkError as exc:
        return {"attestations": [], "error": str(exc)}
    return {
        "attestations": [
            {"milestone": a.milestone + 1, "uid": "0x" + a.uid.hex(), "verified": a.verified, "gas": a.gas}
            for a in done
        ]
    }


# --- chain and deployment ------------------------------------------------------------------------


@app.command("deploy")
def deploy_cmd(
    ctx: typer.Context,
    sender: FromOpt = "dev0",
    treasury: Annotated[str | None, typer.Option(help="Account that receives platform fees.")] = None,
    fee_bps: Annotated[int, typer.Option(help="Platform fee in basis points (max 1000).")] = DEFAULT_FEE_BPS,
    token: Annotated[
        str | None, typer.Option(help="Use this existing ERC-20 instead of deploying StableToken.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Deploy new contracts even if older ones exist.")] = False,
) -> None:
    """Deploy the contracts once and write the deployment manifest (idempotent)."""
    state = _state(ctx)
    with state.workspace() as ws:
        signer = ws.signer(sender)
        result = deploy(
            ws,
            signer,
            treasury=ws.address(treasury, "treasury") if treasury else None,
            fee_bps=fee_bps,
            token=ws.address(token, "token") if token else None,
            force=force,
        )
        d = result.deployment
        verb = "deployed" if result.created else "already deployed (nothing sent)"
        human = (
            f"proofwork {verb} on chain {d.chain_id}\n  escrow {d.escrow}\n  token  {d.token}\n"
            f"  manifest {ws.manifest_path}"
        )
        state.emit(
            {"ok": True, "created": result.created, "deployment": d.summary(), "gas": result.gas}, human
        )


@chain_app.command("status")
def chain_status(ctx: typer.Context) -> None:
    """Which chain, its height and time, and the deployment on it."""
    state = _state(ctx)
    with state.workspace() as ws:
        chain = ws.chain
        data: dict[str, Any] = {
            "ok": True,
            "chain": chain.description,
            "chain_id": chain.chain_id,
            "block": chain.block_number(),
            "time": chain.now(),
            "local": chain.is_local,
        }
        try:
            data["deployment"] = ws.deployment.summary()
        except ProofworkError as exc:
            data["deployment"] = None
            data["note"] = str(exc)
        human = (
            f"{chain.description}: chain id {data['chain_id']}, block {data['block']}, time {when(data['time'])}\n"
            + (f"escrow {data['deployment']['escrow']}" if data["deployment"] else str(data.get("note")))
        )
        state.emit(data, human)


@chain_app.command("advance")
def chain_advance(
    ctx: typer.Context, duration: Annotated[str, typer.Argument(help="e.g. 3d, 36h, 90m")]
) -> None:
    """Move a local chain's clock forward (embedded chain or anvil only)."""
    state = _state(ctx)
    seconds = parse_duration(duration)
    with state.workspace() as ws:
        now = ws.chain.advance_time(seconds)
        state.emit({"ok": True, "time": now}, f"chain time is now {when(now)}")


@app.command("demo")
def demo_cmd(
    ctx: typer.Context,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    ml: Annotated[
        bool,
        typer.Option("--ml", help="Verified ML evaluation: hidden test set, 4 oracles (one lying), payment."),
    ] = False,
    identity: Annotated[
        bool,
        typer.Option(
            "--identity",
            help="Credentials, revocation, soulbound badges, attestations and a portable reputation.",
        ),
    ] = False,
) -> None:
    """The whole story on a fresh embedded chain: deploy, fund, post, deliver, approve, auto-release."""
    state = _state(ctx)
    state.json = state.json or json_output
    directory = Path(tempfile.mkdtemp(prefix="proofwork-demo-"))
    settings = Settings(
        data_dir=directory, rpc_url=None, cache_dir=state.settings.cache_dir, password=_password, store=None
    )
    if ml and identity:
        raise InvalidInput("run --ml and --identity as two demos")
    if ml:
        ml_commands.demo_ml(state, settings)
        return
    if identity:
        identity_commands.demo_identity(state, settings)
        return
    with Workspace.open(settings) as ws:
        if state.json:
            report = run_demo(ws)
        else:
            with state.console.status("running the demo...") as status:
                report = run_demo(ws, on_step=lambda name: status.update(name))
    dec, sym = report.decimals, report.symbol
    data = {
        "ok": report.ok,
        "job_id": report.job_id,
        "steps": [{"name": s["name"], "gas": s["gas"]} for s in report.steps],
        "balances": {
            role: {k: format_amount(v, dec) for k, v in b.items()} | {"units": b}
            for role, b in report.balances.items()
        },
        "token": sym,
        "data_dir": report.data_dir,
        "problems": report.problems,
    }
    if not state.json:
        from rich.table import Table

        steps = Table(title=f"proofwork demo: job {report.job_id}", title_justify="left")
        steps.add_column("step")
        steps.add_column("gas", justify="right")
        for s in report.steps:
            steps.add_row(str(s["name"]), f"{s['gas']:,}" if s["gas"] else "-")
        balances = Table(title=f"balances ({sym})", title_justify="left")
        for col in ("account", "before", "after", "change"):
            balances.add_column(col, justify="left" if col == "account" else "right")
        for role, b in report.balances.items():
            change = b["after"] - b["before"]
            balances.add_row(
                role,
                money(b["before"], dec),
                money(b["after"], dec),
                ("+" if change > 0 else "") + money(change, dec),
            )
        state.console.print(steps)
        state.console.print(balances)
        verdict = (
            "[green]ok[/green]: every balance is as the contract promised"
            if report.ok
            else "[red]FAILED[/red]: " + "; ".join(report.problems)
        )
        state.console.print(verdict)
        state.console.print(f"chain kept in {report.data_dir} (use --data-dir to look around)")
    else:
        state.emit(data)
    if not report.ok:
        raise typer.Exit(1)


# --- fees ------------------------------------------------------------------------------------------


@fees_app.command("show")
def fees_show(ctx: typer.Context) -> None:
    """The fee rate for new jobs, the treasury, and the fees accrued but not yet sent."""
    state = _state(ctx)
    with state.workspace() as ws:
        escrow, token = ws.escrow, ws.token
        owed, fee_bps = escrow.fees_owed(token.address), escrow.fee_bps()
        data = {
            "ok": True,
            "fee_bps": fee_bps,
            "treasury": escrow.treasury(),
            "owner": escrow.owner(),
            "owed": format_amount(owed, token.decimals),
        }
        human = (
            f"fee for new jobs: {fee_bps / 100:g} %\ntreasury: {data['treasury']}\n"
            f"accrued, not yet sent: {money(owed, token.decimals, token.symbol)}"
        )
        state.emit(data, human)


@fees_app.command("withdraw")
def fees_withdraw(ctx: typer.Context, sender: FromOpt) -> None:
    """Send the accrued fees to the treasury (anyone may trigger it)."""
    state = _state(ctx)
    with state.workspace() as ws:
        token = ws.token
        owed = ws.escrow.fees_owed(token.address)
        if owed == 0:
            raise NotAllowed("no fees to send")
        receipt = ws.escrow.withdraw_fees(ws.signer(sender).key, token.address)
        state.emit(
            {
                "ok": True,
                "sent": format_amount(owed, token.decimals),
                "tx": receipt.tx_hash,
                "gas": receipt.gas_used,
            },
            f"sent {money(owed, token.decimals, token.symbol)} to the treasury (tx {receipt.tx_hash})",
        )


@fees_app.command("set")
def fees_set(
    ctx: typer.Context,
    bps: Annotated[int, typer.Argument(help="Fee for new jobs in basis points (0 to 1000).")],
    sender: FromOpt,
) -> None:
    """As the escrow's owner, set the fee for jobs created from now on (capped at 10 %)."""
    state = _state(ctx)
    if not 0 <= bps <= 1_000:
        raise InvalidInput(f"fee {bps} bps is outside 0 to 1000 bps (the cap is 10 %)")
    with state.workspace() as ws:
        owner = ws.signer(sender)
        if owner.address != ws.escrow.owner():
            raise NotAllowed(f"only the escrow's owner ({ws.escrow.owner()}) may set the fee")
        receipt = ws.escrow.set_fee(owner.key, bps)
        state.emit(
            {"ok": True, "fee_bps": bps, "tx": receipt.tx_hash}, f"fee for new jobs is now {bps / 100:g} %"
        )


# --- accounts --------------------------------------------------------------------------------------


def _new_password(name: str) -> str:
    password = os.environ.get("PROOFWORK_PASSWORD")
    if password is not None:
        return password
    if not sys.stdin.isatty():
        raise InvalidInput("set PROOFWORK_PASSWORD to encrypt the new key (no terminal to ask on)")
    first = getpass.getpass(f"New password for {name}: ")
    if first != getpass.getpass("Repeat it: "):
        raise InvalidInput("the passwords do not match")
    return first


@account_app.command("new")
def account_new(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Account name.")]) -> None:
    """Create a key and store it encrypted (keystore v3) in the data directory."""
    state = _state(ctx)
    with state.workspace() as ws:
        stored = account_service.create_account(ws, name, _new_password(name))
        state.emit(
            {"ok": True, "name": stored.name, "address": stored.address},
            f"created {stored.name}: {stored.address}",
        )


@account_app.command("import")
def account_import(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Account name.")]) -> None:
    """Import a private key read from standard input; it is stored encrypted and never printed."""
    state = _state(ctx)
    key_text = getpass.getpass("Private key (hex): ") if sys.stdin.isatty() else sys.stdin.readline()
    with state.workspace() as ws:
        stored = account_service.import_account(ws, name, key_text, _new_password(name))
        state.emit(
            {"ok": True, "name": stored.name, "address": stored.address},
            f"imported {stored.name}: {stored.address}",
        )


@account_app.command("list")
def account_list(ctx: typer.Context) -> None:
    """Accounts usable with --from, with their balances when proofwork is deployed."""
    state = _state(ctx)
    with state.workspace() as ws:
        rows = []
        try:
            token = ws.token
            decimals, symbol = token.decimals, token.symbol
        except ProofworkError:
            token = None
            decimals, symbol = 0, ""
        for acc in account_service.list_accounts(ws):
            row: dict[str, Any] = {"name": acc.name, "address": acc.address, "kind": acc.kind}
            row["eth"] = format_amount(ws.chain.eth_balance(acc.address), 18)
            if token is not None:
                row["tokens"] = format_amount(token.balance_of(acc.address), decimals)
            rows.append(row)
        from rich.table import Table

        table = Table(title_justify="left")
        for col in ("name", "address", "kind", "ETH", symbol or "tokens"):
            table.add_column(col)
        for r in rows:
            table.add_row(r["name"], r["address"], r["kind"], r["eth"], r.get("tokens", "-"))
        state.emit({"ok": True, "accounts": rows, "token": symbol or None}, table)


@account_app.command("fund")
def account_fund(
    ctx: typer.Context,
    account: Annotated[str, typer.Argument(help="Name or address to fund.")],
    amount: Annotated[str, typer.Option(help="Test stablecoin to mint, in tokens (e.g. 1000.50).")] = "10000",
    eth: Annotated[str, typer.Option(help="Gas money to send, in ETH.")] = "1",
) -> None:
    """Mint test stablecoin and send gas money (local chains only)."""
    state = _state(ctx)
    with state.workspace() as ws:
        to = ws.address(account)
        tokens = parse_amount(amount, ws.token.decimals)
        receipts = account_service.fund(ws, to, tokens, parse_amount(eth, 18))
        balance = ws.token.balance_of(to)
        state.emit(
            {
                "ok": True,
                "account": to,
                "tokens": format_amount(balance, ws.token.decimals),
                "steps": [{"name": n, "tx": r.tx_hash, "gas": r.gas_used} for n, r in receipts],
            },
            f"funded {to}: now {money(balance, ws.token.decimals, ws.token.symbol)}",
        )


# --- jobs ------------------------------------------------------------------------------------------


@job_app.command("post")
def job_post(
    ctx: typer.Context,
    sender: FromOpt,
    budget: Annotated[str, typer.Option(help="Total budget in tokens, e.g. 1500.50.")],
    deadline: Annotated[str, typer.Option(help="Delivery deadline from now, e.g. 7d.")],
    review: Annotated[str, typer.Option(help="Client review window per submission, e.g. 3d.")] = "3d",
    milestones: Annotated[int, typer.Option(help="Split the budget evenly into this many milestones.")] = 1,
    amounts: Annotated[
        str | None, typer.Option(help="Milestone amounts instead of an even split, e.g. 500,1000.50.")
    ] = None,
    freelancer: Annotated[
        str | None, typer.Option(help="Freelancer name or address; omit for an open job.")
    ] = None,
    spec: Annotated[
        Path | None, typer.Option(help="Job specification file (its sha256 goes on chain).")
    ] = None,
    spec_hash: Annotated[
        str | None, typer.Option(help="Job specification hash (hex) instead of a file.")
    ] = None,
    arbiter: Annotated[str | None, typer.Option(help="Arbiter that may release or split milestones.")] = None,
    approve_first: Annotated[
        bool,
        typer.Option("--approve", help="Fund with approve + create (two transactions) instead of a permit."),
    ] = False,
) -> None:
    """Create a job and escrow its budget in one transaction."""
    state = _state(ctx)
    deadline_s = parse_duration(deadline)
    review_s = parse_duration(review)
    spec_digest = _hash_arg(spec, spec_hash, "spec", required=False)
    with state.workspace() as ws:
        decimals = ws.token.decimals
        total = parse_amount(budget, decimals)
        plan: int | list[int] = milestones
        if amounts is not None:
            plan = [parse_amount(a, decimals) for a in amounts.split(",")]
        client = ws.signer(sender)
        out = Jobs(ws).post(
            client,
            budget=total,
            milestones=plan,
            deadline=ws.chain.next_timestamp() + deadline_s,
            review_period=review_s,
            freelancer=ws.address(freelancer, "freelancer") if freelancer else None,
            spec_hash=spec_digest,
            arbiter=ws.address(arbiter, "arbiter") if arbiter else None,
            funding="approve" if approve_first else "permit",
        )
        _report(
            state,
            ws,
            out,
            f"job {out.job.job_id} posted: {money(out.job.budget, decimals, ws.token.symbol)} in escrow",
        )


@job_app.command("list")
def job_list(
    ctx: typer.Context,
    account: Annotated[str | None, typer.Option(help="Only jobs where this account is a party.")] = None,
) -> None:
    """List jobs on the escrow."""
    state = _state(ctx)
    with state.workspace() as ws:
        who = ws.address(account) if account else None
        jobs = Jobs(ws).list(involving=who)
        dec, sym = ws.token.decimals, ws.token.symbol
        from rich.table import Table

        table = Table(title_justify="left")
        for col in ("id", "status", "client", "freelancer", "budget", "in escrow", "milestones"):
            table.add_column(col)
        for j in jobs:
            done = sum(1 for m in j.milestones if m.status.settled)
            table.add_row(
                str(j.job_id),
                j.status,
                ws.name_of(j.client) or j.client,
                "-" if j.is_open else (ws.name_of(j.freelancer) or j.freelancer),
                money(j.budget, dec, sym),
                money(j.held, dec, sym),
                f"{done}/{len(j.milestones)} settled",
            )
        human = table if jobs else "no jobs yet"
        state.emit({"ok": True, "jobs": [job_json(j, dec, ws) for j in jobs]}, human)


@job_app.command("show")
def job_show(ctx: typer.Context, job_id: JobArg) -> None:
    """Show a job and its milestones."""
    state = _state(ctx)
    with state.workspace() as ws:
        job = Jobs(ws).get(job_id)
        dec = ws.token.decimals
        state.emit(
            {"ok": True, "job": job_json(job, dec, ws)}, lambda: job_table(job, dec, ws.token.symbol, ws)
        )


@job_app.command("apply")
def job_apply(
    ctx: typer.Context,
    job_id: JobArg,
    sender: FromOpt,
    proposal: Annotated[Path | None, typer.Option(help="Proposal file (its sha256 goes on chain).")] = None,
    proposal_hash: Annotated[str | None, typer.Option(help="Proposal hash (hex).")] = None,
    relayer: Annotated[
        str | None, typer.Option(help="Account that sends the signed application and pays gas.")
    ] = None,
) -> None:
    """Apply to an open job (gasless with --relayer)."""
    state = _state(ctx)
    digest = _hash_arg(proposal, proposal_hash, "proposal", required=False)
    with state.workspace() as ws:
        out = Jobs(ws).apply(ws.signer(sender), job_id, digest, ws.signer(relayer) if relayer else None)
        _report(state, ws, out, f"applied to job {job_id}")


@job_app.command("assign")
def job_assign(
    ctx: typer.Context,
    job_id: JobArg,
    freelancer: Annotated[str, typer.Argument(help="An applicant's name or address.")],
    sender: FromOpt,
) -> None:
    """Assign an applicant as the job's freelancer."""
    state = _state(ctx)
    with state.workspace() as ws:
        out = Jobs(ws).assign(ws.signer(sender), job_id, ws.address(freelancer, "freelancer"))
        _report(state, ws, out, f"job {job_id} assigned to {out.job.freelancer}")


@job_app.command("submit")
def job_submit(
    ctx: typer.Context,
    job_id: JobArg,
    sender: FromOpt,
    milestone: MilestoneOpt = 1,
    file: Annotated[
        Path | None,
        typer.Option(help="Deliverable file: added to the artifact store, its CID digest goes on chain."),
    ] = None,
    deliverable_hash: Annotated[str | None, typer.Option("--hash", help="Deliverable hash (hex).")] = None,
    relayer: Annotated[
        str | None, typer.Option(help="Account that sends the signed submission and pays gas.")
    ] = None,
) -> None:
    """Submit a deliverable for a milestone (gasless with --relayer)."""
    state = _state(ctx)
    index = _milestone(milestone)
    digest = _hash_arg(file, deliverable_hash, "deliverable")
    with state.workspace() as ws:
        if file is not None:
            # for files up to 1 MiB the CID digest is the file's sha256; larger files are DAG roots
            digest = digest_of(ws.store.add_file(file))
        out = Jobs(ws).submit(
            ws.signer(sender), job_id, index, digest, ws.signer(relayer) if relayer else None
        )
        _report(state, ws, out, f"milestone {milestone} of job {job_id} submitted (0x{digest.hex()})")


@job_app.command("approve")
def job_approve(
    ctx: typer.Context,
    job_id: JobArg,
    sender: FromOpt,
    milestone: MilestoneOpt = 1,
    amount: Annotated[
        str | None, typer.Option(help="Pay only this much of the milestone now (partial payment).")
    ] = None,
    attest: AttestOpt = True,
) -> None:
    """Approve a milestone and pay it (or part of it with --amount)."""
    state = _state(ctx)
    index = _milestone(milestone)
    with state.workspace() as ws:
        jobs, client = Jobs(ws), ws.signer(sender)
        if amount is None:
            out = jobs.approve(client, job_id, index)
        else:
            out = jobs.pay_partial(client, job_id, index, parse_amount(amount, ws.token.decimals))
        attested = _attest_paid(ws, client, job_id, attest)
        _report(state, ws, out, f"milestone {milestone} of job {job_id} paid", attested)


@job_app.command("revise")
def job_revise(
    ctx: typer.Context,
    job_id: JobArg,
    sender: FromOpt,
    milestone: MilestoneOpt = 1,
    feedback: Annotated[Path | None, typer.Option(help="Feedback file (its sha256 goes on chain).")] = None,
) -> None:
    """Send a submission back for revision, within the review window."""
    state = _state(ctx)
    index = _milestone(milestone)
    digest = _hash_arg(feedback, None, "feedback", required=False)
    with state.workspace() as ws:
        out = Jobs(ws).revise(ws.signer(sender), job_id, index, digest)
        _report(state, ws, out, f"revision requested on milestone {milestone} of job {job_id}")


@job_app.command("claim")
def job_claim(
    ctx: typer.Context, job_id: JobArg, sender: FromOpt, milestone: MilestoneOpt = 1, attest: AttestOpt = True
) -> None:
    """Claim a submitted milestone after the client's review window passed in silence."""
    state = _state(ctx)
    index = _milestone(milestone)
    with state.workspace() as ws:
        caller = ws.signer(sender)
        out = Jobs(ws).claim(caller, job_id, index)
        attested = _attest_paid(ws, caller, job_id, attest)
        _report(state, ws, out, f"milestone {milestone} of job {job_id} released to the freelancer", attested)


@job_app.command("reclaim")
def job_reclaim(ctx: typer.Context, job_id: JobArg, sender: FromOpt) -> None:
    """Take back the budget of milestones with nothing delivered by the deadline."""
    state = _state(ctx)
    with state.workspace() as ws:
        out = Jobs(ws).reclaim(ws.signer(sender), job_id)
        refunded = sum(e.amount for e in out.events if isinstance(e, J.MilestoneRefunded))
        _report(
            state, ws, out, f"{money(refunded, ws.token.decimals, ws.token.symbol)} returned to the client"
        )


@job_app.command("cancel")
def job_cancel(
    ctx: typer.Context,
    job_id: JobArg,
    sender: FromOpt,
    freelancer_gets: Annotated[
        str, typer.Option(help="The freelancer's share of what is left in escrow.")
    ] = "0",
) -> None:
    """Offer a mutual cancellation with a split; the other party accepts by offering the same split."""
    state = _state(ctx)
    with state.workspace() as ws:
        share = parse_amount(freelancer_gets, ws.token.decimals)
        out = Jobs(ws).cancel(ws.signer(sender), job_id, share)
        done = any(isinstance(e, J.JobCancelled) for e in out.events)
        message = (
            f"job {job_id} cancelled and split"
            if done
            else f"cancellation offered on job {job_id}; waiting for the other party"
        )
        _report(state, ws, out, message)


@job_app.command("dispute")
def job_dispute(ctx: typer.Context, job_id: JobArg, sender: FromOpt, milestone: MilestoneOpt = 1) -> None:
    """Freeze a milestone for the job's arbiter."""
    state = _state(ctx)
    index = _milestone(milestone)
    with state.workspace() as ws:
        out = Jobs(ws).dispute(ws.signer(sender), job_id, index)
        _report(state, ws, out, f"milestone {milestone} of job {job_id} is disputed")


@job_app.command("resolve")
def job_resolve(
    ctx: typer.Context,
    job_id: JobArg,
    sender: FromOpt,
    freelancer_gets: Annotated[str, typer.Option(help="The freelancer's share of the milestone.")],
    milestone: MilestoneOpt = 1,
) -> None:
    """As the job's arbiter, release or split a milestone."""
    state = _state(ctx)
    index = _milestone(milestone)
    with state.workspace() as ws:
        share = parse_amount(freelancer_gets, ws.token.decimals)
        out = Jobs(ws).resolve(ws.signer(sender), job_id, index, share)
        _report(state, ws, out, f"milestone {milestone} of job {job_id} resolved")


# --- entry point -------------------------------------------------------------------------------------


def _fail(message: str, code: int, json_mode: bool) -> int:
    if json_mode:
        sys.stdout.write('{"ok": false, "error": ' + _quote(message) + "}\n")
    sys.stderr.write(f"error: {message}\n")
    return code


def _quote(text: str) -> str:
    import json

    return json.dumps(text)


_GLOBAL_FLAGS = {"--json"}
_GLOBAL_OPTIONS = {"--data-dir", "--rpc-url", "--store"}


def _hoist_global_options(args: list[str]) -> list[str]:
    """Global options are accepted anywhere (`proofwork job show 1 --json`): move them to the front."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        name = arg.split("=", 1)[0]
        if arg in _GLOBAL_FLAGS:
            if arg not in front:
                front.append(arg)
        elif name in _GLOBAL_OPTIONS and "=" in arg:
            front.append(arg)
        elif arg in _GLOBAL_OPTIONS and i + 1 < len(args):
            front.extend(args[i : i + 2])
            i += 1
        else:
            rest.append(arg)
        i += 1
    return front + rest


def run(argv: list[str] | None = None) -> int:
    """Console entry: every failure is one line on stderr and a non-zero exit, never a traceback."""
    args = list(sys.argv[1:] if argv is None else argv)
    args = _hoist_global_options(args) or ["--help"]
    json_mode = "--json" in args
    try:
        # outside standalone mode click returns a `typer.Exit`'s code instead of raising it
        code = app(args=args, prog_name="proofwork", standalone_mode=False)
        if isinstance(code, int) and code:
            return _exit(code, argv)
    except ProofworkError as exc:
        return _exit(_fail(str(exc), exc.exit_code, json_mode), argv)
    except typer.Exit as exc:
        return _exit(exc.exit_code, argv)
    except typer.Abort:
        return _exit(_fail("aborted", 130, json_mode), argv)
    except typer.TyperException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            sys.stdout.write(exc.format_message() + "\n")  # type: ignore[attr-defined]
            return _exit(2, argv)
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        return _exit(_fail(" ".join(message.split()), getattr(exc, "exit_code", 2), json_mode), argv)
    except KeyboardInterrupt:
        return _exit(_fail("interrupted", 130, json_mode), argv)
    except Exception as exc:  # the last guard: a bug must still not print a traceback at the user
        if os.environ.get("PROOFWORK_DEBUG"):
            raise
        detail = str(exc).splitlines()[0] if str(exc) else ""
        return _exit(
            _fail(
                f"internal error: {exc.__class__.__name__}: {detail} (set PROOFWORK_DEBUG=1 for details)",
                70,
                json_mode,
            ),
            argv,
        )
    return _exit(0, argv)


def _exit(code: int, argv: list[str] | None) -> int:
    if argv is None:
        sys.exit(code)
    return code
