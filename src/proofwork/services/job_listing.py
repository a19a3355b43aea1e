"""The reads behind the API's job board and job pages, in one place.

`list_jobs` is the one function job lists go through (the API, the CLI, the SDK). It answers from the
chain index's jobs projection (`db/index/jobs.py`) when an index of this chain's escrow exists and is
caught up with the chain (the indexer's confirmation depth allowed), else by rebuilding every job
from the escrow's logs; both give the same page. `JobBoard` is the long-running server's variant: it
keeps the index open, asks the node for its head at most once a second, and answers from the index
even when the node cannot be reached, flagging the page `stale`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from proofwork.db.index import IndexStore
from proofwork.db.index.jobs import JobQuery
from proofwork.domain import job as J
from proofwork.domain.errors import ChainBusy, ChainUnavailable, DataDirCorrupted, InvalidInput, NotFound
from proofwork.domain.indexed_jobs import ESCROW_CONTRACT, job_event
from proofwork.domain.indexing import IndexedEvent
from proofwork.services import job_inputs
from proofwork.services.indexer import DEFAULT_CONFIRMATIONS
from proofwork.services.job_inputs import JobInputsView
from proofwork.services.jobs import Jobs
from proofwork.services.manifest import Deployment, load_manifest
from proofwork.services.workspace import Workspace
from proofwork.settings import Settings

MAX_PAGE = 100
STATES = ("open", "active", "completed", "refunded", "cancelled")
# a server's counts of matching jobs: reused while the index has not moved, at most this long
COUNT_TTL = 30.0
MAX_COUNTS = 4096


@dataclass(frozen=True)
class JobFilter:
    skill: str | None = None
    min_budget: int | None = None
    max_budget: int | None = None
    state: str | None = None
    client: str | None = None
    freelancer: str | None = None
    involving: str | None = None  # client, freelancer or arbiter


@dataclass(frozen=True)
class ListedJob:
    job: J.Job
    skill: str | None


@dataclass(frozen=True)
class JobPage:
    jobs: list[ListedJob]
    next_cursor: int | None  # the id to pass as `before` for the next page (newest first)
    total: int  # jobs matching the filter, all pages
    indexed_block: int | None = None  # from the index: the last block it holds; None: from the logs
    stale: bool = False  # from an index that lags the chain, or while the node cannot be reached
    counted: bool = True  # False: `total` is only this page's (a Python filter over index pages)
    head: int | None = None  # the node's head when the page was read (None: unknown or unreachable)
    reachable: bool = True  # False: the node could not be reached (the page is the index's)

    @property
    def behind(self) -> int | None:
        """Blocks the index lags the node's head (None: not from the index, or the head unknown)."""
        if self.indexed_block is None or self.head is None:
            return None
        return max(0, self.head - self.indexed_block)


Matches = Callable[["ListedJob"], bool]
SCAN_BATCH = 200  # jobs read per statement while a Python filter looks for a page's matches


def _skill_reader(ws: Workspace) -> Any:
    """job id -> declared skill (None when none is declared or the identity contracts are absent)."""
    if not ws.has_identity:
        return lambda job_id: None
    attester = ws.job_attester

    def skill(job_id: int) -> str | None:
        return attester.skill_of(job_id) or None

    return skill


def _check(where: JobFilter, limit: int | None) -> None:
    if limit is not None and not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be 1 to {MAX_PAGE}")
    if where.state is not None and where.state not in STATES:
        raise InvalidInput(f"unknown state {where.state!r}: expected one of {', '.join(STATES)}")


