"""On-chain identity use cases: deploying the identity contracts, accrediting issuers, skill badges,
JobCompleted attestations and reviews, and reputation computed from the attestation graph.

Off-chain credentials live in `services/credentials.py`; this module gives them the on-chain issuer
registry through `RegistryDirectory` (their `IssuerDirectory`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from proofwork.chain.client import keccak
from proofwork.domain import job as J
from proofwork.domain.errors import InvalidInput, NotAllowed, NotFound, ProofworkError
from proofwork.services import credentials as creds
from proofwork.services.deployment import DeployResult
from proofwork.services.jobs import Jobs
from proofwork.services.manifest import CONTRACTS, IDENTITY_ROLES, save_manifest
from proofwork.services.workspace import Signer, Workspace

if TYPE_CHECKING:  # numpy and scipy load only when a reputation is computed, not at every CLI start
    from proofwork.domain.reputation import PaidJob

BADGE_NAME = "Proofwork Skill Badge"
BADGE_SYMBOL = "PWSB"
MAX_SKILL_BYTES = 64
ALPHA = 0.5
# EIP-170 style chain-side limits the contracts check too; refused here first with a clearer message.
MAX_DID_BYTES = 256
MAX_ISSUER_NAME_BYTES = 64


# --- deployment -----------------------------------------------------------------------------------


def deploy_identity(ws: Workspace, deployer: Signer, *, force: bool = False) -> DeployResult:
    """Deploys the issuer registry, the skill badges, the EAS-model schema registry and attestation
    service, the job attester (on the current escrow and committee) and the proofwork resolver, then
    wires them: the resolver registers the JobCompleted and Review schemas, the attester is told its
    resolver and becomes the badges' auto-minter. The deployer owns the registry and the badges."""
    base = ws.deployment
    if base.job_attester and ws.chain.has_code(base.job_attester) and not force:
        return DeployResult(base, created=False, gas={})
    if not base.committee:
        raise NotFound(
            "the job attester needs the oracle committee whose scores it trusts: run `proofwork committee deploy` first"
        )
    gas: dict[str, int] = {}

    def deploy(name: str, *args: Any) -> str:
        artifact = ws.artifacts.get(name)
        receipt = ws.chain.deploy(deployer.key, artifact.abi, artifact.bytecode, *args)
        gas[f"deploy {name}"] = receipt.gas_used
        return str(receipt.contract_address)

    start_block = ws.chain.block_number()
    registry = deploy("IssuerRegistry")
    badges = deploy("SkillBadge", registry, BADGE_NAME, BADGE_SYMBOL)
    schemas = deploy("SchemaRegistry")
    attestations = deploy("Attestations", schemas)
    attester = deploy("JobAttester", base.escrow, base.committee, attestations, badges)
    resolver = deploy("ProofworkResolver", attestations, attester)
    resolver_contract = ws.chain.contract(ws.artifacts.get("ProofworkResolver").abi, resolver)
    job_schema = bytes(ws.chain.call(resolver_contract.functions.job_completed_schema()))
    review_schema = bytes(ws.chain.call(resolver_contract.functions.review_schema()))
    attester_contract = ws.chain.contract(ws.artifacts.get("JobAttester").abi, attester)
    gas["set_resolver"] = ws.chain.transact(
        deployer.key, attester_contract.functions.set_resolver(resolver)
    ).gas_used
    badge_contract = ws.chain.contract(ws.artifacts.get("SkillBadge").abi, badges)
    gas["set_auto_minter"] = ws.chain.transact(
        deployer.key, badge_contract.functions.set_auto_minter(attester)
    ).gas_used
    deployment = replace(
        base,
        issuer_registry=registry,
        badges=badges,
        schema_registry=schemas,
        attestations=attestations,
        job_attester=attester,
        resolver=resolver,
        job_completed_schema="0x" + job_schema.hex(),
        review_schema="0x" + review_schema.hex(),
        identity_block=start_block,
        identity_source_hash=ws.artifacts.get("JobAttester").source_hash,
        abis={**base.abis, **{role: ws.artifacts.get(CONTRACTS[role]).abi for role in IDENTITY_ROLES}},
    )
    save_manifest(ws.manifest_path, deployment)
    ws.use_deployment(deployment)
    return DeployResult(deployment, created=True, gas=gas)


