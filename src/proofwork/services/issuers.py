"""Credential issuers on chain: accrediting a local issuer profile in the registry (its DID, keys and
status-list anchors), and the registry as the credentials' `IssuerDirectory`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from proofwork.domain.errors import InvalidInput, NotAllowed
from proofwork.services.credentials import profiles, status_lists
from proofwork.services.workspace import Signer, Workspace

# Limits the registry checks too; refused here first with a clearer message.
MAX_DID_BYTES = 256
MAX_ISSUER_NAME_BYTES = 64


def _list_id(uri: str) -> bytes:
    from proofwork.chain.encoding import keccak

    return keccak(uri.encode())


class RegistryDirectory:
    """The on-chain issuer registry, as credential issuing and verification consult it."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.registry = ws.issuer_registry

    def accredited_did(self, did: str) -> str | None:
        address = self.registry.issuer_of_did(did)
        if address is None or not self.registry.is_accredited(address):
            return None
        return address

    def key_valid_at(self, issuer_address: str, thumbprint: bytes, at: int) -> bool:
        return self.registry.key_valid_at(issuer_address, thumbprint, at)

    def anchored_status_digest(self, issuer_address: str, uri: str) -> bytes | None:
        digest, updated_at = self.registry.status_list_anchor(issuer_address, _list_id(uri))
        return digest if updated_at else None

    def anchor_status_list(self, signer: Signer, uri: str, digest: bytes) -> None:
        self.registry.anchor_status_list(signer.key, _list_id(uri), digest)


def directory_for(ws: Workspace) -> RegistryDirectory | None:
    """The registry directory when the identity contracts are deployed, else None."""
    return RegistryDirectory(ws) if ws.has_identity else None


@dataclass(frozen=True)
class RegisteredIssuer:
    profile: profiles.IssuerProfile
    steps: list[tuple[str, int]]  # (step, gas)


def register_issuer(ws: Workspace, owner: Signer, profile_name: str) -> RegisteredIssuer:
    """Accredits a local issuer profile on chain (the registry owner signs), registers its signing
    keys (the issuer's account signs) and re-signs and anchors its status lists. Safe to run again:
    accreditation and keys are only sent when missing (e.g. the new key after `issuer rotate`, and
    the retirement of the old one); the status lists are re-anchored each time."""
    profile = profiles.load_issuer(ws, profile_name)
    registry = ws.issuer_registry
    if len(profile.did.encode()) > MAX_DID_BYTES or len(profile.name.encode()) > MAX_ISSUER_NAME_BYTES:
        raise InvalidInput(f"the registry holds DIDs up to {MAX_DID_BYTES} bytes and names up to 64")
    if registry.owner().lower() != owner.address.lower():
        raise NotAllowed(
            f"only the registry's owner ({registry.owner()}) accredits issuers, not {owner.address}"
        )
    issuer = ws.signer(profile.account)
    steps: list[tuple[str, int]] = []
    bound = registry.issuer_of_did(profile.did)
    if bound is not None and bound.lower() != issuer.address.lower():
        raise NotAllowed(f"{profile.did} is already bound to another account ({bound}) in the registry")
    if not registry.is_accredited(issuer.address) or registry.info(issuer.address).did != profile.did:
        receipt = registry.accredit(owner.key, issuer.address, profile.did, profile.name)
        steps.append(("accredit", receipt.gas_used))
    if profile.kind == "web":
        now = ws.chain.next_timestamp()
        for key in profiles.issuer_public_keys(ws, profile_name):
            thumb = bytes.fromhex(str(key["thumbprint"])[2:])
            in_use = registry.key_valid_at(issuer.address, thumb, now)
            if key.get("revoked"):
                # rotated out: retired on chain too, so only credentials signed before stay valid
                if in_use:
                    steps.append(
                        (f"retire key {key['kid']}", registry.retire_key(issuer.key, thumb).gas_used)
                    )
                continue
            if not in_use:
                steps.append((f"add key {key['kid']}", registry.add_key(issuer.key, thumb).gas_used))
        for uri in status_lists.publish_status_lists(ws, profile_name, directory=RegistryDirectory(ws)):
            steps.append((f"anchor {uri}", 0))
    return RegisteredIssuer(profile, steps)


def list_registered_issuers(ws: Workspace) -> list[Any]:
    return ws.issuer_registry.issuers()
