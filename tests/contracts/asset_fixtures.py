"""Fixtures and helpers for the AssetRegistry and Licensing tests.

The registry and licensing contracts are deployed from their own deployer account (see
`committee_fixtures.COMMITTEE_DEPLOYER` for why), over the module's `escrow` and `token`
(conftest). `paid_milestone` drives a real JobEscrow job through the model-checked
harness to a PAID milestone. `split` is the reference model of a one-level revenue split.

Each test module declares its module-scoped `registry` and `licensing` fixtures with
`deploy_registry(escrow)` and `deploy_licensing(registry)`.
"""

from __future__ import annotations

import functools
from pathlib import Path

import boa
import eth_abi
from escrow_harness import OK, EscrowHarness
from eth_utils import keccak, to_checksum_address

ASSETS = Path(__file__).resolve().parents[2] / "contracts" / "assets"
MOCKS = Path(__file__).resolve().parent / "mocks"
ASSET_DEPLOYER = to_checksum_address(keccak(b"proofwork asset deployer")[12:])
ZERO = "0x" + "00" * 20
ZERO32 = b"\x00" * 32
BPS = 10_000
AMOUNT = 1_000_000_000  # 1,000 pUSD (6 decimals)
MANIFEST = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
DAY = 86_400
MODEL, DATASET = 0, 1
DOWNLOAD, COMPUTE = 0, 1


def acct(label: str) -> str:
    return to_checksum_address(keccak(text=f"proofwork asset test {label}")[12:])


def commitment(manifest: str, salt: bytes, committer: str) -> bytes:
    """keccak256(manifest || salt || committer's 20 address bytes)."""
    return keccak(manifest.encode() + salt + bytes.fromhex(committer[2:]))


def terms_hash(transfer: bool, creator_bps: int, max_upstream_bps: int = 0) -> bytes:
    return keccak(eth_abi.encode(["bool", "uint16", "uint16"], [transfer, creator_bps, max_upstream_bps]))


def split(amount: int, parents: list[tuple[int, int]], creators: list[tuple[str, int]], owner: str):
    """Reference one-level split: ({parent asset id: part}, {account: part}) as the contract does it."""
    to_parents: dict[int, int] = {}
    for asset_id, bps in parents:
        part = amount * bps // BPS
        if part:
            to_parents[asset_id] = to_parents.get(asset_id, 0) + part
    rest = amount - sum(to_parents.values())
    to_accounts: dict[str, int] = {}
    for account, bps in creators:
        part = rest * bps // BPS
        if part:
            to_accounts[account] = to_accounts.get(account, 0) + part
    left = rest - sum(to_accounts.values())
    if left:
        to_accounts[owner] = to_accounts.get(owner, 0) + left
    return to_parents, to_accounts


@functools.cache
def registry_partial():
    return boa.load_partial(str(ASSETS / "AssetRegistry.vy"))


@functools.cache
def licensing_partial():
    return boa.load_partial(str(ASSETS / "Licensing.vy"))


def deploy_registry(escrow):
    """The AssetRegistry over `escrow`, from the assets' own deployer (a module fixture's body)."""
    with boa.env.prank(ASSET_DEPLOYER):
        return registry_partial().deploy(escrow.address)


def deploy_licensing(registry):
    """The Licensing of `registry`, from the assets' own deployer (a module fixture's body)."""
    with boa.env.prank(ASSET_DEPLOYER):
        return licensing_partial().deploy(registry.address)


def register(
    registry,
    sender: str,
    *,
    manifest: str = MANIFEST,
    kind: int = MODEL,
    creators=(),
    parents=(),
    royalty_bps: int = 0,
    salt: bytes = ZERO32,
    to: str | None = None,
) -> int:
    return registry.register(
        manifest,
        kind,
        list(creators),
        list(parents),
        royalty_bps,
        salt,
        sender if to is None else to,
        sender=sender,
    )


def fund(token, who: str, spender, amount: int, owner: str) -> None:
    """Mints `amount` to `who` (as the token's owner) and approves `spender` for it."""
    token.mint(who, amount, sender=owner)
    token.approve(spender.address, amount, sender=who)


def paid_milestone(
    h: EscrowHarness, client, freelancer, *, milestones: int = 1, pay: int = 0, terms=None, registry=None
):
    """Creates a job of `milestones` milestones, optionally has IP `terms` (transfer, creator_bps,
    max_upstream_bps) proposed and accepted on `registry` while nothing is settled, then submits and approves
    milestone `pay`. Returns (job_id, the job's state tuple)."""
    job_id = h.create_job(client, [AMOUNT] * milestones, freelancer=freelancer, expect=OK)
    if terms is not None:
        registry.propose_ip_terms(job_id, h.state(job_id), *terms, sender=str(client.address))
        registry.accept_ip_terms(job_id, h.state(job_id), terms_hash(*terms), sender=str(freelancer.address))
    h.submit(freelancer, job_id, pay, expect=OK)
    h.approve(client, job_id, pay, expect=OK)
    return job_id, h.state(job_id)
