"""A labeler's work: a batch served to an eligible labeler, its answers signed (EIP-712) and taken.

Serving follows the campaign spec: items still short of `labels_per_item` first, then one more label
for each item the last round found uncertain (up to `max_labels_per_item`); never an item twice to one
labeler; gold items are items like any other (at least one in a batch while any is left to serve); a
revealed gold item is never served again; an unanswered batch expires after `batch_ttl_s` and its
items are served again; nothing is served once the labels given (answered or out in open batches)
times the most a label can cost would pass the budget, nor past the labeler's cap.

A signed batch is taken whole or not at all: answers only for the batch's items, each once, labels
from the label set, signed by the labeler it was served to, before it expires, once."""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from proofwork.db.labeling_store import BatchRow, LabelingStore
from proofwork.domain.addresses import parse_address
from proofwork.domain.errors import LabelRefused, NotFound, ProofworkError
from proofwork.domain.labeling import CampaignSpec, max_pay_per_label
from proofwork.services.labeling.campaigns import Campaign, load_campaign, open_store
from proofwork.services.workspace import Workspace

MAX_ANSWER_TEXT = 128


@dataclass(frozen=True)
class ServedBatch:
    """A batch as served to its labeler: what to label, until when, and what to sign."""

    chain_id: int
    payouts: str
    campaign_id: int
    batch_id: bytes
    labeler: str
    items: tuple[str, ...]
    labels: tuple[str, ...]
    expires_at: int
    answered: bool = False

    def typed_data(self, answers: Sequence[tuple[str, str]]) -> dict[str, Any]:
        """The EIP-712 JSON the labeler's wallet signs for these answers."""
        from proofwork.chain.labeling import batch_typed_data_json

        return batch_typed_data_json(
            self.chain_id, self.payouts, self.campaign_id, self.batch_id, answers, self.expires_at
        )

    def sign(self, key: bytes, answers: Sequence[tuple[str, str]]) -> bytes:
        from proofwork.chain.labeling import sign_batch

        return sign_batch(
            key, self.chain_id, self.payouts, self.campaign_id, self.batch_id, answers, self.expires_at
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign_id,
            "batch": "0x" + self.batch_id.hex(),
            "labeler": self.labeler,
            "items": list(self.items),
            "labels": list(self.labels),
            "expires_at": self.expires_at,
            "answered": self.answered,
            "chain_id": self.chain_id,
            "payouts": self.payouts,
        }


def _served(ws: Workspace, campaign: Campaign, batch: BatchRow) -> ServedBatch:
    return ServedBatch(
        ws.chain_id,
        ws.label_payouts.address,
        campaign.campaign_id,
        batch.batch_id,
        batch.labeler,
        batch.items,
        campaign.spec.labels,
        batch.expires_at,
        batch.answered,
    )


def check_eligible(
    ws: Workspace, spec: CampaignSpec, labeler: str, presentation: str | None, audience: str
) -> None:
    """Refuses (`not_eligible`) a labeler the campaign's eligibility rule leaves out."""
    rule = spec.eligibility
    if rule.kind == "anyone":
        return
    labeler = parse_address(labeler, "labeler")  # checksummed, as the chain handles want
    if rule.kind == "badge":
        from proofwork.services.badges import badges_of

        if not any(b.skill == rule.skill for b in badges_of(ws, labeler)):
            raise LabelRefused(
                "not_eligible", f"{labeler} holds no {rule.skill!r} skill badge, which this campaign asks for"
            )
        return
    if rule.kind == "reputation":
        from proofwork.services.reputation import reputation_of

        try:
            score = reputation_of(ws, labeler).score
        except NotFound:
            score = 0.0
        ppm = int(score * 1_000_000)
        if rule.min_reputation is None or ppm < rule.min_reputation:
            raise LabelRefused(
                "not_eligible",
                f"{labeler}'s reputation is {ppm} ppm; this campaign asks for at least {rule.min_reputation} ppm",
            )
        return
    # a credential from the issuer, presented by its holder (key-bound to the labeler's address)
    if not presentation:
        raise LabelRefused(
            "not_eligible",
            f"this campaign asks for a credential from {rule.issuer}: present it with the request",
        )
    from proofwork.services.credentials.verification import verify

    try:
        checked = verify(
            ws, presentation, audience=audience, nonce=labeler.lower(), resolver=None, directory=None
        )
    except ProofworkError as exc:
        raise LabelRefused("not_eligible", f"the credential was refused: {exc}") from None
    if checked.issuer != rule.issuer:
        raise LabelRefused("not_eligible", f"the credential is from {checked.issuer}, not from {rule.issuer}")
    if not checked.key_bound or (checked.holder_address or "").lower() != labeler.lower():
        raise LabelRefused("not_eligible", f"the credential is not bound to {labeler}'s key")