def list_jobs(
    ws: Workspace,
    where: JobFilter,
    *,
    before: int | None = None,
    limit: int | None = 20,
    matches: Matches | None = None,
    stale_ok: bool = False,
    store: IndexStore | None = None,
    reached: tuple[BoardFacts, int | None] | None = None,
) -> JobPage:
    """Jobs matching `where` (and `matches`, a filter on what SQL cannot see), newest first, at most
    `limit` (None: all), with ids below `before` (a cursor): from the index when it holds this escrow
    and is caught up, else from the logs.

    With `stale_ok` (a long-running server's pages), the index answers even when it lags the node or
    the node cannot be reached, flagged `stale` (with the node's head when known): `reached` is
    `reach(ws, store)` when the caller has it already. `store`: an open index to read (kept open)."""
    _check(where, limit)
    own = store is None
    if own:
        store = open_job_index(ws.settings)
    if store is not None:
        try:
            if stale_ok:
                facts, head = reached if reached is not None else reach(ws, store)
                chain_id, escrow, depth = facts.chain_id, facts.escrow, facts.confirmations
            else:
                chain_id, escrow = ws.chain_id, ws.deployment.escrow
                head, depth = ws.chain.block_number(), confirmations(ws.settings, ws.chain.is_local)
            page = _index_scan(store, chain_id, escrow, where, before, limit, matches)
            if page is not None and page.indexed_block is not None:
                stale = head is None or page.indexed_block < head - depth
                if stale_ok or not stale:
                    return replace(page, stale=stale, head=head, reachable=head is not None)
        except DataDirCorrupted:
            pass  # an index that cannot be read: the logs answer
        finally:
            if own:
                store.close()
    return logs_page(ws, where, before, limit, matches)


def _index_scan(
    store: IndexStore,
    chain_id: int,
    escrow: str,
    where: JobFilter,
    before: int | None,
    limit: int | None,
    matches: Matches | None,
) -> JobPage | None:
    """The page from the index; with `matches`, the index's matches of `where` are read in batches,
    newest first, until the page is full (one more match says another page follows)."""
    if matches is None:
        return index_page(store, chain_id, escrow, where, before, limit)
    found: list[ListedJob] = []
    cursor, block, exhausted = before, None, False
    while True:
        batch = index_page(store, chain_id, escrow, where, cursor, SCAN_BATCH, total=0)
        if batch is None:
            return None
        block = batch.indexed_block if block is None else block
        found.extend(item for item in batch.jobs if matches(item))
        if batch.next_cursor is None:
            exhausted = True
            break
        if limit is not None and len(found) > limit:
            break
        cursor = batch.next_cursor
    more = limit is not None and len(found) > limit
    page = found[:limit] if limit is not None else found
    counted = exhausted and before is None  # every match was seen
    return JobPage(page, page[-1].job.job_id if more and page else None, len(found), block, counted=counted)


def caught_up(ws: Workspace, indexed_block: int) -> bool:
    """Whether an index holding every block up to `indexed_block` is as current as `proofwork index`
    keeps it (the head less its confirmation depth)."""
    return indexed_block >= ws.chain.block_number() - confirmations(ws.settings, ws.chain.is_local)


def confirmations(settings: Settings, is_local: bool) -> int:
    """The blocks the indexer stays behind the head (as `proofwork index` is configured)."""
    if settings.index_confirmations is not None:
        return settings.index_confirmations
    return 0 if is_local else DEFAULT_CONFIRMATIONS


def open_job_index(settings: Settings) -> IndexStore | None:
    """The configured index when there is one (a SQLite file is never created by a read)."""
    location = settings.index_location
    if "://" not in location and not Path(location).expanduser().is_file():
        return None
    try:
        return IndexStore.open(location)
    except (DataDirCorrupted, InvalidInput):
        return None


def _query(where: JobFilter) -> JobQuery:
    return JobQuery(
        client=where.client,
        freelancer=where.freelancer,
        involving=where.involving,
        state=where.state,
        skill=where.skill or None,
        min_budget=where.min_budget,
        max_budget=where.max_budget,
    )


def index_page(
    store: IndexStore,
    chain_id: int,
    escrow: str,
    where: JobFilter,
    before: int | None,
    limit: int | None,
    total: int | None = None,
) -> JobPage | None:
    """The page from the index's jobs projection (None: the index does not hold this escrow); with
    `total`, the count is not asked of the database."""
    read = store.jobs(chain_id, escrow, _query(where), before=before, limit=limit, count=total is None)
    if read.checkpoint is None:
        return None
    page = [ListedJob(job, skill) for job, skill in read.jobs]
    counted = read.total if read.total is not None else total
    assert counted is not None
    return JobPage(page, page[-1].job.job_id if read.more and page else None, counted, read.checkpoint.block)


