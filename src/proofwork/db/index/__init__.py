"""The chain index: every proofwork contract event in SQL (see `store`), kept by services/indexer.py."""

from proofwork.db.index.store import Checkpoint, CheckpointMoved, IndexedContract, IndexStore

__all__ = ["Checkpoint", "CheckpointMoved", "IndexStore", "IndexedContract"]
