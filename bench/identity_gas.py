"""Gas of the identity layer, from real receipts on the embedded py-evm chain.

Everything goes through the same services the CLI and the SDK use (`proofwork.services.issuers`, `badges`, `attestations`, `reputation`,
`proofwork.services.credentials`), on a fresh data directory: the escrow and a 4-oracle committee
(f = 1, so 3 signatures settle), then the identity contracts. Figures, all from transaction receipts
(21k base and calldata included):

- deploying each identity contract, and the two wiring calls (`set_resolver`, `set_auto_minter`);
- `register_issuer` for a did:web issuer, step by step: `accredit`, `add_key`, the first status
  list `anchor_status_list` (a new slot), and a re-anchor after a revocation (an update); a key
  rotation (`retire_key` + `add_key`); a wallet (did:pkh) issuer's `accredit`;
- `mint` of a skill badge by an accredited issuer, `declare_skill` by a client;
- `attest_job`: a client-approved job (unverified, no signatures), a committee-settled job with
  3 signatures and a declared skill (badge minted), the same without a declared skill (no badge),
  and a second pass in the same skill (no second badge);
- a `review` (an EAS attestation through the resolver's checks);
- the committee's `settle` (the designated quorum's 3 signatures, release to a fresh freelancer)
  measured before the identity contracts are deployed and after, on a job with a declared skill:
  the committee does not call into the identity layer, so its execution gas must not change for
  the same designated quorum (settlements are measured before for every rotation; the totals may
  differ by a few gas of calldata, as the signatures' bytes differ).

Usage: python bench/identity_gas.py. Last line: one JSON object.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_utils import keccak

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from proofwork.chain.encoding import designated_quorum, evaluation_hash, labels_commitment  # noqa: E402
from proofwork.domain import job as J  # noqa: E402
from proofwork.keys.sealing import public_key_of  # noqa: E402
from proofwork.sdk import Proofwork, Signer  # noqa: E402
from proofwork.services import attestations, deployment, issuers  # noqa: E402
from proofwork.services.credentials import issuing, profiles, status_lists  # noqa: E402

DAY = 86_400
CHALLENGE_WINDOW = 600
THRESHOLD = 700_000  # pass score 0.70 (accuracy, higher is better)
TOLERANCE = 20_000
PASSING = [910_000, 905_000, 915_000]
SPEC_DIGEST = keccak(b"spec: classify the held-out set")
LABELS_CID = bytes.fromhex("01551220") + keccak(b"hidden labels")
SALT = keccak(b"salt")
COMMITMENT = labels_commitment(LABELS_CID, SALT, SPEC_DIGEST)
SPEC = evaluation_hash(SPEC_DIGEST, COMMITMENT, THRESHOLD, True, TOLERANCE)  # the job's spec hash
SKILL = "vision/digit-classification"


class Bench:
    def __init__(self, pw: Proofwork) -> None:
        self.pw = pw
        self.ws = pw.ws
        self.operator, self.client, self.relayer = (pw.signer(f"dev{i}") for i in (0, 1, 4))
        pw.deploy("dev0")
        oracles = [pw.signer(f"dev{i}") for i in range(6, 10)]
        pw.deploy_committee([o.address for o in oracles], f=1, challenge_window=CHALLENGE_WINDOW)
        for oracle in oracles:
            self.ws.committee.register_oracle(
                oracle.key, public_key_of(oracle.key), f"https://oracle.example/{oracle.address}"
            )
        self.oracles = sorted(oracles, key=lambda o: int(o.address, 16))
        pw.fund(self.client.address, pw.amount("1000000"))

    def fresh(self) -> Signer:
        account = Account.create()
        self.pw.fund(account.address, 0)  # gas money for the submission
        return Signer("fresh", account.address, bytes(account.key))

    def gas_of(self, tx_hash: str) -> int:
        return int(self.ws.chain.web3.eth.get_transaction_receipt(tx_hash)["gasUsed"])  # type: ignore[arg-type]

    def execution_gas(self, tx_hash: str, gas_used: int) -> int:
        """Gas used minus the intrinsic cost (21k and calldata): what the contracts executed."""
        data = self.ws.chain.transaction_input(tx_hash)
        return gas_used - 21_000 - sum(16 if b else 4 for b in data)

    def committee_job(self, freelancer: Signer, skill: str | None = None) -> tuple[int, int | None]:
        """A committee-judged job, evaluation registered, work submitted, challenge window over.
        Returns the job id and the gas of `declare_skill` (None without a skill)."""
        pw, ws = self.pw, self.ws
        job = pw.jobs.post(
            self.client,
            budget=pw.amount("1000"),
            deadline=pw.now() + 7 * DAY,
            review_period=3 * DAY,
            freelancer=freelancer.address,
            spec_hash=SPEC,
            arbiter=ws.committee.address,
        ).job
        ws.committee.register(
            self.client.key, job, SPEC_DIGEST, COMMITMENT, THRESHOLD, True, TOLERANCE, LABELS_CID
        )
        declared = attestations.declare_skill(ws, self.client, job.job_id, skill) if skill else None
        # straight to the escrow: the SDK would first check the spec file, which this bench has none of
        ws.escrow.submit(freelancer.key, pw.jobs.get(job.job_id), 0, keccak(f"model {job.job_id}".encode()))
        pw.advance_time(CHALLENGE_WINDOW + 1)
        return job.job_id, declared

    def designated(self, job_id: int) -> tuple[str, ...]:
        """The designated quorum of the job's current round (ascending addresses)."""
        m = self.pw.jobs.get(job_id).milestones[0]
        committee = self.ws.committee
        return tuple(designated_quorum(job_id, 0, m.revisions, committee.oracles, committee.threshold))

    def settle(self, job_id: int, scores: list[int]) -> tuple[int, int]:
        """Settles with the designated quorum's signed reports; (gas, execution gas)."""
        ws = self.ws
        job = self.pw.jobs.get(job_id)
        m = job.milestones[0]
        signers = [o for o in self.oracles if o.address in self.designated(job_id)]
        signatures = [
            ws.committee.sign_report(
                o.key,
                ws.committee.report_message(
                    job_id, 0, m.deliverable, m.revisions, s, job.spec_hash, COMMITMENT
                ),
            )
            for o, s in zip(signers, scores, strict=True)
        ]
        receipt = ws.committee.settle(self.relayer.key, job, 0, m.revisions, scores, signatures)
        assert self.pw.jobs.get(job_id).milestones[0].status == J.MilestoneStatus.RESOLVED
        return receipt.gas_used, self.execution_gas(receipt.tx_hash, receipt.gas_used)

    def approved_job(self, freelancer: Signer) -> int:
        pw = self.pw
        job_id = pw.jobs.post(
            self.client,
            budget=pw.amount("300"),
            deadline=pw.now() + 7 * DAY,
            review_period=3 * DAY,
            freelancer=freelancer.address,
        ).job.job_id
        pw.jobs.submit(freelancer, job_id, 0, keccak(b"labels.csv"))
        pw.jobs.approve(self.client, job_id, 0)
        return job_id

    def attest(self, job_id: int) -> attestations.Attested:
        (done,) = attestations.attest_settled(self.ws, self.relayer, job_id)
        return done

    def anchor_gas(self, issuer: str) -> int:
        """Gas of the latest status list anchor of `issuer`."""
        events = [
            e
            for e in self.ws.issuer_registry.events("StatusListAnchored")
            if e.args["issuer"].lower() == issuer.lower()
        ]
        return self.gas_of(events[-1].tx_hash)


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, Proofwork.open(Path(tmp)) as pw:
        b = Bench(pw)
        ws = pw.ws
        figures: dict[str, Any] = {}

        # steady state: one settlement already made, another job still held in escrow
        job_id, _ = b.committee_job(b.fresh())
        b.settle(job_id, PASSING)
        b.committee_job(b.fresh())
        # a settlement per designated quorum (rotation), so that the one after the identity layer is
        # compared with the same signers (a signer's place in the committee changes its lookup cost)
        before_by_quorum: dict[tuple[str, ...], tuple[int, int]] = {}
        for _ in range(64):
            job_id, _ = b.committee_job(b.fresh())
            before_by_quorum.setdefault(b.designated(job_id), b.settle(job_id, PASSING))
            if len(before_by_quorum) == len(b.oracles):
                break

        deployed = deployment.deploy_identity(ws, b.operator)
        for name, gas in deployed.gas.items():
            figures[name] = gas

        # a did:web issuer (its web root is not served: registering fetches nothing)
        uni_account = pw.signer("dev5")
        profiles.create_issuer(ws, "uni", account=uni_account, base_url="http://127.0.0.1:9/uni")
        steps = dict(issuers.register_issuer(ws, b.operator, "uni").steps)
        figures["register_issuer: accredit (did:web)"] = steps["accredit"]
        figures["register_issuer: add_key"] = next(g for s, g in steps.items() if s.startswith("add key"))
        figures["register_issuer: anchor_status_list (first)"] = b.anchor_gas(uni_account.address)
        directory = issuers.RegistryDirectory(ws)
        record = issuing.issue_credential_for(
            ws, "uni", holder="dev2", vct="course", claims={"course": "ML"}, directory=directory
        )
        status_lists.revoke(ws, "uni", record.id, directory=directory)
        figures["anchor_status_list (update, after a revocation)"] = b.anchor_gas(uni_account.address)
        pw.advance_time(1)
        profiles.rotate_key(ws, "uni")
        rotated = dict(issuers.register_issuer(ws, b.operator, "uni").steps)
        figures["key rotation: retire_key"] = next(
            g for s, g in rotated.items() if s.startswith("retire key")
        )
        figures["key rotation: add_key"] = next(g for s, g in rotated.items() if s.startswith("add key"))
        profiles.create_issuer(ws, "proofwork", account=b.operator)
        wallet = dict(issuers.register_issuer(ws, b.operator, "proofwork").steps)
        figures["register_issuer: accredit (wallet, did:pkh)"] = wallet["accredit"]

        receipt = ws.badges.mint(b.operator.key, b.client.address, "org/verified-client", b"\x01" * 32)
        figures["mint badge (accredited issuer)"] = receipt.gas_used

        # committee jobs after the identity layer: one with a skill (settled first), one without
        worker = b.fresh()
        skilled, declare_gas = b.committee_job(worker, SKILL)
        figures["declare_skill"] = declare_gas
        quorum = b.designated(skilled)
        figures["settle, after identity (skill declared)"], settle_exec_after = b.settle(skilled, PASSING)
        figures["settle, before identity"], settle_exec_before = before_by_quorum[quorum]
        unskilled, _ = b.committee_job(worker)
        b.settle(unskilled, PASSING)
        again, _ = b.committee_job(worker, SKILL)
        b.settle(again, PASSING)

        plain = b.approved_job(b.fresh())
        done = b.attest(plain)
        assert not done.verified and done.badge == 0
        figures["attest_job unverified (client-approved)"] = done.gas
        done = b.attest(skilled)
        assert done.verified and done.badge > 0 and done.score == PASSING[0]
        figures["attest_job verified, 3 sigs + badge mint"] = done.gas
        done = b.attest(unskilled)
        assert done.verified and done.badge == 0
        figures["attest_job verified, 3 sigs, no skill"] = done.gas
        done = b.attest(again)
        assert done.verified and done.badge == 0
        figures["attest_job verified, 3 sigs, badge already held"] = done.gas

        attestations.review(ws, b.client, plain, 0, 5, "fast and careful")
        figures["review (client -> freelancer)"] = b.gas_of(ws.attestations.events("Attested")[-1].tx_hash)
        figures["settle execution gas, before / after identity"] = [settle_exec_before, settle_exec_after]
    return figures


