"""The holder's side: credentials kept in the wallet directory, listed, found and presented with
chosen claims and a key-binding JWT."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from proofwork.domain.addresses import parse_address
from proofwork.domain.errors import InvalidInput, NotAllowed, NotFound, ProofworkError
from proofwork.identity import did as did_mod
from proofwork.identity import sdjwt
from proofwork.keys.jwk import b64url_decode, jwk_of, private_key_from_bytes, thumbprint
from proofwork.services.workspace import Signer, Workspace

MAX_CREDENTIAL_BYTES = sdjwt.MAX_PRESENTATION_BYTES
CREDENTIAL_ID = re.compile(r"^[0-9a-f]{32}$")


def credential_id(sd_jwt_text: str) -> str:
    """The id of an SD-JWT (or any presentation of it): hex of the first 16 bytes of SHA-256 of its JWT."""
    jwt = sd_jwt_text.strip().split("~", 1)[0]
    return hashlib.sha256(jwt.encode("ascii", "replace")).digest()[:16].hex()


def address_of_jwk(jwk: Mapping[str, Any]) -> str | None:
    """The (checksummed) Ethereum address of a secp256k1 JWK; None for other key types."""
    if jwk.get("crv") != "secp256k1":
        return None
    return parse_address(did_mod.address_of_jwk(jwk))


def holder_jwk_of(signer: Signer) -> dict[str, str]:
    """A holder's key-binding JWK: the public key of their wallet (secp256k1) account."""
    return jwk_of(private_key_from_bytes("ES256K", signer.key))


def wallet_dir(ws_or_data_dir: Workspace | Path, address: str) -> Path:
    data_dir = ws_or_data_dir if isinstance(ws_or_data_dir, Path) else ws_or_data_dir.data_dir
    return data_dir / "wallet" / address


# --- the holder ---------------------------------------------------------------------------------------------


def _peek(sd_jwt_text: str) -> dict[str, Any]:
    """The issuer-signed payload of an SD-JWT, unverified (for listing what one holds)."""
    try:
        payload = json.loads(b64url_decode(sd_jwt_text.split("~", 1)[0].split(".")[1]))
    except (IndexError, ValueError, InvalidInput) as exc:
        raise InvalidInput("not an SD-JWT credential") from exc
    if not isinstance(payload, dict):
        raise InvalidInput("not an SD-JWT credential")
    return payload


def read_credential_file(path: Path) -> str:
    """An SD-JWT or presentation from a file: bounded, ASCII, one line."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CREDENTIAL_BYTES + 1)
    except FileNotFoundError:
        raise InvalidInput(f"no such file: {path}") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a directory, not a credential file") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from exc
    if len(raw) > MAX_CREDENTIAL_BYTES:
        raise InvalidInput(f"{path} is larger than {MAX_CREDENTIAL_BYTES} bytes: not a credential")
    try:
        text = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not an SD-JWT (it holds non-ASCII bytes)") from None
    if not text or "~" not in text or any(c.isspace() for c in text):
        raise InvalidInput(f"{path} is not an SD-JWT (expected <jwt>~<disclosure>~...)")
    return text


def held_credentials(ws_or_data_dir: Workspace | Path, address: str | None = None) -> list[dict[str, Any]]:
    """Credentials in the wallet directories on this machine (one address, or all)."""
    data_dir = ws_or_data_dir if isinstance(ws_or_data_dir, Path) else ws_or_data_dir.data_dir
    root = data_dir / "wallet"
    dirs = [root / address] if address else sorted(p for p in root.glob("*") if p.is_dir())
    out: list[dict[str, Any]] = []
    for directory in dirs:
        for path in sorted(directory.glob("*.sdjwt")):
            try:
                text = read_credential_file(path)
                payload = _peek(text)
                names = sdjwt.disclosed_claim_names(text)
            except ProofworkError:
                out.append(
                    {"id": path.stem, "holder": directory.name, "path": str(path), "error": "unreadable"}
                )
                continue
            out.append(
                {
                    "id": path.stem,
                    "holder": directory.name,
                    "issuer": payload.get("iss"),
                    "vct": payload.get("vct"),
                    "iat": payload.get("iat"),
                    "exp": payload.get("exp"),
                    "revocable": "status" in payload,
                    "claims": names,
                    "path": str(path),
                }
            )
    return sorted(out, key=lambda c: (c["holder"], c.get("iat") or 0))


def find_credential(ws: Workspace, holder_address: str, id_or_path: str) -> str:
    """A held credential by id (in the holder's wallet directory) or by file path."""
    text = id_or_path.strip()
    if CREDENTIAL_ID.fullmatch(text.lower()):
        path = wallet_dir(ws, holder_address) / f"{text.lower()}.sdjwt"
        if not path.exists():
            raise NotFound(f"{holder_address} holds no credential {text}: see `proofwork cred list`")
        return read_credential_file(path)
    return read_credential_file(Path(text).expanduser())


def present_credential(
    ws: Workspace,
    holder: str,
    credential: str,
    *,
    disclose: list[str],
    audience: str,
    nonce: str,
) -> str:
    """A presentation of a held credential (id or file) revealing only `disclose`, bound by a KB-JWT
    signed with the holder's wallet key to `audience` and `nonce`."""
    signer = ws.signer(holder)
    sd_jwt_text = find_credential(ws, signer.address, credential)
    if not audience.strip() or not nonce.strip():
        raise InvalidInput("a presentation needs the verifier's audience and nonce")
    key = private_key_from_bytes("ES256K", signer.key)
    try:
        payload = _peek(sd_jwt_text)
        cnf = payload.get("cnf", {}).get("jwk")
    except AttributeError:
        cnf = None
    if cnf is not None and thumbprint(cnf) != thumbprint(jwk_of(key)):
        raise NotAllowed(f"the credential is bound to another key than {signer.name}'s ({signer.address})")
    names = sdjwt.disclosed_claim_names(sd_jwt_text)
    unknown = [n for n in disclose if n not in names]
    if unknown:
        raise InvalidInput(
            f"the credential has no claim {', '.join(map(repr, unknown))}: it has {', '.join(names) or 'none'}"
        )
    # the chain's clock, as for issuing: a dev chain moved forward stays consistent
    return sdjwt.present(
        sd_jwt_text,
        disclose=disclose,
        holder_key=key,
        aud=audience,
        nonce=nonce,
        iat=ws.chain.next_timestamp(),
    )
