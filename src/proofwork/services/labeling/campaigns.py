"""Labeling campaigns: created with their gold commitments published and their budget escrowed in
`LabelPayouts`; their status; closed (the unowed rest refunded) after their close time."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proofwork.db.labeling_store import CampaignRow, LabelingStore, labeling_db_path
from proofwork.domain.addresses import parse_address
from proofwork.domain.errors import InvalidInput, LabelRefused, NotAllowed, NotFound
from proofwork.domain.evalspec import load_document
from proofwork.domain.labeling import (
    BPS,
    CampaignSpec,
    canonical_spec,
    gold_commitment,
    parse_campaign_spec,
    spec_hash,
)
from proofwork.services.workspace import Signer, Workspace
from proofwork.storage.unixfs import cid_of_bytes

if TYPE_CHECKING:
    from proofwork.chain.labeling import CampaignState
    from proofwork.chain.receipts import Receipt

DAY = 86_400
DEFAULT_CHALLENGE_WINDOW = 3_600
DEFAULT_DURATION = 30 * DAY
MAX_GOLD_FILE = 16 * 1024 * 1024
MAX_COMMITMENTS_BYTES = 64 * 1024 * 1024
CLAIM_PERIOD = 365 * DAY  # LabelPayouts: claims stay open this long after the close


def open_store(ws: Workspace) -> LabelingStore:
    """The labeling service's database for this chain and LabelPayouts deployment."""
    return LabelingStore(labeling_db_path(ws.data_dir), ws.chain_id, ws.label_payouts.address)


@dataclass(frozen=True)
class Campaign:
    """A campaign as this labeling service holds it, with its spec."""

    campaign_id: int
    spec: CampaignSpec
    row: CampaignRow

    @property
    def spec_hash(self) -> bytes:
        return bytes.fromhex(self.row.spec_hash)


def on_chain(ws: Workspace, campaign_id: int) -> CampaignState:
    """The campaign as `LabelPayouts` holds it; NotFound for an id it does not know."""
    state = ws.label_payouts.campaign(campaign_id)
    if not state.exists:
        raise NotFound(f"no labeling campaign {campaign_id} on chain")
    return state


def load_campaign(store: LabelingStore, campaign_id: int) -> Campaign:
    try:
        row = store.campaign(campaign_id)
    except NotFound as exc:
        raise LabelRefused("campaign_not_found", str(exc)) from None
    return Campaign(campaign_id, parse_campaign_spec(row.spec), row)


@dataclass(frozen=True)
class CreatedCampaign:
    campaign_id: int
    spec: CampaignSpec
    spec_cid: str
    spec_hash: bytes
    commitments_cid: str
    gold_items: int
    close_time: int
    receipts: list[Receipt]


def _gold_of(
    text: bytes, items: tuple[str, ...], labels: tuple[str, ...], names: Mapping[str, str]
) -> dict[str, str]:
    try:
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            "the gold file is not JSON: expected an object mapping item CIDs to labels"
        ) from exc
    if not isinstance(doc, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in doc.items()
    ):
        raise InvalidInput("the gold file must be a JSON object mapping item CIDs to labels")
    known, allowed = set(items), set(labels)
    doc = {names.get(k, k): v for k, v in doc.items()}
    for item, label in doc.items():
        if item not in known:
            raise InvalidInput(f"gold item {item[:64]} is not an item of the campaign")
        if label not in allowed:
            raise InvalidInput(f"gold label {label[:64]!r} of {item[:64]} is not in the campaign's label set")
    return dict(doc)


