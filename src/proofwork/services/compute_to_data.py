"""Compute-to-data: a compute licence's holder has their ONNX model scored on a private dataset by the
dataset owner's node, and gets back only a result the owner signed.

The holder signs a `ComputeRequest` (EIP-712, `chain.compute_messages`: licence, task, model CID,
parameters, a nonce and an expiry of at most an hour). The owner's node (`ComputeNode.serve`) checks on
chain that the licence is valid, that the signer holds it, that it is a compute licence on this dataset and
that this node holds the owner's key; it records the request's hash (a replay is refused until it
expires), decrypts the dataset into a private temporary directory, scores the model in the oracles'
sandbox (`evaluation.runner.Evaluator`, the same hostile-input rules) and signs a `ComputeResult`: chain,
licence, asset, dataset manifest, the request's hash, model CID and sha256, metric, the integer score as
the evaluation reports it (`SCORE_SCALE` units) and the number of rows. No row of the data leaves: an
evaluation failure is told only when its message depends on the model and the limits alone
(`domain.compute.public_failure`); a reader's message about the dataset is withheld the same way.
`verify_result` is the holder's check: the result answers their request and is signed by the asset's
owner on chain.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import secrets
import shutil
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from proofwork.domain.addresses import parse_address
from proofwork.domain.assets import AssetKind, AssetManifest
from proofwork.domain.compute import (
    COMPUTE_METRICS,
    EVALUATE,
    MAX_PARAMS_BYTES,
    RECIPES,
    REFUSALS,
    WITHHELD,
    ComputeRefused,
    canonical_params,
    check_params,
    check_window,
    malformed,
    public_failure,
)
from proofwork.domain.errors import InvalidInput, NotFound
from proofwork.domain.evalspec import Limits, parse_spec
from proofwork.domain.jsonsafe import safe_json_loads
from proofwork.services.assets import COMPUTE, asset_key, read_manifest
from proofwork.services.workspace import Signer, Workspace

if TYPE_CHECKING:
    from proofwork.evaluation.sandbox import Sandbox

MiB = 1 << 20
REQUEST_SECONDS = 600  # how long a request the CLI and the SDK sign stays valid
MAX_MODEL_BYTES = Limits().max_submission_mb * MiB
MAX_DATASET_BYTES = 4 << 30
IN_MEMORY_BYTES = 256 * MiB  # a sealed dataset up to this size is decrypted from memory
MAX_WIRE_BYTES = 64 * 1024  # a request or a result as JSON, without model bytes
_HEX32 = 66


# ---------------------------------------------------------------- what travels


def _int(value: Any, what: str, low: int = 0, high: int = 2**256) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value < high:
        raise malformed(f"{what} must be a whole number from {low} to {high - 1}")
    return value


def _str(value: Any, what: str, limit: int = 4096) -> str:
    if not isinstance(value, str) or len(value.encode("utf-8", "replace")) > limit:
        raise malformed(f"{what} must be text of at most {limit} bytes")
    return value


def _bytes(value: Any, what: str, size: int | None = 32) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x") or len(value) > 2 + 2 * 256:
        raise malformed(f"{what} must be 0x-prefixed hex")
    try:
        raw = bytes.fromhex(value[2:])
    except ValueError:
        raise malformed(f"{what} must be 0x-prefixed hex") from None
    if size is not None and len(raw) != size:
        raise malformed(f"{what} must be {size} bytes")
    return raw


@dataclass(frozen=True)
class ComputeRequest:
    chain_id: int
    licensing: str
    licence_id: int
    task: str
    model_cid: str
    params: str  # canonical JSON of the checked parameters (`domain.compute.canonical_params`)
    nonce: bytes
    expires_at: int
    signature: bytes

    def message(self) -> dict[str, Any]:
        return {
            "licenceId": self.licence_id,
            "task": self.task,
            "modelCid": self.model_cid,
            "params": self.params,
            "nonce": self.nonce,
            "expiresAt": self.expires_at,
        }

    def checked_params(self) -> dict[str, Any]:
        try:
            parsed = safe_json_loads(self.params, max_bytes=MAX_PARAMS_BYTES, max_depth=4)
        except InvalidInput as exc:
            raise malformed(f"the parameters are not JSON: {exc}") from None
        params = check_params(self.task, parsed)
        if canonical_params(params) != self.params:
            raise malformed("the parameters are not in canonical form (sorted keys, defaults filled in)")
        return params

    def to_json(self) -> dict[str, Any]:
        return {
            "chain_id": self.chain_id,
            "licensing": self.licensing,
            "licence_id": self.licence_id,
            "task": self.task,
            "model_cid": self.model_cid,
            "params": self.params,
            "nonce": "0x" + self.nonce.hex(),
            "expires_at": self.expires_at,
            "signature": "0x" + self.signature.hex(),
        }

    @classmethod
    def from_json(cls, data: Any) -> ComputeRequest:
        """A request as received: every field checked (ComputeRefused "request_malformed")."""
        if not isinstance(data, dict):
            raise malformed("a compute request is a JSON object")
        fields = {"chain_id", "licensing", "licence_id", "task", "model_cid", "params", "nonce", "expires_at"}
        missing = sorted((fields | {"signature"}) - set(data))
        if missing:
            raise malformed(f"the compute request has no {missing[0]}")
        try:
            licensing = parse_address(_str(data["licensing"], "licensing", 42), "licensing")
        except InvalidInput as exc:
            raise malformed(str(exc)) from None
        return cls(
            _int(data["chain_id"], "chain_id", 1),
            licensing,
            _int(data["licence_id"], "licence_id", 1),
            _str(data["task"], "task", 64),
            _str(data["model_cid"], "model_cid", 256),
            _str(data["params"], "params"),
            _bytes(data["nonce"], "nonce"),
            _int(data["expires_at"], "expires_at", 0, 2**64),
            _bytes(data["signature"], "signature", 65),
        )


@dataclass(frozen=True)
class ComputeResult:
    chain_id: int
    licensing: str
    licence_id: int
    asset_id: int
    dataset: str  # the dataset's manifest CID
    request: bytes  # the EIP-712 hash of the request answered
    task: str
    model: str  # the model scored (evaluate) or trained (a recipe): its CID
    model_sha256: bytes
    metric: str
    score: int  # fixed point, SCORE_SCALE units per metric unit, as the evaluation reports it
    rows: int
    signer: str
    signature: bytes

    def message(self) -> dict[str, Any]:
        return {
            "licenceId": self.licence_id,
            "assetId": self.asset_id,
            "dataset": self.dataset,
            "request": self.request,
            "task": self.task,
            "model": self.model,
            "modelSha256": self.model_sha256,
            "metric": self.metric,
            "score": self.score,
            "rows": self.rows,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "chain_id": self.chain_id,
            "licensing": self.licensing,
            "licence_id": self.licence_id,
            "asset_id": self.asset_id,
            "dataset": self.dataset,
            "request": "0x" + self.request.hex(),
            "task": self.task,
            "model": self.model,
            "model_sha256": "0x" + self.model_sha256.hex(),
            "metric": self.metric,
            "score": self.score,
            "rows": self.rows,
            "signer": self.signer,
            "signature": "0x" + self.signature.hex(),
        }

    @classmethod
    def from_json(cls, data: Any) -> ComputeResult:
        if not isinstance(data, dict):
            raise ComputeRefused("bad_result", "a compute result is a JSON object")
        try:
            return cls(
                _int(data["chain_id"], "chain_id", 1),
                parse_address(_str(data["licensing"], "licensing", 42), "licensing"),
                _int(data["licence_id"], "licence_id", 1),
                _int(data["asset_id"], "asset_id", 1),
                _str(data["dataset"], "dataset", 256),
                _bytes(data["request"], "request"),
                _str(data["task"], "task", 64),
                _str(data["model"], "model", 256),
                _bytes(data["model_sha256"], "model_sha256"),
                _str(data["metric"], "metric", 64),
                _int(data["score"], "score", -(2**255), 2**255),
                _int(data["rows"], "rows"),
                parse_address(_str(data["signer"], "signer", 42), "signer"),
                _bytes(data["signature"], "signature", 65),
            )
        except KeyError as exc:
            raise ComputeRefused("bad_result", f"the compute result has no {exc.args[0]}") from None
        except (ComputeRefused, InvalidInput) as exc:
            raise ComputeRefused("bad_result", f"a malformed compute result: {exc}") from None


# ---------------------------------------------------------------- the holder's side


def read_model(path: Path) -> bytes:
    """A model file, bounded by the evaluation's submission limit."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"no model file {path}")
    size = path.stat().st_size
    if size > MAX_MODEL_BYTES:
        raise InvalidInput(f"the model is {size / MiB:.1f} MB, over the limit of {MAX_MODEL_BYTES // MiB} MB")
    return path.read_bytes()


