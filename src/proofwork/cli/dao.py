"""`dao deploy|delegate|propose|vote|queue|execute|show|list`: the DAO that runs the platform."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from proofwork.cli.args import FromOpt, cli_state
from proofwork.domain.errors import InvalidInput, NotAllowed
from proofwork.domain.units import format_amount, parse_amount

dao_app = typer.Typer(
    help="The DAO: proposals, votes, the timelock that owns the platform.", no_args_is_help=True
)
PWK_DECIMALS = 18
IdArg = Annotated[str, typer.Argument(help="Proposal id (decimal or 0x hex).")]


def register(app: typer.Typer) -> None:
    app.add_typer(dao_app, name="dao")


def _id(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise InvalidInput(f"invalid proposal id {text[:40]!r}: a decimal or 0x hex number") from None
    if not 0 <= value < 2**256:
        raise InvalidInput("a proposal id is a number from 0 to 2^256 - 1")
    return value


@dao_app.command("deploy")
def dao_deploy(
    ctx: typer.Context,
    sender: FromOpt = "dev0",
    voting_period: Annotated[int, typer.Option(help="Blocks of voting.")] = 50_400,
    voting_delay: Annotated[int, typer.Option(help="Blocks from a proposal to its snapshot.")] = 1,
    quorum_bps: Annotated[int, typer.Option(help="Quorum, basis points of the PWK supply.")] = 400,
    threshold: Annotated[str, typer.Option(help="PWK needed to propose.")] = "10000",
    delay: Annotated[int, typer.Option(help="Timelock delay in seconds.")] = 2 * 86_400,
    hand_over: Annotated[bool, typer.Option(help="Hand every lever to the timelock at once.")] = False,
) -> None:
    """Deploy the Governor and its Timelock over PWK (`court deploy` first); `--hand-over` gives them the platform."""
    from proofwork.services import governance as g

    state = cli_state(ctx)
    params = g.DaoParams(
        voting_delay, voting_period, quorum_bps, parse_amount(threshold, PWK_DECIMALS), delay
    )
    params.check()
    with state.workspace() as ws:
        deployer = ws.signer(sender)
        dao, gas = g.deploy_dao(ws, deployer, params)
        handed = g.hand_over(ws, deployer, dao) if hand_over else []
        state.emit(
            {
                "ok": True,
                "governor": dao.governor,
                "timelock": dao.timelock,
                "handed_over": handed,
                "gas": gas,
                "absent_levers": g.ABSENT_LEVERS,
            },
            f"governor {dao.governor}\ntimelock {dao.timelock}"
            + (f"\nhanded to the timelock: {', '.join(handed)}" if handed else ""),
        )


@dao_app.command("hand-over")
def dao_hand_over(ctx: typer.Context, sender: FromOpt = "dev0") -> None:
    """Give the timelock every lever the deployer holds, then renounce the timelock's admin role."""
    from proofwork.services import governance as g

    state = cli_state(ctx)
    with state.workspace() as ws:
        handed = g.hand_over(ws, ws.signer(sender), g.load_dao(ws))
        state.emit(
            {"ok": True, "handed_over": handed, "absent_levers": g.ABSENT_LEVERS},
            f"handed to the timelock: {', '.join(handed) or 'nothing'}",
        )


@dao_app.command("delegate")
def dao_delegate(
    ctx: typer.Context,
    sender: FromOpt,
    to: Annotated[str | None, typer.Option(help="Delegate (default: the sender itself).")] = None,
) -> None:
    """Delegate the sender's PWK votes (ERC-5805): to itself to vote with its own balance."""
    state = cli_state(ctx)
    with state.workspace() as ws:
        signer = ws.signer(sender)
        delegate = ws.address(to, "delegate") if to else signer.address
        token = ws.court_token
        receipt = ws.chain.transact(signer.key, token.contract.functions.delegate(delegate))
        state.emit(
            {"ok": True, "delegate": delegate, "tx": receipt.tx_hash},
            f"{signer.name} delegates to {delegate}",
        )


@dao_app.command("propose")
def dao_propose(
    ctx: typer.Context,
    sender: FromOpt,
    description: Annotated[str, typer.Option(help="What the proposal does, in words.")],
    set_fee: Annotated[int | None, typer.Option(help="Platform fee for new jobs, in basis points.")] = None,
    accredit: Annotated[
        tuple[str, str, str] | None, typer.Option(help="Accredit an issuer: ADDRESS DID NAME.")
    ] = None,
    revoke: Annotated[str | None, typer.Option(help="Revoke an issuer's accreditation.")] = None,
) -> None:
    """Propose calls the timelock makes if the proposal passes (each shown in words)."""
    from proofwork.chain.governance import Call
    from proofwork.services import governance as g

    state = cli_state(ctx)
    with state.workspace() as ws:
        dao = g.load_dao(ws)
        calls: list[Call] = []

        def call(contract: Any, fn: str, *args: Any) -> None:
            calls.append(
                Call(
                    contract.address, 0, bytes.fromhex(contract.contract.encode_abi(fn, args=list(args))[2:])
                )
            )

        if set_fee is not None:
            if not 0 <= set_fee <= 1_000:
                raise InvalidInput(f"fee {set_fee} bps is outside 0 to 1000 bps (the cap is 10 %)")
            call(ws.escrow, "set_fee", set_fee)
        if accredit is not None:
            address, did, name = accredit
            call(ws.issuer_registry, "accredit", ws.address(address, "issuer"), did, name)
        if revoke is not None:
            call(ws.issuer_registry, "revoke_accreditation", ws.address(revoke, "issuer"))
        if not calls:
            raise InvalidInput("say what to propose: --set-fee, --accredit or --revoke")
        governor = g.governor_handle(ws, dao)
        signer = ws.signer(sender)
        params = governor.parameters()
        votes = int(ws.chain.call(ws.court_token.contract.functions.getVotes(signer.address)))
        if votes < int(params["proposal_threshold"]):
            raise NotAllowed(
                f"{signer.name} has {format_amount(votes, PWK_DECIMALS)} PWK of votes; proposing needs "
                f"{format_amount(int(params['proposal_threshold']), PWK_DECIMALS)} (delegated before this block)"
            )
        words = [g.describer(ws, dao).describe(c) for c in calls]
        pid, receipt = governor.propose(signer.key, calls, description)
        state.emit(
            {
                "ok": True,
                "proposal": str(pid),
                "calls": words,
                "tx": receipt.tx_hash,
                "gas": receipt.gas_used,
            },
            f"proposal {pid}\n" + "\n".join(f"  - {w}" for w in words),
        )