def prepare_spec(
    spec_text: bytes, gold_text: bytes, items_dir: Path | None, ws: Workspace
) -> tuple[CampaignSpec, bytes, dict[str, tuple[bytes, str]]]:
    """The campaign spec with its gold commitments filled in, the commitments file, and each item's
    (salt, gold label or "").

    `items_dir`, when given, replaces the spec's `items` with the files of the directory (sorted by
    name, each stored in the content store); the gold file may then name items by file name."""
    doc = load_document(spec_text)
    if not isinstance(doc, dict):
        raise InvalidInput("invalid spec: expected a mapping of fields")
    names: dict[str, str] = {}
    if items_dir is not None:
        if not items_dir.is_dir():
            raise InvalidInput(f"{items_dir} is not a directory")
        files = sorted(p for p in items_dir.iterdir() if p.is_file())
        if not files:
            raise InvalidInput(f"no item files in {items_dir}")
        names = {p.name: ws.store.add_file(p) for p in files}
        doc["items"] = list(names.values())
    gold_section = doc.get("gold")
    if not isinstance(gold_section, dict):
        raise InvalidInput("invalid spec: field 'gold' must be a mapping with 'share_bps'")
    # parsed once with a placeholder commitment: every other field is checked before anything is stored
    placeholder = {"commitments_cid": cid_of_bytes(b""), "commitments_sha256": "0" * 64}
    draft = parse_campaign_spec(json.dumps({**doc, "gold": {**gold_section, **placeholder}}))
    if len(gold_text) > MAX_GOLD_FILE:
        raise InvalidInput("the gold file is larger than 16 MiB")
    gold = _gold_of(gold_text, draft.items, draft.labels, names)
    n, share = len(draft.items), draft.gold.share_bps
    if not share * n // BPS <= len(gold) <= -(-share * n // BPS):
        raise InvalidInput(
            f"the spec asks for {share / 100:g} % gold items of {n} ({share * n / BPS:g}); the gold file has {len(gold)}"
        )
    secrets_by_item = {item: (secrets.token_bytes(32), gold.get(item, "")) for item in draft.items}
    commitments = {
        item: gold_commitment(salt, item, label) for item, (salt, label) in secrets_by_item.items()
    }
    commitments_file = json.dumps(commitments, sort_keys=True, separators=(",", ":")).encode()
    filled = {
        **gold_section,
        "commitments_cid": cid_of_bytes(commitments_file),
        "commitments_sha256": hashlib.sha256(commitments_file).hexdigest(),
    }
    spec = parse_campaign_spec(json.dumps({**doc, "gold": filled}))
    return spec, commitments_file, secrets_by_item


def create_campaign(
    ws: Workspace,
    client: Signer,
    spec_text: bytes,
    gold_text: bytes,
    *,
    items_dir: Path | None = None,
    challenge_window: int = DEFAULT_CHALLENGE_WINDOW,
    duration: int = DEFAULT_DURATION,
    committee: str | None = None,
) -> CreatedCampaign:
    """Creates a campaign: the spec and the gold commitments file stored by CID, the budget approved
    and escrowed in `LabelPayouts` under the committee, the items' salts and gold labels kept secret
    in this service's database until each gold item is revealed after a round."""
    if not 3_600 <= challenge_window <= 7 * DAY:
        raise InvalidInput("the challenge window must be between 1 hour and 7 days")
    if not challenge_window < duration <= 730 * DAY:
        raise InvalidInput("the campaign must last longer than its challenge window and at most 730 days")
    spec, commitments_file, item_secrets = prepare_spec(spec_text, gold_text, items_dir, ws)
    payouts = ws.label_payouts
    committee = parse_address(committee, "committee") if committee else ws.committee.address
    token = ws.token_at(spec.token)
    balance = token.balance_of(client.address)
    if balance < spec.budget:
        raise NotAllowed(f"{client.name} holds {balance} token units; the budget is {spec.budget}")
    commitments_cid = ws.store.add_bytes(commitments_file)
    spec_bytes = canonical_spec(spec)
    spec_cid = ws.store.add_bytes(spec_bytes)
    digest = spec_hash(spec)
    close_time = ws.chain.next_timestamp() + duration
    receipts = []
    if token.allowance(client.address, payouts.address) < spec.budget:
        receipts.append(token.approve(client.key, payouts.address, spec.budget))
    campaign_id, receipt = payouts.create(
        client.key,
        token=spec.token,
        budget=spec.budget,
        committee=committee,
        spec_hash=digest,
        challenge_window=challenge_window,
        close_time=close_time,
    )
    receipts.append(receipt)
    with open_store(ws) as store:
        store.add_campaign(
            CampaignRow(
                campaign_id,
                client.address,
                spec_bytes.decode(),
                digest.hex(),
                spec_cid,
                commitments_cid,
                close_time,
                (),
            ),
            [(item, salt, label) for item, (salt, label) in item_secrets.items()],
        )
    gold_count = sum(1 for _, label in item_secrets.values() if label)
    return CreatedCampaign(
        campaign_id, spec, spec_cid, digest, commitments_cid, gold_count, close_time, receipts
    )


