"""titanoboa's disk cache of compiled contracts, inside the checkout (git-ignored, never ~/.cache).

Every test process that compiles with titanoboa points it here (`use`). `make test` fills it beside
the set-up (`python -m tests.titanoboa_cache`), so the contract tests and the artifacts test load
compiled contracts instead of each xdist worker compiling the same ones on a clean clone. An entry's
key is titanoboa's fingerprint of the source and of every module it imports, under the installed
vyper: an edited contract or module is compiled again, never served stale.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import boa
import boa.interpret

ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = ROOT / ".cache" / "titanoboa"
# every contract the tests load: the shipped ones, the test-only tokens and the test mocks
SOURCE_DIRS = (ROOT / "contracts", ROOT / "tests" / "contracts" / "mocks")


def use() -> None:
    boa.interpret.set_cache_dir(str(CACHE_DIR))


def deployable_sources() -> list[Path]:
    """Sources with an external interface; modules of helpers and constants compile only inside
    the contracts that import them."""
    found = []
    for directory in SOURCE_DIRS:
        for path in sorted(directory.rglob("*.vy")):
            text = path.read_text()
            if "@external" in text or "@deploy" in text:
                found.append(path)
    return found


def fill() -> int:
    use()
    sources = deployable_sources()
    for path in sources:
        boa.load_partial(str(path))
    return len(sources)


if __name__ == "__main__":
    started = time.monotonic()
    count = fill()
    sys.stdout.write(
        f"titanoboa cache: {count} contracts compiled or found in {time.monotonic() - started:.0f} s\n"
    )
