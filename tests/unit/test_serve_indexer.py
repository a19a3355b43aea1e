"""`proofwork serve`'s indexer component: a node that cannot be reached is reported in one line (not
once per poll, never a traceback) while the indexer keeps trying; a stop ends it at once."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

from proofwork.services.serve import ChainIndexer, Platform, ServeOptions
from proofwork.settings import Settings


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_indexer_reports_an_unreachable_node_once_and_stops_at_once(tmp_path: Path) -> None:
    said: list[str] = []
    url = f"http://127.0.0.1:{closed_port()}"
    settings = Settings(data_dir=tmp_path, rpc_url=url)
    deployment: Any = None  # the indexer reads the deployment through its workspace, never this
    platform = Platform(
        settings=settings,
        options=ServeOptions(index_poll=0.05),
        rpc_url=url,
        chain_id=1,
        embedded=False,
        deployment=deployment,
        say=said.append,
    )
    indexer = ChainIndexer(platform)
    indexer.start()
    try:
        deadline = time.monotonic() + 10
        while not said and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.5)  # several more polls: still one line
        assert len(said) == 1, said
        assert said[0].startswith("indexer: ") and said[0].endswith("(trying again)"), said
        assert "\n" not in said[0] and "Traceback" not in said[0]
        assert indexer.passes == 0 and not indexer.caught_up.is_set()
    finally:
        started = time.monotonic()
        indexer.stop()
        assert time.monotonic() - started < 2
    assert (tmp_path / "index.sqlite3").exists()
