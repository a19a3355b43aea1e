"""`asset deploy|register|timestamp|list|show|card|lineage|offer|buy|licence|distribute|claim|ip-terms|deliverable`:
models and datasets as assets, their lineage, licences and royalties."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from proofwork.cli.args import FromOpt, cli_state, milestone_index, uint_id
from proofwork.domain.assets import Parent
from proofwork.domain.errors import InvalidInput
from proofwork.domain.units import format_amount, parse_amount

if TYPE_CHECKING:
    from proofwork.domain.assets import AssetManifest

asset_app = typer.Typer(
    help="Models and datasets as assets: register, lineage, licences, royalties.", no_args_is_help=True
)

CreatorOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--creator", help="A creator and its share of the asset's own revenue: ACCOUNT:BPS (repeat)."
    ),
]
ParentOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--parent", help="An asset it derives from and the share of revenue it passes up: ID:BPS (repeat)."
    ),
]
RoyaltyOpt = Annotated[int, typer.Option("--royalty-bps", help="ERC-2981 royalty on resales, at most 1000.")]
KindOpt = Annotated[str, typer.Option("--kind", help="model or dataset.")]
LicenseOpt = Annotated[str | None, typer.Option("--license", help="An SPDX licence expression, e.g. MIT.")]
TermsOpt = Annotated[str | None, typer.Option("--terms-cid", help="CID of custom licence terms.")]
CardOpt = Annotated[
    Path | None,
    typer.Option(
        "--card",
        help="The card to use (JSON): Croissant 1.0 for a dataset, a Hugging Face model card (its "
        "metadata fields, or {format, readme}) for a model. Default: one is generated.",
    ),
]
NoCardOpt = Annotated[bool, typer.Option("--no-card", help="Register without a card.")]


def register(app: typer.Typer) -> None:
    app.add_typer(asset_app, name="asset")


def _card_choice(card: Path | None, no_card: bool) -> dict[str, Any] | bool:
    """--card FILE (read bounded, checked against the manifest later), --no-card, or generate."""
    if card is None:
        return not no_card
    if no_card:
        raise InvalidInput("give a card (--card FILE) or none (--no-card), not both")
    from proofwork.domain.cards import MAX_CARD_BYTES, load_card

    try:
        with card.open("rb") as f:
            data = f.read(MAX_CARD_BYTES + 1)
    except OSError as exc:
        raise InvalidInput(f"cannot read the card {card}: {exc.strerror or exc}") from None
    if len(data) > MAX_CARD_BYTES:
        raise InvalidInput(f"invalid card: {card} is larger than {MAX_CARD_BYTES:,} bytes")
    return load_card(data)


def _card_line(manifest: AssetManifest) -> str:
    fmt = _card_format(manifest)
    return {"croissant": "a Croissant card", "huggingface": "a Hugging Face model card"}.get(fmt, "no card")


def _card_format(manifest: AssetManifest) -> str:
    from proofwork.domain.cards import card_format

    return card_format(manifest.card)


def _parents(values: list[str] | None) -> list[Parent]:
    return [Parent(int(a), b) for a, b in _pairs(values, "parent", numeric=True)]


def _pairs(values: list[str] | None, what: str, numeric: bool = False) -> list[tuple[str, int]]:
    out = []
    for value in values or []:
        left, sep, right = value.rpartition(":")
        if not sep or not left or not right.isdigit() or (numeric and not left.isdigit()):
            raise InvalidInput(
                f"a {what} is written {what.upper()}:BPS, e.g. 0xabc...:2500 or 3:1000; got {value!r}"
            )
        out.append((left, int(right)))
    return out


@asset_app.command("deploy")
def asset_deploy(ctx: typer.Context, sender: FromOpt = "dev0", force: bool = False) -> None:
    """Deploy the asset registry and the licensing contract on the deployed escrow."""
    from proofwork.services import assets

    state = cli_state(ctx)
    with state.workspace() as ws:
        result = assets.deploy(ws, ws.signer(sender), force=force)
        d = result.deployment
        state.emit(
            {
                "ok": True,
                "created": result.created,
                "asset_registry": d.asset_registry,
                "licensing": d.licensing,
            },
            f"asset registry {d.asset_registry}, licensing {d.licensing}"
            + ("" if result.created else " (already deployed)"),
        )


@asset_app.command("register")
def asset_register(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="The asset's files.")],
    name: Annotated[str, typer.Option("--name", help="The asset's name.")],
    sender: FromOpt = "dev0",
    kind: KindOpt = "model",
    license: LicenseOpt = None,
    terms_cid: TermsOpt = None,
    description: Annotated[str, typer.Option("--description")] = "",
    creator: CreatorOpt = None,
    parent: ParentOpt = None,
    royalty_bps: RoyaltyOpt = 0,
    encrypt: Annotated[
        bool, typer.Option("--encrypt", help="Store the files encrypted (AES-256-GCM).")
    ] = False,
    card: CardOpt = None,
    no_card: NoCardOpt = False,
) -> None:
    """Store the files, publish the manifest with its card and register the asset (the block time
    proves when)."""
    from proofwork.domain.assets import Share, build_manifest
    from proofwork.services import assets

    state = cli_state(ctx)
    parents = _parents(parent)
    chosen = _card_choice(card, no_card)
    with state.workspace() as ws:
        creators = [Share(ws.address(a, "creator"), b) for a, b in _pairs(creator, "creator")]
        owner = ws.signer(sender)
        stored, key = assets.store_files(ws, files, encrypt=encrypt)
        manifest = build_manifest(
            kind, name, stored, license=license, terms_cid=terms_cid, description=description
        )
        done = assets.register(
            ws,
            owner,
            manifest,
            creators=creators,
            parents=parents,
            royalty_bps=royalty_bps,
            key=key,
            card=chosen,
            sources=files,
        )
        state.emit(
            {
                "ok": True,
                "asset_id": done.asset_id,
                "manifest": done.manifest_cid,
                "gas": done.gas,
                "card": _card_format(done.manifest),
            },
            f"registered asset {done.asset_id} (manifest {done.manifest_cid}) with {_card_line(done.manifest)}",
        )


@asset_app.command("timestamp")
def asset_timestamp(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="The files of the asset to be.")],
    name: Annotated[str, typer.Option("--name")],
    sender: FromOpt = "dev0",
    kind: KindOpt = "model",
    license: LicenseOpt = None,
    terms_cid: TermsOpt = None,
) -> None:
    """Prove the asset exists now without publishing it: a salted commitment of its manifest is
    timestamped; a later `asset register` of the same files from this data directory proves the date."""
    from proofwork.domain.assets import build_manifest
    from proofwork.services import assets

    state = cli_state(ctx)
    with state.workspace() as ws:
        stored, _ = assets.store_files(ws, files, encrypt=False)
        manifest = build_manifest(kind, name, stored, license=license, terms_cid=terms_cid)
        cid = manifest.canonical_bytes()
        manifest_cid = ws.store.add_bytes(cid)
        _, when = assets.timestamp(ws, ws.signer(sender), manifest_cid)
        state.emit(
            {"ok": True, "manifest": manifest_cid, "timestamp": when},
            f"timestamped manifest {manifest_cid} at {when} (block time); its salt stays in this data directory",
        )


@asset_app.command("list")
def asset_list(
    ctx: typer.Context,
    kind: Annotated[str | None, typer.Option("--kind", help="model or dataset.")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Only the assets this account owns.")] = None,
) -> None:
    """List assets, newest first (from the chain index when it is caught up, else from the logs)."""
    from proofwork.services.asset_listing import AssetFilter, asset_json, list_assets

    state = cli_state(ctx)
    with state.workspace() as ws:
        who = ws.address(owner, "owner") if owner else None
        page = list_assets(ws, AssetFilter(kind=kind, owner=who), limit=None)

        def human() -> object:
            if not page.items:
                return "no assets match"
            from rich.table import Table

            table = Table(title_justify="left")
            for col in ("id", "kind", "owner", "parents", "creators", "manifest"):
                table.add_column(col)
            for a in page.items:
                table.add_row(
                    str(a.asset_id),
                    a.kind,
                    ws.name_of(a.owner) or a.owner,
                    ", ".join(f"{p.asset_id} ({p.bps / 100:g} %)" for p in a.parents) or "-",
                    str(len(a.creators)),
                    a.manifest,
                )
            return table

        data = {
            "ok": True,
            "assets": [asset_json(a) for a in page.items],
            "count": page.total,
            "indexed_block": page.indexed_block,
        }
        state.emit(data, human)


@asset_app.command("show")
def asset_show(ctx: typer.Context, asset_id: Annotated[int, typer.Argument(help="Asset id.")]) -> None:
    """An asset: owner, manifest, files, creators, parents, royalty, times, the job that made it."""
    from proofwork.services import assets

    state = cli_state(ctx)
    with state.workspace() as ws:
        record, manifest = assets.show(ws, uint_id(asset_id, "asset id", 1))
        data = assets.describe(record, manifest)
        lines = [
            f"asset {record.asset_id}: {data['kind']} {data['name'] or '(manifest not in this store)'}",
            f"owner {record.owner}; manifest {record.manifest}",
            f"licence {data['license'] or data['terms_cid']}; royalty {record.royalty_bps / 100:g} %",
            f"existed since {record.existed_since} (registered {record.registered_at})",
        ]
        lines += [f"creator {c.account}: {c.bps / 100:g} %" for c in record.creators]
        lines += [f"derived from asset {p.asset_id}: {p.bps / 100:g} % of revenue" for p in record.parents]
        if record.job_id:
            uid = assets.job_completed(ws, record.job_id, record.milestone)
            data["job"]["completed_attestation"] = "0x" + uid.hex() if uid else None
            lines.append(
                f"produced by job {record.job_id}, milestone {record.milestone + 1}"
                + (f" (JobCompleted attestation 0x{uid.hex()})" if uid else "")
            )
        if manifest is not None:
            lines += _card_lines(manifest)
        state.emit({"ok": True, **data}, "\n".join(lines))


def _card_lines(manifest: AssetManifest) -> list[str]:
    """The card's main fields for `asset show` (the whole card: `asset card ID`)."""
    from proofwork.domain.cards import card_summary

    summary = card_summary(manifest.card)
    fmt = summary["format"]
    if fmt in ("none", "other"):
        return [f"card: {fmt}"]
    if "problem" in summary:
        return [f"card: {fmt}, unreadable ({summary['problem']})"]
    if fmt == "croissant":
        lines = [f"card: Croissant 1.0, licence {summary['license']}"]
        if summary["creators"]:
            lines.append("  creators: " + ", ".join(summary["creators"]))
        lines += [f"  file {f['name']} ({f['encoding']})" for f in summary["files"]]
        lines += [
            f"  records {r['name']}: " + ", ".join(f"{x['name']} ({x['type']})" for x in r["fields"])
            for r in summary["record_sets"]
        ]
        return lines
    lines = [f"card: Hugging Face model card, licence {summary['license']}"]
    if summary["datasets"]:
        lines.append("  datasets: " + ", ".join(summary["datasets"]))
    if summary["base_model"]:
        lines.append("  base model: " + ", ".join(summary["base_model"]))
    lines += [f"  {r['metric']} {r['value']} on {r['dataset']}" for r in summary["results"]]
    return lines


