"""A campaign's rounds: the round bundle published by CID (every signed batch so far, the gold items
revealed, the spec), the committee's oracles each recomputing the pay from the bundle alone and signing
the root of (labeler, cumulative amount), the root posted on chain; anyone's `verify`.

The bundle is cumulative (every answer since the campaign began): each round's amounts are a pure
function of public data, and a missed round is harmless."""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from proofwork.domain.errors import InvalidInput, NotAllowed, NotFound
from proofwork.domain.labeling import CampaignSpec, parse_campaign_spec, spec_document, spec_hash
from proofwork.services.labeling.campaigns import MAX_COMMITMENTS_BYTES, load_campaign, on_chain, open_store
from proofwork.services.workspace import Signer, Workspace

if TYPE_CHECKING:
    from proofwork.chain.labeling import CampaignState
    from proofwork.chain.payouts_tree import PayoutsTree
    from proofwork.chain.receipts import Receipt
    from proofwork.db.labeling_store import LabelingStore
    from proofwork.evaluation.label_quality import RoundResult

BUNDLE_KIND = "proofwork label round"
MAX_BUNDLE_BYTES = 256 * 1024 * 1024


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


def _unhex(value: object, size: int | None, what: str, where: str = "the round bundle's ") -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise InvalidInput(f"{where}{what} is not 0x-hex")
    try:
        data = bytes.fromhex(value[2:])
    except ValueError:
        raise InvalidInput(f"{where}{what} is not 0x-hex") from None
    if size is not None and len(data) != size:
        raise InvalidInput(f"{where}{what} is not {size} bytes")
    return data


def floor_of(ws: Workspace, campaign_id: int, claimable_round: int) -> dict[str, int]:
    """The amounts of the claimable root (round `claimable_round`, 0: none): the floor no later round
    may owe anyone less than (`compute_round(floor=...)`)."""
    if claimable_round == 0:
        return {}
    with open_store(ws) as store:
        for r in store.rounds(campaign_id):
            if r.round == claimable_round:
                return dict(r.owed)
    again = verify_round(ws, campaign_id, claimable_round)
    if not again.matches:
        raise NotAllowed(f"round {claimable_round} of campaign {campaign_id} does not recompute to its root")
    return {who: amount for who, amount in again.again.result.owed.items() if amount > 0}


