"""Contract events for the services' lists: from the chain index when it can answer, else from the logs.

`EventReader.events(handle, *names, subject=..., where=...)` gives the events of one deployed contract
(its handle from the workspace: `ws.competitions`, `ws.attestations`...) with the given names, in
chain order, optionally filtered on indexed arguments, as `chain.receipts.Event` values equal to the
ones the handle decodes from the node's logs (`ContractHandle.events`): the index's stored JSON is
read back through the event's ABI (`domain.indexed_events`).

The index answers when it exists, holds the contract (the indexer records a contract once every
block from its deployment is in), and is caught up with the chain: the same decision, by the same
functions, as the job list's (`job_listing.list_jobs`: the checkpoint at least the head less the
indexer's confirmation depth). Otherwise, or when the index cannot be read, the logs answer (a scan
from the contract's deployment block). A reader decides once, at its first read, and keeps the
index open until it is closed: one list (a reputation, a leaderboard) reads from one source.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from proofwork.chain.receipts import Event
from proofwork.db.index import IndexStore
from proofwork.domain.errors import DataDirCorrupted
from proofwork.domain.indexed_events import event_args
from proofwork.domain.indexing import IndexedEvent
from proofwork.services.job_listing import caught_up, open_job_index
from proofwork.services.workspace import Workspace

if TYPE_CHECKING:
    from proofwork.chain.events import ContractHandle


class EventReader:
    """One workspace's event reads, from the index or the logs (see the module)."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self._decided = False
        self._store: IndexStore | None = None
        self._block: int | None = None  # the index's checkpoint when it answers
        self._contracts: dict[str, str] = {}  # indexed address (lower case) -> contract name

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> EventReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def indexed_block(self) -> int | None:
        """The index's checkpoint when the index answers the reads, None when the logs do."""
        self._decide()
        return self._block

    def _decide(self) -> None:
        if self._decided:
            return
        self._decided = True
        store = open_job_index(self.ws.settings)
        if store is None:
            return
        try:
            checkpoint = store.checkpoint(self.ws.chain_id)
            if checkpoint is not None and caught_up(self.ws, checkpoint.block):
                self._contracts = {c.address: c.contract for c in store.contracts(self.ws.chain_id)}
                self._store, self._block = store, checkpoint.block
                return
        except DataDirCorrupted:
            pass  # an index that cannot be read: the logs answer
        store.close()

    def from_index(self, handle: ContractHandle) -> bool:
        """Whether reads of this contract's events come from the index."""
        self._decide()
        return self._store is not None and handle.address.lower() in self._contracts

    def events(
        self,
        handle: ContractHandle,
        *names: str,
        subject: int | None = None,
        where: Mapping[str, object] | None = None,
    ) -> list[Event]:
        """The contract's events of these names in chain order; `subject` filters on each event's
        first indexed argument (a uint256 id), `where` on indexed arguments by name."""
        if self.from_index(handle):
            try:
                return self._indexed(handle, names, subject, where or {})
            except DataDirCorrupted:
                self.close()  # the index failed mid-way: every later read goes to the logs
                self._block = None
        return handle.events(*names, subject=subject, where=where)

    def _indexed(
        self,
        handle: ContractHandle,
        names: tuple[str, ...],
        subject: int | None,
        where: Mapping[str, object],
    ) -> list[Event]:
        store = self._store
        assert store is not None
        address = handle.address.lower()
        streams: list[list[tuple[tuple[int, int, int], str, IndexedEvent]]] = []
        for name in names:
            abi = handle.event_abi(name)
            args: dict[str, object] = dict(where)
            if subject is not None:
                first = next(i["name"] for i in abi["inputs"] if i.get("indexed"))
                args[first] = subject
            found = store.events(
                self.ws.chain_id,
                contract=self._contracts[address],
                address=address,
                name=name,
                args=args,
                to_block=self._block,
            )
            streams.append([((e.block_number, e.tx_index, e.log_index), name, e) for e in found])
        out = []
        for _, name, e in heapq.merge(*streams, key=lambda item: item[0]):
            out.append(Event(name, e.block_number, e.tx_hash, _args(handle, name, e)))
        return out


def _args(handle: ContractHandle, name: str, event: IndexedEvent) -> dict[str, Any]:
    try:
        return event_args(handle.event_abi(name), event.args)
    except ValueError as exc:
        raise DataDirCorrupted(f"the index holds a {name} event it cannot read back: {exc}") from exc


def contract_events(
    ws: Workspace,
    handle: ContractHandle,
    *names: str,
    subject: int | None = None,
    where: Mapping[str, object] | None = None,
) -> list[Event]:
    """One read with its own `EventReader` (a list made of several reads should share one)."""
    with EventReader(ws) as reader:
        return reader.events(handle, *names, subject=subject, where=where)
