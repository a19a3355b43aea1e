"""Gas of quadratic funding rounds (issue 15) through FundingRound, from real receipts (web3.py on the
embedded py-evm chain: 21k base and calldata included). The issue sets no target: figures only.

A round under the SkillBadge rule (badges minted by an accredited issuer), 3 projects; contributors
are fresh accounts (funded with ETH and pUSD first, approvals given before the measured call):

- `create_round_gas`: a round escrowing its pool; `fund_gas`: a third party adding to it;
- `apply_gas`: a project applying;
- `contribute_first_gas`: an eligible contributor's first contribution to a project that already
  has eligible contributors (its weight grows: the common case); `contribute_repeat_gas`: the same
  contributor again; `contribute_unmatched_gas`: without a credential; `contribute_attestation_gas`:
  an eligible first contribution under the attestation rule;
- `finalize_gas_1`, `finalize_gas_10`, `finalize_gas_100`: finalizing rounds of 1, 10 and 100
  projects (finalization is O(1): the weights are kept per contribution);
- `claim_gas`: a project paid its contributions and matching (fresh recipient); `refund_gas`: the
  creator's rounding remainder.

Usage: python bench/round_gas.py. Last line: one JSON object.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from eth_account import Account
from eth_utils import keccak

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from proofwork.chain.artifacts import ArtifactStore  # noqa: E402
from proofwork.chain.client import Chain  # noqa: E402

DAY = 86_400
USD = 10**6
SKILL = "ml/open-models"
ZERO = "0x" + "00" * 20
ZERO32 = b"\x00" * 32


def main() -> int:
    store = ArtifactStore()
    arts = {
        n: store.get(n)
        for n in (
            "StableToken",
            "IssuerRegistry",
            "SkillBadge",
            "SchemaRegistry",
            "Attestations",
            "FundingRound",
        )
    }
    with tempfile.TemporaryDirectory() as tmp, Chain.open(Path(tmp)) as chain:
        owner, issuer, creator, keeper = (
            chain.dev_keys[0],
            chain.dev_keys[1],
            chain.dev_keys[2],
            chain.dev_keys[3],
        )
        address = {k: Account.from_key(k).address for k in (owner, issuer, creator, keeper)}

        def deploy(name: str, *args):
            art = arts[name]
            addr = str(chain.deploy(owner, art.abi, art.bytecode, *args).contract_address)
            return chain.contract(art.abi, addr)

        token = deploy("StableToken", "Proofwork USD", "pUSD")
        registry = deploy("IssuerRegistry")
        chain.transact(
            owner, registry.functions.accredit(address[issuer], "did:web:uni.example", "University")
        )
        badges = deploy("SkillBadge", registry.address, "Proofwork Skill Badge", "PWSB")
        schemas = deploy("SchemaRegistry")
        attestations = deploy("Attestations", schemas.address)
        chain.transact(owner, schemas.functions.register("bytes32 personhood", ZERO, True))
        schema = keccak(b"bytes32 personhood" + bytes.fromhex(ZERO[2:]) + b"\x01")
        rounds = deploy("FundingRound", badges.address, attestations.address, registry.address)
        chain.transact(owner, token.functions.mint(address[creator], 10**15))
        chain.transact(creator, token.functions.approve(rounds.address, 2**255))

        def person(badge: bool = True) -> tuple[bytes, bytes]:
            acct = Account.create()
            chain.send_eth(owner, acct.address, 10**18)
            chain.transact(owner, token.functions.mint(acct.address, 10**12))
            chain.transact(acct.key, token.functions.approve(rounds.address, 2**255))
            cred = ZERO32
            if badge:
                chain.transact(issuer, badges.functions.mint(acct.address, SKILL, keccak(text=acct.address)))
                cred = int(badges.functions.minted_count().call()).to_bytes(32, "big")
            return acct.key, cred

        def attested() -> tuple[bytes, bytes]:
            key, _ = person(badge=False)
            who = Account.from_key(key).address
            request = (schema, (who, 0, True, ZERO32, keccak(text=who), 0))
            receipt = chain.transact(issuer, attestations.functions.attest(request))
            uid = attestations.events.Attested().process_receipt({"logs": receipt.logs})
            return key, bytes(uid[0]["args"]["uid"])

        def create(rule: int = 1, pool: int = 1_000 * USD, projects: int = 0) -> tuple[int, int]:
            t = chain.next_timestamp()
            topic = keccak(text=SKILL) if rule == 1 else schema
            fn = rounds.functions.create_round(
                token.address, pool, t + 7 * DAY, t, t + 14 * DAY, rule, [topic], "bafkreiround"
            )
            gas = chain.transact(creator, fn).gas_used
            rid = int(rounds.functions.round_count().call())
            for _ in range(projects):
                chain.transact(
                    keeper, rounds.functions.apply_project(rid, Account.create().address, "bafkreiproject")
                )
            return rid, gas

        def contribute(key: bytes, rid: int, project: int, amount: int, cred: bytes) -> int:
            return chain.transact(key, rounds.functions.contribute(rid, project, amount, cred)).gas_used

        rid, create_gas = create()
        funder, _ = person(badge=False)
        fund_gas = chain.transact(funder, rounds.functions.fund(rid, 100 * USD)).gas_used
        apply_gas = chain.transact(
            keeper, rounds.functions.apply_project(rid, Account.create().address, "bafkreiproject")
        ).gas_used
        for _ in range(2):
            chain.transact(
                keeper, rounds.functions.apply_project(rid, Account.create().address, "bafkreiproject")
            )
        people = [person() for _ in range(4)]
        for key, cred in people[:3]:
            contribute(key, rid, 1, 5 * USD, cred)
            contribute(key, rid, 2, 3 * USD, cred)
        first_gas = contribute(people[3][0], rid, 1, 7 * USD, people[3][1])
        repeat_gas = contribute(people[3][0], rid, 1, 2 * USD, people[3][1])
        plain, _ = person(badge=False)
        unmatched_gas = contribute(plain, rid, 3, USD, ZERO32)

        arid, _ = create(rule=2, projects=1)
        a1, a2 = attested(), attested()
        contribute(a1[0], arid, 1, USD, a1[1])
        attestation_gas = contribute(a2[0], arid, 1, USD, a2[1])

        finalize = {}
        for n in (1, 10, 100):
            frid, _ = create(pool=10 * USD, projects=n)
            for key, cred in people[:2]:
                contribute(key, frid, n, USD, cred)
            chain.advance_time(15 * DAY)
            finalize[n] = chain.transact(keeper, rounds.functions.finalize(frid)).gas_used

        chain.transact(keeper, rounds.functions.finalize(rid))
        claim_gas = chain.transact(keeper, rounds.functions.claim(rid, 1)).gas_used
        chain.transact(keeper, rounds.functions.claim(rid, 2))
        chain.transact(keeper, rounds.functions.claim(rid, 3))
        due = int(rounds.functions.refund_due(rid, address[creator]).call())
        refund_gas = (
            chain.transact(keeper, rounds.functions.refund(rid, address[creator])).gas_used if due else 0
        )

    figures = {
        "create_round_gas": create_gas,
        "fund_gas": fund_gas,
        "apply_gas": apply_gas,
        "contribute_first_gas": first_gas,
        "contribute_repeat_gas": repeat_gas,
        "contribute_unmatched_gas": unmatched_gas,
        "contribute_attestation_gas": attestation_gas,
        "finalize_gas_1": finalize[1],
        "finalize_gas_10": finalize[10],
        "finalize_gas_100": finalize[100],
        "claim_gas": claim_gas,
        "refund_gas": refund_gas,
        "refund_remainder": due,
        "measured_at": int(time.time()),
    }
    for key, value in figures.items():
        print(f"  {key:<28} {value}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