@asset_app.command("card")
def asset_card(
    ctx: typer.Context,
    asset_id: Annotated[int, typer.Argument(help="Asset id.")],
    output: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="croissant (JSON-LD) or hf-readme (README.md with YAML front matter, as the Hub reads "
            "it); default: the card's own.",
        ),
    ] = None,
) -> None:
    """Print an asset's card: a dataset's Croissant JSON-LD, a model's Hugging Face README.md."""
    from proofwork.services import assets

    state = cli_state(ctx)
    with state.workspace() as ws:
        typer.echo(assets.card(ws, uint_id(asset_id, "asset id", 1), output), nl=False)


@asset_app.command("lineage")
def asset_lineage(
    ctx: typer.Context,
    asset_id: Annotated[int, typer.Argument(help="Asset id.")],
    prov: Annotated[bool, typer.Option("--prov", help="Print the lineage as W3C PROV-JSON.")] = False,
) -> None:
    """The asset and everything it derives from."""
    from proofwork.services import assets

    state = cli_state(ctx)
    with state.workspace() as ws:
        if prov:
            typer.echo(assets.lineage_prov(ws, uint_id(asset_id, "asset id", 1)))
            return
        nodes = assets.lineage(ws, uint_id(asset_id, "asset id", 1))
        data = [
            {
                "asset_id": n.asset_id,
                "name": n.name,
                "owner": n.owner,
                "parents": [p.asset_id for p in n.parents],
            }
            for n in nodes.values()
        ]
        human = "\n".join(
            f"asset {n.asset_id} {n.name or ''} <- {', '.join(str(p.asset_id) for p in n.parents) or 'nothing'}"
            for n in nodes.values()
        )
        state.emit({"ok": True, "lineage": data}, human)


