"""An asset's files encrypted with a key of its own (AES-256-GCM), the key sealed to a licence holder's wallet.

Each asset gets a random 32-byte key. Its owner encrypts the asset's files with it before storing them;
a licence holder receives the key sealed to their wallet's public key (`seal_key_for`, the ECIES of
`keys.sealing` that already seals hidden labels to oracles) and opens it with their wallet key
(`open_sealed_key`).

File format (version 1), streamed in chunks so memory stays at about one chunk whatever the size:

    header = b"PWAE" | version (1 byte, 1) | log2 of the chunk size (1 byte) | base nonce (12 random bytes)
             | key commitment (32 bytes)
    then one or more chunks: AES-256-GCM(chunk of plaintext) with its 16-byte tag

Every chunk holds `chunk_size` plaintext bytes except the last, which holds 0 to `chunk_size` (an empty
file is one empty final chunk). The file key is HKDF-SHA256(asset key, salt = base nonce): a fresh key
per file, so files of one asset never share a (key, nonce) pair. Chunk i is encrypted under the nonce
base nonce XOR i, with the associated data header | i (8 bytes) | final flag (1 byte): a chunk moved,
dropped, repeated, taken from another file, or a file cut at a chunk boundary fails its tag. The key
commitment (HKDF with another label) tells a wrong key from a damaged file, and makes the file open
under one key only (GCM alone is not key-committing).

Memory: about two chunks (the one being sealed or opened, and the next, read ahead to know which is
last). Decrypting yields plaintext chunk by chunk before the end is verified: callers write to a temporary
file and discard it on error (`storage.store.write_atomically` does exactly that). This module does no
file I/O of its own, only streams: it sits with the sealing it reuses.
"""

from __future__ import annotations

import hmac
import io
import os
from collections.abc import Callable, Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from proofwork.domain.errors import ArtifactCorrupted, InvalidInput
from proofwork.keys.sealing import open_sealed, recipient, seal

KEY_SIZE = 32
MAGIC = b"PWAE"
VERSION = 1
NONCE_SIZE = 12
TAG_SIZE = 16
COMMITMENT_SIZE = 32
HEADER_SIZE = len(MAGIC) + 2 + NONCE_SIZE + COMMITMENT_SIZE
CHUNK_SHIFT = 20  # 1 MiB chunks
MIN_CHUNK_SHIFT = 10  # 1 KiB (tests)
MAX_CHUNK_SHIFT = 24  # 16 MiB: a reader never buffers more
_MAX_CHUNKS = 1 << 32  # nonces stay distinct far beyond any file (4 PiB at 1 MiB chunks)
_KEY_INFO = b"proofwork asset file v1 key"
_COMMIT_INFO = b"proofwork asset file v1 key commitment"
_SEALED_PREFIX = b"proofwork asset key v1:"


def new_asset_key() -> bytes:
    """A fresh random 256-bit asset key."""
    return AESGCM.generate_key(bit_length=256)


def _check_key(key: bytes) -> bytes:
    if not isinstance(key, bytes | bytearray) or len(key) != KEY_SIZE:
        raise InvalidInput(f"an asset key is {KEY_SIZE} bytes")
    return bytes(key)


def _derive(key: bytes, nonce: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=nonce, info=info).derive(key)


def _chunk_nonce(base: bytes, index: int) -> bytes:
    return (int.from_bytes(base, "big") ^ index).to_bytes(NONCE_SIZE, "big")


def _aad(header: bytes, index: int, final: bool) -> bytes:
    return header + index.to_bytes(8, "big") + (b"\x01" if final else b"\x00")


def _read_full(stream: BinaryIO, size: int) -> bytes:
    """Up to `size` bytes: fewer only at the end of the stream (reads until filled or EOF)."""
    parts: list[bytes] = []
    missing = size
    while missing:
        part = stream.read(missing)
        if not part:
            break
        parts.append(part)
        missing -= len(part)
    return b"".join(parts)


