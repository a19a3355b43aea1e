"""The embedded chain's JSON-RPC server (`proofwork serve`, 127.0.0.1) against hostile callers: a body
that would crash the process, a web page of another site (DNS rebinding, cross-origin posts, forms), and
the methods a node must not offer. See SECURITY.md, "Platform HTTP surfaces: attacker review"."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import httpx
import pytest
import web3  # noqa: F401  (imported for its side effect: it raises the recursion limit, as in the server)

from proofwork.chain.rpc_server import RpcApp, RpcServer
from tests.unit.test_rpc_server import rpc, served  # noqa: F401  (the served chain fixture)


class _Echo:
    """A dispatcher that answers every request with its own method: the HTTP layer alone is tested."""

    def handle(self, payload: Any) -> Any:
        return {"jsonrpc": "2.0", "id": 1, "result": "ok"}


def _post(app: RpcApp, body: bytes, **headers: str) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8545") as client:
            return await client.post(
                "/", content=body, headers={"content-type": "application/json", **headers}
            )

    return asyncio.run(go())


def test_deeply_nested_json_is_refused_not_a_crash() -> None:
    """PoC: 400,000 `[` (well under the 5 MB body limit) overflowed the C stack in `json.loads` with the
    recursion limit web3 sets, a segfault of the whole `proofwork serve` process. Now a parse error."""
    assert sys.getrecursionlimit() >= 10_000  # the condition of the crash
    app = RpcApp(_Echo())  # type: ignore[arg-type]
    try:
        for body in (b"[" * 400_000 + b"]" * 400_000, b'{"a":' * 200_000 + b"1" + b"}" * 200_000):
            answer = _post(app, body)
            assert answer.status_code == 200
            assert answer.json()["error"]["code"] == -32700
        ordinary = _post(
            app, json.dumps([{"jsonrpc": "2.0", "id": 1, "method": "x", "params": [[["a"]]]}]).encode()
        )
        assert ordinary.json()["result"] == "ok"
    finally:
        app.close()


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"host": "evil.example:8545"}, 403),  # DNS rebinding: the page's own name as Host
        ({"host": "localhost.evil.example"}, 403),
        ({"host": "127.0.0.1.evil.example:8545"}, 403),
        ({"host": ""}, 403),
        ({"origin": "http://127.0.0.1.evil.example"}, 403),
        ({"origin": "null"}, 403),  # a sandboxed frame or a file:// page
        ({"origin": "https://evil.example", "host": "127.0.0.1:8545"}, 403),
        ({"content-type": "text/plain"}, 415),  # a cross-site form or no-cors fetch: no preflight
        ({"content-type": "application/x-www-form-urlencoded"}, 415),
        ({"content-type": "multipart/form-data; boundary=x"}, 415),
    ],
)
def test_cross_site_and_rebinding_requests_are_refused(headers: dict[str, str], status: int) -> None:
    app = RpcApp(_Echo())  # type: ignore[arg-type]
    try:
        answer = _post(app, b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}', **headers)
        assert answer.status_code == status, answer.text
        assert "access-control-allow-origin" not in answer.headers
    finally:
        app.close()


def test_no_key_holding_or_node_admin_methods(served: RpcServer) -> None:  # noqa: F811
    """Signing with the node's accounts and the admin methods of anvil/hardhat/geth are not served; the
    dev clock and snapshots are (evm_*: a local dev chain's, open to loopback clients, see SECURITY.md)."""

    def ask(method: str, params: list[Any]) -> dict[str, Any]:
        answer = rpc(served.url, {"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        assert answer.status_code == 200
        return dict(answer.json())

    assert ask("eth_accounts", [])["result"] == []
    zero = "0x" + "00" * 20
    for method, params in [
        ("eth_sendTransaction", [{"from": zero, "to": zero}]),
        ("eth_sign", [zero, "0x00"]),
        ("personal_sign", ["0x00", zero]),
        ("personal_unlockAccount", [zero, "", 0]),
        ("eth_signTransaction", [{"from": zero}]),
        ("eth_signTypedData_v4", [zero, "{}"]),
        ("anvil_setBalance", [zero, "0xffff"]),
        ("anvil_impersonateAccount", [zero]),
        ("hardhat_setCode", [zero, "0x00"]),
        ("evm_setAccountBalance", [zero, "0xffff"]),
        ("debug_traceTransaction", ["0x" + "00" * 32]),
        ("admin_nodeInfo", []),
        ("miner_start", []),
    ]:
        assert ask(method, params)["error"]["code"] == -32601, method
