"""`web`: the web app on this machine's data directory (pages, and transactions for a browser wallet)."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import replace
from typing import Annotated

import typer

from proofwork.cli.args import cli_state
from proofwork.domain.errors import InvalidInput


def register(app: typer.Typer) -> None:
    app.command("web")(web)


def web(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The port to listen on.")] = 8000,
    dev_mode: Annotated[
        bool,
        typer.Option(
            help="Let the pages sign with the local chain's dev accounts (env PROOFWORK_WEB_DEV_MODE)."
        ),
    ] = False,
) -> None:
    """Serve the web app: job board, job pages, posting, profiles, credential checks, statements."""
    import uvicorn

    from proofwork.web import create_web_app

    if not 0 < port < 65536:
        raise InvalidInput(f"invalid --port {port}: expected 1 to 65535")
    state = cli_state(ctx)
    settings = replace(state.settings, web_dev_mode=True) if dev_mode else state.settings
    with state.workspace() as ws:
        ws.deployment  # noqa: B018  (refuses clearly, before serving, when nothing is deployed)
        app = create_web_app(lambda: nullcontext(ws), settings)
        mode = " (dev mode: pages may sign with the dev accounts)" if settings.web_dev_mode else ""
        typer.echo(f"proofwork web app on http://{host}:{port}/{mode}; Ctrl-C stops it")
        uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False)