# --- the issuer registry as the credentials' IssuerDirectory ---------------------------------------


def _list_id(uri: str) -> bytes:
    return keccak(uri.encode())


class RegistryDirectory:
    """The on-chain issuer registry, as credential issuing and verification consult it."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.registry = ws.issuer_registry

    def accredited_did(self, did: str) -> str | None:
        address = self.registry.issuer_of_did(did)
        if address is None or not self.registry.is_accredited(address):
            return None
        return address

    def key_valid_at(self, issuer_address: str, thumbprint: bytes, at: int) -> bool:
        return self.registry.key_valid_at(issuer_address, thumbprint, at)

    def anchored_status_digest(self, issuer_address: str, uri: str) -> bytes | None:
        digest, updated_at = self.registry.status_list_anchor(issuer_address, _list_id(uri))
        return digest if updated_at else None

    def anchor_status_list(self, signer: Signer, uri: str, digest: bytes) -> None:
        self.registry.anchor_status_list(signer.key, _list_id(uri), digest)


def directory_for(ws: Workspace) -> RegistryDirectory | None:
    """The registry directory when the identity contracts are deployed, else None."""
    return RegistryDirectory(ws) if ws.has_identity else None


@dataclass(frozen=True)
class RegisteredIssuer:
    profile: creds.IssuerProfile
    steps: list[tuple[str, int]]  # (step, gas)


def register_issuer(ws: Workspace, owner: Signer, profile_name: str) -> RegisteredIssuer:
    """Accredits a local issuer profile on chain (the registry owner signs), registers its signing
    keys (the issuer's account signs) and re-signs and anchors its status lists. Safe to run again:
    accreditation and keys are only sent when missing (e.g. the new key after `issuer rotate`, and
    the retirement of the old one); the status lists are re-anchored each time."""
    profile = creds.load_issuer(ws, profile_name)
    registry = ws.issuer_registry
    if len(profile.did.encode()) > MAX_DID_BYTES or len(profile.name.encode()) > MAX_ISSUER_NAME_BYTES:
        raise InvalidInput(f"the registry holds DIDs up to {MAX_DID_BYTES} bytes and names up to 64")
    if registry.owner().lower() != owner.address.lower():
        raise NotAllowed(
            f"only the registry's owner ({registry.owner()}) accredits issuers, not {owner.address}"
        )
    issuer = ws.signer(profile.account)
    steps: list[tuple[str, int]] = []
    bound = registry.issuer_of_did(profile.did)
    if bound is not None and bound.lower() != issuer.address.lower():
        raise NotAllowed(f"{profile.did} is already bound to another account ({bound}) in the registry")
    if not registry.is_accredited(issuer.address) or registry.info(issuer.address).did != profile.did:
        receipt = registry.accredit(owner.key, issuer.address, profile.did, profile.name)
        steps.append(("accredit", receipt.gas_used))
    if profile.kind == "web":
        now = ws.chain.next_timestamp()
        for key in creds.issuer_public_keys(ws, profile_name):
            thumb = bytes.fromhex(str(key["thumbprint"])[2:])
            in_use = registry.key_valid_at(issuer.address, thumb, now)
            if key.get("revoked"):
                # rotated out: retired on chain too, so only credentials signed before stay valid
                if in_use:
                    steps.append(
                        (f"retire key {key['kid']}", registry.retire_key(issuer.key, thumb).gas_used)
                    )
                continue
            if not in_use:
                steps.append((f"add key {key['kid']}", registry.add_key(issuer.key, thumb).gas_used))
        for uri in creds.publish_status_lists(ws, profile_name, directory=RegistryDirectory(ws)):
            steps.append((f"anchor {uri}", 0))
    return RegisteredIssuer(profile, steps)


def list_registered_issuers(ws: Workspace) -> list[Any]:
    return ws.issuer_registry.issuers()


# --- badges ---------------------------------------------------------------------------------------


def _check_skill(skill: str) -> str:
    skill = skill.strip()
    if not skill or len(skill.encode()) > MAX_SKILL_BYTES or not skill.isprintable():
        raise InvalidInput(f"a skill is 1 to {MAX_SKILL_BYTES} bytes of printable text, e.g. 'nlp/sentiment'")
    return skill


def mint_badge(ws: Workspace, issuer: Signer, to: str, skill: str, evidence: bytes = J.ZERO_HASH) -> int:
    """An accredited issuer mints a soulbound skill badge; returns its token id."""
    skill = _check_skill(skill)
    if len(evidence) != 32:
        raise InvalidInput("the badge's evidence must be a 32-byte hash (e.g. of the credential)")
    badges = ws.badges
    if not ws.issuer_registry.is_accredited(issuer.address):
        raise NotAllowed(f"{issuer.address} is not an accredited issuer: only they mint badges")
    receipt = badges.mint(issuer.key, to, skill, evidence)
    for event in badges.receipt_events(receipt):
        if event.name == "BadgeMinted":
            return int(event.args["token_id"])
    raise NotAllowed(f"{to} already holds the {skill!r} badge from this issuer")


def badges_of(ws: Workspace, address: str) -> list[Any]:
    badges = ws.badges
    return [badges.badge(t, holder=address) for t in badges.tokens_of(address)]


# --- attestations ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attested:
    job_id: int
    milestone: int
    uid: bytes
    verified: bool
    score: int
    badge: int  # token id awarded, 0 for none
    gas: int


def declare_skill(ws: Workspace, client: Signer, job_id: int, skill: str) -> int:
    """The client names the job's skill category (once, before anything settles); returns gas."""
    skill = _check_skill(skill)
    job = Jobs(ws).get(job_id)
    if job.client.lower() != client.address.lower():
        raise NotAllowed(f"only job {job_id}'s client declares its skill")
    return ws.job_attester.declare_skill(client.key, job, skill).gas_used


def attest_settled(ws: Workspace, caller: Signer, job_id: int) -> list[Attested]:
    """Attests JobCompleted for every milestone of the job that paid the freelancer and is not yet
    attested. Anyone may call it: the attester derives everything from the escrow's state, and a
    committee-resolved milestone's score from the committee's signed reports, read back from the
    settling transaction. A milestone that cannot be attested does not stop the others; if any
    failed, NotAllowed names them after the rest are done."""
    job = Jobs(ws).get(job_id)
    attester = ws.job_attester
    committee = ws.committee if ws.deployment.committee else None
    judged = committee is not None and job.arbiter.lower() == committee.address.lower()
    out: list[Attested] = []
    failed: list[str] = []
    for index, milestone in enumerate(job.milestones):
        if (
            milestone.status not in (J.MilestoneStatus.PAID, J.MilestoneStatus.RESOLVED)
            or milestone.paid == 0
        ):
            continue
        if attester.attestation_of(job_id, index) != J.ZERO_HASH:
            continue
        settlement = None
        if judged and milestone.status == J.MilestoneStatus.RESOLVED:
            assert committee is not None
            settlement = committee.settlement(job_id, index, milestone.deliverable)
            if settlement is None or not settlement.scores:
                failed.append(
                    f"milestone {index + 1}: the committee's signed reports cannot be read back from the chain "
                    "(settled through another contract)"
                )
                continue
        try:
            receipt = attester.attest_job(caller.key, job, index, settlement)
        except ProofworkError as exc:
            failed.append(f"milestone {index + 1}: {exc}")
            continue
        uid, verified, score, badge = b"", False, 0, 0
        for event in attester.receipt_events(receipt):
            if event.name == "JobAttested":
                uid, verified = bytes(event.args["uid"]), bool(event.args["verified"])
                score = int(event.args["score"])
            elif event.name == "BadgeAwarded":
                badge = int(event.args["token_id"])
        out.append(Attested(job_id, index, uid, verified, score, badge, receipt.gas_used))
    if failed:
        done = f"attested {len(out)} milestone(s); " if out else ""
        raise NotAllowed(f"job {job_id}: {done}could not attest " + "; ".join(failed))
    return out


def review(
    ws: Workspace, reviewer: Signer, job_id: int, milestone: int, rating: int, comment: str = ""
) -> bytes:
    """A client or freelancer reviews the other party of a paid, attested job (EAS refUID)."""
    from proofwork.chain.identity import review_data

    uid = ws.job_attester.attestation_of(job_id, milestone)
    if uid == J.ZERO_HASH:
        raise NotFound(f"job {job_id} milestone {milestone + 1} has no JobCompleted attestation to review")
    job = Jobs(ws).get(job_id)
    me = reviewer.address.lower()
    if me == job.client.lower():
        other = job.freelancer
    elif me == job.freelancer.lower():
        other = job.client
    else:
        raise NotAllowed(f"only job {job_id}'s client or freelancer may review it")
    data = review_data(rating, keccak(comment.encode()))
    schema = bytes.fromhex(ws.deployment.review_schema[2:])
    receipt = ws.attestations.attest(reviewer.key, schema, other, uid, data, revocable=True)
    return ws.attestations.attested_uid(receipt)


@dataclass(frozen=True)
class Review:
    uid: bytes
    job_id: int
    milestone: int
    reviewer: str
    reviewee: str
    rating: int
    comment_hash: bytes
    time: int


def reviews_of(ws: Workspace, address: str | None = None) -> list[Review]:
    """Reviews (not revoked), optionally only those received by `address`, with the job each
    references through its JobCompleted."""
    from eth_abi import decode as abi_decode

    from proofwork.chain.identity import REVIEW_TYPES, decode_job_completed

    attestations = ws.attestations
    schema = bytes.fromhex(ws.deployment.review_schema[2:])
    out = []
    for uid in attestations.uids(schema, ws.address(address) if address else None):
        record = attestations.get(uid)
        if record.revocation_time:
            continue
        rating, comment_hash = abi_decode(REVIEW_TYPES, record.data)
        job = decode_job_completed(attestations.get(record.ref_uid))
        out.append(
            Review(
                uid,
                job.job_id,
                job.milestone,
                record.attester,
                record.recipient,
                int(rating),
                bytes(comment_hash),
                record.time,
            )
        )
    return out


# --- reputation -----------------------------------------------------------------------------------


def job_completions(ws: Workspace, freelancer: str | None = None) -> list[Any]:
    """Every JobCompleted attestation (not revoked), decoded; only `freelancer`'s when given (the
    attestation's recipient, filtered by the node)."""
    from proofwork.chain.identity import decode_job_completed

    attestations = ws.attestations
    schema = bytes.fromhex(ws.deployment.job_completed_schema[2:])
    # Only the job attester can attest this schema (the resolver refuses anyone else); checked again
    # here so that a misconfigured deployment cannot feed the graph.
    attester = ws.deployment.job_attester.lower()
    records = [attestations.get(uid) for uid in attestations.uids(schema, freelancer)]
    completed = [decode_job_completed(r) for r in records if r.attester.lower() == attester]
    return [c for c in completed if not c.revoked]


def trust_seeds(ws: Workspace) -> dict[str, float]:
    """Pre-trusted accounts: the accredited issuers, and the accounts they vouched for by minting them
    a badge themselves (not badges earned by jobs, which the graph already counts)."""
    registry = ws.issuer_registry
    accredited = {i.address.lower(): i.address for i in registry.issuers() if i.accredited}
    seeds = {address: 1.0 for address in accredited.values()}
    for badge in ws.badges.minted():
        if not badge.by_job and badge.issuer.lower() in accredited:
            seeds[badge.holder] = 1.0
    return seeds


@dataclass(frozen=True)
class ReputationView:
    address: str
    score: float
    rank: int  # among the accounts paid for work, 1 = highest; 0 when the account has no score
    accounts: int  # accounts paid for work (the ranking's population)
    paid_jobs: int
    verified_jobs: int
    total_paid: int
    contributions: list[tuple[PaidJob, float]]
    seed_share: float
    seeds: int
    block: int

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "score": self.score,
            "rank": self.rank,
            "accounts": self.accounts,
            "paid_jobs": self.paid_jobs,
            "verified_jobs": self.verified_jobs,
            "total_paid": self.total_paid,
            "seed_share": self.seed_share,
            "seeds": self.seeds,
            "block": self.block,
            "top_jobs": [
                {
                    "job": job.job_id,
                    "milestone": job.milestone + 1,
                    "client": job.client,
                    "amount": job.amount,
                    "score": job.score,
                    "attestation": job.uid,
                    "contribution": contribution,
                }
                for job, contribution in self.contributions
            ],
        }