@asset_app.command("offer")
def asset_offer(
    ctx: typer.Context,
    asset_id: Annotated[int, typer.Argument(help="Asset id.")],
    price: Annotated[str, typer.Option("--price", help="Price in token units (e.g. 25 or 2.5).")],
    sender: FromOpt = "dev0",
    days: Annotated[int, typer.Option("--days", help="Licence term in days; 0 for perpetual.")] = 0,
    kind: Annotated[str, typer.Option("--kind", help="download or compute.")] = "download",
    commercial: bool = False,
    transferable: bool = False,
    revocable: bool = False,
    terms_cid: Annotated[str, typer.Option("--terms-cid")] = "",
    max_licences: Annotated[int, typer.Option("--max-licences", help="0 for unlimited.")] = 0,
) -> None:
    """Offer licences on an asset you own."""
    from proofwork.services import assets

    state = cli_state(ctx)
    with state.workspace() as ws:
        offer_id = assets.offer(
            ws,
            ws.signer(sender),
            uint_id(asset_id, "asset id", 1),
            price=parse_amount(price, ws.token.decimals),
            term_seconds=days * 86_400,
            commercial=commercial,
            kind=kind,
            transferable=transferable,
            revocable=revocable,
            terms_cid=terms_cid,
            max_licences=max_licences,
        )
        state.emit({"ok": True, "offer_id": offer_id}, f"offer {offer_id} on asset {asset_id}")


