"""Handles on `AssetRegistry` (models and datasets as ERC-721 assets with lineage) and `Licensing`
(licence offers, licence tokens and the royalties they pay up the lineage).

The registry stores only keccak256(abi_encode(record)) per asset: a record is rebuilt from its
`AssetRegistered` log and checked against that hash (`record_hash`), and the licensing calls that
split an asset's revenue are sent with the record, which the contract checks the same way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eth_abi import encode
from web3 import Web3

from proofwork.chain.encoding import keccak
from proofwork.chain.events import ContractHandle, check_id
from proofwork.chain.receipts import Receipt
from proofwork.domain.assets import Parent, Share
from proofwork.domain.errors import DataDirCorrupted, NotFound, TransactionRejected

if TYPE_CHECKING:
    from proofwork.chain.unsigned import UnsignedTx

ZERO32 = bytes(32)
# IAssetRegistry.Split as the ABI sees it (creators, parents, details): the registry stores its hash
SPLIT_TYPE = "((address,uint16)[],(uint256,uint16)[],bytes32)"
# what `details` hashes: the rest of the record
DETAILS_TYPES = ["string", "uint8", "uint16", "uint64", "uint64", "uint256", "uint256", "bytes32"]


def commitment(manifest_cid: str, salt: bytes, committer: str) -> bytes:
    """What `timestamp` records for a manifest not yet published: keccak256(manifest || salt ||
    committer's 20 address bytes), as the registry recomputes it at registration."""
    return keccak(manifest_cid.encode() + salt + bytes.fromhex(Web3.to_checksum_address(committer)[2:]))


@dataclass(frozen=True)
class AssetRecord:
    asset_id: int
    owner: str
    manifest: str  # CIDv1 of the manifest JSON
    kind: int
    creators: tuple[Share, ...]
    parents: tuple[Parent, ...]
    royalty_bps: int
    registered_at: int
    existed_since: int
    job_id: int  # 0: not produced by a job
    milestone: int
    deliverable: bytes

    def details(self) -> bytes:
        """keccak256(abi_encode(manifest, kind, royalty_bps, registered_at, existed_since, job_id,
        milestone, deliverable)): the record but its creators and parents."""
        return keccak(
            encode(
                DETAILS_TYPES,
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

    def split(self) -> tuple[Any, ...]:
        """IAssetRegistry.Split as the contracts take it: creators, parents, details."""
        return (
            [(Web3.to_checksum_address(c.account), c.bps) for c in self.creators],
            [(p.asset_id, p.bps) for p in self.parents],
            self.details(),
        )

    def hash(self) -> bytes:
        """keccak256(abi_encode(split)): what the registry stores."""
        return keccak(encode([SPLIT_TYPE], [self.split()]))


@dataclass(frozen=True)
class IpTerms:
    transfer: bool
    creator_bps: int
    max_upstream_bps: int
    proposed: bool
    accepted: bool


class AssetRegistryContract(ContractHandle):
    """`AssetRegistry`: assets as ERC-721 tokens (ERC-2981 royalty), lineage, timestamps, IP terms."""

    def timestamp(self, key: bytes, commitment_hash: bytes) -> Receipt:
        return self.chain.transact(key, self.contract.functions.timestamp(commitment_hash))

    def timestamp_of(self, by: str, commitment_hash: bytes) -> int:
        return int(
            self.chain.call(
                self.contract.functions.timestamp_of(Web3.to_checksum_address(by), commitment_hash)
            )
        )

    def register(
        self,
        key: bytes,
        manifest: str,
        kind: int,
        creators: tuple[Share, ...],
        parents: tuple[Parent, ...],
        royalty_bps: int,
        to: str,
        salt: bytes = ZERO32,
    ) -> Receipt:
        return self.chain.transact(
            key,
            self.contract.functions.register(
                manifest,
                kind,
                [(Web3.to_checksum_address(c.account), c.bps) for c in creators],
                [(p.asset_id, p.bps) for p in parents],
                royalty_bps,
                salt,
                Web3.to_checksum_address(to),
            ),
        )

    def propose_ip_terms(
        self, key: bytes, job_id: int, job: tuple, transfer: bool, creator_bps: int, max_upstream_bps: int
    ) -> Receipt:
        return self.chain.transact(
            key,
            self.contract.functions.propose_ip_terms(job_id, job, transfer, creator_bps, max_upstream_bps),
        )

    def accept_ip_terms(self, key: bytes, job_id: int, job: tuple, terms_hash: bytes) -> Receipt:
        return self.chain.transact(key, self.contract.functions.accept_ip_terms(job_id, job, terms_hash))

    def register_deliverable(
        self,
        key: bytes,
        job_id: int,
        job: tuple,
        milestone: int,
        manifest: str,
        kind: int,
        parents: tuple[Parent, ...],
        royalty_bps: int,
        totals: tuple[int, ...] = (),
    ) -> Receipt:
        """`totals`: for a resolved milestone under accepted terms, what acceptance recorded
        (`accepted_totals`)."""
        return self.chain.transact(
            key,
            self.contract.functions.register_deliverable(
                job_id,
                job,
                milestone,
                manifest,
                kind,
                [(p.asset_id, p.bps) for p in parents],
                royalty_bps,
                list(totals),
            ),
        )

    def ip_terms(self, job_id: int) -> IpTerms:
        transfer, creator_bps, max_upstream, proposed, accepted, _ = self.chain.call(
            self.contract.functions.ip_terms(check_id(job_id, "job id"))
        )
        return IpTerms(bool(transfer), int(creator_bps), int(max_upstream), bool(proposed), bool(accepted))

    def accepted_totals(self, job_id: int) -> tuple[int, ...]:
        """Each milestone's full price when the job's IP terms were accepted (the IpTermsAccepted
        log); empty when they were not."""
        for event in self.events("IpTermsAccepted", subject=job_id):
            return tuple(int(t) for t in event.args["totals"])
        return ()

    def deliverable_asset(self, job_id: int, milestone: int) -> int:
        return int(self.chain.call(self.contract.functions.deliverable_asset(job_id, milestone)))

    def count(self) -> int:
        return int(self.chain.call(self.contract.functions.asset_count()))

    def record_hash(self, asset_id: int) -> bytes:
        return bytes(self.chain.call(self.contract.functions.record_hash(check_id(asset_id, "asset id"))))

    def asset(self, asset_id: int) -> AssetRecord:
        """The asset's record, rebuilt from its `AssetRegistered` log and checked against the
        registry's hash, with its current owner."""
        check_id(asset_id, "asset id")
        if not 1 <= asset_id <= self.count():
            raise NotFound(f"no asset {asset_id}")
        stored = self.record_hash(asset_id)
        owner = str(self.chain.call(self.contract.functions.ownerOf(asset_id)))
        for event in self.events("AssetRegistered", subject=asset_id):
            a = event.args
            record = AssetRecord(
                asset_id,
                owner,
                str(a["manifest"]),
                int(a["kind"]),
                tuple(Share(str(c["account"]), int(c["bps"])) for c in a["creators"]),
                tuple(Parent(int(p["asset_id"]), int(p["bps"])) for p in a["parents"]),
                int(a["royalty_bps"]),
                int(a["registered_at"]),
                int(a["existed_since"]),
                int(a["job_id"]),
                int(a["milestone"]),
                bytes(a["deliverable"]),
            )
            if record.hash() == stored:
                return record
        raise DataDirCorrupted(
            f"asset {asset_id}: no AssetRegistered log matches the registry's record hash; "
            "the node may be serving incomplete logs"
        )

    def royalty_info(self, asset_id: int, sale_price: int) -> tuple[str, int]:
        receiver, amount = self.chain.call(self.contract.functions.royaltyInfo(asset_id, sale_price))
        return str(receiver), int(amount)

    def asset_id_of(self, receipt: Receipt) -> int:
        for event in self.receipt_events(receipt):
            if event.name == "AssetRegistered":
                return int(event.args["asset_id"])
        raise NotFound("the transaction registered no asset")


@dataclass(frozen=True)
class Offer:
    offer_id: int
    asset_id: int
    seller: str
    token: str
    price: int
    term_seconds: int  # 0: perpetual
    commercial: bool
    kind: int  # 0 download, 1 compute
    transferable: bool
    revocable: bool
    terms_cid: str
    max_licences: int  # 0: unlimited
    sold: int
    active: bool


@dataclass(frozen=True)
class Licence:
    licence_id: int
    holder: str
    offer_id: int
    asset_id: int
    kind: int
    commercial: bool
    expires_at: int  # 0: perpetual
    revoked: bool
    price: int
    token: str
    valid: bool


class LicensingContract(ContractHandle):
    """`Licensing`: offers on assets, licence tokens, revenue split one level at a time and pulled.
    `registry` (set by whoever opens the handle) gives the asset records the splitting calls carry."""

    registry: AssetRegistryContract | None = None

    def _record(self, asset_id: int) -> tuple[Any, ...]:
        if self.registry is None:
            raise NotFound("the licensing handle has no asset registry to read records from")
        return self.registry.asset(asset_id).split()

    def offer(
        self,
        key: bytes,
        asset_id: int,
        token: str,
        price: int,
        term_seconds: int,
        commercial: bool,
        kind: int,
        transferable: bool,
        revocable: bool,
        terms_cid: str,
        max_licences: int,
    ) -> Receipt:
        return self.chain.transact(
            key,
            self.contract.functions.offer(
                asset_id,
                Web3.to_checksum_address(token),
                price,
                term_seconds,
                commercial,
                kind,
                transferable,
                revocable,
                terms_cid,
                max_licences,
            ),
        )

    def withdraw_offer(self, key: bytes, offer_id: int) -> Receipt:
        return self.chain.transact(key, self.contract.functions.withdraw_offer(offer_id))

    def buy(
        self, key: bytes, offer_id: int, max_price: int, permit: tuple[int, int, bytes, bytes] | None = None
    ) -> Receipt:
        """`buy`, or `buy_with_permit` with an EIP-2612 permit's (deadline, v, r, s)."""
        return self.chain.transact(key, self._buy_fn(offer_id, max_price, permit))

    def prepare_buy(
        self, sender: str, offer_id: int, max_price: int, permit: tuple[int, int, bytes, bytes] | None = None
    ) -> UnsignedTx:
        """`buy` (or `buy_with_permit`) from `sender`, unsigned, for their wallet to sign."""
        fn = self._buy_fn(offer_id, max_price, permit)
        return self.chain.prepare(sender, fn, f"buy a licence under offer {offer_id}")

    def _buy_fn(self, offer_id: int, max_price: int, permit: tuple[int, int, bytes, bytes] | None) -> Any:
        fns = self.contract.functions
        record = self._record(self.get_offer(offer_id).asset_id)
        if permit is None:
            return fns.buy(offer_id, max_price, record)
        return fns.buy_with_permit(offer_id, max_price, record, *permit)

    def pay_revenue(self, key: bytes, asset_id: int, token: str, amount: int) -> Receipt:
        return self.chain.transact(
            key,
            self.contract.functions.pay_revenue(
                asset_id, Web3.to_checksum_address(token), amount, self._record(asset_id)
            ),
        )

    def distribute(self, key: bytes, asset_id: int, token: str) -> Receipt:
        return self.chain.transact(
            key,
            self.contract.functions.distribute(
                asset_id, Web3.to_checksum_address(token), self._record(asset_id)
            ),
        )

    def claim_for(self, key: bytes, account: str, token: str) -> Receipt:
        return self.chain.transact(
            key,
            self.contract.functions.claim_for(
                Web3.to_checksum_address(account), Web3.to_checksum_address(token)
            ),
        )

    def revoke(self, key: bytes, licence_id: int, reason_cid: str) -> Receipt:
        return self.chain.transact(key, self.contract.functions.revoke(licence_id, reason_cid))

    def surrender(self, key: bytes, licence_id: int) -> Receipt:
        return self.chain.transact(key, self.contract.functions.surrender(licence_id))

    def pending(self, asset_id: int, token: str) -> int:
        return int(
            self.chain.call(self.contract.functions.pending(asset_id, Web3.to_checksum_address(token)))
        )

    def claimable(self, account: str, token: str) -> int:
        return int(
            self.chain.call(
                self.contract.functions.claimable(
                    Web3.to_checksum_address(account), Web3.to_checksum_address(token)
                )
            )
        )

    def offer_count(self) -> int:
        return int(self.chain.call(self.contract.functions.offer_count()))

    def licence_count(self) -> int:
        return int(self.chain.call(self.contract.functions.licence_count()))

    def get_offer(self, offer_id: int) -> Offer:
        check_id(offer_id, "offer id")
        if not 1 <= offer_id <= self.offer_count():
            raise NotFound(f"no licence offer {offer_id}")
        values = self.chain.call(self.contract.functions.get_offer(offer_id))
        (
            asset_id,
            seller,
            token,
            price,
            term,
            commercial,
            kind,
            transferable,
            revocable,
            terms,
            cap,
            sold,
            on,
        ) = values
        return Offer(
            offer_id,
            int(asset_id),
            str(seller),
            str(token),
            int(price),
            int(term),
            bool(commercial),
            int(kind),
            bool(transferable),
            bool(revocable),
            str(terms),
            int(cap),
            int(sold),
            bool(on),
        )

    def licence(self, licence_id: int) -> Licence:
        check_id(licence_id, "licence id")
        if not 1 <= licence_id <= self.licence_count():
            raise NotFound(f"no licence {licence_id}")
        offer_id, asset_id, kind, commercial, expires_at, revoked, price, token = self.chain.call(
            self.contract.functions.licence(licence_id)
        )
        valid = bool(self.chain.call(self.contract.functions.is_valid(licence_id)))
        try:
            holder = str(self.chain.call(self.contract.functions.ownerOf(licence_id)))
        except TransactionRejected:  # surrendered: the token is burnt, its data stays
            holder = ""
        return Licence(
            licence_id,
            holder,
            int(offer_id),
            int(asset_id),
            int(kind),
            bool(commercial),
            int(expires_at),
            bool(revoked),
            int(price),
            str(token),
            valid,
        )

    def licence_id_of(self, receipt: Receipt) -> int:
        for event in self.receipt_events(receipt):
            if event.name == "LicenceBought":
                return int(event.args["licence_id"])
        raise NotFound("the transaction bought no licence")

    def offer_id_of(self, receipt: Receipt) -> int:
        for event in self.receipt_events(receipt):
            if event.name == "Offered":
                return int(event.args["offer_id"])
        raise NotFound("the transaction made no offer")
