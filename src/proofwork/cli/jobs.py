"""`job post|list|show|apply|assign|submit|approve|revise|claim|reclaim|cancel|dispute|resolve|withdraw`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from proofwork.cli.args import AttestOpt, FromOpt, JobArg, MilestoneOpt, cli_state, hash_arg, milestone_index
from proofwork.cli.output import CliState, job_json, job_table, money, when
from proofwork.domain.errors import ProofworkError
from proofwork.domain.job_inputs import MAX_INPUT_ASSETS, check_input_count
from proofwork.domain.units import format_amount, parse_amount, parse_duration

if TYPE_CHECKING:
    from proofwork.services.jobs import Outcome
    from proofwork.services.workspace import Workspace

job_app = typer.Typer(help="Escrowed jobs with milestones.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(job_app, name="job")


def _report(
    state: CliState,
    ws: Workspace,
    out: Outcome,
    message: str,
    attested: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> None:

    token = ws.token
    steps = [
        {"name": name, "tx": r.tx_hash, "gas": r.gas_used, "block": r.block_number}
        for name, r in out.receipts
    ]
    human = f"{message}\n" + "\n".join(f"  {s['name']}: tx {s['tx']} (gas {s['gas']:,})" for s in steps)
    data: dict[str, Any] = {
        "ok": True,
        "job": job_json(out.job, token.decimals, ws),
        "steps": steps,
        **(extra or {}),
    }
    if out.credited:
        data["credited"] = [
            {"token": t, "account": a, "amount": format_amount(v, token.decimals), "units": v}
            for t, a, v in out.credited
        ]
        for t, a, v in out.credited:
            who = ws.name_of(a) or a
            amount = (
                money(v, token.decimals, token.symbol) if t.lower() == token.address.lower() else f"{v} units"
            )
            human += (
                f"\n  the token refused to pay {who}: {amount} credited to it instead "
                f"(`proofwork job withdraw --from {who}` once the token lets it receive)"
            )
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
    from proofwork.services.attestations import attest_settled

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
    arbiter: Annotated[
        str | None,
        typer.Option(help="Arbiter that may release or split milestones; `court` for the jurors' court."),
    ] = None,
    approve_first: Annotated[
        bool,
        typer.Option("--approve", help="Fund with approve + create (two transactions) instead of a permit."),
    ] = False,
    input_asset: Annotated[
        list[int] | None,
        typer.Option(
            "--input-asset",
            help="A licence offer (id) on a model or dataset the job works on: its licence is bought for you "
            f"before the job is funded and recorded in the job's terms (repeatable, at most {MAX_INPUT_ASSETS}).",
        ),
    ] = None,
    input_licence: Annotated[
        list[int] | None,
        typer.Option(
            "--input-licence",
            help="A licence you hold already, recorded as an input asset instead of buying one (repeatable).",
        ),
    ] = None,
    max_licence_fee: Annotated[
        str | None,
        typer.Option(help="The most each input asset's licence may cost, in tokens (default: its price)."),
    ] = None,
    compute_input: Annotated[
        bool,
        typer.Option(
            "--compute-input", help="Accept compute-only licences as inputs (the files are never released)."
        ),
    ] = False,
    distribute: Annotated[
        bool,
        typer.Option(
            "--distribute-royalties",
            help="Also send the input licences' royalties up every level of their lineage now.",
        ),
    ] = False,
) -> None:
    """Create a job and escrow its budget in one transaction; with --input-asset, buy the licences of
    the models and datasets it works on first, in the same flow."""
    from proofwork.services.jobs import Jobs

    state = cli_state(ctx)
    deadline_s = parse_duration(deadline)
    review_s = parse_duration(review)
    offers, held = tuple(input_asset or ()), tuple(input_licence or ())
    check_input_count(len(offers), len(held))
    spec_digest = hash_arg(spec, spec_hash, "spec", required=False)
    with state.workspace() as ws:
        decimals = ws.token.decimals
        total = parse_amount(budget, decimals)
        plan: int | list[int] = milestones
        if amounts is not None:
            plan = [parse_amount(a, decimals) for a in amounts.split(",")]
        client = ws.signer(sender)
        inputs = None
        if offers or held:
            from proofwork.services.job_inputs import JobInputs
            from proofwork.storage.unixfs import cid_digest

            # the spec file itself, stored by CID, is named in the terms document
            spec_cid = ws.store.add_file(spec) if spec is not None else None
            if spec_cid is not None:
                spec_digest = cid_digest(spec_cid)
            inputs = JobInputs(
                offers,
                held,
                None if max_licence_fee is None else parse_amount(max_licence_fee, decimals),
                compute_input,
                distribute,
                spec_cid,
            )
        out = Jobs(ws).post(
            client,
            budget=total,
            milestones=plan,
            deadline=ws.chain.next_timestamp() + deadline_s,
            review_period=review_s,
            freelancer=ws.address(freelancer, "freelancer") if freelancer else None,
            spec_hash=spec_digest,
            arbiter=_arbiter(ws, arbiter),
            funding="approve" if approve_first else "permit",
            inputs=inputs,
        )
        message = f"job {out.job.job_id} posted: {money(out.job.budget, decimals, ws.token.symbol)} in escrow"
        extra: dict[str, Any] = {}
        if out.input_assets:
            extra = {
                "terms_cid": out.terms_cid,
                "input_assets": [i.to_dict() for i in out.input_assets],
            }
            message += f"\n  terms document {out.terms_cid} (the job's spec hash) records its input assets:"
            holder = ws.name_of(out.job.client) or out.job.client
            for i in out.input_assets:
                fee = _fee(ws, i.token, i.price)
                message += (
                    f"\n  asset {i.asset_id}: licence {i.licence_id} under offer {i.offer_id} ({i.kind}), "
                    f"held by {holder}, fee {fee}"
                )
            downloads = [i.licence_id for i in out.input_assets if i.kind == "download"]
            if downloads:
                message += (
                    f"\n  the licences are {holder}'s: `proofwork asset get LICENCE --from {holder}` fetches "
                    "the files to hand to the freelancer"
                )
        _report(state, ws, out, message, extra=extra)


def _fee(ws: Workspace, token: str, units: int) -> str:
    """A licence fee: in tokens when paid in the deployment's token, else in base units."""
    if token.lower() == ws.token.address.lower():
        return money(units, ws.token.decimals, ws.token.symbol)
    return f"{units} units of {token}"