def main() -> int:
    started = time.monotonic()
    figures = run()
    print("\n[embedded py-evm] identity layer gas, real receipts (committee n=4, f=1: 3 signatures)")
    for name, gas in figures.items():
        text = ", ".join(f"{g:,}" for g in gas) if isinstance(gas, list) else f"{gas:,}"
        print(f"  {name:<52} {text:>20}")
    before, after = figures["settle execution gas, before / after identity"]
    verdict = "unchanged" if before == after else f"CHANGED by {after - before:+,}"
    print(f"  committee settle execution gas with the identity layer deployed: {verdict}")
    print(f"  ({time.monotonic() - started:.1f} s)")
    summary = {
        "deploy_gas": {k.removeprefix("deploy "): v for k, v in figures.items() if k.startswith("deploy ")},
        "set_resolver_gas": figures["set_resolver"],
        "set_auto_minter_gas": figures["set_auto_minter"],
        "accredit_gas": figures["register_issuer: accredit (did:web)"],
        "accredit_wallet_gas": figures["register_issuer: accredit (wallet, did:pkh)"],
        "add_key_gas": figures["register_issuer: add_key"],
        "anchor_first_gas": figures["register_issuer: anchor_status_list (first)"],
        "anchor_update_gas": figures["anchor_status_list (update, after a revocation)"],
        "retire_key_gas": figures["key rotation: retire_key"],
        "mint_badge_gas": figures["mint badge (accredited issuer)"],
        "declare_skill_gas": figures["declare_skill"],
        "attest_unverified_gas": figures["attest_job unverified (client-approved)"],
        "attest_verified_badge_gas": figures["attest_job verified, 3 sigs + badge mint"],
        "attest_verified_no_skill_gas": figures["attest_job verified, 3 sigs, no skill"],
        "attest_verified_badge_held_gas": figures["attest_job verified, 3 sigs, badge already held"],
        "review_gas": figures["review (client -> freelancer)"],
        "settle_gas_before_identity": figures["settle, before identity"],
        "settle_gas_after_identity": figures["settle, after identity (skill declared)"],
        "settle_execution_gas_before_after": [before, after],
        "settle_unchanged": before == after,
        "measured_at": int(time.time()),
    }
    print(json.dumps(summary))
    return 0 if summary["settle_unchanged"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
