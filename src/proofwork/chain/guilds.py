"""`Guild`'s handle: a skill guild that takes escrow jobs as one freelancer, splits what it is paid
by shares (pulled with `claim`) and votes on admissions, shares, expulsions and jobs. One contract per
guild, deployed from the shipped artifact (`deploy_guild`)."""

from __future__ import annotations

from dataclasses import dataclass

from web3 import Web3

from proofwork.chain.artifacts import ArtifactStore
from proofwork.chain.client import Chain
from proofwork.chain.encoding import job_tuple
from proofwork.chain.events import ContractHandle, check_id
from proofwork.chain.receipts import Receipt
from proofwork.domain import job as J
from proofwork.domain.errors import TransactionRejected

RULE_BADGE, RULE_CREDENTIAL, RULE_REPUTATION = 1, 2, 3
KINDS = {1: "admit", 2: "shares", 3: "kick", 4: "take", 5: "call"}
ZERO_ADDRESS = "0x" + "00" * 20
# The schema of the attestations a guild makes to its workers (no resolver, not revocable).
GUILD_WORK_SCHEMA = "bytes32 jobCompleted,uint256 jobId,uint256 milestone,address guild"


@dataclass(frozen=True)
class Rule:
    """The admission rule (IGuild.Rule)."""

    kind: int
    source: str
    authority: str
    schema: bytes
    family: str
    threshold: int

    def as_tuple(self) -> tuple[int, str, str, bytes, str, int]:
        return (
            self.kind,
            Web3.to_checksum_address(self.source),
            Web3.to_checksum_address(self.authority),
            self.schema,
            self.family,
            self.threshold,
        )


@dataclass(frozen=True)
class Attribution:
    """Where a guild attests its workers' part in completed milestones (IGuild.Attribution)."""

    job_attester: str = ZERO_ADDRESS
    attestations: str = ZERO_ADDRESS
    schema: bytes = bytes(32)

    def as_tuple(self) -> tuple[str, str, bytes]:
        return (
            Web3.to_checksum_address(self.job_attester),
            Web3.to_checksum_address(self.attestations),
            self.schema,
        )


@dataclass(frozen=True)
class Proposal:
    proposal_id: int
    kind: str
    proposer: str
    subject: str
    shares: int
    job_id: int
    digest: bytes
    deadline: int
    weight: int
    votes_for: int
    votes_against: int
    executed: bool


@dataclass(frozen=True)
class Member:
    address: str
    shares: int
    claimable: int