def logs_page(
    ws: Workspace, where: JobFilter, before: int | None, limit: int | None, matches: Matches | None = None
) -> JobPage:
    """The page rebuilt from the escrow's logs (every job folded, then filtered)."""
    _check(where, limit)
    jobs = sorted(Jobs(ws).list(), key=lambda j: -j.job_id)
    if where.client:
        jobs = [j for j in jobs if J.same_address(j.client, where.client)]
    if where.freelancer:
        jobs = [j for j in jobs if J.same_address(j.freelancer, where.freelancer)]
    if where.involving:
        who = where.involving
        jobs = [j for j in jobs if j.party(who) is not None]
    if where.state:
        jobs = [j for j in jobs if j.status == where.state]
    if where.min_budget is not None:
        jobs = [j for j in jobs if j.budget >= where.min_budget]
    if where.max_budget is not None:
        jobs = [j for j in jobs if j.budget <= where.max_budget]
    skill_of = _skill_reader(ws)
    listed = [ListedJob(j, skill_of(j.job_id)) for j in jobs]
    if where.skill:
        listed = [item for item in listed if item.skill == where.skill]
    if matches is not None:
        listed = [item for item in listed if matches(item)]
    total = len(listed)
    if before is not None:
        listed = [item for item in listed if item.job.job_id < before]
    page = listed if limit is None else listed[:limit]
    more = limit is not None and len(listed) > limit
    return JobPage(page, page[-1].job.job_id if more and page else None, total)


@dataclass(frozen=True)
class BoardFacts:
    """What the board needs of the chain and deployment: read once while the node answers, or, while
    it cannot be reached, from this data directory's deployment manifest and the index (`reach`)."""

    chain_id: int
    escrow: str
    decimals: int
    confirmations: int
    symbol: str = ""
    committee: str = ""


def _token_file(settings: Settings, chain_id: int) -> Path:
    return settings.data_dir / "deployments" / f"{chain_id}.token.json"


def online_facts(ws: Workspace) -> BoardFacts:
    """The facts as the node gives them; the token's decimals and symbol are remembered beside the
    deployment manifest (`<chain id>.token.json`) for when the node cannot be reached."""
    d = ws.deployment
    token = ws.token
    facts = BoardFacts(
        ws.chain_id,
        d.escrow,
        token.decimals,
        confirmations(ws.settings, ws.chain.is_local),
        token.symbol,
        d.committee,
    )
    path = _token_file(ws.settings, facts.chain_id)
    wanted = {"token": d.token.lower(), "decimals": facts.decimals, "symbol": facts.symbol}
    try:
        if not path.is_file() or json.loads(path.read_text()) != wanted:
            from proofwork.storage.files import save_json

            save_json(path, wanted)
    except (OSError, ValueError):
        pass  # only a cache: the node answered
    return facts