def build_bundle(
    ws: Workspace,
    campaign_id: int,
    round_: int,
    reveal: Sequence[str],
    floor_round: int = 0,
    floor: dict[str, int] | None = None,
) -> bytes:
    """The round bundle (canonical JSON): every answered batch with its signature, the gold revealed
    so far plus `reveal`, the spec, and the floor (the claimable root's round and amounts)."""
    with open_store(ws) as store:
        campaign = load_campaign(store, campaign_id)
        answers = store.answers(campaign_id)
        batches = {b.batch_id.hex(): b for b in store.batches(campaign_id) if b.answered}
        items = store.items(campaign_id)
    by_batch: dict[str, list[list[str]]] = defaultdict(list)
    for _labeler, item, label, batch in answers:
        by_batch[batch].append([item, label])
    wanted = set(reveal)
    gold = [
        {"item": i.item, "salt": _hex(i.salt), "label": i.gold}
        for i in items
        if i.gold and (i.revealed_round or i.item in wanted)
    ]
    doc = {
        "kind": BUNDLE_KIND,
        "version": 1,
        "chain_id": ws.chain_id,
        "payouts": ws.label_payouts.address.lower(),
        "campaign": campaign_id,
        "round": round_,
        "spec": spec_document(campaign.spec),
        "spec_hash": _hex(campaign.spec_hash),
        "batches": [
            {
                "batch": _hex(b.batch_id),
                "labeler": b.labeler,
                "expires_at": b.expires_at,
                "ms": b.ms,
                "signature": _hex(b.signature),
                "answers": sorted(by_batch[key]),
            }
            for key, b in sorted(batches.items())
        ],
        "gold": sorted(gold, key=lambda g: g["item"]),
        "floor": {"round": floor_round, "owed": {k: str(v) for k, v in sorted((floor or {}).items())}},
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Recomputed:
    """A round recomputed from its bundle alone."""

    campaign_id: int
    round: int
    spec: CampaignSpec
    result: RoundResult
    tree: PayoutsTree | None  # None when nobody is owed anything
    answers: int
    labelers: int

    @property
    def root(self) -> bytes:
        return self.tree.root if self.tree is not None else bytes(32)

    @property
    def total(self) -> int:
        return self.tree.total if self.tree is not None else 0


def _commitments(ws: Workspace, spec: CampaignSpec) -> dict[str, str]:
    raw = ws.store.read_bytes(spec.gold.commitments_cid, MAX_COMMITMENTS_BYTES)
    if hashlib.sha256(raw).hexdigest() != spec.gold.commitments_sha256:
        raise InvalidInput("the gold commitments file does not hash to the spec's commitments_sha256")
    doc = json.loads(raw)
    if not isinstance(doc, dict) or set(doc) != set(spec.items):
        raise InvalidInput("the gold commitments file does not commit to exactly the campaign's items")
    return {str(k): str(v) for k, v in doc.items()}


def recompute(
    ws: Workspace, bundle: bytes, campaign_id: int, round_: int, chain_spec_hash: bytes
) -> Recomputed:
    """What a round's amounts are, from its bundle, the commitments file and the spec hash on chain:
    every batch signature checked (InvalidInput on the first that fails), each gold reveal checked
    against its commitment, then `compute_round`."""
    from proofwork.chain.labeling import batch_signer
    from proofwork.chain.payouts_tree import PayoutsTree
    from proofwork.domain.labeling import gold_commitment
    from proofwork.evaluation.label_quality import Answer, GoldReveal, compute_round

    try:
        doc = json.loads(bundle)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("the round bundle is not JSON") from None
    if not isinstance(doc, dict) or doc.get("kind") != BUNDLE_KIND or doc.get("version") != 1:
        raise InvalidInput("not a proofwork label round bundle (version 1)")
    payouts = ws.label_payouts.address
    if (doc.get("chain_id"), doc.get("payouts"), doc.get("campaign"), doc.get("round")) != (
        ws.chain_id,
        payouts.lower(),
        campaign_id,
        round_,
    ):
        raise InvalidInput(
            f"the bundle is not round {round_} of campaign {campaign_id} on this chain and contract"
        )
    spec = parse_campaign_spec(json.dumps(doc.get("spec")))
    if spec_hash(spec) != chain_spec_hash:
        raise InvalidInput("the bundle's spec does not hash to the campaign's spec hash on chain")
    commitments = _commitments(ws, spec)
    labels, answers, pairs, seen = set(spec.labels), [], set(), set()
    batches, reveals = doc.get("batches"), doc.get("gold")
    if not isinstance(batches, list) or not isinstance(reveals, list):
        raise InvalidInput("the round bundle's batches and gold must be lists")
    for b in batches:
        if not isinstance(b, dict) or not isinstance(b.get("answers"), list):
            raise InvalidInput("a batch of the bundle is malformed")
        batch_id = _unhex(b.get("batch"), 32, "batch id")
        if batch_id in seen:
            raise InvalidInput(f"batch {_hex(batch_id)} is in the bundle twice")
        seen.add(batch_id)
        labeler = str(b.get("labeler", "")).lower()
        if not all(
            isinstance(r, list) and len(r) == 2 and all(isinstance(v, str) for v in r) for r in b["answers"]
        ):
            raise InvalidInput(f"batch {_hex(batch_id)} of the bundle holds a malformed answer")
        rows = [(item, label) for item, label in b["answers"]]
        expires = b.get("expires_at")
        ms = b.get("ms")
        if (
            not isinstance(expires, int)
            or isinstance(expires, bool)
            or not isinstance(ms, int)
            or isinstance(ms, bool)
            or ms < 0
        ):
            raise InvalidInput(f"batch {_hex(batch_id)} of the bundle is malformed")
        signer = batch_signer(
            _unhex(b.get("signature"), 65, "signature"),
            ws.chain_id,
            payouts,
            campaign_id,
            batch_id,
            rows,
            expires,
        )
        if signer is None or signer != labeler:
            raise InvalidInput(f"batch {_hex(batch_id)} of the bundle is not signed by its labeler {labeler}")
        for item, label in rows:
            if item not in commitments or label not in labels or (labeler, item) in pairs:
                raise InvalidInput(
                    f"batch {_hex(batch_id)} holds an unknown item or label, or a repeated answer"
                )
            pairs.add((labeler, item))
            answers.append(Answer(labeler, item, label, batch_id.hex(), ms))
    gold = []
    for g in reveals:
        if (
            not isinstance(g, dict)
            or not isinstance(g.get("item"), str)
            or not isinstance(g.get("label"), str)
        ):
            raise InvalidInput("a gold reveal of the bundle is malformed")
        reveal = GoldReveal(g["item"], _unhex(g.get("salt"), 32, "gold salt"), g["label"])
        if commitments.get(reveal.item) != gold_commitment(reveal.salt, reveal.item, reveal.label):
            raise InvalidInput(f"the gold reveal of {reveal.item} does not open its commitment")
        gold.append(reveal)
    floor = _floor(ws, doc.get("floor"), campaign_id, round_)
    result = compute_round(spec, answers, gold, commitments, floor=floor)
    owed = [(who, amount) for who, amount in sorted(result.owed.items()) if amount > 0]
    if sum(result.owed.values()) != result.total or result.total > spec.budget:
        raise InvalidInput("the round's amounts do not add up within the budget")
    tree = PayoutsTree(owed) if owed else None
    return Recomputed(
        campaign_id, round_, spec, result, tree, len(answers), len({a.labeler for a in answers})
    )


def _floor(ws: Workspace, value: object, campaign_id: int, round_: int) -> dict[str, int]:
    """The bundle's floor, checked: the amounts of a root posted on chain for an earlier round."""
    from proofwork.chain.payouts_tree import PayoutsTree

    if (
        not isinstance(value, dict)
        or not isinstance(value.get("round"), int)
        or not isinstance(value.get("owed"), dict)
    ):
        raise InvalidInput("the round bundle's floor is malformed")
    floor_round, owed = value["round"], value["owed"]
    if floor_round == 0:
        if owed:
            raise InvalidInput("the round bundle has a floor without a round")
        return {}
    if not 0 < floor_round < round_:
        raise InvalidInput(f"the round bundle's floor names round {floor_round}, not an earlier one")
    try:
        amounts = {str(k).lower(): int(v) for k, v in owed.items()}
    except (TypeError, ValueError):
        raise InvalidInput("the round bundle's floor amounts are not whole numbers") from None
    root, total, challenged = posted_root(ws, campaign_id, floor_round)
    if challenged or not amounts or PayoutsTree(sorted(amounts.items())).root != root:
        raise InvalidInput(f"the round bundle's floor is not the root posted for round {floor_round}")
    del total
    return amounts


@dataclass(frozen=True)
class SignedRoot:
    oracle: str
    root: bytes
    total: int
    signature: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "oracle": self.oracle,
            "root": _hex(self.root),
            "total": self.total,
            "signature": _hex(self.signature),
        }

    @classmethod
    def from_json(cls, doc: object) -> SignedRoot:
        """An oracle's signed root as `label sign` writes it (checked again by `quorum_signatures`)."""
        if (
            not isinstance(doc, dict)
            or not isinstance(doc.get("total"), int)
            or not isinstance(doc.get("oracle"), str)
        ):
            raise InvalidInput("a signed root is a JSON object with oracle, root, total and signature")
        return cls(
            doc["oracle"],
            _unhex(doc.get("root"), 32, "root", "a signed root's "),
            doc["total"],
            _unhex(doc.get("signature"), 65, "signature", "a signed root's "),
        )


