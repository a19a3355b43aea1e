"""Competitions: a prize open to many until a deadline, judged on a hidden test set.

The client escrows the prize and seals the labels to the committee; entries open once the
committee has confirmed on chain that those labels open the client's commitment. Each entry is
committed on chain (hash of CID, salt and sender) with the submission sealed to the committee, so
oracles can score it for the public leaderboard while nobody can copy it, and pays a bond that is
returned when it is revealed. After the deadline entrants reveal; the committee scores every
revealed entry on the private split, signs the Merkle root of all those scores with the winners,
and every payout (prizes, the client's rest, returned bonds) is credited for its owner to
`withdraw`. When the competition contract names a court, the committee's ranking is held for a
challenge period first: an entrant may take it to the jurors (`services.ranking_challenges`), and the
prizes follow the ranking in force (`payout`). The oracles serve the whole scores tree with their final report, so the leaderboard
shows every revealed entry's private score with a proof against the root on chain.
"""

from __future__ import annotations

import json
import secrets
import statistics
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from proofwork.chain.encoding import submission_commitment
from proofwork.chain.receipts import Event, Receipt
from proofwork.chain.scores_tree import EMPTY_ROOT, ScoresTree
from proofwork.domain import competition as rules
from proofwork.domain.errors import DataDirCorrupted, InvalidInput, NotAllowed, NotFound, ProofworkError
from proofwork.domain.evalspec import metric_direction, threshold_fixed
from proofwork.domain.jsonsafe import safe_json_loads
from proofwork.domain.units import format_amount, format_utc
from proofwork.keys.sealing import seal
from proofwork.services.evaluated_jobs import prepare_hidden_task
from proofwork.services.event_reads import EventReader
from proofwork.services.task_files import TaskFiles, committee_recipients
from proofwork.services.workspace import Signer, Workspace
from proofwork.storage.files import save_file
from proofwork.storage.unixfs import cid_from_bytes, cid_of_bytes, cid_to_bytes

MAX_SUBMISSION_BYTES = 256 << 20
# The ruling that puts a challenger's ranking in force (1 keeps it, 0 is a refusal: keeps it too)
CHALLENGER_WINS = 2
# As the contract: an arbitrator silent this long after a challenge leaves the ranking in force
RULING_TIMEOUT = 365 * 86_400
# After the reveal period, how long the committee has to finalize before the client may cancel
GRACE_PERIOD = 30 * 86_400
# The largest final report payload read from a peer (every revealed entry's score: ~100 bytes each)
MAX_SCORES_PAYLOAD = 4 << 20


@dataclass(frozen=True)
class Entry:
    index: int
    submitter: str
    commitment: bytes
    sealed_submission: str | None  # None when the entrant logged something that is not a CID
    committed_at: int
    revealed_cid: str | None = None
    revealed: bool = False  # on chain (even when the revealed CID is not a usable CID)


@dataclass(frozen=True)
class Award:
    place: int  # 0 = first
    entry: int
    winner: str
    amount: int


@dataclass(frozen=True)
class RankingChallenge:
    """A challenge of a competition's ranking (RankingChallenged, and ChallengeResolved once ruled)."""

    dispute_id: int
    challenger: str
    entry: int
    ranking: list[tuple[int, int]]  # the challenger's
    fee: int
    against: list[tuple[int, int]]  # the ranking in force when it was made
    ruling: int | None = None  # 2: the challenger's ranking replaced the one in force


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
    entry_bond: int
    public_percent: int
    prize_bps: list[int]
    min_score: int
    higher_is_better: bool
    sealed_labels: str
    created_block: int = 0
    labels_confirmed: bool = False
    entries: list[Entry] = field(default_factory=list)
    finalized: bool = False  # the prizes are credited (CompetitionFinalized)
    cancelled: bool = False
    ranked: bool = False  # the committee's result is on chain (finalized, or held for challenges)
    challenge_end: int | None = None  # while held: challenges until then (while none is pending)
    challenges: list[RankingChallenge] = field(default_factory=list)
    labels: tuple[str | None, bytes] | None = None  # (CID, salt) revealed when the committee ranked it
    awards: list[Award] = field(default_factory=list)  # PrizeAwarded: credited to the winners
    # the ranking in force, (entry, private score) first place first: the committee's, or a
    # challenger's the jurors chose; the one paid once finalized
    winners: list[tuple[int, int]] = field(default_factory=list)
    scores_root: bytes | None = None  # the committee's root of every revealed entry's score
    refunded: int = 0  # credited back to the client at finalization or cancellation

    @property
    def revealed(self) -> list[Entry]:
        return [e for e in self.entries if e.revealed]

    @property
    def reveal_end(self) -> int:
        return self.deadline + self.reveal_period

    @property
    def pending_challenge(self) -> RankingChallenge | None:
        """The challenge awaiting its ruling, if any."""
        last = self.challenges[-1] if self.challenges else None
        return last if last is not None and last.ruling is None and not self.finalized else None