@dao_app.command("vote")
def dao_vote(
    ctx: typer.Context,
    proposal: IdArg,
    support: Annotated[str, typer.Argument(help="for, against or abstain")],
    sender: FromOpt,
    relay_by: Annotated[
        str | None,
        typer.Option(help="Sign the ballot and have this account send it (the voter pays no gas)."),
    ] = None,
) -> None:
    """Vote on an active proposal, yourself or by a signed ballot another account relays."""
    from proofwork.chain.governance import support_of
    from proofwork.services import governance as g

    state = cli_state(ctx)
    pid, choice = _id(proposal), support_of(support)
    with state.workspace() as ws:
        governor = g.governor_handle(ws, g.load_dao(ws))
        voter = ws.signer(sender)
        if relay_by:
            ballot = governor.sign_ballot(voter.key, pid, choice)
            receipt = governor.vote_by_sig(ws.signer(relay_by).key, pid, choice, voter.address, ballot)
        else:
            receipt = governor.vote(voter.key, pid, choice)
        state.emit(
            {
                "ok": True,
                "proposal": str(pid),
                "support": support.lower(),
                "tx": receipt.tx_hash,
                "gas": receipt.gas_used,
            },
            f"{voter.name} voted {support.lower()} on proposal {pid}",
        )


@dao_app.command("queue")
def dao_queue(ctx: typer.Context, proposal: IdArg, sender: FromOpt = "dev0") -> None:
    """Schedule a passed proposal in the timelock (anyone may)."""
    from proofwork.services import governance as g

    state = cli_state(ctx)
    pid = _id(proposal)
    with state.workspace() as ws:
        governor = g.governor_handle(ws, g.load_dao(ws))
        receipt = governor.queue(ws.signer(sender).key, pid)
        eta = governor.eta(pid)
        state.emit(
            {"ok": True, "proposal": str(pid), "eta": eta, "tx": receipt.tx_hash},
            f"proposal {pid} queued: executable from {eta}",
        )


@dao_app.command("execute")
def dao_execute(ctx: typer.Context, proposal: IdArg, sender: FromOpt = "dev0") -> None:
    """Run a queued proposal through the timelock once its delay is over (anyone may)."""
    from proofwork.services import governance as g

    state = cli_state(ctx)
    pid = _id(proposal)
    with state.workspace() as ws:
        governor = g.governor_handle(ws, g.load_dao(ws))
        receipt = governor.execute(ws.signer(sender).key, governor.proposal(pid))
        state.emit(
            {"ok": True, "proposal": str(pid), "tx": receipt.tx_hash, "gas": receipt.gas_used},
            f"proposal {pid} executed",
        )


def _summary(ws: Any, dao: Any, governor: Any, pid: int) -> dict[str, Any]:
    from proofwork.services import governance as g

    p = governor.proposal(pid)
    describe = g.describer(ws, dao).describe
    return {
        "proposal": str(pid),
        "proposer": p.proposer,
        "state": governor.state(pid),
        "description": p.description,
        "calls": [describe(c, p.block) for c in p.calls],
        "snapshot": p.vote_start,
        "deadline": p.vote_end,
        "votes": {k: format_amount(v, PWK_DECIMALS) for k, v in governor.tallies(pid).items()},
        "eta": governor.eta(pid),
    }


def _human(s: dict[str, Any]) -> str:
    v = s["votes"]
    return (
        f"proposal {s['proposal']} ({s['state']}) by {s['proposer']}: {s['description']}\n"
        + "\n".join(f"  - {c}" for c in s["calls"])
        + f"\n  votes: for {v['for']}, against {v['against']}, abstain {v['abstain']} PWK"
    )


@dao_app.command("show")
def dao_show(ctx: typer.Context, proposal: IdArg) -> None:
    """A proposal: its calls in words, state, tallies."""
    from proofwork.services import governance as g

    state = cli_state(ctx)
    pid = _id(proposal)
    with state.workspace() as ws:
        dao = g.load_dao(ws)
        summary = _summary(ws, dao, g.governor_handle(ws, dao), pid)
        state.emit({"ok": True, **summary}, _human(summary))


@dao_app.command("list")
def dao_list(ctx: typer.Context) -> None:
    """Every proposal, oldest first."""
    from proofwork.services import governance as g

    state = cli_state(ctx)
    with state.workspace() as ws:
        dao = g.load_dao(ws)
        governor = g.governor_handle(ws, dao)
        rows = [_summary(ws, dao, governor, p.id) for p in governor.proposals()]
        state.emit({"ok": True, "proposals": rows}, "\n".join(_human(r) for r in rows) or "no proposals yet")
