"""Builders for evaluation tests: real models (skl2onnx), task files, and hostile submissions."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pyarrow as pa
import pyarrow.parquet as pq
from onnx import TensorProto, helper

FAKE_CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
IR_VERSION = 8  # onnxruntime 1.31 reads IR <= 13; onnx 1.23 writes 14 by default
GiB = 1 << 30


def spec_text(
    *,
    task: str = "classification",
    metric: str = "accuracy",
    threshold: float = 0.9,
    submission: str = "{kind: onnx, input: input, output: label}",
    # wall clock well above the CPU limit: a spinning model must meet the CPU limit first, even on a
    # loaded machine
    limits: str = "{memory_mb: 256, cpu_seconds: 2, wall_seconds: 10, max_submission_mb: 16}",
    extra_data: str = "",
    extra: str = "",
) -> str:
    return (
        "version: 1\n"
        "name: digits-classifier\n"
        f"task: {task}\n"
        f"metric: {metric}\n"
        f"threshold: {threshold}\n"
        "data:\n"
        f"  train: {FAKE_CID}\n"
        f"  test_features: {FAKE_CID}\n"
        "  label_column: label\n"
        f"{extra_data}"
        f"submission: {submission}\n"
        f"limits: {limits}\n"
        f"{extra}"
    )


# ---------------------------------------------------------------- data and real models


def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = x.astype(np.float32)
    return x[:1200], y[:1200], x[1200:], y[1200:]


def rename_input(model: onnx.ModelProto, name: str) -> onnx.ModelProto:
    old = model.graph.input[0].name
    model.graph.input[0].name = name
    for node in model.graph.node:
        for i, value in enumerate(node.input):
            if value == old:
                node.input[i] = name
    return model


def sklearn_onnx(estimator: Any, x: np.ndarray, input_name: str = "input") -> bytes:
    from skl2onnx import to_onnx

    model = to_onnx(
        estimator, x[:1], options={id(estimator): {"zipmap": False}}, target_opset={"": 17, "ai.onnx.ml": 3}
    )
    return rename_input(model, input_name).SerializeToString()


def logistic_digits(x: np.ndarray, y: np.ndarray) -> tuple[Any, bytes]:
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(max_iter=300).fit(x, y)
    return clf, sklearn_onnx(clf, x)


def forest_breast_cancer() -> tuple[np.ndarray, np.ndarray, Any, bytes]:
    """A RandomForest on scikit-learn's bundled breast-cancer set: (test x, test y, model, ONNX)."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier

    x, y = load_breast_cancer(return_X_y=True)
    x = x.astype(np.float32)
    forest = RandomForestClassifier(n_estimators=20, max_depth=6, random_state=0).fit(x[:400], y[:400])
    return x[400:], y[400:], forest, sklearn_onnx(forest, x)


def write_table(path: Path, columns: dict[str, Any]) -> Path:
    table = pa.table({k: np.asarray(v) for k, v in columns.items()})
    if path.suffix == ".parquet":
        pq.write_table(table, path)
    else:
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, path)
    return path


def features_columns(x: np.ndarray) -> dict[str, Any]:
    return {f"pixel{i}": x[:, i] for i in range(x.shape[1])}


# ---------------------------------------------------------------- hand-built (hostile) models


def make_model(
    nodes: list[onnx.NodeProto],
    *,
    inputs: list[onnx.ValueInfoProto] | None = None,
    outputs: list[onnx.ValueInfoProto] | None = None,
    initializers: list[onnx.TensorProto] | None = None,
    extra_opsets: tuple[tuple[str, int], ...] = (),
) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes,
        "g",
        inputs
        if inputs is not None
        else [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 64])],
        outputs
        if outputs is not None
        else [helper.make_tensor_value_info("label", TensorProto.INT64, [None])],
        initializer=initializers or [],
    )
    opsets = [helper.make_opsetid("", 17), *(helper.make_opsetid(d, v) for d, v in extra_opsets)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=IR_VERSION)


def _int64(name: str, values: list[int]) -> onnx.TensorProto:
    return helper.make_tensor(name, TensorProto.INT64, [len(values)], values)


def argmax_model(n_features: int = 64, input_name: str = "input") -> bytes:
    """label = argmax over the features: a valid (if poor) classifier for 64-pixel digits."""
    nodes = [helper.make_node("ArgMax", [input_name], ["label"], axis=1, keepdims=0)]
    inputs = [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [None, n_features])]
    return make_model(nodes, inputs=inputs).SerializeToString()


def nan_output_model() -> bytes:
    """Outputs a float 'label' that is NaN for every row (0 * inf)."""
    nodes = [
        helper.make_node("ReduceSum", ["input", "axes"], ["s"], keepdims=0),
        helper.make_node("Mul", ["s", "inf"], ["si"]),
        helper.make_node("Mul", ["si", "zero"], ["label"]),
    ]
    inits = [
        _int64("axes", [1]),
        helper.make_tensor("inf", TensorProto.FLOAT, [], [float("inf")]),
        helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]),
    ]
    outputs = [helper.make_tensor_value_info("label", TensorProto.FLOAT, [None])]
    return make_model(nodes, outputs=outputs, initializers=inits).SerializeToString()


def one_row_model() -> bytes:
    """Returns one label for the whole batch instead of one per row."""
    nodes = [
        helper.make_node("ReduceSum", ["input", "axes"], ["s"], keepdims=0),
        helper.make_node("ArgMax", ["s"], ["label"], axis=0, keepdims=1),
    ]
    return make_model(nodes, initializers=[_int64("axes", [0])]).SerializeToString()