def make_request(
    ws: Workspace,
    holder: Signer,
    licence_id: int,
    *,
    task: str = EVALUATE,
    model: bytes | None = None,
    params: dict[str, Any],
    seconds: int = REQUEST_SECONDS,
) -> ComputeRequest:
    """The holder's signed request (the model, when given, is added to this data directory's store)."""
    from proofwork.chain import compute_messages as msg

    checked = check_params(task, params)
    if (task == EVALUATE) != (model is not None):
        raise malformed("an evaluation sends a model; a training recipe sends none")
    model_cid = ws.store.add_bytes(model) if model is not None else ""
    request = ComputeRequest(
        ws.chain_id,
        ws.licensing.address,
        licence_id,
        task,
        model_cid,
        canonical_params(checked),
        secrets.token_bytes(32),
        ws.chain.now() + seconds,
        b"",
    )
    signature = msg.sign(holder.key, request.chain_id, request.licensing, "ComputeRequest", request.message())
    return ComputeRequest(**{**request.__dict__, "signature": signature})


def verify_result(ws: Workspace, request: ComputeRequest, result: ComputeResult) -> str:
    """The holder's check of a result: it answers this request (chain, contract, licence, hash, task,
    model, metric) and is signed by the asset's owner now on chain. Returns the owner's address."""
    from proofwork.chain import compute_messages as msg

    asked = msg.message_hash(request.chain_id, request.licensing, "ComputeRequest", request.message())
    expected = (request.chain_id, request.licensing, request.licence_id, asked, request.task)
    got = (result.chain_id, result.licensing, result.licence_id, result.request, result.task)
    if got != expected:
        raise ComputeRefused("bad_result", "the result answers another request")
    if result.metric not in COMPUTE_METRICS:  # text the owner chose, shown to the holder
        raise ComputeRefused(
            "bad_result", f"the result names no metric of the evaluation: {result.metric!r:.40}"
        )
    params = request.checked_params()
    if request.task == EVALUATE and (result.model != request.model_cid or result.metric != params["metric"]):
        raise ComputeRefused("bad_result", "the result is for another model or metric than the request's")
    lic = ws.licensing.licence(result.licence_id)
    if lic.asset_id != result.asset_id:
        raise ComputeRefused("bad_result", f"licence {result.licence_id} is not on asset {result.asset_id}")
    record = ws.asset_registry.asset(result.asset_id)
    if record.manifest != result.dataset:
        raise ComputeRefused("bad_result", "the result names another manifest than the asset's")
    signer = msg.signer(
        result.chain_id, result.licensing, "ComputeResult", result.message(), result.signature
    )
    if signer is None or signer.lower() != record.owner.lower() or signer.lower() != result.signer.lower():
        raise ComputeRefused(
            "bad_result", f"the result is not signed by the owner of asset {result.asset_id} ({record.owner})"
        )
    return record.owner