@dataclass(frozen=True)
class LeaderboardRow:
    entry: int
    submitter: str
    revealed: bool
    public_score: int | None  # median of the oracles' public scores
    oracles: int  # how many oracles reported it
    private_score: int | None  # after finalization: every revealed entry's, from the scores tree
    proof: list[bytes] | None  # its Merkle proof against the competition's scores root
    place: int | None  # 0 = first, for winners
    prize: int


# every event a competition is folded from
EVENT_NAMES = (
    "CompetitionCreated",
    "LabelsConfirmed",
    "SubmissionCommitted",
    "SubmissionRevealed",
    "PrizeAwarded",
    "CompetitionFinalized",
    "CompetitionCancelled",
    "RankingProposed",
    "RankingChallenged",
    "ChallengeResolved",
    "LabelsRevealed",
)


class Competitions:
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def ids(self, reader: EventReader | None = None) -> list[int]:
        """Every competition's id; with a `reader`, from the chain index when it can answer."""
        contract = self.ws.competitions
        events = (
            reader.events(contract, "CompetitionCreated") if reader else contract.events("CompetitionCreated")
        )
        return [int(e.args["comp_id"]) for e in events]

    def get(self, comp_id: int, reader: EventReader | None = None) -> Competition:
        """The competition folded from its events: from the logs (what the duties and checks before a
        transaction need: the chain as it is now), or, with a `reader`, from the chain index when it
        can answer (a list, a leaderboard)."""
        contract = self.ws.competitions
        if reader is not None:
            events = reader.events(contract, *EVENT_NAMES, subject=comp_id)
        else:
            events = contract.events(*EVENT_NAMES, subject=comp_id)
        return _fold(comp_id, events)

    def listed(self, reader: EventReader | None = None) -> list[Competition]:
        """Every competition, oldest first, from one read of the contract's events: the chain index's
        when it is caught up, else the logs (`reader`: one the caller holds)."""
        contract = self.ws.competitions
        if reader is None:
            with EventReader(self.ws) as own:
                events = own.events(contract, *EVENT_NAMES)
        else:
            events = reader.events(contract, *EVENT_NAMES)
        by_id: dict[int, list[Event]] = {}
        for event in events:
            by_id.setdefault(int(event.args["comp_id"]), []).append(event)
        created = [int(e.args["comp_id"]) for e in events if e.name == "CompetitionCreated"]
        return [_fold(comp_id, by_id[comp_id]) for comp_id in created]

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
        entry_bond: int | None = None,
        token: str | None = None,
    ) -> tuple[int, list[tuple[str, Receipt]]]:
        """Escrows the prize; entries open once the committee confirms the labels (oracles do it on
        their next passes). `entry_bond` defaults to 1 % of the prize (`rules.default_entry_bond`);
        `token` to the deployment's stablecoin."""
        contract = self.ws.competitions
        if isinstance(prize, bool) or not isinstance(prize, int) or prize <= 0:
            raise InvalidInput("the prize must be positive")
        bond = rules.default_entry_bond(prize) if entry_bond is None else entry_bond
        if isinstance(bond, bool) or not isinstance(bond, int) or not 0 < bond <= rules.MAX_ENTRY_BOND:
            raise InvalidInput(
                f"invalid entry bond {bond!r}: expected more than 0, at most 2^128 token units"
            )
        erc20 = self.ws.token if token is None else self.ws.token_at(token)
        if erc20.balance_of(client.address) < prize:
            decimals = erc20.decimals
            raise NotAllowed(
                f"{client.address} holds {format_amount(erc20.balance_of(client.address), decimals)}, "
                f"less than the prize of {format_amount(prize, decimals)}"
            )
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
        if erc20.allowance(client.address, contract.address) < prize:
            receipts.append(("approve", erc20.approve(client.key, contract.address, prize)))
        receipt = contract.create(
            client.key,
            token=erc20.address,
            prize=prize,
            spec_hash=spec_hash,
            commitment=commitment,
            deadline=deadline,
            reveal_period=reveal_period,
            daily_limit=daily_limit,
            entry_bond=bond,
            public_percent=public_percent,
            prize_bps=prize_bps,
            min_score=threshold_fixed(spec) if min_score is None else min_score,
            higher_is_better=metric_direction(spec.metric),
            sealed_labels=cid_to_bytes(sealed),
        )
        receipts.append(("create competition", receipt))
        created = next(e for e in contract.receipt_events(receipt) if e.name == "CompetitionCreated")
        return int(created.args["comp_id"]), receipts

    def cancel(self, client: Signer, comp_id: int) -> tuple[int, Receipt]:
        """Takes back (credits, see `withdraw`) the prize and the forfeited bonds of a competition
        nobody can or did judge; returns the amount credited."""
        comp = self.get(comp_id)
        if client.address.lower() != comp.client.lower():
            raise NotAllowed(f"only the client {comp.client} may cancel competition {comp_id}")
        if comp.ranked or comp.cancelled:
            raise NotAllowed(f"competition {comp_id} is already {'judged' if comp.ranked else 'cancelled'}")
        now = self.ws.chain.next_timestamp()
        revealed = any(e.revealed for e in comp.entries)
        if not (
            not comp.labels_confirmed
            or (not comp.entries and now > comp.deadline)
            or (not revealed and now > comp.reveal_end)
            or now > comp.reveal_end + GRACE_PERIOD
        ):
            raise NotAllowed(
                f"competition {comp_id} may still be judged: it can be cancelled once its deadline passes "
                f"with no entry, its reveal period with none revealed, or {GRACE_PERIOD // 86_400} days after "
                "the reveal period without a result"
            )
        receipt = self.ws.competitions.cancel_unjudged(client.key, comp_id)
        cancelled = next(
            e for e in self.ws.competitions.receipt_events(receipt) if e.name == "CompetitionCancelled"
        )
        return int(cancelled.args["refunded"]), receipt

    # --- entrants --------------------------------------------------------------------------------

    def enter(
        self, entrant: Signer, comp_id: int, submission_path: Path
    ) -> tuple[int, list[tuple[str, Receipt]]]:
        """Commits a sealed submission, paying the entry bond (approved first when needed).
        Refused until the committee has confirmed the competition's labels."""
        comp = self.get(comp_id)
        path = Path(submission_path)
        if not path.is_file():
            raise InvalidInput(f"no such submission file: {path}")
        if path.stat().st_size > MAX_SUBMISSION_BYTES:
            raise InvalidInput(f"the submission is over {MAX_SUBMISSION_BYTES} bytes")
        if comp.ranked or comp.cancelled:
            raise NotAllowed(f"competition {comp_id} is {'judged' if comp.ranked else 'cancelled'}")
        if self.ws.chain.next_timestamp() > comp.deadline:
            raise NotAllowed(f"competition {comp_id} closed for submissions")
        contract = self.ws.competitions
        if not comp.labels_confirmed and not contract.competition(comp_id).labels_confirmed:
            raise NotAllowed(
                f"competition {comp_id} takes no entries yet: the oracle committee has not confirmed "
                "that its hidden labels open the client's commitment (try again shortly)"
            )
        if entrant.address.lower() == comp.client.lower():
            raise NotAllowed("the client cannot enter its own competition")
        if entrant.address.lower() in {o.lower() for o in self.ws.committee.oracles}:
            raise NotAllowed("a committee oracle cannot enter a competition it judges")
        token = self._token(comp.token)
        if token.balance_of(entrant.address) < comp.entry_bond:
            decimals = token.decimals
            raise NotAllowed(
                f"entering costs a bond of {format_amount(comp.entry_bond, decimals)} (returned when the "
                f"entry is revealed); {entrant.address} holds "
                f"{format_amount(token.balance_of(entrant.address), decimals)}"
            )
        data = path.read_bytes()
        cid = cid_of_bytes(data)
        salt = secrets.token_bytes(32)
        sealed = self.ws.store.add_bytes(seal(data, committee_recipients(self.ws.committee)))
        commitment = submission_commitment(cid_to_bytes(cid), salt, entrant.address)
        secret = json.dumps({"cid": cid, "salt": salt.hex(), "file": str(path.resolve())}).encode()
        save_file(self._secret_dir() / f"entry-{commitment.hex()}.json", secret)
        receipts: list[tuple[str, Receipt]] = []
        if token.allowance(entrant.address, contract.address) < comp.entry_bond:
            receipts.append(("approve", token.approve(entrant.key, contract.address, comp.entry_bond)))
        receipt = contract.commit(entrant.key, comp_id, commitment, cid_to_bytes(sealed))
        receipts.append(("commit", receipt))
        committed = next(e for e in contract.receipt_events(receipt) if e.name == "SubmissionCommitted")
        # the plaintext goes to the store only at reveal time, after the deadline
        return int(committed.args["entry"]), receipts

    def reveal(self, entrant: Signer, comp_id: int, entry: int) -> Receipt:
        """Opens one entry (after the deadline); its bond is credited back (see `withdraw`)."""
        comp = self.get(comp_id)
        match = next((e for e in comp.entries if e.index == entry), None)
        if match is None:
            raise NotFound(f"competition {comp_id} has no entry {entry}")
        if match.submitter.lower() != entrant.address.lower():
            raise NotAllowed(f"entry {entry} was submitted by {match.submitter}")
        if match.revealed:
            raise NotAllowed(f"entry {entry} is already revealed")
        now = self.ws.chain.next_timestamp()
        if now <= comp.deadline:
            raise NotAllowed(f"competition {comp_id} is still open: entries are revealed after its deadline")
        if now > comp.reveal_end:
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
            if entry.submitter.lower() == entrant.address.lower() and not entry.revealed:
                self.reveal(entrant, comp_id, entry.index)
                done.append(entry.index)
        return done

    # --- payouts ---------------------------------------------------------------------------------

    def claimable(self, account: str, token: str | None = None) -> int:
        """What `account` may withdraw in `token` (default: the deployment's stablecoin), over every
        competition: prizes, the client's rest and forfeited bonds, returned bonds, refunds."""
        return self.ws.competitions.claimable(token or self.ws.token.address, account)

    def payout(self, caller: Signer, comp_id: int) -> tuple[int, Receipt]:
        """Credits the prizes of a ranked competition by the ranking in force, as anyone may once its
        challenge period is over with no challenge pending; returns what the client was credited."""
        comp = self.get(comp_id)
        if comp.finalized:
            raise NotAllowed(f"the prizes of competition {comp_id} are already credited")
        if not comp.ranked:
            raise NotAllowed(f"competition {comp_id} has no ranking yet: the committee finalizes it first")
        pending = comp.pending_challenge
        now = self.ws.chain.next_timestamp()
        silent_since = self.ws.competitions.challenges(comp_id).opened_at if pending is not None else 0
        if pending is not None and now <= silent_since + RULING_TIMEOUT:
            raise NotAllowed(
                f"the ranking of competition {comp_id} is in court (dispute {pending.dispute_id}): the prizes "
                "follow the jurors' ruling"
            )
        if pending is None and comp.challenge_end is not None and now <= comp.challenge_end:
            raise NotAllowed(
                f"the ranking of competition {comp_id} may be challenged until {format_utc(comp.challenge_end)}"
            )
        receipt = self.ws.competitions.payout(caller.key, comp_id, comp.winners)
        final = next(
            e for e in self.ws.competitions.receipt_events(receipt) if e.name == "CompetitionFinalized"
        )
        return int(final.args["refunded"]), receipt

    def withdraw(self, signer: Signer, token: str | None = None) -> tuple[int, Receipt]:
        """Sends `signer` everything credited to it in `token`; returns the amount."""
        address = token or self.ws.token.address
        amount = self.claimable(signer.address, address)
        if amount == 0:
            raise NotAllowed(f"{signer.address} has nothing to withdraw from competitions in {address}")
        receipt = self.ws.competitions.withdraw(signer.key, address)
        return amount, receipt

    # --- leaderboard -----------------------------------------------------------------------------

    def leaderboard(self, comp_id: int, peers: Any) -> tuple[Competition, list[LeaderboardRow]]:
        """Public scores (median over the oracles that signed them) and, after finalization, every
        revealed entry's private score with its proof against the scores root on chain (from the
        first oracle serving a scores tree with that root), the winners and their prizes.
        Unsigned or mis-signed public scores and trees of another root are ignored. The competition's
        events come from the chain index when it is caught up (`services.event_reads`)."""
        with EventReader(self.ws) as reader:
            comp = self.get(comp_id, reader)
        contract = self.ws.competitions.address
        public: dict[int, dict[str, int]] = {}
        committee = self.ws.committee
        endpoints = [(o, committee.endpoint(o)) for o in committee.oracles]
        for oracle, endpoint in endpoints:
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
        tree = self.scores_tree(comp, peers) if comp.ranked else None
        private = dict(comp.winners)  # the ranking in force, from the chain's events
        if tree is not None:
            private.update(tree.scores)
        places = {entry: place for place, (entry, _) in enumerate(comp.winners)}
        prizes: dict[int, int] = {}
        for award in comp.awards:
            prizes[award.entry] = prizes.get(award.entry, 0) + award.amount
        rows = [
            LeaderboardRow(
                e.index,
                e.submitter,
                e.revealed,
                int(statistics.median_low(public[e.index].values())) if e.index in public else None,
                len(public.get(e.index, {})),
                private.get(e.index) if comp.ranked else None,
                tree.proof(e.index) if tree is not None and e.index in tree.scores else None,
                places.get(e.index),
                prizes.get(e.index, 0),
            )
            for e in comp.entries
        ]

        def rank(row: LeaderboardRow) -> tuple[int, int, int, int]:
            if comp.ranked:
                place = len(places) if row.place is None else row.place
                if row.private_score is None:
                    return (place, 1, 0, row.entry)
                return (
                    place,
                    0,
                    -row.private_score if comp.higher_is_better else row.private_score,
                    row.entry,
                )
            if row.public_score is None:
                return (1, 0, 0, row.entry)
            return (0, 0, -row.public_score if comp.higher_is_better else row.public_score, row.entry)

        return comp, sorted(rows, key=rank)

    def scores_tree(self, comp: Competition, peers: Any) -> ScoresTree | None:
        """The committee's scores tree of a finalized competition, rebuilt from the scores an
        oracle serves with its final report; None when no oracle serves one with the root on chain."""
        if not comp.ranked or comp.scores_root is None:
            return None
        if comp.scores_root == EMPTY_ROOT:
            return ScoresTree([])
        committee = self.ws.committee
        for oracle in committee.oracles:
            endpoint = committee.endpoint(oracle)
            if not endpoint:
                continue
            for r in peers.reports(endpoint, self.ws.competitions.address, "final", comp.comp_id):
                try:
                    tree = ScoresTree(final_scores(r.get("payload")))
                except (ProofworkError, AttributeError):
                    continue
                if tree.root == comp.scores_root and len(tree) == len(comp.revealed):
                    return tree
        return None

    def _token(self, address: str) -> Any:
        token = self.ws.token
        return token if token.address.lower() == address.lower() else self.ws.token_at(address)

    def _secret_dir(self) -> Path:
        return self.ws.data_dir / "secrets" / str(self.ws.chain_id) / self.ws.competitions.address.lower()


