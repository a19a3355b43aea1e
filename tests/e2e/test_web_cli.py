"""`proofwork web` as a user starts it: a real process on a deployed data directory, pages served on
127.0.0.1, Ctrl-C stops it; refused clearly when nothing is deployed."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import httpx

from tests.conftest import free_port
from tests.e2e.conftest import Cli


def test_web_serves_the_pages_of_a_deployed_data_directory_until_interrupted(deployed: Cli) -> None:
    job_id = deployed.post_job("75")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "proofwork", "web", "--port", str(port), "--dev-mode"],
        env=deployed.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the web app did not start"
            time.sleep(0.2)
        board = httpx.get(url + "/", timeout=30)
        assert board.status_code == 200 and f'href="/jobs/{job_id}"' in board.text
        assert "<strong>dev mode</strong>" in board.text and "75 pwUSD" in board.text
        assert httpx.get(f"{url}/jobs/{job_id}", timeout=30).status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert f"proofwork web app on http://127.0.0.1:{port}/ (dev mode" in out
    assert "Traceback" not in err


def test_web_refuses_a_data_directory_where_nothing_is_deployed(cli: Cli) -> None:
    result = cli("web", "--port", str(free_port()))
    assert result.code == 1 and "run `proofwork deploy`" in result.err and "Traceback" not in result.err
