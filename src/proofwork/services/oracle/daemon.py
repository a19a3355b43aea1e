"""An oracle that runs until stopped: passes over the chain (`OracleNode.step`) at an interval, its
signed reports served over HTTP meanwhile, its database kept across restarts.

The CLI (`oracle run`) and the SDK (`Proofwork.oracle`) both run this. The workspace is opened for
one pass at a time through `open_workspace`: the embedded chain admits one process at a time, so a
daemon beside other commands holds it only while it works (the SDK passes its own open workspace).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proofwork.domain.errors import ChainUnavailable, InvalidInput, ProofworkError

if TYPE_CHECKING:
    from proofwork.services.oracle.node import OracleNode, StepReport
    from proofwork.services.workspace import Signer, Workspace

log = logging.getLogger("proofwork.oracle")

# The report endpoint, from the interface layer (`api.oracle_http.ReportServer`): (database, oracle
# address, host, port) -> a bound server with `.start()` (returning it), `.url` and `.stop()`.
ServeReports = Callable[[Any, str, str, int], Any]


def check_endpoint(url: str, option: str) -> str:
    """An endpoint URL to publish on chain: http(s) with a host, at most 256 bytes, printable."""
    from proofwork.network.peers import endpoint_url

    text = url.strip()
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        raise InvalidInput(f"invalid {option}: a URL has no spaces or control characters")
    try:
        endpoint_url(text)
    except InvalidInput as exc:
        raise InvalidInput(
            f"invalid {option}: {exc} (expected http(s)://host[:port], at most 256 bytes)"
        ) from None
    return text


@dataclass(frozen=True)
class DaemonOptions:
    interval: float = 2.0  # seconds between passes
    once: bool = False  # one pass, no endpoint
    passes: int = 0  # stop after this many passes (0: until stopped)
    host: str = "127.0.0.1"  # the report endpoint's interface
    port: int = 0  # and port (0: any free port)
    db: str | None = None  # SQLite path or SQLAlchemy URL (default: DATA_DIR/oracles/<address>.sqlite3)
    announce: bool = False  # publish the endpoint URL on the committee at start
    public_url: str | None = None  # the URL to announce, as peers reach it (default: the bound URL)
    attest: bool = True  # attest JobCompleted right after settling

    def checked(self) -> DaemonOptions:
        """These options, or a one-line InvalidInput naming the first bad one."""
        if not math.isfinite(self.interval) or not 0.05 <= self.interval <= 3600:
            raise InvalidInput(f"invalid --interval {self.interval}: expected 0.05 to 3600 seconds")
        if self.passes < 0:
            raise InvalidInput(f"invalid --passes {self.passes}: expected 0 (no limit) or more")
        if not 0 <= self.port <= 65535:
            raise InvalidInput(f"invalid --port {self.port}: expected 0 (any free port) to 65535")
        if self.public_url is not None:
            check_endpoint(self.public_url, "--public-url")
        return self


class OracleDaemon:
    """Runs an oracle until `stop` (from a signal handler or another thread) or its pass limit."""

    def __init__(
        self,
        open_workspace: Callable[[], AbstractContextManager[Workspace]],
        sender: str,
        serve: ServeReports,
        options: DaemonOptions = DaemonOptions(),
        *,
        say: Callable[[str], None] = log.info,
    ) -> None:
        self.open_workspace = open_workspace
        self.serve = serve
        self.sender = sender
        self.options = options.checked()
        self.say = say
        self.url: str | None = None  # the report endpoint, once serving
        # set when the loop begins its first pass (the endpoint serving and announced, if asked)
        self.ready = threading.Event()
        self._stop = threading.Event()

    def stop(self) -> None:
        """Ends the loop after the current pass (or at once between passes)."""
        self._stop.set()

    def run(self) -> int:
        """Passes until stopped; returns how many ran. A failed pass (chain busy or unreachable, a
        broken artifact, even a bug) is reported in one line and the next pass runs as usual."""
        from proofwork.db.oracle_state import OracleState, oracle_db_path
        from proofwork.evaluation.runner import Evaluator
        from proofwork.evaluation.sandbox import Sandbox
        from proofwork.network.peers import HttpPeers

        opts = self.options
        with self.open_workspace() as ws:
            signer = ws.signer(self.sender)
            chain_id, data_dir = ws.chain_id, ws.data_dir
            sandbox_debug = ws.settings.sandbox_debug
        default_db = oracle_db_path(data_dir, signer.address)
        oracle_db = OracleState.open(opts.db or default_db, oracle=signer.address, chain_id=chain_id)
        server = None
        peers = HttpPeers()
        count = 0
        try:
            server = (
                None if opts.once else self.serve(oracle_db, signer.address, opts.host, opts.port).start()
            )
            announce = None
            if server is not None:
                self.url = server.url
                if opts.announce:
                    announce = opts.public_url or check_endpoint(server.url, "endpoint")
            with Sandbox(debug=sandbox_debug) as sandbox:
                evaluator = Evaluator(sandbox)
                if server is not None:
                    self.say(f"oracle {signer.address} serving reports at {server.url} ({sandbox.isolation})")
                node: OracleNode | None = None
                while not self._stop.is_set():
                    if announce is not None and self._announce(signer, announce):
                        announce = None
                    self.ready.set()
                    try:
                        # the node (its caches of opened labels and finished jobs) lives across passes
                        with self.open_workspace() as ws:
                            if node is None:
                                node = self._node(ws, signer, oracle_db, evaluator, peers, default_db)
                            result = node.step(ws)
                    except ProofworkError as exc:
                        self.say(f"pass failed: {exc}")
                    except Exception as exc:  # a bug in one pass must not stop the daemon
                        log.debug("pass failed", exc_info=True)
                        detail = str(exc).splitlines()[0][:200] if str(exc) else ""
                        self.say(f"pass failed: unexpected {exc.__class__.__name__}: {detail}")
                    else:
                        self._report(result)
                    count += 1
                    if opts.once or (opts.passes and count >= opts.passes):
                        break
                    self._stop.wait(opts.interval)
        finally:
            if server is not None:
                server.stop()
            peers.close()
            oracle_db.close()
        return count

    def _announce(self, signer: Signer, url: str) -> bool:
        from proofwork.keys.sealing import public_key_of

        try:
            with self.open_workspace() as ws:
                ws.committee.register_oracle(signer.key, public_key_of(signer.key), url)
        except ChainUnavailable as exc:  # anything else (not a member...) is fatal
            self.say(f"announcing failed, will retry: {exc}")
            return False
        self.say(f"announced {url} on the committee")
        return True

    def _node(
        self, ws: Workspace, signer: Signer, oracle_db: Any, evaluator: Any, peers: Any, db_path: Path
    ) -> OracleNode:
        from proofwork.services.oracle.node import OracleNode

        return OracleNode(
            ws,
            signer,
            oracle_db,
            evaluator,
            peers,
            workdir=db_path.with_suffix(".work"),
            attest=self.options.attest,
        )

    def _report(self, result: StepReport) -> None:
        for line in result.scored:
            self.say(f"scored {line}")
        for line in result.settled:
            self.say(f"settled {line}")
        for job_id in result.revealed:
            self.say(f"revealed the labels of job {job_id}")
        for comp_id in result.confirmed:
            self.say(f"confirmed the labels of competition {comp_id}")
        for comp_id in result.finalized:
            self.say(f"finalized competition {comp_id}")
        for line in result.failures:
            self.say(f"problem: {line}")