def credential_audience(chain_id: int, payouts: str, campaign_id: int) -> str:
    """The audience a labeler's credential presentation names (its nonce is the labeler's address)."""
    return f"proofwork-label:{chain_id}:{payouts.lower()}:{campaign_id}"


def _choose(
    spec: CampaignSpec,
    store: LabelingStore,
    campaign: Campaign,
    labeler: str,
    batches: list[BatchRow],
    now: int,
    room: int,
) -> list[str]:
    """The items to serve `labeler` next, at most `room` of them."""
    items = store.items(campaign.campaign_id)
    answers = store.answers(campaign.campaign_id)
    answered = Counter(item for _, item, _, _ in answers)
    open_items: Counter[str] = Counter()
    seen: set[str] = {item for who, item, _, _ in answers if who == labeler}
    for b in batches:
        if b.labeler == labeler:
            seen.update(b.items)
        if b.open_at(now):
            open_items.update(b.items)
    uncertain = dict(campaign.row.uncertain)
    ranked = []
    for row in items:
        if row.item in seen or (row.gold and row.revealed_round):
            continue
        given = answered[row.item] + open_items[row.item]
        target = spec.labels_per_item
        if row.item in uncertain:
            target = max(target, min(spec.max_labels_per_item, uncertain[row.item] + 1))
        if given >= target:
            continue
        ranked.append((given >= spec.labels_per_item, given, row.position, row.item, bool(row.gold)))
    ranked.sort()
    chosen = ranked[:room]
    if chosen and not any(c[4] for c in chosen):
        spare = next((r for r in ranked[room:] if r[4]), None)
        if spare is not None:
            chosen[-1] = spare
    return [c[3] for c in chosen]


def next_batch(
    ws: Workspace, campaign_id: int, labeler: str, *, presentation: str | None = None
) -> ServedBatch:
    """The labeler's open batch, or a new one (refused with a stable reason when there is no work)."""
    labeler = parse_address(labeler, "labeler").lower()
    with open_store(ws) as store, store.exclusive():
        campaign = load_campaign(store, campaign_id)
        spec = campaign.spec
        now = ws.chain.now()
        if now >= campaign.row.close_time:
            raise LabelRefused("campaign_closed", f"campaign {campaign_id} is past its close time")
        batches = store.batches(campaign_id)
        mine = [b for b in batches if b.labeler == labeler and b.open_at(now)]
        if mine:
            return _served(ws, campaign, mine[0])
        audience = credential_audience(ws.chain_id, ws.label_payouts.address, campaign_id)
        check_eligible(ws, spec, labeler, presentation, audience)
        given = store.labels_given(campaign_id)
        out = sum(len(b.items) for b in batches if b.open_at(now))
        budget_room = spec.budget // max_pay_per_label(spec) - given - out
        if budget_room <= 0:
            raise LabelRefused(
                "budget_spent",
                f"campaign {campaign_id}'s budget pays {spec.budget // max_pay_per_label(spec)} labels: "
                f"{given} are given and {out} are out in open batches",
            )
        cap_room = spec.per_labeler_cap - store.labels_given(campaign_id, labeler)
        if cap_room <= 0:
            raise LabelRefused(
                "labeler_cap", f"{labeler} has given the {spec.per_labeler_cap} labels one labeler may give"
            )
        room = min(spec.batch_size, budget_room, cap_room)
        chosen = _choose(spec, store, campaign, labeler, batches, now, room)
        if not chosen:
            raise LabelRefused(
                "no_work", f"campaign {campaign_id} has nothing left for {labeler} to label now"
            )
        batch = BatchRow(
            secrets.token_bytes(32),
            campaign_id,
            labeler,
            tuple(chosen),
            now,
            int(time.time() * 1000),
            now + spec.batch_ttl_s,
            0,
            0,
            b"",
        )
        store.add_batch(batch)
        return _served(ws, campaign, batch)


