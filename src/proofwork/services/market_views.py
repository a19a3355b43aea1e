"""What the web pages show, read through the services: the job board with its filters, one job with
its milestones, history, evaluation and disputes, and a profile. Plain values, amounts as integers in
token units and times as unix seconds (the pages format them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from proofwork.db.index import IndexStore
from proofwork.domain import job as J
from proofwork.domain.addresses import parse_address
from proofwork.domain.errors import ChainBusy, ChainUnavailable, InvalidInput, NotFound, ProofworkError
from proofwork.domain.evalspec import SCORE_SCALE
from proofwork.domain.units import parse_amount
from proofwork.services import job_listing
from proofwork.services.jobs import Jobs
from proofwork.services.workspace import Workspace

STATES = ("open", "active", "completed", "refunded", "cancelled")
KINDS = ("evaluated", "plain")
MAX_QUERY = 200
BOARD_PAGE = 20
COMMITTEE_CONTRACT = "OracleCommittee"
# spec facts by the spec file's digest (content-addressed: a digest's file never changes)
_SPECS: dict[tuple[str, bytes], dict[str, Any]] = {}
_MAX_SPECS = 10_000


@dataclass(frozen=True)
class JobFilters:
    q: str = ""
    state: str = ""
    kind: str = ""
    min_budget: str = ""
    max_budget: str = ""
    party: str = ""

    def check(self) -> JobFilters:
        if len(self.q) > MAX_QUERY:
            raise InvalidInput(f"the search text is longer than {MAX_QUERY} characters")
        if self.state and self.state not in STATES:
            raise InvalidInput(f"invalid state {self.state!r}: expected one of {', '.join(STATES)}")
        if self.kind and self.kind not in KINDS:
            raise InvalidInput(f"invalid kind {self.kind!r}: expected one of {', '.join(KINDS)}")
        if self.party:
            parse_address(self.party, "party address")
        return self


@dataclass(frozen=True)
class JobSummary:
    job: J.Job
    title: str
    evaluated: bool
    metric: str | None
    threshold: str | None  # in metric units, as the spec writes it
    higher_is_better: bool | None
    created_at: int | None
    created_tx: str | None


@dataclass(frozen=True)
class BoardPage:
    jobs: list[JobSummary]
    next_cursor: int | None  # `before` of the next (older) page
    total: int | None  # every match on every page (None: not counted, a search filtered in Python)
    indexed_block: int | None  # from the index: the last block it holds; None: from the logs
    stale: bool  # the index lags the node, or the node cannot be reached
    behind: int | None  # blocks the index lags the node's head (None: the head is unknown)
    reachable: bool  # the node answered
    decimals: int
    symbol: str


@dataclass(frozen=True)
class HistoryItem:
    name: str
    block: int
    timestamp: int
    tx_hash: str
    text: str


@dataclass(frozen=True)
class ScoreRow:
    milestone: int
    round: int
    score: str  # metric units
    passed: bool
    signers: int
    tx_hash: str
    timestamp: int


@dataclass(frozen=True)
class DisputeRow:
    milestone: int
    raised_by: str
    status: str
    case_id: int | None
    tx_hash: str
    timestamp: int


@dataclass
class JobDetail:
    summary: JobSummary
    timing: list[J.Deadlines]
    history: list[HistoryItem]
    scores: list[ScoreRow] = field(default_factory=list)
    disputes: list[DisputeRow] = field(default_factory=list)
    evaluation: dict[str, Any] | None = None
    judged_by_committee: bool = False
    arbiter_name: str = ""


def score_text(fixed: int) -> str:
    """A fixed-point score in metric units, exactly ('0.953704'); the reports' extremes for a
    submission that could not be scored say so."""
    if abs(fixed) >= 2**255 - 1:
        return "unscorable"
    value = Decimal(fixed) / SCORE_SCALE
    return format(value.normalize(), "f") if value != 0 else "0"


class MarketViews:
    """`index`: the chain index a server keeps open (None: opened for the board's read when there is
    one)."""

    def __init__(self, ws: Workspace, index: IndexStore | None = None) -> None:
        self.ws = ws
        self.jobs = Jobs(ws)
        self.index = index
        self._times: dict[int, int] = {}

    # --- helpers ---------------------------------------------------------------------------------

    def time_of(self, block: int) -> int:
        from proofwork.chain.unsigned import block_timestamp

        if block not in self._times:
            self._times[block] = block_timestamp(self.ws.chain, block)
        return self._times[block]

    def _time_or_none(self, block: int) -> int | None:
        """The block's time, None while the node cannot be reached."""
        try:
            return self.time_of(block)
        except (ChainUnavailable, ChainBusy):
            return None

    @property
    def token(self) -> dict[str, Any]:
        token = self.ws.token
        return {"address": token.address, "symbol": token.symbol, "decimals": token.decimals}

    def _evaluations(self) -> dict[int, dict[str, Any]]:
        """job id -> the registered evaluation's spec facts (committee jobs only), from the logs."""
        if not self.ws.deployment.committee:
            return {}
        from proofwork.services.evaluated_jobs import Evaluations

        registered: dict[int, dict[str, Any]] = {}
        for event in Evaluations(self.ws).registered_jobs():
            registered.setdefault(int(event.args["job_id"]), dict(event.args))
        return {job_id: self._facts(job_id, args) for job_id, args in registered.items()}

    def _facts(self, job_id: int, args: dict[str, Any]) -> dict[str, Any]:
        """An `EvaluationRegistered`'s facts (threshold, direction, spec digest), with the title,
        metric and task of its spec file when the store has it."""
        digest = args["spec_digest"]
        digest = bytes.fromhex(digest[2:]) if isinstance(digest, str) else bytes(digest)
        facts: dict[str, Any] = {
            "threshold": score_text(int(args["threshold"])),
            "higher_is_better": args["higher_is_better"] in (True, 1, "1", "true", "True"),
            "spec_digest": digest,
            "title": f"Evaluated job {job_id}",
            "metric": None,
            "task": None,
        }
        facts.update(self._spec(digest))
        return facts

    def _spec(self, digest: bytes) -> dict[str, Any]:
        key = (str(self.ws.store), digest)
        known = _SPECS.get(key)
        if known is not None:
            return known
        from proofwork.services.task_files import TaskFiles

        try:
            spec, cid = TaskFiles(self.ws.store, self.ws.data_dir / "work").spec_by_hash(digest)
        except ProofworkError:
            return {}  # the spec file is not in this store: the facts on chain still show
        if len(_SPECS) >= _MAX_SPECS:
            _SPECS.clear()
        known = _SPECS[key] = {"title": spec.name, "metric": spec.metric, "task": spec.task, "spec_cid": cid}
        return known

    def _indexed_evaluations(
        self, store: IndexStore, facts: job_listing.BoardFacts
    ) -> dict[int, dict[str, Any]] | None:
        """job id -> the registered evaluation's facts, from the index (None: it does not hold the
        deployment's committee)."""
        if not facts.committee:
            return {}
        committee = facts.committee.lower()
        if not any(c.address == committee for c in store.contracts(facts.chain_id)):
            return None
        registered: dict[int, dict[str, Any]] = {}
        for event in store.job_events(
            facts.chain_id, committee, COMMITTEE_CONTRACT, None, ("EvaluationRegistered",)
        ):
            registered.setdefault(int(event.args["job_id"]), event.args)
        return {job_id: self._facts(job_id, args) for job_id, args in registered.items()}

    def _summary(
        self,
        job: J.Job,
        evaluations: dict[int, dict[str, Any]],
        created: dict[int, tuple[int, str]],
    ) -> JobSummary:
        facts = evaluations.get(job.job_id)
        block, tx = created.get(job.job_id, (None, None))
        return JobSummary(
            job,
            facts["title"] if facts else f"Job {job.job_id}",
            facts is not None,
            facts["metric"] if facts else None,
            facts["threshold"] if facts else None,
            facts["higher_is_better"] if facts else None,
            self._time_or_none(block) if block is not None else None,
            tx,
        )

    def _created(self, job_id: int | None = None) -> dict[int, tuple[int, str]]:
        from proofwork.chain.unsigned import job_event_transactions

        out: dict[int, tuple[int, str]] = {}
        for block, tx, name, jid in job_event_transactions(self.ws.escrow, job_id):
            if name == "JobCreated":
                out.setdefault(jid, (block, tx))
        return out

    # --- the board -------------------------------------------------------------------------------

    def board(
        self, filters: JobFilters, *, before: int | None = None, limit: int | None = BOARD_PAGE
    ) -> BoardPage:
        """The jobs matching the filters, newest first, a page of at most `limit` with ids below
        `before`, through `job_listing.list_jobs`: from the chain index when it holds this escrow
        (even behind the node, or with the node unreachable: the page says so), else from the logs.

        State, budget and party are filtered by the index's SQL; the search text and the kind need the
        registered evaluations and their spec files, so they are a Python filter over the index's
        matches (read in batches until the page is full; the count of all matches is then unknown)."""
        filters.check()
        own = self.index is None
        store = job_listing.open_job_index(self.ws.settings) if own else self.index
        try:
            return self._board(filters, before, limit, store)
        finally:
            if own and store is not None:
                store.close()

    def _board(
        self, filters: JobFilters, before: int | None, limit: int | None, store: IndexStore | None
    ) -> BoardPage:
        reached = job_listing.reach(self.ws, store)
        facts, _ = reached
        low = parse_amount(filters.min_budget, facts.decimals) if filters.min_budget else None
        high = parse_amount(filters.max_budget, facts.decimals) if filters.max_budget else None
        evaluations = self._indexed_evaluations(store, facts) if store is not None else None
        where = job_listing.JobFilter(
            state=filters.state or None,
            min_budget=low,
            max_budget=high,
            involving=filters.party or None,
        )
        loaded: dict[int, dict[str, Any]] | None = evaluations

        def registered() -> dict[int, dict[str, Any]]:
            nonlocal loaded
            if loaded is None:
                loaded = self._evaluations()  # the index does not hold the committee: its logs
            return loaded

        def keep(item: job_listing.ListedJob) -> bool:
            found = registered().get(item.job.job_id)
            if filters.kind and (filters.kind == "evaluated") != (found is not None):
                return False
            return not filters.q or _matches(filters.q, item.job, found)

        page = job_listing.list_jobs(
            self.ws,
            where,
            before=before,
            limit=limit,
            matches=keep if (filters.q or filters.kind) else None,
            stale_ok=True,
            store=store,
            reached=reached,
        )
        ids = [item.job.job_id for item in page.jobs]
        if page.indexed_block is not None and store is not None:
            created = self._indexed_created(store, facts, ids)
        else:
            created = self._created() if ids else {}
        summaries = [self._summary(item.job, registered(), created) for item in page.jobs]
        return BoardPage(
            summaries,
            page.next_cursor,
            page.total if page.counted else None,
            page.indexed_block,
            page.stale,
            page.behind,
            page.reachable,
            facts.decimals,
            facts.symbol,
        )

    def _indexed_created(
        self, store: IndexStore, facts: job_listing.BoardFacts, ids: list[int]
    ) -> dict[int, tuple[int, str]]:
        """job id -> (block, transaction) of its creation, from the index."""
        if not ids:
            return {}
        out: dict[int, tuple[int, str]] = {}
        for e in store.job_events(facts.chain_id, facts.escrow, "JobEscrow", ids, ("JobCreated",)):
            out.setdefault(int(e.args["job_id"]), (e.block_number, e.tx_hash))
        return out

    # --- one job ---------------------------------------------------------------------------------

    def job(self, job_id: int) -> JobDetail:
        """One job: from the index when it is caught up (the job and its escrow events with their
        transactions), else from the logs; the committee's evaluation and scores from the chain."""
        from proofwork.chain.unsigned import job_event_transactions

        indexed = job_listing.indexed_job(self.ws, job_id, self.index)
        logged: list[tuple[int, str, str, J.JobEvent]]  # (block, transaction, event name, event)
        if indexed is not None:
            job = indexed.job
            logged = [(e.block_number, e.tx_hash, e.name, event) for e, event in indexed.events]
        else:
            job = self.jobs.get(job_id)
            events = [event for _, event in self.ws.escrow.events(job_id)]
            txs = job_event_transactions(self.ws.escrow, job_id)
            logged = [(b, tx, name, event) for event, (b, tx, name, _) in zip(events, txs, strict=False)]
        first = next(((b, tx) for b, tx, name, _ in logged if name == "JobCreated"), None)
        created = {job_id: first} if first is not None else {}
        evaluations = self._evaluations() if self.jobs.judged_by_committee(job) else {}
        summary = self._summary(job, evaluations, created)
        decimals, symbol = self.ws.token.decimals, self.ws.token.symbol
        history = []
        disputes = []
        for block, tx, name, event in logged:
            when = self.time_of(block)
            history.append(HistoryItem(name, block, when, tx, _describe(event, decimals, symbol)))
            if isinstance(event, J.DisputeRaised):
                disputes.append((event, tx, when))
        detail = JobDetail(summary, self.jobs.timing(job), history)
        detail.judged_by_committee = self.jobs.judged_by_committee(job)
        detail.arbiter_name = self._arbiter_name(job)
        for event, tx, when in disputes:
            m = int(event.milestone)
            detail.disputes.append(
                DisputeRow(
                    m,
                    str(event.by),
                    job.milestones[m].status.label,
                    self._case_of(job, m),
                    tx,
                    when,
                )
            )
        if detail.judged_by_committee:
            self._add_evaluation(detail, job_id)
        return detail

    def _arbiter_name(self, job: J.Job) -> str:
        d = self.ws.deployment
        if job.arbiter == J.ZERO_ADDRESS:
            return "none"
        if d.committee and J.same_address(job.arbiter, d.committee):
            return "the oracle committee"
        if d.arbitrable and J.same_address(job.arbiter, d.arbitrable):
            return "the court"
        return job.arbiter

    def _case_of(self, job: J.Job, milestone: int) -> int | None:
        d = self.ws.deployment
        if not d.arbitrable or not J.same_address(job.arbiter, d.arbitrable):
            return None
        from proofwork.services.disputes import Disputes

        try:
            return Disputes(self.ws).case_of(job.job_id, milestone)
        except ProofworkError:
            return None

    def _add_evaluation(self, detail: JobDetail, job_id: int) -> None:
        from proofwork.services.evaluated_jobs import Evaluations, evaluation_json

        evaluations = Evaluations(self.ws)
        try:
            evaluation = evaluations.get(job_id)
        except NotFound:
            return
        problem = evaluations.binding_problem(detail.summary.job, evaluation)
        detail.evaluation = evaluation_json(evaluation, problem)
        detail.evaluation["threshold_text"] = score_text(evaluation.threshold)
        settled = self.ws.committee.events("ScoreSettled", subject=job_id)
        for event in settled:
            a = event.args
            detail.scores.append(
                ScoreRow(
                    int(a["milestone"]),
                    int(a["round"]),
                    score_text(int(a["median"])),
                    bool(a["passed"]),
                    len(a["signers"]),
                    event.tx_hash,
                    self.time_of(event.block),
                )
            )