def huge_initializer_model() -> bytes:
    """Declares a 4 GiB float32 initializer (its bytes are not even there)."""
    big = TensorProto()
    big.name = "big"
    big.data_type = TensorProto.FLOAT
    big.dims.extend([1024, 1024, 1024])
    nodes = [helper.make_node("ArgMax", ["input"], ["label"], axis=1, keepdims=0)]
    return make_model(nodes, initializers=[big]).SerializeToString()


def constant_of_shape_model() -> bytes:
    """A ConstantOfShape node producing a 4 GiB tensor (folded at load time, or run)."""
    nodes = [
        helper.make_node(
            "ConstantOfShape",
            ["shape"],
            ["big"],
            value=helper.make_tensor("v", TensorProto.FLOAT, [1], [1.0]),
        ),
        helper.make_node("ReduceSum", ["big", "axes"], ["total"], keepdims=0),
        helper.make_node("Add", ["input", "total"], ["shifted"]),
        helper.make_node("ArgMax", ["shifted"], ["label"], axis=1, keepdims=0),
    ]
    inits = [_int64("shape", [1024, 1024, 1024]), _int64("axes", [0, 1, 2])]
    return make_model(nodes, initializers=inits).SerializeToString()


def expand_model() -> bytes:
    """Expands the input rows to [2**20, rows, 64] at run time: far beyond any memory limit."""
    nodes = [
        helper.make_node("Expand", ["input", "shape"], ["big"]),
        helper.make_node("ReduceSum", ["big", "axes"], ["total"], keepdims=0),
        helper.make_node("ArgMax", ["total"], ["label"], axis=1, keepdims=0),
    ]
    inits = [_int64("shape", [1 << 20, 1, 1]), _int64("axes", [0])]
    return make_model(nodes, initializers=inits).SerializeToString()


def loop_model(trip_count: int = 1 << 62) -> bytes:
    """An ONNX Loop with a huge trip count whose body does trivial work: burns CPU forever."""
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
            helper.make_node("Add", ["acc_in", "one"], ["acc_out"]),
        ],
        "body",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("acc_in", TensorProto.FLOAT, [1]),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("acc_out", TensorProto.FLOAT, [1]),
        ],
        initializer=[helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])],
    )
    nodes = [
        helper.make_node("Loop", ["trips", "cond", "acc0"], ["acc"], body=body),
        helper.make_node("Add", ["input", "acc"], ["shifted"]),
        helper.make_node("ArgMax", ["shifted"], ["label"], axis=1, keepdims=0),
    ]
    inits = [
        helper.make_tensor("trips", TensorProto.INT64, [], [trip_count]),
        helper.make_tensor("cond", TensorProto.BOOL, [], [True]),
        helper.make_tensor("acc0", TensorProto.FLOAT, [1], [0.0]),
    ]
    return make_model(nodes, initializers=inits).SerializeToString()


def external_data_model(location: str = "/etc/passwd") -> bytes:
    """An initializer whose bytes 'live' in an external file (here: a host secret)."""
    weights = TensorProto()
    weights.name = "w"
    weights.data_type = TensorProto.FLOAT
    weights.dims.extend([64])
    weights.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "256")):
        entry = weights.external_data.add()
        entry.key, entry.value = key, value
    nodes = [
        helper.make_node("Add", ["input", "w"], ["shifted"]),
        helper.make_node("ArgMax", ["shifted"], ["label"], axis=1, keepdims=0),
    ]
    return make_model(nodes, initializers=[weights]).SerializeToString()


def custom_domain_model() -> bytes:
    nodes = [helper.make_node("Exfiltrate", ["input"], ["label"], domain="com.evil")]
    return make_model(nodes, extra_opsets=(("com.evil", 1),)).SerializeToString()


def rank3_input_model() -> bytes:
    nodes = [
        helper.make_node("ReduceSum", ["input", "axes"], ["s"], keepdims=0),
        helper.make_node("ArgMax", ["s"], ["label"], axis=1, keepdims=0),
    ]
    inputs = [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 8, 8])]
    return make_model(nodes, inputs=inputs, initializers=[_int64("axes", [2])]).SerializeToString()


def double_input_model() -> bytes:
    nodes = [helper.make_node("ArgMax", ["input"], ["label"], axis=1, keepdims=0)]
    inputs = [helper.make_tensor_value_info("input", TensorProto.DOUBLE, [None, 64])]
    return make_model(nodes, inputs=inputs).SerializeToString()


# ---------------------------------------------------------------- zip bundles


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def zip_bomb(inflated: int = 64 << 20, name: str = "model.onnx") -> bytes:
    """One member of `inflated` zero bytes, deflated about 1000:1, with honest headers."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b"\0" * (1 << 20)
    body = b"".join(compressor.compress(chunk) for _ in range(inflated >> 20)) + compressor.flush()
    crc = 0
    for _ in range(inflated >> 20):
        crc = zlib.crc32(chunk, crc)
    return _raw_zip(name, body, crc, inflated, inflated)


def lying_zip(actual: bytes, declared: int, name: str = "model.onnx") -> bytes:
    """A member whose headers declare `declared` bytes (and the CRC of all of them) but which inflates
    to `actual`."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = compressor.compress(actual) + compressor.flush()
    return _raw_zip(name, body, zlib.crc32(actual), declared, declared)


def _raw_zip(name: str, body: bytes, crc: int, size: int, declared: int) -> bytes:
    encoded = name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(body), declared, len(encoded), 0)
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII",
        0x02014B50,
        20,
        20,
        0,
        8,
        0,
        0,
        crc,
        len(body),
        declared,
        len(encoded),
        0,
        0,
        0,
        0,
        0,
        0,
    )
    offset = len(local) + len(encoded) + len(body)
    directory = central + encoded
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(directory), offset, 0)
    return local + encoded + body + directory + end
