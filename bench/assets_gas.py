"""Gas of models and datasets as assets (issue 13), from real receipts on the embedded py-evm chain
(and on anvil when it is installed).

Everything goes through the SDK (`Proofwork.assets`, the same services the CLI uses) on a fresh
data directory: the escrow, then the asset registry and the licensing contract. Figures, all from
transaction receipts (21k base and calldata included):

- `timestamp` of a salted manifest commitment (a new commitment each time);
- `register` of a model with two parents, one creator and an ERC-2981 royalty, by an owner who
  already holds an asset (`asset_register_gas`), and by a first-time owner;
- `buy` of a licence on a model with three parents and one creator, so one purchase credits the
  owner, the creator and the pending share of each of the three upstream assets, with the
  allowance already given (the approval, like the peers', is not counted): by a buyer who already
  holds a licence (`license_buy_gas`) and by a buyer's first licence (`license_buy_first_gas`),
  both after the asset's first sale; the very first sale of an asset (every balance new) and a
  purchase with an EIP-2612 permit riding along are given as context;
- `pay_revenue` to the same asset, `distribute` of one of its parents' pending revenue, and a
  relayed `claim_for` of its creator.

Every purchase, payment and distribution sends the asset's split (creators, parents, details hash),
rebuilt by the SDK from the registry's `AssetRegistered` log and checked on chain against the one hash
the registry stores.

Usage: python bench/assets_gas.py [--no-anvil]. Last line: one JSON object.
"""

from __future__ import annotations

import json
import secrets
import sys
import tempfile
import time
from pathlib import Path

from eth_account import Account

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from proofwork.chain.assets import commitment  # noqa: E402
from proofwork.domain.assets import AssetManifest, Parent, Share  # noqa: E402
from proofwork.sdk import Proofwork, Signer  # noqa: E402
from proofwork.services.assets import publish_manifest  # noqa: E402
from tests.conftest import ANVIL, running_anvil  # noqa: E402

REGISTER_LIMIT = 150_000
BUY_LIMIT = 150_000
TIMESTAMP_LIMIT = 46_000
# Peers measured on the same EVM (py-evm, Prague), figures from issue 13, not re-measured here.
PEERS = {
    "oz_erc721_erc2981_mint_gas": 73_740,
    "oz_erc721_erc2981_mint_per_token_royalty_gas": 96_891,
    "ocean_start_order_gas": 80_936,
    "ocean_start_order_first_gas": 135_024,
    "eas_timestamp_gas": 45_869,
}