def committee_of(ws: Workspace, committee_address: str) -> Any:
    """The campaign's committee handle (the deployment's; another one is refused)."""
    committee = ws.committee
    if committee.address.lower() != committee_address.lower():
        raise NotAllowed(f"the campaign names the committee {committee_address}, not this deployment's")
    return committee


def oracle_sign(ws: Workspace, oracle: Signer, campaign_id: int, round_: int, bundle_cid: str) -> SignedRoot:
    """One oracle's duty: fetch the bundle by CID, recompute the round from it alone and sign the root
    it finds (EIP-712 `PayoutRoot`). Refused for a key that is not one of the campaign's oracles."""
    payouts = ws.label_payouts
    state = on_chain(ws, campaign_id)
    members = {o.lower() for o in committee_of(ws, state.committee).oracles}
    if oracle.address.lower() not in members:
        raise NotAllowed(f"{oracle.name} is not an oracle of campaign {campaign_id}'s committee")
    bundle = ws.store.read_bytes(bundle_cid, MAX_BUNDLE_BYTES)
    again = recompute(ws, bundle, campaign_id, round_, state.spec_hash)
    if again.tree is None:
        raise NotAllowed(f"round {round_} of campaign {campaign_id} owes nobody anything: nothing to sign")
    message = payouts.root_message(campaign_id, round_, again.root, again.total, state.spec_hash)
    return SignedRoot(oracle.address, again.root, again.total, payouts.sign_root(oracle.key, message))


