"""Competitions: a prize open to many until a deadline, judged on a hidden test set.

Entries are committed on chain (hash of CID, salt and sender) with the submission sealed
to the committee, so oracles can score it for the public leaderboard while nobody can copy
it. After the deadline entrants reveal; the committee signs the private-set scores of every
revealed entry, and one transaction pays the top k as the client split the prize.
"""

from __future__ import annotations

import json
import secrets
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proofwork.chain.encoding import submission_commitment
from proofwork.chain.receipts import Receipt
from proofwork.domain.errors import DataDirCorrupted, InvalidInput, NotAllowed, NotFound
from proofwork.domain.evalspec import metric_direction, threshold_fixed
from proofwork.domain.jsonsafe import safe_json_loads
from proofwork.keys.sealing import seal
from proofwork.services.evaluated_jobs import prepare_hidden_task
from proofwork.services.task_files import TaskFiles, committee_recipients
from proofwork.services.workspace import Signer, Workspace
from proofwork.storage.files import save_file
from proofwork.storage.unixfs import cid_from_bytes, cid_of_bytes, cid_to_bytes

MAX_SUBMISSION_BYTES = 256 << 20


@dataclass(frozen=True)
class Entry:
    index: int
    submitter: str
    commitment: bytes
    sealed_submission: str | None  # None when the entrant logged something that is not a CID
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
            int(e.args["entry"]): _cid_or_none(e.args["submission_cid"])
            for e in events
            if e.name == "SubmissionRevealed"
        }
        # an entrant controls what its entry points at: a malformed CID makes that entry unscorable,
        # never the whole competition unreadable
        entries = [
            Entry(
                int(e.args["entry"]),
                str(e.args["submitter"]),
                e.args["commitment"],
                _cid_or_none(e.args["sealed_submission"]),
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
            sealed_labels=cid_from_bytes(a["sealed_labels"]),
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
        contract = self.ws.competitions
        if prize <= 0:
            raise InvalidInput("the prize must be positive")
        task = prepare_hidden_task(
            self.ws,
            TaskFiles(self.ws.store, self.ws.data_dir / "work"),
            Path(spec_path),
            Path(labels_path),
        )
        spec, spec_hash, hidden, commitment, keys = (
            task.spec,
            task.spec_hash,
            task.hidden,
            task.commitment,
            task.recipients,
        )
        save_file(self._secret_dir() / f"labels-{commitment.hex()}.json", hidden.to_json())
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
        sealed = self.ws.store.add_bytes(seal(data, committee_recipients(self.ws.committee)))
        commitment = submission_commitment(cid_to_bytes(cid), salt, entrant.address)
        secret = json.dumps({"cid": cid, "salt": salt.hex(), "file": str(path.resolve())}).encode()
        save_file(self._secret_dir() / f"entry-{commitment.hex()}.json", secret)
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
        now = self.ws.chain.next_timestamp()
        if now <= comp.deadline:
            raise NotAllowed(f"competition {comp_id} is still open: entries are revealed after its deadline")
        if now > comp.deadline + comp.reveal_period:
            raise NotAllowed(f"the reveal period of competition {comp_id} is over")
        path = self._secret_dir() / f"entry-{match.commitment.hex()}.json"
        if not path.exists():
            raise NotFound(f"the salt of entry {entry} is not on this machine")
        try:
            secret = safe_json_loads(path.read_bytes(), max_bytes=1 << 16, max_depth=2)
            cid, salt, file = str(secret["cid"]), bytes.fromhex(secret["salt"]), Path(secret["file"])
        except (InvalidInput, KeyError, TypeError, ValueError) as exc:
            raise DataDirCorrupted(f"the saved salt of entry {entry} is damaged: {path}") from exc
        receipt = self.ws.competitions.reveal(entrant.key, comp_id, entry, cid_to_bytes(cid), salt)
        # the plaintext is published only once the reveal is on chain, after the deadline
        if file.is_file() and cid_of_bytes(file.read_bytes()) == cid:
            self.ws.store.add_file(file)
        return receipt

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
                    entry, score, signature = (
                        int(r["item"]),
                        int(r["score"]),
                        bytes.fromhex(str(r["signature"])[2:]),
                    )
                except (KeyError, ValueError, TypeError):
                    continue
                signer = self.ws.competitions.public_score_signer(comp_id, entry, score, signature)
                if signer is not None and signer.lower() == oracle.lower():
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
                private = row.private_score or 0
                return (-row.prize, -private if comp.higher_is_better else private, row.entry)
            if row.public_score is None:
                return (1, 0, row.entry)
            return (0, -row.public_score if comp.higher_is_better else row.public_score, row.entry)

        return comp, sorted(rows, key=rank)

    def _secret_dir(self) -> Path:
        return self.ws.data_dir / "secrets" / str(self.ws.chain_id) / self.ws.competitions.address.lower()


def _score_pair(item: Any) -> tuple[int, int]:
    """A `Score` struct from an event: web3 decodes it as a mapping or a tuple."""
    if isinstance(item, tuple | list):
        return int(item[0]), int(item[1])
    return int(item["entry"]), int(item["score"])


def _cid_or_none(binary: bytes) -> str | None:
    try:
        return cid_from_bytes(binary)
    except InvalidInput:
        return None
