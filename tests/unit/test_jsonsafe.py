"""JSON from peers and envelopes: bounded size and nesting, one error type, never a crash.

web3 raises the recursion limit to 100000 on import, so `json.loads(b"[" * 200000)` overflows
the C stack (a segfault, not a RecursionError). The bombs below would kill the test process if
they reached the parser; the subprocess test shows the whole path with web3 imported.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from proofwork.domain.errors import InvalidInput
from proofwork.domain.jsonsafe import check_nesting, safe_json_loads

MB = 1 << 20

BOMBS = [
    b"[" * 200_000,
    b'{"a":' * 200_000,
    b"[" * 200_000 + b"]" * 200_000,  # well-formed, still far too deep
    b'[{"x": ' * 100_000,
]


@pytest.mark.parametrize("bomb", BOMBS, ids=["arrays", "objects", "balanced", "mixed"])
def test_deep_nesting_is_refused_before_parsing(bomb: bytes) -> None:
    with pytest.raises(InvalidInput, match="nested deeper than 32"):
        safe_json_loads(bomb, max_bytes=10 * MB)
    with pytest.raises(InvalidInput, match="nested deeper than 32"):
        safe_json_loads(bomb.decode(), max_bytes=10 * MB)


def test_nesting_bombs_do_not_crash_with_web3_imported() -> None:
    code = (
        "import sys, web3\n"
        "assert sys.getrecursionlimit() >= 100000\n"
        "from proofwork.domain.errors import InvalidInput\n"
        "from proofwork.domain.jsonsafe import safe_json_loads\n"
        "from proofwork.keys.sealing import recipients_of\n"
        "for bomb in (b'[' * 300000, b'{\"a\":' * 300000):\n"
        "    for parse in (lambda b: safe_json_loads(b, max_bytes=1 << 24), recipients_of):\n"
        "        try:\n"
        "            parse(bomb)\n"
        "        except InvalidInput:\n"
        "            pass\n"
        "        else:\n"
        "            raise SystemExit('not refused')\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    assert proc.stdout.strip() == "ok"


def test_depth_limit_is_exact() -> None:
    assert safe_json_loads(b"[" * 8 + b"]" * 8, max_bytes=100, max_depth=8) == [[[[[[[[]]]]]]]]
    with pytest.raises(InvalidInput, match="deeper than 8"):
        safe_json_loads(b"[" * 9 + b"]" * 9, max_bytes=100, max_depth=8)
    assert safe_json_loads(b'{"a": {"b": [1, {"c": null}]}}', max_bytes=100, max_depth=4) == {
        "a": {"b": [1, {"c": None}]}
    }


def test_brackets_inside_strings_do_not_count() -> None:
    text = '{"k": "' + "[{" * 1000 + '", "e": "\\"[[[[", "q": "\\\\"}'
    assert safe_json_loads(text, max_bytes=MB, max_depth=2) == {"k": "[{" * 1000, "e": '"[[[[', "q": "\\"}


def test_oversize_input_is_refused() -> None:
    with pytest.raises(InvalidInput, match="larger than 10 bytes"):
        safe_json_loads(b"[1, 2, 3, 4]", max_bytes=10)
    with pytest.raises(InvalidInput, match="larger than 10 bytes"):
        safe_json_loads("[1, 2, 3, 4]", max_bytes=10)
    with pytest.raises(InvalidInput, match="larger than 10 bytes"):
        safe_json_loads('"éééééé"', max_bytes=10)  # 8 characters, 14 UTF-8 bytes
    assert safe_json_loads(b"[1,2,3,4]", max_bytes=9) == [1, 2, 3, 4]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not json",
        b"\xff\xfe[]",
        b'{"a": 1',
        b"]",
        b"[]]" + b"[" * 100,
        b'"unterminated',
        b"1" * 5000,  # beyond Python's int_max_str_digits
        b"[1,]",
    ],
)
def test_garbage_is_one_error_type(data: bytes) -> None:
    with pytest.raises(InvalidInput):
        safe_json_loads(data, max_bytes=MB)


def test_wrong_argument_type_is_refused() -> None:
    with pytest.raises(InvalidInput):
        safe_json_loads(123, max_bytes=MB)  # type: ignore[arg-type]


def test_scanning_is_linear_for_unterminated_strings() -> None:
    # every quote opens a string that never closes: a naive tokenizer rescans the rest each time.
    # Linear means 8x the input costs about 8x the CPU time (quadratic: 64x); CPU time, and a ratio
    # in one run, so a loaded machine does not decide the outcome.
    def cpu_seconds(pairs: int) -> float:
        hostile = '"' + '\\"' * pairs
        started = time.process_time()
        with pytest.raises(InvalidInput, match="unterminated"):
            check_nesting(hostile, 8)
        return time.process_time() - started

    small = min(cpu_seconds(500_000) for _ in range(3))
    large = min(cpu_seconds(4_000_000) for _ in range(3))
    assert large < 24 * small + 0.1
