"""The oracle daemon through the SDK: four `pw.oracle(...)` loops (the same service `oracle run` uses)
announce themselves, score a submission in the sandbox, share their reports and settle it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from proofwork.domain.errors import InvalidInput
from proofwork.domain.job import MilestoneStatus
from proofwork.sdk import OracleOptions, Proofwork
from proofwork.services.demo_ml import prepare_task, train_onnx, write_spec
from proofwork.services.evaluated_jobs import AGGREGATION_GRACE, Evaluations
from proofwork.storage.unixfs import cid_digest

DAY = 86_400
WINDOW = 600


def test_sdk_oracles_settle_a_passing_model(tmp_path: Path) -> None:
    with Proofwork.open(tmp_path / "data") as pw:
        pw.deploy("dev0")
        pw.deploy_committee([f"dev{i}" for i in range(6, 10)], f=1, challenge_window=WINDOW)
        client, freelancer = pw.signer("dev1"), pw.signer("dev2")
        pw.fund(client.address, pw.amount("1000"))
        daemons = [
            pw.oracle(f"dev{i}", OracleOptions(interval=0.05, announce=True, attest=False))
            for i in range(6, 10)
        ]
        threads = [threading.Thread(target=d.run, daemon=True) for d in daemons]
        for t in threads:
            t.start()
        try:
            _wait(lambda: all(len(pw.ws.committee.public_key(o)) == 64 for o in pw.ws.committee.oracles))
            assert all(d.url and d.url.startswith("http://127.0.0.1:") for d in daemons)
            task = prepare_task(tmp_path / "task")
            spec = write_spec(
                tmp_path / "spec.yaml",
                pw.ws.store.add_file(task["paths"]["train"]),
                pw.ws.store.add_file(task["paths"]["test_features"]),
            )
            model = train_onnx(task["x_train"], task["y_train"], tmp_path / "good.onnx", weak=False)
            outcome, _ = Evaluations(pw.ws).post(
                client,
                spec,
                task["paths"]["labels"],
                budget=pw.amount("100"),
                deadline=pw.now() + 7 * DAY,
                review_period=2 * DAY,
                freelancer=freelancer.address,
            )
            job_id = outcome.job.job_id
            pw.jobs.submit(freelancer, job_id, 0, cid_digest(pw.ws.store.add_file(model)))
            # every oracle scores and signs while the challenge window runs; then one settles
            _wait(lambda: all(d_reported(pw, o, job_id) for o in range(6, 10)))
            pw.advance_time(WINDOW + AGGREGATION_GRACE + 1)
            _wait(lambda: pw.jobs.get(job_id).milestones[0].status == MilestoneStatus.RESOLVED)
        finally:
            for d in daemons:
                d.stop()
            for t in threads:
                t.join(timeout=60)
        assert not any(t.is_alive() for t in threads)
        assert pw.jobs.get(job_id).milestones[0].paid == pw.amount("100")


def d_reported(pw: Proofwork, index: int, job_id: int) -> bool:
    """Whether oracle dev<index> has signed a report for the job (its database says so)."""
    from proofwork.db.oracle_state import OracleState, oracle_db_path

    address = pw.address(f"dev{index}")
    path = oracle_db_path(pw.ws.data_dir, address)
    if not path.exists():
        return False
    state = OracleState.open(path, oracle=address, chain_id=pw.ws.chain_id)
    try:
        return bool(state.reports(pw.ws.committee.address, "job", job_id))
    finally:
        state.close()


def _wait(condition, timeout: float = 240.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the oracles did not get there in time"
        time.sleep(0.2)


def test_bad_daemon_options_are_refused_before_anything_runs(tmp_path: Path) -> None:
    with Proofwork.open(tmp_path / "data") as pw:
        for options, match in [
            (OracleOptions(interval=0.0), "--interval"),
            (OracleOptions(interval=float("nan")), "--interval"),
            (OracleOptions(passes=-1), "--passes"),
            (OracleOptions(port=70_000), "--port"),
            (OracleOptions(public_url="ftp://x"), "--public-url"),
        ]:
            with pytest.raises(InvalidInput, match=match):
                pw.oracle("dev6", options)