class GuildContract(ContractHandle):
    """`Guild`: one guild's membership, votes, jobs and split payments."""

    # --- views ---------------------------------------------------------------------------------

    def token(self) -> str:
        return str(self.chain.call(self.contract.functions.token()))

    def escrow(self) -> str:
        return str(self.chain.call(self.contract.functions.escrow()))

    def rule(self) -> Rule:
        kind, source, authority, schema, family, threshold = self.chain.call(self.contract.functions.rule())
        return Rule(int(kind), str(source), str(authority), bytes(schema), str(family), int(threshold))

    def by_shares(self) -> bool:
        return bool(self.chain.call(self.contract.functions.by_shares()))

    def total_shares(self) -> int:
        return int(self.chain.call(self.contract.functions.total_shares()))

    def carry(self) -> int:
        return int(self.chain.call(self.contract.functions.carry()))

    def unsplit(self, balance: int) -> int:
        """What of `balance` (the guild's token balance) is not split yet."""
        return balance - int(self.chain.call(self.contract.functions.tracked()))

    def is_member(self, account: str) -> bool:
        return bool(self.chain.call(self.contract.functions.is_member(Web3.to_checksum_address(account))))

    def shares_of(self, account: str) -> int:
        return int(self.chain.call(self.contract.functions.shares_of(Web3.to_checksum_address(account))))

    def claimable(self, account: str) -> int:
        return int(self.chain.call(self.contract.functions.claimable(Web3.to_checksum_address(account))))

    def proposal(self, proposal_id: int) -> Proposal:
        fields = self.chain.call(self.contract.functions.proposal(check_id(proposal_id, "proposal id")))
        kind, proposer, subject, shares, job_id, digest, deadline, weight, yes, no, executed = fields
        if int(kind) == 0:
            raise TransactionRejected(f"the guild has no proposal {proposal_id}")
        return Proposal(
            proposal_id,
            KINDS.get(int(kind), str(kind)),
            str(proposer),
            str(subject),
            int(shares),
            int(job_id),
            bytes(digest),
            int(deadline),
            int(weight),
            int(yes),
            int(no),
            bool(executed),
        )

    def proposal_workers(self, proposal_id: int) -> list[str]:
        return [str(a) for a in self.chain.call(self.contract.functions.proposal_workers(proposal_id))]

    def members(self) -> list[Member]:
        """The current members (from Joined and Left events), with shares and what each may claim."""
        current: dict[str, None] = {}
        for event in self.events("Joined", "Left"):
            address = str(event.args["member"])
            if event.name == "Joined":
                current[address] = None
            else:
                current.pop(address, None)
        return [Member(a, self.shares_of(a), self.claimable(a)) for a in current]

    # --- transactions --------------------------------------------------------------------------

    def _proposed(self, receipt: Receipt) -> int:
        ids = [int(e.args["proposal_id"]) for e in self.receipt_events(receipt) if e.name == "Proposed"]
        return ids[0]

    def propose_admission(self, key: bytes, shares: int, evidence: list[bytes]) -> tuple[Receipt, int]:
        receipt = self.chain.transact(key, self.contract.functions.propose_admission(shares, evidence))
        return receipt, self._proposed(receipt)

    def propose_shares(self, key: bytes, member: str, shares: int) -> tuple[Receipt, int]:
        fn = self.contract.functions.propose_shares(Web3.to_checksum_address(member), shares)
        receipt = self.chain.transact(key, fn)
        return receipt, self._proposed(receipt)

    def propose_kick(self, key: bytes, member: str) -> tuple[Receipt, int]:
        receipt = self.chain.transact(
            key, self.contract.functions.propose_kick(Web3.to_checksum_address(member))
        )
        return receipt, self._proposed(receipt)

    def propose_take(
        self, key: bytes, job_id: int, proposal: bytes, workers: list[str]
    ) -> tuple[Receipt, int]:
        named = [Web3.to_checksum_address(w) for w in workers]
        receipt = self.chain.transact(key, self.contract.functions.propose_take(job_id, proposal, named))
        return receipt, self._proposed(receipt)

    def vote(self, key: bytes, proposal_id: int, support: bool) -> Receipt:
        return self.chain.transact(key, self.contract.functions.vote(proposal_id, support))

    def execute(self, key: bytes, proposal_id: int) -> Receipt:
        return self.chain.transact(key, self.contract.functions.execute(proposal_id))

    def take(self, key: bytes, proposal_id: int, job: J.Job) -> Receipt:
        return self.chain.transact(key, self.contract.functions.take(proposal_id, job.job_id, job_tuple(job)))

    def submit(self, key: bytes, job: J.Job, milestone: int, deliverable: bytes) -> Receipt:
        fn = self.contract.functions.submit(job.job_id, job_tuple(job), milestone, deliverable)
        return self.chain.transact(key, fn)

    def split(self, key: bytes) -> tuple[Receipt, int]:
        receipt = self.chain.transact(key, self.contract.functions.split())
        amounts = [int(e.args["amount"]) for e in self.receipt_events(receipt) if e.name == "PaymentSplit"]
        return receipt, sum(amounts)

    def claim(self, key: bytes, amount: int) -> Receipt:
        return self.chain.transact(key, self.contract.functions.claim(amount))

    def leave(self, key: bytes) -> Receipt:
        return self.chain.transact(key, self.contract.functions.leave())

    def attribution(self) -> Attribution:
        attester, attestations, schema = self.chain.call(self.contract.functions.attribution())
        return Attribution(str(attester), str(attestations), bytes(schema))

    def is_worker(self, job_id: int, account: str) -> bool:
        fn = self.contract.functions.is_worker(check_id(job_id), Web3.to_checksum_address(account))
        return bool(self.chain.call(fn))

    def job_workers(self, job_id: int) -> list[str]:
        return [str(a) for a in self.chain.call(self.contract.functions.job_workers(check_id(job_id)))]

    def attributed(self, job_id: int, milestone: int) -> bool:
        return bool(self.chain.call(self.contract.functions.attributed(check_id(job_id), milestone)))

    def voted(self, proposal_id: int, account: str) -> bool:
        fn = self.contract.functions.voted(check_id(proposal_id), Web3.to_checksum_address(account))
        return bool(self.chain.call(fn))

    def attest_workers(self, key: bytes, job_id: int, milestone: int) -> tuple[Receipt, list[str]]:
        """The guild attests its named workers' part in a completed milestone; returns the workers."""
        receipt = self.chain.transact(key, self.contract.functions.attest_workers(job_id, milestone))
        named = [e for e in self.receipt_events(receipt) if e.name == "WorkAttested"]
        return receipt, [str(a) for a in named[0].args["workers"]] if named else []


def guild_at(chain: Chain, address: str, deploy_block: int = 0) -> GuildContract:
    """The guild at `address` (the shipped ABI)."""
    return GuildContract(chain, ArtifactStore().get("Guild"), address, deploy_block)


def deploy_guild(
    chain: Chain,
    key: bytes,
    *,
    token: str,
    escrow: str,
    by_shares: bool,
    voting_period: int,
    rule: Rule,
    attribution: Attribution,
    founders: list[str],
    shares: list[int],
    evidence: list[list[bytes]],
) -> GuildContract:
    """Deploys a guild from the shipped artifact; its founders must meet the rule with `evidence`."""
    artifact = ArtifactStore().get("Guild")
    receipt = chain.deploy(
        key,
        artifact.abi,
        artifact.bytecode,
        Web3.to_checksum_address(token),
        Web3.to_checksum_address(escrow),
        by_shares,
        voting_period,
        rule.as_tuple(),
        attribution.as_tuple(),
        [Web3.to_checksum_address(f) for f in founders],
        shares,
        evidence,
    )
    assert receipt.contract_address is not None
    return GuildContract(chain, artifact, str(receipt.contract_address), receipt.block_number)


def ensure_work_schema(chain: Chain, key: bytes, registry: str) -> bytes:
    """The uid of the GuildWork schema in the SchemaRegistry at `registry`, registered if need be."""
    schemas = chain.contract(ArtifactStore().get("SchemaRegistry").abi, registry)
    uid = bytes(chain.call(schemas.functions.schema_uid(GUILD_WORK_SCHEMA, ZERO_ADDRESS, False)))
    if bytes(chain.call(schemas.functions.get_schema(uid))[0]) != uid:
        chain.transact(key, schemas.functions.register(GUILD_WORK_SCHEMA, ZERO_ADDRESS, False))
    return uid