def quorum_signatures(
    ws: Workspace, campaign_id: int, round_: int, signed: Sequence[SignedRoot], root: bytes, total: int
) -> list[bytes]:
    """The signatures that recover to one of the committee's oracles over (root, total), in ascending
    address order (as `post_root` wants), a threshold of them; NotAllowed without a quorum."""
    payouts = ws.label_payouts
    state = payouts.campaign(campaign_id)
    committee = committee_of(ws, state.committee)
    members = {o.lower() for o in committee.oracles}
    threshold = committee.threshold
    message = payouts.root_message(campaign_id, round_, root, total, state.spec_hash)
    good: dict[str, bytes] = {}
    for s in signed:
        who = payouts.root_signer(message, s.signature)
        if who is not None and who.lower() in members:
            good[who.lower()] = s.signature
    if len(good) < threshold:
        raise NotAllowed(
            f"{len(good)} of the committee's oracles signed root {_hex(root)[:18]}... of round {round_}: "
            f"the quorum is {threshold}; nothing was posted"
        )
    ordered = sorted(good, key=lambda a: int(a, 16))[:threshold]
    return [good[a] for a in ordered]


@dataclass(frozen=True)
class RoundOutcome:
    campaign_id: int
    round: int
    bundle_cid: str
    root: bytes
    total: int
    owed: dict[str, int]
    revealed: int
    excluded: dict[str, str]
    signers: list[str]
    receipt: Receipt
    claimable_at: int
    uncertain: int = 0  # items the aggregate is unsure of: served again for extra labels

    def to_json(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign_id,
            "round": self.round,
            "bundle": self.bundle_cid,
            "root": _hex(self.root),
            "total": self.total,
            "labelers": len(self.owed),
            "owed": self.owed,
            "gold_revealed": self.revealed,
            "excluded": self.excluded,
            "signers": self.signers,
            "tx": self.receipt.tx_hash,
            "claimable_at": self.claimable_at,
            "uncertain": self.uncertain,
        }


def committee_signers(ws: Workspace) -> list[Signer]:
    """The committee's oracles whose keys this node holds: in its keystore, or the dev accounts of a
    local chain."""
    members = [o.lower() for o in ws.committee.oracles]
    devs = {s.address.lower(): s for s in ws.dev_accounts()}
    found = []
    for member in members:
        if ws.keystore.find(member) is not None:
            found.append(ws.signer(member))
        elif member in devs:
            found.append(devs[member])
    return found


@dataclass(frozen=True)
class Published:
    """A round's bundle stored by CID, with what it recomputes to (not yet posted)."""

    round: int
    bundle_cid: str
    again: Recomputed
    revealed: int  # gold items revealed by it

    def to_json(self) -> dict[str, Any]:
        return {
            "campaign": self.again.campaign_id,
            "round": self.round,
            "bundle": self.bundle_cid,
            "root": _hex(self.again.root),
            "total": self.again.total,
            "gold_revealed": self.revealed,
        }


def _ready_for_round(ws: Workspace, campaign_id: int) -> CampaignState:
    state = on_chain(ws, campaign_id)
    if state.closed_at:
        raise NotAllowed(f"campaign {campaign_id} is closed")
    if (
        state.pending_root != bytes(32)
        and ws.chain.next_timestamp() < state.pending_at + state.challenge_window
    ):
        raise NotAllowed(
            f"round {state.pending_round} of campaign {campaign_id} is still in its challenge window"
        )
    return state


def publish_round(ws: Workspace, campaign_id: int) -> Published:
    """The next round's bundle: the gold items answered by `labels_per_item` labelers revealed, the bundle stored by CID, the
    open batches holding those gold items ended (their items are served again). Nothing is posted:
    the oracles sign what it recomputes to (`oracle_sign`), then `run_round(bundle_cid=...)` posts."""
    state = _ready_for_round(ws, campaign_id)
    with open_store(ws) as lock_holder, lock_holder.exclusive():
        return _publish(ws, campaign_id, state)


def _gold_due(store: LabelingStore, campaign_id: int) -> tuple[set[str], list[str]]:
    """(the items answered so far, the gold items to reveal now): a gold item is revealed once
    `labels_per_item` labelers have answered it. Revealed at its first answer, each gold item would
    test one labeler, too few to catch one who always answers the same class."""
    per_item = Counter(item for _, item, _, _ in store.answers(campaign_id))
    enough = load_campaign(store, campaign_id).spec.labels_per_item
    due = [
        i.item
        for i in store.items(campaign_id)
        if i.gold and not i.revealed_round and per_item[i.item] >= enough
    ]
    return set(per_item), due