@asset_app.command("buy")
def asset_buy(
    ctx: typer.Context, offer_id: Annotated[int, typer.Argument()], sender: FromOpt = "dev0"
) -> None:
    """Buy a licence (one transaction with an EIP-2612 permit); royalties go up the lineage."""
    from proofwork.services import assets

    state = cli_state(ctx)
    with state.workspace() as ws:
        licence_id = assets.buy(ws, ws.signer(sender), uint_id(offer_id, "offer id", 1))
        lic = assets.licence(ws, licence_id)
        decimals = ws.token_at(lic.token).decimals
        state.emit(
            {
                "ok": True,
                "licence_id": licence_id,
                "price": format_amount(lic.price, decimals),
                "expires_at": lic.expires_at,
            },
            f"licence {licence_id} on asset {lic.asset_id} for {format_amount(lic.price, decimals)}"
            + (f", valid until {lic.expires_at}" if lic.expires_at else ", perpetual"),
        )


@asset_app.command("licence")
def asset_licence(ctx: typer.Context, licence_id: Annotated[int, typer.Argument()]) -> None:
    """A licence: its holder, asset, kind, expiry, and whether it is valid now."""
    from proofwork.services import assets

    state = cli_state(ctx)
    with state.workspace() as ws:
        lic = assets.licence(ws, uint_id(licence_id, "licence id", 1))
        kind = "compute" if lic.kind else "download"
        state.emit(
            {
                "ok": True,
                "licence_id": lic.licence_id,
                "holder": lic.holder,
                "asset_id": lic.asset_id,
                "kind": kind,
                "commercial": lic.commercial,
                "expires_at": lic.expires_at,
                "revoked": lic.revoked,
                "valid": lic.valid,
            },
            f"licence {lic.licence_id} ({kind}) on asset {lic.asset_id}, held by {lic.holder or 'nobody'}: "
            + ("valid" if lic.valid else "revoked" if lic.revoked else "not valid (expired or surrendered)"),
        )


@asset_app.command("royalties")
def asset_royalties(
    ctx: typer.Context,
    asset_id: Annotated[int, typer.Argument()],
    amount: Annotated[str, typer.Option("--amount", help="A sale price in token units.")],
) -> None:
    """Who receives what of a sale of this asset, once every level of its lineage is distributed."""
    from proofwork.services import assets

    state = cli_state(ctx)
    with state.workspace() as ws:
        decimals = ws.token.decimals
        flow = assets.explain_sale(ws, uint_id(asset_id, "asset id", 1), parse_amount(amount, decimals))
        rows = {account: format_amount(units, decimals) for account, units in flow.to_accounts.items()}
        state.emit({"ok": True, "received": rows}, "\n".join(f"{a}: {v}" for a, v in rows.items()))


@asset_app.command("distribute")
def asset_distribute(
    ctx: typer.Context, asset_id: Annotated[int, typer.Argument()], sender: FromOpt = "dev0"
) -> None:
    """Split what the asset and its whole lineage hold pending (anyone may)."""
    from proofwork.services import assets

    state = cli_state(ctx)
    with state.workspace() as ws:
        total = assets.distribute_all(ws, ws.signer(sender), uint_id(asset_id, "asset id", 1))
        shown = format_amount(total, ws.token.decimals)
        state.emit({"ok": True, "split": shown}, f"split {shown} along the lineage of asset {asset_id}")


