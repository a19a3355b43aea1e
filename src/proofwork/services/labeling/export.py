"""`label export`: a round's aggregated dataset (`dataset_asset`'s files: labels.csv, labels.parquet,
labelers.csv with their shares) recomputed from the published round bundle, so the dataset is exactly
what the committee signed for; each file stored by CID. With a registrant, the dataset is registered as
an asset whose creators include a `LabelerRoyalties` contract bound to the campaign's claimable root
(the labelers earn their shares when it is licensed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from proofwork.domain.errors import InvalidInput, NotAllowed
from proofwork.services.labeling import dataset_asset
from proofwork.services.labeling.campaigns import on_chain
from proofwork.services.labeling.rounds import verify_round
from proofwork.services.workspace import Signer, Workspace


@dataclass(frozen=True)
class Exported:
    campaign_id: int
    round: int
    items: int
    labelers: int
    cids: dict[str, str]  # file name -> CID
    directory: Path
    asset_id: int | None = None
    royalties: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign_id,
            "round": self.round,
            "items": self.items,
            "labelers": self.labelers,
            "files": self.cids,
            "directory": str(self.directory),
            "asset_id": self.asset_id,
            "royalties": self.royalties,
        }


def export_round(
    ws: Workspace,
    campaign_id: int,
    round_: int | None,
    out: Path,
    *,
    registrant: Signer | None = None,
    license: str | None = None,
) -> Exported:
    """Writes the dataset of `round_` (default: the claimable one) in `out` and stores its files;
    registers it as an asset when `registrant` is given (the claimable round only)."""
    state = on_chain(ws, campaign_id)
    chosen = round_ or state.round
    if chosen == 0:
        raise NotAllowed(f"campaign {campaign_id} has no claimable round yet: name a posted round")
    if registrant is not None and chosen != state.round:
        raise NotAllowed(
            f"a dataset is registered from the claimable round ({state.round or 'none yet'}), not round {chosen}"
        )
    if out.exists() and not out.is_dir():
        raise InvalidInput(f"{out} is a file, not a directory")
    check = verify_round(ws, campaign_id, chosen)
    if not check.matches:
        raise InvalidInput(
            f"round {chosen} of campaign {campaign_id} does not recompute to its root: not exported"
        )
    result = check.again.result
    # ItemResult is frozen; dataset_asset's AggregatedItem protocol declares plain (settable) attributes
    items = cast("Sequence[dataset_asset.AggregatedItem]", result.items)
    owed = {who: amount for who, amount in result.owed.items() if amount > 0}
    asset_id = royalties = None
    if registrant is not None:
        registered = dataset_asset.register(
            ws,
            registrant,
            ws.label_payouts.address,
            campaign_id,
            check.again.spec,
            items,
            owed,
            out,
            license=license,
        )
        files, asset_id, royalties = registered.files, registered.asset_id, registered.royalties
    else:
        files = dataset_asset.write_files(out, items, owed)
    paths = [files.labels_csv, files.labels_parquet, files.labelers_csv]
    cids = {p.name: ws.store.add_file(p) for p in paths}
    return Exported(campaign_id, chosen, len(result.items), len(owed), cids, out, asset_id, royalties)