def encrypt_stream(
    key: bytes,
    source: BinaryIO,
    *,
    chunk_shift: int = CHUNK_SHIFT,
    on_plaintext: Callable[[bytes], None] | None = None,
) -> Iterator[bytes]:
    """The encrypted file, header first then one chunk at a time, for everything left in `source`.

    `on_plaintext` sees each plaintext chunk as it is read (e.g. a sha256's `update`, so one pass gives
    the manifest both the plaintext's hash and, from the output, the ciphertext's CID).
    """
    key = _check_key(key)
    if not MIN_CHUNK_SHIFT <= chunk_shift <= MAX_CHUNK_SHIFT:
        raise InvalidInput(f"chunk size must be 2**{MIN_CHUNK_SHIFT} to 2**{MAX_CHUNK_SHIFT} bytes")
    chunk_size = 1 << chunk_shift
    base = os.urandom(NONCE_SIZE)
    header = MAGIC + bytes((VERSION, chunk_shift)) + base + _derive(key, base, _COMMIT_INFO)
    aead = AESGCM(_derive(key, base, _KEY_INFO))
    yield header
    index = 0
    current = _read_full(source, chunk_size)
    while True:
        following = _read_full(source, chunk_size) if len(current) == chunk_size else b""
        final = not following
        if index >= _MAX_CHUNKS:
            raise InvalidInput("the file is too large to encrypt in one asset file")
        if on_plaintext is not None:
            on_plaintext(current)
        yield aead.encrypt(_chunk_nonce(base, index), current, _aad(header, index, final))
        if final:
            return
        index += 1
        current = following


def decrypt_stream(key: bytes, source: BinaryIO) -> Iterator[bytes]:
    """The plaintext, chunk by chunk; InvalidInput for a wrong key, ArtifactCorrupted for damage.

    Damage (a changed byte, chunks reordered, dropped or repeated, a truncated file, bytes appended)
    is reported when the chunk holding it is reached: earlier chunks may have been yielded already.
    """
    key = _check_key(key)
    header = _read_full(source, HEADER_SIZE)
    if len(header) < HEADER_SIZE or header[: len(MAGIC)] != MAGIC:
        raise ArtifactCorrupted("not a proofwork encrypted asset file (bad header)")
    version, chunk_shift = header[4], header[5]
    if version != VERSION:
        raise ArtifactCorrupted(
            f"encrypted asset file version {version}: this proofwork reads version {VERSION}"
        )
    if not MIN_CHUNK_SHIFT <= chunk_shift <= MAX_CHUNK_SHIFT:
        raise ArtifactCorrupted("encrypted asset file with an impossible chunk size: damaged")
    base = header[6 : 6 + NONCE_SIZE]
    if not hmac.compare_digest(header[6 + NONCE_SIZE :], _derive(key, base, _COMMIT_INFO)):
        raise InvalidInput(
            "this key does not open the file: it was encrypted under another asset key (or its header was changed)"
        )
    aead = AESGCM(_derive(key, base, _KEY_INFO))
    sealed_size = (1 << chunk_shift) + TAG_SIZE
    index = 0
    current = _read_full(source, sealed_size)
    while True:
        if len(current) < TAG_SIZE:
            raise ArtifactCorrupted("the encrypted asset file is truncated: refused")
        following = _read_full(source, sealed_size) if len(current) == sealed_size else b""
        final = not following
        try:
            plain = aead.decrypt(_chunk_nonce(base, index), current, _aad(header, index, final))
        except InvalidTag:
            raise ArtifactCorrupted(
                f"chunk {index} of the encrypted asset file fails its check: the file was changed, "
                "reordered or truncated"
            ) from None
        yield plain
        if final:
            return
        index += 1
        if index >= _MAX_CHUNKS:
            raise ArtifactCorrupted("the encrypted asset file has more chunks than any file written")
        current = following


def encrypt_bytes(key: bytes, data: bytes, *, chunk_shift: int = CHUNK_SHIFT) -> bytes:
    return b"".join(encrypt_stream(key, io.BytesIO(data), chunk_shift=chunk_shift))


def decrypt_bytes(key: bytes, data: bytes) -> bytes:
    return b"".join(decrypt_stream(key, io.BytesIO(data)))


def encrypted_size(plain_size: int, *, chunk_shift: int = CHUNK_SHIFT) -> int:
    """The size of the encrypted file for `plain_size` bytes of plaintext."""
    chunks = max(1, -(-plain_size // (1 << chunk_shift)))
    return HEADER_SIZE + plain_size + chunks * TAG_SIZE


# ---------------------------------------------------------------- the key, sealed to a wallet


def seal_key_for(key: bytes, public_key: bytes) -> bytes:
    """`key` sealed to one wallet's 64-byte public key (ECIES envelope, `keys.sealing`)."""
    return seal(_SEALED_PREFIX + _check_key(key), [recipient(public_key)])


def open_sealed_key(envelope: bytes, private_key: bytes) -> bytes:
    """The asset key in `envelope`, with the wallet key it was sealed to; NotAllowed for another key."""
    payload = open_sealed(envelope, private_key)
    if not payload.startswith(_SEALED_PREFIX) or len(payload) != len(_SEALED_PREFIX) + KEY_SIZE:
        raise InvalidInput("the envelope does not hold an asset key")
    return payload[len(_SEALED_PREFIX) :]