def reputation_graph(ws: Workspace) -> tuple[list[PaidJob], dict[str, float]]:
    from proofwork.domain.reputation import PaidJob

    jobs = [
        PaidJob(
            r.job_id,
            r.client,
            r.freelancer,
            r.amount_paid,
            r.score if r.verified else None,
            milestone=r.milestone,
            uid="0x" + r.uid.hex(),
        )
        for r in job_completions(ws)
    ]
    return jobs, trust_seeds(ws)


def reputation_of(ws: Workspace, address: str, top: int = 5) -> ReputationView:
    """Personalised EigenTrust over the JobCompleted graph, seeded by the accredited issuers."""
    address = ws.address(address)
    jobs, seeds = reputation_graph(ws)
    block = ws.chain.block_number()
    if not seeds:
        raise NotFound(
            "no accredited issuer yet: reputation needs pre-trusted seeds (`proofwork issuer register`)"
        )
    from proofwork.domain.reputation import compute_reputation

    rep = compute_reputation(jobs, seeds, alpha=ALPHA)
    key = next((a for a in rep.addresses if a.lower() == address.lower()), address)
    score = rep.score(key)
    workers = {j.freelancer for j in jobs if j.client != j.freelancer}
    scores = [rep.score(w) for w in workers]
    rank = 1 + sum(1 for s in scores if s > score) if score > 0 else 0
    mine = [j for j in jobs if j.freelancer.lower() == address.lower()]
    return ReputationView(
        address,
        score,
        rank,
        len(workers),
        len(mine),
        sum(1 for j in mine if j.score is not None),
        sum(j.amount for j in mine),
        rep.explain(key, top),
        rep.seed_share(key),
        len(seeds),
        block,
    )


