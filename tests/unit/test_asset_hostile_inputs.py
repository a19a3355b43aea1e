"""Hostile input to the asset code that needs no chain: manifests an owner controls (file names that try
to leave `asset get --out`), chunked AES-GCM files cut, reordered or spliced, compute parameters built
to crash the checks, signatures bent into their other valid form.

Every refusal is a one-line ProofworkError (a stable code where there is one), never another exception."""

from __future__ import annotations

import io
import json

import pytest
from eth_keys import keys
from eth_utils import keccak

from proofwork.domain.asset_access import KeyRequest
from proofwork.domain.assets import build_manifest, canonical_json, parse_manifest
from proofwork.domain.compute import check_params, parse_recipe_param
from proofwork.domain.errors import ArtifactCorrupted, InvalidInput, ProofworkError
from proofwork.keys.asset_keys import (
    HEADER_SIZE,
    MIN_CHUNK_SHIFT,
    TAG_SIZE,
    decrypt_bytes,
    encrypt_bytes,
    new_asset_key,
)

CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
SHA = "0" * 64
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _manifest_with(name: object) -> bytes:
    entry = {"name": name, "cid": CID, "sha256": SHA, "size": 1}
    return json.dumps(
        {"version": 1, "kind": "dataset", "name": "x", "license": "MIT", "files": [entry]}
    ).encode()


# ---------------------------------------------------------------- file names a hostile owner chooses


