"""Labeling campaigns: `label deploy|create|status|work|batch|submit|aggregate|publish|sign|round|challenge|
claim|verify|close|sweep|export`.

`label work` is a terminal labeler: it shows each item of a batch (its text, or an image drawn with
half blocks), takes a key per label (1-9 then a-z, or the label itself; `s` skips, `q` stops), then
signs the batch (EIP-712) and submits it. It reads standard input line by line, so it also runs
without a terminal (tests, scripts)."""

from __future__ import annotations

import json
import string
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from proofwork.cli.args import FromOpt, cli_state, existing_file, uint_id
from proofwork.cli.output import as_text
from proofwork.domain.errors import InvalidInput, ProofworkError
from proofwork.domain.units import parse_duration

label_app = typer.Typer(
    help="Labeling campaigns: escrowed budgets, signed batches, committee-signed payouts.",
    no_args_is_help=True,
)

CampaignArg = Annotated[int, typer.Argument(help="Campaign id.")]
KEYS = string.digits[1:] + string.ascii_lowercase  # a key per label: 1-9, then a-z
MAX_ITEM_BYTES = 8 * 1024 * 1024


def register(app: typer.Typer) -> None:
    app.add_typer(label_app, name="label")


def _campaign(value: int) -> int:
    return uint_id(value, "campaign id", lowest=1)


@label_app.command("deploy")
def label_deploy(ctx: typer.Context, sender: FromOpt = "dev0") -> None:
    """Deploy LabelPayouts (once per chain; kept when already there)."""
    from proofwork.services.deployment import deploy_labeling

    state = cli_state(ctx)
    with state.workspace() as ws:
        result = deploy_labeling(ws, ws.signer(sender))
        address = result.deployment.label_payouts
        state.emit(
            {"ok": True, "label_payouts": address, "created": result.created, "gas": result.gas},
            f"LabelPayouts {'deployed' if result.created else 'already deployed'} at {address}",
        )


@label_app.command("create")
def label_create(
    ctx: typer.Context,
    sender: FromOpt,
    spec: Annotated[
        Path, typer.Argument(help="Campaign spec (YAML or JSON); its gold commitments are filled in.")
    ],
    gold: Annotated[
        Path, typer.Option(help="Gold items: a JSON object mapping item CIDs (or file names) to labels.")
    ],
    items_dir: Annotated[
        Path | None, typer.Option(help="A directory of item files: stored, and used as the spec's items.")
    ] = None,
    challenge_window: Annotated[str, typer.Option(help="Each round's challenge window (1h to 7d).")] = "1h",
    duration: Annotated[str, typer.Option(help="Time until the campaign closes (at most 730d).")] = "30d",
) -> None:
    """Create a campaign: spec and gold commitments stored by CID, the budget escrowed."""
    from proofwork.services.labeling.campaigns import create_campaign

    state = cli_state(ctx)
    window, lasting = parse_duration(challenge_window), parse_duration(duration)
    spec_text = existing_file(spec, "spec").read_bytes()
    gold_text = existing_file(gold, "gold").read_bytes()
    with state.workspace() as ws:
        created = create_campaign(
            ws,
            ws.signer(sender),
            spec_text,
            gold_text,
            items_dir=items_dir,
            challenge_window=window,
            duration=lasting,
        )
        state.emit(
            {
                "ok": True,
                "campaign": created.campaign_id,
                "name": created.spec.name,
                "spec_cid": created.spec_cid,
                "spec_hash": "0x" + created.spec_hash.hex(),
                "commitments_cid": created.commitments_cid,
                "items": len(created.spec.items),
                "gold_items": created.gold_items,
                "budget": created.spec.budget,
                "close_time": created.close_time,
                "transactions": [r.tx_hash for r in created.receipts],
            },
            f"campaign {created.campaign_id} ({created.spec.name}) created: {len(created.spec.items)} items, "
            f"budget {created.spec.budget} escrowed; spec {created.spec_cid}",
        )