@asset_app.command("claim")
def asset_claim(
    ctx: typer.Context,
    sender: FromOpt = "dev0",
    account: Annotated[
        str | None, typer.Option("--for", help="Pay another account (a relayer's claim).")
    ] = None,
) -> None:
    """Withdraw the licence sales and royalties owed to an account."""
    from proofwork.services import assets

    state = cli_state(ctx)
    with state.workspace() as ws:
        signer = ws.signer(sender)
        who = ws.address(account) if account else signer.address
        paid = assets.claim(ws, signer, who)
        shown = format_amount(paid, ws.token.decimals)
        state.emit({"ok": True, "account": who, "paid": shown}, f"paid {shown} to {who}")


@asset_app.command("ip-terms")
def asset_ip_terms(
    ctx: typer.Context,
    job_id: Annotated[int, typer.Argument()],
    sender: FromOpt = "dev0",
    transfer: Annotated[
        bool, typer.Option("--transfer/--no-transfer", help="Rights pass to the client on payment.")
    ] = True,
    creator_bps: Annotated[int, typer.Option("--creator-bps", help="The freelancer's creator share.")] = 0,
    max_upstream_bps: Annotated[int, typer.Option("--max-upstream-bps")] = 5_000,
    accept: Annotated[
        bool, typer.Option("--accept", help="As the freelancer, accept the terms proposed.")
    ] = False,
) -> None:
    """As the client, propose a job's IP terms; as its freelancer, accept them (`--accept`)."""
    from proofwork.services import assets

    state = cli_state(ctx)
    with state.workspace() as ws:
        signer = ws.signer(sender)
        job = uint_id(job_id, "job id", 1)
        if accept:
            assets.accept_ip_terms(ws, signer, job)
        else:
            assets.propose_ip_terms(
                ws, signer, job, transfer=transfer, creator_bps=creator_bps, max_upstream_bps=max_upstream_bps
            )
        terms = ws.asset_registry.ip_terms(job)
        state.emit(
            {"ok": True, "job_id": job, **terms.__dict__},
            f"job {job}: rights {'pass to the client' if terms.transfer else 'stay with the freelancer'} on payment"
            f" (creator share {terms.creator_bps / 100:g} %), {'accepted' if terms.accepted else 'proposed'}",
        )


@asset_app.command("deliverable")
def asset_deliverable(
    ctx: typer.Context,
    job_id: Annotated[int, typer.Argument()],
    files: Annotated[list[Path], typer.Argument(help="The delivered file, and any others of the asset.")],
    name: Annotated[str, typer.Option("--name")],
    milestone: Annotated[int, typer.Option("--milestone", "-m", help="Milestone number, from 1.")] = 1,
    sender: FromOpt = "dev0",
    kind: KindOpt = "model",
    license: LicenseOpt = None,
    terms_cid: TermsOpt = None,
    parent: ParentOpt = None,
    royalty_bps: RoyaltyOpt = 0,
    card: CardOpt = None,
    no_card: NoCardOpt = False,
) -> None:
    """Register a paid milestone's deliverable as an asset (owned as the job's IP terms say), with
    its card."""
    from proofwork.domain.assets import build_manifest
    from proofwork.services import assets

    state = cli_state(ctx)
    parents = _parents(parent)
    chosen = _card_choice(card, no_card)
    with state.workspace() as ws:
        stored, _ = assets.store_files(ws, files, encrypt=False)
        manifest = build_manifest(kind, name, stored, license=license, terms_cid=terms_cid)
        done = assets.register_deliverable(
            ws,
            ws.signer(sender),
            uint_id(job_id, "job id", 1),
            milestone_index(milestone),
            manifest,
            parents=parents,
            royalty_bps=royalty_bps,
            card=chosen,
            sources=files,
        )
        record = ws.asset_registry.asset(done.asset_id)
        state.emit(
            {
                "ok": True,
                "asset_id": done.asset_id,
                "owner": record.owner,
                "manifest": done.manifest_cid,
                "card": _card_format(done.manifest),
            },
            f"registered the deliverable as asset {done.asset_id}, owned by {record.owner}, with "
            + _card_line(done.manifest),
        )


