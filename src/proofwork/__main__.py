"""`python -m proofwork` is the same as the `proofwork` command."""

from proofwork.cli.main import run

run()
