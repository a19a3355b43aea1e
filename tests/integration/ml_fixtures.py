"""A deployed market with a 4-oracle committee (one oracle lying) judging evaluated jobs in the real
sandbox: in-process `OracleNode`s, each serving its signed reports over HTTP (`ReportServer`).
Shared by the evaluation and identity integration suites."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from proofwork.api.oracle_http import ReportServer
from proofwork.db.oracle_state import OracleState
from proofwork.evaluation.runner import Evaluator
from proofwork.evaluation.sandbox import Sandbox
from proofwork.keys.sealing import public_key_of
from proofwork.network.peers import HttpPeers
from proofwork.sdk import Proofwork, Signer
from proofwork.services.demo_ml import write_spec
from proofwork.services.deployment import deploy_committee
from proofwork.services.evaluated_jobs import AGGREGATION_GRACE, Evaluations
from proofwork.services.oracle.node import OracleNode
from proofwork.storage.unixfs import cid_digest

DAY = 86_400
WINDOW = 600
LIE = 1_000_000


@dataclass
class MlMarket:
    pw: Proofwork
    backend: str
    client: Signer
    good: Signer
    weak: Signer
    oracles: list[Signer]
    nodes: list[OracleNode]
    states: list[OracleState]
    evaluations: Evaluations
    spec: Path
    labels: Path
    models: dict[str, Path]
    evaluator: Evaluator
    workdir: Path

    def post(self, freelancer: Signer, budget: str = "100") -> int:
        outcome, _ = self.evaluations.post(
            self.client,
            self.spec,
            self.labels,
            budget=self.pw.amount(budget),
            deadline=self.pw.now() + 7 * DAY,
            review_period=2 * DAY,
            freelancer=freelancer.address,
        )
        return outcome.job.job_id

    def submit(self, freelancer: Signer, job_id: int, model: str) -> None:
        cid = self.pw.ws.store.add_file(self.models[model])
        self.evaluations.jobs.submit(freelancer, job_id, 0, cid_digest(cid))

    def run_oracles(self, nodes: list[OracleNode] | None = None) -> list[Any]:
        return [node.step() for node in nodes or self.nodes]

    def settle_all(self) -> None:
        self.run_oracles()
        self.pw.advance_time(WINDOW + AGGREGATION_GRACE + 1)
        self.run_oracles()
        self.run_oracles()


@contextmanager
def open_ml_market(
    backend: str,
    rpc_url: str | None,
    data_dir: Path,
    trained: dict[str, Path],
    oracle_db: str | None = None,
    court: bool = False,
) -> Iterator[MlMarket]:
    """Deploys the escrow and a committee of dev6..dev9 (f = 1; dev9 lies, always reporting 1.0);
    dev1 is the client (100,000 tokens), dev2 and dev3 freelancers with a good and a weak model.
    `trained`: the digits task and its models (the `digits_task` fixture), copied into `data_dir`.
    The oracles keep their state in one SQLite file each, or all in the database `oracle_db`. With
    `court`, the court is deployed first, so the committee hands its disputed scores to it."""
    with Proofwork.open(data_dir, rpc_url) as pw, Sandbox() as sandbox, ExitStack() as cleanup:
        ws = pw.ws
        operator = pw.signer("dev0")
        pw.deploy("dev0")
        if court:
            pw.court.deploy("dev0")
        oracles = [pw.signer(f"dev{i}") for i in range(6, 10)]
        deploy_committee(ws, operator, [o.address for o in oracles], f=1, challenge_window=WINDOW)
        client, good, weak = pw.signer("dev1"), pw.signer("dev2"), pw.signer("dev3")
        pw.fund(client.address, pw.amount("100000"))
        for who in (good, weak):
            pw.fund(who.address, pw.amount("10"))
        evaluator = Evaluator(sandbox)
        peers = HttpPeers()
        cleanup.callback(peers.close)
        states, nodes = [], []
        for oracle in oracles:
            state = OracleState.open(
                oracle_db or data_dir / "oracles" / f"{oracle.name}.sqlite3",
                oracle=oracle.address,
                chain_id=ws.chain_id,
            )
            cleanup.callback(state.close)
            server = ReportServer(state, oracle.address).start()
            cleanup.callback(server.stop)
            ws.committee.register_oracle(oracle.key, public_key_of(oracle.key), server.url)
            tamper = (lambda kind, subject, honest: LIE) if oracle is oracles[-1] else None
            nodes.append(
                OracleNode(
                    ws,
                    oracle,
                    state,
                    evaluator,
                    peers,
                    workdir=data_dir / "work" / oracle.name,
                    tamper=tamper,
                )
            )
            states.append(state)
        (data_dir / "task").mkdir(parents=True, exist_ok=True)
        paths = {
            name: Path(shutil.copy(trained[name], data_dir / "task" / trained[name].name))
            for name in ("train", "test_features", "labels")
        }
        spec = write_spec(
            data_dir / "task" / "spec.yaml",
            ws.store.add_file(paths["train"]),
            ws.store.add_file(paths["test_features"]),
        )
        models = {
            name: Path(shutil.copy(trained[name], data_dir / f"{name}.onnx")) for name in ("good", "weak")
        }
        broken = data_dir / "broken.onnx"
        broken.write_bytes(os.urandom(4096))
        models["broken"] = broken
        yield MlMarket(
            pw,
            backend,
            client,
            good,
            weak,
            oracles,
            nodes,
            states,
            Evaluations(ws, evaluator),
            spec,
            paths["labels"],
            models,
            evaluator,
            data_dir,
        )


@contextmanager
def court_market(
    backend: str, rpc_url: str | None, data_dir: Path, trained: dict[str, Path], jurors: tuple[str, ...]
) -> Iterator[MlMarket]:
    """`open_ml_market` with the court deployed first (the committee and its competition contract name
    it), and `jurors` holding 1,000 PWK each, 300 of them staked."""
    from proofwork.domain.court import PWK

    with open_ml_market(backend, rpc_url, data_dir, trained, court=True) as market:
        pw = market.pw
        for name in jurors:
            juror = pw.signer(name)
            pw.court.transfer_pwk("dev0", juror.address, 1_000 * PWK)
            pw.court.stake(juror, 300 * PWK)
        yield market