def _publish(ws: Workspace, campaign_id: int, state: CampaignState) -> Published:
    with open_store(ws) as store:
        done = store.rounds(campaign_id)
        round_ = max([state.last_round, *(r.round for r in done)]) + 1
        answered, reveal = _gold_due(store, campaign_id)
    if not answered:
        raise NotAllowed(f"campaign {campaign_id} has no answers yet: nothing to pay")
    bundle = build_bundle(
        ws, campaign_id, round_, reveal, state.round, floor_of(ws, campaign_id, state.round)
    )
    ours = recompute(ws, bundle, campaign_id, round_, state.spec_hash)
    if ours.tree is None:
        raise NotAllowed(f"campaign {campaign_id} owes nobody anything yet: no round to post")
    bundle_cid = ws.store.add_bytes(bundle)
    with open_store(ws) as store:
        store.reveal_gold(campaign_id, reveal, round_)
        store.expire_batches(campaign_id, reveal, ws.chain.now())
    return Published(round_, bundle_cid, ours, len(reveal))


def published(ws: Workspace, campaign_id: int, bundle_cid: str) -> Published:
    """A bundle published before (`publish_round`), recomputed."""
    state = on_chain(ws, campaign_id)
    bundle = ws.store.read_bytes(bundle_cid, MAX_BUNDLE_BYTES)
    try:
        doc = json.loads(bundle)
        round_, gold = doc["round"], doc["gold"]
    except (ValueError, UnicodeDecodeError, KeyError, TypeError):
        raise InvalidInput(f"{bundle_cid} is not a round bundle") from None
    if isinstance(round_, bool) or not isinstance(round_, int) or round_ <= state.last_round:
        raise NotAllowed(f"bundle {bundle_cid} is of round {round_!r}: not after the last posted round")
    return Published(
        round_, bundle_cid, recompute(ws, bundle, campaign_id, round_, state.spec_hash), len(gold)
    )


def run_round(
    ws: Workspace,
    relayer: Signer,
    campaign_id: int,
    oracles: Sequence[Signer] | None = None,
    *,
    bundle_cid: str | None = None,
    signatures: Sequence[SignedRoot] = (),
) -> RoundOutcome:
    """Posts the next round: its bundle (published now, or `bundle_cid` published before), each local
    oracle's recomputation and signature (`oracles`, default: the committee's keys this node holds)
    with the `signatures` other oracles sent (`oracle_sign` on their machines), a quorum of them
    checked; the root posted (claimable after the challenge window)."""
    payouts = ws.label_payouts
    _ready_for_round(ws, campaign_id)
    pub = published(ws, campaign_id, bundle_cid) if bundle_cid else publish_round(ws, campaign_id)
    round_, ours = pub.round, pub.again
    signers = list(oracles) if oracles is not None else committee_signers(ws)
    signed = [oracle_sign(ws, o, campaign_id, round_, pub.bundle_cid) for o in signers]
    signed += list(signatures)
    quorum = quorum_signatures(ws, campaign_id, round_, signed, ours.root, ours.total)
    receipt = payouts.post_root(relayer.key, campaign_id, round_, ours.root, ours.total, quorum)
    posted = [e for e in payouts.receipt_events(receipt) if e.name == "RootPosted"]
    owed = {who: amount for who, amount in ours.result.owed.items() if amount > 0}
    from proofwork.db.labeling_store import RoundRow

    with open_store(ws) as store:
        store.add_round(
            campaign_id, RoundRow(round_, pub.bundle_cid, ours.root, ours.total, owed, receipt.tx_hash)
        )
        # one more label than the item has been given, excluded labelers' answers counted (they are
        # served labels too): counted without them, an item holding one would never be served again
        given = Counter(item for _, item, _, _ in store.answers(campaign_id))
        store.set_uncertain(campaign_id, [(item, given[item]) for item in ours.result.uncertain])
    return RoundOutcome(
        campaign_id,
        round_,
        pub.bundle_cid,
        ours.root,
        ours.total,
        owed,
        pub.revealed,
        dict(ours.result.excluded),
        sorted({s.oracle for s in signed}),
        receipt,
        int(posted[0].args["claimable_at"]),
        len(ours.result.uncertain),
    )


