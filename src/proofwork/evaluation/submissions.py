"""Reading untrusted submissions: zip bundles, ONNX models, prediction files; and trusted tables.

Everything that parses a submission's bytes runs inside the sandbox's worker (see
`worker.py`); this module holds those checks so they can be read and tested on their own.
Each refusal is an EvaluationFailed with a one-line reason a submitter can act on.

ONNX models are never unpickled. Before onnxruntime sees a model, `inspect_onnx` refuses
external data, non-standard operator domains, model-local functions, tensors or declared
shapes larger than the memory limit, inputs and outputs that do not match the spec, and runs
`onnx.checker.check_model(full_check=True)`.
"""

from __future__ import annotations

import contextlib
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from proofwork.domain.errors import EvaluationFailed, InvalidInput

ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
PARQUET_MAGIC = b"PAR1"
ALLOWED_DOMAINS = frozenset({"", "ai.onnx", "ai.onnx.ml"})
MAX_ZIP_RATIO = 100  # decompressed / compressed, for members over ZIP_RATIO_FLOOR bytes
ZIP_RATIO_FLOOR = 1 << 20
MAX_PROB_COLUMNS = 100_000
_MEMBER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,200}$")
_COMPRESSED = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)
_TEXT_SNIFF = 1 << 16
_INTEGER = re.compile(r"^[+-]?[0-9]+$")

# onnx TensorProto.DataType -> bytes per element (strings are counted as 1 byte minimum)
_ELEMENT_BYTES = {
    1: 4,
    2: 1,
    3: 1,
    4: 2,
    5: 2,
    6: 4,
    7: 8,
    8: 1,
    9: 1,
    10: 2,
    11: 8,
    12: 4,
    13: 8,
    14: 8,
    15: 16,
    16: 2,
}
_FLOAT = 1


def _one_line(text: object, limit: int = 200) -> str:
    line = " ".join(str(text).split())
    line = "".join(ch if ch.isprintable() else "?" for ch in line)
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _mb(n: int) -> str:
    return f"{n / (1 << 20):.1f} MB"


# ---------------------------------------------------------------- zip bundles


def unpack_submission(data: bytes, kind: str, fmt: str | None, max_bytes: int) -> bytes:
    """The submission's payload: `data` itself, or the one file of a .zip bundle.

    A bundle must hold exactly one top-level file (directory entries are ignored):
    `*.onnx` for an onnx submission, `*.csv` / `*.parquet` (the spec's format) for
    predictions. Declared sizes, actual decompressed bytes and the compression ratio are
    all checked, so a zip bomb is refused without being inflated.
    """
    if len(data) > max_bytes:
        raise EvaluationFailed(f"the submission is {_mb(len(data))}, over the limit of {_mb(max_bytes)}")
    if not data.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
        return data
    try:
        bundle = zipfile.ZipFile(io.BytesIO(data))
        infos = bundle.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise EvaluationFailed(f"the submission is not a readable zip bundle: {_one_line(exc)}") from exc
    if len(infos) > 64:
        raise EvaluationFailed(f"the zip bundle must hold exactly one file, it holds {len(infos)} entries")
    files = [i for i in infos if not i.is_dir()]
    if len(files) != 1:
        raise EvaluationFailed(f"the zip bundle must hold exactly one file, it holds {len(files)}")
    info = files[0]
    name = info.filename
    if "/" in name or "\\" in name or ".." in name or not _MEMBER_NAME.match(name):
        raise EvaluationFailed(f"the zip bundle's file name {_one_line(name, 60)!r} is not a plain file name")
    wanted = (".onnx",) if kind == "onnx" else (f".{fmt}",)
    if not name.lower().endswith(wanted):
        raise EvaluationFailed(f"the zip bundle must hold a {wanted[0]} file, it holds {name!r}")
    if info.flag_bits & 0x1:
        raise EvaluationFailed("the zip bundle is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise EvaluationFailed("the zip bundle uses a compression method other than stored or deflate")
    if info.file_size > max_bytes:
        raise EvaluationFailed(
            f"the bundled file declares {_mb(info.file_size)}, over the limit of {_mb(max_bytes)}"
        )
    if info.file_size > ZIP_RATIO_FLOOR and info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1):
        raise EvaluationFailed(
            f"the zip bundle's compression ratio is over {MAX_ZIP_RATIO}:1 (a zip bomb?): refused without inflating it"
        )
    out = bytearray()
    try:
        with bundle.open(info) as member:
            while chunk := member.read(1 << 20):
                out += chunk
                if len(out) > info.file_size or len(out) > max_bytes:
                    raise EvaluationFailed("the bundled file inflates beyond its declared size: refused")
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, RuntimeError) as exc:
        raise EvaluationFailed(f"the zip bundle is damaged: {_one_line(exc)}") from exc
    if len(out) != info.file_size:
        raise EvaluationFailed("the bundled file's size does not match its declared size")
    return bytes(out)


