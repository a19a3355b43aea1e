"""Compute-to-data requests: parameters bounded to the project's metrics and the fixed recipes, the
validity window, the signed message (chain, contract, every field), and what a failure may say."""

from __future__ import annotations

import json
import os

import pytest
from eth_account import Account
from hypothesis import given
from hypothesis import strategies as st

from proofwork.chain import compute_messages as msg
from proofwork.domain.compute import (
    MAX_REQUEST_SECONDS,
    WITHHELD,
    ComputeRefused,
    canonical_params,
    check_params,
    check_window,
    parse_recipe_param,
    public_failure,
)
from proofwork.services.compute_to_data import ComputeRequest, ComputeResult

LICENSING = "0x" + "11" * 20


def reason(call: object, *args: object) -> str:
    with pytest.raises(ComputeRefused) as refused:
        call(*args)  # type: ignore[operator]
    assert "\n" not in str(refused.value)
    return refused.value.reason


def test_evaluation_parameters_are_the_projects_metrics_and_bounded_names() -> None:
    params = check_params("evaluate", {"metric": "macro_f1", "label_column": "y"})
    assert params == {"metric": "macro_f1", "label_column": "y", "input": "input", "output": "output"}
    assert check_params("evaluate", params) == params  # idempotent: what the node re-checks
    assert reason(check_params, "evaluate", {"metric": "ndcg", "label_column": "y"}) == "request_malformed"
    assert reason(check_params, "evaluate", {"metric": "accuracy"}) == "request_malformed"
    assert (
        reason(check_params, "evaluate", {"metric": "accuracy", "label_column": "a\nb"})
        == "request_malformed"
    )
    assert reason(check_params, "evaluate", {"metric": "accuracy", "label_column": "y", "rows": [1]}) == (
        "request_malformed"
    )
    assert reason(check_params, "evaluate", {"metric": "accuracy", "label_column": "y", "file": "../x"}) == (
        "request_malformed"
    )
    assert reason(check_params, "sql", {"label_column": "y"}) == "request_malformed"
    assert reason(check_params, "evaluate", ["metric"]) == "request_malformed"


def test_recipes_take_only_their_parameters_within_bounds() -> None:
    done = check_params("logistic_regression", {"label_column": "y", "C": 2, "max_iter": 50.0})
    assert done == {"label_column": "y", "C": 2.0, "max_iter": 50, "fit_intercept": True}
    gb = check_params("gradient_boosting", {"label_column": "y"})
    assert gb["n_estimators"] == 100 and gb["max_depth"] == 3
    for bad in ({"C": 0}, {"C": float("nan")}, {"max_iter": 1.5}, {"fit_intercept": 1}, {"penalty": "l1"}):
        assert (
            reason(check_params, "logistic_regression", {"label_column": "y", **bad}) == "request_malformed"
        )
    assert (
        reason(check_params, "gradient_boosting", {"label_column": "y", "max_depth": 9})
        == "request_malformed"
    )
    assert reason(check_params, "gradient_boosting", {"label_column": "y", "n_estimators": True}) == (
        "request_malformed"
    )
    assert parse_recipe_param("C=0.5") == ("C", 0.5) and parse_recipe_param("fit_intercept=false") == (
        "fit_intercept",
        False,
    )
    assert reason(parse_recipe_param, "C") == "request_malformed"


def test_the_validity_window_is_in_the_future_and_at_most_an_hour() -> None:
    check_window(1_000 + MAX_REQUEST_SECONDS, 1_000)
    assert reason(check_window, 1_000, 1_000) == "request_expired"
    assert reason(check_window, 1_001 + MAX_REQUEST_SECONDS, 1_000) == "request_expired"


def _request(key: bytes, **changes: object) -> ComputeRequest:
    params = canonical_params(check_params("evaluate", {"metric": "accuracy", "label_column": "y"}))
    fields = {
        "chain_id": 1337,
        "licensing": LICENSING,
        "licence_id": 3,
        "task": "evaluate",
        "model_cid": "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
        "params": params,
        "nonce": os.urandom(32),
        "expires_at": 10_000,
        "signature": b"",
    }
    unsigned = ComputeRequest(**fields)  # type: ignore[arg-type]
    signature = msg.sign(key, 1337, LICENSING, "ComputeRequest", unsigned.message())
    return ComputeRequest(**{**fields, "signature": signature, **changes})  # type: ignore[arg-type]


def test_the_signature_binds_chain_contract_and_every_field() -> None:
    key = os.urandom(32)
    holder = Account.from_key(key).address
    request = _request(key)
    again = ComputeRequest.from_json(json.loads(json.dumps(request.to_json())))
    assert again == request
    assert msg.signer(1337, LICENSING, "ComputeRequest", again.message(), again.signature) == holder
    assert msg.signer(1338, LICENSING, "ComputeRequest", again.message(), again.signature) != holder
    assert msg.signer(1337, "0x" + "22" * 20, "ComputeRequest", again.message(), again.signature) != holder
    for change in ({"licence_id": 4}, {"expires_at": 10_001}, {"model_cid": "bafkreiother"}, {"task": "x"}):
        moved = ComputeRequest(**{**request.__dict__, **change})
        assert msg.signer(1337, LICENSING, "ComputeRequest", moved.message(), moved.signature) != holder
    assert msg.signer(1337, LICENSING, "ComputeRequest", request.message(), b"\x00" * 65) is None
    assert (
        msg.signer(1337, LICENSING, "ComputeRequest", {**request.message(), "nonce": b"x"}, request.signature)
        is None
    )
    not_canonical = ComputeRequest(
        **{**request.__dict__, "params": '{"label_column":"y","metric":"accuracy"}'}
    )
    assert reason(not_canonical.checked_params) == "request_malformed"


@given(
    st.dictionaries(
        st.text(max_size=12), st.one_of(st.integers(), st.text(max_size=8), st.none()), max_size=6
    )
)
def test_any_json_object_is_a_request_or_a_one_line_refusal(data: dict[str, object]) -> None:
    try:
        ComputeRequest.from_json(data)
    except ComputeRefused as exc:
        assert exc.reason == "request_malformed" and "\n" not in str(exc)


def test_a_malformed_result_is_refused_as_bad_result() -> None:
    assert reason(ComputeResult.from_json, {"chain_id": 1}) == "bad_result"
    assert reason(ComputeResult.from_json, "score") == "bad_result"


def test_only_failures_that_depend_on_the_model_alone_are_told() -> None:
    told = "the model imports the non-standard operator domain 'com.evil'"
    assert public_failure(told) == told
    assert public_failure("the submission ran past the wall-clock limit of 120 s").startswith(
        "the submission"
    )
    assert public_failure("the model needs more than the memory limit of 1024 MB to load").endswith("to load")
    leaked = "the model failed to run: indices element out of data bounds, idx=987654 must be within"
    assert public_failure(leaked) == WITHHELD
    assert public_failure("the model's output has 3 rows for 400 input rows") == WITHHELD
    assert public_failure(None) == WITHHELD
