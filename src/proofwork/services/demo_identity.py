"""`proofwork demo --identity`: credentials, badges, attestations and a portable reputation.

A university (a did:web institution, accredited in the on-chain issuer registry) issues a course
credential to a freelancer and another one to a second student. The freelancer shows a client only
the course name and grade; the client verifies it (signature, key binding, issuer accreditation,
status list). The university revokes the second student's credential, which then fails. The
freelancer completes two paid jobs: one judged by the oracle committee with a hidden test set (a
verified pass in a declared skill, which mints a soulbound badge) and one approved by the client.
Both become JobCompleted attestations; reputation over the attestation graph is exported as a
reputation credential that verifies offline.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proofwork.domain.errors import CredentialRejected
from proofwork.domain.units import parse_amount
from proofwork.evaluation.runner import Evaluator
from proofwork.evaluation.sandbox import Sandbox
from proofwork.identity.did import did_pkh_of
from proofwork.network.peers import HttpPeers
from proofwork.services import attestations, badges, deployment, issuers, reputation
from proofwork.services.accounts import fund
from proofwork.services.credentials import issuing, profiles, status_lists, verification, wallet
from proofwork.services.demo_ml import ServeReports, prepare_task, start_oracles, train_onnx, write_spec
from proofwork.services.deployment import deploy, deploy_committee
from proofwork.services.evaluated_jobs import Evaluations
from proofwork.services.oracle.node import AGGREGATION_GRACE
from proofwork.services.workspace import Workspace
from proofwork.storage.unixfs import cid_digest

DAY = 86_400
CHALLENGE_WINDOW = 600
SKILL = "vision/digit-classification"


@dataclass
class IdentityDemoReport:
    ok: bool = False
    steps: list[str] = field(default_factory=list)
    disclosed: dict[str, Any] = field(default_factory=dict)  # what the client saw of the course credential
    revoked_rejection: str = ""  # the reason the revoked credential was refused
    attestations: list[dict[str, Any]] = field(default_factory=list)
    badges: list[dict[str, Any]] = field(default_factory=list)
    reputation: dict[str, Any] = field(default_factory=dict)
    reputation_credential: dict[str, Any] = field(default_factory=dict)
    data_dir: str = ""
    problems: list[str] = field(default_factory=list)


def run_identity_demo(
    ws: Workspace,
    serve: ServeReports,
    on_step: Callable[[str], None] = lambda _: None,
    *,
    serve_web_root: Callable[[Path], Any],
) -> IdentityDemoReport:
    """The story; `serve` starts an oracle's report endpoint and `serve_web_root` a read-only server
    (bound, not yet serving: `.url`, `.start()`, `.close()`) for an issuer's web root."""
    report = IdentityDemoReport(data_dir=str(ws.data_dir))

    def step(text: str) -> None:
        report.steps.append(text)
        on_step(text)

    operator, client, freelancer, other_student, university_account = (ws.signer(f"dev{i}") for i in range(5))
    oracle_signers = [ws.signer(f"dev{i}") for i in range(6, 10)]
    deploy(ws, operator)
    deploy_committee(
        ws, operator, [o.address for o in oracle_signers], f=1, challenge_window=CHALLENGE_WINDOW
    )
    deployment.deploy_identity(ws, operator)
    step(
        "deployed the escrow, a 4-oracle committee and the identity contracts (issuer registry, badges, EAS)"
    )
    token = ws.token
    fund(ws, client.address, parse_amount("5000", token.decimals))
    for who in (freelancer, other_student, university_account):
        fund(ws, who.address, 0)

    with ExitStack() as stack:
        # --- the university: a did:web institution serving its DID document and status list -------
        web = serve_web_root(profiles.issuer_web_root(ws.data_dir, "university"))
        stack.callback(web.close)
        university = profiles.create_issuer(
            ws, "university", account=university_account, base_url=f"{web.url}/university"
        )
        web.start()
        registered = issuers.register_issuer(ws, operator, "university")
        step(
            f"the operator accredited the university ({university.did}) in the issuer registry; "
            f"its key and status list digest are on chain ({len(registered.steps)} steps)"
        )
        profiles.create_issuer(ws, "proofwork", account=operator)
        issuers.register_issuer(ws, operator, "proofwork")
        kyb_badge = badges.mint_badge(ws, operator, client.address, "org/verified-client")
        step(
            f"the operator (an accredited wallet issuer, {did_pkh_of(ws.chain_id, operator.address)}) "
            f"vouched for the client with badge #{kyb_badge}: a pre-trusted seed of reputation"
        )

        directory = issuers.RegistryDirectory(ws)
        course = issuing.issue_credential_for(
            ws,
            "university",
            holder=freelancer.name,
            vct=issuing.VCT_COURSE_CERTIFICATE,
            claims={
                "course": "Machine Learning (CS229)",
                "grade": "A",
                "student_name": "Dana Lee",
                "student_id": "S-2024-0042",
                "birthdate": "2001-04-17",
                "completed": "2026-06-30",
            },
            valid_for=365 * DAY,
            directory=directory,
        )
        other = issuing.issue_credential_for(
            ws,
            "university",
            holder=other_student.name,
            vct=issuing.VCT_COURSE_CERTIFICATE,
            claims={"course": "Deep Learning", "grade": "B", "student_name": "Sam Roe"},
            valid_for=365 * DAY,
            directory=directory,
        )
        step(f"the university issued course credentials {course.id} (to dev2) and {other.id} (to dev4)")

        audience = did_pkh_of(ws.chain_id, client.address)
        nonce = secrets.token_urlsafe(16)
        presentation = wallet.present_credential(
            ws, freelancer.name, course.id, disclose=["course", "grade"], audience=audience, nonce=nonce
        )
        checked = verification.verify(
            ws,
            presentation,
            audience=audience,
            nonce=nonce,
            resolver=None,
            directory=directory,
            allow_insecure_localhost=True,
            expected_vct=issuing.VCT_COURSE_CERTIFICATE,
        )
        report.disclosed = dict(checked.claims)
        step(
            f"dev2 showed the client only {sorted(checked.claims)}; the client verified it "
            f"(accredited issuer: {checked.accredited}, status: {checked.status})"
        )

        status_lists.revoke(ws, "university", other.id, directory=directory)
        nonce = secrets.token_urlsafe(16)
        revoked_presentation = wallet.present_credential(
            ws, other_student.name, other.id, disclose=["course"], audience=audience, nonce=nonce
        )
        try:
            verification.verify(
                ws,
                revoked_presentation,
                audience=audience,
                nonce=nonce,
                resolver=None,
                directory=directory,
                allow_insecure_localhost=True,
            )
            report.problems.append("the revoked credential still verified")
        except CredentialRejected as exc:
            report.revoked_rejection = exc.reason
            step(f"the university revoked {other.id}; presenting it now fails: {exc}")

        # --- two paid jobs -------------------------------------------------------------------------
        sandbox = stack.enter_context(Sandbox(debug=ws.settings.sandbox_debug))
        evaluator = Evaluator(sandbox)
        peers = HttpPeers()
        stack.callback(peers.close)
        nodes = start_oracles(ws, stack, oracle_signers, evaluator, peers, serve, attest=True)
        task = prepare_task(ws.data_dir / "client")
        paths = task["paths"]
        train_cid = ws.store.add_file(paths["train"])
        features_cid = ws.store.add_file(paths["test_features"])
        spec_path = write_spec(ws.data_dir / "client" / "spec.yaml", train_cid, features_cid)
        evaluations = Evaluations(ws, evaluator)
        outcome, _ = evaluations.post(
            client,
            spec_path,
            paths["labels"],
            budget=parse_amount("500", token.decimals),
            deadline=ws.chain.next_timestamp() + 7 * DAY,
            review_period=2 * DAY,
            freelancer=freelancer.address,
        )
        verified_job = outcome.job.job_id
        attestations.declare_skill(ws, client, verified_job, SKILL)
        model = train_onnx(task["x_train"], task["y_train"], ws.data_dir / "dev2-model.onnx", weak=False)
        evaluations.jobs.submit(freelancer, verified_job, 0, cid_digest(ws.store.add_file(model)))
        for node in nodes:
            node.step()
        ws.chain.advance_time(CHALLENGE_WINDOW + AGGREGATION_GRACE + 1)
        settled: list[str] = []
        for _ in range(2):
            for node in nodes:
                settled += node.step().settled
        step(f"job {verified_job} ({SKILL}): dev2's model was scored by the committee and paid")
        for line in settled:
            if "JobCompleted" in line:
                step(f"the settling oracle attested at once: {line}")
        jobs = evaluations.jobs
        plain = jobs.post(
            client,
            budget=parse_amount("300", token.decimals),
            milestones=1,
            deadline=ws.chain.next_timestamp() + 7 * DAY,
            review_period=2 * DAY,
            spec_hash=hashlib.sha256(b"label 2,000 sentiment examples").digest(),
            freelancer=freelancer.address,
        )
        plain_job = plain.job.job_id
        jobs.submit(freelancer, plain_job, 0, hashlib.sha256(b"labels.csv").digest())
        jobs.approve(client, plain_job, 0)
        step(f"job {plain_job} (labeling): dev2 delivered and the client approved the payment")

        for done in attestations.attest_settled(ws, freelancer, plain_job):
            step(f"dev2 attested the approved job: JobCompleted 0x{done.uid.hex()[:16]}… (unverified)")
        for record in attestations.job_completions(ws):
            if record.freelancer == freelancer.address:
                report.attestations.append(
                    {
                        "job": record.job_id,
                        "milestone": record.milestone + 1,
                        "uid": "0x" + record.uid.hex(),
                        "verified": record.verified,
                        "score": record.score,
                        "amount_paid": record.amount_paid,
                    }
                )
        attestations.review(ws, client, plain_job, 0, 5, "fast and careful labeling")
        step("the client reviewed dev2 on the labeling job (an attestation referencing its JobCompleted)")

        for badge in badges.badges_of(ws, freelancer.address):
            report.badges.append(
                {
                    "token_id": badge.token_id,
                    "skill": badge.skill,
                    "locked": ws.badges.locked(badge.token_id),
                    "earned_by": "0x" + badge.evidence.hex(),  # the JobCompleted attestation
                }
            )

        view = reputation.reputation_of(ws, freelancer.address)
        report.reputation = view.to_json()
        step(
            f"dev2's reputation: {view.score:.4f} (rank {view.rank} of {view.accounts}), "
            f"from {view.paid_jobs} paid jobs, {view.verified_jobs} verified"
        )
        record, _ = reputation.export_reputation(ws, "proofwork", freelancer.name)
        nonce = secrets.token_urlsafe(16)
        verifier = "did:web:hiring.example"
        shown = wallet.present_credential(
            ws,
            freelancer.name,
            record.id,
            disclose=["score", "rank", "paid_jobs", "verified_jobs", "chain_id", "block"],
            audience=verifier,
            nonce=nonce,
        )
        offline = verification.verify(
            None,
            shown,
            audience=verifier,
            nonce=nonce,
            resolver=None,
            directory=None,
            offline=True,
            now=ws.chain.next_timestamp(),  # the demo moved the dev chain's clock ahead of the wall clock
            expected_vct=issuing.VCT_REPUTATION_SUMMARY,
        )
        report.reputation_credential = {"id": record.id, "issuer": offline.issuer, "claims": offline.claims}
        step(f"dev2 exported a reputation credential ({record.id}); a verifier checked it offline")

    if set(report.disclosed) != {"course", "grade"}:
        report.problems.append(f"the client saw {sorted(report.disclosed)}, not only course and grade")
    if report.revoked_rejection != "revoked":
        report.problems.append("the revoked credential was not refused as revoked")
    if len(report.attestations) != 2 or sum(a["verified"] for a in report.attestations) != 1:
        report.problems.append(f"expected two JobCompleted attestations, one verified: {report.attestations}")
    if not any(b["skill"] == SKILL and b["locked"] for b in report.badges):
        report.problems.append("no locked skill badge for the verified job")
    if not report.reputation.get("score"):
        report.problems.append("the freelancer has no reputation")
    if report.reputation_credential.get("claims", {}).get("paid_jobs") != 2:
        report.problems.append("the reputation credential does not show two paid jobs")
    report.ok = not report.problems
    return report
