"""An issuer's status lists (IETF Token Status List): random index allocation, signing, publishing
under the web root, anchoring on chain, and changing a credential's status."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from proofwork.domain.errors import DataDirCorrupted, InvalidInput, NotAllowed, NotFound
from proofwork.identity import status_list as sl
from proofwork.services.credentials.profiles import (
    IssuerDirectory,
    IssuerProfile,
    issuer_signing_key,
    load_issued,
    load_issuer,
    publish_did_document,
    web_path_of,
)
from proofwork.services.credentials.wallet import CREDENTIAL_ID
from proofwork.services.workspace import Workspace
from proofwork.storage.files import locked, read_json, save_file, save_json

STATUS_LIST_SIZE = sl.MIN_ISSUED_SIZE  # 131,072 entries: fetching the list does not reveal which is checked
STATUS_BITS = 2  # VALID, INVALID (revoked, final), SUSPENDED (reversible)
STATUS_TOKEN_LIFETIME = 86_400  # a status list token expires a day after it is signed
STATUS_TOKEN_TTL = 3_600  # verifiers may cache it for an hour
STATUS_TOKEN_REFRESH = 43_200  # issuing re-signs a token with less than this left
STATUS_NAMES = {sl.VALID: "valid", sl.INVALID: "revoked", sl.SUSPENDED: "suspended"}

# --- status lists --------------------------------------------------------------------------------------


def status_path(profile: IssuerProfile, number: int) -> Path:
    return profile.directory / "status" / f"{number}.json"


def status_file_path(profile: IssuerProfile, number: int) -> Path:
    assert profile.base_url is not None
    return profile.web_root.joinpath(*web_path_of(profile.base_url), "status", str(number))


def new_status_list(profile: IssuerProfile, number: int) -> dict[str, Any]:
    record = {
        "number": number,
        "uri": profile.status_uri(number),
        "size": STATUS_LIST_SIZE,
        "bits": STATUS_BITS,
        "allocated": {},  # credential id -> index
        "statuses": {},  # index (decimal string) -> status other than VALID
        "token_iat": None,
    }
    save_json(status_path(profile, number), record)
    return record


def load_status_list(profile: IssuerProfile, number: int) -> dict[str, Any]:
    record = read_json(status_path(profile, number), "status list")
    if not isinstance(record, dict) or not {"allocated", "statuses", "size", "bits"} <= set(record):
        raise DataDirCorrupted(f"the status list file {status_path(profile, number)} is damaged")
    return record


def current_list_number(profile: IssuerProfile) -> int:
    numbers = [int(p.stem) for p in (profile.directory / "status").glob("*.json") if p.stem.isdigit()]
    return max(numbers, default=1)


def status_list_of(record: Mapping[str, Any]) -> sl.StatusList:
    lst = sl.StatusList(int(record["size"]), int(record["bits"]))
    for index, value in record["statuses"].items():
        lst.set(int(index), int(value))
    return lst


def allocate_index(record: dict[str, Any], credential_id: str) -> int:
    """A random unused index: consecutive credentials get unrelated indexes (herd privacy)."""
    size = int(record["size"])
    used = set(record["allocated"].values())
    if len(used) >= size:
        raise NotAllowed("the status list is full")
    if len(used) < size // 2:
        while (index := secrets.randbelow(size)) in used:
            pass
    else:
        free = [i for i in range(size) if i not in used]
        index = free[secrets.randbelow(len(free))]
    record["allocated"][credential_id] = index
    return index


def publish_status_list(
    ws: Workspace, profile: IssuerProfile, number: int, directory: IssuerDirectory | None
) -> str:
    """Signs status list `number` afresh, writes it to the web root and anchors its digest."""
    record = load_status_list(profile, number)
    key, kid, _ = issuer_signing_key(ws, profile)
    now = ws.chain.next_timestamp()
    token = sl.sign_status_list_token(
        status_list_of(record),
        key=key,
        kid=kid,
        issuer=profile.did,
        uri=profile.status_uri(number),
        iat=now,
        exp=now + STATUS_TOKEN_LIFETIME,
        ttl=STATUS_TOKEN_TTL,
    )
    save_file(status_file_path(profile, number), token.encode("ascii"), 0o644)
    record["token_iat"] = now
    save_json(status_path(profile, number), record)
    if directory is not None:
        directory.anchor_status_list(
            ws.signer(profile.account), profile.status_uri(number), sl.token_digest(token)
        )
    return token


def publish_status_lists(ws: Workspace, name: str, *, directory: IssuerDirectory | None = None) -> list[str]:
    """Re-signs (and anchors) every status list of a did:web issuer: run at least daily, as each token
    expires a day after it is signed. Returns the lists' URIs."""
    profile = load_issuer(ws, name)
    require_revocable(profile, "publishes no status list")
    uris = []
    with locked(profile.directory):
        for number in range(1, current_list_number(profile) + 1):
            publish_status_list(ws, profile, number, directory)
            uris.append(profile.status_uri(number))
        publish_did_document(profile)
    return uris


