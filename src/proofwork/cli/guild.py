"""`guild create|join|shares|kick|leave|apply|vote|execute|take|submit|attest|split|claim|members`: skill guilds that take jobs
as one freelancer and split what they are paid by shares."""

from __future__ import annotations

from typing import Annotated

import typer

from proofwork.cli.args import FromOpt, JobArg, MilestoneOpt, cli_state, hash32, milestone_index, uint_id
from proofwork.cli.output import money
from proofwork.domain.units import format_amount, parse_amount

guild_app = typer.Typer(
    help="Skill guilds: one freelancer, many members, payments split by shares.", no_args_is_help=True
)

GuildArg = Annotated[str, typer.Argument(help="The guild's address.")]
ProposalArg = Annotated[int, typer.Argument(help="Proposal id.")]


def register(app: typer.Typer) -> None:
    app.add_typer(guild_app, name="guild")


@guild_app.command("create")
def guild_create(
    ctx: typer.Context,
    family: Annotated[
        str, typer.Option("--family", help="Skill family of the badges members hold, e.g. ml/vision.")
    ],
    founder: Annotated[
        list[str], typer.Option("--founder", help="A founding member (repeat); holds a badge of the family.")
    ],
    sender: FromOpt,
    shares: Annotated[
        list[int] | None, typer.Option("--shares", help="Each founder's shares, in order (default 1 each).")
    ] = None,
    by_shares: Annotated[
        bool, typer.Option("--by-shares", help="Votes weigh shares (default: one member, one vote).")
    ] = False,
    voting_hours: Annotated[
        int, typer.Option("--voting-hours", help="Hours a proposal stays open (1 to 720).")
    ] = 24,
) -> None:
    """Deploy a guild of skill-badge holders (its address takes jobs as one freelancer)."""
    from proofwork.services import guilds

    state = cli_state(ctx)
    with state.workspace() as ws:
        created = guilds.create(
            ws,
            ws.signer(sender),
            family,
            founder,
            shares or None,
            by_shares=by_shares,
            voting_period=voting_hours * 3_600,
        )
        members = [{"address": a, "shares": s} for a, s in created.members]
        state.emit(
            {"ok": True, "guild": created.address, "family": family, "members": members},
            f"guild {created.address} created: {len(members)} members, badge family {family!r}",
        )


@guild_app.command("join")
def guild_join(
    ctx: typer.Context,
    guild: GuildArg,
    sender: FromOpt,
    shares: Annotated[int, typer.Option("--shares", help="Shares asked for.")] = 1,
) -> None:
    """Ask to join (the rule is checked now); the members vote on the proposal."""
    from proofwork.services import guilds

    state = cli_state(ctx)
    with state.workspace() as ws:
        proposal_id, tx = guilds.join(ws, guild, ws.signer(sender), shares)
        state.emit(
            {"ok": True, "proposal": proposal_id, "tx": tx},
            f"admission proposed: proposal {proposal_id} (members vote with `proofwork guild vote`)",
        )


@guild_app.command("shares")
def guild_shares(
    ctx: typer.Context,
    guild: GuildArg,
    member: Annotated[str, typer.Argument(help="The member: a name or an address.")],
    shares: Annotated[int, typer.Argument(help="Its new shares.")],
    sender: FromOpt,
) -> None:
    """Propose new shares for a member; the members vote, then `guild execute`."""
    from proofwork.services import guilds

    state = cli_state(ctx)
    with state.workspace() as ws:
        proposal_id, tx = guilds.propose_shares(ws, guild, ws.signer(sender), member, shares)
        state.emit(
            {"ok": True, "proposal": proposal_id, "tx": tx}, f"share change proposed: proposal {proposal_id}"
        )


@guild_app.command("kick")
def guild_kick(
    ctx: typer.Context,
    guild: GuildArg,
    member: Annotated[str, typer.Argument(help="The member: a name or an address.")],
    sender: FromOpt,
) -> None:
    """Propose to expel a member (what it earned stays claimable)."""
    from proofwork.services import guilds

    state = cli_state(ctx)
    with state.workspace() as ws:
        proposal_id, tx = guilds.propose_kick(ws, guild, ws.signer(sender), member)
        state.emit(
            {"ok": True, "proposal": proposal_id, "tx": tx}, f"expulsion proposed: proposal {proposal_id}"
        )


@guild_app.command("leave")
def guild_leave(ctx: typer.Context, guild: GuildArg, sender: FromOpt) -> None:
    """Leave the guild; what you earned stays claimable."""
    from proofwork.services import guilds

    state = cli_state(ctx)
    with state.workspace() as ws:
        left = guilds.leave(ws, guild, ws.signer(sender))
        state.emit({"ok": True, **left}, f"left the guild; still claimable: {left['claimable']} units")


@guild_app.command("apply")
def guild_apply(
    ctx: typer.Context,
    guild: GuildArg,
    job_id: JobArg,
    sender: FromOpt,
    worker: Annotated[
        list[str] | None, typer.Option("--worker", help="A member who will do the job (repeat; default you).")
    ] = None,
    proposal: Annotated[
        str, typer.Option("--proposal", help="32-byte hex hash of the guild's proposal.")
    ] = "0x" + "00" * 32,
) -> None:
    """Propose that the guild apply for (or accept) a job, naming its workers."""
    from proofwork.services import guilds

    state = cli_state(ctx)
    digest = hash32(proposal, "proposal")
    with state.workspace() as ws:
        proposal_id, tx = guilds.apply(ws, guild, ws.signer(sender), uint_id(job_id), digest, worker or [])
        state.emit(
            {"ok": True, "proposal": proposal_id, "job": job_id, "tx": tx},
            f"proposal {proposal_id}: take job {job_id} (vote, then `proofwork guild take`)",
        )


