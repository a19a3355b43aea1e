"""Untrusted submissions scored in the sandbox: good ones correctly, hostile ones refused with a
clear reason, and the same warm sandbox keeps serving afterwards."""

from __future__ import annotations

import json
import os
import socket
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
from sklearn.metrics import accuracy_score, roc_auc_score

from proofwork.domain.errors import EvaluationFailed
from proofwork.domain.evalspec import parse_spec, to_fixed
from proofwork.evaluation.runner import EvalResult, Evaluator
from proofwork.evaluation.sandbox import JobLimits, Sandbox, detect_isolation
from proofwork.evaluation.submissions import session_options

sys.path.insert(0, str(Path(__file__).parent))
import evaluation_fixtures as F

ROOT = Path(__file__).resolve().parents[2]


class Task:
    def __init__(self, root: Path) -> None:
        x_train, y_train, x_test, y_test = F.digits()
        self.root = root
        self.x, self.y = x_test, y_test
        self.clf, self.model_bytes = F.logistic_digits(x_train, y_train)
        self.features = F.write_table(root / "features.parquet", F.features_columns(x_test))
        self.features_csv = F.write_table(root / "features.csv", F.features_columns(x_test))
        self.labels = F.write_table(root / "labels.csv", {"label": y_test})
        self.model = self.file("model.onnx", self.model_bytes)
        session = ort.InferenceSession(
            self.model_bytes, session_options(), providers=["CPUExecutionProvider"]
        )
        self.labels_out, self.proba_out = session.run(["label", "probabilities"], {"input": x_test})
        self.spec = parse_spec(F.spec_text())

    def file(self, name: str, data: bytes) -> Path:
        path = self.root / name
        path.write_bytes(data)
        return path


@pytest.fixture(scope="module")
def task(tmp_path_factory: pytest.TempPathFactory) -> Task:
    return Task(tmp_path_factory.mktemp("task"))


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


@pytest.fixture(scope="module")
def evaluator(sandbox: Sandbox) -> Evaluator:
    return Evaluator(sandbox)


def expected_accuracy(task: Task) -> int:
    return to_fixed(float(accuracy_score(task.y, task.labels_out)))


def assert_still_serves(sandbox: Sandbox, task: Task) -> None:
    """A fresh evaluator (no prediction cache) on the same sandbox scores the good model exactly."""
    result = Evaluator(sandbox).evaluate(task.spec, task.model, task.features, task.labels)
    assert result.ok and result.score == expected_accuracy(task), result


# ---------------------------------------------------------------- good submissions


def test_bubblewrap_is_used_when_it_works(sandbox: Sandbox) -> None:
    assert detect_isolation() == "bubblewrap"
    assert sandbox.isolation == "bubblewrap" and sandbox.running
    # each job in namespaces of its own, as uid 65534, under a process limit that binds
    assert sandbox.confined and sandbox.job_uid == 65534 and sandbox.process_limit


def test_good_model_scores_exactly_what_onnxruntime_computes(evaluator: Evaluator, task: Task) -> None:
    predictions = evaluator.predict(task.spec, task.model, task.features)
    assert np.array_equal(predictions, task.labels_out)
    result = evaluator.evaluate(task.spec, task.model, task.features, task.labels)
    assert result == EvalResult(ok=True, score=expected_accuracy(task), reason=None, passed=True)
    assert result.to_json() == {"ok": True, "score": expected_accuracy(task), "reason": None}
    # scikit-learn's own predictions agree with the exported model
    assert abs(result.score - to_fixed(float(accuracy_score(task.y, task.clf.predict(task.x))))) <= 2000


def test_csv_features_and_a_zip_bundle_score_the_same(evaluator: Evaluator, task: Task) -> None:
    bundle = task.file("bundle.zip", F.zip_bytes({"model.onnx": task.model_bytes}))
    result = evaluator.evaluate(task.spec, bundle, task.features_csv, task.labels)
    assert result.ok and result.score == expected_accuracy(task)


def test_probabilities_and_rows_subset(evaluator: Evaluator, task: Task) -> None:
    spec = parse_spec(
        F.spec_text(metric="roc_auc", submission="{kind: onnx, input: input, output: probabilities}")
    )
    rows = list(range(0, task.y.size, 2))
    result = evaluator.evaluate(spec, task.model, task.features, task.labels, rows=rows)
    proba = task.proba_out.astype(np.float64)
    proba /= proba.sum(axis=1, keepdims=True)
    expected = roc_auc_score(task.y[rows], proba[rows], multi_class="ovr", average="macro")
    assert result.ok and result.score == to_fixed(float(expected))


def test_public_and_private_rows_run_the_submission_once(sandbox: Sandbox, task: Task) -> None:
    from proofwork.domain.evalspec import split_rows

    public, private = split_rows(task.y.size, b"s" * 32, 30)
    evaluator = Evaluator(sandbox)
    before = sandbox.jobs
    scores = [
        evaluator.evaluate(task.spec, task.model, task.features, task.labels, rows=r).score
        for r in (public, private)
    ]
    assert sandbox.jobs == before + 1
    assert scores == [
        to_fixed(float(accuracy_score(task.y[r], task.labels_out[r]))) for r in (public, private)
    ]
    loop = task.file("loop-twice.onnx", F.loop_model())
    failures = [
        evaluator.evaluate(task.spec, loop, task.features, task.labels, rows=r) for r in (public, private)
    ]
    assert sandbox.jobs == before + 2  # a failing submission is not run again either
    assert failures[0] == failures[1] and not failures[0].ok


def test_threshold_decides_passed(evaluator: Evaluator, task: Task) -> None:
    strict = parse_spec(F.spec_text(threshold=0.999))
    result = evaluator.evaluate(strict, task.model, task.features, task.labels)
    assert result.ok and result.passed is False