def final_payload(scores: list[tuple[int, int]], winners: list[tuple[int, int]], root: bytes) -> str:
    """What an oracle keeps (and serves) with its signed final scores: every revealed entry's
    private score, so that anyone can rebuild the tree and prove each one against the root."""
    return json.dumps(
        {
            "scores_root": "0x" + root.hex(),
            "winners": [[e, str(s)] for e, s in winners],
            "scores": [[e, str(s)] for e, s in scores],
        },
        separators=(",", ":"),
    )


def final_scores(payload: object) -> list[tuple[int, int]]:
    """The (entry, score) pairs of a final report's payload (a peer's word: checked by the caller
    against the root on chain). InvalidInput when it is not what `final_payload` writes."""
    if not isinstance(payload, str):
        raise InvalidInput("a final report without scores")
    data = safe_json_loads(payload, max_bytes=MAX_SCORES_PAYLOAD, max_depth=4)
    try:
        return [(_int(e), _int(s)) for e, s in data["scores"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput("a final report whose scores are not [entry, score] pairs") from exc


def _fold(comp_id: int, events: list[Event]) -> Competition:
    """A competition from its events in chain order (NotFound without its CompetitionCreated)."""
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
            int(e.args["entry"]) in revealed,
        )
        for e in events
        if e.name == "SubmissionCommitted"
    ]
    final = next((e for e in events if e.name == "CompetitionFinalized"), None)
    cancelled = next((e for e in events if e.name == "CompetitionCancelled"), None)
    closed = final or cancelled
    labels = next((e for e in events if e.name == "LabelsRevealed"), None)
    proposed = next((e for e in events if e.name == "RankingProposed"), None)
    ranking = [_score_pair(item) for item in proposed.args["ranking"]] if proposed else []
    challenge_end = int(proposed.args["challenge_end"]) if proposed else None
    challenges: list[RankingChallenge] = []
    for e in events:  # in chain order: each ruling follows its challenge
        if e.name == "RankingChallenged":
            challenges.append(
                RankingChallenge(
                    int(e.args["dispute_id"]),
                    str(e.args["challenger"]),
                    int(e.args["entry"]),
                    [_score_pair(item) for item in e.args["ranking"]],
                    int(e.args["fee"]),
                    ranking,
                )
            )
        elif e.name == "ChallengeResolved" and challenges:
            ruled = replace(challenges[-1], ruling=int(e.args["ruling"]))
            challenges[-1] = ruled
            if ruled.ruling == CHALLENGER_WINS:
                ranking = ruled.ranking
            challenge_end = int(e.args["challenge_end"])
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
        entry_bond=int(a["entry_bond"]),
        public_percent=int(a["public_percent"]),
        prize_bps=[int(b) for b in a["prize_bps"]],
        min_score=int(a["min_score"]),
        higher_is_better=bool(a["higher_is_better"]),
        sealed_labels=cid_from_bytes(a["sealed_labels"]),
        created_block=created.block,
        labels_confirmed=any(e.name == "LabelsConfirmed" for e in events),
        entries=sorted(entries, key=lambda e: e.index),
        finalized=final is not None,
        cancelled=cancelled is not None,
        awards=[_award(e) for e in events if e.name == "PrizeAwarded"],
        ranked=final is not None or proposed is not None,
        labels=(_cid_or_none(labels.args["labels_cid"]), bytes(labels.args["labels_salt"]))
        if labels
        else None,
        challenge_end=None if final else challenge_end,
        challenges=challenges,
        winners=[_score_pair(item) for item in final.args["ranking"]] if final else ranking,
        scores_root=final.args["scores_root"]
        if final
        else (proposed.args["scores_root"] if proposed else None),
        refunded=int(closed.args["refunded"]) if closed is not None else 0,
    )


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or len(str(value)) > 80:
        raise ValueError("not an integer")
    return int(value)


def _award(event: Event) -> Award:
    a = event.args
    return Award(int(a["place"]), int(a["entry"]), str(a["winner"]), int(a["amount"]))


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