def posted_root(ws: Workspace, campaign_id: int, round_: int) -> tuple[bytes, int, bool]:
    """(root, total, challenged) of a round as posted on chain; NotFound when it was not posted."""
    payouts = ws.label_payouts
    posted = [e for e in payouts.events("RootPosted", subject=campaign_id) if int(e.args["round"]) == round_]
    if not posted:
        raise NotFound(f"no root was posted for round {round_} of campaign {campaign_id}")
    challenged = any(
        int(e.args["round"]) == round_ for e in payouts.events("RootChallenged", subject=campaign_id)
    )
    return bytes(posted[-1].args["root"]), int(posted[-1].args["total"]), challenged


def round_bundle_cid(ws: Workspace, campaign_id: int, round_: int) -> str:
    with open_store(ws) as store:
        for r in store.rounds(campaign_id):
            if r.round == round_:
                return r.bundle_cid
    raise NotFound(f"this node did not publish round {round_} of campaign {campaign_id}: give its bundle CID")


@dataclass(frozen=True)
class Verification:
    campaign_id: int
    round: int
    bundle_cid: str
    root_on_chain: bytes
    total_on_chain: int
    again: Recomputed
    challenged: bool

    @property
    def matches(self) -> bool:
        return self.again.root == self.root_on_chain and self.again.total == self.total_on_chain

    def to_json(self) -> dict[str, Any]:
        r = self.again.result
        return {
            "campaign": self.campaign_id,
            "round": self.round,
            "bundle": self.bundle_cid,
            "matches": self.matches,
            "challenged": self.challenged,
            "root_on_chain": _hex(self.root_on_chain),
            "root_recomputed": _hex(self.again.root),
            "total_on_chain": self.total_on_chain,
            "total_recomputed": self.again.total,
            "answers": self.again.answers,
            "labelers": self.again.labelers,
            "owed": {k: v for k, v in sorted(r.owed.items()) if v},
            "accuracy_bps": dict(sorted(r.accuracy_bps.items())),
            "excluded": dict(sorted(r.excluded.items())),
        }


def verify_round(ws: Workspace, campaign_id: int, round_: int, bundle_cid: str | None = None) -> Verification:
    """Anyone's check: the round recomputed from its published bundle against the root on chain."""
    state = on_chain(ws, campaign_id)
    root, total, challenged = posted_root(ws, campaign_id, round_)
    cid = bundle_cid or round_bundle_cid(ws, campaign_id, round_)
    bundle = ws.store.read_bytes(cid, MAX_BUNDLE_BYTES)
    again = recompute(ws, bundle, campaign_id, round_, state.spec_hash)
    return Verification(campaign_id, round_, cid, root, total, again, challenged)


def preview(ws: Workspace, campaign_id: int) -> Recomputed:
    """`label aggregate`: the next round as it stands, computed locally, nothing published or revealed
    (the gold items revealed so far, and those the round would reveal)."""
    state = ws.label_payouts.campaign(campaign_id)
    with open_store(ws) as store:
        _, reveal = _gold_due(store, campaign_id)
        next_round = max([state.last_round, *(r.round for r in store.rounds(campaign_id))]) + 1
    floor = floor_of(ws, campaign_id, state.round)
    bundle = build_bundle(ws, campaign_id, next_round, reveal, state.round, floor)
    return recompute(ws, bundle, campaign_id, next_round, state.spec_hash)


def challenge_round(ws: Workspace, challenger: Signer, campaign_id: int) -> tuple[int, Receipt]:
    """The client or an oracle drops the pending root inside its challenge window (once each per
    campaign): it never becomes claimable, and the next round is recomputed and signed again."""
    payouts = ws.label_payouts
    state = on_chain(ws, campaign_id)
    if (
        state.pending_root == bytes(32)
        or ws.chain.next_timestamp() >= state.pending_at + state.challenge_window
    ):
        raise NotAllowed(f"campaign {campaign_id} has no root inside its challenge window")
    allowed = {state.client.lower(), *(o.lower() for o in committee_of(ws, state.committee).oracles)}
    if challenger.address.lower() not in allowed:
        raise NotAllowed(
            f"{challenger.address} is neither the client nor an oracle of campaign {campaign_id}"
        )
    if payouts.challenged(campaign_id, challenger.address):
        raise NotAllowed(f"{challenger.address} has used its one challenge in campaign {campaign_id}")
    return state.pending_round, payouts.challenge(challenger.key, campaign_id)
