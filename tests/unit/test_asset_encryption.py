"""keys.asset_keys: AES-256-GCM asset files in 1 MiB chunks, and the asset key sealed to a wallet."""

from __future__ import annotations

import hashlib
import io
import os

import pytest

from proofwork.domain.errors import ArtifactCorrupted, InvalidInput, NotAllowed, ProofworkError
from proofwork.keys.asset_keys import (
    HEADER_SIZE,
    TAG_SIZE,
    decrypt_bytes,
    decrypt_stream,
    encrypt_bytes,
    encrypt_stream,
    encrypted_size,
    new_asset_key,
    open_sealed_key,
    seal_key_for,
)
from proofwork.keys.sealing import public_key_of
from proofwork.storage.unixfs import CidBuilder

MIB = 1 << 20
KEY = new_asset_key()
BIG = os.urandom(3 * MIB + MIB // 2)  # 3.5 MiB: three full chunks and a half one
SEALED_CHUNK = MIB + TAG_SIZE


def _chunks(blob: bytes) -> list[bytes]:
    body = blob[HEADER_SIZE:]
    return [body[i : i + SEALED_CHUNK] for i in range(0, len(body), SEALED_CHUNK)]


@pytest.fixture(scope="module")
def big_encrypted() -> bytes:
    return encrypt_bytes(KEY, BIG)


@pytest.mark.parametrize("size", [0, 1, MIB - 1, MIB, MIB + 1, 2 * MIB])
def test_round_trip(size: int) -> None:
    data = os.urandom(size)
    blob = encrypt_bytes(KEY, data)
    assert len(blob) == encrypted_size(size)
    assert decrypt_bytes(KEY, blob) == data
    assert len(data) < 16 or data[:16] not in blob  # the plaintext does not appear


def test_round_trip_of_3_5_mib_in_four_chunks(big_encrypted: bytes) -> None:
    assert len(_chunks(big_encrypted)) == 4
    assert len(big_encrypted) == encrypted_size(len(BIG)) == HEADER_SIZE + len(BIG) + 4 * TAG_SIZE
    assert decrypt_bytes(KEY, big_encrypted) == BIG


def test_one_pass_gives_the_plaintext_hash_and_the_ciphertext_cid() -> None:
    plain_hash = hashlib.sha256()
    builder = CidBuilder()
    for piece in encrypt_stream(KEY, io.BytesIO(BIG), on_plaintext=plain_hash.update):
        builder.update(piece)
    assert plain_hash.hexdigest() == hashlib.sha256(BIG).hexdigest()
    assert builder.size == encrypted_size(len(BIG)) and builder.finish().startswith("bafybei")


def test_the_same_file_encrypts_differently_each_time() -> None:
    assert encrypt_bytes(KEY, b"rows") != encrypt_bytes(KEY, b"rows")


class _Trickle(io.RawIOBase):
    """A stream that hands out at most 1000 bytes per read and records the largest read asked."""

    def __init__(self, data: bytes) -> None:
        self.data = memoryview(data)
        self.pos = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = min(size if size >= 0 else len(self.data), 1000)
        out = bytes(self.data[self.pos : self.pos + size])
        self.pos += len(out)
        return out


def test_streams_stay_within_one_chunk_and_tolerate_short_reads(big_encrypted: bytes) -> None:
    pieces = list(encrypt_stream(KEY, _Trickle(BIG)))  # type: ignore[arg-type]
    assert max(len(p) for p in pieces) == SEALED_CHUNK
    plain = list(decrypt_stream(KEY, _Trickle(b"".join(pieces))))  # type: ignore[arg-type]
    assert max(len(p) for p in plain) == MIB and b"".join(plain) == BIG
    small = encrypt_bytes(KEY, BIG[:5000], chunk_shift=10)  # 1 KiB chunks
    assert len(small) == encrypted_size(5000, chunk_shift=10) and decrypt_bytes(KEY, small) == BIG[:5000]


def _corrupted(blob: bytes, match: str = "fails its check|truncated") -> str:
    with pytest.raises(ArtifactCorrupted, match=match) as err:
        decrypt_bytes(KEY, blob)
    assert "\n" not in str(err.value)
    return str(err.value)


def test_a_tampered_byte_is_detected(big_encrypted: bytes) -> None:
    for where in (HEADER_SIZE, HEADER_SIZE + MIB + 5, len(big_encrypted) - 1):
        blob = bytearray(big_encrypted)
        blob[where] ^= 0x01
        _corrupted(bytes(blob))


def test_a_truncated_file_is_detected(big_encrypted: bytes) -> None:
    for cut in (
        HEADER_SIZE + 3 * SEALED_CHUNK,
        HEADER_SIZE + 2 * SEALED_CHUNK,
        len(big_encrypted) - 1,
        HEADER_SIZE + 10,
        HEADER_SIZE,
    ):
        _corrupted(big_encrypted[:cut])
    with pytest.raises(ArtifactCorrupted, match="bad header"):
        decrypt_bytes(KEY, big_encrypted[: HEADER_SIZE - 1])


def test_reordered_dropped_repeated_or_foreign_chunks_are_detected(big_encrypted: bytes) -> None:
    header, chunks = big_encrypted[:HEADER_SIZE], _chunks(big_encrypted)
    _corrupted(header + chunks[1] + chunks[0] + chunks[2] + chunks[3])  # reordered
    _corrupted(header + chunks[0] + chunks[2] + chunks[3])  # dropped
    _corrupted(header + chunks[0] + chunks[0] + chunks[1] + chunks[2] + chunks[3])  # repeated
    _corrupted(big_encrypted + b"\x00")  # bytes appended
    _corrupted(big_encrypted + chunks[3])  # a chunk appended
    other = encrypt_bytes(KEY, BIG)  # the same plaintext and key, another file
    _corrupted(header + chunks[0] + _chunks(other)[1] + chunks[2] + chunks[3])


def test_a_wrong_key_or_a_changed_header_is_refused_as_such(big_encrypted: bytes) -> None:
    with pytest.raises(InvalidInput, match="another asset key") as err:
        decrypt_bytes(new_asset_key(), big_encrypted)
    assert "\n" not in str(err.value)
    changed = bytearray(big_encrypted)
    changed[8] ^= 0x80  # the base nonce
    with pytest.raises(InvalidInput, match="header was changed"):
        decrypt_bytes(KEY, bytes(changed))
    for bad_header in (
        b"PWAE\x02" + big_encrypted[5:],
        b"XXXX" + big_encrypted[4:],
        big_encrypted[:5] + b"\x05" + big_encrypted[6:],
    ):
        with pytest.raises(ArtifactCorrupted):
            decrypt_bytes(KEY, bad_header)


def test_keys_must_be_32_bytes() -> None:
    for bad in (b"", b"k" * 31, b"k" * 33, "k" * 32):
        with pytest.raises(InvalidInput, match="32 bytes"):
            encrypt_bytes(bad, b"x")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="chunk size"):
        encrypt_bytes(KEY, b"x", chunk_shift=30)


def test_a_sealed_key_opens_only_with_the_right_wallet_key() -> None:
    holder, stranger = os.urandom(32), os.urandom(32)
    envelope = seal_key_for(KEY, public_key_of(holder))
    assert KEY not in envelope
    assert open_sealed_key(envelope, holder) == KEY
    with pytest.raises(NotAllowed, match="not sealed to") as err:
        open_sealed_key(envelope, stranger)
    assert "\n" not in str(err.value)
    tampered = envelope.replace(b'"ciphertext": "', b'"ciphertext": "AAAA', 1)
    with pytest.raises(ProofworkError):
        open_sealed_key(tampered, holder)
    with pytest.raises(InvalidInput, match="not a valid secp256k1 point"):
        seal_key_for(KEY, b"\x01" * 64)


def test_an_envelope_that_holds_something_else_is_not_taken_for_a_key() -> None:
    from proofwork.keys.sealing import recipient, seal

    holder = os.urandom(32)
    envelope = seal(os.urandom(32), [recipient(public_key_of(holder))])  # 32 bytes, but not an asset key
    with pytest.raises(InvalidInput, match="does not hold an asset key"):
        open_sealed_key(envelope, holder)