# ---------------------------------------------------------------- the owner's node


def _spec(params: dict[str, Any], manifest_cid: str) -> Any:
    """The evaluation spec the sandbox scores with: the request's metric, label column and model names."""
    doc = {
        "version": 1,
        "name": "compute-to-data",
        "task": COMPUTE_METRICS[params["metric"]],
        "metric": params["metric"],
        "threshold": 0,
        "data": {
            "train": manifest_cid,
            "test_features": manifest_cid,
            "label_column": params["label_column"],
            **({"id_column": params["id_column"]} if "id_column" in params else {}),
        },
        "submission": {"kind": "onnx", "input": params["input"], "output": params["output"]},
    }
    try:
        return parse_spec(json.dumps(doc))
    except InvalidInput as exc:
        raise malformed(f"the evaluation cannot be set up: {exc}") from None


class ComputeNode:
    """The dataset owner's side: serves compute requests through one warm sandbox (started on first use).

    `turn`: what a server holds to use the workspace's chain in turn with its other requests (the API's
    workspace lock). The checks on chain and the request's record are made holding it; the run (decrypting
    into a private directory, the sandbox, up to its wall-clock limit, twice for a recipe) is not, so one
    licence holder's computation never stalls the node's other answers. Runs take turns among themselves.
    """

    def __init__(
        self,
        ws: Workspace,
        sandbox: Sandbox | None = None,
        *,
        turn: AbstractContextManager[Any] | None = None,
    ) -> None:
        self.ws = ws
        self._sandbox = sandbox
        self._own = sandbox is None
        self._turn = turn if turn is not None else contextlib.nullcontext()
        self._runs = threading.Lock()

    def sandbox(self) -> Sandbox:
        if self._sandbox is None:
            from proofwork.evaluation.sandbox import Sandbox

            self._sandbox = Sandbox(debug=self.ws.settings.sandbox_debug).start()
        return self._sandbox

    def close(self) -> None:
        if self._own and self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    def __enter__(self) -> ComputeNode:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- checks ------------------------------------------------------------------------------------

    def check(self, request: ComputeRequest) -> tuple[Any, Any, Signer, bytes, dict[str, Any], int]:
        """The request's checks, on chain: (licence, asset record, owner's signer, request hash, params,
        chain time)."""
        from proofwork.chain import compute_messages as msg

        ws = self.ws
        if request.chain_id != ws.chain_id or request.licensing.lower() != ws.licensing.address.lower():
            raise ComputeRefused(
                "wrong_chain",
                f"the request is signed for chain {request.chain_id} and Licensing {request.licensing}; this node "
                f"serves chain {ws.chain_id} and Licensing {ws.licensing.address}",
            )
        params = request.checked_params()
        now = ws.chain.now()
        check_window(request.expires_at, now)
        try:
            digest = msg.message_hash(
                request.chain_id, request.licensing, "ComputeRequest", request.message()
            )
        except ValueError:
            raise malformed("the request's fields do not form a ComputeRequest") from None
        signer = msg.signer(
            request.chain_id, request.licensing, "ComputeRequest", request.message(), request.signature
        )
        if signer is None:
            raise ComputeRefused("bad_signature", "the request's signature does not recover to an address")
        try:
            lic = ws.licensing.licence(request.licence_id)
        except NotFound:
            raise ComputeRefused("licence_not_found", f"no licence {request.licence_id}") from None
        if not lic.holder or lic.holder.lower() != signer.lower():
            raise ComputeRefused(
                "not_licence_holder", f"licence {lic.licence_id} is not held by the request's signer {signer}"
            )
        # the licence records its offer's kind and asset when bought (an offer never changes either)
        if lic.kind != COMPUTE:
            raise ComputeRefused(
                "download_only", f"licence {lic.licence_id} is a download licence: it gives no computation"
            )
        if lic.revoked:
            raise ComputeRefused("licence_revoked", f"licence {lic.licence_id} was revoked")
        if not lic.valid:
            raise ComputeRefused("licence_expired", f"licence {lic.licence_id} expired at {lic.expires_at}")
        record = ws.asset_registry.asset(lic.asset_id)
        if record.kind != AssetKind.DATASET:
            raise ComputeRefused("not_a_dataset", f"asset {record.asset_id} is a model, not a dataset")
        try:
            owner = ws.signer(record.owner)
        except NotFound:
            raise ComputeRefused(
                "not_asset_owner",
                f"this node holds no key of {record.owner}, the owner of asset {record.asset_id}",
            ) from None
        return lic, record, owner, digest, params, now

    def _remember(self, digest: bytes, expires_at: int, now: int) -> None:
        """Records a served request until it expires (O_EXCL: two processes cannot both serve it)."""
        folder = self.ws.data_dir / "compute-requests"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        for old in list(folder.glob("*.json"))[:1000]:
            with contextlib.suppress(OSError, ValueError, KeyError):
                if int(json.loads(old.read_text())["expires_at"]) < now:
                    old.unlink()
        try:
            fd = os.open(folder / f"{digest.hex()}.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise ComputeRefused("request_replayed", "this signed request was served before") from None
        with os.fdopen(fd, "w") as f:
            json.dump({"expires_at": expires_at}, f)

    # --- serving -----------------------------------------------------------------------------------

    def serve(self, request: ComputeRequest, model: bytes | None = None) -> ComputeResult:
        """Checks, decrypts, evaluates, signs. `model`: the model's bytes when the store lacks them."""
        from proofwork.chain import compute_messages as msg

        with self._turn:
            lic, record, owner, digest, params, now = self.check(request)
            if request.task == EVALUATE:
                model_bytes = self._model(request.model_cid, model)
            elif request.model_cid or model is not None:
                raise malformed("a training recipe takes no model")
            self._remember(digest, request.expires_at, now)
        manifest = read_manifest(self.ws, record.manifest)  # the store and key files: safe across threads
        with self._runs, self._plaintext(manifest, record.manifest, params) as plain:
            if request.task == EVALUATE:
                score, rows = self._evaluate(plain, _spec(params, record.manifest), params, model_bytes)
                model_cid, metric = request.model_cid, params["metric"]
            else:
                model_bytes = self._train(plain, request.task, params)
                model_cid, metric = self.ws.store.add_bytes(model_bytes), "accuracy"
                # the trained model scored on the rows it learnt from: a check that it runs, and a hint
                checked = {**params, "metric": metric, "input": "input", "output": "label"}
                score, rows = self._evaluate(plain, _spec(checked, record.manifest), checked, model_bytes)
        result = ComputeResult(
            request.chain_id,
            request.licensing,
            lic.licence_id,
            record.asset_id,
            record.manifest,
            digest,
            request.task,
            model_cid,
            hashlib.sha256(model_bytes).digest(),
            metric,
            score,
            rows,
            owner.address,
            b"",
        )
        signature = msg.sign(owner.key, result.chain_id, result.licensing, "ComputeResult", result.message())
        return ComputeResult(**{**result.__dict__, "signature": signature})

    def _model(self, cid: str, model: bytes | None) -> bytes:
        store = self.ws.store
        if model is not None:
            if len(model) > MAX_MODEL_BYTES:
                raise ComputeRefused(
                    "model_refused", f"the model is over the limit of {MAX_MODEL_BYTES // MiB} MB"
                )
            if store.add_bytes(model) != cid:
                raise ComputeRefused(
                    "model_mismatch", "the model's bytes do not hash to the request's model CID"
                )
            return model
        try:
            return store.read_bytes(cid, MAX_MODEL_BYTES)
        except NotFound:
            raise ComputeRefused(
                "model_missing", f"this node's store has no model {cid}: send its bytes"
            ) from None
        except InvalidInput as exc:  # over the limit, or not a CID
            raise ComputeRefused("model_refused", f"the model cannot be read: {exc}") from None

    @contextlib.contextmanager
    def _sealed(self, cid: str, size: int, workdir: Path) -> Iterator[BinaryIO]:
        """The encrypted file as a stream: from memory when small, else through a file of the workdir."""
        if size <= IN_MEMORY_BYTES:
            yield io.BytesIO(self.ws.store.read_bytes(cid, IN_MEMORY_BYTES + (1 << 20)))
            return
        path = self.ws.store.get(cid, workdir / "sealed", max_bytes=MAX_DATASET_BYTES)
        try:
            with path.open("rb") as f:
                yield f
        finally:
            path.unlink(missing_ok=True)

    @contextlib.contextmanager
    def _plaintext(
        self, manifest: AssetManifest, manifest_cid: str, params: dict[str, Any]
    ) -> Iterator[Path]:
        """The dataset's file decrypted into a private temporary directory, removed afterwards."""
        from proofwork.evaluation.sandbox import private_tempdir
        from proofwork.keys.asset_keys import decrypt_stream
        from proofwork.storage.store import write_atomically

        wanted = params.get("file")
        files = [f for f in manifest.files if wanted is None or f.name == wanted]
        if len(files) != 1:
            names = ", ".join(f.name for f in manifest.files[:20])
            raise ComputeRefused(
                "dataset_mismatch", f"name the dataset's file to compute on (`file`): one of {names}"
            )
        entry = files[0]
        workdir = private_tempdir("compute")
        try:
            plain = workdir / "data"
            if entry.encrypted:
                try:
                    key = asset_key(self.ws, manifest_cid)
                except NotFound:
                    raise ComputeRefused(
                        "dataset_key_missing", "this node does not hold the dataset's file key"
                    ) from None
                with self._sealed(entry.cid, entry.size, workdir) as source:
                    write_atomically(plain, decrypt_stream(key, source))
            else:
                self.ws.store.get(entry.cid, plain, max_bytes=MAX_DATASET_BYTES)
            yield plain
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _evaluate(self, plain: Path, spec: Any, params: dict[str, Any], model: bytes) -> tuple[int, int]:
        """(score, rows) of the model on the plaintext dataset, through the oracles' evaluator."""
        from proofwork.evaluation.runner import Evaluator

        model_path = plain.with_name("model.onnx")
        model_path.write_bytes(model)
        evaluator = Evaluator(self.sandbox(), cache_predictions=False)
        try:
            try:
                result = evaluator.evaluate(spec, model_path, plain, plain)
                rows = evaluator.count_rows(spec, plain)
            except InvalidInput as exc:
                raise _dataset_refusal(str(exc), params) from None
        finally:
            evaluator.close()
            model_path.unlink(missing_ok=True)
        if not result.ok or result.score is None:
            if result.transient:
                raise ComputeRefused("compute_unavailable", "the sandbox failed (not the model): try again")
            raise ComputeRefused("model_refused", f"model refused: {public_failure(result.reason)}")
        return int(result.score), rows

    def _train(self, plain: Path, task: str, params: dict[str, Any]) -> bytes:
        """The recipe fitted on the plaintext dataset in the sandbox: the ONNX model's bytes."""
        from proofwork.evaluation import submissions as subs
        from proofwork.evaluation.sandbox import JobLimits

        limits = Limits()
        label, id_column = params["label_column"], params.get("id_column")
        try:
            table = subs.read_table(plain, limits.max_rows, "dataset")
            labels = subs.label_values(table, label, "dataset")
            features = subs.features_matrix(table, (id_column, label))
        except InvalidInput as exc:
            raise _dataset_refusal(str(exc), params) from None
        if labels.dtype.kind == "f":
            raise ComputeRefused(
                "dataset_mismatch", f"the label column {label!r} holds fractions: the recipes are classifiers"
            )
        np_save(plain.with_name("features.npy"), features)
        np_save(plain.with_name("labels.npy"), labels)
        del table, features, labels
        result = self.sandbox().run(
            "train",
            {"recipe": task, "hyper": {k: v for k, v in params.items() if k in RECIPES[task]}},
            {"features.npy": plain.with_name("features.npy"), "labels.npy": plain.with_name("labels.npy")},
            JobLimits(
                memory_mb=limits.memory_mb,
                cpu_seconds=limits.cpu_seconds,
                wall_seconds=limits.wall_seconds,
                max_output_bytes=MAX_MODEL_BYTES,
            ),
        )
        if not result.ok or result.array is None:
            if result.transient:
                raise ComputeRefused("compute_unavailable", "the sandbox failed: try again")
            told = public_failure(result.reason)
            if told == WITHHELD:
                told = "the recipe failed on the private data (the message is withheld: it could show values of the data)"
            raise ComputeRefused("training_failed", f"training failed: {told}")
        return bytes(result.array.tobytes())


def np_save(path: Path, array: Any) -> None:
    import numpy as np

    with path.open("wb") as f:
        np.save(f, array, allow_pickle=False)


def _dataset_refusal(message: str, params: dict[str, Any]) -> ComputeRefused:
    """A dataset reader's complaint, withheld unless it is about a missing column (a name, no value)."""
    if " has no column " in message or " has no feature columns" in message:
        return ComputeRefused("dataset_mismatch", message.replace(" labels file data ", " dataset "))
    return ComputeRefused(
        "dataset_mismatch",
        f"the dataset cannot be evaluated with label column {params['label_column']!r} "
        "(the reader's message is withheld: it could show values of the data)",
    )


def encode_model(model: bytes) -> str:
    return base64.b64encode(model).decode()


def decode_model(text: Any, limit: int) -> bytes:
    if not isinstance(text, str) or len(text) > (limit * 4) // 3 + 4:
        raise ComputeRefused("model_refused", f"the model sent is over the limit of {limit} bytes")
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise malformed("the model is not base64") from None


# ---------------------------------------------------------------- the whole round trip


def compute(
    ws: Workspace,
    holder: Signer,
    licence_id: int,
    *,
    params: dict[str, Any],
    model: bytes | None = None,
    task: str = EVALUATE,
    node_url: str | None = None,
    node: ComputeNode | None = None,
) -> tuple[ComputeRequest, ComputeResult, bytes | None]:
    """Signs a request, has the owner's node serve it (at `node_url`, else here: this data directory is
    the owner's node) and verifies the result before returning it, with a recipe's trained model (its
    bytes checked against the signed CID and sha256)."""
    request = make_request(ws, holder, licence_id, task=task, model=model, params=params)
    if node_url is not None:
        from proofwork.network.compute_node import NodeRefused, post_compute

        body: dict[str, Any] = {"request": request.to_json()}
        if model is not None:
            body["model"] = encode_model(model)
        try:
            answer = post_compute(node_url, body)
        except NodeRefused as exc:
            if exc.code in REFUSALS:
                raise ComputeRefused(exc.code, str(exc)) from None
            raise
        result = ComputeResult.from_json(answer.get("result") if isinstance(answer, dict) else None)
    elif node is not None:
        result = node.serve(request, model)
    else:
        with ComputeNode(ws) as own:
            result = own.serve(request, model)
    verify_result(ws, request, result)
    if task == EVALUATE:
        return request, result, None
    if node_url is not None:
        from proofwork.network.compute_node import get_artifact

        trained = get_artifact(node_url, result.model, MAX_MODEL_BYTES)
    else:
        trained = ws.store.read_bytes(result.model, MAX_MODEL_BYTES)
    if hashlib.sha256(trained).digest() != result.model_sha256 or ws.store.add_bytes(trained) != result.model:
        raise ComputeRefused("bad_result", "the trained model's bytes do not match the signed result")
    return request, result, trained
