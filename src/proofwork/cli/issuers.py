"""Credential issuers: `issuer create|show|rotate|publish|serve` (local profiles and their did:web
web root) and `issuer register|list` (accreditation in the on-chain registry)."""

from __future__ import annotations

import signal
import sys
import threading
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

import typer
from rich.table import Table
from rich.text import Text

from proofwork.cli.args import cli_state, plain
from proofwork.cli.output import when

if TYPE_CHECKING:
    from proofwork.services.credentials.profiles import IssuerProfile

issuer_app = typer.Typer(
    help="Credential issuers: local profiles, keys, status lists and their did:web web root.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(issuer_app, name="issuer")
    issuer_app.command("register")(issuer_register)
    issuer_app.command("list")(issuer_list)


def _profile_json(profile: IssuerProfile) -> dict[str, Any]:
    from proofwork.services.credentials import profiles

    data = profile.to_json()
    if profile.base_url:
        # the document's path already holds the base URL's own path: join it to the origin only
        parts = urlsplit(profile.base_url)
        data["did_document_url"] = f"{parts.scheme}://{parts.netloc}/" + "/".join(
            profiles.did_document_path(profile.base_url)
        )
        data["web_root"] = str(profile.web_root)
    return data


@issuer_app.command("create")
def issuer_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A local name for the profile.")],
    account: Annotated[
        str, typer.Option("--account", help="The account that speaks for the issuer on chain.")
    ],
    base_url: Annotated[
        str | None,
        typer.Option(
            help="Where its did:web lives (https://uni.example/ml); absent: the account's wallet issues."
        ),
    ] = None,
    did: Annotated[
        str | None, typer.Option(help="The did:web to use (derived from --base-url otherwise).")
    ] = None,
) -> None:
    """Create a local issuer profile: a did:web institution (own key, status lists) or a wallet (did:pkh)."""
    from proofwork.services.credentials import profiles

    state = cli_state(ctx)
    with state.workspace() as ws:
        profile = profiles.create_issuer(ws, name, account=ws.signer(account), did=did, base_url=base_url)
        keys = profiles.issuer_public_keys(ws, name)
    data = {"ok": True, "issuer": _profile_json(profile), "keys": keys}
    if profile.kind == "web":
        human = (
            f"issuer {name}: {profile.did}\n  key {keys[-1]['kid']} (thumbprint {keys[-1]['thumbprint']})\n"
            f"  publish {profile.web_root} at the root of {urlsplit(profile.base_url or '').netloc} "
            f"(`proofwork issuer serve {name}`)"
        )
    else:
        human = (
            f"issuer {name}: {profile.did} (signs with {profile.account_name}'s wallet key; cannot revoke)"
        )
    state.emit(data, plain(human))


@issuer_app.command("show")
def issuer_show(ctx: typer.Context, name: Annotated[str, typer.Argument(help="The issuer profile.")]) -> None:
    """An issuer profile: its DID, account, keys (with the thumbprints to register) and web root."""
    from proofwork.services.credentials import profiles

    state = cli_state(ctx)
    with state.workspace() as ws:
        profile = profiles.load_issuer(ws, name)
        keys = profiles.issuer_public_keys(ws, name)
    lines = [
        f"issuer {name}: {profile.did} ({profile.kind})",
        f"  account {profile.account} ({profile.account_name})",
    ]
    lines += [
        f"  key {k['kid'] or '(wallet)'} thumbprint {k['thumbprint']}"
        + (f", revoked {when(k['revoked'])}" if k.get("revoked") else "")
        for k in keys
    ]
    state.emit({"ok": True, "issuer": _profile_json(profile), "keys": keys}, plain("\n".join(lines)))


