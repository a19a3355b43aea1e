"""`proofwork serve`: the local platform in one process (the embedded chain over JSON-RPC, the
contracts, the oracle committee, the indexer, and the web app with the API on one port), until Ctrl-C."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Annotated, Any

import typer

from proofwork.cli.args import cli_state, plain
from proofwork.cli.output import CliState
from proofwork.domain.units import format_amount

WEI_PER_ETH = 10**18


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_cmd)


def serve_cmd(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Loopback interface to listen on (env PROOFWORK_SERVE_HOST).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(help="Port of the web app and API; 0: any free port (env PROOFWORK_SERVE_PORT)."),
    ] = None,
    rpc_port: Annotated[
        int | None,
        typer.Option(
            help="Port of the embedded chain's JSON-RPC; 0: any free port (env PROOFWORK_RPC_PORT)."
        ),
    ] = None,
    oracles: Annotated[
        bool, typer.Option(help="Run the local oracle committee (dev6..dev9, deployed if missing).")
    ] = True,
    oracle_interval: Annotated[
        float, typer.Option(help="Seconds between an oracle's passes over the chain (0.05 to 3600).")
    ] = 2.0,
) -> None:
    """Run the local platform until Ctrl-C: the embedded chain served over JSON-RPC (or the --rpc-url
    node), the contracts (deployed if missing), a local oracle committee, the indexer, and the web app
    (at /) with the REST API (at /api/v1) on one port. Everything is kept in the data directory, so the
    next start carries on. Other commands use it with --rpc-url RPC_URL."""
    from proofwork.api.oracle_http import ReportServer
    from proofwork.api.platform_http import platform_http
    from proofwork.services.serve import LocalPlatform, ServeOptions, chain_indexer, oracle_committee
    from proofwork.settings import parse_port

    state = cli_state(ctx)
    settings = state.settings
    options = ServeOptions(
        host=host or settings.serve_host,
        rpc_port=settings.rpc_port if rpc_port is None else parse_port(rpc_port, "--rpc-port"),
        port=settings.serve_port if port is None else parse_port(port, "--port"),
        oracles=oracles,
        oracle_interval=oracle_interval,
    ).checked()
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    say = _progress(state)
    factories = [oracle_committee(ReportServer), chain_indexer, platform_http]
    platform = LocalPlatform(settings, options, factories, say=say, cancel=stop)
    try:
        if not state.json:
            say("starting the local platform...")
        running = platform.start()
        data = _ready(running, platform)
        state.emit(data, lambda: _human(data))
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
        say("stopping...")
    finally:
        # a second Ctrl-C while stopping ends the process the usual way (the kernel frees the lock)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        problems = platform.stop()
    for problem in problems:
        say(f"problem while stopping: {problem}")
    say("stopped; everything is kept in the data directory")


def _progress(state: CliState) -> Any:
    """Progress lines: on the console, or on stderr with --json (stdout holds only the JSON line)."""

    def say(text: str) -> None:
        if state.json:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()
        else:
            state.console.print(text, markup=False, highlight=False)

    return say


def _ready(running: Any, platform: Any) -> dict[str, Any]:
    dec, sym = running.token_decimals, running.token_symbol
    return {
        "ok": True,
        "ready": True,
        "url": running.url,
        "api_url": running.url.rstrip("/") + "/api/v1" if running.url else None,
        "dev_mode": running.embedded,
        "rpc_url": running.rpc_url,
        "chain_id": running.chain_id,
        "chain_id_hex": hex(running.chain_id),
        "embedded": running.embedded,
        "data_dir": str(running.settings.data_dir),
        "deployed": running.deployed,
        "deployment": running.deployment.summary(),
        "components": [{"name": c.name, "url": getattr(c, "url", None)} for c in platform.components],
        "token": {"symbol": sym, "decimals": dec},
        "accounts": [
            {
                "name": a.name,
                "address": a.address,
                "private_key": a.key,
                "eth": format_amount(a.eth, 18),
                "tokens": format_amount(a.tokens, dec),
                "units": {"wei": a.eth, "tokens": a.tokens},
            }
            for a in running.accounts
        ],
    }


def _human(data: dict[str, Any]) -> Any:
    d = data["deployment"]
    lines = [
        "proofwork is running (Ctrl-C stops it; everything is kept in the data directory)",
        f"  URL:       {data['url']}   (open it in a browser)",
        f"  API:       {data['api_url']}   (docs at {data['api_url']}/docs)",
        f"  RPC URL:   {data['rpc_url']}   chain id {data['chain_id']} ({data['chain_id_hex']})"
        "   (add this network to your wallet)",
        f"  data dir:  {data['data_dir']}",
    ]
    if data["dev_mode"]:
        lines.append("  dev mode:  the web app and the API may sign with the dev accounts (embedded chain)")
    lines += [
        f"  escrow {d['escrow']}, token {d['token']} ({data['token']['symbol']})",
    ]
    if d.get("committee"):
        lines.append(f"  oracle committee {d['committee']}")
    for c in data["components"]:
        lines.append(f"  running: {c['name']}" + (f" at {c['url']}" if c["url"] else ""))
    if data["deployed"]:
        lines.append(f"  deployed now: {', '.join(data['deployed'])}")
    lines.append(f"  other commands: proofwork --rpc-url {data['rpc_url']} ... (with the same --data-dir)")
    if data["accounts"]:
        lines.append(
            "dev accounts (well-known test keys: import one into the wallet; never send real money to them):"
        )
        for a in data["accounts"]:
            lines.append(
                f"  {a['name']:<5} {a['address']}  key {a['private_key']}  "
                f"{_short(a['units']['wei'])} ETH  {a['tokens']} {data['token']['symbol']}"
            )
    return plain("\n".join(lines))


def _short(wei: int) -> str:
    whole, rest = divmod(wei, WEI_PER_ETH)
    return f"{whole:,}" + (f".{str(rest).rjust(18, '0').rstrip('0')[:4]}" if rest else "")
