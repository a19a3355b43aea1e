"""Deferring the imports web3 pays for and a command rarely uses: eth_keyfile and aiohttp.

`import web3` imports eth_account, which imports eth_keyfile, which imports py_ecc's BLS12-381 code for
EIP-2335 keystores; py_ecc computes a table of field powers when imported, about half of web3's whole
import time. eth_account takes three names from eth_keyfile (`create_keyfile_json`,
`decode_keyfile_json`, `KDFType`) and calls the first two only to encrypt or decrypt a keystore.

`defer_eth_keyfile()` puts stand-ins for `eth_keyfile` and `eth_keyfile.keyfile` in `sys.modules`
before web3 is imported: the two functions forward to the real module, imported on their first call;
any other attribute (another program's use of eth_keyfile) loads the real module the same way. The CLI
calls it at start; it does nothing once eth_keyfile or eth_account is imported.

`defer_aiohttp()` does the same for aiohttp (a third of web3's import time; proofwork talks to nodes
over web3's synchronous HTTP provider, which uses `requests`). web3 imports four aiohttp classes by name
(`from aiohttp import ClientSession, ...`) and uses them in annotations and, in its async providers, as
constructors (only the CLI installs this; it never uses an async provider): the stand-ins are classes whose call, isinstance check or attribute loads the real aiohttp
and forwards to its class. Any other name, and any submodule (`import aiohttp.web`), loads the real
package the same way.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # importlib.abc alone costs 12 ms, more than `--help` can spare
    from collections.abc import Callable, Sequence
    from importlib.machinery import ModuleSpec

_NAMES = ("eth_keyfile.keyfile", "eth_keyfile")


def _real() -> types.ModuleType:
    """The real eth_keyfile, replacing the stand-ins for good."""
    for name in _NAMES:
        if getattr(sys.modules.get(name), "__proofwork_deferred__", False):
            del sys.modules[name]
    return importlib.import_module("eth_keyfile")


def _stand_in(
    name: str, target: str | None, real: Callable[[], types.ModuleType] = _real
) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__proofwork_deferred__ = True  # type: ignore[attr-defined]

    def forward(attribute: str) -> Any:
        if attribute.startswith("__"):  # the import system's own questions (__file__, __all__...)
            raise AttributeError(attribute)
        loaded = real()
        return getattr(loaded if target is None else importlib.import_module(target), attribute)

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


# ---------------------------------------------------------------- aiohttp

_AIOHTTP_CLASSES = ("ClientResponse", "ClientSession", "ClientTimeout", "TCPConnector")
# named in an `except` tuple by web3's async provider: a stand-in deriving from Exception keeps that
# clause valid (it cannot match aiohttp's real errors; proofwork never uses the async providers)
_AIOHTTP_ERRORS = ("ClientError",)


def _real_aiohttp() -> types.ModuleType:
    """The real aiohttp, replacing the stand-in for good."""
    if getattr(sys.modules.get("aiohttp"), "__proofwork_deferred__", False):
        del sys.modules["aiohttp"]
    return importlib.import_module("aiohttp")


class _DeferredClass(type):
    """The type of a stand-in for one aiohttp class: its uses go to the real class."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return getattr(_real_aiohttp(), cls.__name__)(*args, **kwargs)

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, getattr(_real_aiohttp(), cls.__name__))

    def __getattr__(cls, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return getattr(getattr(_real_aiohttp(), cls.__name__), attribute)


class _AiohttpSubmodules:
    """`import aiohttp.<anything>` while the stand-in is in place: the real package first."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> ModuleSpec | None:
        if not fullname.startswith("aiohttp.") or not getattr(
            sys.modules.get("aiohttp"), "__proofwork_deferred__", False
        ):
            return None
        import importlib.util

        _real_aiohttp()
        return importlib.util.find_spec(fullname)


def defer_aiohttp() -> bool:
    """Installs the aiohttp stand-in; False (and nothing done) when aiohttp or web3 is loaded."""
    if any(name in sys.modules for name in ("aiohttp", "web3")):
        return False
    package = _stand_in("aiohttp", None, _real_aiohttp)
    package.__path__ = []  # a package: submodule imports reach _AiohttpSubmodules
    for name in _AIOHTTP_CLASSES:
        setattr(package, name, _DeferredClass(name, (), {"__module__": "aiohttp"}))
    for name in _AIOHTTP_ERRORS:
        setattr(package, name, _DeferredClass(name, (Exception,), {"__module__": "aiohttp"}))
    if not any(isinstance(finder, _AiohttpSubmodules) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AiohttpSubmodules())
    sys.modules["aiohttp"] = package
    return True
