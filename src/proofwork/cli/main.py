"""`proofwork`: the command line. The root command reads the settings; each command group lives in
its own module (`cli/<group>.py`), opens the workspace, calls one service and prints."""

from __future__ import annotations

import importlib
import sys
from typing import Annotated

import typer

from proofwork.cli.output import CliState
from proofwork.domain.errors import ProofworkError
from proofwork.settings import Settings

# Each top-level command and the module (`proofwork.cli.<module>`) that registers it, in help order.
COMMANDS = {
    "deploy": "chain",
    "chain": "chain",
    "demo": "demo",
    "account": "accounts",
    "job": "jobs",
    "fees": "fees",
    "store": "evaluation",
    "eval": "evaluation",
    "verify-score": "evaluation",
    "committee": "oracle",
    "oracle": "oracle",
    "competition": "competition",
    "leaderboard": "competition",
    "id": "credentials",
    "cred": "credentials",
    "issuer": "issuers",
    "identity": "attestations",
    "attest": "attestations",
    "badge": "attestations",
    "reputation": "attestations",
    "asset": "assets",
    "license": "licenses",
    "label": "label",
    "dispute": "court",
    "juror": "court",
    "court": "court",
    "dao": "dao",
    "guild": "guild",
    "round": "rounds",
    "index": "index",
    "web": "web",
    "api": "api",
    "serve": "serve",
}


def build_app(command: str | None = None) -> typer.Typer:
    """The application with the group that defines `command` registered, or every group (for the
    top-level help and for a name that is no command): typer builds the whole tree it is given on
    each run, so a command pays only for its own group."""
    app = typer.Typer(
        name="proofwork",
        help="Escrowed AI/ML jobs on Ethereum: post, deliver, review and get paid as the contract allows.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        add_completion=False,
    )
    app.callback()(main)
    modules = [COMMANDS[command]] if command in COMMANDS else list(dict.fromkeys(COMMANDS.values()))
    for module in modules:
        importlib.import_module(f"proofwork.cli.{module}").register(app)
    return app


def main(
    ctx: typer.Context,
    data_dir: Annotated[
        str | None,
        typer.Option(help="Where keys, manifests and the embedded chain live (env PROOFWORK_DATA_DIR)."),
    ] = None,
    rpc_url: Annotated[
        str | None,
        typer.Option(help="EVM JSON-RPC URL; absent means the embedded chain (env PROOFWORK_RPC_URL)."),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    store: Annotated[
        str | None,
        typer.Option(
            help="Artifact store: a directory or a kubo RPC URL (default DATA_DIR/store; env PROOFWORK_STORE)."
        ),
    ] = None,
) -> None:
    """The root command: the settings from the environment and the global options."""
    # an empty value (--data-dir "") means the setting's default, as an empty variable does
    ctx.obj = CliState(
        Settings.from_env(data_dir=data_dir or None, rpc_url=rpc_url or None, store=store or None),
        json=json_output,
    )


# --- entry point -------------------------------------------------------------------------------------


def _fail(message: str, code: int, json_mode: bool) -> int:
    if json_mode:
        import json

        sys.stdout.write(json.dumps({"ok": False, "error": message}) + "\n")
    sys.stderr.write(f"error: {message}\n")
    return code


_GLOBAL_FLAGS = {"--json"}
_GLOBAL_OPTIONS = {"--data-dir", "--rpc-url", "--store"}


def _hoist_global_options(args: list[str]) -> list[str]:
    """Global options are accepted anywhere (`proofwork job show 1 --json`): move them to the front."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        name = arg.split("=", 1)[0]
        if arg in _GLOBAL_FLAGS:
            if arg not in front:
                front.append(arg)
        elif name in _GLOBAL_OPTIONS and "=" in arg:
            front.append(arg)
        elif arg in _GLOBAL_OPTIONS and i + 1 < len(args):
            front.extend(args[i : i + 2])
            i += 1
        else:
            rest.append(arg)
        i += 1
    return front + rest


def _command_of(args: list[str]) -> str | None:
    """The top-level command named in `args` (global options already in front), if any."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in _GLOBAL_FLAGS or (arg.split("=", 1)[0] in _GLOBAL_OPTIONS and "=" in arg):
            i += 1
        elif arg in _GLOBAL_OPTIONS:
            i += 2
        else:
            return None if arg.startswith("-") else arg
    return None


def run(argv: list[str] | None = None) -> int:
    """Console entry: every failure is one line on stderr and a non-zero exit, never a traceback.

    With `argv` it returns the exit code instead of exiting (tests run the CLI in process so)."""
    from proofwork.chain.deferred_imports import defer_aiohttp, defer_eth_keyfile

    defer_eth_keyfile()  # web3's import, when a command needs it, skips py_ecc's BLS code
    defer_aiohttp()  # and aiohttp, which only web3's async providers use
    args = list(sys.argv[1:] if argv is None else argv)
    args = _hoist_global_options(args) or ["--help"]
    json_mode = "--json" in args
    try:
        # outside standalone mode click returns a `typer.Exit`'s code instead of raising it
        app = build_app(_command_of(args))
        code = app(args=args, prog_name="proofwork", standalone_mode=False)
        if isinstance(code, int) and code:
            return _exit(code, argv)
    except ProofworkError as exc:
        return _exit(_fail(str(exc), exc.exit_code, json_mode), argv)
    except typer.Exit as exc:
        return _exit(exc.exit_code, argv)
    except typer.Abort:
        return _exit(_fail("aborted", 130, json_mode), argv)
    except typer.TyperException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            sys.stdout.write(exc.format_message() + "\n")  # type: ignore[attr-defined]
            return _exit(2, argv)
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        return _exit(_fail(" ".join(message.split()), getattr(exc, "exit_code", 2), json_mode), argv)
    except KeyboardInterrupt:
        return _exit(_fail("interrupted", 130, json_mode), argv)
    except Exception as exc:  # the last guard: a bug must still not print a traceback at the user
        if _debug():
            raise
        detail = str(exc).splitlines()[0] if str(exc) else ""
        return _exit(
            _fail(
                f"internal error: {exc.__class__.__name__}: {detail} (set PROOFWORK_DEBUG=1 for details)",
                70,
                json_mode,
            ),
            argv,
        )
    return _exit(0, argv)


def _debug() -> bool:
    try:
        return Settings.from_env().debug
    except ProofworkError:
        return False


def _exit(code: int, argv: list[str] | None) -> int:
    if argv is None:
        sys.exit(code)
    return code
