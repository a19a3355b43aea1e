"""`make test` runs with `--dist loadgroup`: tests marked `xdist_group` (by hand, or by tests/conftest.py
for the e2e and integration tests sharing a module's set-up) must reach xdist's scheduler as one group.
pytest 9.2 with pytest-xdist 3.8 drops the marks silently (pytest-dev/pytest-xdist#1386): this test
fails if an upgrade does that again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PYTEST = [sys.executable, "-m", "pytest"]
SUITE = """
import pytest

@pytest.mark.xdist_group("shared")
@pytest.mark.parametrize("i", range(3))
def test_grouped(i):
    pass

def test_free():
    pass
"""


def test_xdist_groups_reach_the_scheduler(tmp_path: Path) -> None:
    (tmp_path / "test_suite.py").write_text(SUITE)
    # only xdist among the plugins: the others (titanoboa's above all) take seconds to load
    proc = subprocess.run(
        [*PYTEST, "-p", "xdist.plugin", "-p", "no:cacheprovider", "-n", "1", "--dist", "loadgroup", "-v"],
        cwd=tmp_path,
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    passed = [line.split("PASSED ", 1)[1].strip() for line in proc.stdout.splitlines() if "PASSED " in line]
    assert sorted(passed) == [
        "test_suite.py::test_free",
        "test_suite.py::test_grouped[0]@shared",
        "test_suite.py::test_grouped[1]@shared",
        "test_suite.py::test_grouped[2]@shared",
    ], proc.stdout
