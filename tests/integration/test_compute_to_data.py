"""Compute-to-data through the SDK on the embedded chain (and anvil): a compute licence's holder gets a
score signed by the dataset's owner and never a row; download licences, expired licences, replays and
hostile models are refused with a stable reason and nothing of the data."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from proofwork.domain.compute import WITHHELD, ComputeRefused
from proofwork.domain.evalspec import SCORE_SCALE
from proofwork.services.compute_to_data import ComputeNode, ComputeResult, verify_result
from tests.conftest import chain_snapshot
from tests.integration.conftest import DAY, Market

ROWS = 400
SECRET = 987_654  # a value only the private dataset holds: it must never come back


def _dataset(tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(ROWS, 4)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
    x[0, 3] = SECRET  # one conspicuous cell a hostile model would try to print
    path = tmp_path / "private.csv"
    lines = ["f0,f1,f2,f3,label"] + [
        ",".join(f"{v:.6g}" for v in row) + f",{t}" for row, t in zip(x, y, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path, x, y


def logistic_model(x: np.ndarray, y: np.ndarray) -> bytes:
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression().fit(x[:, :3], y)
    # the model sees 4 features: pad the fitted weights with a zero for f3
    clf.coef_ = np.hstack([clf.coef_, np.zeros((1, 1))])
    clf.n_features_in_ = 4
    onnx_model = to_onnx(
        clf,
        initial_types=[("input", FloatTensorType([None, 4]))],
        options={id(clf): {"zipmap": False}},
        target_opset={"": 17, "ai.onnx.ml": 3},
    )
    return bytes(onnx_model.SerializeToString())


def custom_op_model() -> bytes:
    from onnx import TensorProto, helper

    node = helper.make_node("Exfiltrate", ["input"], ["label"], domain="com.evil")
    graph = helper.make_graph(
        [node],
        "evil",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 4])],
        [helper.make_tensor_value_info("label", TensorProto.INT64, [None])],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.evil", 1)]
    )
    return bytes(model.SerializeToString())


def leaking_model() -> bytes:
    """Valid ONNX whose run-time error would print a value of the data (an index out of bounds)."""
    from onnx import TensorProto, helper

    table = helper.make_tensor("table", TensorProto.INT64, [3], [0, 1, 2])
    nodes = [
        helper.make_node("Cast", ["input"], ["as_int"], to=TensorProto.INT64),
        helper.make_node("ReduceMax", ["as_int"], ["biggest"], axes=[1], keepdims=0),
        helper.make_node("Gather", ["table", "biggest"], ["label"], axis=0),
    ]
    graph = helper.make_graph(
        nodes,
        "leak",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 4])],
        [helper.make_tensor_value_info("label", TensorProto.INT64, [None])],
        initializer=[table],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return bytes(model.SerializeToString())


@dataclass
class Setup:
    m: Market
    dataset_id: int
    compute_licence: int
    download_licence: int
    x: np.ndarray
    y: np.ndarray
    node: ComputeNode


@pytest.fixture(scope="module")
def setup(deployed_market: Market, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    m = deployed_market
    pw, assets = m.pw, m.pw.assets
    assets.deploy("dev0")
    path, x, y = _dataset(tmp_path_factory.mktemp("data"))
    manifest, key = assets.manifest([path], kind="dataset", name="private", license="CC-BY-4.0", encrypt=True)
    dataset = assets.register(m.arbiter, manifest, key=key)
    compute_offer = assets.offer(
        m.arbiter, dataset.asset_id, price=pw.amount("5"), term_seconds=30 * DAY, kind="compute"
    )
    download_offer = assets.offer(m.arbiter, dataset.asset_id, price=pw.amount("5"), kind="download")
    compute_licence = assets.buy(m.client, compute_offer)
    download_licence = assets.buy(m.client, download_offer)
    with ComputeNode(pw.ws) as node:
        yield Setup(m, dataset.asset_id, compute_licence, download_licence, x, y, node)


@pytest.fixture
def s(setup: Setup) -> Iterator[Setup]:
    with chain_snapshot(setup.m.pw.ws.chain.web3):
        yield setup


FIELDS = [
    "chain_id",
    "licensing",
    "licence_id",
    "asset_id",
    "dataset",
    "request",
    "task",
    "model",
    "model_sha256",
    "metric",
    "score",
    "rows",
    "signer",
    "signature",
]
PARAMS = {"metric": "accuracy", "label_column": "label", "output": "label"}


def test_a_compute_buyer_gets_a_signed_score_and_never_a_row(s: Setup) -> None:
    pw = s.m.pw
    model = logistic_model(s.x, s.y)
    request = pw.assets.compute_request(s.m.client, s.compute_licence, model=model, params=PARAMS)
    result = s.node.serve(request)  # the store of this data directory holds the model already
    wire = json.dumps(result.to_json())
    sent = json.loads(wire)
    assert set(sent) == set(FIELDS) and not any(isinstance(v, list | dict) for v in sent.values())
    readable = {k: v for k, v in sent.items() if not str(v).startswith("0x")}  # hashes, signature, addresses
    assert str(SECRET) not in json.dumps(readable) and "f0" not in json.dumps(readable)
    back = ComputeResult.from_json(json.loads(wire))
    assert verify_result(pw.ws, request, back) == s.m.arbiter.address
    assert back.rows == ROWS and back.asset_id == s.dataset_id and back.metric == "accuracy"
    assert 0.8 * SCORE_SCALE < back.score <= SCORE_SCALE

    forged = ComputeResult(**{**back.__dict__, "score": back.score + 1})
    with pytest.raises(ComputeRefused) as refused:
        verify_result(pw.ws, request, forged)
    assert refused.value.reason == "bad_result"
    with pytest.raises(ComputeRefused) as replay:
        s.node.serve(request)
    assert replay.value.reason == "request_replayed"


def test_a_download_licence_a_stranger_and_an_expired_licence_are_refused(s: Setup) -> None:
    pw = s.m.pw
    model = logistic_model(s.x, s.y)
    download = pw.assets.compute_request(s.m.client, s.download_licence, model=model, params=PARAMS)
    with pytest.raises(ComputeRefused) as refused:
        s.node.serve(download)
    assert refused.value.reason == "download_only"

    stranger = pw.assets.compute_request(s.m.other, s.compute_licence, model=model, params=PARAMS)
    with pytest.raises(ComputeRefused) as refused:
        s.node.serve(stranger)
    assert refused.value.reason == "not_licence_holder"

    pw.ws.chain.advance_time(31 * DAY)
    late = pw.assets.compute_request(s.m.client, s.compute_licence, model=model, params=PARAMS)
    with pytest.raises(ComputeRefused) as refused:
        s.node.serve(late)
    assert refused.value.reason == "licence_expired"


def test_an_expired_or_other_chain_request_is_refused(s: Setup) -> None:
    pw = s.m.pw
    model = logistic_model(s.x, s.y)
    request = pw.assets.compute_request(s.m.client, s.compute_licence, model=model, params=PARAMS)
    pw.ws.chain.advance_time(3_600)
    with pytest.raises(ComputeRefused) as refused:
        s.node.serve(request)
    assert refused.value.reason == "request_expired"
    other = pw.assets.compute_request(s.m.client, s.compute_licence, model=model, params=PARAMS)
    moved = type(other)(**{**other.__dict__, "chain_id": other.chain_id + 1})
    with pytest.raises(ComputeRefused) as refused:
        s.node.serve(moved)
    assert refused.value.reason == "wrong_chain"
    tampered = type(other)(**{**other.__dict__, "licence_id": s.download_licence})
    with pytest.raises(ComputeRefused) as refused:
        s.node.serve(tampered)  # the signature now recovers to someone else
    assert refused.value.reason in ("not_licence_holder", "download_only")


def test_hostile_models_are_refused_with_one_line_and_no_data(s: Setup) -> None:
    pw = s.m.pw
    custom = pw.assets.compute_request(s.m.client, s.compute_licence, model=custom_op_model(), params=PARAMS)
    with pytest.raises(ComputeRefused) as refused:
        s.node.serve(custom)
    assert refused.value.reason == "model_refused"
    assert "non-standard operator domain 'com.evil'" in str(refused.value)

    leak = pw.assets.compute_request(s.m.client, s.compute_licence, model=leaking_model(), params=PARAMS)
    with pytest.raises(ComputeRefused) as refused:
        s.node.serve(leak)
    assert refused.value.reason == "model_refused" and WITHHELD in str(refused.value)
    assert str(SECRET) not in str(refused.value)

    garbage = pw.assets.compute_request(s.m.client, s.compute_licence, model=b"\x08\x01" * 50, params=PARAMS)
    with pytest.raises(ComputeRefused) as refused:
        s.node.serve(garbage)
    assert refused.value.reason == "model_refused" and "\n" not in str(refused.value)


def test_a_label_column_the_dataset_lacks_is_named_without_values(s: Setup) -> None:
    pw = s.m.pw
    params = {**PARAMS, "label_column": "target"}
    request = pw.assets.compute_request(
        s.m.client, s.compute_licence, model=logistic_model(s.x, s.y), params=params
    )
    with pytest.raises(ComputeRefused) as refused:
        s.node.serve(request)
    assert refused.value.reason == "dataset_mismatch" and "'target'" in str(refused.value)


@contextmanager
def node_server(pw: Any) -> Iterator[str]:
    """The owner's node: the REST API over this workspace, served by uvicorn on a thread."""
    import uvicorn

    from proofwork.api.v1.app import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(replace(pw.ws.settings, api_rate_limit=100_000), pw.ws)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the API server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        node = getattr(app.state, "compute_node", None)
        if node is not None:
            node.close()


