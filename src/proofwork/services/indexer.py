"""The chain indexer: every event of every deployed proofwork contract into the SQL index.

A pass (`Indexer.run_once`) brings the index up to the chain's head less a confirmation depth, in
batches of at most `chunk` blocks; each batch is one `eth_getLogs` over every contract and one database
transaction (events, their blocks' hashes and the checkpoint together), so a pass killed anywhere
resumes from its last whole batch and leaves the same rows as a full re-index.

Reorgs: before a batch is stored the indexer checks that the checkpoint's block is still the
chain's (and that the batch's last block did not change while its logs were fetched). When the
checkpoint's hash no longer matches, it walks down the stored hashes of blocks with events to the
highest one the chain still has, removes every event above it, and indexes from there again.

Ranges: a node that refuses a range (public RPC providers cap eth_getLogs) gets half of it, down to
a single block. Contracts deployed after the index was started (a committee, the court...) are
indexed from their deployment block before the pass goes on (`backfill`).

`follow` repeats passes, opening the chain for each one: the embedded chain's lock is held only
while a pass runs, so other commands can use the chain between passes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from proofwork.db.index import Checkpoint, CheckpointMoved, IndexedContract, IndexStore
from proofwork.domain.errors import ChainBusy, ChainUnavailable, InvalidInput, NotAllowed
from proofwork.domain.indexing import IndexedEvent
from proofwork.services.manifest import CONTRACTS, IDENTITY_ROLES, Deployment, artifact_for
from proofwork.services.workspace import Workspace
from proofwork.settings import MAX_INDEX_CHUNK, MAX_INDEX_CONFIRMATIONS

if TYPE_CHECKING:
    from proofwork.chain.client import Chain
    from proofwork.chain.logs import EventDecoder

# confirmations on a chain that is not a local dev chain, unless configured
DEFAULT_CONFIRMATIONS = 12
# the token is deployed just before the escrow, whose block the manifest records: its scan starts
# this many blocks earlier (no log can come from an address before its contract exists)
TOKEN_LOOKBACK = 1000
_COURT_ROLES = ("court_token", "court", "arbitrable")
# stored block hashes compared per query while looking for the common ancestor after a reorg
_ANCESTOR_PAGE = 64


@dataclass(frozen=True)
class IndexOptions:
    confirmations: int | None = None  # None: 0 on a local dev chain, else DEFAULT_CONFIRMATIONS
    chunk: int = 2000

    def __post_init__(self) -> None:
        if self.confirmations is not None and not 0 <= self.confirmations <= MAX_INDEX_CONFIRMATIONS:
            raise InvalidInput(f"confirmations must be 0 to {MAX_INDEX_CONFIRMATIONS} blocks")
        if not 1 <= self.chunk <= MAX_INDEX_CHUNK:
            raise InvalidInput(f"the log range chunk must be 1 to {MAX_INDEX_CHUNK} blocks")


@dataclass(frozen=True)
class Progress:
    first: int  # the first block this pass indexes
    done: int  # the last block indexed so far
    target: int  # the block the pass indexes up to
    events: int  # events stored so far in this pass


@dataclass
class IndexResult:
    chain_id: int
    first: int  # first block this pass looked at
    last: int  # the checkpoint after the pass: every block up to it is indexed
    head: int  # the chain's head when the pass started
    confirmations: int
    events: int = 0  # events stored by this pass (a log already there counts once)
    total_events: int = 0
    reorgs: int = 0
    rolled_back: int = 0  # events removed by reorgs
    contracts: int = 0
    chunk: int = 0  # the log range in use at the end (smaller than asked when a node refused it)
    seconds: float = 0.0
    not_indexed: list[str] = field(default_factory=list)  # contracts without a recorded ABI

    def summary(self) -> dict[str, Any]:
        return {
            "chain_id": self.chain_id,
            "first_block": self.first,
            "last_block": self.last,
            "head": self.head,
            "confirmations": self.confirmations,
            "events": self.events,
            "total_events": self.total_events,
            "reorgs": self.reorgs,
            "rolled_back": self.rolled_back,
            "contracts": self.contracts,
            "chunk": self.chunk,
            "seconds": round(self.seconds, 3),
            "not_indexed": self.not_indexed,
        }


def open_index(location: str) -> IndexStore:
    return IndexStore.open(location)


def deployed_contracts(
    deployment: Deployment, ws: Workspace
) -> tuple[list[tuple[IndexedContract, list[dict[str, Any]]]], list[str]]:
    """The contracts the deployment names, each with the ABI it was deployed with and the block its
    scan starts at; and the names of those without a recorded ABI (not indexed)."""
    d = deployment
    family = {
        "escrow": d.block,
        "token": max(1, d.block - TOKEN_LOOKBACK),
        "committee": d.committee_block,
        "competition": d.competition_block,
        **dict.fromkeys(IDENTITY_ROLES, d.identity_block),
        **dict.fromkeys(_COURT_ROLES, d.court_block),
        **dict.fromkeys(("asset_registry", "licensing"), d.assets_block),
        "label_payouts": d.label_payouts_block,
    }
    found: list[tuple[IndexedContract, list[dict[str, Any]]]] = []
    missing: list[str] = []
    for role, name in CONTRACTS.items():
        address = d.address_of(role)
        if not address:
            continue
        if role == "token" and not d.token_source_hash:
            continue  # an existing ERC-20 proofwork did not deploy: its transfers are not proofwork's
        try:
            artifact = artifact_for(d, role, ws.artifacts)
        except NotAllowed:
            missing.append(name)
            continue
        start = max(1, family.get(role) or d.block)
        found.append((IndexedContract(address.lower(), name, role, start), artifact.abi))
    return found, missing


def chunked_logs(
    chain: Chain, decoder: EventDecoder, addresses: list[str], first: int, last: int, chunk: int
) -> tuple[list[IndexedEvent], int]:
    """Decoded events of `addresses` in first..last, at most `chunk` blocks per request, asking for
    smaller ranges while the node refuses them; returns them with the chunk in use at the end."""
    from proofwork.chain.logs import LogRangeTooLarge, fetch_logs

    events: list[IndexedEvent] = []
    start = first
    while start <= last:
        end = min(last, start + chunk - 1)
        try:
            logs = fetch_logs(chain, addresses, start, end)
        except LogRangeTooLarge:
            if chunk == 1:
                raise
            chunk = max(1, min(chunk, end - start + 1) // 2)
            continue
        events.extend(decoder.decode(log) for log in logs)
        start = end + 1
    return events, chunk


class Indexer:
    """One workspace's chain into one index."""

    def __init__(
        self,
        ws: Workspace,
        store: IndexStore,
        options: IndexOptions | None = None,
        progress: Callable[[Progress], None] | None = None,
    ) -> None:
        self.ws = ws
        self.store = store
        self.options = options or IndexOptions()
        self.chunk = self.options.chunk
        self._progress = progress
        self._start = 1  # the first block of the index: the lowest contract's (set by each pass)

    # --- chain access (web3 stays in chain/) ----------------------------------------------------------

    @property
    def chain(self) -> Chain:
        return self.ws.chain

    def _hash(self, number: int) -> str | None:
        from proofwork.chain.logs import block_hash

        return block_hash(self.chain, number) if number >= 0 else None

    def _logs(self, decoder: EventDecoder, addresses: list[str], first: int, last: int) -> list[Any]:
        """Decoded events of `addresses` in first..last (`chunked_logs`; a smaller chunk a node asked
        for is kept for the rest of the pass)."""
        events, self.chunk = chunked_logs(self.chain, decoder, addresses, first, last, self.chunk)
        return events

    # --- a pass -------------------------------------------------------------------------------------

    def run_once(self) -> IndexResult:
        from proofwork.chain.logs import EventDecoder

        started = time.monotonic()
        deployment = self.ws.deployment  # NotFound, one line, when nothing is deployed
        chain = self.chain
        chain_id = chain.chain_id
        contracts, missing = deployed_contracts(deployment, self.ws)
        decoder = EventDecoder((c.address, c.contract, abi) for c, abi in contracts)
        confirmations = self.options.confirmations
        if confirmations is None:
            confirmations = 0 if chain.is_local else DEFAULT_CONFIRMATIONS
        head = chain.block_number()
        target = head - confirmations
        start = self._start = min(c.from_block for c, _ in contracts)
        checkpoint = self.store.checkpoint(chain_id)
        if checkpoint is None:
            checkpoint = self.store.begin(chain_id, Checkpoint(start - 1, self._hash(start - 1) or ""))
        result = IndexResult(chain_id, checkpoint.block + 1, checkpoint.block, head, confirmations)
        result.not_indexed = missing
        result.contracts = len(contracts)
        while True:
            try:
                checkpoint = self._verified(chain_id, checkpoint, result)
                checkpoint = self._backfill(chain_id, checkpoint, decoder, [c for c, _ in contracts], result)
                checkpoint = self._catch_up(
                    chain_id, checkpoint, decoder, [c for c, _ in contracts], target, result
                )
                break
            except CheckpointMoved:
                # another indexer wrote first: start again from where it left the index
                checkpoint = self.store.checkpoint(chain_id) or checkpoint
        result.last = checkpoint.block
        result.chunk = self.chunk
        result.total_events = self.store.count(chain_id)
        result.seconds = time.monotonic() - started
        return result

    def _verified(self, chain_id: int, checkpoint: Checkpoint, result: IndexResult) -> Checkpoint:
        """The checkpoint, after rolling back to the common ancestor if the chain no longer has it."""
        if checkpoint.hash == "" and checkpoint.block < self._start:
            return checkpoint  # the start of an index on a chain not yet that high: nothing to check
        if self._hash(checkpoint.block) == checkpoint.hash:
            return checkpoint
        return self._rollback(chain_id, checkpoint, result)

    def _rollback(self, chain_id: int, checkpoint: Checkpoint, result: IndexResult) -> Checkpoint:
        start = self._start
        below = checkpoint.block + 1
        ancestor: Checkpoint | None = None
        while ancestor is None:
            stored = self.store.blocks_below(chain_id, below, _ANCESTOR_PAGE)
            if not stored:
                break
            for number, stored_hash in stored:
                if self._hash(number) == stored_hash:
                    ancestor = Checkpoint(number, stored_hash)
                    break
            below = stored[-1][0]
        forget = ancestor is None
        if ancestor is None:  # nothing stored is on the chain any more: the index starts over
            ancestor = Checkpoint(start - 1, self._hash(start - 1) or "")
        result.rolled_back += self.store.rollback(chain_id, checkpoint, ancestor, forget_contracts=forget)
        result.reorgs += 1
        return ancestor

    def _backfill(
        self,
        chain_id: int,
        checkpoint: Checkpoint,
        decoder: EventDecoder,
        contracts: list[IndexedContract],
        result: IndexResult,
    ) -> Checkpoint:
        """Records the contracts not indexed yet: from their deployment block when it is already
        below the checkpoint (their logs there, one transaction per chunk), else from the next batch."""
        registered = {c.address for c in self.store.contracts(chain_id)}
        new = [c for c in contracts if c.address not in registered]
        later = [c for c in new if c.from_block > checkpoint.block]
        if later:
            self.store.write_batch(chain_id, checkpoint, None, [], later)
        for contract in (c for c in new if c.from_block <= checkpoint.block):
            first = contract.from_block
            while first <= checkpoint.block:
                last = min(checkpoint.block, first + self.chunk - 1)
                events = self._logs(decoder, [contract.address], first, last)
                done = last == checkpoint.block
                self.store.write_batch(chain_id, checkpoint, None, events, [contract] if done else [])
                result.events += len(events)
                first = last + 1
        return checkpoint

    def _catch_up(
        self,
        chain_id: int,
        checkpoint: Checkpoint,
        decoder: EventDecoder,
        contracts: list[IndexedContract],
        target: int,
        result: IndexResult,
    ) -> Checkpoint:
        addresses = [c.address for c in contracts]
        first = checkpoint.block + 1
        while checkpoint.block < target:
            end = min(target, checkpoint.block + self.chunk)
            pinned = self._hash(end)
            if pinned is None:  # the chain got shorter than the pass began with (a reorg)
                target = min(target, self.chain.block_number() - result.confirmations)
                checkpoint = self._verified(chain_id, checkpoint, result)
                continue
            if checkpoint.hash and self._hash(checkpoint.block) != checkpoint.hash:
                checkpoint = self._rollback(chain_id, checkpoint, result)
                continue
            events = self._logs(decoder, addresses, checkpoint.block + 1, end)
            if self._hash(end) != pinned or any(
                e.block_hash != pinned for e in events if e.block_number == end
            ):
                continue  # the chain changed while its logs were read: read them again
            new = Checkpoint(end, pinned)
            self.store.write_batch(chain_id, checkpoint, new, events)
            checkpoint = new
            result.events += len(events)
            if self._progress is not None:
                self._progress(Progress(first, checkpoint.block, target, result.events))
        return checkpoint


def index_once(
    ws: Workspace,
    store: IndexStore,
    options: IndexOptions | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> IndexResult:
    """One pass: the index up to the chain's head less the confirmation depth."""
    return Indexer(ws, store, options, progress).run_once()


def follow_passes(
    open_workspace: Callable[[], AbstractContextManager[Workspace]],
    store: IndexStore,
    options: IndexOptions | None = None,
    *,
    poll: float = 2.0,
    stop: Callable[[], bool] = lambda: False,
    on_error: Callable[[Exception], None] | None = None,
    progress: Callable[[Progress], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[IndexResult]:
    """Passes until `stop()` says so, `poll` seconds apart, each on a freshly opened workspace (so
    the embedded chain is free between passes). A node that cannot be reached, or an embedded chain
    busy in another process, is reported to `on_error` and tried again at the next poll."""
    while not stop():
        try:
            with open_workspace() as ws:
                result = Indexer(ws, store, options, progress).run_once()
        except (ChainUnavailable, ChainBusy) as exc:
            if on_error is None:
                raise
            on_error(exc)
        else:
            yield result
        if stop():
            break
        sleep(poll)