def _matches(q: str, job: J.Job, facts: dict[str, Any] | None) -> bool:
    words = q.lower().split()
    text = " ".join(
        str(x)
        for x in (
            job.job_id,
            f"#{job.job_id}",
            facts["title"] if facts else f"Job {job.job_id}",
            job.client,
            job.freelancer,
            job.status,
            (facts or {}).get("metric") or "",
            (facts or {}).get("task") or "",
            "evaluated" if facts else "plain",
        )
    ).lower()
    return all(word in text for word in words)


def _describe(event: J.JobEvent, decimals: int, symbol: str) -> str:
    from proofwork.domain.units import format_amount

    def amount(units: int) -> str:
        return f"{format_amount(units, decimals)} {symbol}"

    if isinstance(event, J.JobCreated):
        return f"created and funded with {amount(sum(event.amounts))} in {len(event.amounts)} milestone(s)"
    if isinstance(event, J.Applied):
        return f"{event.applicant} applied"
    if isinstance(event, J.FreelancerAssigned):
        return f"{event.freelancer} assigned"
    if isinstance(event, J.MilestoneSubmitted):
        return f"milestone {event.milestone + 1} submitted (deliverable 0x{event.deliverable.hex()[:16]}…)"
    if isinstance(event, J.RevisionRequested):
        return f"revision of milestone {event.milestone + 1} requested"
    if isinstance(event, J.MilestonePaid):
        return (
            f"milestone {event.milestone + 1}: {amount(event.gross - event.fee)} paid to the freelancer, "
            f"{amount(event.fee)} fee ({event.reason.name.lower().replace('_', ' ')})"
        )
    if isinstance(event, J.MilestoneRefunded):
        return f"milestone {event.milestone + 1}: {amount(event.amount)} refunded"
    if isinstance(event, J.DisputeRaised):
        return f"milestone {event.milestone + 1} disputed by {event.by}"
    if isinstance(event, J.MilestoneResolved):
        return (
            f"milestone {event.milestone + 1} resolved by the arbiter: {amount(event.freelancer_gross - event.fee)} to the "
            f"freelancer, {amount(event.client_amount)} to the client"
        )
    if isinstance(event, J.CancelProposed):
        return f"{event.proposer} offers to cancel, {amount(event.freelancer_amount)} to the freelancer"
    if isinstance(event, J.JobCancelled):
        return f"cancelled: {amount(event.client_amount)} back to the client"
    return type(event).__name__


