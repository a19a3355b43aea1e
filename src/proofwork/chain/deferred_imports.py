"""Deferring the one import web3 pays for and a command rarely uses: eth_keyfile.

`import web3` imports eth_account, which imports eth_keyfile, which imports py_ecc's BLS12-381 code for
EIP-2335 keystores; py_ecc computes a table of field powers when imported, about half of web3's whole
import time. eth_account takes three names from eth_keyfile (`create_keyfile_json`,
`decode_keyfile_json`, `KDFType`) and calls the first two only to encrypt or decrypt a keystore.

`defer_eth_keyfile()` puts stand-ins for `eth_keyfile` and `eth_keyfile.keyfile` in `sys.modules`
before web3 is imported: the two functions forward to the real module, imported on their first call;
any other attribute (another program's use of eth_keyfile) loads the real module the same way. The CLI
calls it at start; it does nothing once eth_keyfile or eth_account is imported.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any, Literal

_NAMES = ("eth_keyfile.keyfile", "eth_keyfile")


def _real() -> types.ModuleType:
    """The real eth_keyfile, replacing the stand-ins for good."""
    for name in _NAMES:
        if getattr(sys.modules.get(name), "__proofwork_deferred__", False):
            del sys.modules[name]
    return importlib.import_module("eth_keyfile")


def _stand_in(name: str, target: str | None) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__proofwork_deferred__ = True  # type: ignore[attr-defined]

    def forward(attribute: str) -> Any:
        if attribute.startswith("__"):  # the import system's own questions (__file__, __all__...)
            raise AttributeError(attribute)
        real = _real()
        return getattr(real if target is None else importlib.import_module(target), attribute)

    module.__getattr__ = forward  # type: ignore[method-assign]
    return module


def create_keyfile_json(*args: Any, **kwargs: Any) -> Any:
    return _real().create_keyfile_json(*args, **kwargs)


def decode_keyfile_json(*args: Any, **kwargs: Any) -> Any:
    return _real().decode_keyfile_json(*args, **kwargs)


def defer_eth_keyfile() -> bool:
    """Installs the stand-ins; False (and nothing done) when eth_keyfile or eth_account is loaded."""
    if any(name in sys.modules for name in ("eth_keyfile", "eth_account")):
        return False
    package = _stand_in("eth_keyfile", None)
    keyfile = _stand_in("eth_keyfile.keyfile", "eth_keyfile.keyfile")
    package.__path__ = []  # a package, so that `eth_keyfile.keyfile` can be imported from it
    package.create_keyfile_json = create_keyfile_json  # type: ignore[attr-defined]
    package.decode_keyfile_json = decode_keyfile_json  # type: ignore[attr-defined]
    package.keyfile = keyfile  # type: ignore[attr-defined]
    keyfile.KDFType = Literal["pbkdf2", "scrypt"]  # type: ignore[attr-defined]
    sys.modules["eth_keyfile"] = package
    sys.modules["eth_keyfile.keyfile"] = keyfile
    return True
