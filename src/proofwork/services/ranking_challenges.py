"""Ranking challenges: a competition's ranking taken to proofwork's court of staked jurors.

When the competition contract names a court, the committee's ranking is held for a challenge period
after it is finalized. An entrant with a revealed entry may challenge it, proposing its own ranking
(by default the one recomputed here from public artifacts) and paying the court's fee for the prize;
the jurors rule between the ranking in force (1) and the challenger's (2); each ruling opens a new
challenge period; at most three challenges may be upheld (a rejected one costs its challenger the fee
and does not count, so strawmen cannot use them up); then anyone credits the prizes
(`Competitions.payout`).

Jurors judge with facts: `check` scores every revealed entry again on the private split, from the
revealed labels and the revealed submissions in the content store, exactly as an oracle does, and
puts the recomputed ranking next to both rankings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from proofwork.chain.receipts import Receipt
from proofwork.domain import competition as rules
from proofwork.domain.errors import InvalidInput, NotAllowed, NotFound, ProofworkError
from proofwork.domain.evalspec import split_rows
from proofwork.domain.units import format_utc
from proofwork.services.competitions import CHALLENGER_WINS, Competition, Competitions
from proofwork.services.disputes import Disputes, Step
from proofwork.services.evaluated_jobs import on_chain, unscorable
from proofwork.services.task_files import MAX_LABELS_BYTES, TaskFiles
from proofwork.services.workspace import Signer, Workspace

# As the contract: challenges the jurors may uphold in one competition
MAX_CHALLENGES = 3
ZERO_ADDRESS = "0x" + "00" * 20
RULINGS = {
    0: "refused to arbitrate: the ranking in force stands",
    1: "the ranking in force stands",
    2: "the challenger's ranking replaces it",
}


@dataclass(frozen=True)
class Rescored:
    """Every revealed entry scored again from public artifacts: (entry -> score) and why some are not."""

    scores: dict[int, int]
    reasons: dict[int, str]  # entries scored as unscorable, and why
    ranking: list[tuple[int, int]]  # the winners those scores give, first place first


@dataclass(frozen=True)
class ChallengeOutcome:
    comp_id: int
    dispute_id: int
    message: str
    steps: list[Step] = field(default_factory=list)

    @property
    def gas(self) -> int:
        return sum(s.receipt.gas_used for s in self.steps)


class RankingChallenges:
    """The ranking-challenge use cases over one workspace (`evaluator`: a sandbox, to re-score)."""

    def __init__(self, ws: Workspace, evaluator: Any = None) -> None:
        self.ws = ws
        self.evaluator = evaluator
        self.competitions = Competitions(ws)
        self.disputes = Disputes(ws)

    # --- reads -----------------------------------------------------------------------------------

    def court(self) -> str:
        """The court the competition contract hands challenges to; NotFound when it names none."""
        court = self.ws.competitions.court()
        if int(court, 16) == 0:
            raise NotFound(
                "this competition contract names no court: its rankings cannot be challenged (a committee "
                "deployed after `court deploy` names one)"
            )
        return court

    def dispute_of(self, comp_id: int) -> int:
        """The court dispute of the competition's latest ranking challenge."""
        comp = self.competitions.get(comp_id)
        if not comp.challenges:
            raise NotFound(f"the ranking of competition {comp_id} was never challenged")
        return comp.challenges[-1].dispute_id

    def rescore(self, comp: Competition) -> Rescored:
        """Every revealed entry scored again on the private split from public artifacts: the spec, the
        revealed labels and salt, each revealed submission (published by its entrant at reveal). An
        entry whose sealed envelope copies an earlier one's, or whose submission cannot be fetched or
        scored, scores as unscorable, as the oracles score it."""
        if self.evaluator is None:
            raise InvalidInput("re-scoring needs an evaluator (a sandbox)")
        labels_cid, salt = comp.labels or (None, b"")
        if labels_cid is None:
            raise NotAllowed(f"the labels of competition {comp.comp_id} are not revealed yet")
        files = TaskFiles(self.ws.store, self.ws.data_dir / "work")
        spec, _ = files.spec_by_hash(comp.spec_hash)
        labels = files.fetch(labels_cid, MAX_LABELS_BYTES)
        features = files.fetch(spec.data.test_features, MAX_LABELS_BYTES)
        _, private_rows = split_rows(self.evaluator.count_rows(spec, labels), salt, comp.public_percent)
        worst = unscorable(comp.higher_is_better)
        scores: dict[int, int] = {}
        reasons: dict[int, str] = {}
        seen: set[str] = set()
        for entry in comp.entries:
            copied = entry.sealed_submission is not None and entry.sealed_submission in seen
            if entry.sealed_submission is not None:
                seen.add(entry.sealed_submission)
            if not entry.revealed:
                continue
            score, reason = worst, ""
            if copied or entry.revealed_cid is None:
                reason = "a copy of an earlier entry's envelope" if copied else "no usable revealed CID"
            else:
                try:
                    submission = files.fetch(entry.revealed_cid, (spec.limits.max_submission_mb << 20) + 1)
                    result = self.evaluator.evaluate(spec, submission, features, labels, rows=private_rows)
                    if result.ok and result.score is not None:
                        score = on_chain(int(result.score))
                    else:
                        reason = result.reason or "not scorable"
                except ProofworkError as exc:
                    reason = f"the revealed submission cannot be fetched: {exc}"
            scores[entry.index] = score
            if reason:
                reasons[entry.index] = reason
        ranking = rules.winners(
            sorted(scores.items()), len(comp.prize_bps), comp.min_score, comp.higher_is_better
        )
        return Rescored(scores, reasons, ranking)

    def check(self, comp_id: int) -> dict[str, Any]:
        """What a juror of a ranking challenge can prove: the ranking in force, the challenger's, and
        (with an evaluator) the ranking recomputed from public artifacts, with every entry's score."""
        comp = self.competitions.get(comp_id)
        if not comp.challenges:
            raise NotFound(f"the ranking of competition {comp_id} was never challenged")
        last = comp.challenges[-1]
        before = last.against
        out: dict[str, Any] = {
            "competition": comp_id,
            "dispute": last.dispute_id,
            "challenger": last.challenger,
            "ranking_in_force": [list(w) for w in before],
            "challenger_ranking": [list(w) for w in last.ranking],
            "labels_revealed": comp.labels is not None,
            "recomputed": None,
            "matches": None,
            "reason": "no sandbox was given to re-score the entries",
        }
        if self.evaluator is not None:
            rescored = self.rescore(comp)
            out["recomputed"] = [list(w) for w in rescored.ranking]
            out["scores"] = {str(k): v for k, v in sorted(rescored.scores.items())}
            out["unscorable"] = {str(k): v for k, v in sorted(rescored.reasons.items())}
            out["matches"] = (
                "challenger"
                if rescored.ranking == last.ranking
                else ("ranking in force" if rescored.ranking == before else "neither")
            )
            out["reason"] = None
        return out

    # --- challenge -------------------------------------------------------------------------------

    def challenge(
        self,
        entrant: Signer,
        comp_id: int,
        ranking: list[tuple[int, int]] | None = None,
        statement: str = "",
    ) -> ChallengeOutcome:
        """Takes the ranking in force to the court, proposing `ranking` (by default the one recomputed
        from public artifacts, which needs an evaluator) and paying the court's fee for the prize."""
        court = self.court()
        comp = self.competitions.get(comp_id)
        if not comp.ranked:
            raise NotAllowed(f"competition {comp_id} has no ranking to challenge yet")
        if comp.finalized:
            raise NotAllowed(f"the prizes of competition {comp_id} are credited: its ranking is final")
        if comp.pending_challenge is not None:
            raise NotAllowed(
                f"the ranking of competition {comp_id} is already in court "
                f"(dispute {comp.pending_challenge.dispute_id})"
            )
        if sum(1 for c in comp.challenges if c.ruling == CHALLENGER_WINS) >= MAX_CHALLENGES:
            raise NotAllowed(
                f"the jurors upheld {MAX_CHALLENGES} challenges of competition {comp_id}: no more"
            )
        now = self.ws.chain.next_timestamp()
        if comp.challenge_end is not None and now > comp.challenge_end:
            raise NotAllowed(
                f"the challenge period of competition {comp_id} ended {format_utc(comp.challenge_end)}"
            )
        mine = [e for e in comp.revealed if e.submitter.lower() == entrant.address.lower()]
        if not mine:
            raise NotAllowed(f"only an entrant with a revealed entry may challenge competition {comp_id}")
        if ranking is None:
            ranking = self.rescore(comp).ranking
        _check_ranking(comp, ranking)
        if ranking == comp.winners:
            raise NotAllowed(
                f"that ranking is the one in force for competition {comp_id}: there is nothing to challenge"
            )
        fee = self.ws.competitions.challenge_cost(comp_id)
        steps = self.disputes.fund(entrant, comp.token, fee, "challenge fee", self.ws.competitions.address)
        meta = self._meta_evidence(comp, entrant, ranking, court, statement)
        receipt = self.ws.competitions.challenge(entrant.key, comp_id, mine[0].index, ranking, meta)
        steps.append(Step("challenge the ranking", receipt))
        event = next(e for e in self.ws.competitions.receipt_events(receipt) if e.name == "RankingChallenged")
        dispute = int(event.args["dispute_id"])
        return ChallengeOutcome(
            comp_id,
            dispute,
            f"competition {comp_id}: ranking challenged before the court (dispute {dispute})",
            steps,
        )

    def _meta_evidence(
        self, comp: Competition, entrant: Signer, ranking: list[tuple[int, int]], court: str, statement: str
    ) -> str:
        """The ERC-1497 meta-evidence JSON, added to the content store; its URI goes on chain."""
        labels_cid = comp.labels[0] if comp.labels else None
        meta = {
            "category": "proofwork competition ranking",
            "title": f"Competition {comp.comp_id}: which ranking pays the prizes?",
            "description": (
                f"{entrant.address} challenges the ranking of competition {comp.comp_id} on "
                f"{self.ws.competitions.address}. {statement}"
            ).strip(),
            "question": "Which ranking do the entries' private scores on the revealed labels give? "
            "`proofwork juror check --competition` scores every revealed entry again.",
            "rulingOptions": {
                "type": "single-select",
                "titles": ["Ranking in force", "Challenger's ranking"],
                "descriptions": [RULINGS[1], RULINGS[2]],
            },
            "aliases": {comp.client: "client", entrant.address: "challenger"},
            "competition": {
                "contract": self.ws.competitions.address,
                "id": comp.comp_id,
                "court": court,
                "spec_hash": "0x" + comp.spec_hash.hex(),
                **({"labelsURI": f"/ipfs/{labels_cid}"} if labels_cid else {}),
                "prize": comp.prize,
                "token": comp.token,
                "ranking_in_force": [[e, str(s)] for e, s in comp.winners],
                "challenger_ranking": [[e, str(s)] for e, s in ranking],
                "entries": {str(e.index): f"/ipfs/{e.revealed_cid}" for e in comp.revealed if e.revealed_cid},
            },
        }
        cid = self.ws.store.add_bytes(json.dumps(meta, sort_keys=True).encode())
        return f"/ipfs/{cid}"

    # --- appeal, advance -------------------------------------------------------------------------

    def appeal(self, payer: Signer, comp_id: int) -> ChallengeOutcome:
        """Appeals the court's current ruling on the pending challenge, paying the whole appeal fee."""
        self.court()
        comp = self.competitions.get(comp_id)
        pending = comp.pending_challenge
        if pending is None:
            raise NotAllowed(f"competition {comp_id} has no challenge in court")
        court = self.ws.court
        start, end = court.appeal_period(pending.dispute_id)
        now = self.ws.chain.next_timestamp()
        if not start <= now < end:
            raise NotAllowed(
                f"the ruling on competition {comp_id} can be appealed only during its appeal period"
            )
        fee = court.appeal_cost(pending.dispute_id)
        if fee >= 2**256 - 1:
            raise NotAllowed(f"the ruling on competition {comp_id} cannot be appealed again")
        steps = self.disputes.fund(payer, comp.token, fee, "appeal fee", self.ws.competitions.address)
        steps.append(Step("appeal", self.ws.competitions.appeal(payer.key, comp_id)))
        return ChallengeOutcome(comp_id, pending.dispute_id, f"competition {comp_id}: ruling appealed", steps)

    def advance(self, caller: Signer, comp_id: int) -> ChallengeOutcome:
        """Does what is due on the competition's challenge in the court (draws, periods, the ruling,
        the jurors' rewards), as anyone may. Refused when nothing is due."""
        self.court()
        dispute = self.dispute_of(comp_id)
        comp = self.competitions.get(comp_id)
        steps = self.disputes.court_steps(caller, dispute, comp.pending_challenge is not None)
        notes: list[str] = []
        steps += self.disputes.reward_steps(caller, dispute, notes)
        if not steps:
            raise NotAllowed(f"nothing to advance on the challenge of competition {comp_id} now")
        message = f"competition {comp_id} advanced: " + "; ".join([s.name for s in steps] + notes)
        return ChallengeOutcome(comp_id, dispute, message, steps)

    def payout(self, caller: Signer, comp_id: int) -> tuple[int, Receipt]:
        return self.competitions.payout(caller, comp_id)


def _check_ranking(comp: Competition, ranking: list[tuple[int, int]]) -> None:
    """The contract's checks of a proposed ranking, with a clear reason before anything is sent."""
    revealed = {e.index for e in comp.revealed}
    if len(ranking) > len(comp.prize_bps):
        raise InvalidInput(f"competition {comp.comp_id} has {len(comp.prize_bps)} places: too many winners")
    better = (lambda a, b: a > b) if comp.higher_is_better else (lambda a, b: a < b)
    for i, (entry, score) in enumerate(ranking):
        if entry not in revealed:
            raise InvalidInput(f"entry {entry} of competition {comp.comp_id} is not revealed")
        if not (score == comp.min_score or better(score, comp.min_score)):
            raise InvalidInput(f"entry {entry}'s score {score} does not reach the bar {comp.min_score}")
        if i and not (
            better(ranking[i - 1][1], score) or (ranking[i - 1][1] == score and ranking[i - 1][0] < entry)
        ):
            raise InvalidInput("the ranking is not best first (ties: the lower entry first)")
        if entry in {e for e, _ in ranking[:i]}:
            raise InvalidInput(f"entry {entry} appears twice in the ranking")
