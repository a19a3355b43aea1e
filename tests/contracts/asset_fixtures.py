"""Fixtures and helpers for the AssetRegistry and Licensing tests.

The registry and licensing contracts are deployed from their own deployer account (see
`committee_fixtures.COMMITTEE_DEPLOYER` for why), over the module's `escrow` and `token`
(conftest). `paid_milestone` drives a real JobEscrow job through the model-checked
harness to a PAID milestone. `split` is the reference model of a one-level revenue split.

The registry stores only a hash of each record; `capture` keeps the record an
`AssetRegistered` event carries (`register` does it), `record_of` gives it back and
`split_of` gives what the licensing calls take (creators, parents, details hash).

Each test module declares its module-scoped `registry` and `licensing` fixtures with
`deploy_registry(escrow)` and `deploy_licensing(registry)`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Record:
    """An asset's record as its AssetRegistered event gave it."""

    asset_id: int
    manifest: str
    kind: int
    creators: tuple[tuple[str, int], ...]
    parents: tuple[tuple[int, int], ...]
    royalty_bps: int
    registered_at: int
    existed_since: int
    job_id: int
    milestone: int
    deliverable: bytes

    def details(self) -> bytes:
        return keccak(
            eth_abi.encode(
                ["string", "uint8", "uint16", "uint64", "uint64", "uint256", "uint256", "bytes32"],
                [
                    self.manifest,
                    self.kind,
                    self.royalty_bps,
                    self.registered_at,
                    self.existed_since,
                    self.job_id,
                    self.milestone,
                    self.deliverable,
                ],
            )
        )

    def split(self) -> tuple:
        """IAssetRegistry.Split: (creators, parents, details)."""
        return ([tuple(c) for c in self.creators], [tuple(p) for p in self.parents], self.details())

    def hash(self) -> bytes:
        creators, parents, details = self.split()
        return keccak(
            eth_abi.encode(
                ["((address,uint16)[],(uint256,uint16)[],bytes32)"],
                [([(to_checksum_address(a), b) for a, b in creators], parents, details)],
            )
        )


# (registry address, asset id) -> the record of its latest registration
RECORDS: dict[tuple[str, int], Record] = {}


def capture(registry) -> int:
    """Keeps the record of the AssetRegistered event of the registry's last call; returns its id."""
    for log in reversed(registry.get_logs()):
        if type(log).__name__ == "AssetRegistered":
            rec = Record(
                log.asset_id,
                log.manifest,
                log.kind,
                tuple((to_checksum_address(str(c[0])), c[1]) for c in log.creators),
                tuple((p[0], p[1]) for p in log.parents),
                log.royalty_bps,
                log.registered_at,
                log.existed_since,
                log.job_id,
                log.milestone,
                log.deliverable,
            )
            RECORDS[(str(registry.address).lower(), rec.asset_id)] = rec
            return rec.asset_id
    raise AssertionError("the last call registered no asset")


def record_of(registry, asset_id: int) -> Record:
    return RECORDS[(str(registry.address).lower(), asset_id)]


def split_of(registry, asset_id: int) -> tuple:
    """What `buy`, `pay_revenue` and `distribute` take for the asset."""
    return record_of(registry, asset_id).split()


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
    asset_id = registry.register(
        manifest,
        kind,
        list(creators),
        list(parents),
        royalty_bps,
        salt,
        sender if to is None else to,
        sender=sender,
    )
    assert capture(registry) == asset_id
    return asset_id


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


EMPTY_SPLIT = ([], [], ZERO32)


def _split_or_empty(registry_address: str, asset_id: int) -> tuple:
    rec = RECORDS.get((str(registry_address).lower(), asset_id))
    return rec.split() if rec is not None else EMPTY_SPLIT


def offer_split(licensing, offer_id: int) -> tuple:
    """The split of the asset an offer is on (an empty one for an unknown offer)."""
    if not 1 <= offer_id <= licensing.offer_count():
        return EMPTY_SPLIT
    return _split_or_empty(licensing.registry(), licensing.get_offer(offer_id).asset_id)


def _as(sender) -> dict:
    return {} if sender is None else {"sender": sender}


def buy(licensing, offer_id: int, max_price: int, *, sender=None) -> int:
    """`Licensing.buy` with the asset's registered split, as the SDK sends it."""
    return licensing.buy(offer_id, max_price, offer_split(licensing, offer_id), **_as(sender))


def buy_with_permit(licensing, offer_id: int, max_price: int, deadline, v, r, s, *, sender=None) -> int:
    return licensing.buy_with_permit(
        offer_id, max_price, offer_split(licensing, offer_id), deadline, v, r, s, **_as(sender)
    )


def pay_revenue(licensing, asset_id: int, token: str, amount: int, *, sender=None) -> None:
    licensing.pay_revenue(
        asset_id, token, amount, _split_or_empty(licensing.registry(), asset_id), **_as(sender)
    )


def distribute(licensing, asset_id: int, token: str, *, sender=None) -> None:
    licensing.distribute(asset_id, token, _split_or_empty(licensing.registry(), asset_id), **_as(sender))
