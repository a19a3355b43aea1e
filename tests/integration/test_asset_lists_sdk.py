"""Lists of assets and licences through the SDK (`pw.assets.list`, `licences`, `view`,
`licence_detail`), on the embedded chain and on anvil: read from the logs, then from a caught-up index
(the same answer), owners and holders followed through ERC-721 transfers, surrendered and revoked
licences, offers that lapse when the asset changes hands."""

from __future__ import annotations

from pathlib import Path

from proofwork.db.index import IndexStore
from proofwork.domain.assets import Parent, Share
from proofwork.services import asset_listing as L
from proofwork.services.indexer import Indexer
from tests.integration.conftest import DAY, Market


def test_lists_follow_transfers_revocations_and_agree_with_the_index(am: Market, tmp_path: Path) -> None:
    pw, assets = am.pw, am.pw.assets
    (tmp_path / "d.csv").write_bytes(b"x\n1\n")
    (tmp_path / "m.onnx").write_bytes(b"m")
    data, _ = assets.manifest([tmp_path / "d.csv"], kind="dataset", name="d", license="CC0-1.0")
    dataset = assets.register(am.arbiter, data, creators=[Share(am.other.address, 1_000)]).asset_id
    files, _ = assets.manifest([tmp_path / "m.onnx"], kind="model", name="m", license="MIT")
    model = assets.register(am.freelancer, files, parents=[Parent(dataset, 1_500)]).asset_id
    kept = assets.offer(am.freelancer, model, price=pw.amount("3"), revocable=True, transferable=True)
    lapsing = assets.offer(am.arbiter, dataset, price=pw.amount("2"), term_seconds=DAY, max_licences=1)
    first = assets.buy(am.client, kept)
    second = assets.buy(am.client, kept)
    third = assets.buy(am.client, lapsing)
    licensing, registry = pw.ws.licensing, pw.ws.asset_registry
    # the client passes one licence on, surrenders another; the owner revokes the third
    pw.ws.chain.transact(
        am.client.key,
        licensing.contract.functions.transferFrom(am.client.address, am.relayer.address, first),
    )
    licensing.surrender(am.client.key, second)
    # the dataset changes hands: its offer lapses
    pw.ws.chain.transact(
        am.arbiter.key,
        registry.contract.functions.transferFrom(am.arbiter.address, am.operator.address, dataset),
    )

    listed = assets.list()
    assert [a.asset_id for a in listed.items] == [model, dataset] and listed.indexed_block is None
    assert assets.list(owner=am.operator.address).items[0].asset_id == dataset
    assert assets.list(owner=am.arbiter.address).items == []
    assert [a.asset_id for a in assets.list(creator=am.other.address).items] == [dataset]
    licences = {lic.licence_id: lic for lic in assets.licences().items}
    assert licences[first].holder == am.relayer.address and licences[first].valid
    assert licences[second].surrendered and licences[second].holder == "" and not licences[second].valid
    assert licences[third].valid and licences[third].expires_at > 0
    assert [lic.licence_id for lic in assets.licences(holder=am.client.address).items] == [third]
    for lic in licences.values():  # the fold agrees with the contract's own view
        onchain = assets.licence(lic.licence_id)
        assert (onchain.holder, onchain.valid) == (lic.holder, lic.valid)

    view = assets.view(dataset)
    (offer,) = view.offers
    assert offer.offer_id == lapsing and offer.sold == 1 and offer.active and not offer.available
    assert [c.asset_id for c in view.children] == [model] and view.sale is None  # nothing to buy
    model_view = assets.view(model)
    assert model_view.sale_price == pw.amount("3") and model_view.sale is not None
    assert model_view.sale.total == pw.amount("3")
    assert assets.licence_detail(first).offer.transferable

    # a day on, the third has lapsed; the owner revokes the first; the index says what the logs say
    pw.advance_time(DAY + 1)
    licensing.revoke(am.freelancer.key, first, "")
    from_logs = L.read_book(pw.ws)
    assert not from_logs.licences[third].valid and from_logs.licences[first].revoked
    with IndexStore.open(tmp_path / "index.sqlite3") as store:
        Indexer(pw.ws, store).run_once()  # a local chain: no confirmation depth
        from_index = L.read_book(pw.ws, store)
    assert from_index.indexed_block is not None
    assert (from_index.assets, from_index.offers, from_index.licences) == (
        from_logs.assets,
        from_logs.offers,
        from_logs.licences,
    )
