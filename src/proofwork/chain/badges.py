"""`SkillBadge`'s handle: ERC-721 + ERC-5192 soulbound skill badges."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from web3 import Web3

from proofwork.chain.events import ContractHandle, check_id
from proofwork.chain.receipts import Event, Receipt


@dataclass(frozen=True)
class BadgeInfo:
    token_id: int
    holder: str
    skill: str
    issuer: str
    evidence: bytes
    minted_at: int
    by_job: bool


class SkillBadgeContract(ContractHandle):
    """`SkillBadge`: ERC-721 + ERC-5192 soulbound skill badges."""

    def set_auto_minter(self, key: bytes, minter: str) -> Receipt:
        return self.chain.transact(
            key, self.contract.functions.set_auto_minter(Web3.to_checksum_address(minter))
        )

    def mint(self, key: bytes, to: str, skill: str, evidence: bytes) -> Receipt:
        return self.chain.transact(
            key, self.contract.functions.mint(Web3.to_checksum_address(to), skill, evidence)
        )

    def badge(self, token_id: int, holder: str | None = None) -> BadgeInfo:
        """A badge's data; `holder` saves the ownerOf call when the caller knows it."""
        skill, issuer, evidence, minted_at = self.chain.call(
            self.contract.functions.badge(check_id(token_id, "badge id"))
        )
        if holder is None:
            holder = str(self.chain.call(self.contract.functions.ownerOf(token_id)))
        # earned by a job iff it is the holder's job badge for that skill (whoever mints them now)
        by_job = int(self.chain.call(self.contract.functions.job_badge_of(holder, skill))) == token_id
        return BadgeInfo(token_id, holder, str(skill), str(issuer), bytes(evidence), int(minted_at), by_job)

    def tokens_of(self, owner: str) -> list[int]:
        return [
            int(t)
            for t in self.chain.call(self.contract.functions.tokens_of(Web3.to_checksum_address(owner)))
        ]

    def locked(self, token_id: int) -> bool:
        return bool(self.chain.call(self.contract.functions.locked(check_id(token_id, "badge id"))))

    def minted(self) -> list[BadgeInfo]:
        """Every badge minted and not revoked, from the logs (holder, issuer, how it was earned)."""
        return minted_badges(self.events("BadgeMinted", "BadgeRevoked"))


def minted_badges(events: Iterable[Event]) -> list[BadgeInfo]:
    """The badges minted and not revoked, from the contract's BadgeMinted and BadgeRevoked events
    (from the logs or the chain index); `minted_at` is not in the events (0)."""
    events = list(events)
    revoked = {int(e.args["token_id"]) for e in events if e.name == "BadgeRevoked"}
    out = []
    for e in events:
        if e.name != "BadgeMinted":
            continue
        token_id = int(e.args["token_id"])
        if token_id in revoked:
            continue
        out.append(
            BadgeInfo(
                token_id,
                str(e.args["holder"]),
                str(e.args["skill"]),
                str(e.args["issuer"]),
                bytes(e.args["evidence"]),
                0,
                bool(e.args["by_job"]),
            )
        )
    return out