@pytest.mark.parametrize(
    "name",
    [
        "../escape.txt",
        "..",
        ".",
        "/etc/passwd",
        "sub/dir.txt",
        "..\\windows.txt",
        "C:\\evil",
        "nul\x00byte",
        "new\nline",
        "\x1b[31mred",
        " leading",
        "trailing ",
        "",
        "x" * 256,
        7,
        None,
    ],
)
def test_a_manifest_file_name_is_one_plain_name(name: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_manifest(_manifest_with(name))
    assert "\n" not in str(refused.value)


def test_a_manifest_name_no_filesystem_can_hold_is_refused() -> None:
    """255 characters pass the character bound, but 255 two-byte characters are 510 bytes: more than
    any Linux file name holds (NAME_MAX 255 bytes). `asset get` would fail on it after writing others."""
    with pytest.raises(InvalidInput, match="255 bytes"):
        parse_manifest(_manifest_with("é" * 200))
    assert parse_manifest(_manifest_with("é" * 127)).files[0].name == "é" * 127


def test_duplicate_names_and_huge_file_counts_are_refused() -> None:
    entry = {"name": "a", "cid": CID, "sha256": SHA, "size": 1}
    doc = {"version": 1, "kind": "dataset", "name": "x", "license": "MIT", "files": [entry, entry]}
    with pytest.raises(InvalidInput, match="two files are named"):
        parse_manifest(json.dumps(doc))
    doc["files"] = [{**entry, "name": f"f{i}"} for i in range(1025)]
    with pytest.raises(InvalidInput, match="at most 1024 files"):
        parse_manifest(json.dumps(doc))


@pytest.mark.parametrize(
    "text",
    [
        '{"version": 1, "version": 1}',  # a duplicate key
        '{"version": NaN}',
        '{"version": 1e400}',
        "[" * 10_000 + "]" * 10_000,  # a nesting bomb
        '{"version": ' + "9" * 5000 + "}",  # beyond int_max_str_digits
        '"\\ud800"',  # a lone surrogate: no UTF-8 encoding
        "x" * ((1 << 20) + 1),
    ],
)
def test_json_bombs_in_a_manifest_are_one_line_refusals(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_manifest(text)
    assert "\n" not in str(refused.value)


def test_a_manifest_size_is_an_integer_not_a_float() -> None:
    with pytest.raises(InvalidInput, match="byte count"):
        parse_manifest(_manifest_with("a").replace(b'"size": 1', b'"size": 1.0'))
    built = build_manifest("dataset", "x", parse_manifest(_manifest_with("a")).files, license="MIT")
    assert parse_manifest(canonical_json(built.to_dict())) == built


# ---------------------------------------------------------------- the chunked AES-GCM file format


def _chunks(data: bytes) -> tuple[bytes, list[bytes]]:
    size = (1 << MIN_CHUNK_SHIFT) + TAG_SIZE
    body = data[HEADER_SIZE:]
    return data[:HEADER_SIZE], [body[i : i + size] for i in range(0, len(body), size)]


def test_chunks_cut_reordered_repeated_or_spliced_fail_their_tag() -> None:
    key = new_asset_key()
    plain = bytes(range(256)) * 16  # exactly 4 chunks of 1 KiB
    sealed = encrypt_bytes(key, plain, chunk_shift=MIN_CHUNK_SHIFT)
    assert decrypt_bytes(key, sealed) == plain
    header, chunks = _chunks(sealed)
    assert len(chunks) == 4
    other_header, other_chunks = _chunks(encrypt_bytes(key, plain, chunk_shift=MIN_CHUNK_SHIFT))
    damaged = {
        "cut at a chunk boundary": header + b"".join(chunks[:3]),
        "cut inside a chunk": sealed[:-5],
        "last chunk dropped, tag only": header + b"".join(chunks[:3]) + chunks[3][-TAG_SIZE:],
        "two chunks swapped": header + chunks[1] + chunks[0] + chunks[2] + chunks[3],
        "a chunk repeated": header + chunks[0] + chunks[0] + chunks[1] + chunks[2] + chunks[3],
        "a chunk from another file of the key": header + other_chunks[0] + b"".join(chunks[1:]),
        "bytes appended": sealed + b"\x00" * TAG_SIZE,
        "an empty final chunk appended": sealed + chunks[3][:0] + b"\x00" * TAG_SIZE,
        "another file's header": other_header + b"".join(chunks),
        "the chunk size changed": sealed[:5] + bytes([MIN_CHUNK_SHIFT + 1]) + sealed[6:],
        "header only": header,
    }
    for what, data in damaged.items():
        with pytest.raises(ProofworkError) as refused:
            decrypt_bytes(key, data)
        assert isinstance(refused.value, ArtifactCorrupted | InvalidInput), what
        assert "\n" not in str(refused.value), what


def test_the_chunk_size_byte_cannot_make_a_reader_buffer_gigabytes() -> None:
    key = new_asset_key()
    sealed = bytearray(encrypt_bytes(key, b"abc", chunk_shift=MIN_CHUNK_SHIFT))
    sealed[5] = 40  # 1 TiB chunks
    with pytest.raises(ArtifactCorrupted, match="impossible chunk size"):
        decrypt_bytes(key, bytes(sealed))


def test_every_file_gets_its_own_nonce_and_key() -> None:
    key = new_asset_key()
    a = encrypt_bytes(key, b"same", chunk_shift=MIN_CHUNK_SHIFT)
    b = encrypt_bytes(key, b"same", chunk_shift=MIN_CHUNK_SHIFT)
    assert a[6:18] != b[6:18] and a[HEADER_SIZE:] != b[HEADER_SIZE:]


def test_a_wrong_key_is_told_apart_from_damage() -> None:
    sealed = encrypt_bytes(new_asset_key(), b"abc", chunk_shift=MIN_CHUNK_SHIFT)
    with pytest.raises(InvalidInput, match="does not open the file"):
        b"".join(_decrypt_stream(new_asset_key(), sealed))


def _decrypt_stream(key: bytes, data: bytes):  # type: ignore[no-untyped-def]
    from proofwork.keys.asset_keys import decrypt_stream

    return decrypt_stream(key, io.BytesIO(data))


# ---------------------------------------------------------------- compute parameters


@pytest.mark.parametrize(
    ("task", "params"),
    [
        ("gradient_boosting", {"n_estimators": 10**400}),
        ("gradient_boosting", {"n_estimators": -(10**400)}),
        ("logistic_regression", {"C": 10**400}),
        ("logistic_regression", {"max_iter": 10**400}),
        ("gradient_boosting", {"learning_rate": float("nan")}),
        ("gradient_boosting", {"subsample": float("inf")}),
        ("gradient_boosting", {"n_estimators": 1e308}),
        ("gradient_boosting", {"n_estimators": 2.5}),
        ("gradient_boosting", {"n_estimators": 501}),
        ("gradient_boosting", {"max_depth": True}),
        ("gradient_boosting", {"n_estimators": "100"}),
        ("logistic_regression", {"fit_intercept": 1}),
    ],
)
def test_recipe_parameters_out_of_bounds_are_malformed_never_a_crash(task: str, params: dict) -> None:  # type: ignore[type-arg]
    from proofwork.domain.compute import ComputeRefused

    with pytest.raises(ComputeRefused) as refused:
        check_params(task, {"label_column": "y", **params})
    assert refused.value.reason == "request_malformed"


def test_a_huge_integer_from_the_command_line_is_malformed() -> None:
    from proofwork.domain.compute import ComputeRefused

    name, value = parse_recipe_param("n_estimators=" + "9" * 400)
    with pytest.raises(ComputeRefused) as refused:
        check_params("gradient_boosting", {"label_column": "y", name: value})
    assert refused.value.reason == "request_malformed"


def test_a_signed_request_with_a_huge_integer_parameter_is_malformed() -> None:
    from proofwork.domain.compute import ComputeRefused
    from proofwork.services.compute_to_data import ComputeRequest

    request = ComputeRequest.from_json(
        {
            "chain_id": 1,
            "licensing": "0x" + "11" * 20,
            "licence_id": 1,
            "task": "gradient_boosting",
            "model_cid": "",
            "params": '{"label_column":"y","n_estimators":' + "9" * 400 + "}",
            "nonce": "0x" + "00" * 32,
            "expires_at": 1,
            "signature": "0x" + "00" * 65,
        }
    )
    with pytest.raises(ComputeRefused) as refused:
        request.checked_params()
    assert refused.value.reason == "request_malformed"


# ---------------------------------------------------------------- signatures


def test_the_high_s_twin_of_a_key_request_signature_recovers_the_same_signer() -> None:
    """Malleability gives no second request: a request is used once per (signer, nonce), not per signature."""
    from proofwork.chain.asset_access import recover_key_request, sign_key_request

    key = keccak(b"holder")
    request = KeyRequest(1, "0x" + "22" * 20, 1, 1, CID, 10**9, b"\x01" * 32)
    signature = sign_key_request(request, key)
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    twin = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([(v - 27) ^ 1])
    mine = recover_key_request(request, signature)
    assert mine is not None and mine[0] == keys.PrivateKey(key).public_key.to_checksum_address()
    assert recover_key_request(request, twin) == mine
    for garbage in (b"", bytes(65), b"\xff" * 65, signature[:64] + b"\x05", signature + b"\x00"):
        assert recover_key_request(request, garbage) is None


@pytest.mark.parametrize(
    "name",
    [
        "invoice\u202etxt.exe",  # right-to-left override: shown as invoiceexe.txt
        "a\u2066b",  # a bidi isolate
        "zero\u200bwidth.csv",
        "bom\ufeff.csv",
        "line\u2028sep.csv",
        "para\u2029sep.csv",
        "csi\x9b31m.csv",  # a C1 control: CSI on some terminals
        "nel\x85.csv",
    ],
)
def test_a_file_name_holds_no_invisible_or_reordering_character(name: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_manifest(_manifest_with(name))
    assert "\n" not in str(refused.value)


def test_c1_controls_are_refused_in_the_manifests_text() -> None:
    doc = json.loads(_manifest_with("a.csv"))
    with pytest.raises(InvalidInput, match="control character"):
        parse_manifest(json.dumps({**doc, "name": "x\x9b2J"}))


@pytest.mark.parametrize(("first", "second"), [("Data.csv", "data.csv"), ("caf\u00e9.csv", "cafe\u0301.csv")])
def test_file_names_one_filesystem_would_merge_are_refused(first: str, second: str) -> None:
    """A case-insensitive (macOS, Windows) or normalising (APFS) filesystem holds one file for both:
    `asset get` would write one over the other."""
    doc = json.loads(_manifest_with(first))
    doc["files"].append({**doc["files"][0], "name": second})
    with pytest.raises(InvalidInput, match="two files are named"):
        parse_manifest(json.dumps(doc))


def test_ordinary_unicode_file_names_are_kept() -> None:
    for name in ("données.csv", "データ.csv", "نموذج.onnx", "👩‍💻.txt", "a b-c_d.e"):
        assert parse_manifest(_manifest_with(name)).files[0].name == name
