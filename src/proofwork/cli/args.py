"""What every command group shares: the options that mean the same everywhere, the CLI state (and
through it the workspace), and argument checks made before any chain is opened.

Command modules import only this, `output`, typer, Rich, the standard library and the pure
`domain` at module level; a command imports the services it calls inside its body, so that
`--help` and argument errors never load web3, eth_account, py-evm or the Vyper compiler.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from proofwork.cli.output import CliState
from proofwork.domain.errors import InvalidInput

MAX_ID = 2**256
ZERO_HASH = bytes(32)

FromOpt = Annotated[str, typer.Option("--from", help="Signing account: a name (dev0, alice) or an address.")]
MilestoneOpt = Annotated[int, typer.Option("--milestone", "-m", help="Milestone number, from 1.")]
JobArg = Annotated[int, typer.Argument(help="Job id.")]
CompArg = Annotated[int, typer.Argument(help="Competition id.")]
AccountOpt = Annotated[str, typer.Option("--account", help="Account: a name (dev0, alice) or an address.")]
InsecureOpt = Annotated[
    bool,
    typer.Option(
        "--insecure-localhost", help="Allow plain http to 127.0.0.1/localhost (tests, local demos only)."
    ),
]
AttestOpt = Annotated[
    bool,
    typer.Option(help="Attest JobCompleted for what this pays (when the identity contracts are deployed)."),
]


def cli_state(ctx: typer.Context) -> CliState:
    """The state the root command built from the global options (and the environment)."""
    state = ctx.find_root().obj
    assert isinstance(state, CliState)
    return state


def plain(text: str) -> Text:
    """Text printed as is: brackets in chain data, specs, URLs or reasons are not Rich markup."""
    return Text(text)


def milestone_index(number: int) -> int:
    """`--milestone N` (numbered from 1 on the command line) -> the contracts' index (from 0)."""
    if number < 1:
        raise InvalidInput(f"invalid milestone {number}: milestones are numbered from 1")
    return number - 1


def uint_id(value: int, what: str = "job id", lowest: int = 0) -> int:
    """An id as the contracts hold it (uint256); typer accepts any integer."""
    if not lowest <= value < MAX_ID:
        shown = str(value) if len(str(value)) <= 30 else str(value)[:27] + "..."
        raise InvalidInput(f"invalid {what} {shown}: ids are whole numbers from {lowest} to 2^256 - 1")
    return value


def job_id_arg(value: int) -> int:
    """A job id: the escrow numbers jobs from 1."""
    return uint_id(value, "job id", lowest=1)


def hash32(text: str, what: str) -> bytes:
    """A 32-byte hash given as 64 hexadecimal digits (0x optional)."""
    digits = text.strip().removeprefix("0x")
    if len(digits) != 64 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        raise InvalidInput(f"invalid {what} hash: expected 32 bytes as 64 hexadecimal digits")
    return bytes.fromhex(digits)


def hash_arg(file: Path | None, hex_hash: str | None, what: str, required: bool = True) -> bytes:
    """A 32-byte hash given as a file (its sha256) or as hex; zero when optional and absent."""
    if file is not None and hex_hash is not None:
        raise InvalidInput(f"give either a {what} file or a {what} hash, not both")
    if file is not None:
        try:
            digest = hashlib.sha256()
            with file.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
            return digest.digest()
        except OSError as exc:
            raise InvalidInput(f"cannot read {what} file {file}: {exc.strerror}") from exc
    if hex_hash is not None:
        return hash32(hex_hash, what)
    if required:
        raise InvalidInput(f"a {what} is required: pass a file or a hash")
    return ZERO_HASH


def existing_file(path: Path, what: str) -> Path:
    """A file that must exist (a spec, labels, a submission), refused before anything is sent."""
    if not path.is_file():
        raise InvalidInput(f"no such {what} file: {path}")
    return path