def require_revocable(profile: IssuerProfile, what: str) -> None:
    if not profile.revocable:
        raise NotAllowed(
            f"issuer {profile.name!r} is a wallet issuer ({profile.did}) and {what}: its credentials cannot "
            "be revoked or suspended; create a did:web issuer (--base-url) for revocable credentials"
        )


def set_status(
    ws: Workspace, issuer_name: str, cred_id: str, status: int, *, directory: IssuerDirectory | None = None
) -> dict[str, Any]:
    """Revokes (INVALID, final), suspends (SUSPENDED) or reinstates (VALID) an issued credential,
    then re-signs, publishes and anchors its status list."""
    profile = load_issuer(ws, issuer_name)
    require_revocable(profile, "has no status list")
    cred_id = cred_id.strip().lower()
    if not CREDENTIAL_ID.fullmatch(cred_id):
        raise InvalidInput(f"invalid credential id {cred_id!r}: expected 32 hexadecimal digits")
    with locked(profile.directory):
        entry = load_issued(profile).get(cred_id)
        if entry is None or entry.get("status_list") is None:
            raise NotFound(f"issuer {issuer_name!r} issued no credential {cred_id}")
        number = int(entry["status_list"])
        record = load_status_list(profile, number)
        index = record["allocated"].get(cred_id)
        if index is None:
            raise DataDirCorrupted(f"credential {cred_id} has no index in status list {number}")
        current = int(record["statuses"].get(str(index), sl.VALID))
        if current == sl.INVALID:
            raise NotAllowed(f"credential {cred_id} is revoked, and revocation is final")
        if current != status:  # no change: nothing to re-sign, no transaction to anchor
            if status == sl.VALID:
                record["statuses"].pop(str(index), None)
            else:
                record["statuses"][str(index)] = status
            save_json(status_path(profile, number), record)
            publish_status_list(ws, profile, number, directory)
    return {
        "id": cred_id,
        "status": STATUS_NAMES[status],
        "previous": STATUS_NAMES.get(current, str(current)),
        "index": index,
        "uri": profile.status_uri(number),
    }


def revoke(
    ws: Workspace, issuer_name: str, cred_id: str, *, directory: IssuerDirectory | None = None
) -> dict[str, Any]:
    return set_status(ws, issuer_name, cred_id, sl.INVALID, directory=directory)


def suspend(
    ws: Workspace, issuer_name: str, cred_id: str, *, directory: IssuerDirectory | None = None
) -> dict[str, Any]:
    return set_status(ws, issuer_name, cred_id, sl.SUSPENDED, directory=directory)


def reinstate(
    ws: Workspace, issuer_name: str, cred_id: str, *, directory: IssuerDirectory | None = None
) -> dict[str, Any]:
    return set_status(ws, issuer_name, cred_id, sl.VALID, directory=directory)