@dataclass
class ProfileView:
    address: str
    name: str | None
    balance: int
    reputation: Any | None  # reputation.ReputationView
    reputation_note: str | None  # why there is none
    badges: list[Any]
    completions: list[Any]  # JobCompleted attestations of this freelancer
    credentials: list[dict[str, Any]]  # held in this server's wallet directory
    as_client: list[JobSummary]
    as_freelancer: list[JobSummary]


def profile(ws: Workspace, address: str) -> ProfileView:
    """Reputation (with its explanation), badges, credentials and jobs of one address."""
    from proofwork.services import badges as badge_service
    from proofwork.services import reputation
    from proofwork.services.attestations import job_completions
    from proofwork.services.credentials.wallet import held_credentials

    address = parse_address(address, "address")
    views = MarketViews(ws)
    rep, note = None, None
    badges: list[Any] = []
    completions: list[Any] = []
    if ws.has_identity:
        try:
            rep = reputation.reputation_of(ws, address)
        except ProofworkError as exc:
            note = str(exc)
        badges = badge_service.badges_of(ws, address)
        completions = [c for c in job_completions(ws, address) if c.freelancer.lower() == address.lower()]
    else:
        note = "the identity contracts (attestations, badges, issuers) are not deployed on this chain"
    mine = views.board(JobFilters(party=address), limit=None).jobs
    return ProfileView(
        address,
        ws.name_of(address),
        ws.token.balance_of(address),
        rep,
        note,
        badges,
        completions,
        held_credentials(ws, address),
        [s for s in mine if J.same_address(s.job.client, address)],
        [s for s in mine if not s.job.is_open and J.same_address(s.job.freelancer, address)],
    )


