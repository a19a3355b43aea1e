from __future__ import annotations

from proofwork.cli.main import _hoist_global_options


def test_global_options_move_to_the_front() -> None:
    assert _hoist_global_options(["job", "show", "1", "--json"]) == ["--json", "job", "show", "1"]
    assert _hoist_global_options(["job", "list", "--rpc-url", "http://x", "--data-dir=/d"]) == [
        "--rpc-url",
        "http://x",
        "--data-dir=/d",
        "job",
        "list",
    ]
    assert _hoist_global_options(["job", "submit", "--", "--json"]) == ["job", "submit", "--", "--json"]
