"""Attestations and badges on chain: `identity deploy`, `attest job|skill|review|list|reviews`,
`badge list|mint`, `reputation show|export`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from proofwork.cli.args import FromOpt, JobArg, cli_state, hash32, job_id_arg, milestone_index
from proofwork.cli.output import money, when
from proofwork.domain.errors import InvalidInput
from proofwork.domain.job import ZERO_HASH
from proofwork.domain.units import parse_duration

identity_app = typer.Typer(
    help="The identity contracts: issuer registry, soulbound badges, attestations.", no_args_is_help=True
)
badge_app = typer.Typer(help="Soulbound skill badges (ERC-721 + ERC-5192).", no_args_is_help=True)
attest_app = typer.Typer(
    help="JobCompleted attestations of paid work, skills and reviews (EAS data model).", no_args_is_help=True
)
reputation_app = typer.Typer(
    help="Reputation: personalised EigenTrust over the JobCompleted attestations.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(identity_app, name="identity")
    app.add_typer(badge_app, name="badge")
    app.add_typer(attest_app, name="attest")
    app.add_typer(reputation_app, name="reputation")


@identity_app.command("deploy")
def identity_deploy(
    ctx: typer.Context,
    sender: FromOpt = "dev0",
    force: Annotated[bool, typer.Option(help="Deploy new identity contracts even if some exist.")] = False,
) -> None:
    """Deploy the issuer registry, badges, schema registry, attestations, job attester and resolver."""
    from proofwork.services import deployment

    state = cli_state(ctx)
    with state.workspace() as ws:
        result = deployment.deploy_identity(ws, ws.signer(sender), force=force)
        d = result.deployment
        data = {
            "ok": True,
            "created": result.created,
            "issuer_registry": d.issuer_registry,
            "badges": d.badges,
            "schema_registry": d.schema_registry,
            "attestations": d.attestations,
            "job_attester": d.job_attester,
            "resolver": d.resolver,
            "job_completed_schema": d.job_completed_schema,
            "review_schema": d.review_schema,
            "gas": result.gas,
        }
        verb = "deployed" if result.created else "already deployed (nothing sent)"
        lines = [f"identity contracts {verb}"] + [
            f"  {k}: {v}" for k, v in data.items() if k not in ("ok", "created", "gas")
        ]
        state.emit(data, Text("\n".join(lines)))


@badge_app.command("list")
def badge_list(
    ctx: typer.Context,
    account: Annotated[str, typer.Argument(help="Holder: a name (dev2) or an address.")] = "dev0",
) -> None:
    """The soulbound badges an account holds."""
    from proofwork.services import badges

    state = cli_state(ctx)
    with state.workspace() as ws:
        address = ws.address(account)
        held = badges.badges_of(ws, address)
        rows = [
            {
                "token_id": b.token_id,
                "skill": b.skill,
                "issuer": b.issuer,
                "earned_by_job": b.by_job,
                "evidence": "0x" + b.evidence.hex(),
                "minted_at": b.minted_at,
                "locked": True,
            }
            for b in held
        ]

        def table() -> Any:
            t = Table(title=f"badges of {address}", title_justify="left")
            for col in ("id", "skill", "issuer", "how", "minted"):
                t.add_column(col)
            for r in rows:
                t.add_row(
                    str(r["token_id"]),
                    Text(str(r["skill"])),
                    str(r["issuer"]),
                    "verified job" if r["earned_by_job"] else "issuer",
                    when(int(r["minted_at"])),
                )
            return t

        state.emit({"ok": True, "holder": address, "badges": rows}, table)


@badge_app.command("mint")
def badge_mint(
    ctx: typer.Context,
    to: Annotated[str, typer.Argument(help="Holder: a name or an address.")],
    skill: Annotated[str, typer.Option(help="The skill, e.g. 'nlp/sentiment' (1 to 64 bytes).")],
    sender: Annotated[str, typer.Option("--from", help="The accredited issuer's account.")],
    evidence: Annotated[
        str | None, typer.Option(help="32-byte hash (hex) of the evidence, e.g. a credential's digest.")
    ] = None,
) -> None:
    """An accredited issuer mints a soulbound skill badge."""
    from proofwork.services import badges

    state = cli_state(ctx)
    proof = ZERO_HASH if evidence is None else hash32(evidence, "evidence")
    with state.workspace() as ws:
        holder = ws.address(to)
        token_id = badges.mint_badge(ws, ws.signer(sender), holder, skill, proof)
        state.emit(
            {"ok": True, "token_id": token_id, "holder": holder, "skill": skill},
            Text(f"badge #{token_id} ({skill}) minted to {holder}; it cannot be transferred"),
        )


@attest_app.command("job")
def attest_job(
    ctx: typer.Context,
    job_id: JobArg,
    sender: FromOpt,
    unverified: Annotated[
        bool,
        typer.Option(
            "--unverified",
            help="As the freelancer of a committee-judged job, record milestones whose oracle reports "
            "cannot be had as unverified (for good: no verified record can follow).",
        ),
    ] = False,
) -> None:
    """Attest JobCompleted for every paid milestone of a job not yet attested (anyone may; on a
    committee-judged job, with the canonical oracles' reports)."""
    from proofwork.services import attestations

    state = cli_state(ctx)
    job_id = job_id_arg(job_id)
    with state.workspace() as ws:
        done = attestations.attest_settled(ws, ws.signer(sender), job_id, unverified=unverified)
        rows: list[dict[str, Any]] = [
            {
                "job": a.job_id,
                "milestone": a.milestone + 1,
                "uid": "0x" + a.uid.hex(),
                "verified": a.verified,
                "score": a.score,
                "threshold": a.threshold,
                "badge": a.badge,
                "gas": a.gas,
            }
            for a in done
        ]
        if done:
            human = "\n".join(
                f"job {a.job_id} milestone {a.milestone + 1}: JobCompleted 0x{a.uid.hex()}"
                + (f", verified score {a.score / 1e6:.6f}" if a.verified else ", unverified")
                + (f", badge #{a.badge}" if a.badge else "")
                + f" (gas {a.gas:,})"
                for a in done
            )
        else:
            human = f"job {job_id}: nothing to attest (no paid milestone without an attestation)"
        state.emit({"ok": True, "attested": rows}, Text(human))


@attest_app.command("skill")
def attest_skill(
    ctx: typer.Context,
    job_id: JobArg,
    skill: Annotated[str, typer.Argument(help="The job's skill category, e.g. 'nlp/sentiment'.")],
    sender: FromOpt,
) -> None:
    """The client names the job's skill category (once, before anything settles)."""
    from proofwork.services import attestations

    state = cli_state(ctx)
    job_id = job_id_arg(job_id)
    with state.workspace() as ws:
        gas = attestations.declare_skill(ws, ws.signer(sender), job_id, skill)
        state.emit(
            {"ok": True, "job": job_id, "skill": skill, "gas": gas},
            Text(f"job {job_id}: skill {skill!r} declared; a verified pass earns its badge (gas {gas:,})"),
        )


@attest_app.command("review")
def attest_review(
    ctx: typer.Context,
    job_id: JobArg,
    rating: Annotated[int, typer.Option(help="1 to 5.")],
    sender: FromOpt,
    milestone: Annotated[int, typer.Option("--milestone", "-m", help="Milestone number, from 1.")] = 1,
    comment: Annotated[str, typer.Option(help="Kept off chain; its hash is attested.")] = "",
) -> None:
    """Review the other party of a paid job (an attestation referencing its JobCompleted)."""
    from proofwork.services import attestations

    state = cli_state(ctx)
    job_id = job_id_arg(job_id)
    if not 1 <= rating <= 5:
        raise InvalidInput("a review's rating is a whole number from 1 to 5")
    with state.workspace() as ws:
        uid = attestations.review(ws, ws.signer(sender), job_id, milestone_index(milestone), rating, comment)
        state.emit(
            {"ok": True, "uid": "0x" + uid.hex(), "job": job_id, "rating": rating},
            Text(f"review 0x{uid.hex()} attested for job {job_id}"),
        )


@attest_app.command("list")
def attest_list(
    ctx: typer.Context,
    account: Annotated[
        str | None, typer.Argument(help="Only work paid to this account (name or address).")
    ] = None,
) -> None:
    """JobCompleted attestations (every paid job), newest last."""
    from proofwork.services import attestations

    state = cli_state(ctx)
    with state.workspace() as ws:
        who = ws.address(account) if account else None
        decimals = ws.token.decimals
        rows = [
            {
                "uid": "0x" + r.uid.hex(),
                "job": r.job_id,
                "milestone": r.milestone + 1,
                "client": r.client,
                "freelancer": r.freelancer,
                "amount_paid": r.amount_paid,
                "score": r.score,
                "verified": r.verified,
                "threshold": r.threshold,
                "higher_is_better": r.higher_is_better,
                "passed": r.passed,
                "spec_hash": "0x" + r.spec_hash.hex(),
                "skill": r.skill,
                "time": r.time,
            }
            for r in attestations.job_completions(ws, who)
        ]

        def table() -> Any:
            t = Table(title="JobCompleted attestations", title_justify="left")
            for col in ("job", "freelancer", "paid", "score", "skill", "uid"):
                t.add_column(col)
            for r in rows:
                t.add_row(
                    f"{r['job']}/{r['milestone']}",
                    str(r["freelancer"]),
                    money(int(r["amount_paid"]), decimals),
                    f"{int(r['score']) / 1e6:.6f}" if r["verified"] else "unverified",
                    Text(str(r["skill"]) or "-"),
                    str(r["uid"])[:18] + "…",
                )
            return t

        state.emit({"ok": True, "attestations": rows}, table)


@attest_app.command("reviews")
def attest_reviews(
    ctx: typer.Context,
    account: Annotated[str | None, typer.Argument(help="Only reviews this account received.")] = None,
) -> None:
    """Reviews the parties of paid jobs gave each other."""
    from proofwork.services import attestations

    state = cli_state(ctx)
    with state.workspace() as ws:
        rows: list[dict[str, Any]] = [
            {
                "uid": "0x" + r.uid.hex(),
                "job": r.job_id,
                "milestone": r.milestone + 1,
                "reviewer": r.reviewer,
                "reviewee": r.reviewee,
                "rating": r.rating,
                "comment_hash": "0x" + r.comment_hash.hex(),
                "time": r.time,
            }
            for r in attestations.reviews_of(ws, account)
        ]

        def table() -> Any:
            t = Table(title="reviews", title_justify="left")
            for col in ("job", "reviewer", "reviewee", "rating", "when"):
                t.add_column(col)
            for r in rows:
                t.add_row(
                    f"{r['job']}/{r['milestone']}",
                    str(r["reviewer"]),
                    str(r["reviewee"]),
                    "★" * int(r["rating"]),
                    when(int(r["time"])),
                )
            return t

        state.emit({"ok": True, "reviews": rows}, table)


@reputation_app.command("show")
def reputation_show(
    ctx: typer.Context,
    account: Annotated[str, typer.Argument(help="A name (dev2) or an address.")],
    top: Annotated[int, typer.Option(help="How many contributing jobs to list.")] = 5,
) -> None:
    """An account's reputation and the paid jobs that contribute most to it."""
    from proofwork.services import reputation

    if not 1 <= top <= 100:
        raise InvalidInput("--top must be between 1 and 100")
    state = cli_state(ctx)
    with state.workspace() as ws:
        view = reputation.reputation_of(ws, account, top)
        decimals = ws.token.decimals

        def human() -> Any:
            t = Table(
                title=(
                    f"reputation of {view.address}: {view.score:.6f} (rank {view.rank} of {view.accounts} paid "
                    f"accounts; {view.paid_jobs} paid jobs, {view.verified_jobs} verified)"
                ),
                title_justify="left",
            )
            for col in ("job", "client", "paid", "score", "contribution", "attestation"):
                t.add_column(col)
            for job, contribution in view.contributions:
                t.add_row(
                    f"{job.job_id}/{job.milestone + 1}",
                    job.client,
                    money(job.amount, decimals),
                    "unverified" if job.score is None else f"{job.score / 1e6:.6f}",
                    f"{contribution:.6f}",
                    job.uid[:18] + "…",
                )
            return t

        state.emit({"ok": True, **view.to_json()}, human)


@reputation_app.command("export")
def reputation_export(
    ctx: typer.Context,
    account: Annotated[str, typer.Argument(help="The holder: a name on this machine (dev2) or an address.")],
    issuer: Annotated[str, typer.Option(help="The issuer profile that signs (see `issuer create`).")],
    valid_for: Annotated[str, typer.Option(help="How long it is valid, e.g. 30d.")] = "30d",
    out: Annotated[Path | None, typer.Option(help="Also write the credential to this file.")] = None,
) -> None:
    """Issue a signed reputation credential (SD-JWT VC) to the holder's wallet; it verifies offline."""
    from proofwork.services import reputation

    state = cli_state(ctx)
    seconds = parse_duration(valid_for)
    if out is not None and (out.is_dir() or not out.parent.is_dir()):
        # refused before anything is issued, so no credential is left behind unwritten
        raise InvalidInput(f"cannot write {out}: not a file in an existing directory")
    with state.workspace() as ws:
        record, view = reputation.export_reputation(ws, issuer, account, valid_for=seconds)
        if out is not None:
            from proofwork.storage.store import write_atomically

            try:
                write_atomically(out, [record.sd_jwt.encode("ascii")])
            except OSError as exc:
                raise InvalidInput(
                    f"cannot write {out}: {exc.strerror} (the credential is in the wallet)"
                ) from exc
        state.emit(
            {
                "ok": True,
                "id": record.id,
                "path": str(record.path),
                "issuer": record.issuer,
                "score": view.score,
                "paid_jobs": view.paid_jobs,
                "credential": record.sd_jwt,
            },
            Text(
                f"reputation credential {record.id} issued by {record.issuer} to {view.address} "
                f"(score {view.score:.6f}, {view.paid_jobs} paid jobs)\n  stored in {record.path}"
                + (f"\n  written to {out}" if out else "")
            ),
        )