def test_prediction_files_csv_and_parquet(evaluator: Evaluator, task: Task) -> None:
    spec = parse_spec(F.spec_text(submission="{kind: predictions, format: csv}"))
    csv = F.write_table(task.root / "preds.csv", {"id": np.arange(task.y.size), "prediction": task.y})
    assert evaluator.evaluate(spec, csv, task.features, task.labels).score == 1_000_000
    spec_pq = parse_spec(F.spec_text(submission="{kind: predictions, format: parquet, column: digit}"))
    wrong = task.y.copy()
    wrong[:10] = (wrong[:10] + 1) % 10
    pq_file = F.write_table(task.root / "preds.parquet", {"digit": wrong})
    result = evaluator.evaluate(spec_pq, pq_file, task.features, task.labels)
    assert result.ok and result.score == to_fixed(1 - 10 / task.y.size)


def test_probability_prediction_files_are_matched_to_classes(evaluator: Evaluator, task: Task) -> None:
    spec = parse_spec(
        F.spec_text(metric="log_loss", threshold=0.5, submission="{kind: predictions, format: csv}")
    )
    proba = task.clf.predict_proba(task.x)
    columns = {f"prob_{c}": proba[:, c] for c in reversed(range(10))}  # any column order
    path = F.write_table(task.root / "proba.csv", columns)
    result = evaluator.evaluate(spec, path, task.features, task.labels)
    from sklearn.metrics import log_loss

    reread = np.loadtxt(path, delimiter=",", skiprows=1)[:, ::-1]
    assert result.ok and result.score == to_fixed(
        float(log_loss(task.y, reread / reread.sum(1, keepdims=True)))
    )
    assert evaluator.predict(spec, path, task.features).shape == (task.y.size, 10)
    missing = F.write_table(task.root / "proba9.csv", {f"prob_{c}": proba[:, c] for c in range(9)})
    bad = evaluator.evaluate(spec, missing, task.features, task.labels)
    assert not bad.ok and "do not match the classes" in (bad.reason or "")


# ---------------------------------------------------------------- hostile submissions

