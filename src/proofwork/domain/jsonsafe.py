"""JSON from untrusted sources (peers, sealed envelopes) without crashing the process.

`json.loads` recurses once per nesting level in C. web3 raises `sys.setrecursionlimit` to
100000 on import, so a few hundred thousand `[` overflow the C stack and kill the process
(a segfault, not a RecursionError). Here the brackets are counted, outside strings, before
the parser sees the text; oversize input is refused before anything is decoded.
"""

from __future__ import annotations

import json
import re
from typing import Any

from proofwork.domain.errors import InvalidInput

# a JSON string (escapes included), a quote opening a string that never ends, or one bracket.
# Brackets inside strings do not nest. Linear time: an unterminated string stops the scan.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|"|[\[\]{}]', re.DOTALL)


def check_nesting(text: str, max_depth: int) -> None:
    """Refuses `text` when its arrays/objects nest deeper than `max_depth` (strings are skipped)."""
    depth = 0
    for match in _TOKENS.finditer(text):
        first = text[match.start()]  # not match.group(): a string may be megabytes long
        if first == '"':
            if match.end() - match.start() == 1:
                raise InvalidInput("not valid JSON (unterminated string)")
        elif first in "[{":
            depth += 1
            if depth > max_depth:
                raise InvalidInput(f"JSON nested deeper than {max_depth} levels")
        else:
            depth -= 1
            if depth < 0:
                raise InvalidInput("not valid JSON (unbalanced brackets)")


def safe_json_loads(
    data: bytes | bytearray | memoryview | str, *, max_bytes: int, max_depth: int = 32
) -> Any:
    """Parses JSON of at most `max_bytes` bytes (UTF-8) nesting at most `max_depth` levels.

    Every refusal (too large, too deep, not UTF-8, not JSON) is an InvalidInput; nothing else
    escapes, whatever the input.
    """
    if isinstance(data, bytes | bytearray | memoryview):
        if len(data) > max_bytes:
            raise InvalidInput(f"JSON larger than {max_bytes} bytes")
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput("JSON that is not UTF-8 text") from exc
    elif isinstance(data, str):
        # a character is at least one UTF-8 byte: only non-ASCII text needs encoding to measure
        if len(data) > max_bytes or (not data.isascii() and len(data.encode("utf-8", "replace")) > max_bytes):
            raise InvalidInput(f"JSON larger than {max_bytes} bytes")
        text = data
    else:
        raise InvalidInput(f"JSON must be bytes or text, not {type(data).__name__}")
    check_nesting(text, max_depth)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    except (ValueError, RecursionError) as exc:  # e.g. integers beyond int_max_str_digits
        raise InvalidInput(f"not valid JSON ({str(exc)[:80]})") from exc