def _arbiter(ws: Workspace, arbiter: str | None) -> str | None:
    """`--arbiter`: an account, or `court` for the deployment's court adapter (`court deploy`)."""
    if arbiter is None:
        return None
    if arbiter.strip().lower() == "court":
        from proofwork.services.disputes import court_arbiter

        return court_arbiter(ws)
    return ws.address(arbiter, "arbiter")


@job_app.command("list")
def job_list(
    ctx: typer.Context,
    account: Annotated[str | None, typer.Option(help="Only jobs where this account is a party.")] = None,
) -> None:
    """List jobs on the escrow (from the chain index when it is caught up, else from the logs)."""
    from proofwork.services.job_listing import JobFilter, list_jobs

    state = cli_state(ctx)
    with state.workspace() as ws:
        who = ws.address(account) if account else None
        page = list_jobs(ws, JobFilter(involving=who), limit=None)
        jobs = [item.job for item in reversed(page.jobs)]
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
        data = {"ok": True, "jobs": [job_json(j, dec, ws) for j in jobs], "indexed_block": page.indexed_block}
        state.emit(data, human)


@job_app.command("show")
def job_show(ctx: typer.Context, job_id: JobArg) -> None:
    """Show a job and its milestones (and its input assets, each licence checked on chain now)."""
    from proofwork.services import job_inputs
    from proofwork.services.jobs import Jobs

    state = cli_state(ctx)
    with state.workspace() as ws:
        jobs = Jobs(ws)
        job = jobs.get(job_id)
        dec = ws.token.decimals
        timing = jobs.timing(job)
        credits = jobs.credits_of(job)
        shown = job_json(job, dec, ws, timing)
        shown["claimable"] = {
            role: {"account": account, "amount": format_amount(units, dec), "units": units}
            for role, (account, units) in credits.items()
        }
        found = job_inputs.view(ws, job)
        shown["inputs"] = job_inputs.view_json(found)

        def human() -> Any:
            table = job_table(job, dec, ws.token.symbol, ws, timing, credits)
            if found is not None:
                table.add_row("terms", f"{found.terms_cid} (the spec hash)")
                if found.problem:
                    table.add_row("input assets", f"not to be trusted: {found.problem}")
                for c in found.checks if found.problem is None else []:
                    i = c.input
                    table.add_row(
                        f"input asset {i.asset_id}",
                        f"licence {i.licence_id} under offer {i.offer_id} ({i.kind}"
                        f"{', commercial' if i.commercial else ''}): {c.status}"
                        + (f", expires {when(c.expires_at)}" if c.expires_at else ""),
                    )
            return table

        state.emit({"ok": True, "job": shown}, human)


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
    from proofwork.services.jobs import Jobs

    state = cli_state(ctx)
    digest = hash_arg(proposal, proposal_hash, "proposal", required=False)
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
    from proofwork.services.jobs import Jobs

    state = cli_state(ctx)
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
    from proofwork.services.jobs import Jobs
    from proofwork.storage.unixfs import cid_digest

    state = cli_state(ctx)
    index = milestone_index(milestone)
    digest = hash_arg(file, deliverable_hash, "deliverable")
    with state.workspace() as ws:
        if file is not None:
            # for files up to 1 MiB the CID digest is the file's sha256; larger files are DAG roots
            digest = cid_digest(ws.store.add_file(file))
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
    from proofwork.services.jobs import Jobs

    state = cli_state(ctx)
    index = milestone_index(milestone)
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
    from proofwork.services.jobs import Jobs

    state = cli_state(ctx)
    index = milestone_index(milestone)
    digest = hash_arg(feedback, None, "feedback", required=False)
    with state.workspace() as ws:
        out = Jobs(ws).revise(ws.signer(sender), job_id, index, digest)
        _report(state, ws, out, f"revision requested on milestone {milestone} of job {job_id}")