@dataclass(frozen=True)
class CompetitionSummary:
    comp: Any  # competitions.Competition
    title: str
    metric: str | None
    state: str


def _competition_state(comp: Any, now: int) -> str:
    if comp.cancelled:
        return "cancelled"
    if comp.finalized:
        return "finalized"
    if comp.ranked:
        return "ranked (challenge period)"
    if not comp.labels_confirmed:
        return "awaiting the committee"
    if now < comp.deadline:
        return "open for entries"
    if now < comp.reveal_end:
        return "revealing"
    return "being ranked"


def _competition_summary(ws: Workspace, comp: Any, now: int) -> CompetitionSummary:
    from proofwork.services.task_files import TaskFiles

    title, metric = f"Competition {comp.comp_id}", None
    try:
        spec, _ = TaskFiles(ws.store, ws.data_dir / "work").spec_by_hash(comp.spec_hash)
        title, metric = spec.name, spec.metric
    except ProofworkError:
        pass
    return CompetitionSummary(comp, title, metric, _competition_state(comp, now))


def competitions(ws: Workspace) -> list[CompetitionSummary]:
    """Every competition of the deployment's contract, newest first (none without a committee)."""
    if not ws.deployment.competition:
        return []
    from proofwork.services.competitions import Competitions

    now = ws.chain.next_timestamp()
    return [_competition_summary(ws, c, now) for c in reversed(Competitions(ws).listed())]


def competition(ws: Workspace, comp_id: int) -> tuple[CompetitionSummary, list[Any]]:
    """One competition and its leaderboard: the oracles' signed public scores while it runs, the
    ranking (private scores proven against the committee's root) and prizes once ranked."""
    from proofwork.network.peers import HttpPeers
    from proofwork.services.competitions import Competitions

    peers = HttpPeers()
    try:
        comp, rows = Competitions(ws).leaderboard(comp_id, peers)
    finally:
        peers.close()
    return _competition_summary(ws, comp, ws.chain.next_timestamp()), rows