class Bench:
    def __init__(self, pw: Proofwork, tmp: Path) -> None:
        self.pw = pw
        self.tmp = tmp
        self.files = 0
        self.owner, self.creator, self.buyer = (pw.signer(f"dev{i}") for i in (1, 2, 3))
        pw.deploy("dev0")
        pw.assets.deploy("dev0")
        pw.fund(self.buyer.address, pw.amount("100000"))

    def fresh(self) -> Signer:
        account = Account.create()
        self.pw.fund(account.address, self.pw.amount("1000"))
        return Signer("fresh", account.address, bytes(account.key))

    def manifest(self) -> AssetManifest:
        self.files += 1
        path = self.tmp / f"file{self.files}.bin"
        path.write_bytes(f"asset file {self.files}".encode())
        manifest, _ = self.pw.assets.manifest([path], kind="model", name=f"asset {self.files}", license="MIT")
        return manifest

    def timestamp(self) -> int:
        signer = self.owner
        cid = publish_manifest(self.pw.ws, self.manifest())
        hashed = commitment(cid, secrets.token_bytes(32), signer.address)
        return self.pw.ws.asset_registry.timestamp(signer.key, hashed).gas_used

    def register(self, who: Signer, parents: tuple[Parent, ...] = ()) -> tuple[int, int]:
        done = self.pw.assets.register(
            who,
            self.manifest(),
            creators=[Share(self.creator.address, 2_000)],
            parents=parents,
            royalty_bps=500,
        )
        return done.asset_id, done.gas

    def buy(self, buyer: Signer, offer_id: int, price: int, *, permit: bool = False) -> int:
        ws = self.pw.ws
        if permit:
            deadline = ws.chain.next_timestamp() + 3600
            v, r, s = ws.token.sign_permit(buyer.key, ws.licensing.address, price, deadline)
            return ws.licensing.buy(buyer.key, offer_id, price, (deadline, v, r, s)).gas_used
        ws.token.approve(buyer.key, ws.licensing.address, price)
        return ws.licensing.buy(buyer.key, offer_id, price).gas_used

    def run(self) -> dict[str, int]:
        pw, ws = self.pw, self.pw.ws
        figures: dict[str, int] = {}
        self.timestamp()
        figures["timestamp_gas"] = self.timestamp()
        roots = [self.register(self.owner)[0] for _ in range(3)]
        two = (Parent(roots[0], 1_000), Parent(roots[1], 1_000))
        figures["asset_register_gas"] = self.register(self.owner, two)[1]
        figures["asset_register_first_owner_gas"] = self.register(self.fresh(), two)[1]
        model, _ = self.register(self.owner, tuple(Parent(r, 1_000) for r in roots))
        price = pw.amount("10")
        offer_id = pw.assets.offer(self.owner, model, price=price, term_seconds=30 * 86_400, commercial=True)
        figures["license_buy_first_sale_gas"] = self.buy(self.buyer, offer_id, price)
        figures["license_buy_gas"] = self.buy(self.buyer, offer_id, price)
        figures["license_buy_first_gas"] = self.buy(self.fresh(), offer_id, price)
        figures["license_buy_with_permit_gas"] = self.buy(self.fresh(), offer_id, price, permit=True)
        ws.token.approve(self.buyer.key, ws.licensing.address, price)
        figures["pay_revenue_gas"] = ws.licensing.pay_revenue(
            self.buyer.key, model, ws.token.address, price
        ).gas_used
        figures["distribute_gas"] = ws.licensing.distribute(
            self.owner.key, roots[0], ws.token.address
        ).gas_used
        figures["claim_gas"] = ws.licensing.claim_for(
            self.owner.key, self.creator.address, ws.token.address
        ).gas_used
        return figures


def run_backend(name: str, rpc_url: str | None) -> dict[str, int]:
    with tempfile.TemporaryDirectory() as tmp, Proofwork.open(Path(tmp) / "data", rpc_url) as pw:
        figures = Bench(pw, Path(tmp)).run()
    print(f"\n[{name}]")
    for step, gas in figures.items():
        print(f"  {step:<36} {gas:>9,}")
    return figures


def main() -> int:
    results = {"embedded": run_backend("embedded py-evm", None)}
    if "--no-anvil" not in sys.argv and ANVIL.exists():
        with running_anvil() as url:
            results["anvil"] = run_backend("anvil", url)
    ours = results["embedded"]
    print("\npeers on the same EVM (issue 13):")
    for peer, gas in PEERS.items():
        print(f"  {peer:<48} {gas:>9,}")
    within = (
        ours["asset_register_gas"] <= REGISTER_LIMIT
        and ours["license_buy_gas"] <= BUY_LIMIT
        and ours["timestamp_gas"] <= TIMESTAMP_LIMIT
    )
    summary: dict[str, object] = {
        **ours,
        "anvil": results.get("anvil"),
        "limits": {
            "asset_register_gas": REGISTER_LIMIT,
            "license_buy_gas": BUY_LIMIT,
            "timestamp_gas": TIMESTAMP_LIMIT,
        },
        "within_limits": within,
        "peers": PEERS,
        "measured_at": int(time.time()),
    }
    print(json.dumps(summary))
    return 0 if within else 1


if __name__ == "__main__":
    raise SystemExit(main())