def get_batch(ws: Workspace, campaign_id: int, batch_id: bytes) -> ServedBatch:
    with open_store(ws) as store:
        campaign = load_campaign(store, campaign_id)
        batch = store.batch(batch_id)
        if batch is None or batch.campaign_id != campaign_id:
            raise LabelRefused("batch_not_found", f"no batch 0x{batch_id.hex()} in campaign {campaign_id}")
        return _served(ws, campaign, batch)


@dataclass(frozen=True)
class Accepted:
    campaign_id: int
    batch_id: bytes
    labeler: str
    answers: int
    ms_per_label: int


def parse_answers(value: object) -> list[tuple[str, str]]:
    """Answers as [[item, label], ...] or [{"item": ..., "label": ...}, ...] or {item: label}."""
    if isinstance(value, dict):
        value = [[k, v] for k, v in value.items()]
    if not isinstance(value, list):
        raise LabelRefused("malformed_answers", "answers must be a list of (item, label) pairs")
    out = []
    for entry in value:
        if isinstance(entry, dict):
            entry = [entry.get("item"), entry.get("label")]
        if (
            not isinstance(entry, list | tuple)
            or len(entry) != 2
            or not all(isinstance(v, str) and 0 < len(v) <= MAX_ANSWER_TEXT for v in entry)
        ):
            raise LabelRefused("malformed_answers", "each answer is an item CID and a label (strings)")
        out.append((str(entry[0]), str(entry[1])))
    return out


def submit_batch(
    ws: Workspace, campaign_id: int, batch_id: bytes, answers: Sequence[tuple[str, str]], signature: bytes
) -> Accepted:
    """Takes a signed batch's answers, all checks first: nothing is stored when one fails."""
    from proofwork.chain.labeling import batch_signer

    with open_store(ws) as store, store.exclusive():
        campaign = load_campaign(store, campaign_id)
        batch = store.batch(batch_id)
        if batch is None or batch.campaign_id != campaign_id:
            raise LabelRefused("batch_not_found", f"no batch 0x{batch_id.hex()} in campaign {campaign_id}")
        if batch.answered:
            raise LabelRefused("batch_answered", f"batch 0x{batch_id.hex()[:16]}... was answered already")
        if not answers:
            raise LabelRefused("empty_batch", "a batch needs at least one answer")
        held, labels = set(batch.items), set(campaign.spec.labels)
        seen: set[str] = set()
        for item, label in answers:
            if item not in held:
                raise LabelRefused(
                    "item_not_in_batch", f"item {item[:64]} is not in batch 0x{batch_id.hex()[:16]}..."
                )
            if item in seen:
                raise LabelRefused("duplicate_answer", f"item {item[:64]} is answered twice")
            seen.add(item)
            if label not in labels:
                raise LabelRefused(
                    "unknown_label", f"label {label[:64]!r} is not in the campaign's label set"
                )
        signer = batch_signer(
            signature, ws.chain_id, ws.label_payouts.address, campaign_id, batch_id, answers, batch.expires_at
        )
        if signer != batch.labeler:
            raise LabelRefused(
                "wrong_signer",
                f"the batch is signed by {signer or 'nobody recoverable'}, not by its labeler {batch.labeler}",
            )
        now = ws.chain.now()
        if batch.ended_at:
            raise LabelRefused(
                "batch_expired",
                f"batch 0x{batch_id.hex()[:16]}... was ended at {batch.ended_at}: a round revealed one of its "
                "gold items; fetch a new one",
            )
        if now > batch.expires_at:
            raise LabelRefused(
                "batch_expired",
                f"batch 0x{batch_id.hex()[:16]}... expired at {batch.expires_at}: fetch a new one",
            )
        ms = max(0, int(time.time() * 1000) - batch.issued_ms) // len(answers)
        store.answer_batch(batch_id, batch.labeler, answers, now, ms, signature)
        return Accepted(campaign_id, batch_id, batch.labeler, len(answers), ms)
