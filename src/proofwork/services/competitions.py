"""Competitions: a prize open to many until a deadline, judged on a hidden test set.

Entries are committed on chain (hash of CID, salt and sender) with the submission sealed
to the committee, so oracles can score it for the public leaderboard while nobody can copy
it. After the deadline entrants reveal; the committee signs the private-set scores of every
revealed entry, and one transaction pays the top k as the client split the prize.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct

from proofwork.chain.client import Receipt
from proofwork.chain.evaluation import labels_commitment, submission_commitment
from proofwork.domain.errors import InvalidInput, NotAllowed, NotFound
from proofwork.domain.evalspec import metric_direction, parse_spec, threshold_fixed
from proofwork.identity.sealing import recipient, seal
from proofwork.services.artifacts import MAX_LABELS_BYTES, HiddenLabels, cid_text, digest_of
from proofwork.services.workspace import Signer, Workspace
from proofwork.storage.unixfs import cid_of_bytes, cid_to_bytes

MAX_SUBMISSION_BYTES = 256 << 20


@dataclass(frozen=True)
class Entry:
    index: int
    submitter: str
    commitment: bytes
    sealed_submission: str
    committed_at: int
    revealed_cid: str | None = None


@dataclass(frozen=True)
class Competition:
    comp_id: int
    client: str
    token: str
    prize: int
    spec_hash: bytes
    commitment: bytes
    deadline: int
    reveal_period: int
    daily_limit: int
    public_percent: int
    prize_bps: list[int]
    min_score: int
    higher_is_better: bool
    sealed_labels: str
    entries: list[Entry] = field(default_factory=list)
    finalized: bool = False
    cancelled: bool = False
    payouts: list[dict[str, Any]] = field(default_factory=list)  # PrizePaid args
    ranking: list[tuple[int, int]] = field(default_factory=list)  # private scores, once final


@dataclass(frozen=True)
class LeaderboardRow:
    entry: int
    submitter: str
    public_score: int | None  # median of the oracles' public scores
    oracles: int  # how many oracles reported it
    private_score: int | None  # shown only after finalization
    prize: int


class Competitions:
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def ids(self) -> list[int]:
        return [int(e.args["comp_id"]) for e in self.ws.competitions.events("CompetitionCreated")]

    def get(self, comp_id: int) -> Competition:
        contract = self.ws.competitions
        events = contract.events(
            "CompetitionCreated",
            "SubmissionCommitted",
            "SubmissionRevealed",
            "PrizePaid",
            "CompetitionFinalized",
            "CompetitionCancelled",
            subject=comp_id,
        )
        created = next((e for e in events if e.name == "CompetitionCreated"), None)
        if created is None:
            raise NotFound(f"no competition {comp_id}")
        a = created.args
        revealed = {
            int(e.args["entry"]): cid_text(e.args["submission_cid"])
            for e in events
            if e.name == "SubmissionRevealed"
        }
        entries = [
            Entry(
                int(e.args["entry"]),
                str(e.args["submitter"]),
                e.args["commitment"],
                cid_text(e.args["sealed_submission"]),
                int(e.args["timestamp"]),
                revealed.get(int(e.args["entry"])),
            )
            for e in events
            if e.name == "SubmissionCommitted"
        ]
        return Competition(
            comp_id=comp_id,
            client=str(a["client"]),
            token=str(a["token"]),
            prize=int(a["prize"]),
            spec_hash=a["spec_hash"],
            commitment=a["commitment"],
            deadline=int(a["deadline"]),
            reveal_period=int(a["reveal_period"]),
            daily_limit=int(a["daily_limit"]),
            public_percent=int(a["public_percent"]),
            prize_bps=[int(b) for b in a["prize_bps"]],
            min_score=int(a["min_score"]),
            higher_is_better=bool(a["higher_is_better"]),
            sealed_labels=cid_text(a["sealed_labels"]),
            entries=sorted(entries, key=lambda e: e.index),
            finalized=any(e.name == "CompetitionFinalized" for e in events),
            cancelled=any(e.name == "CompetitionCancelled" for e in events),
            payouts=[dict(e.args) for e in events if e.name == "PrizePaid"],
            ranking=[
                _score_pair(item)
                for e in events
                if e.name == "CompetitionFinalized"
                for item in e.args["ranking"]
            ],
        )

    # --- client ----------------------------------------------------------------------------------

    def create(
        self,
        client: Signer,
        spec_path: Path,
        labels_path: Path,
        *,
        prize: int,
        deadline: int,
        reveal_period: int,
        prize_bps: list[int],
        daily_limit: int = 5,
        public_percent: int = 30,
        min_score: int | None = None,
    ) -> tuple[int, list[tuple[str, Receipt]]]:
        committee = self.ws.committee
        contract = self.ws.competitions
        spec_bytes = Path(spec_path).read_bytes() if Path(spec_path).is_file() else None
        if spec_bytes is None:
            raise InvalidInput(f"no such spec file: {spec_path}")
        spec = parse_spec(spec_bytes)
        if not Path(labels_path).is_file():
            raise InvalidInput(f"no such labels file: {labels_path}")
        labels = Path(labels_path).read_bytes()
        if len(labels) > MAX_LABELS_BYTES:
            raise InvalidInput("the labels file is too large")
        if prize <= 0:
            raise InvalidInput("the prize must be positive")
        keys = []
        for oracle in committee.oracles:
            public_key = committee.public_key(oracle)
            if len(public_key) != 64:
                raise NotAllowed(
                    f"oracle {oracle} has not published its key yet: the labels cannot be sealed"
                )
            keys.append(recipient(public_key))
        spec_cid = self.ws.store.add_bytes(spec_bytes)
        spec_hash = digest_of(spec_cid)
        hidden = HiddenLabels(labels, cid_of_bytes(labels), secrets.token_bytes(32))
        commitment = labels_commitment(hidden.cid_bytes, hidden.salt, spec_hash)
        _save_secret(self._secret_dir() / f"labels-{commitment.hex()}.json", hidden.to_json())
        sealed = self.ws.store.add_bytes(seal(hidden.to_json(), keys))
        receipts: list[tuple[str, Receipt]] = []
        token = self.ws.token
        if token.allowance(client.address, contract.address) < prize:
            receipts.append(("approve", token.approve(client.key, contract.address, prize)))
        receipt = contract.create(
            client.key,
            token=token.address,
            prize=prize,
            spec_hash=spec_hash,
            commitment=commitment,
            deadline=deadline,
            reveal_period=reveal_period,
            daily_limit=daily_limit,
            public_percent=public_percent,
            prize_bps=prize_bps,
            min_score=threshold_fixed(spec) if min_score is None else min_score,
            higher_is_better=metric_direction(spec.metric),
            sealed_labels=cid_to_bytes(sealed),
        )
        receipts.append(("create competition", receipt))
        created = next(e for e in contract.receipt_events(receipt) if e.name == "CompetitionCreated")
        return int(created.args["comp_id"]), receipts

    # --- entrants --------------------------------------------------------------------------------

    def enter(self, entrant: Signer, comp_id: int, submission_path: Path) -> tuple[int, Receipt]:
        comp = self.get(comp_id)
        committee = self.ws.committee
        path = Path(submission_path)
        if not path.is_file():
            raise InvalidInput(f"no such submission file: {path}")
        if path.stat().st_size > MAX_SUBMISSION_BYTES:
            raise InvalidInput(f"the submission is over {MAX_SUBMISSION_BYTES} bytes")
        if self.ws.chain.next_timestamp() > comp.deadline:
            raise NotAllowed(f"competition {comp_id} closed for submissions")
        data = path.read_bytes()
        cid = cid_of_bytes(data)
        salt = secrets.token_bytes(32)
        keys = [recipient(committee.public_key(o)) for o in committee.oracles]
        sealed = self.ws.store.add_bytes(seal(data, keys))
        commitment = submission_commitment(cid_to_bytes(cid), salt, entrant.address)
        secret = json.dumps({"cid": cid, "salt": salt.hex(), "file": str(path.resolve())}).encode()
        _save_secret(self._secret_dir() / f"entry-{commitment.hex()}.json", secret)
        receipt = self.ws.competitions.commit(entrant.key, comp_id, commitment, cid_to_bytes(sealed))
        committed = next(
            e for e in self.ws.competitions.receipt_events(receipt) if e.name == "SubmissionCommitted"
        )
        # the plaintext goes to the store only at reveal time, after the deadline
        return int(committed.args["entry"]), receipt

    def reveal(self, entrant: Signer, comp_id: int, entry: int) -> Receipt:
        comp = self.get(comp_id)
        match = next((e for e in comp.entries if e.index == entry), None)
        if match is None:
            raise NotFound(f"competition {comp_id} has no entry {entry}")
        if match.submitter.lower() != entrant.address.lower():
            raise NotAllowed(f"entry {entry} was submitted by {match.submitter}")
        path = self._secret_dir() / f"entry-{match.commitment.hex()}.json"
        if not path.exists():
            raise NotFound(f"the salt of entry {entry} is not on this machine")
        secret = json.loads(path.read_text())
        submission = Path(secret["file"])
        if submission.is_file() and cid_of_bytes(submission.read_bytes()) == secret["cid"]:
            self.ws.store.add_file(submission)
        return self.ws.competitions.reveal(
            entrant.key, comp_id, entry, cid_to_bytes(secret["cid"]), bytes.fromhex(secret["salt"])
        )

    def reveal_all(self, entrant: Signer, comp_id: int) -> list[int]:
        comp = self.get(comp_id)
        done = []
        for entry in comp.entries:
            if entry.submitter.lower() == entrant.address.lower() and entry.revealed_cid is None:
                self.reveal(entrant, comp_id, entry.index)
                done.append(entry.index)
        return done

    # --- leaderboard -----------------------------------------------------------------------------

    def leaderboard(self, comp_id: int, peers: Any) -> tuple[Competition, list[LeaderboardRow]]:
        """Public scores (median over the oracles that signed them) and, after finalization, the
        private scores and prizes. Unsigned or mis-signed scores are ignored."""
        comp = self.get(comp_id)
        contract = self.ws.competitions.address
        public: dict[int, dict[str, int]] = {}
        committee = self.ws.committee
        for oracle in committee.oracles:
            endpoint = committee.endpoint(oracle)
            if not endpoint:
                continue
            for r in peers.reports(endpoint, contract, "public", comp_id):
                try:
                    entry, score = int(r["item"]), int(r["score"])
                    text = f"proofwork public score {contract.lower()} {comp_id} {entry} {score}"
                    signer = Account.recover_message(encode_defunct(text=text), signature=r["signature"])
                except (KeyError, ValueError, TypeError):
                    continue
                if signer.lower() == oracle.lower():
                    public.setdefault(entry, {})[oracle.lower()] = score
        private = dict(comp.ranking)  # the committee-signed private scores, from the finalize event
        prizes: dict[int, int] = {}
        for p in comp.payouts:
            prizes[int(p["entry"])] = prizes.get(int(p["entry"]), 0) + int(p["amount"])
        rows = [
            LeaderboardRow(
                e.index,
                e.submitter,
                int(statistics.median_low(public[e.index].values())) if e.index in public else None,
                len(public.get(e.index, {})),
                private.get(e.index) if comp.finalized else None,
                prizes.get(e.index, 0),
            )
            for e in comp.entries
        ]

        def rank(row: LeaderboardRow) -> tuple[int, int, int]:
            if comp.finalized:
                return (-row.prize, 0, row.entry)
            if row.public_score is None:
                return (1, 0, row.entry)
            return (0, -row.public_score if comp.higher_is_better else row.public_score, row.entry)

        return comp, sorted(rows, key=rank)

    def _secret_dir(self) -> Path:
        return (
            self.ws.data_dir / "secrets" / str(self.ws.chain.chain_id) / self.ws.competitions.address.lower()
        )


def _score_pair(item: Any) -> tuple[int, int]:
    """A `Score` struct from an event: web3 decodes it as a mapping or a tuple."""
    if isinstance(item, tuple | list):
        return int(item[0]), int(item[1])
    return int(item["entry"]), int(item["score"])


def _save_secret(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