@issuer_app.command("rotate")
def issuer_rotate(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The issuer profile.")]
) -> None:
    """A new signing key; the old one stays in did.json (revoked from now) so its credentials stay valid."""
    from proofwork.services.credentials import profiles

    state = cli_state(ctx)
    with state.workspace() as ws:
        profile = profiles.rotate_key(ws, name)
        keys = profiles.issuer_public_keys(ws, name)
    state.emit(
        {"ok": True, "issuer": _profile_json(profile), "keys": keys},
        plain(f"issuer {name} now signs with {keys[-1]['kid']} (thumbprint {keys[-1]['thumbprint']})"),
    )


@issuer_app.command("publish")
def issuer_publish(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The issuer profile.")]
) -> None:
    """Re-sign (and anchor) the status lists and did.json: run at least daily, tokens live one day."""
    from proofwork.services.credentials import status_lists
    from proofwork.services.issuers import directory_for as registry_directory

    state = cli_state(ctx)
    with state.workspace() as ws:
        uris = status_lists.publish_status_lists(ws, name, directory=registry_directory(ws))
    state.emit({"ok": True, "status_lists": uris}, plain("re-signed " + ", ".join(uris)))


@issuer_app.command("serve")
def issuer_serve(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The issuer profile.")],
    port: Annotated[int | None, typer.Option(help="Port (default: the base URL's).")] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """Serve the issuer's did.json and status lists (read-only) until Ctrl-C or SIGTERM."""
    from proofwork.api import issuer_http
    from proofwork.services.credentials import profiles

    state = cli_state(ctx)
    # no workspace: serving must not hold the embedded chain while issuing and revoking go on
    server = issuer_http.serve_issuer(state.settings.data_dir, name, host, port)
    profile = profiles.load_issuer(state.settings.data_dir, name)
    stop = threading.Event()

    def request_stop(*_: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    server.start()
    try:
        state.emit(
            {
                "ok": True,
                "issuer": name,
                "did": profile.did,
                "url": server.url,
                "web_root": str(profile.web_root),
            },
            plain(f"serving {profile.did} from {profile.web_root} at {server.url} (Ctrl-C to stop)"),
        )
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        server.close()
    if not state.json:
        state.console.print("stopped", markup=False)


def issuer_register(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The local issuer profile (see `issuer create`).")],
    sender: Annotated[str, typer.Option("--from", help="The registry owner, who accredits.")] = "dev0",
) -> None:
    """Accredit an issuer profile on chain, register its keys and anchor its status lists."""
    from proofwork.services import issuers

    state = cli_state(ctx)
    with state.workspace() as ws:
        done = issuers.register_issuer(ws, ws.signer(sender), name)
        data = {
            "ok": True,
            "issuer": done.profile.name,
            "did": done.profile.did,
            "account": done.profile.account,
            "steps": [{"name": s, "gas": g} for s, g in done.steps],
        }
        human = (
            f"issuer {done.profile.name} ({done.profile.did}) accredited for {done.profile.account}\n"
            + "\n".join(f"  {s}" + (f" (gas {g:,})" if g else "") for s, g in done.steps)
        )
        state.emit(data, Text(human))


def issuer_list(ctx: typer.Context) -> None:
    """The issuers in the on-chain registry (accredited or revoked)."""
    from proofwork.services import issuers

    state = cli_state(ctx)
    with state.workspace() as ws:
        registered = issuers.list_registered_issuers(ws)
        rows = [
            {
                "address": i.address,
                "did": i.did,
                "name": i.name,
                "accredited": i.accredited,
                "since": i.since,
                "revoked_at": i.revoked_at,
            }
            for i in registered
        ]

        def table() -> Any:
            t = Table(title="accredited issuers", title_justify="left")
            for col in ("name", "did", "account", "accredited", "since"):
                t.add_column(col)
            for r in rows:
                t.add_row(
                    Text(str(r["name"])),
                    Text(str(r["did"])),
                    str(r["address"]),
                    "yes" if r["accredited"] else "revoked",
                    when(int(r["since"])),
                )
            return t

        state.emit({"ok": True, "issuers": rows}, table)