@label_app.command("status")
def label_status(
    ctx: typer.Context,
    campaign: Annotated[int | None, typer.Argument(help="Campaign id (all when left out).")] = None,
) -> None:
    """A campaign's budget, labels, rounds and claims (or every campaign this node serves)."""
    from proofwork.services.labeling.campaigns import campaign_status, list_campaigns

    state = cli_state(ctx)
    with state.workspace() as ws:
        rows = [campaign_status(ws, _campaign(campaign))] if campaign is not None else list_campaigns(ws)
        docs = [r.to_json() for r in rows]

        def table() -> Table:
            t = Table(
                "campaign", "name", "budget", "paid", "labels", "labelers", "rounds", "claimable", "closed"
            )
            for d in docs:
                t.add_row(
                    str(d["campaign"]),
                    as_text(d["name"]),
                    str(d["budget"]),
                    str(d["paid"]),
                    f"{d['labels_given']}/{d['labels_affordable']}",
                    str(d["labelers"]),
                    str(d["rounds"]),
                    f"round {d['claimable_round']}: {d['claimable_total']}" if d["claimable_round"] else "-",
                    "yes" if d["closed"] else "no",
                )
            return t

        state.emit({"ok": True, "campaigns": docs}, table)


def _item_view(ws: Any, item: str) -> Any:
    from proofwork.cli.terminal_image import decode, render

    try:
        data = ws.store.read_bytes(item, MAX_ITEM_BYTES)
    except ProofworkError as exc:  # an item missing from this store: shown as its CID
        return as_text(f"[item {item} not in this node's store: {str(exc).splitlines()[0]}]")
    pixels = decode(data)
    if pixels is not None:
        return render(pixels)
    try:
        return as_text(data.decode("utf-8"))
    except UnicodeDecodeError:
        return as_text(f"[{len(data)} bytes that are neither text nor an image this terminal can draw]")


