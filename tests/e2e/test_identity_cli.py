"""Credentials from the command line: an institution's did:web served by `issuer serve` on 127.0.0.1,
issue -> present some claims -> verify, refusals with their reason, revocation, bad input."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Cli

AUD = ["--audience", "https://client.example", "--nonce", "n-42"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(cli: Cli) -> Iterator[tuple[Cli, str]]:
    """An issuer profile `uni` and its web root served by `proofwork issuer serve` in its own process."""
    port = free_port()
    base = f"http://127.0.0.1:{port}/uni"
    created = cli.ok("issuer", "create", "uni", "--account", "dev3", "--base-url", base, "--json").json()
    assert created["issuer"]["did"] == f"did:web:127.0.0.1%3A{port}:uni"
    proc = subprocess.Popen(
        [sys.executable, "-m", "proofwork", "issuer", "serve", "uni"],
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{base}/did.json", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "issuer serve did not come up"
            time.sleep(0.1)
        yield cli, base
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0 and "Traceback" not in err, err
        assert "serving did:web:127.0.0.1" in out


@pytest.mark.daemon
def test_issue_present_verify_revoke(served: tuple[Cli, str], tmp_path: Path) -> None:
    cli, base = served
    claims = tmp_path / "claims.json"
    claims.write_text(json.dumps({"course": "Applied ML", "student_name": "Ada Lovelace"}))
    issued = cli.ok(
        "cred",
        "issue",
        "--from",
        "uni",
        "--to",
        "dev2",
        "--type",
        "course",
        "--claims",
        str(claims),
        "--claim",
        "grade=A",
        "--claim",
        "hours=120",
        "--valid-for",
        "365d",
        "--json",
    ).json()
    assert issued["status"]["uri"] == f"{base}/status/1" and issued["claims"] == [
        "course",
        "grade",
        "hours",
        "student_name",
    ]
    presentation = tmp_path / "p.sdjwt"
    shown = cli.ok(
        "cred",
        "present",
        issued["id"],
        "--from",
        "dev2",
        "--disclose",
        "course,grade",
        *AUD,
        "--out",
        str(presentation),
        "--json",
    ).json()
    assert shown["disclosed"] == ["course", "grade"] and "Ada" not in presentation.read_text()

    verified = cli.ok("cred", "verify", str(presentation), *AUD, "--insecure-localhost", "--json").json()
    assert verified["ok"] and verified["claims"] == {"course": "Applied ML", "grade": "A"}
    assert verified["status"] == "valid" and verified["id"] == issued["id"]
    assert verified["holder"] == issued["holder"] and verified["issuer"].startswith("did:web:127.0.0.1")

    cli.fails(
        "cred",
        "verify",
        str(presentation),
        "--audience",
        "https://client.example",
        "--nonce",
        "replayed",
        "--insecure-localhost",
        match="credential rejected (wrong-nonce)",
    )
    cli.fails(
        "cred",
        "verify",
        str(presentation),
        "--audience",
        "https://other.example",
        "--nonce",
        "n-42",
        "--insecure-localhost",
        match="credential rejected (wrong-audience)",
    )

    revoked = cli.ok("cred", "revoke", issued["id"], "--from", "uni", "--json").json()
    assert revoked["status"] == "revoked"
    result = cli.fails(
        "cred",
        "verify",
        str(presentation),
        *AUD,
        "--insecure-localhost",
        "--json",
        match="credential rejected (revoked)",
    )
    assert result.json() == {
        "ok": False,
        "reason": "revoked",
        "error": "credential rejected (revoked): the issuer has revoked this credential",
    }


def test_malformed_file_and_json_output(cli: Cli, tmp_path: Path) -> None:
    junk = tmp_path / "junk.sdjwt"
    junk.write_text("a.b.c~bm90IGEgZGlzY2xvc3VyZQ~")
    result = cli.fails(
        "cred", "verify", str(junk), *AUD, "--offline", "--json", match="credential rejected (malformed)"
    )
    assert result.json()["reason"] == "malformed"
    shown = cli.ok("id", "show", "--account", "dev2", "--json").json()
    assert shown["credentials"] == [] and shown["did"].endswith(":" + shown["address"])
    assert shown["did"].startswith("did:pkh:eip155:") and len(shown["holder_thumbprint"]) == 43