def export_reputation(
    ws: Workspace, issuer_name: str, holder: str, *, valid_for: int = 30 * 86_400, top: int = 5
) -> tuple[creds.IssuedRecord, ReputationView]:
    """A reputation summary credential (SD-JWT VC) for `holder`, signed by a local issuer profile.
    Every claim is selectively disclosable; it names the chain, the attestation contract and the block
    it was computed at, so a verifier can recompute it, and it verifies offline when the issuer is a
    wallet (did:pkh) or a did:key."""
    view = reputation_of(ws, holder, top)
    claims = {
        "address": view.address,
        "score": round(view.score, 12),
        "rank": view.rank,
        "accounts": view.accounts,
        "paid_jobs": view.paid_jobs,
        "verified_jobs": view.verified_jobs,
        "total_paid": str(view.total_paid),
        "token": ws.deployment.token,
        "top_jobs": [
            {"job": j["job"], "milestone": j["milestone"], "attestation": j["attestation"]}
            for j in view.to_json()["top_jobs"]
        ],
        "algorithm": f"personalised EigenTrust, alpha {ALPHA}, seeds: accredited issuers and their badge holders",
        "chain_id": ws.chain.chain_id,
        "attestations": ws.deployment.attestations,
        "block": view.block,
        "computed_at": int(time.time()),
    }
    record = creds.issue_credential_for(
        ws,
        issuer_name,
        holder=holder,
        vct=creds.VCT_REPUTATION_SUMMARY,
        claims=claims,
        valid_for=valid_for,
        directory=directory_for(ws),
    )
    return record, view