def _open_in(viewer: str, ws: Any, item: str) -> None:
    """Hands the item's bytes, in a private temporary file, to a viewer program (no shell)."""
    import shlex
    import subprocess
    import tempfile

    try:
        data = ws.store.read_bytes(item, MAX_ITEM_BYTES)
    except ProofworkError:
        return
    with tempfile.NamedTemporaryFile(prefix="proofwork-item-", delete=False) as handle:
        handle.write(data)
    try:
        subprocess.run([*shlex.split(viewer), handle.name], check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InvalidInput(f"cannot run the viewer {viewer!r}: {exc}") from None


def _read_choice(labels: tuple[str, ...]) -> str | None:
    """A label from the next line of standard input: its key, or the label itself; None for `s`
    (skip); InvalidInput at `q` or the end of input (nothing signed)."""
    while True:
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        text = line.strip()
        if text == "q":
            raise EOFError
        if text == "s":
            return None
        if text in labels:
            return text
        if len(text) == 1 and text in KEYS[: len(labels)]:
            return labels[KEYS.index(text)]
        sys.stderr.write(f"unknown key {text[:20]!r}: use {KEYS[0]}-{KEYS[len(labels) - 1]}, s or q\n")


@label_app.command("work")
def label_work(
    ctx: typer.Context,
    sender: FromOpt,
    campaign: CampaignArg,
    batches: Annotated[
        int, typer.Option(help="Batches to work before stopping (0: until no work is left).")
    ] = 1,
    presentation: Annotated[
        Path | None, typer.Option(help="A credential presentation (SD-JWT) for campaigns that ask for one.")
    ] = None,
    viewer: Annotated[
        str | None,
        typer.Option(help="Also open each item in this program (e.g. xdg-open), given the item's file."),
    ] = None,
) -> None:
    """Label in the terminal: each item shown, a key per label, each batch signed and submitted."""
    from proofwork.domain.errors import LabelRefused
    from proofwork.services.labeling.work import next_batch, submit_batch

    state = cli_state(ctx)
    campaign = _campaign(campaign)
    if batches < 0:
        raise InvalidInput("--batches must be 0 or more")
    shown = existing_file(presentation, "presentation").read_text().strip() if presentation else None
    console = state.console
    done: list[dict[str, Any]] = []
    with state.workspace() as ws:
        labeler = ws.signer(sender)
        while batches == 0 or len(done) < batches:
            try:
                batch = next_batch(ws, campaign, labeler.address, presentation=shown)
            except LabelRefused as exc:
                if done and exc.reason in ("no_work", "labeler_cap", "budget_spent"):
                    if not state.json:
                        console.print(as_text(f"stopping: {exc}"))
                    break
                raise
            keys = "  ".join(f"{KEYS[i]}={label}" for i, label in enumerate(batch.labels))
            answers: list[tuple[str, str]] = []
            stopped = False
            for n, item in enumerate(batch.items, 1):
                if not state.json:
                    console.rule(as_text(f"batch item {n}/{len(batch.items)}  {item}"))
                    console.print(_item_view(ws, item))
                if viewer:
                    _open_in(viewer, ws, item)
                    console.print(as_text(f"{keys}   s=skip  q=stop"))
                try:
                    choice = _read_choice(batch.labels)
                except EOFError:
                    stopped = True
                    break
                if choice is not None:
                    answers.append((item, choice))
            if not answers:
                if not state.json:
                    console.print(as_text("nothing answered: the batch is left to expire"))
                break
            accepted = submit_batch(ws, campaign, batch.batch_id, answers, batch.sign(labeler.key, answers))
            done.append({"batch": "0x" + batch.batch_id.hex(), "answers": accepted.answers})
            if not state.json:
                console.print(as_text(f"signed and submitted {accepted.answers} answers"))
            if stopped:
                break
        state.emit(
            {"ok": True, "campaign": campaign, "labeler": labeler.address, "batches": done},
            f"{sum(d['answers'] for d in done)} answers in {len(done)} batches submitted",
        )


@label_app.command("batch")
def label_batch(
    ctx: typer.Context,
    campaign: CampaignArg,
    labeler: Annotated[str, typer.Option(help="The labeler's address or account name.")],
    presentation: Annotated[
        Path | None, typer.Option(help="A credential presentation, when asked for.")
    ] = None,
) -> None:
    """Fetch the labeler's open batch, or a new one (what `label submit` answers)."""
    from proofwork.services.labeling.work import next_batch

    state = cli_state(ctx)
    shown = existing_file(presentation, "presentation").read_text().strip() if presentation else None
    with state.workspace() as ws:
        batch = next_batch(ws, _campaign(campaign), ws.address(labeler, "labeler"), presentation=shown)
        doc = batch.to_json()
        state.emit({"ok": True, **doc}, lambda: as_text(json.dumps(doc, indent=2)))


def _submission(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(existing_file(path, "batch").read_text())
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(f"{path} is not JSON: expected {{batch, answers, signature}}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("batch"), str):
        raise InvalidInput(f"{path} must be a JSON object with 'batch' (0x hex), 'answers' and 'signature'")
    return doc


def _hex_bytes(value: object, size: int, what: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise InvalidInput(f"{what} must be 0x hex")
    try:
        data = bytes.fromhex(value[2:])
    except ValueError:
        raise InvalidInput(f"{what} must be 0x hex") from None
    if len(data) != size:
        raise InvalidInput(f"{what} must be {size} bytes")
    return data


@label_app.command("submit")
def label_submit(
    ctx: typer.Context,
    campaign: CampaignArg,
    file: Annotated[Path, typer.Argument(help="JSON: {batch, answers: [[item, label], ...], signature}.")],
    sender: Annotated[
        str | None,
        typer.Option("--from", help="Sign the answers with this account (when the file has no signature)."),
    ] = None,
) -> None:
    """Submit a signed batch from a file (signed here with --from when it carries no signature)."""
    from proofwork.services.labeling.work import get_batch, parse_answers, submit_batch

    state = cli_state(ctx)
    campaign = _campaign(campaign)
    doc = _submission(file)
    batch_id = _hex_bytes(doc["batch"], 32, "'batch'")
    answers = parse_answers(doc.get("answers"))
    with state.workspace() as ws:
        if doc.get("signature"):
            signature = _hex_bytes(doc["signature"], 65, "'signature'")
        elif sender:
            signature = get_batch(ws, campaign, batch_id).sign(ws.signer(sender).key, answers)
        else:
            raise InvalidInput("the batch file has no 'signature': sign it in a wallet, or give --from")
        accepted = submit_batch(ws, campaign, batch_id, answers, signature)
        state.emit(
            {
                "ok": True,
                "campaign": campaign,
                "batch": doc["batch"],
                "labeler": accepted.labeler,
                "answers": accepted.answers,
            },
            f"{accepted.answers} answers of {accepted.labeler} accepted",
        )


@label_app.command("aggregate")
def label_aggregate(ctx: typer.Context, campaign: CampaignArg) -> None:
    """The next round as it stands (aggregate, accuracy, exclusions, amounts), computed here; nothing
    is published or revealed."""
    from proofwork.services.labeling.rounds import preview

    state = cli_state(ctx)
    with state.workspace() as ws:
        again = preview(ws, _campaign(campaign))
        r = again.result
        doc = {
            "ok": True,
            "campaign": campaign,
            "round": again.round,
            "answers": again.answers,
            "labelers": again.labelers,
            "items": [
                {"item": i.item, "label": i.label, "confidence_bps": i.confidence_bps, "n_labels": i.n_labels}
                for i in r.items
            ],
            "accuracy_bps": dict(r.accuracy_bps),
            "excluded": dict(r.excluded),
            "owed": dict(r.owed),
            "total": r.total,
            "uncertain": list(r.uncertain),
        }

        def table() -> Table:
            t = Table("labeler", "accepted", "accuracy", "owed", "excluded")
            for who in sorted(r.owed):
                t.add_row(
                    who,
                    str(r.accepted.get(who, 0)),
                    f"{r.accuracy_bps.get(who, 0) / 100:.2f} %",
                    str(r.owed[who]),
                    as_text(r.excluded.get(who, "")),
                )
            return t

        state.emit(doc, table)


@label_app.command("publish")
def label_publish(ctx: typer.Context, campaign: CampaignArg) -> None:
    """Publish the next round's bundle by CID (gold answered so far revealed) without posting it: the
    oracles sign it with `label sign`, then `label round --bundle CID --signature FILE ...` posts."""
    from proofwork.services.labeling.rounds import publish_round

    state = cli_state(ctx)
    with state.workspace() as ws:
        pub = publish_round(ws, _campaign(campaign))
        doc = pub.to_json()
        state.emit(
            {"ok": True, **doc},
            f"round {pub.round} of campaign {campaign} published: bundle {pub.bundle_cid}, root {doc['root']}, "
            f"total {doc['total']}",
        )


@label_app.command("sign")
def label_sign(
    ctx: typer.Context,
    sender: FromOpt,
    campaign: CampaignArg,
    round_: Annotated[int, typer.Argument(metavar="ROUND", help="Round number.")],
    bundle: Annotated[str, typer.Option(help="The round bundle's CID.")],
    out: Annotated[Path | None, typer.Option(help="Write the signed root (JSON) here.")] = None,
) -> None:
    """An oracle's duty: recompute the round from its bundle alone and sign the root it finds."""
    from proofwork.services.labeling.rounds import oracle_sign
    from proofwork.storage.files import save_json

    state = cli_state(ctx)
    with state.workspace() as ws:
        signed = oracle_sign(
            ws, ws.signer(sender), _campaign(campaign), uint_id(round_, "round", lowest=1), bundle
        )
        doc = signed.to_json()
        if out is not None:
            save_json(out, doc, 0o644)
        state.emit(
            {"ok": True, **doc},
            f"{signed.oracle} signed root {doc['root']} (total {signed.total}) of round {round_}"
            + (f": {out}" if out else f"\n{json.dumps(doc)}"),
        )


@label_app.command("round")
def label_round(
    ctx: typer.Context,
    sender: FromOpt,
    campaign: CampaignArg,
    bundle: Annotated[
        str | None, typer.Option(help="A bundle published by `label publish` (default: publish one now).")
    ] = None,
    signature: Annotated[
        list[Path] | None, typer.Option(help="A signed root from `label sign` (repeat for each oracle).")
    ] = None,
    local_oracles: Annotated[
        bool, typer.Option(help="Also sign with the committee's keys this node holds.")
    ] = True,
) -> None:
    """Post the next round: the bundle, the committee's recomputed and signed root (this node's oracle
    keys and the signatures given), claimable after the challenge window."""
    from proofwork.services.labeling.rounds import SignedRoot, run_round

    state = cli_state(ctx)
    signed = []
    for path in signature or []:
        try:
            signed.append(SignedRoot.from_json(json.loads(existing_file(path, "signed root").read_text())))
        except (ValueError, UnicodeDecodeError):
            raise InvalidInput(f"{path} is not JSON: expected a signed root from `label sign`") from None
    with state.workspace() as ws:
        outcome = run_round(
            ws,
            ws.signer(sender),
            _campaign(campaign),
            None if local_oracles else [],
            bundle_cid=bundle,
            signatures=signed,
        )
        state.emit(
            {"ok": True, **outcome.to_json()},
            f"round {outcome.round} of campaign {campaign} posted: root 0x{outcome.root.hex()[:16]}..., "
            f"{outcome.total} owed to {len(outcome.owed)} labelers, {len(outcome.excluded)} excluded; "
            f"bundle {outcome.bundle_cid}; claimable from {outcome.claimable_at}",
        )


@label_app.command("challenge")
def label_challenge(ctx: typer.Context, sender: FromOpt, campaign: CampaignArg) -> None:
    """The client or an oracle drops the pending root inside its challenge window (once each)."""
    from proofwork.services.labeling.rounds import challenge_round

    state = cli_state(ctx)
    with state.workspace() as ws:
        round_, receipt = challenge_round(ws, ws.signer(sender), _campaign(campaign))
        state.emit(
            {"ok": True, "campaign": campaign, "round": round_, "tx": receipt.tx_hash},
            f"round {round_} of campaign {campaign} challenged: its root will never be claimable",
        )


@label_app.command("claim")
def label_claim(
    ctx: typer.Context,
    sender: FromOpt,
    campaign: CampaignArg,
    labeler: Annotated[
        list[str] | None,
        typer.Option(help="A labeler to pay (repeat; default: every labeler with something due)."),
    ] = None,
) -> None:
    """Pay labelers their due under the claimable root (anyone may send it: the tokens go to them)."""
    from proofwork.services.labeling.claims import claim

    state = cli_state(ctx)
    with state.workspace() as ws:
        who = [ws.address(a, "labeler") for a in labeler] if labeler else None
        result = claim(ws, ws.signer(sender), _campaign(campaign), who)
        doc = result.to_json()
        state.emit(
            {"ok": True, **doc},
            f"paid {doc['total']} to {len(result.paid)} labelers in {len(result.receipts)} transaction(s)",
        )


@label_app.command("verify")
def label_verify(
    ctx: typer.Context,
    campaign: CampaignArg,
    round_: Annotated[int, typer.Argument(metavar="ROUND", help="Round number.")],
    bundle: Annotated[
        str | None, typer.Option(help="The round bundle's CID (default: the one this node published).")
    ] = None,
    add: Annotated[
        list[Path] | None,
        typer.Option(
            help="A file to put in the local store first: the bundle, the gold commitments (repeat)."
        ),
    ] = None,
) -> None:
    """Recompute a round from its published bundle and compare with the root on chain (exit 1 when
    they differ). From another node: fetch the bundle and the commitments file (the API serves both)
    and pass them with --add and the bundle's CID."""
    from proofwork.services.labeling.rounds import verify_round

    state = cli_state(ctx)
    files = [existing_file(path, "file") for path in add or []]
    with state.workspace() as ws:
        for path in files:
            ws.store.add_file(path)
        check = verify_round(ws, _campaign(campaign), uint_id(round_, "round", lowest=1), bundle)
        doc = check.to_json()
        if not check.matches:
            state.emit(
                {"ok": False, **doc},
                f"MISMATCH: round {round_} of campaign {campaign} recomputed from bundle {check.bundle_cid} gives "
                f"root {doc['root_recomputed']} and total {doc['total_recomputed']}; on chain: "
                f"{doc['root_on_chain']} and {doc['total_on_chain']}",
            )
            raise typer.Exit(1)
        state.emit(
            {"ok": True, **doc},
            f"round {round_} of campaign {campaign} verified: root {doc['root_on_chain']} and total "
            f"{doc['total_on_chain']} recomputed from bundle {check.bundle_cid} ({check.again.answers} answers "
            f"of {check.again.labelers} labelers)",
        )


@label_app.command("close")
def label_close(ctx: typer.Context, sender: FromOpt, campaign: CampaignArg) -> None:
    """After the close time: return what the claimable root does not owe to the client."""
    from proofwork.services.labeling.campaigns import close_campaign

    state = cli_state(ctx)
    with state.workspace() as ws:
        refunded, receipt = close_campaign(ws, ws.signer(sender), _campaign(campaign))
        state.emit(
            {"ok": True, "campaign": campaign, "refunded": refunded, "tx": receipt.tx_hash},
            f"campaign {campaign} closed: {refunded} returned to the client",
        )


@label_app.command("sweep")
def label_sweep(ctx: typer.Context, sender: FromOpt, campaign: CampaignArg) -> None:
    """A year after the close: what labelers left unclaimed returns to the client."""
    from proofwork.services.labeling.campaigns import sweep_campaign

    state = cli_state(ctx)
    with state.workspace() as ws:
        swept, receipt = sweep_campaign(ws, ws.signer(sender), _campaign(campaign))
        state.emit(
            {"ok": True, "campaign": campaign, "swept": swept, "tx": receipt.tx_hash},
            f"campaign {campaign}: {swept} left unclaimed returned to the client",
        )


@label_app.command("export")
def label_export(
    ctx: typer.Context,
    campaign: CampaignArg,
    out: Annotated[Path, typer.Option(help="Directory for labels.csv, labels.parquet and labelers.csv.")],
    round_: Annotated[
        int | None, typer.Option("--round", help="A posted round (default: the claimable one).")
    ] = None,
    register: Annotated[
        bool, typer.Option(help="Register the dataset as an asset with the labelers' royalties contract.")
    ] = False,
    sender: Annotated[str | None, typer.Option("--from", help="The registrant (with --register).")] = None,
    license: Annotated[str | None, typer.Option(help="The dataset's licence (with --register).")] = None,
) -> None:
    """A round's aggregated dataset (item, label, confidence, labels) as CSV and Parquet with the
    labelers and their shares, recomputed from the round bundle and stored by CID; with --register, an
    asset whose labelers earn their shares of its revenue."""
    from proofwork.services.labeling.export import export_round

    state = cli_state(ctx)
    if register and not sender:
        raise InvalidInput("--register needs --from: the account that registers and owns the dataset")
    with state.workspace() as ws:
        exported = export_round(
            ws,
            _campaign(campaign),
            None if round_ is None else uint_id(round_, "round", lowest=1),
            out,
            registrant=ws.signer(sender) if register and sender else None,
            license=license,
        )
        asset = f"; registered as asset {exported.asset_id}" if exported.asset_id is not None else ""
        state.emit(
            {"ok": True, **exported.to_json()},
            f"{exported.items} items of round {exported.round} and {exported.labelers} labelers written to {out}{asset}",
        )