# ---------------------------------------------------------------- ONNX


@dataclass(frozen=True)
class ModelInfo:
    input_name: str
    output_name: str
    output_elem_type: int
    opsets: dict[str, int]


def _walk_graph(graph: Any) -> Iterator[Any]:
    """Every graph: `graph` and each subgraph (Loop/If/Scan bodies), depth first."""
    stack = [graph]
    while stack:
        g = stack.pop()
        yield g
        for node in g.node:
            for attr in node.attribute:
                if attr.HasField("g"):
                    stack.append(attr.g)
                stack.extend(attr.graphs)


def _tensor_bytes(dims: Any, elem_type: int) -> int:
    count = 1
    for d in dims:
        if d < 0:
            raise EvaluationFailed("the model declares a tensor with a negative dimension")
        count *= int(d)
    return count * _ELEMENT_BYTES.get(int(elem_type), 1)


def _tensors_of(graph: Any) -> Iterator[tuple[str, Any]]:
    for t in graph.initializer:
        yield f"initializer {t.name!r}", t
    for s in graph.sparse_initializer:
        yield f"sparse initializer {s.values.name!r}", s.values
        yield f"sparse initializer {s.values.name!r}", s.indices
    for node in graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                yield f"attribute {attr.name!r} of node {node.name or node.op_type!r}", attr.t
            for t in attr.tensors:
                yield f"attribute {attr.name!r} of node {node.name or node.op_type!r}", t
            if attr.HasField("sparse_tensor"):
                yield (
                    f"attribute {attr.name!r} of node {node.name or node.op_type!r}",
                    attr.sparse_tensor.values,
                )


def _declared_bytes(value_info: Any) -> int:
    """Bytes of a declared tensor type whose dimensions are all known (0 when any is symbolic)."""
    if not value_info.type.HasField("tensor_type"):
        return 0
    tensor_type = value_info.type.tensor_type
    if not tensor_type.HasField("shape"):
        return 0
    dims = []
    for d in tensor_type.shape.dim:
        if not d.HasField("dim_value"):
            return 0
        dims.append(d.dim_value)
    return _tensor_bytes(dims, tensor_type.elem_type)


def parse_onnx(model_bytes: bytes) -> Any:
    import onnx
    from google.protobuf.message import DecodeError

    if not model_bytes:
        raise EvaluationFailed("the submission is empty")
    if model_bytes.startswith((PARQUET_MAGIC, ZIP_MAGIC)):
        raise EvaluationFailed("the submission is not an ONNX model")
    model = onnx.ModelProto()
    try:
        model.ParseFromString(model_bytes)
    except (DecodeError, ValueError, RuntimeError) as exc:
        raise EvaluationFailed("the submission is not a valid ONNX model (it does not parse as one)") from exc
    if not model.HasField("graph") or not model.graph.node:
        raise EvaluationFailed("the submission is not a valid ONNX model (it has no graph)")
    return model


