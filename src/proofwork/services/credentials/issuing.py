"""Issuing SD-JWT VCs: the credential types, signing one for a holder (with a status list index
when the issuer can revoke), and what an issuer has issued."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from proofwork.domain.errors import InvalidInput, NotFound
from proofwork.domain.jsonsafe import check_nesting
from proofwork.identity import sdjwt
from proofwork.identity import status_list as sl
from proofwork.keys.jwk import public_key_from_jwk, thumbprint
from proofwork.services.credentials import status_lists as lists
from proofwork.services.credentials.profiles import (
    IssuerDirectory,
    issued_path,
    issuer_signing_key,
    load_issued,
    load_issuer,
)
from proofwork.services.credentials.wallet import (
    MAX_CREDENTIAL_BYTES,
    address_of_jwk,
    credential_id,
    holder_jwk_of,
    wallet_dir,
)
from proofwork.services.workspace import Workspace
from proofwork.storage.files import locked, save_file, save_json

# --- credential types ----------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedRecord:
    id: str
    path: Path
    sd_jwt: str
    issuer: str = ""
    vct: str = ""
    holder: str = ""
    iat: int = 0
    exp: int | None = None
    status: sdjwt.StatusReference | None = None


VCT_COURSE_CERTIFICATE = "https://proofwork.dev/vct/course-certificate/v1"
VCT_SKILL = "https://proofwork.dev/vct/skill/v1"
VCT_CLIENT_REFERENCE = "https://proofwork.dev/vct/client-reference/v1"
VCT_REPUTATION_SUMMARY = "https://proofwork.dev/vct/reputation-summary/v1"
CREDENTIAL_TYPES: dict[str, str] = {
    "course": VCT_COURSE_CERTIFICATE,
    "skill": VCT_SKILL,
    "reference": VCT_CLIENT_REFERENCE,
    "reputation": VCT_REPUTATION_SUMMARY,
}

MAX_CLAIM_NESTING = 12


def _check_claims(claims: Any) -> dict[str, Any]:
    if not isinstance(claims, dict) or not claims:
        raise InvalidInput("a credential needs at least one claim, given as a JSON object")
    try:
        text = json.dumps(claims, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidInput(f"the claims are not plain JSON: {str(exc)[:120]}") from exc
    size = len(text)
    # what is issued must also be presentable: a disclosure wraps each value one level deeper, and
    # verifiers refuse JSON deeper than sdjwt.MAX_JSON_DEPTH
    check_nesting(text, MAX_CLAIM_NESTING)
    if size > MAX_CREDENTIAL_BYTES // 2:
        raise InvalidInput(
            f"the claims take {size} bytes; a credential holds at most {MAX_CREDENTIAL_BYTES // 2}"
        )
    return claims


def issue_credential_for(
    ws: Workspace,
    issuer_name: str,
    *,
    holder: str,
    vct: str,
    claims: dict[str, Any],
    valid_for: int | None = None,
    directory: IssuerDirectory | None = None,
    holder_jwk: Mapping[str, Any] | None = None,
) -> IssuedRecord:
    """Signs an SD-JWT VC for `holder` (an account on this machine, or any holder with `holder_jwk`),
    every claim selectively disclosable, bound to the holder's wallet key (`cnf.jwk`). A did:web
    issuer gives it a random index in its status list. The credential is written to the holder's
    wallet directory (or the issuer's `outbox/` for a holder elsewhere)."""
    profile = load_issuer(ws, issuer_name)
    if vct in CREDENTIAL_TYPES:
        vct = CREDENTIAL_TYPES[vct]
    if not isinstance(vct, str) or not vct:
        raise InvalidInput("a credential needs a type")
    claims = _check_claims(claims)
    if valid_for is not None and valid_for <= 0:
        raise InvalidInput("a credential's validity must be longer than zero")
    if holder_jwk is None:
        try:
            holder_signer = ws.signer(holder)
        except NotFound as exc:
            raise NotFound(f"{exc}; for a holder elsewhere, give their public key (--holder-jwk)") from exc
        cnf = holder_jwk_of(holder_signer)
        holder_address: str | None = holder_signer.address
    else:
        try:
            public_key_from_jwk(holder_jwk)
        except InvalidInput as exc:
            raise InvalidInput(f"invalid holder key: {exc}") from exc
        cnf = {k: str(v) for k, v in holder_jwk.items() if k in ("crv", "kty", "x", "y")}
        holder_address = address_of_jwk(cnf)
        if holder.strip().startswith("0x"):
            given = ws.address(holder, "holder")
            if holder_address is not None and given != holder_address:
                raise InvalidInput(f"the holder key belongs to {holder_address}, not {given}")
            holder_address = holder_address or given
    key, kid, header_jwk = issuer_signing_key(ws, profile)
    with locked(profile.directory):
        now = ws.chain.next_timestamp()
        exp = now + valid_for if valid_for is not None else None
        status: sdjwt.StatusReference | None = None
        record: dict[str, Any] | None = None
        number = 0
        placeholder = "pending-" + secrets.token_hex(8)
        if profile.revocable:
            number = lists.current_list_number(profile)
            record = lists.load_status_list(profile, number)
            if len(record["allocated"]) >= int(record["size"]):
                number += 1
                record = lists.new_status_list(profile, number)
            index = lists.allocate_index(record, placeholder)
            status = sdjwt.StatusReference(index, profile.status_uri(number))
        token = sdjwt.issue_credential(
            issuer=profile.did,
            key=key,
            kid=kid,
            vct=vct,
            claims=claims,
            holder_jwk=cnf,
            iat=now,
            exp=exp,
            status=status,
            header_jwk=header_jwk,
        )
        cred_id = credential_id(token)
        if holder_jwk is None:  # the holder's wallet is on this machine
            assert holder_address is not None
            path = wallet_dir(ws, holder_address) / f"{cred_id}.sdjwt"
        else:  # to be handed over
            path = profile.directory / "outbox" / f"{cred_id}.sdjwt"
        save_file(path, token.encode("ascii"))
        if record is not None:
            record["allocated"][cred_id] = record["allocated"].pop(placeholder)
            save_json(lists.status_path(profile, number), record)
        issued = load_issued(profile)
        issued[cred_id] = {
            "vct": vct,
            "holder": holder_address or holder,
            "holder_thumbprint": thumbprint(cnf),
            "iat": now,
            "exp": exp,
            "status_list": number or None,
            "index": status.idx if status else None,
        }
        save_json(issued_path(profile), issued)
        if record is not None:
            token_iat = record.get("token_iat")
            if (
                not isinstance(token_iat, int)
                or now - token_iat > lists.STATUS_TOKEN_LIFETIME - lists.STATUS_TOKEN_REFRESH
            ):
                lists.publish_status_list(ws, profile, number, directory)
    return IssuedRecord(cred_id, path, token, profile.did, vct, holder_address or holder, now, exp, status)


def issued_credentials(ws: Workspace, issuer_name: str) -> list[dict[str, Any]]:
    """What an issuer issued, with each credential's current status."""
    profile = load_issuer(ws, issuer_name)
    loaded: dict[int, dict[str, Any]] = {}
    out = []
    for cred_id, entry in sorted(load_issued(profile).items(), key=lambda kv: kv[1].get("iat", 0)):
        state = "valid"
        number = entry.get("status_list")
        if number is not None:
            if number not in loaded:
                loaded[number] = lists.load_status_list(profile, int(number))
            value = int(loaded[number]["statuses"].get(str(entry.get("index")), sl.VALID))
            state = lists.STATUS_NAMES.get(value, str(value))
        elif not profile.revocable:
            state = "valid (not revocable)"
        out.append({"id": cred_id, **entry, "status": state})
    return out