def _token_of(settings: Settings, d: Deployment) -> tuple[int, str] | None:
    """(decimals, symbol) of the deployment's token without the node: as last read from it, else the
    token proofwork deploys (StableToken: 6 decimals, its symbol unknown here)."""
    try:
        known = json.loads(_token_file(settings, d.chain_id).read_text())
        if known.get("token") == d.token.lower():
            return int(known["decimals"]), str(known["symbol"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    return (6, "") if d.token_source_hash else None


def offline_facts(settings: Settings, store: IndexStore) -> BoardFacts | None:
    """The facts of the one deployment of this data directory whose escrow the index holds (None:
    none, or several chains could be meant)."""
    from proofwork.chain.devnets import EMBEDDED_CHAIN_ID

    found = []
    for path in sorted((settings.data_dir / "deployments").glob("*.json")):
        if not path.stem.isdigit() or (settings.rpc_url is None and int(path.stem) != EMBEDDED_CHAIN_ID):
            continue
        try:
            d = load_manifest(path)
            indexed = d is not None and any(
                c.role == "escrow" and c.address == d.escrow.lower() for c in store.contracts(d.chain_id)
            )
        except DataDirCorrupted:
            continue
        token = _token_of(settings, d) if d is not None and indexed else None
        if d is None or token is None:
            continue
        depth = settings.index_confirmations
        if depth is None:
            depth = 0 if settings.rpc_url is None else DEFAULT_CONFIRMATIONS
        found.append(BoardFacts(d.chain_id, d.escrow, token[0], depth, token[1], d.committee))
    return found[0] if len(found) == 1 else None


def reach(ws: Workspace, store: IndexStore | None) -> tuple[BoardFacts, int | None]:
    """(the facts, the node's head) while the node answers; (the facts from the manifest and the
    index, None) while it cannot be reached and the index holds this deployment; else the node's
    error (ChainUnavailable, ChainBusy)."""
    try:
        return online_facts(ws), ws.chain.block_number()
    except (ChainUnavailable, ChainBusy):
        facts = offline_facts(ws.settings, store) if store is not None else None
        if facts is None:
            raise
        return facts, None


class JobBoard:
    """The job list of a long-running server (the API): the index stays open, the node's head is asked
    at most every `head_ttl` seconds, and while the node cannot be reached the index still answers,
    with `stale: true`. Without a usable index it answers from the logs (and, node down, fails).

    `use_workspace(fn)` runs `fn` on the server's workspace (taking its lock)."""

    def __init__(
        self,
        settings: Settings,
        use_workspace: Callable[[Callable[[Workspace], Any]], Any],
        head_ttl: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._use = use_workspace
        self._ttl = head_ttl
        self._clock = clock
        self._facts: BoardFacts | None = None
        self._offline: tuple[BoardFacts, float] | None = None  # (from the manifest and index, when)
        self._store: IndexStore | None = None
        self._store_checked = -1e18
        self._head: int | None = None  # None: the node did not answer at the last check
        self._head_checked = -1e18  # negative: never asked
        self._refresh = threading.Lock()
        self._opening = threading.Lock()
        # filter -> (indexed block, count, when counted)
        self._counts: dict[JobQuery, tuple[int | None, int, float]] = {}
        self._checkpoint: int | None = None  # the indexed block of the last page read

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
        self._store_checked = -1e18

    def facts(self) -> BoardFacts:
        if self._facts is None:
            offline = self._offline
            if offline is not None and self._clock() - offline[1] < self._ttl:
                return offline[0]
            try:
                self._facts = self._use(online_facts)
            except (ChainUnavailable, ChainBusy):
                # the node is down since the server started: the index answers for this data
                # directory's deployment when it holds it (the node is asked again after `head_ttl`)
                store = self._index()
                facts = offline_facts(self.settings, store) if store is not None else None
                if facts is None:
                    raise
                self._offline = (facts, self._clock())
                return facts
        return self._facts

    def index(self) -> IndexStore | None:
        """The index the board reads (None: there is none yet); kept open until `close`."""
        return self._index()

    def _index(self) -> IndexStore | None:
        """The index, opened on first use (requests arriving meanwhile wait for it); when there is
        none, looked for again every few seconds (an indexer may create it)."""
        if self._store is not None:
            return self._store
        with self._opening:
            now = self._clock()
            if self._store is None and now - self._store_checked >= 5 * self._ttl:
                self._store = open_job_index(self.settings)
                self._store_checked = self._clock()
            return self._store

    def head(self) -> int | None:
        """The node's head as last seen (None: it could not be reached), refreshed every `head_ttl`."""
        now = self._clock()
        if now - self._head_checked < self._ttl:
            return self._head
        # one request asks the node while the others go on with what it last said; before the node
        # was ever asked, they wait for its answer
        if not self._refresh.acquire(blocking=self._head_checked < 0):
            return self._head
        if self._clock() - self._head_checked < self._ttl:  # asked while this one waited
            self._refresh.release()
            return self._head
        try:
            try:
                self._head = self._use(lambda ws: ws.chain.block_number())
            except (ChainUnavailable, ChainBusy):
                self._head = None
            self._head_checked = self._clock()
        finally:
            self._refresh.release()
        return self._head

    def page(
        self, where: JobFilter, *, before: int | None = None, limit: int | None = 20
    ) -> tuple[JobPage, int]:
        """(the page, the token's decimals)."""
        _check(where, limit)
        facts = self.facts()  # ChainUnavailable until the node has answered once
        store = self._index()
        if store is not None:
            try:
                page = self._from_index(store, facts, where, before, limit, wait=True)
                if page is not None:
                    return self._flagged(page, self.head(), facts), facts.decimals
            except DataDirCorrupted:
                pass
        page = self._use(lambda ws: logs_page(ws, where, before, limit))
        return page, facts.decimals

    def quick_page(
        self, where: JobFilter, *, before: int | None = None, limit: int | None = 20
    ) -> tuple[JobPage, int] | None:
        """The page when it takes only a read of the index (for an event loop to answer inline): None
        when it would need the node, the workspace's lock or a count of the matches (`page` then)."""
        _check(where, limit)
        facts = self._facts
        store = self._store
        if facts is None or store is None or self._clock() - self._head_checked >= self._ttl:
            return None
        try:
            page = self._from_index(store, facts, where, before, limit, wait=False)
        except DataDirCorrupted:
            return None
        if page is None:
            return None
        return self._flagged(page, self._head, facts), facts.decimals

    @staticmethod
    def _flagged(page: JobPage, head: int | None, facts: BoardFacts) -> JobPage:
        assert page.indexed_block is not None
        stale = head is None or page.indexed_block < head - facts.confirmations
        return replace(page, stale=stale)

    def _from_index(
        self,
        store: IndexStore,
        facts: BoardFacts,
        where: JobFilter,
        before: int | None,
        limit: int | None,
        *,
        wait: bool,
    ) -> JobPage | None:
        """The page, its count taken from the cache while the index has not moved (counting every
        match of a broad filter costs more than the page); without `wait`, None rather than count."""
        key = _query(where)
        now = self._clock()
        known = self._counts.get(key)  # (indexed block, count, when counted)
        if known is not None and (known[0] != self._checkpoint or now - known[2] >= COUNT_TTL):
            known = None
        if known is None and not wait:
            return None
        page = index_page(store, facts.chain_id, facts.escrow, where, before, limit, known and known[1])
        if page is None:
            return None
        if page.indexed_block != self._checkpoint:  # the index moved since the last page
            self._checkpoint = page.indexed_block
            if known is not None:  # counted at another block: count again
                if not wait:
                    return None
                known = None
                page = index_page(store, facts.chain_id, facts.escrow, where, before, limit)
                if page is None:
                    return None
        if known is None:
            if len(self._counts) >= MAX_COUNTS:
                self._counts.clear()
            self._counts[key] = (page.indexed_block, page.total, now)
        return page


@dataclass(frozen=True)
class Submission:
    milestone: int
    deliverable: bytes
    timestamp: int
    block: int


@dataclass(frozen=True)
class MilestoneScore:
    milestone: int
    round: int
    median: int
    passed: bool
    signers: list[str]
    scores: list[int]
    signatures: list[bytes]  # each signer's EIP-712 report, as settled (empty when not decodable)
    tx_hash: str


@dataclass(frozen=True)
class JobDispute:
    milestone: int
    by: str
    timestamp: int
    block: int
    case_id: int | None = None
    resolved: tuple[int, int, int] | None = None  # (freelancer gross, fee, client amount)


@dataclass(frozen=True)
class JobDetail:
    job: J.Job
    skill: str | None
    deadlines: list[J.Deadlines]
    submissions: list[Submission] = field(default_factory=list)
    applicants: list[str] = field(default_factory=list)
    scores: list[MilestoneScore] = field(default_factory=list)
    evaluation: dict[str, Any] | None = None
    disputes: list[JobDispute] = field(default_factory=list)
    judged_by_committee: bool = False
    inputs: JobInputsView | None = None  # the input assets its terms document records, checked on chain


@dataclass(frozen=True)
class IndexedJob:
    """One job as a caught-up index holds it: the folded record, its declared skill and its escrow
    events (with where each was logged), in chain order."""

    job: J.Job
    skill: str | None
    events: list[tuple[IndexedEvent, J.JobEvent]]
    indexed_block: int


def indexed_job(ws: Workspace, job_id: int, store: IndexStore | None = None) -> IndexedJob | None:
    """The job from the index when it holds this escrow's job and is caught up with the node (the
    indexer's confirmation depth allowed); None: the logs answer (not indexed, behind, unreadable)."""
    if not 1 <= job_id <= J.MAX_UINT256:
        return None
    own = store is None
    if own:
        store = open_job_index(ws.settings)
    if store is None:
        return None
    try:
        chain_id, escrow = ws.chain_id, ws.deployment.escrow
        checkpoint = store.checkpoint(chain_id)
        if checkpoint is None or not caught_up(ws, checkpoint.block):
            return None
        found = store.job_record(chain_id, escrow, job_id)
        if found is None:
            return None
        events = [
            (e, event)
            for e in store.job_events(chain_id, escrow, ESCROW_CONTRACT, [job_id])
            if (event := job_event(e.name, e.args)) is not None
        ]
        return IndexedJob(found[0], found[1], events, checkpoint.block)
    except DataDirCorrupted:
        return None
    finally:
        if own:
            store.close()


def job_detail(ws: Workspace, job_id: int, store: IndexStore | None = None) -> JobDetail:
    """A job with its milestones' deadlines, submissions, applicants, committee scores (the signed
    reports each settlement was made from), registered evaluation and disputes.

    The job, its skill and its escrow events come from the index when it is caught up (`indexed_job`);
    the committee's settlements and evaluation and the court's cases are read from the chain."""
    jobs = Jobs(ws)
    indexed = indexed_job(ws, job_id, store)
    if indexed is not None:
        job, skill = indexed.job, indexed.skill
        events = [(e.block_number, event) for e, event in indexed.events]
    else:
        job = jobs.get(job_id)
        events = ws.escrow.events(job_id)
        skill = _skill_reader(ws)(job_id)
    submissions = [
        Submission(e.milestone, e.deliverable, e.timestamp, block)
        for block, e in events
        if isinstance(e, J.MilestoneSubmitted)
    ]
    applicants = [e.applicant for _, e in events if isinstance(e, J.Applied)]
    resolved = {e.milestone: e for _, e in events if isinstance(e, J.MilestoneResolved)}
    disputes = []
    court = _court_case_reader(ws, job)
    for block, e in events:
        if isinstance(e, J.DisputeRaised):
            r = resolved.get(e.milestone)
            disputes.append(
                JobDispute(
                    e.milestone,
                    e.by,
                    e.timestamp,
                    block,
                    court(e.milestone),
                    (r.freelancer_gross, r.fee, r.client_amount) if r else None,
                )
            )
    judged = jobs.judged_by_committee(job)
    scores: list[MilestoneScore] = []
    evaluation = None
    if judged:
        committee = ws.committee
        for index in range(len(job.milestones)):
            s = committee.settlement(job_id, index)
            if s is not None:
                scores.append(
                    MilestoneScore(
                        index, s.round, s.median, s.passed, s.signers, s.scores, s.signatures, s.tx_hash
                    )
                )
        registered = committee.evaluation(job_id)
        if registered is not None:
            evaluation = {
                "spec_hash": "0x" + registered.spec_hash.hex(),
                "threshold": registered.threshold,
                "higher_is_better": registered.higher_is_better,
                "tolerance": registered.tolerance,
                "labels_revealed": bool(committee.revealed_labels(job_id)),
            }
    return JobDetail(
        job,
        skill,
        jobs.timing(job),
        submissions,
        applicants,
        scores,
        evaluation,
        disputes,
        judged,
        job_inputs.view(ws, job),
    )


def _court_case_reader(ws: Workspace, job: J.Job) -> Any:
    """milestone -> the court's case id, when the job's arbiter is the court adapter."""
    arbitrable = ws.deployment.arbitrable
    if not arbitrable or not J.same_address(job.arbiter, arbitrable):
        return lambda milestone: None
    from proofwork.services.disputes import Disputes

    disputes = Disputes(ws)

    def case(milestone: int) -> int | None:
        try:
            return disputes.case_of(job.job_id, milestone) or None  # 0: no case opened
        except NotFound:
            return None

    return case
