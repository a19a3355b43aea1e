"""`api`: the REST API (`/api/v1`, OpenAPI at /api/v1/openapi.json) on one host and port."""

from __future__ import annotations

from typing import Annotated

import typer

from proofwork.cli.args import cli_state
from proofwork.domain.errors import InvalidInput


def register(app: typer.Typer) -> None:
    app.command("api")(api)


def api(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the REST API until Ctrl-C (dev mode, signing with the dev accounts, on the embedded chain)."""
    if not 0 < port <= 65535:
        raise InvalidInput(f"invalid port {port}: expected 1 to 65535")
    import uvicorn

    from proofwork.api.v1 import create_app

    state = cli_state(ctx)
    app = create_app(state.settings)
    typer.echo(f"proofwork API on http://{host}:{port}/api/v1 (docs at /api/v1/docs)", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False)