HOSTILE_MODELS = {
    "random bytes": (lambda t: np.random.default_rng(1).bytes(5000), "not a valid ONNX model"),
    "truncated": (lambda t: t.model_bytes[: len(t.model_bytes) // 2], "not a valid ONNX model"),
    "empty": (lambda t: b"", "empty"),
    "wrong input name": (lambda t: F.argmax_model(input_name="X"), "spec expects one input named 'input'"),
    "wrong feature count": (
        lambda t: F.argmax_model(n_features=30),
        "expects 30 features but the test set has 64",
    ),
    "wrong input type": (lambda t: F.double_input_model(), "must be float32"),
    "wrong input rank": (lambda t: F.rank3_input_model(), "must be [rows, features], it has 3 dimensions"),
    "one output row": (lambda t: F.one_row_model(), "has 1 rows for 597 input rows"),
    "NaN outputs": (lambda t: F.nan_output_model(), "NaN"),
    "4 GB initializer": (lambda t: F.huge_initializer_model(), "over the memory limit of 256.0 MB"),
    "4 GB ConstantOfShape": (lambda t: F.constant_of_shape_model(), "memory"),
    "Expand to 4 GB at run time": (lambda t: F.expand_model(), "ran out of memory (limit 256 MB)"),
    "Loop with a huge trip count": (lambda t: F.loop_model(), "CPU-time limit of 2 s"),
    "external data at /etc/passwd": (lambda t: F.external_data_model("/etc/passwd"), "external data"),
    "external data by traversal": (lambda t: F.external_data_model("../../../etc/passwd"), "external data"),
    "custom domain op": (lambda t: F.custom_domain_model(), "non-standard operator domain 'com.evil'"),
    "labels outside the classes": (lambda t: F.argmax_model(), "not one of the 10 classes"),
    "zip bomb over the size limit": (
        lambda t: F.zip_bomb(64 << 20),
        "declares 64.0 MB, over the limit of 16.0 MB",
    ),
    "zip bomb under the size limit": (lambda t: F.zip_bomb(8 << 20), "compression ratio"),
    "zip with a lying size": (lambda t: F.lying_zip(t.model_bytes, 1000), "damaged"),
    "zip with two files": (lambda t: F.zip_bytes({"model.onnx": t.model_bytes, "x.onnx": b"1"}), "holds 2"),
    "zip with path traversal": (
        lambda t: F.zip_bytes({"../model.onnx": t.model_bytes}),
        "not a plain file name",
    ),
    "zip holding no model": (lambda t: F.zip_bytes({"model.txt": t.model_bytes}), "must hold a .onnx file"),
    "a prediction file as a model": (lambda t: b"prediction\n1\n2\n", "not a valid ONNX model"),
}


@pytest.mark.parametrize("case", list(HOSTILE_MODELS))
def test_hostile_models_fail_cleanly_and_the_sandbox_keeps_serving(
    case: str, sandbox: Sandbox, evaluator: Evaluator, task: Task
) -> None:
    build, expected = HOSTILE_MODELS[case]
    path = task.file(f"hostile-{list(HOSTILE_MODELS).index(case)}.onnx", build(task))
    result = evaluator.evaluate(task.spec, path, task.features, task.labels)
    assert not result.ok and result.score is None and result.passed is None
    assert expected in (result.reason or ""), result.reason
    assert "\n" not in (result.reason or "")
    if case != "labels outside the classes":  # those are well-formed predictions, refused when scored
        with pytest.raises(EvaluationFailed) as err:
            evaluator.predict(task.spec, path, task.features)
        assert expected in str(err.value)
    assert_still_serves(sandbox, task)


def _csv(rows: list[str]) -> bytes:
    return ("\n".join(rows) + "\n").encode()


HOSTILE_PREDICTIONS = {
    "wrong column": (lambda t: _csv(["guess", *map(str, t.y)]), "no column 'prediction'"),
    "too few rows": (
        lambda t: _csv(["prediction", *map(str, t.y[:-1])]),
        "has 596 rows but the test set has 597",
    ),
    "too many rows": (lambda t: _csv(["prediction", *map(str, t.y), "1"]), "has 598 rows"),
    "empty values": (
        lambda t: _csv(["id,prediction", "0,", *(f"{i},{v}" for i, v in enumerate(t.y[1:]))]),
        "empty",
    ),
    "NaN values": (lambda t: _csv(["prediction", "nan", *map(str, t.y[1:])]), "NaN"),
    "unknown class": (
        lambda t: _csv(["prediction", "cat", *map(str, t.y[1:])]),
        "'cat', which is not one of",
    ),
    "fractional labels": (lambda t: _csv(["prediction", "0.5", *map(str, t.y[1:])]), "fractional"),
    "duplicate columns": (lambda t: _csv(["prediction,prediction", *(f"{v},{v}" for v in t.y)]), "same name"),
    "binary garbage": (lambda t: bytes(range(256)) * 10, "prediction"),
    "parquet sent as csv": (lambda t: (t.root / "preds.parquet").read_bytes(), "not a CSV file"),
    "zip bomb": (lambda t: F.zip_bomb(8 << 20, name="predictions.csv"), "compression ratio"),
}


@pytest.mark.parametrize("case", list(HOSTILE_PREDICTIONS))
def test_hostile_prediction_files(case: str, sandbox: Sandbox, evaluator: Evaluator, task: Task) -> None:
    spec = parse_spec(F.spec_text(submission="{kind: predictions, format: csv}"))
    if not (task.root / "preds.parquet").exists():
        F.write_table(task.root / "preds.parquet", {"prediction": task.y})
    build, expected = HOSTILE_PREDICTIONS[case]
    path = task.file(f"preds-{list(HOSTILE_PREDICTIONS).index(case)}.csv", build(task))
    result = evaluator.evaluate(spec, path, task.features, task.labels)
    assert not result.ok and expected in (result.reason or ""), result.reason
    assert_still_serves(sandbox, task)


def test_regression_prediction_files_and_their_nans(evaluator: Evaluator, task: Task) -> None:
    spec = parse_spec(
        F.spec_text(
            task="regression", metric="rmse", threshold=1.0, submission="{kind: predictions, format: parquet}"
        )
    )
    targets = F.write_table(task.root / "targets.csv", {"label": task.y.astype(np.float64) / 2})
    guess = task.y.astype(np.float64) / 2 + 0.5
    good = F.write_table(task.root / "guess.parquet", {"prediction": guess})
    assert evaluator.evaluate(spec, good, task.features, targets).score == 500_000
    guess[3] = np.nan
    nan = F.write_table(task.root / "guess-nan.parquet", {"prediction": guess})
    result = evaluator.evaluate(spec, nan, task.features, targets)
    assert not result.ok and "NaN" in (result.reason or "")
    text = F.write_table(task.root / "guess-text.parquet", {"prediction": np.array(["a"] * task.y.size)})
    result = evaluator.evaluate(spec, text, task.features, targets)
    assert not result.ok and "must be numbers" in (result.reason or "")


def test_binary_random_forest_roc_auc(evaluator: Evaluator, task: Task) -> None:
    x, y, forest, model_bytes = F.forest_breast_cancer()
    features = F.write_table(task.root / "cancer.parquet", {f"f{i}": x[:, i] for i in range(x.shape[1])})
    labels = F.write_table(task.root / "cancer-labels.csv", {"label": y})
    spec = parse_spec(
        F.spec_text(metric="roc_auc", submission="{kind: onnx, input: input, output: probabilities}")
    )
    result = evaluator.evaluate(spec, task.file("forest.onnx", model_bytes), features, labels)
    session = ort.InferenceSession(model_bytes, session_options(), providers=["CPUExecutionProvider"])
    (proba,) = session.run(["probabilities"], {"input": x})
    assert result.ok and result.score == to_fixed(float(roc_auc_score(y, proba[:, 1].astype(np.float64))))
    assert abs(result.score - to_fixed(float(roc_auc_score(y, forest.predict_proba(x)[:, 1])))) <= 1000
    wrong = evaluator.evaluate(task.spec, task.model, features, labels)  # a 64-pixel model on 30 features
    assert not wrong.ok and "expects 64 features but the test set has 30" in (wrong.reason or "")


def test_submission_over_the_size_limit_is_refused_before_the_sandbox(
    sandbox: Sandbox, evaluator: Evaluator, task: Task
) -> None:
    before = sandbox.jobs
    big = task.file("big.onnx", b"\0" * ((16 << 20) + 1))
    result = evaluator.evaluate(task.spec, big, task.features, task.labels)
    assert not result.ok and "over the limit of 16 MB" in (result.reason or "")
    assert sandbox.jobs == before


# ---------------------------------------------------------------- isolation and robustness


def test_the_sandbox_blocks_network_and_disk(sandbox: Sandbox, task: Task) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        escape = ROOT / "sandbox-escape.txt"
        report = sandbox.check_isolation(
            port=port,
            connect=[("1.1.1.1", 53)],
            read=[
                "/etc/passwd",
                str(ROOT / "pyproject.toml"),
                str(task.labels),
                str(Path.home() / ".bashrc"),
            ],
            write=[str(escape), str(ROOT / "src" / "proofwork" / "escape.py"), "/tmp/scratch"],
        )
        # the host side of the same checks works, so the sandbox is what blocks them
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
    assert all(v.startswith("blocked") for v in report["network"].values()), report["network"]
    assert all(v.startswith("blocked") for v in report["read"].values()), report["read"]
    assert Path("/etc/passwd").read_bytes() and task.labels.read_bytes()
    writes = report["write"]
    # the write never reaches the host; it may "succeed" only into the sandbox's own tmpfs, which is
    # where a checkout under /tmp (as CI's clone may be) has its mount point
    assert not escape.exists()
    assert writes[str(escape)].startswith("blocked") or str(ROOT).startswith("/tmp/")
    assert writes[str(ROOT / "src" / "proofwork" / "escape.py")].startswith("blocked")
    assert writes["/tmp/scratch"] == "written"  # the sandbox's own size-capped tmpfs
    assert report["uid"] == 65534 and int(report["cap_eff"], 16) == 0
    assert report["ptrace_worker"].startswith("blocked")  # a compromised job cannot take over the worker
    assert sandbox.seccomp
    assert "etc" not in report["root"] and "home" not in report["root"]
    # own pid namespace: the init process, the worker and this job's process only
    assert len(report["processes"]) <= 3


def test_crashes_timeouts_floods_and_strays_do_not_take_the_sandbox_down(
    sandbox: Sandbox, task: Task
) -> None:
    quick = JobLimits(memory_mb=128, cpu_seconds=5, wall_seconds=1, max_output_bytes=1 << 20)
    crashed = sandbox.run("selftest", {"action": "crash"}, {}, quick)
    assert not crashed.ok and "SIGSEGV" in (crashed.reason or "")
    slept = sandbox.run("selftest", {"action": "sleep"}, {}, quick)
    assert not slept.ok and "wall-clock limit of 1 s" in (slept.reason or "")
    flooded = sandbox.run("selftest", {"action": "flood"}, {}, quick)
    assert not flooded.ok and "larger than 1.0 MB" in (flooded.reason or "")
    orphaned = sandbox.run("selftest", {"action": "orphan"}, {}, quick)
    assert orphaned.ok and orphaned.array is not None and orphaned.array.tolist() == [0, 1, 2]
    report = sandbox.check_isolation()
    assert len(report["processes"]) <= 3, "a process left behind by a job survived it"
    assert_still_serves(sandbox, task)


def test_a_dead_worker_is_restarted_by_the_next_job(sandbox: Sandbox, task: Task) -> None:
    """The worker dies mid-job (killed from outside: a job cannot reach it): the job is a
    transient failure, and the next job starts a new worker."""
    import threading

    sandbox.start()
    starts = sandbox.starts
    worker = sandbox._state["worker"]
    threading.Timer(0.5, worker.proc.kill).start()
    killed = sandbox.run("selftest", {"action": "sleep"}, {}, JobLimits(wall_seconds=10))
    assert not killed.ok and killed.transient and "sandbox worker stopped" in (killed.reason or "")
    assert not sandbox.running
    assert_still_serves(sandbox, task)
    assert sandbox.starts == starts + 1 and sandbox.running


def test_unknown_job_kinds_are_refused(sandbox: Sandbox) -> None:
    result = sandbox.run("shell", {}, {}, JobLimits())
    assert not result.ok and "refused the job" in (result.reason or "")


@pytest.mark.parametrize("isolation", ["unshare", "rlimits"])
def test_fallback_isolations_score_the_same(isolation: str, task: Task) -> None:
    with Sandbox(isolation) as sb:
        assert sb.isolation == isolation
        result = Evaluator(sb).evaluate(task.spec, task.model, task.features, task.labels)
        assert result.ok and result.score == expected_accuracy(task)
        bad = Evaluator(sb).evaluate(
            task.spec, task.file("loop.onnx", F.loop_model()), task.features, task.labels
        )
        assert not bad.ok and "CPU-time limit" in (bad.reason or "")
        if isolation == "unshare":
            with socket.socket() as server:
                server.bind(("127.0.0.1", 0))
                server.listen()
                report = sb.check_isolation(port=server.getsockname()[1])
            assert all(v.startswith("blocked") for v in report["network"].values())


def test_work_directories_of_killed_processes_are_removed(tmp_path: Path) -> None:
    import os
    import subprocess

    from proofwork.evaluation.sandbox import private_tempdir

    finished = subprocess.Popen(["true"])
    finished.wait()  # reaped: its pid belongs to no process now
    stale = tmp_path / f"proofwork-sandbox-{finished.pid}-abc"
    stale.mkdir()
    mine = tmp_path / f"proofwork-sandbox-{os.getpid()}-old"
    mine.mkdir()
    fresh = private_tempdir("sandbox", tmp_path)
    assert fresh.is_dir() and fresh.name.startswith(f"proofwork-sandbox-{os.getpid()}-")
    assert not stale.exists() and mine.exists()


def test_unknown_isolation_is_refused() -> None:
    from proofwork.domain.errors import ProofworkError

    with pytest.raises(ProofworkError, match="unknown sandbox isolation 'docker'"):
        Sandbox("docker")


def test_one_shot_runs_a_single_job(task: Task) -> None:
    result = Sandbox.one_shot("selftest", {"action": "none"}, {}, JobLimits())
    assert result.ok and result.array is not None and result.array.tolist() == [0, 1, 2]


def test_ranking_through_the_sandbox(evaluator: Evaluator, task: Task) -> None:
    """Ranking reads its groups from the test features; the group column is not fed to the model."""
    from sklearn.metrics import ndcg_score

    groups = np.arange(task.y.size) // 10
    features = F.write_table(task.root / "ranked.parquet", {"query": groups, **F.features_columns(task.x)})
    relevance = (task.y == 3).astype(np.int64)
    labels = F.write_table(task.root / "relevance.csv", {"label": relevance})
    spec = parse_spec(
        F.spec_text(
            task="ranking",
            metric="ndcg",
            threshold=0.5,
            extra_data="  group_column: query\n",
            submission="{kind: onnx, input: input, output: score}",
        )
    )
    result = evaluator.evaluate(spec, task.file("ranker.onnx", _class_score_model(task, 3)), features, labels)
    scores = task.proba_out[:, 3].astype(np.float64)
    per_group = []
    for g in np.unique(groups):
        members = groups == g
        if members.sum() > 1:
            per_group.append(float(ndcg_score(relevance[members][None, :], scores[members][None, :])))
        else:
            per_group.append(float(relevance[members][0] > 0))
    assert result.ok and result.score == to_fixed(sum(per_group) / len(per_group))


def _class_score_model(task: Task, column: int) -> bytes:
    """The logistic model with an extra output 'score': the probability of one class."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load_from_string(task.model_bytes)
    model.graph.initializer.extend([helper.make_tensor("col", TensorProto.INT64, [], [column])])
    model.graph.node.extend([helper.make_node("Gather", ["probabilities", "col"], ["score"], axis=1)])
    model.graph.output.extend([helper.make_tensor_value_info("score", TensorProto.FLOAT, [None])])
    return model.SerializeToString()


# ---------------------------------------------------------------- an attacker with code execution in the job
#
# What a submission could do one onnxruntime bug away from code execution: each exploit runs in
# the job's process, under every restriction a submission's job has (the worker's test-only
# "attack" hook), and reports what it managed.

ATTACK_LIMITS = JobLimits(memory_mb=256, cpu_seconds=10, wall_seconds=20, max_output_bytes=1 << 20)


def attack(sandbox: Sandbox, code: str) -> dict[str, Any]:
    result = sandbox.run("selftest", {"action": "attack", "code": textwrap.dedent(code)}, {}, ATTACK_LIMITS)
    assert result.ok, result.reason
    return dict(result.meta)


_FILL = """
import errno, os

def fill(directory, mib):
    # writes `mib` one-MiB files into `directory`: how many went in, and why it stopped
    written, why = 0, "all written"
    for i in range(mib):
        try:
            with open(os.path.join(directory, f"fill-{i}"), "wb") as f:
                f.write(b"x" * (1 << 20))
            written += 1
        except OSError as exc:
            why = errno.errorcode.get(exc.errno or 0, str(exc))
            break
    return [written, why]
"""


def test_a_job_can_write_nowhere_but_its_own_small_noexec_tmp(sandbox: Sandbox) -> None:
    report = attack(
        sandbox,
        _FILL
        + """
import mmap
report["fill"] = {d: fill(d, 4) for d in ("/dev/shm", "/dev", "/", "/jobs", "/jobs/in", "/usr/lib", "/proc")}
report["tmp"] = fill("/tmp", 150)
report["tmp_noexec"] = bool(os.statvfs("/tmp").f_flag & os.ST_NOEXEC)
with open("/tmp/fill-0", "rb") as f:
    try:
        mmap.mmap(f.fileno(), 4096, prot=mmap.PROT_READ | mmap.PROT_EXEC)
        report["tmp_mmap_exec"] = "mapped"
    except OSError as exc:
        report["tmp_mmap_exec"] = errno.errorcode.get(exc.errno or 0, str(exc))
""",
    )
    assert all(written == 0 for written, _ in report["fill"].values()), report["fill"]
    written, why = report["tmp"]
    assert 0 < written <= 64 and why == "ENOSPC", report["tmp"]  # a size-capped /tmp, not the host's memory
    assert report["tmp_noexec"] and report["tmp_mmap_exec"] == "EPERM"


def test_a_job_has_no_privilege_left(sandbox: Sandbox) -> None:
    report = attack(
        sandbox,
        """
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)

def call(fn, *args):
    return "done" if fn(*args) == 0 else errno.errorcode.get(ctypes.get_errno(), "?")

with open("/proc/self/status") as f:
    status = dict(line.split(":", 1) for line in f if ":" in line)
report["caps"] = [status[k].strip() for k in ("CapEff", "CapPrm", "CapInh", "CapAmb")]
report["uid"] = os.getuid()
report["user_namespace"] = call(libc.unshare, 0x10000000)
report["mount_namespace"] = call(libc.unshare, 0x00020000)
report["mount"] = call(libc.mount, b"none", b"/tmp", b"tmpfs", 0, None)
report["setuid_root"] = call(libc.setuid, 0)
report["clone_user_namespace"] = call(libc.syscall, 56, 0x10000000 | 17, 0, 0, 0, 0)
try:
    os.execv(sys.executable, [sys.executable, "-c", "pass"])
except OSError as exc:
    report["exec"] = errno.errorcode.get(exc.errno or 0, str(exc))
""",
    )
    assert report["caps"] == ["0000000000000000"] * 4 and report["uid"] == 65534, report
    for what in ("user_namespace", "mount_namespace", "mount", "setuid_root", "clone_user_namespace", "exec"):
        assert report[what] == "EPERM", (what, report)


_KERNEL_SETTINGS = """
import errno, os
def open_for_write(path):
    try:
        os.close(os.open(path, os.O_WRONLY))  # opened, nothing written
        return "opened for writing"
    except OSError as exc:
        return errno.errorcode.get(exc.errno or 0, str(exc))
report["settings"] = {
    p: open_for_write(p)
    for p in ("/proc/sys/kernel/core_pattern", "/proc/sys/kernel/printk_ratelimit", "/proc/sys/vm/drop_caches")
}
"""


def test_a_job_cannot_change_kernel_settings(sandbox: Sandbox) -> None:
    """A user mapped to the host's root may write /proc/sys whatever its capabilities (the kernel
    checks the file owner's uid): kernel.core_pattern would run a program of its choice as root."""
    settings = attack(sandbox, _KERNEL_SETTINGS)["settings"]
    assert all(v in ("EACCES", "EROFS") for v in settings.values()), settings


def test_confined_jobs_sharing_the_workers_user(task: Task) -> None:
    """With one user only (a host that is not root; forced here), jobs keep the worker's user
    but not its capabilities, and still cannot see or signal it."""
    with Sandbox("bubblewrap", job_user=False) as sb:
        assert sb.confined and sb.job_uid == 65534
        result = Evaluator(sb).evaluate(task.spec, task.model, task.features, task.labels)
        assert result.ok and result.score == expected_accuracy(task)
        starts = sb.starts
        report = attack(
            sb,
            """
import os, signal
with open("/proc/self/status") as f:
    report["caps"] = [l.split()[1] for l in f if l.startswith(("CapEff", "CapPrm", "CapAmb"))]
report["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
for pid in range(2, 64):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
""",
        )
        assert report["caps"] == ["0000000000000000"] * 3 and report["pids"] == [1], report
        assert sb.running and sb.starts == starts
        # here the job's user is the host's root when the tests run as root: /proc/sys read-only
        settings = attack(sb, _KERNEL_SETTINGS)["settings"]
        assert all(v in ("EACCES", "EROFS") for v in settings.values()), settings
        # the host's root is the sandbox's one user here: the kernel does not enforce RLIMIT_NPROC
        assert sb.process_limit == (os.geteuid() != 0)


def test_nothing_a_job_leaves_reaches_the_next_job(sandbox: Sandbox) -> None:
    plant = """
import ctypes, os
for path in ("/tmp/planted", "/dev/shm/planted", "/dev/planted", "/tmp/dir/planted"):
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write("left for the next job")
    except OSError:
        pass
report["shm"] = ctypes.CDLL(None).shmget(0x5EED, 1 << 20, 0o1666) >= 0  # IPC_CREAT: SysV shared memory
"""
    assert attack(sandbox, plant)["shm"]
    found = attack(
        sandbox,
        """
import ctypes, os
report["found"] = [p for p in ("/tmp/planted", "/dev/shm/planted", "/dev/planted", "/tmp/dir") if os.path.exists(p)]
if ctypes.CDLL(None).shmget(0x5EED, 0, 0) >= 0:
    report["found"].append("SysV shared memory 0x5eed")
report["tmp"] = sorted(os.listdir("/tmp"))
""",
    )
    assert found["found"] == [], found
    assert found["tmp"] == sorted(_tmp_mount_points()), found["tmp"]


def _tmp_mount_points() -> set[str]:
    """What the sandbox shows in /tmp of its own: the top directories of its read-only binds
    (a checkout or a Python installed under /tmp), nothing a job wrote."""
    from proofwork.evaluation.sandbox import _bind_sources

    return {Path(p).relative_to("/tmp").parts[0] for p in _bind_sources() if p.startswith("/tmp/")}


def test_a_job_cannot_signal_the_worker(sandbox: Sandbox, task: Task) -> None:
    sandbox.start()
    starts = sandbox.starts
    report = attack(
        sandbox,
        """
import os, signal
targets = {int(p) for p in os.listdir("/proc") if p.isdigit()} | {os.getppid()} | set(range(1, 64))
sent = []
for pid in sorted(targets - {0, os.getpid()}):
    for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):
        try:
            os.kill(pid, sig)
            sent.append([pid, sig])
        except OSError:
            pass
try:
    os.kill(-1, signal.SIGKILL)
    report["everyone"] = "sent"
except OSError as exc:
    report["everyone"] = exc.strerror
report["sent"] = sent
""",
    )
    # the job survived to report, so did the worker: nothing in reach to signal
    assert report["sent"] == [] and report["everyone"] == "No such process", report
    assert sandbox.running and sandbox.starts == starts
    assert_still_serves(sandbox, task)
    assert sandbox.starts == starts


def test_a_fork_bomb_is_bounded(sandbox: Sandbox, task: Task) -> None:
    report = attack(
        sandbox,
        """
import os, time
forked = 0
for _ in range(300):
    try:
        pid = os.fork()
    except OSError as exc:
        report["stopped"] = exc.strerror
        break
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    forked += 1
report["forked"] = forked
""",
    )
    assert report["forked"] < 64 and report["stopped"] == "Resource temporarily unavailable", report
    assert_still_serves(sandbox, task)
    assert attack(sandbox, "import os\nreport['pids'] = [p for p in os.listdir('/proc') if p.isdigit()]")[
        "pids"
    ] == ["1"], "a process the fork bomb left behind survived its job"


def test_proc_reveals_nothing_of_the_host(sandbox: Sandbox) -> None:
    report = attack(
        sandbox,
        """
import os

def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().replace(b"\\0", b" ").decode(errors="replace")
    except OSError as exc:
        return "blocked: " + exc.strerror

report["pid"] = os.getpid()
report["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
report["cmdline"] = read("/proc/1/cmdline")
report["environ"] = read("/proc/1/environ") + read("/proc/self/environ")
report["mountinfo"] = read("/proc/self/mountinfo")
""",
    )
    assert report["pids"] == [1] and report["pid"] == 1, report["pids"]  # its own pid namespace
    workdir = str(sandbox._state["workdir"])
    host_path = [p for p in os.environ.get("PATH", "").split(":") if p not in ("/usr/bin", "/bin", "")]
    for what in ("cmdline", "environ", "mountinfo"):
        assert workdir not in report[what], (what, report[what])
    assert "bwrap" not in report["cmdline"] and "--ro-bind" not in report["cmdline"], report["cmdline"]
    assert not any(p in report["environ"] for p in host_path), report["environ"]


# ---------------------------------------------------------------- internal errors are not reasons


def _gzip_predictions(t: Task) -> bytes:
    import gzip

    return gzip.compress(_csv(["id,prediction", *(f"{i},{v}" for i, v in enumerate(t.y))]))


def _future_opset_model(t: Task) -> bytes:
    import onnx

    model = onnx.load_from_string(F.argmax_model())
    model.opset_import[0].version = 99
    return model.SerializeToString()


CLEAR_REASONS = {
    "gzip predictions": ("predictions", _gzip_predictions, "gzip-compressed"),
    "predictions that are not UTF-8": (
        "predictions",
        lambda t: _csv(["prediction", *map(str, t.y)]).replace(b"prediction", b"pr\xffdiction"),
        "not UTF-8 text",
    ),
    "a model from a future opset": ("onnx", _future_opset_model, "opset 99 of the domain 'ai.onnx'"),
}


@pytest.mark.parametrize("case", list(CLEAR_REASONS))
def test_internal_errors_become_clear_reasons(case: str, evaluator: Evaluator, task: Task) -> None:
    kind, build, expected = CLEAR_REASONS[case]
    spec = (
        task.spec
        if kind == "onnx"
        else parse_spec(F.spec_text(submission="{kind: predictions, format: csv}"))
    )
    path = task.file(f"unclear-{list(CLEAR_REASONS).index(case)}", build(task))
    result = evaluator.evaluate(spec, path, task.features, task.labels)
    assert not result.ok and expected in (result.reason or ""), result.reason
    _assert_no_internals(result.reason or "")


def _assert_no_internals(reason: str) -> None:
    for leak in ("Error:", "Traceback", "/jobs/", "onnxruntime::", ".h:", ".cc:", "scorer failed"):
        assert leak not in reason, reason


def test_symlinked_submissions(evaluator: Evaluator, task: Task) -> None:
    """A symlink to a model (git-annex, DVC) is scored as the model; one to anything but a
    regular file is refused, and neither leaks a path of the sandbox."""
    link = task.root / "linked-model.onnx"
    link.unlink(missing_ok=True)
    link.symlink_to(task.model)
    result = Evaluator(evaluator.sandbox).evaluate(task.spec, link, task.features, task.labels)
    assert result.ok and result.score == expected_accuracy(task), result
    relative = task.root / "relative-link.onnx"
    relative.unlink(missing_ok=True)
    relative.symlink_to(task.model.name)
    result = Evaluator(evaluator.sandbox).evaluate(task.spec, relative, task.features, task.labels)
    assert result.ok and result.score == expected_accuracy(task), result
    to_dir = task.root / "dir-link.onnx"
    to_dir.unlink(missing_ok=True)
    to_dir.symlink_to(task.root)
    result = evaluator.evaluate(task.spec, to_dir, task.features, task.labels)
    assert not result.ok and "not a regular file" in (result.reason or ""), result.reason
    _assert_no_internals(result.reason or "")


# ---------------------------------------------------------------- predictions matched by id


@pytest.fixture(scope="module")
def id_task(task: Task) -> tuple[Any, Path]:
    ids = 10_000 + np.arange(task.y.size) * 7  # not row numbers
    features = F.write_table(task.root / "features-ids.parquet", {"id": ids, **F.features_columns(task.x)})
    spec = parse_spec(
        F.spec_text(submission="{kind: predictions, format: csv}", extra_data="  id_column: id\n")
    )
    return spec, features


def _id_predictions(task: Task, ids: Any, values: Any, name: str) -> Path:
    return F.write_table(task.root / name, {"id": np.asarray(ids), "prediction": np.asarray(values)})


def test_predictions_are_matched_by_id(evaluator: Evaluator, task: Task, id_task: tuple[Any, Path]) -> None:
    spec, features = id_task
    ids = 10_000 + np.arange(task.y.size) * 7
    order = np.random.default_rng(3).permutation(task.y.size)
    shuffled = _id_predictions(task, ids[order], task.y[order], "shuffled-ids.csv")
    result = evaluator.evaluate(spec, shuffled, features, task.labels)
    assert result.ok and result.score == 1_000_000, result
    wrong = task.y.copy()
    wrong[:5] = (wrong[:5] + 1) % 10
    partly = _id_predictions(task, ids[order], wrong[order], "shuffled-wrong.csv")
    result = evaluator.evaluate(spec, partly, features, task.labels)
    assert result.ok and result.score == to_fixed(1 - 5 / task.y.size), result
    # a model is fed the features in file order, without the id column: nothing to match
    onnx_spec = parse_spec(F.spec_text(extra_data="  id_column: id\n"))
    model = evaluator.evaluate(onnx_spec, task.model, features, task.labels)
    assert model.ok and model.score == expected_accuracy(task)


ID_PROBLEMS = {
    "missing id": (lambda ids, y: (ids[1:], y[1:]), "no prediction for id 10000"),
    "duplicate id": (
        lambda ids, y: (np.r_[ids[:-1], ids[0]], np.r_[y[:-1], y[0]]),
        "id 10000 appears 2 times",
    ),
    "unknown id": (lambda ids, y: (np.r_[ids[:-1], 5], y), "id 5 is not in the test set"),
    "text ids": (lambda ids, y: (np.array([f"row{i}" for i in ids]), y), "'row10000' is not an integer id"),
}


@pytest.mark.parametrize("case", list(ID_PROBLEMS))
def test_ids_that_do_not_match_are_refused(
    case: str, evaluator: Evaluator, task: Task, id_task: tuple[Any, Path]
) -> None:
    spec, features = id_task
    ids = 10_000 + np.arange(task.y.size) * 7
    change, expected = ID_PROBLEMS[case]
    new_ids, values = change(ids, task.y)
    path = _id_predictions(task, new_ids, values, f"bad-ids-{list(ID_PROBLEMS).index(case)}.csv")
    result = evaluator.evaluate(spec, path, features, task.labels)
    assert not result.ok and expected in (result.reason or ""), result.reason


def test_predictions_without_the_id_column_are_refused(
    evaluator: Evaluator, task: Task, id_task: tuple[Any, Path]
) -> None:
    spec, features = id_task
    path = F.write_table(task.root / "no-ids.csv", {"prediction": task.y})
    result = evaluator.evaluate(spec, path, features, task.labels)
    assert not result.ok and "no id column 'id'" in (result.reason or ""), result.reason


# ---------------------------------------------------------------- a submission that stops its sandbox


class _KilledDuringJobs(Sandbox):
    """The worker is killed (SIGKILL, from outside) while it runs a job of the listed kinds: what a
    submission that takes down its sandbox every time looks like to the host."""

    def __init__(self, kinds: tuple[str, ...]) -> None:
        super().__init__()
        self.kinds = kinds
        self.killed = 0

    def _exchange(self, request: dict[str, Any], limits: JobLimits) -> Any:
        if request["kind"] not in self.kinds:
            return super()._exchange(request, limits)
        # on the worker class, not one worker: `_exchange` starts a new worker when it finds the last
        # one dead at send time, and that one must die too
        worker_class = type(self._state["worker"])
        send = worker_class.send

        def send_then_die(worker: Any, message: dict[str, Any]) -> None:
            send(worker, message)
            worker.proc.kill()
            worker.proc.wait()
            self.killed += 1

        worker_class.send = send_then_die
        try:
            return super()._exchange(request, limits)
        finally:
            worker_class.send = send


def test_a_submission_that_stops_the_sandbox_every_time_fails_after_bounded_tries(task: Task) -> None:
    with _KilledDuringJobs(("onnx",)) as sb:
        result = Evaluator(sb).evaluate(task.spec, task.model, task.features, task.labels)
        assert not result.ok and not result.transient, result  # a failing score an oracle signs
        assert sb.killed == 3 and "stopped the sandbox on 3 tries" in (result.reason or ""), result.reason
        assert sb.running  # and the sandbox itself is fine


def test_a_sandbox_that_fails_every_job_is_not_the_submissions_fault(task: Task) -> None:
    with _KilledDuringJobs(("onnx", "selftest")) as sb:
        result = Evaluator(sb).evaluate(task.spec, task.model, task.features, task.labels)
        assert not result.ok and result.transient, result  # the oracle abstains: no score signed


_CHECKOUT_UNDER_TMP = """
import json, sys
from proofwork.evaluation.sandbox import JobLimits, Sandbox

clone = sys.argv[1]
first = '''
import os
clone = %r
report["readable"] = os.path.isfile(clone + "/src/proofwork/evaluation/worker.py")
try:
    open(clone + "/src/planted", "w")
    report["write_src"] = "written"
except OSError as exc:
    report["write_src"] = exc.strerror
try:  # next to the bind: the sandbox's own directory (the job's own when it shares the worker's user)
    os.makedirs(clone + "/scratch")
    report["write_next"] = "written"
except OSError as exc:
    report["write_next"] = exc.strerror
with open("/tmp/planted", "w") as f:
    f.write("x")
report["listing"] = sorted(os.listdir(clone))
''' % clone
again = "import os; report['listing'] = sorted(os.listdir(%r)); report['tmp'] = sorted(os.listdir('/tmp'))" % clone
with Sandbox() as sb:
    limits = JobLimits(memory_mb=256, cpu_seconds=10, wall_seconds=20)
    one = sb.run("selftest", {"action": "attack", "code": first}, {}, limits)
    two = sb.run("selftest", {"action": "attack", "code": again}, {}, limits)
    print(json.dumps([one.ok, one.reason, dict(one.meta), dict(two.meta)]))
"""


def test_a_checkout_under_tmp_is_bound_read_only_into_each_jobs_own_tmp() -> None:
    """Where CI clones: a package under /tmp is bound (read-only) inside every job's own /tmp,
    and what a job writes next to it does not outlive the job."""
    import shutil
    import subprocess
    import tempfile

    clone = Path(tempfile.mkdtemp(prefix="proofwork-test-clone-", dir="/tmp"))
    try:
        shutil.copytree(ROOT / "src", clone / "src", ignore=shutil.ignore_patterns("__pycache__"))
        done = subprocess.run(
            [sys.executable, "-c", _CHECKOUT_UNDER_TMP, str(clone)],
            env={**os.environ, "PYTHONPATH": str(clone / "src"), "PYTHONDONTWRITEBYTECODE": "1"},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        ok, reason, first, again = json.loads(done.stdout.strip().splitlines()[-1])
        assert ok, reason
        assert first["readable"] and first["write_src"] == "Read-only file system", first
        if first["write_next"] == "written":
            assert first["listing"] == ["scratch", "src"], first
        else:
            assert first["write_next"] == "Permission denied" and first["listing"] == ["src"], first
        # the interpreter's own tree is bound as well when it lives under /tmp (a CI clone's .venv)
        own = {
            Path(p).relative_to("/tmp").parts[0] for p in (sys.prefix, ROOT) if Path(p).is_relative_to("/tmp")
        }
        assert again["listing"] == ["src"] and clone.name in again["tmp"], again
        assert set(again["tmp"]) <= {clone.name} | own, again
        assert not (clone / "scratch").exists() and not (clone / "src" / "planted").exists()
    finally:
        shutil.rmtree(clone, ignore_errors=True)


def test_text_ids_are_matched_as_text() -> None:
    """Ids the test features hold as text stay text in a CSV ('007' is not 7), in any row order."""
    from proofwork.evaluation.submissions import read_predictions

    ids = np.array(["007", "a1", "7"])
    data = _csv(["id,prediction", "7,c", "007,a", "a1,b"])
    values, _ = read_predictions(
        data, "csv", column="prediction", probabilities=False, n_rows=3, max_rows=10, id_column="id", ids=ids
    )
    assert values.tolist() == ["a", "b", "c"]
    with pytest.raises(EvaluationFailed, match="no prediction for id '7'"):
        read_predictions(
            _csv(["id,prediction", "007,a", "a1,b"]),
            "csv",
            column="prediction",
            probabilities=False,
            n_rows=3,
            max_rows=10,
            id_column="id",
            ids=ids,
        )
