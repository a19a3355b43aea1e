"""The competition part of an oracle's pass: confirm a new competition's hidden labels, score
sealed entries on the public split for the leaderboard, and after the reveal period sign the
scores tree of every revealed entry with the winners, and finalize.

A mixin of `OracleNode` (`node.py`), which holds the state these methods use: the workspace, the
signer, the oracle's database, the peers, the sandbox and the opened labels.

Who relays: for each competition one oracle is designated (`comp_id` mod n); the others relay a
confirmation or a result only `AGGREGATION_GRACE` seconds later, so n oracles do not race."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from proofwork.chain.scores_tree import ScoresTree
from proofwork.db.oracle_state import Report
from proofwork.domain import competition as rules
from proofwork.domain.errors import NotFound, ProofworkError, TransactionRejected
from proofwork.domain.evalspec import EvalSpec, split_rows
from proofwork.keys.sealing import open_sealed
from proofwork.services.competitions import Competition, Competitions, final_payload, final_scores
from proofwork.services.evaluated_jobs import AGGREGATION_GRACE, check_labels, on_chain, unscorable
from proofwork.services.oracle.passes import Abstain, StepReport, signature_of
from proofwork.services.task_files import MAX_LABELS_BYTES, HiddenLabels
from proofwork.storage.unixfs import cid_of_bytes


class CompetitionDuties:
    """Competitions, for `OracleNode`."""

    ws: Any
    signer: Any
    state: Any
    peers: Any
    files: Any
    evaluations: Any
    tamper: Any
    evaluator: Any
    _hidden_labels: Any
    _spec: Any
    _labels_still_hidden_elsewhere: Any

    def _competition(self, comp_id: int, step: StepReport) -> None:
        closed: set[int] = self.__dict__.setdefault("_closed_competitions", set())
        if comp_id in closed:
            return  # finalized or cancelled: nothing left to do (and no events to read again)
        comp = Competitions(self.ws).get(comp_id)
        if comp.finalized or comp.cancelled:
            closed.add(comp_id)
            return
        if comp.ranked:  # held for challenges: credit the prizes once nothing can change the ranking
            self._payout_when_due(comp, step)
            return
        if not comp.labels_confirmed:
            # nobody can have entered yet: confirm the labels first (or abstain if they are unusable)
            self._confirm_labels(comp, step)
            return
        contract = self.ws.competitions.address
        hidden = self._hidden_labels(comp.sealed_labels, comp.commitment, comp.spec_hash)
        spec = self._spec(comp.spec_hash)
        labels = self.files.write_temp(hidden.labels, ".labels")
        try:
            n_rows = self.evaluator.count_rows(spec, labels)
            public_rows, private_rows = split_rows(n_rows, hidden.salt, comp.public_percent)
            features = self.files.fetch(spec.data.test_features, MAX_LABELS_BYTES)
            seen: set[str] = set()
            for entry in comp.entries:
                # a copied envelope is scored for its first entry only
                duplicate = entry.sealed_submission is not None and entry.sealed_submission in seen
                if entry.sealed_submission is not None:
                    seen.add(entry.sealed_submission)
                key = (contract, "public", comp_id, entry.index, 0, entry.sealed_submission or "")
                if self.state.find(*key) is not None:
                    continue
                try:
                    public, private, reason, digest = self._score_entry(
                        spec,
                        None if duplicate else entry.sealed_submission,
                        features,
                        labels,
                        public_rows,
                        private_rows,
                        comp.higher_is_better,
                        missing_is_final=self.ws.chain.now() > comp.deadline,
                    )
                except Abstain as exc:  # this entry only: the others are scored all the same
                    step.failures.append(f"competition {comp_id} entry {entry.index}: abstained: {exc}")
                    continue
                if self.tamper:
                    public, private = (
                        self.tamper("public", comp_id, public),
                        self.tamper("private", comp_id, private),
                    )
                # the private score is kept, never served, until the final scores are signed
                self.state.save(
                    Report(
                        contract,
                        "private",
                        comp_id,
                        entry.index,
                        0,
                        entry.sealed_submission or "",
                        ok=not reason,
                        score=private,
                        reason=reason,
                        signature="",
                        payload=digest,
                    )
                )
                signature = self.ws.competitions.sign_public_score(
                    self.signer.key, comp_id, entry.index, public
                )
                self.state.save(
                    Report(
                        *key,
                        ok=not reason,
                        score=public,
                        reason=reason,
                        signature="0x" + signature.hex(),
                        payload=digest,
                    )
                )
                step.scored.append(f"competition {comp_id} entry {entry.index}: public {public}")
        finally:
            labels.unlink(missing_ok=True)
        # judged on mined blocks: once the latest block is past the reveal period, no reveal can follow
        if self.ws.chain.now() <= comp.reveal_end:
            return
        final = self._final_report(comp, contract)
        if final is None:
            return
        if not self._designated(comp) and self.ws.chain.now() < comp.reveal_end + AGGREGATION_GRACE:
            return
        self._finalize(comp, final, hidden, step)

    def _payout_when_due(self, comp: Competition, step: StepReport) -> None:
        """Relays `payout` of a ranked competition once its challenge period is over with no
        challenge pending (the designated oracle first, the others `AGGREGATION_GRACE` later)."""
        if comp.pending_challenge is not None or comp.challenge_end is None:
            return
        due = comp.challenge_end if self._designated(comp) else comp.challenge_end + AGGREGATION_GRACE
        if self.ws.chain.now() <= due:
            return
        try:
            Competitions(self.ws).payout(self.signer, comp.comp_id)
        except ProofworkError as exc:
            if not Competitions(self.ws).get(comp.comp_id).finalized:  # else another relayed first
                step.failures.append(f"competition {comp.comp_id}: payout refused ({exc})")
            return
        step.finalized.append(comp.comp_id)

    def _designated(self, comp: Competition) -> bool:
        """Whether this oracle relays first for `comp` (the others wait `AGGREGATION_GRACE`)."""
        oracles = self.ws.committee.oracles
        return bool(oracles[comp.comp_id % len(oracles)].lower() == self.signer.address.lower())

    # --- labels confirmation -----------------------------------------------------------------------

    def _confirm_labels(self, comp: Competition, step: StepReport) -> None:
        """Signs `LabelsConfirmed` once the sealed labels open the commitment and fit the spec, and
        relays a quorum of confirmations (before the deadline: entries open only after it)."""
        now = self.ws.chain.now()
        if now > comp.deadline:
            return  # too late to open entries: the client may cancel
        own = self._labels_report(comp)
        if not self._designated(comp):
            created = self.ws.competitions.block_time(comp.created_block)
            if now < min(created + AGGREGATION_GRACE, comp.deadline):
                return
        competitions = self.ws.competitions
        committee = self.ws.committee
        message = competitions.labels_message(comp.comp_id, comp.commitment)
        collected = {self.signer.address.lower(): signature_of(own)}
        for oracle in committee.oracles:
            if oracle.lower() in collected or not (endpoint := committee.endpoint(oracle)):
                continue
            for r in self.peers.reports(endpoint, competitions.address, "labels", comp.comp_id):
                try:
                    signature = bytes.fromhex(str(r["signature"]).removeprefix("0x"))
                except (KeyError, ValueError, TypeError, AttributeError):
                    continue
                signer = competitions.labels_signer(message, signature)
                if signer is not None and signer.lower() == oracle.lower():
                    collected[oracle.lower()] = signature
                    break
        if len(collected) < committee.threshold:
            return
        ordered = [sig for _, sig in sorted(collected.items(), key=lambda item: int(item[0], 16))]
        try:
            competitions.confirm_labels(self.signer.key, comp.comp_id, ordered)
        except TransactionRejected as exc:
            if not competitions.competition(comp.comp_id).labels_confirmed:  # else another relayed first
                step.failures.append(f"competition {comp.comp_id}: confirming the labels refused ({exc})")
            return
        step.confirmed.append(comp.comp_id)

    def _labels_report(self, comp: Competition) -> Report:
        """This oracle's signed confirmation, saved before it is shared. Abstains (signs nothing)
        when the sealed labels do not open the commitment, or the spec or labels are unusable: a
        competition nobody could judge must never take entries."""
        contract = self.ws.competitions.address
        key = (contract, "labels", comp.comp_id, 0, 0, "")
        existing = self.state.find(*key)
        if existing is not None:
            return existing
        hidden = self._hidden_labels(comp.sealed_labels, comp.commitment, comp.spec_hash)
        spec = self._spec(comp.spec_hash)
        labels = self.files.write_temp(hidden.labels, ".labels")
        try:
            check_labels(self.files, spec, labels)
        except ProofworkError as exc:
            raise Abstain(f"the labels cannot judge this competition: {exc}") from exc
        finally:
            labels.unlink(missing_ok=True)
        competitions = self.ws.competitions
        signature = competitions.sign_labels(
            self.signer.key, competitions.labels_message(comp.comp_id, comp.commitment)
        )
        return self.state.save(Report(*key, ok=True, score=0, reason="", signature="0x" + signature.hex()))

    # --- scoring ---------------------------------------------------------------------------------

    def _score_entry(
        self,
        spec: EvalSpec,
        sealed_cid: str | None,
        features: Path,
        labels: Path,
        public_rows: list[int],
        private_rows: list[int],
        higher_is_better: bool,
        *,
        missing_is_final: bool,
    ) -> tuple[int, int, str, str]:
        worst = unscorable(higher_is_better)
        if sealed_cid is None:
            return worst, worst, "the entry names no usable sealed submission (or a copy of another's)", ""
        try:
            envelope = self.ws.store.read_bytes(sealed_cid, (spec.limits.max_submission_mb << 21) + (1 << 20))
            submission_bytes = open_sealed(envelope, self.signer.key)
        except NotFound as exc:
            if missing_is_final:  # the deadline has passed: an entry nobody can fetch scores nothing
                return worst, worst, f"the sealed submission was never published: {exc}", ""
            raise Abstain(f"entry not in the artifact store yet: {exc}") from exc
        except ProofworkError as exc:
            return worst, worst, f"cannot open the sealed submission: {exc}", ""
        digest = cid_of_bytes(submission_bytes)
        submission = self.files.write_temp(submission_bytes, ".sub")
        try:
            results = [
                self.evaluator.evaluate(spec, submission, features, labels, rows=rows)
                for rows in (public_rows, private_rows)
            ]
        finally:
            submission.unlink(missing_ok=True)
        for result in results:
            if result.transient:
                raise Abstain(f"the sandbox failed, will retry: {result.reason}")
            if not result.ok or result.score is None:
                return worst, worst, result.reason or "not scorable", digest
        return on_chain(int(results[0].score or 0)), on_chain(int(results[1].score or 0)), "", digest

    # --- final scores ------------------------------------------------------------------------------

    def _final_report(self, comp: Competition, contract: str) -> Report | None:
        """This oracle's signed `FinalScores`: the root of every revealed entry's private score, their
        number and the winners; the scores themselves are kept (and served) with it."""
        key = (contract, "final", comp.comp_id, 0, 0, "")
        existing = self.state.find(*key)
        if existing is not None:
            return existing
        private = {r.item: r for r in self.state.reports(contract, "private", comp.comp_id)}
        scores: list[tuple[int, int]] = []
        worst = unscorable(comp.higher_is_better)
        for entry in comp.entries:
            if not entry.revealed:
                continue
            scored = private.get(entry.index)
            if scored is None:
                return None  # not every revealed entry is scored yet: sign nothing half-done
            # the revealed CID must be what was sealed to the committee, or the entry scores nothing
            genuine = entry.revealed_cid is not None and scored.payload == entry.revealed_cid
            scores.append((entry.index, scored.score if genuine else worst))
        competitions = self.ws.competitions
        if len(scores) != competitions.revealed_count(comp.comp_id):
            return None  # the node's logs lag behind its state: wait for the next pass
        tree = ScoresTree(scores)
        winners = rules.winners(scores, len(comp.prize_bps), comp.min_score, comp.higher_is_better)
        message = competitions.final_message(comp.comp_id, tree.root, len(scores), winners, comp.commitment)
        signature = competitions.sign_final(self.signer.key, message)
        return self.state.save(
            Report(
                *key,
                ok=True,
                score=0,
                reason="",
                signature="0x" + signature.hex(),
                payload=final_payload(scores, winners, tree.root),
            )
        )

    def _finalize(self, comp: Competition, own: Report, hidden: HiddenLabels, step: StepReport) -> None:
        competitions = self.ws.competitions
        committee = self.ws.committee
        scores = final_scores(own.payload)
        tree = ScoresTree(scores)
        winners = rules.winners(scores, len(comp.prize_bps), comp.min_score, comp.higher_is_better)
        message = competitions.final_message(comp.comp_id, tree.root, len(scores), winners, comp.commitment)
        collected = {self.signer.address.lower(): signature_of(own)}
        for oracle in committee.oracles:
            if oracle.lower() in collected or not (endpoint := committee.endpoint(oracle)):
                continue
            for r in self.peers.reports(endpoint, competitions.address, "final", comp.comp_id):
                try:
                    signature = bytes.fromhex(str(r["signature"]).removeprefix("0x"))
                except (KeyError, ValueError, TypeError, AttributeError):
                    continue
                signer = competitions.final_signer(message, signature)
                if signer is not None and signer.lower() == oracle.lower():
                    collected[oracle.lower()] = signature
                    break
        if len(collected) < committee.threshold:
            return
        ordered = [sig for _, sig in sorted(collected.items(), key=lambda item: int(item[0], 16))]
        try:
            competitions.finalize(
                self.signer.key, comp.comp_id, hidden.cid_bytes, hidden.salt, tree.root, winners, ordered
            )
        except TransactionRejected as exc:
            step.failures.append(f"competition {comp.comp_id}: finalize refused ({exc})")
            return
        step.finalized.append(comp.comp_id)
        # the labels' CID and salt are on chain now; the labels themselves are published for anyone
        # to re-check every score, unless a job or competition still open is judged on them
        registered = [int(e.args["job_id"]) for e in self.evaluations.registered_jobs()]
        if not self._labels_still_hidden_elsewhere(hidden.labels_cid, -1, registered):
            self.ws.store.add_bytes(hidden.labels)
