"""Competitions: `competition create|cancel|enter|reveal|withdraw`, ranking challenges before the court
(`competition challenge|appeal|advance|payout`), `leaderboard`."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from proofwork.cli.args import CompArg, FromOpt, cli_state, existing_file, plain, uint_id
from proofwork.cli.output import money, when
from proofwork.domain.competition import MAX_ENTRY_BOND
from proofwork.domain.errors import InvalidInput
from proofwork.domain.units import format_amount, parse_amount, parse_duration

competition_app = typer.Typer(
    help="Competitions: a prize open to many until a deadline.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(competition_app, name="competition")
    app.command("leaderboard")(leaderboard)


MAX_PLACES = 10


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
    entry_bond: Annotated[
        str | None,
        typer.Option(
            help="Bond per entry in tokens: returned when the entry is revealed, yours if it never is "
            "(default: 1 % of the prize)."
        ),
    ] = None,
) -> None:
    """Create a competition and escrow its prize; entries open once the oracles confirm the labels."""
    from proofwork.domain.evalspec import to_fixed
    from proofwork.services.competitions import Competitions

    state = cli_state(ctx)
    # everything checked before the workspace opens: no approval is sent for a create that must fail
    minimum = None if min_score is None else _min_score(min_score, to_fixed)
    shares = _split(split)
    if entry_bond is not None:
        _bond_form(entry_bond)
    if not 1 <= daily_limit <= 255:
        raise InvalidInput(f"invalid --daily-limit {daily_limit}: expected 1 to 255 submissions a day")
    if not 1 <= public_percent <= 99:
        raise InvalidInput(f"invalid --public-percent {public_percent}: expected 1 to 99")
    deadline_in = parse_duration(deadline)
    reveal_seconds = parse_duration(reveal_period)
    spec, labels = existing_file(spec, "spec"), existing_file(labels, "labels")
    with state.workspace() as ws:
        decimals = ws.token.decimals
        bond = None if entry_bond is None else _bond(entry_bond, decimals)
        comp_id, receipts = Competitions(ws).create(
            ws.signer(sender),
            spec,
            labels,
            prize=parse_amount(prize, decimals),
            deadline=ws.chain.next_timestamp() + deadline_in,
            reveal_period=reveal_seconds,
            prize_bps=shares,
            daily_limit=daily_limit,
            public_percent=public_percent,
            min_score=minimum,
            entry_bond=bond,
        )
        comp = Competitions(ws).get(comp_id)
        state.emit(
            {
                "ok": True,
                "competition_id": comp_id,
                "entry_bond": format_amount(comp.entry_bond, decimals),
                "steps": [{"name": n, "tx": r.tx_hash, "gas": r.gas_used} for n, r in receipts],
            },
            f"competition {comp_id} created (entry bond {money(comp.entry_bond, decimals, ws.token.symbol)}); "
            "entries open once the oracles confirm its labels",
        )


def _bond_form(text: str) -> None:
    """`--entry-bond` checked before anything is opened: a positive decimal (its precision and
    size are checked against the token's decimals later)."""
    try:
        value = parse_amount(text, 40)
    except InvalidInput as exc:
        raise InvalidInput(f"invalid --entry-bond: {exc}") from None
    if value == 0:
        raise InvalidInput(f"invalid --entry-bond {text!r}: the bond must be more than 0")


def _bond(text: str, decimals: int) -> int:
    try:
        bond = parse_amount(text, decimals)
    except InvalidInput as exc:
        raise InvalidInput(f"invalid --entry-bond: {exc}") from None
    if bond > MAX_ENTRY_BOND:
        raise InvalidInput(f"invalid --entry-bond {text!r}: above 2^128 token units")
    return bond


def _min_score(text: str, to_fixed: Any) -> int:
    from proofwork.domain.evalspec import to_fixed

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
    """Take back the prize of a competition nobody can or did judge: any time before the oracles
    confirm its labels, or once it is past judging (a dead committee cannot lock the prize)."""
    from proofwork.services.competitions import Competitions

    state = cli_state(ctx)
    uint_id(comp_id, "competition id")
    with state.workspace() as ws:
        refund, receipt = Competitions(ws).cancel(ws.signer(sender), comp_id)
        state.emit(
            {
                "ok": True,
                "competition_id": comp_id,
                "credited": format_amount(refund, ws.token.decimals),
                "tx": receipt.tx_hash,
            },
            f"competition {comp_id} cancelled: {money(refund, ws.token.decimals, ws.token.symbol)} credited "
            f"to its creator (`proofwork competition withdraw`; tx {receipt.tx_hash})",
        )


@competition_app.command("enter")
def competition_enter(
    ctx: typer.Context,
    comp_id: CompArg,
    sender: FromOpt,
    file: Annotated[Path, typer.Option(help="Submission: ONNX model or predictions file.")],
) -> None:
    """Commit to a submission (sealed to the oracles, so nobody can copy it), paying the entry bond
    (returned when the entry is revealed). Refused until the oracles have confirmed the labels."""
    from proofwork.services.competitions import Competitions

    state = cli_state(ctx)
    uint_id(comp_id, "competition id")
    with state.workspace() as ws:
        entry, receipts = Competitions(ws).enter(
            ws.signer(sender), comp_id, existing_file(file, "submission")
        )
        state.emit(
            {
                "ok": True,
                "entry": entry,
                "tx": receipts[-1][1].tx_hash,
                "steps": [{"name": n, "tx": r.tx_hash, "gas": r.gas_used} for n, r in receipts],
            },
            f"entry {entry} committed to competition {comp_id}",
        )


@competition_app.command("reveal")
def competition_reveal(ctx: typer.Context, comp_id: CompArg, sender: FromOpt) -> None:
    """After the deadline, reveal all of this account's entries: unrevealed entries cannot win and
    their bonds go to the client; a revealed entry's bond is credited back (`competition withdraw`)."""
    from proofwork.services.competitions import Competitions

    state = cli_state(ctx)
    uint_id(comp_id, "competition id")
    with state.workspace() as ws:
        entries = Competitions(ws).reveal_all(ws.signer(sender), comp_id)
        state.emit(
            {"ok": True, "revealed": entries},
            f"revealed entries {entries}; their bonds are credited back (`proofwork competition withdraw`)"
            if entries
            else "nothing to reveal",
        )


@competition_app.command("withdraw")
def competition_withdraw(
    ctx: typer.Context,
    sender: FromOpt,
    token: Annotated[
        str | None, typer.Option(help="Token address (default: the deployment's stablecoin).")
    ] = None,
) -> None:
    """Pull everything credited to this account by competitions: prizes, returned bonds, refunds."""
    from proofwork.domain.addresses import parse_address
    from proofwork.services.competitions import Competitions

    state = cli_state(ctx)
    address = None if token is None else parse_address(token, "--token")
    with state.workspace() as ws:
        amount, receipt = Competitions(ws).withdraw(ws.signer(sender), address)
        if address is None or address.lower() == ws.token.address.lower():
            decimals, shown = ws.token.decimals, money(amount, ws.token.decimals, ws.token.symbol)
        else:  # another ERC-20: its smallest units (it need not have `decimals`)
            decimals, shown = 0, f"{amount} units of {address}"
        state.emit(
            {"ok": True, "withdrawn": format_amount(amount, decimals), "tx": receipt.tx_hash},
            f"withdrew {shown} (tx {receipt.tx_hash})",
        )


def _steps(steps: list[Any]) -> list[dict[str, Any]]:
    return [{"name": st.name, "tx": st.receipt.tx_hash, "gas": st.receipt.gas_used} for st in steps]


def _challenge_outcome(state: Any, out: Any) -> None:
    steps = _steps(out.steps)
    state.emit(
        {"ok": True, "competition_id": out.comp_id, "dispute": out.dispute_id, "steps": steps},
        out.message + "".join(f"\n  {st['name']}: tx {st['tx']} (gas {st['gas']:,})" for st in steps),
    )


@competition_app.command("challenge")
def competition_challenge(
    ctx: typer.Context,
    comp_id: CompArg,
    sender: FromOpt,
    ranking: Annotated[
        str | None,
        typer.Option(
            help="Your ranking, ENTRY:SCORE pairs best first (scores in millionths, e.g. 1:950000,0:900000); "
            "default: the ranking recomputed here from public artifacts in the sandbox."
        ),
    ] = None,
    statement: Annotated[str, typer.Option(help="A short statement for the meta-evidence.")] = "",
) -> None:
    """Take the committee's ranking to the court of staked jurors during the challenge period, paying the
    court's fee for the prize; the jurors choose between the ranking in force and yours."""
    from proofwork.domain.competition import parse_ranking
    from proofwork.services.ranking_challenges import RankingChallenges

    state = cli_state(ctx)
    uint_id(comp_id, "competition id")
    proposed = None if ranking is None else parse_ranking(ranking)
    with state.workspace() as ws:
        if proposed is None:
            from proofwork.evaluation.runner import Evaluator
            from proofwork.evaluation.sandbox import Sandbox

            with Sandbox(debug=state.settings.sandbox_debug) as sandbox:
                out = RankingChallenges(ws, Evaluator(sandbox)).challenge(
                    ws.signer(sender), comp_id, None, statement
                )
        else:
            out = RankingChallenges(ws).challenge(ws.signer(sender), comp_id, proposed, statement)
        _challenge_outcome(state, out)


@competition_app.command("appeal")
def competition_appeal(ctx: typer.Context, comp_id: CompArg, sender: FromOpt) -> None:
    """Appeal the court's ruling on a competition's ranking challenge, paying the whole appeal fee."""
    from proofwork.services.ranking_challenges import RankingChallenges

    state = cli_state(ctx)
    uint_id(comp_id, "competition id")
    with state.workspace() as ws:
        _challenge_outcome(state, RankingChallenges(ws).appeal(ws.signer(sender), comp_id))


@competition_app.command("advance")
def competition_advance(ctx: typer.Context, comp_id: CompArg, sender: FromOpt = "dev0") -> None:
    """Do what is due on a competition's ranking challenge in the court (anyone may): the jury draw, the
    next period, the ruling once final, the jurors' rewards."""
    from proofwork.services.ranking_challenges import RankingChallenges

    state = cli_state(ctx)
    uint_id(comp_id, "competition id")
    with state.workspace() as ws:
        _challenge_outcome(state, RankingChallenges(ws).advance(ws.signer(sender), comp_id))


@competition_app.command("payout")
def competition_payout(ctx: typer.Context, comp_id: CompArg, sender: FromOpt = "dev0") -> None:
    """Credit the prizes of a ranked competition by the ranking in force once its challenge period is
    over (anyone may; the oracles do it too)."""
    from proofwork.services.competitions import Competitions

    state = cli_state(ctx)
    uint_id(comp_id, "competition id")
    with state.workspace() as ws:
        refund, receipt = Competitions(ws).payout(ws.signer(sender), comp_id)
        state.emit(
            {
                "ok": True,
                "competition_id": comp_id,
                "client_credited": format_amount(refund, ws.token.decimals),
                "tx": receipt.tx_hash,
            },
            f"competition {comp_id}: prizes credited to the winners (`proofwork competition withdraw`; "
            f"tx {receipt.tx_hash})",
        )


def leaderboard(ctx: typer.Context, comp_id: CompArg) -> None:
    """Public scores before the deadline; once final, the winners and every revealed entry's private
    score with its Merkle proof against the scores root the committee signed."""
    from rich.table import Table

    from proofwork.network.peers import HttpPeers
    from proofwork.services.competitions import Competitions

    state = cli_state(ctx)
    uint_id(comp_id, "competition id")
    peers = HttpPeers()
    try:
        with state.workspace() as ws:
            comp, rows = Competitions(ws).leaderboard(comp_id, peers)
            if comp.token.lower() == ws.token.address.lower():
                decimals, symbol = ws.token.decimals, ws.token.symbol
            else:  # another ERC-20: amounts in its smallest units
                decimals, symbol = 0, "units"
            names = {r.submitter: ws.name_of(r.submitter) for r in rows}
    finally:
        peers.close()
    proven = sum(1 for r in rows if r.proof is not None)
    data = {
        "ok": True,
        "competition_id": comp_id,
        "deadline": comp.deadline,
        "reveal_end": comp.reveal_end,
        "labels_confirmed": comp.labels_confirmed,
        "entry_bond": format_amount(comp.entry_bond, decimals),
        "finalized": comp.finalized,
        "cancelled": comp.cancelled,
        "ranked": comp.ranked,
        "challenge_end": comp.challenge_end,
        "challenges": [
            {
                "dispute": ch.dispute_id,
                "challenger": ch.challenger,
                "ranking": [[e, sc] for e, sc in ch.ranking],
                "ruling": ch.ruling,
            }
            for ch in comp.challenges
        ],
        "scores_root": None if comp.scores_root is None else "0x" + comp.scores_root.hex(),
        "winners": [
            {"place": place + 1, "entry": entry, "score": score}
            for place, (entry, score) in enumerate(comp.winners)
        ],
        "rows": [
            {
                "entry": r.entry,
                "submitter": r.submitter,
                "revealed": r.revealed,
                "public_score": r.public_score,
                "oracles": r.oracles,
                "private_score": r.private_score,
                "proof": None if r.proof is None else ["0x" + p.hex() for p in r.proof],
                "place": None if r.place is None else r.place + 1,
                "prize": r.prize,
            }
            for r in rows
        ],
    }

    def status() -> str:
        if comp.cancelled:
            return "cancelled"
        if comp.finalized:
            return f"final, {proven} of {len(comp.revealed)} revealed scores proven against the signed root"
        if comp.pending_challenge is not None:
            return f"ranking challenged before the court (dispute {comp.pending_challenge.dispute_id})"
        if comp.ranked:
            return (
                f"ranked, {proven} of {len(comp.revealed)} scores proven; prizes paid after "
                + when(comp.challenge_end or 0)
                + " unless challenged"
            )
        if not comp.labels_confirmed:
            return "waiting for the oracles to confirm its labels: no entries yet"
        return "deadline " + when(comp.deadline)

    def table() -> Table:
        t = Table(title=plain(f"competition {comp_id} ({status()})"), title_justify="left")
        columns = ["rank", "entry", "submitter", "public", "private", "prize"]
        for col in columns + (["proof"] if comp.ranked else []):
            t.add_column(col)
        for rank, r in enumerate(rows, 1):
            # every cell as plain Text: token symbols and names come from the chain and the keystore
            cells = [
                str(rank),
                str(r.entry) + ("" if r.revealed or not (comp.ranked or comp.cancelled) else " (unrevealed)"),
                names[r.submitter] or r.submitter,
                "-" if r.public_score is None else f"{r.public_score / 1e6:.6f}",
                "-" if r.private_score is None else f"{r.private_score / 1e6:.6f}",
                money(r.prize, decimals, symbol) if r.prize else "-",
            ]
            if comp.ranked:
                cells.append("ok" if r.proof is not None else "-")
            t.add_row(*(plain(cell) for cell in cells))
        return t

    state.emit(data, table)