@dataclass(frozen=True)
class CampaignStatus:
    campaign_id: int
    name: str
    chain: CampaignState
    items: int
    gold_revealed: int
    labels_given: int
    labelers: int
    batches_open: int
    rounds: int
    labels_affordable: int  # budget // max pay per label
    now: int

    def to_json(self) -> dict[str, Any]:
        c = self.chain
        return {
            "campaign": self.campaign_id,
            "name": self.name,
            "client": c.client,
            "token": c.token,
            "committee": c.committee,
            "spec_hash": "0x" + c.spec_hash.hex(),
            "budget": c.budget,
            "paid": c.paid,
            "refunded": c.refunded,
            "held": c.held,
            "close_time": c.close_time,
            "closed": c.closed_at != 0,
            "last_round": c.last_round,
            "claimable_round": c.round,
            "claimable_total": c.total,
            "pending_round": c.pending_round,
            "items": self.items,
            "gold_revealed": self.gold_revealed,
            "labels_given": self.labels_given,
            "labels_affordable": self.labels_affordable,
            "labelers": self.labelers,
            "batches_open": self.batches_open,
            "rounds": self.rounds,
        }


def campaign_status(ws: Workspace, campaign_id: int) -> CampaignStatus:
    from proofwork.domain.labeling import max_pay_per_label

    with open_store(ws) as store:
        campaign = load_campaign(store, campaign_id)
        now = ws.chain.now()
        items = store.items(campaign_id)
        answers = store.answers(campaign_id)
        batches = store.batches(campaign_id)
        rounds = store.rounds(campaign_id)
    state = ws.label_payouts.campaign(campaign_id)
    return CampaignStatus(
        campaign_id,
        campaign.spec.name,
        state,
        len(items),
        sum(1 for i in items if i.revealed_round),
        len(answers),
        len({a[0] for a in answers}),
        sum(1 for b in batches if b.open_at(now)),
        len(rounds),
        campaign.spec.budget // max_pay_per_label(campaign.spec),
        now,
    )


def list_campaigns(ws: Workspace) -> list[CampaignStatus]:
    with open_store(ws) as store:
        ids = store.campaign_ids()
    return [campaign_status(ws, i) for i in ids]


def close_campaign(ws: Workspace, caller: Signer, campaign_id: int) -> tuple[int, Receipt]:
    """Closes a campaign after its close time: what the claimable root does not owe returns to the
    client (anyone may call it). Returns the refund."""
    payouts = ws.label_payouts
    state = on_chain(ws, campaign_id)
    if state.closed_at:
        raise NotAllowed(f"campaign {campaign_id} is already closed")
    if ws.chain.next_timestamp() < state.close_time:
        raise NotAllowed(f"campaign {campaign_id} closes at {state.close_time}, not before")
    receipt = payouts.close(caller.key, campaign_id)
    closed = [e for e in payouts.receipt_events(receipt) if e.name == "CampaignClosed"]
    return int(closed[0].args["refunded"]), receipt


def sweep_campaign(ws: Workspace, caller: Signer, campaign_id: int) -> tuple[int, Receipt]:
    """A year after the close, what labelers left unclaimed returns to the client (anyone may call it)."""
    payouts = ws.label_payouts
    state = on_chain(ws, campaign_id)
    if not state.closed_at:
        raise NotAllowed(f"campaign {campaign_id} is not closed: close it first")
    if ws.chain.next_timestamp() < state.closed_at + CLAIM_PERIOD:
        raise NotAllowed(
            f"labelers may claim in campaign {campaign_id} until {state.closed_at + CLAIM_PERIOD}"
        )
    if state.held == 0:
        raise NotAllowed(f"campaign {campaign_id} holds nothing to sweep")
    receipt = payouts.sweep(caller.key, campaign_id)
    swept = [e for e in payouts.receipt_events(receipt) if e.name == "UnclaimedSwept"]
    return int(swept[0].args["amount"]), receipt