@asset_app.command("get")
def asset_get(
    ctx: typer.Context,
    licence_id: Annotated[int, typer.Argument(help="Your licence id.")],
    sender: FromOpt = "dev0",
    node: Annotated[
        str | None,
        typer.Option(
            "--node",
            help="The asset owner's node (its API, e.g. http://127.0.0.1:8000); without it, this data "
            "directory must be the owner's.",
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Directory to write the asset's files into.")] = Path(
        "."
    ),
) -> None:
    """Download a licensed asset: the key is released to the licence holder, every file checked
    against its CID and sha256 and decrypted; nothing is written unless every file passes."""
    from proofwork.services import asset_access

    state = cli_state(ctx)
    with state.workspace() as ws:
        done = asset_access.get(ws, ws.signer(sender), uint_id(licence_id, "licence id", 1), out, node=node)
        state.emit(
            {"ok": True, **asset_access.describe(done)},
            "\n".join(
                [f"asset {done.asset_id} (licence {done.licence_id}): {len(done.files)} file(s)"]
                + [f"wrote {p}" for p in done.files]
            ),
        )


@asset_app.command("compute")
def asset_compute(
    ctx: typer.Context,
    licence_id: Annotated[int, typer.Argument(help="Your compute licence's id.")],
    model: Annotated[
        Path | None, typer.Option("--model", help="Your ONNX model to score (float32 [rows, features] in).")
    ] = None,
    recipe: Annotated[
        str | None,
        typer.Option("--recipe", help="Train instead: logistic_regression or gradient_boosting."),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", help="A recipe's parameter NAME=VALUE, e.g. C=0.5 (repeat)."),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", help="Where a recipe's trained ONNX model is written.")
    ] = Path("trained.onnx"),
    metric: Annotated[
        str, typer.Option("--metric", help="accuracy, macro_f1, roc_auc, log_loss, rmse, mae or r2.")
    ] = "accuracy",
    label_column: Annotated[
        str, typer.Option("--label-column", help="The dataset's column to predict.")
    ] = "label",
    id_column: Annotated[
        str | None, typer.Option("--id-column", help="A row id column, never a feature.")
    ] = None,
    input_name: Annotated[str, typer.Option("--input", help="The model's input.")] = "input",
    output_name: Annotated[
        str, typer.Option("--output", help="The model's output that is scored.")
    ] = "label",
    file: Annotated[
        str | None, typer.Option("--file", help="The dataset's file, when it has several.")
    ] = None,
    node: Annotated[
        str | None,
        typer.Option("--node", help="The owner's node (its API's URL); default: this data directory."),
    ] = None,
    sender: FromOpt = "dev0",
) -> None:
    """Compute-to-data: your model scored on a licensed private dataset by its owner's node, or a fixed
    training recipe fitted on it (--recipe); only the owner's signed result (and a recipe's model) comes
    back, verified here, never a row."""
    from proofwork.domain.compute import EVALUATE, parse_recipe_param
    from proofwork.domain.evalspec import SCORE_SCALE
    from proofwork.services import compute_to_data

    params: dict[str, object] = {"label_column": label_column}
    if id_column is not None:
        params["id_column"] = id_column
    if file is not None:
        params["file"] = file
    if recipe is None:
        if model is None:
            raise InvalidInput("give the model to score (--model FILE) or a training recipe (--recipe NAME)")
        params.update(metric=metric, input=input_name, output=output_name)
        data: bytes | None = compute_to_data.read_model(model)
    else:
        if model is not None:
            raise InvalidInput("a training recipe takes no --model")
        params.update(parse_recipe_param(p) for p in param or [])
        data = None
    state = cli_state(ctx)
    with state.workspace() as ws:
        _, result, trained = compute_to_data.compute(
            ws,
            ws.signer(sender),
            uint_id(licence_id, "licence id", 1),
            params=params,
            model=data,
            task=recipe or EVALUATE,
            node_url=node,
        )
        value = result.score / SCORE_SCALE
        shown = {"ok": True, "verified": True, "value": f"{value:.6f}", **result.to_json()}
        human = (
            f"{result.metric} {value:.6f} on {result.rows} rows of asset {result.asset_id}, signed by its owner "
            f"{result.signer} (verified)"
        )
        if trained is not None:
            from proofwork.storage.files import write_atomic

            try:
                write_atomic(out, trained, mode=None)
            except OSError as exc:
                raise InvalidInput(f"cannot write {out}: {exc.strerror}") from None
            shown["written"] = str(out)
            human = f"trained {recipe} ({result.model}) written to {out}; training-set {human}"
        state.emit(shown, human)