@job_app.command("claim")
def job_claim(
    ctx: typer.Context, job_id: JobArg, sender: FromOpt, milestone: MilestoneOpt = 1, attest: AttestOpt = True
) -> None:
    """Claim a submitted milestone after the client's review window passed in silence."""
    from proofwork.services.jobs import Jobs

    state = cli_state(ctx)
    index = milestone_index(milestone)
    with state.workspace() as ws:
        caller = ws.signer(sender)
        out = Jobs(ws).claim(caller, job_id, index)
        attested = _attest_paid(ws, caller, job_id, attest)
        _report(state, ws, out, f"milestone {milestone} of job {job_id} released to the freelancer", attested)


@job_app.command("reclaim")
def job_reclaim(ctx: typer.Context, job_id: JobArg, sender: FromOpt) -> None:
    """Take back the budget of milestones with nothing delivered by the deadline."""
    from proofwork.domain import job as J
    from proofwork.services.jobs import Jobs

    state = cli_state(ctx)
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
    from proofwork.domain import job as J
    from proofwork.services.jobs import Jobs

    state = cli_state(ctx)
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
    from proofwork.services.jobs import Jobs

    state = cli_state(ctx)
    index = milestone_index(milestone)
    with state.workspace() as ws:
        out = Jobs(ws).dispute(ws.signer(sender), job_id, index)
        _report(state, ws, out, f"milestone {milestone} of job {job_id} is disputed")


@job_app.command("resolve")
def job_resolve(
    ctx: typer.Context,
    job_id: JobArg,
    sender: FromOpt,
    freelancer_gets: Annotated[
        str | None,
        typer.Option(
            help="The freelancer's share of the milestone (the arbiter's ruling); "
            "omit when ending an unruled dispute after 30 days (half each)."
        ),
    ] = None,
    milestone: MilestoneOpt = 1,
) -> None:
    """As the job's arbiter, release or split a milestone; as anyone, end a dispute left unruled for 30 days
    (on a committee job: release to the freelancer a dispute no quorum judged, see `job show`)."""
    from proofwork.services.jobs import Jobs

    state = cli_state(ctx)
    index = milestone_index(milestone)
    with state.workspace() as ws:
        share = None if freelancer_gets is None else parse_amount(freelancer_gets, ws.token.decimals)
        out = Jobs(ws).resolve(ws.signer(sender), job_id, index, share)
        _report(state, ws, out, f"milestone {milestone} of job {job_id} resolved")


@job_app.command("withdraw")
def job_withdraw(
    ctx: typer.Context,
    sender: FromOpt,
    token: Annotated[
        str | None, typer.Option(help="Token address; the deployment's stablecoin by default.")
    ] = None,
) -> None:
    """Pull the payouts the escrow credited to you because the token refused to deliver them
    (a blocklisted account, a receiving hook that reverted)."""
    from proofwork.domain.addresses import parse_address
    from proofwork.services.jobs import Jobs

    state = cli_state(ctx)
    token_address = parse_address(token, "token") if token is not None else None
    with state.workspace() as ws:
        out = Jobs(ws).withdraw(ws.signer(sender), token_address)
        ours = out.token.lower() == ws.token.address.lower()
        amount = money(out.amount, ws.token.decimals, ws.token.symbol) if ours else f"{out.amount} units"
        state.emit(
            {
                "ok": True,
                "token": out.token,
                "account": out.account,
                "amount": format_amount(out.amount, ws.token.decimals) if ours else str(out.amount),
                "units": out.amount,
                "tx": out.receipt.tx_hash,
                "gas": out.receipt.gas_used,
            },
            f"withdrew {amount} to {out.account} (tx {out.receipt.tx_hash})",
        )
