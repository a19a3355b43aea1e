"""The settings `proofwork serve` reads: its interface and ports, from the environment or options."""

from __future__ import annotations

import pytest

from proofwork.domain.errors import InvalidInput
from proofwork.services.serve import ServeOptions
from proofwork.settings import Settings


def test_ports_and_host_from_the_environment() -> None:
    settings = Settings.from_env({"PROOFWORK_SERVE_PORT": "9000", "PROOFWORK_RPC_PORT": "0"})
    assert (settings.serve_host, settings.serve_port, settings.rpc_port) == ("127.0.0.1", 9000, 0)
    assert Settings.from_env({}).rpc_port == 8545
    assert Settings.from_env({"PROOFWORK_SERVE_HOST": "::1"}).serve_host == "::1"


@pytest.mark.parametrize("value", ["http", "-1", "65536", "8545.5"])
def test_a_bad_port_is_one_clear_error(value: str) -> None:
    with pytest.raises(InvalidInput, match="PROOFWORK_RPC_PORT"):
        Settings.from_env({"PROOFWORK_RPC_PORT": value})


def test_serve_listens_on_loopback_only() -> None:
    assert ServeOptions(host="127.0.0.1").checked().host == "127.0.0.1"
    assert ServeOptions(host="localhost").checked().host == "localhost"
    for host in ("0.0.0.0", "::", "10.0.0.1"):
        with pytest.raises(InvalidInput, match="loopback"):
            ServeOptions(host=host).checked()
    with pytest.raises(InvalidInput, match="port"):
        ServeOptions(rpc_port=70_000).checked()
    with pytest.raises(InvalidInput, match="interval"):
        ServeOptions(oracle_interval=0).checked()