def test_the_owners_node_over_http_answers_a_signed_score_or_a_stable_code(s: Setup) -> None:
    import httpx

    pw = s.m.pw
    model = logistic_model(s.x, s.y)
    with node_server(pw) as url:
        result = pw.assets.compute(s.m.client, s.compute_licence, params=PARAMS, model=model, node_url=url)
        assert result.signer == s.m.arbiter.address and result.rows == ROWS and result.score > 0
        with pytest.raises(ComputeRefused) as refused:
            pw.assets.compute(s.m.client, s.download_licence, params=PARAMS, model=model, node_url=url)
        assert refused.value.reason == "download_only"
        with pytest.raises(ComputeRefused) as refused:
            pw.assets.compute(
                s.m.client, s.compute_licence, params=PARAMS, model=leaking_model(), node_url=url
            )
        assert refused.value.reason == "model_refused" and str(SECRET) not in str(refused.value)
        answer = httpx.post(f"{url}/api/v1/assets/compute", json={"request": {"licence_id": "1"}})
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "request_malformed"
        too_big = httpx.post(f"{url}/api/v1/assets/compute", content=b"{" + b" " * 300_000 + b"}")
        assert too_big.status_code == 413


def test_training_recipes_return_a_signed_onnx_model_and_never_a_row(s: Setup) -> None:
    import onnxruntime as ort

    pw = s.m.pw
    result, model = pw.assets.compute(
        s.m.client, s.compute_licence, task="logistic_regression", params={"label_column": "label", "C": 0.5}
    )
    assert result.task == "logistic_regression" and result.rows == ROWS and result.metric == "accuracy"
    assert (
        hashlib.sha256(model).digest() == result.model_sha256 and pw.ws.store.add_bytes(model) == result.model
    )
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    labels = session.run(["label"], {"input": s.x})[0]
    assert np.mean(labels == s.y) * SCORE_SCALE == pytest.approx(
        result.score, abs=1
    )  # the signed training score
    assert result.score > 0.9 * SCORE_SCALE

    boosted, _ = pw.assets.compute(
        s.m.client,
        s.compute_licence,
        task="gradient_boosting",
        params={"label_column": "label", "n_estimators": 20, "max_depth": 2},
    )
    assert boosted.score > 0.9 * SCORE_SCALE and boosted.model != result.model
    with pytest.raises(ComputeRefused) as refused:
        pw.assets.compute(
            s.m.client,
            s.compute_licence,
            task="gradient_boosting",
            params={"label_column": "label", "max_depth": 50},
        )
    assert refused.value.reason == "request_malformed" and "max_depth" in str(refused.value)
    with pytest.raises(ComputeRefused) as refused:
        pw.assets.compute(
            s.m.client, s.download_licence, task="logistic_regression", params={"label_column": "label"}
        )
    assert refused.value.reason == "download_only"


def test_a_recipe_over_http_brings_back_the_model_the_owner_signed(s: Setup) -> None:
    pw = s.m.pw
    with node_server(pw) as url:
        result, model = pw.assets.compute(
            s.m.client,
            s.compute_licence,
            task="logistic_regression",
            params={"label_column": "label", "max_iter": 200},
            node_url=url,
        )
    assert result.signer == s.m.arbiter.address and hashlib.sha256(model).digest() == result.model_sha256