@guild_app.command("vote")
def guild_vote(
    ctx: typer.Context,
    guild: GuildArg,
    proposal_id: ProposalArg,
    sender: FromOpt,
    against: Annotated[bool, typer.Option("--against", help="Vote against (default: for).")] = False,
) -> None:
    """Vote on a proposal (members admitted before it, once)."""
    from proofwork.services import guilds

    state = cli_state(ctx)
    with state.workspace() as ws:
        tx = guilds.vote(ws, guild, ws.signer(sender), uint_id(proposal_id, "proposal id"), not against)
        side = "against" if against else "for"
        state.emit(
            {"ok": True, "proposal": proposal_id, "support": not against, "tx": tx},
            f"voted {side} proposal {proposal_id}",
        )


@guild_app.command("execute")
def guild_execute(ctx: typer.Context, guild: GuildArg, proposal_id: ProposalArg, sender: FromOpt) -> None:
    """Execute a passed admission, share change or expulsion."""
    from proofwork.services import guilds

    state = cli_state(ctx)
    with state.workspace() as ws:
        tx = guilds.execute(ws, guild, ws.signer(sender), uint_id(proposal_id, "proposal id"))
        state.emit({"ok": True, "proposal": proposal_id, "tx": tx}, f"proposal {proposal_id} executed")


@guild_app.command("take")
def guild_take(ctx: typer.Context, guild: GuildArg, proposal_id: ProposalArg, sender: FromOpt) -> None:
    """Execute a passed job proposal: the guild applies (or accepts) and its workers are named on chain."""
    from proofwork.services import guilds

    state = cli_state(ctx)
    with state.workspace() as ws:
        taken = guilds.take(ws, guild, ws.signer(sender), uint_id(proposal_id, "proposal id"))
        verb = "applied for" if taken["applied"] else "took"
        state.emit(
            {"ok": True, **taken},
            f"the guild {verb} job {taken['job']}; workers: {', '.join(taken['workers'])}",
        )


@guild_app.command("submit")
def guild_submit(
    ctx: typer.Context,
    guild: GuildArg,
    job_id: JobArg,
    sender: FromOpt,
    deliverable: Annotated[str, typer.Option("--hash", help="Deliverable hash (hex).")],
    milestone: MilestoneOpt = 1,
) -> None:
    """As a member named for the job, submit a deliverable as the guild."""
    from proofwork.services import guilds

    state = cli_state(ctx)
    index = milestone_index(milestone)
    digest = hash32(deliverable, "deliverable")
    with state.workspace() as ws:
        tx = guilds.submit(ws, guild, ws.signer(sender), uint_id(job_id), index, digest)
        state.emit(
            {"ok": True, "job": job_id, "milestone": milestone, "tx": tx},
            f"milestone {milestone} of job {job_id} submitted by the guild",
        )


@guild_app.command("attest")
def guild_attest(
    ctx: typer.Context, guild: GuildArg, job_id: JobArg, sender: FromOpt, milestone: MilestoneOpt = 1
) -> None:
    """Attest the named workers' part in a milestone the guild completed (anyone may)."""
    from proofwork.services import guilds

    state = cli_state(ctx)
    index = milestone_index(milestone)
    with state.workspace() as ws:
        done = guilds.attest(ws, guild, ws.signer(sender), uint_id(job_id), index)
        state.emit(
            {"ok": True, **done},
            f"milestone {milestone} of job {job_id} attested to {', '.join(done['workers'])}",
        )


@guild_app.command("split")
def guild_split(ctx: typer.Context, guild: GuildArg, sender: FromOpt) -> None:
    """Split what the guild received since the last split among its members (anyone may)."""
    from proofwork.services import guilds

    state = cli_state(ctx)
    with state.workspace() as ws:
        done = guilds.split(ws, guild, ws.signer(sender))
        token = ws.token
        state.emit(
            {"ok": True, **done, "split": format_amount(done["split"], token.decimals)},
            f"split {money(done['split'], token.decimals, token.symbol)} (gas {done['gas']})",
        )


@guild_app.command("claim")
def guild_claim(
    ctx: typer.Context,
    guild: GuildArg,
    sender: FromOpt,
    amount: Annotated[
        str | None, typer.Option("--amount", help="Amount to claim (default: all that is due).")
    ] = None,
) -> None:
    """Claim your part of the guild's payments."""
    from proofwork.services import guilds

    state = cli_state(ctx)
    with state.workspace() as ws:
        token = ws.token
        units = None if amount is None else parse_amount(amount, token.decimals)
        done = guilds.claim(ws, guild, ws.signer(sender), units)
        state.emit(
            {"ok": True, **done, "claimed": format_amount(done["claimed"], token.decimals)},
            f"claimed {money(done['claimed'], token.decimals, token.symbol)}",
        )


@guild_app.command("members")
def guild_members(ctx: typer.Context, guild: GuildArg) -> None:
    """The members, their shares and what each may claim."""
    from proofwork.services import guilds

    state = cli_state(ctx)
    with state.workspace() as ws:
        data = guilds.members(ws, guild)
        token = ws.token
        lines = [f"guild {data['guild']} (family {data['family']!r}, total shares {data['total_shares']})"]
        for m in data["members"]:
            lines.append(
                f"  {m['address']}  shares {m['shares']}  claimable {money(m['claimable'], token.decimals, token.symbol)}"
            )
            m["claimable"] = format_amount(m["claimable"], token.decimals)
        state.emit({"ok": True, **data}, "\n".join(lines))