def inspect_onnx(
    model_bytes: bytes, *, input_name: str, output_name: str, n_features: int, n_rows: int, memory_bytes: int
) -> ModelInfo:
    """Static checks of an untrusted ONNX model, before onnxruntime loads it."""
    import onnx

    model = parse_onnx(model_bytes)
    opsets: dict[str, int] = {}
    for op in model.opset_import:
        if op.domain not in ALLOWED_DOMAINS:
            raise EvaluationFailed(
                f"the model imports the non-standard operator domain {_one_line(op.domain, 60)!r}"
            )
        opsets[op.domain or "ai.onnx"] = int(op.version)
    supported = _supported_opsets()
    for domain, version in opsets.items():
        top = supported.get(domain)
        if version < 1 or (top is not None and version > top):
            raise EvaluationFailed(
                f"the model imports opset {version} of the domain {domain!r}, which this scorer does not "
                f"support (opsets 1 to {top})"
            )
    if len(model.functions):
        raise EvaluationFailed("the model defines its own functions, which are not allowed")
    if len(model.training_info):
        raise EvaluationFailed("the model carries training graphs, which are not allowed")
    total = 0
    for graph in _walk_graph(model.graph):
        for node in graph.node:
            if node.domain not in ALLOWED_DOMAINS:
                raise EvaluationFailed(
                    f"the model uses operator {_one_line(node.op_type, 40)!r} from the non-standard domain "
                    f"{_one_line(node.domain, 60)!r}"
                )
        for where, tensor in _tensors_of(graph):
            if tensor.data_location == onnx.TensorProto.EXTERNAL or len(tensor.external_data):
                raise EvaluationFailed(
                    f"the model's {_one_line(where, 80)} points at external data, which is not allowed"
                )
            size = _tensor_bytes(tensor.dims, tensor.data_type)
            total += size
            if size > memory_bytes:
                raise EvaluationFailed(
                    f"the model's {_one_line(where, 80)} declares {_mb(size)}, over the memory limit of {_mb(memory_bytes)}"
                )
            if total > memory_bytes:
                raise EvaluationFailed(
                    f"the model's weights declare more than the memory limit of {_mb(memory_bytes)} in total"
                )
        for value in (*graph.input, *graph.output, *graph.value_info):
            size = _declared_bytes(value)
            if size > memory_bytes:
                raise EvaluationFailed(
                    f"the model declares tensor {_one_line(value.name, 60)!r} of {_mb(size)}, "
                    f"over the memory limit of {_mb(memory_bytes)}"
                )
    try:
        onnx.checker.check_model(model_bytes, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        raise EvaluationFailed(f"the ONNX model is invalid: {_one_line(exc, 160)}") from exc
    except Exception as exc:  # the checker raises plain RuntimeErrors too
        raise EvaluationFailed(f"the ONNX model is invalid: {_one_line(exc, 160)}") from exc
    _check_io(model, input_name, output_name, n_features, n_rows)
    output = next(o for o in model.graph.output if o.name == output_name)
    return ModelInfo(input_name, output_name, int(output.type.tensor_type.elem_type), opsets)


def _supported_opsets() -> dict[str, int]:
    """The newest opset of each standard domain in the installed onnx release (onnxruntime, built
    against the same release, refuses newer ones with a message of its internals)."""
    import onnx

    supported = {"ai.onnx": int(onnx.defs.onnx_opset_version())}
    with contextlib.suppress(AttributeError, IndexError, TypeError, ValueError):  # older onnx
        supported["ai.onnx.ml"] = int(onnx.helper.VERSION_TABLE[-1][3])
    return supported


def _check_io(model: Any, input_name: str, output_name: str, n_features: int, n_rows: int) -> None:
    initializers = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    names = [i.name for i in inputs]
    if names != [input_name]:
        shown = ", ".join(repr(_one_line(n, 40)) for n in names[:5]) or "none"
        raise EvaluationFailed(
            f"the model's inputs are {shown} but the spec expects one input named {input_name!r}"
        )
    value = inputs[0]
    if not value.type.HasField("tensor_type"):
        raise EvaluationFailed(f"the model input {input_name!r} is not a tensor")
    tensor_type = value.type.tensor_type
    if tensor_type.elem_type != _FLOAT:
        raise EvaluationFailed(f"the model input {input_name!r} must be float32 (the features are float32)")
    if tensor_type.HasField("shape"):
        dims = tensor_type.shape.dim
        if len(dims) != 2:
            raise EvaluationFailed(
                f"the model input {input_name!r} must be [rows, features], it has {len(dims)} dimensions"
            )
        if dims[1].HasField("dim_value") and dims[1].dim_value != n_features:
            raise EvaluationFailed(
                f"the model expects {dims[1].dim_value} features but the test set has {n_features}"
            )
        if dims[0].HasField("dim_value") and dims[0].dim_value != n_rows:
            raise EvaluationFailed(
                f"the model input {input_name!r} has a fixed batch size of {dims[0].dim_value}: make the row dimension dynamic"
            )
    outputs = [o.name for o in model.graph.output]
    if output_name not in outputs:
        shown = ", ".join(repr(_one_line(n, 40)) for n in outputs[:5])
        raise EvaluationFailed(f"the model has no output named {output_name!r} (it has {shown})")
    output = next(o for o in model.graph.output if o.name == output_name)
    if not output.type.HasField("tensor_type"):
        raise EvaluationFailed(
            f"the model output {output_name!r} is not a tensor (for scikit-learn classifiers export with zipmap disabled)"
        )


def session_options() -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return options


def _is_memory_error(text: str) -> bool:
    lowered = text.lower()
    return any(
        k in lowered
        for k in ("bad_alloc", "failed to allocate", "out of memory", "memoryerror", "allocate memory")
    )


def run_onnx(model_bytes: bytes, info: ModelInfo, features: np.ndarray, memory_mb: int) -> np.ndarray:
    """Runs an inspected model on float32 features; returns its checked output."""
    import onnxruntime as ort

    try:
        session = ort.InferenceSession(model_bytes, session_options(), providers=["CPUExecutionProvider"])
    except MemoryError as exc:
        raise EvaluationFailed(
            f"the model needs more than the memory limit of {memory_mb} MB to load"
        ) from exc
    except Exception as exc:
        text = _strip_ort(str(exc))
        if _is_memory_error(text):
            raise EvaluationFailed(
                f"the model needs more than the memory limit of {memory_mb} MB to load"
            ) from exc
        raise EvaluationFailed(f"onnxruntime cannot load the model: {text}") from exc
    try:
        (output,) = session.run([info.output_name], {info.input_name: features})
    except MemoryError as exc:
        raise EvaluationFailed(f"the model ran out of memory (limit {memory_mb} MB)") from exc
    except Exception as exc:
        text = _strip_ort(str(exc))
        if _is_memory_error(text):
            raise EvaluationFailed(f"the model ran out of memory (limit {memory_mb} MB)") from exc
        raise EvaluationFailed(f"the model failed to run: {text}") from exc
    return check_output(output, features.shape[0], "the model's output")


_ORT_SOURCE = re.compile(r"(?:^|(?<=\s))/?[\w./-]+\.(?:cc|h|cpp|hpp|c):\d+ ")


def _strip_ort(text: str) -> str:
    """onnxruntime messages without their internals: '[ONNXRuntimeError] : 1 : FAIL : x.cc:12
    void ns::f(const std::map<a, b>&) const msg' -> 'msg' (the source path and the C++ signature,
    whatever parentheses and templates it holds)."""
    text = " ".join(text.split())
    text = re.sub(r"^\[ONNXRuntimeError\] : \d+ : [A-Z_]+ : ", "", text)
    while (found := _ORT_SOURCE.search(text)) is not None:
        end = found.end()
        paren = text.find("(", end)
        if paren < 0:
            text = text[: found.start()] + text[end:]
            continue
        depth, i = 0, paren
        while i < len(text):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
            if depth == 0:
                break
        rest = text[i:]
        if rest.startswith(" const"):
            rest = rest[len(" const") :]
        text = text[: found.start()] + rest.lstrip()
    future = re.search(r"Opset (\d+) is under development", text)
    if future:
        return f"the model imports opset {future.group(1)}, newer than this scorer's onnxruntime supports"
    return _one_line(text, 160)


def check_output(output: Any, n_rows: int, what: str) -> np.ndarray:
    """One row per input row, a numeric or string dtype (never objects), no NaN or infinity."""
    if not isinstance(output, np.ndarray):
        raise EvaluationFailed(f"{what} is not a tensor")
    if output.ndim == 0 or output.shape[0] != n_rows:
        got = output.shape[0] if output.ndim else 0
        raise EvaluationFailed(f"{what} has {got} rows for {n_rows} input rows")
    if output.ndim > 2:
        raise EvaluationFailed(
            f"{what} has shape {output.shape}: expected one value or one row of values per input row"
        )
    kind = output.dtype.kind
    if kind == "O":
        if not all(isinstance(v, str) for v in output.reshape(-1).tolist()):
            raise EvaluationFailed(f"{what} holds values that are neither numbers nor strings")
        output = output.astype(str)
        kind = "U"
    if kind not in "biufU":
        raise EvaluationFailed(f"{what} has the unsupported type {output.dtype}")
    if kind == "f" and not np.all(np.isfinite(output)):
        raise EvaluationFailed(f"{what} contains NaN or infinite values")
    return np.ascontiguousarray(output)


# ---------------------------------------------------------------- prediction files


def _is_parquet(data: bytes) -> bool:
    return len(data) >= 12 and data[:4] == PARQUET_MAGIC and data[-4:] == PARQUET_MAGIC


def _check_text(data: bytes, what: str, error: type[Exception]) -> None:
    """A CSV file is text: not compressed, no NUL bytes, UTF-8 (judged on its beginning; pyarrow
    checks every text value it reads)."""
    for magic, name in _COMPRESSED:
        if data.startswith(magic):
            raise error(
                f"{what} is {name}-compressed: send it uncompressed (or as the one file of a .zip bundle)"
            )
    head = data[:_TEXT_SNIFF]
    if b"\0" in head:
        raise error(f"{what} is binary, not CSV text")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if len(data) <= _TEXT_SNIFF or exc.start < len(head) - 3:  # not a character cut at the end
            raise error(f"{what} is not UTF-8 text (byte {exc.start + 1} is not valid UTF-8)") from None


def _table_from_bytes(
    data: bytes,
    fmt: str | None,
    max_rows: int,
    what: str,
    error: type[Exception],
    text_columns: tuple[str, ...] = (),
) -> Any:
    """`text_columns`: CSV columns read as text whatever they look like (ids matched as text)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if fmt is None:
        fmt = "parquet" if _is_parquet(data) else "csv"
    try:
        if fmt == "parquet":
            if not _is_parquet(data):
                raise error(f"{what} is not a Parquet file")
            reader = pq.ParquetFile(pa.BufferReader(data))
            rows = reader.metadata.num_rows
            if rows > max_rows:
                raise error(f"{what} has {rows} rows, over the limit of {max_rows}")
            table = reader.read(use_threads=False)
        else:
            if _is_parquet(data) or data.startswith(ZIP_MAGIC):
                raise error(f"{what} is not a CSV file")
            _check_text(data, what, error)
            table = pacsv.read_csv(
                pa.BufferReader(data),
                read_options=pacsv.ReadOptions(use_threads=False, block_size=1 << 22),
                parse_options=pacsv.ParseOptions(newlines_in_values=False),
                convert_options=pacsv.ConvertOptions(
                    strings_can_be_null=True, column_types=dict.fromkeys(text_columns, pa.string())
                ),
            )
        names = table.column_names  # decoded as UTF-8 here, from a Parquet file's bytes too
    except UnicodeDecodeError:
        raise error(f"{what} is not UTF-8 text (in its column names)") from None
    except (pa.ArrowException, OSError, ValueError) as exc:
        if "utf8" in str(exc).lower().replace("-", ""):
            raise error(f"{what} is not UTF-8 text") from exc
        raise error(f"{what} cannot be read: {_one_line(exc, 160)}") from exc
    if table.num_rows > max_rows:
        raise error(f"{what} has {table.num_rows} rows, over the limit of {max_rows}")
    if len(set(names)) != len(names):
        raise error(f"{what} has two columns with the same name")
    return table


def _column_values(table: Any, name: str, what: str, error: type[Exception], numeric: bool) -> np.ndarray:
    import pyarrow as pa

    column = table.column(name)
    if column.null_count:
        raise error(f"{what} has {column.null_count} empty or NaN values in column {_one_line(name, 60)!r}")
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
        values = np.asarray(column.to_numpy())
        if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
            raise error(f"{what} has NaN or infinite values in column {_one_line(name, 60)!r}")
        return values
    if numeric:
        raise error(f"{what} has non-numeric values in column {_one_line(name, 60)!r}")
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return np.asarray(column.to_pylist(), dtype=str)
    raise error(f"{what} has values of unsupported type {kind} in column {_one_line(name, 60)!r}")


def read_predictions(
    data: bytes,
    fmt: str,
    *,
    column: str,
    probabilities: bool,
    n_rows: int,
    max_rows: int,
    id_column: str | None = None,
    ids: np.ndarray | None = None,
) -> tuple[np.ndarray, list[str]]:
    """An untrusted prediction file -> (array, column names), one row per test row in the test
    features' order.

    Labels or values: the spec's `column`, returned as [N]. Probabilities: every `prob_<class>`
    column in file order, returned as [N, C] float64 with their names. With `id_column` (the
    test features' `ids`, in their order), rows are matched by id, in any order; an id missing,
    repeated or not in the test set is refused. Without, rows are taken in file order.
    """
    what = "the predictions file"
    by_id = id_column is not None and ids is not None
    text_ids = (id_column,) if by_id and ids is not None and ids.dtype.kind == "U" else ()
    table = _table_from_bytes(
        data, fmt, max_rows, what, EvaluationFailed, text_columns=tuple(c for c in text_ids if c)
    )
    names: list[str] = table.column_names
    order = None
    if by_id:
        assert id_column is not None and ids is not None
        order = _match_ids(table, id_column, ids, what)
    elif table.num_rows != n_rows:
        raise EvaluationFailed(f"{what} has {table.num_rows} rows but the test set has {n_rows}")
    if probabilities:
        prob = [n for n in names if n.startswith("prob_") and len(n) > 5]
        if not prob:
            shown = ", ".join(repr(_one_line(n, 30)) for n in names[:6])
            raise EvaluationFailed(
                f"{what} needs one probability column prob_<class> per class (it has {shown})"
            )
        if len(prob) > MAX_PROB_COLUMNS:
            raise EvaluationFailed(f"{what} has more than {MAX_PROB_COLUMNS} probability columns")
        matrix = np.empty((n_rows, len(prob)), dtype=np.float64)
        for j, name in enumerate(prob):
            values = _column_values(table, name, what, EvaluationFailed, numeric=True)
            if order is None:
                matrix[:, j] = values
            else:
                matrix[order, j] = values
        return matrix, prob
    if column not in names:
        shown = ", ".join(repr(_one_line(n, 30)) for n in names[:6])
        raise EvaluationFailed(f"{what} has no column {column!r} (it has {shown})")
    values = check_output(_column_values(table, column, what, EvaluationFailed, numeric=False), n_rows, what)
    if order is not None:
        ordered = np.empty_like(values)
        ordered[order] = values
        values = ordered
    return values, [column]


def _show_id(value: Any) -> str:
    return str(value) if isinstance(value, int | np.integer) else repr(_one_line(value, 40))


def _more(count: int, what: str) -> str:
    return f" (and {count - 1} more {what})" if count > 1 else ""


def _match_ids(table: Any, id_column: str, ids: np.ndarray, what: str) -> np.ndarray:
    """For each row of the file, the test row its id names (a permutation of the test rows)."""
    names = table.column_names
    if id_column not in names:
        shown = ", ".join(repr(_one_line(n, 30)) for n in names[:6])
        raise EvaluationFailed(f"{what} has no id column {id_column!r} (it has {shown})")
    got = _id_values(table, id_column, what, integers=ids.dtype.kind == "i")
    order = np.argsort(ids, kind="stable")
    ranked = ids[order]
    pos = np.minimum(np.searchsorted(ranked, got), len(ranked) - 1)
    unknown = ranked[pos] != got
    if unknown.any():
        raise EvaluationFailed(
            f"{what}'s id {_show_id(got[unknown][0].item())} is not in the test set"
            f"{_more(int(unknown.sum()), 'unknown ids')}"
        )
    rows = order[pos]
    counts = np.bincount(rows, minlength=len(ids))
    repeated = np.flatnonzero(counts > 1)
    if repeated.size:
        first = repeated[0]
        raise EvaluationFailed(
            f"{what}'s id {_show_id(ids[first].item())} appears {int(counts[first])} times"
            f"{_more(int(repeated.size), 'repeated ids')}"
        )
    missing = np.flatnonzero(counts == 0)
    if missing.size:
        raise EvaluationFailed(
            f"{what} has no prediction for id {_show_id(ids[missing[0]].item())}"
            f"{_more(int(missing.size), 'ids without one')}"
        )
    return np.asarray(rows)


def _id_values(table: Any, name: str, what: str, *, integers: bool) -> np.ndarray:
    """The id column as int64 (the test set's ids are integers) or as text."""
    import pyarrow as pa

    column = table.column(name)
    if column.null_count:
        raise EvaluationFailed(f"{what} has {column.null_count} empty ids in column {_one_line(name, 60)!r}")
    kind = column.type
    if not integers:
        return np.asarray([str(v) for v in column.to_pylist()], dtype=str)
    if pa.types.is_integer(kind):
        values = column.to_pylist()
    elif pa.types.is_floating(kind):
        values = column.to_pylist()
        bad = next((v for v in values if not (np.isfinite(v) and float(v).is_integer())), None)
        if bad is not None:
            raise EvaluationFailed(f"{what}'s id {_one_line(bad, 40)} is not an integer id")
        values = [int(v) for v in values]
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        values = column.to_pylist()
        bad = next((v for v in values if not _INTEGER.match(v.strip())), None)
        if bad is not None:
            raise EvaluationFailed(
                f"{what}'s id {_one_line(bad, 40)!r} is not an integer id (the test set's ids are integers)"
            )
        values = [int(v) for v in values]
    else:
        raise EvaluationFailed(f"{what}'s ids are of type {kind}, not integers")
    try:
        return np.asarray(values, dtype=np.int64)
    except OverflowError:
        raise EvaluationFailed(f"{what} has an id too large to be one of the test set's") from None


# ---------------------------------------------------------------- trusted tables (features, labels)


def read_table(path: Path, max_rows: int, what: str) -> Any:
    """A trusted CSV or Parquet file (told apart by Parquet's magic bytes) as a pyarrow Table."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read the {what} file {path}: {exc.strerror or exc}") from exc
    return _table_from_bytes(data, None, max_rows, f"the {what} file {path.name}", InvalidInput)


def features_matrix(table: Any, exclude: tuple[str | None, ...]) -> np.ndarray:
    """The feature columns (all but `exclude`), in file order, as float32 [rows, features]."""
    names = [n for n in table.column_names if n not in exclude]
    if not names:
        raise InvalidInput("the test features file has no feature columns")
    if table.num_rows == 0:
        raise InvalidInput("the test features file has no rows")
    out = np.empty((table.num_rows, len(names)), dtype=np.float32)
    for j, name in enumerate(names):
        import pyarrow as pa

        column = table.column(name)
        if not (
            pa.types.is_integer(column.type)
            or pa.types.is_floating(column.type)
            or pa.types.is_boolean(column.type)
        ):
            raise InvalidInput(f"the test features column {name!r} is not numeric")
        out[:, j] = column.to_numpy(zero_copy_only=False)  # missing values become NaN
    return out


def feature_ids(table: Any, column: str) -> np.ndarray:
    """The test features' id column (trusted, still checked): int64 or text, each id once."""
    values = _column_values(table, column, "the test features file", InvalidInput, numeric=False)
    if values.dtype.kind == "b":
        raise InvalidInput(f"the test features' id column {column!r} holds booleans, not ids")
    if values.dtype.kind == "f":
        if not np.all(np.floor(values) == values):
            raise InvalidInput(f"the test features' id column {column!r} holds fractions, not ids")
        values = values.astype(np.int64)
    elif values.dtype.kind == "u":
        if values.size and values.max() > np.iinfo(np.int64).max:
            raise InvalidInput(f"the test features' id column {column!r} holds ids too large")
        values = values.astype(np.int64)
    elif values.dtype.kind == "i":
        values = values.astype(np.int64)
    unique, counts = np.unique(values, return_counts=True)
    if (counts > 1).any():
        raise InvalidInput(
            f"the test features' id column {column!r} holds id {_show_id(unique[counts > 1][0].item())} "
            f"more than once"
        )
    return np.ascontiguousarray(values)


def label_values(table: Any, column: str, what: str = "labels") -> np.ndarray:
    if column not in table.column_names:
        raise InvalidInput(f"the {what} file has no column {column!r}")
    return _column_values(table, column, f"the {what} file", InvalidInput, numeric=False)
