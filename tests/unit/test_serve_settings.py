"""The settings `proofwork serve` reads: its interface and ports, from the environment or options."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

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


@pytest.mark.parametrize(
    ("rpc_url", "flag", "dev_mode"),
    [
        (None, None, True),  # the embedded chain opened in-process (`proofwork api`)
        ("http://127.0.0.1:8545", None, False),  # a node
        ("http://127.0.0.1:8545", True, True),  # serve on its own embedded chain, through its RPC URL
        ("http://127.0.0.1:8545", False, False),  # serve --rpc-url: never dev mode
    ],
)
def test_the_api_dev_mode_setting_decides_when_set(
    tmp_path: Path, rpc_url: str | None, flag: bool | None, dev_mode: bool
) -> None:
    from proofwork.api.v1.deps import ApiContext

    ctx = ApiContext(Settings(data_dir=tmp_path, rpc_url=rpc_url, api_dev_mode=flag))
    try:
        assert ctx.dev_mode is dev_mode
    finally:
        ctx.close()


def test_one_port_routes_the_api_prefix_to_the_api_and_the_rest_to_the_web_app() -> None:
    from proofwork.api.platform_http import PlatformApp

    seen: list[tuple[str, str]] = []

    def app(name: str) -> Any:
        async def serve(scope: Any, receive: Any, send: Any) -> None:
            seen.append((name, scope["path"]))

        return serve

    both = PlatformApp(app("api"), app("web"))
    paths = ["/", "/api/v1", "/api/v1/jobs", "/api/v1/docs", "/api/v10", "/api", "/jobs/1", "/static/app.css"]
    for path in paths:
        asyncio.run(
            both({"type": "http", "path": path, "headers": [(b"host", b"127.0.0.1:8000")]}, None, None)
        )
    assert seen == [
        ("web", "/"),
        ("api", "/api/v1"),
        ("api", "/api/v1/jobs"),
        ("api", "/api/v1/docs"),
        ("web", "/api/v10"),
        ("web", "/api"),
        ("web", "/jobs/1"),
        ("web", "/static/app.css"),
    ]


@pytest.mark.parametrize(
    ("host", "served"),
    [
        ("127.0.0.1:8000", True),
        ("localhost:8000", True),
        ("[::1]:8000", True),
        ("attacker.example:8000", False),  # a page whose name was rebound to 127.0.0.1
        ("127.0.0.1.attacker.example", False),
        ("", False),
    ],
)
def test_serve_http_refuses_a_host_that_is_not_loopback(host: str, served: bool) -> None:
    from proofwork.api.platform_http import PlatformApp

    seen: list[str] = []
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["path"])

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    both = PlatformApp(app, app)
    headers = [(b"host", host.encode())] if host else []
    for path in ("/", "/api/v1/jobs"):
        asyncio.run(both({"type": "http", "path": path, "headers": headers}, None, send))
    if served:
        assert seen == ["/", "/api/v1/jobs"] and not sent
    else:
        assert seen == []
        assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [400, 400]
        assert b'"bad_host"' in sent[1]["body"]
