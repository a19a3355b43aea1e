"""The CLI defers eth_keyfile (and py_ecc's BLS code behind it) until a keystore is encrypted or
decrypted; everything else in web3 and eth_account works as before. In a fresh interpreter: the
test process has long loaded the real modules."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = r"""
import json, sys
from proofwork.chain.deferred_imports import defer_eth_keyfile
installed = defer_eth_keyfile()
import web3
from eth_account import Account
before = "py_ecc" in sys.modules
signed = Account.sign_message(__import__("eth_account.messages").messages.encode_defunct(text="hi"), b"\x01" * 32)
after_signing = "py_ecc" in sys.modules
encrypted = Account.encrypt(b"\x02" * 32, "secret", kdf="pbkdf2", iterations=2)
roundtrip = bytes(Account.decrypt(encrypted, "secret")) == b"\x02" * 32
import eth_keyfile, eth_keyfile.keyfile
real = not getattr(eth_keyfile, "__proofwork_deferred__", False) and hasattr(eth_keyfile, "load_keyfile")
print(json.dumps({"installed": installed, "before": before, "after_signing": after_signing,
                  "roundtrip": roundtrip, "after": "py_ecc" in sys.modules, "real": real,
                  "again": defer_eth_keyfile(), "recovered": Account.recover_message(
                      __import__("eth_account.messages").messages.encode_defunct(text="hi"),
                      signature=signed.signature) == Account.from_key(b"\x01" * 32).address}))
"""

OTHER_NAME = r"""
import json
from proofwork.chain.deferred_imports import defer_eth_keyfile
defer_eth_keyfile()
from eth_keyfile import load_keyfile, extract_key_from_keyfile  # another program's use
from eth_keyfile.keyfile import create_keyfile_json
print(json.dumps({"ok": callable(load_keyfile) and callable(extract_key_from_keyfile) and callable(create_keyfile_json)}))
"""


def _run(code: str) -> dict[str, object]:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def test_web3_loads_without_bls_and_keystores_still_work() -> None:
    result = _run(PROBE)
    assert result["installed"] is True
    assert result["before"] is False and result["after_signing"] is False  # signing needs no keystore
    assert result["roundtrip"] is True and result["recovered"] is True
    assert result["after"] is True and result["real"] is True  # the real module took over
    assert result["again"] is False  # nothing to defer any more


def test_any_other_use_of_eth_keyfile_gets_the_real_module() -> None:
    assert _run(OTHER_NAME) == {"ok": True}


AIOHTTP = r"""
import json, sys
from proofwork.chain.deferred_imports import defer_aiohttp
installed = defer_aiohttp()
from web3 import HTTPProvider, Web3
import web3.providers.rpc.async_rpc  # names aiohttp's classes at import
deferred = not any(name in sys.modules for name in ("multidict", "yarl", "aiohttp.client"))
offline = Web3(HTTPProvider("http://127.0.0.1:9", request_kwargs={"timeout": 1})).is_connected()
from aiohttp import ClientTimeout
timeout = ClientTimeout(total=5)  # the stand-in builds the real class's instance
import aiohttp, aiohttp.web
from aiohttp import ClientSession
print(json.dumps({"installed": installed, "deferred": deferred, "offline": offline,
                  "timeout": type(timeout).__module__ + "." + type(timeout).__name__,
                  "isinstance": isinstance(timeout, ClientTimeout),
                  "real": not getattr(aiohttp, "__proofwork_deferred__", False) and hasattr(aiohttp.web, "Application"),
                  "session": ClientSession.__module__, "again": defer_aiohttp()}))
"""


def test_web3_loads_without_aiohttp_which_loads_when_used() -> None:
    result = _run(AIOHTTP)
    assert result["installed"] is True and result["deferred"] is True
    assert result["offline"] is False  # the synchronous provider works without aiohttp (nothing listens)
    assert result["timeout"] == "aiohttp.client.ClientTimeout" and result["isinstance"] is True
    assert result["real"] is True and result["session"] == "aiohttp.client"
    assert result["again"] is False
