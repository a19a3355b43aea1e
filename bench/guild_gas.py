"""Gas of a skill guild's payment split and of a member's claim (issue 15), from real receipts on the
embedded py-evm chain through web3.py (21k base and calldata included).

A badge guild (SkillBadge rule, votes by shares) takes a job directly hired to it, a named worker
submits through the guild, the client approves: the escrow pays the guild (a plain ERC-20 transfer),
then anyone calls `split`. Measured for a guild of 3 members and the same guild grown to 100 members
(admitted one by one through proposals), so the figure is seen not to depend on the member count:

- `guild_split_gas`: the largest `split` receipt after an escrow payout, over both sizes and over a
  first and a later payment (bound: 40,000);
- `guild_claim_gas`: the largest `claim` receipt of a member that already holds the stablecoin, over
  both sizes (bound: 60,000); the usual case: members are paid again and again;
- `guild_first_claim_gas`: a member's very first claim into an account that never held the token:
  the token's own write of a fresh balance slot (20,000 of EIP-2200's SSTORE from zero) comes on top;
- `guild_deploy_gas`, `guild_admit_gas` (proposal + vote + execution): for information.

Usage: python bench/guild_gas.py. Last line: one JSON object.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from eth_account import Account

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from proofwork.chain.artifacts import ArtifactStore  # noqa: E402
from proofwork.chain.client import Chain  # noqa: E402

DAY = 86_400
USD = 10**6
SPLIT_LIMIT = 40_000
CLAIM_LIMIT = 60_000
FAMILY = "ml/vision"
ZERO = "0x" + "00" * 20
ZERO32 = b"\x00" * 32
SPEC = bytes.fromhex("22" * 32)
BIG = 100


def main() -> int:
    store = ArtifactStore()
    arts = {n: store.get(n) for n in ("StableToken", "JobEscrow", "IssuerRegistry", "SkillBadge", "Guild")}
    with tempfile.TemporaryDirectory() as tmp, Chain.open(Path(tmp)) as chain:
        owner, client = chain.dev_keys[0], chain.dev_keys[1]
        client_addr = Account.from_key(client).address
        owner_addr = Account.from_key(owner).address

        def deploy(name: str, *args):
            receipt = chain.deploy(owner, arts[name].abi, arts[name].bytecode, *args)
            return chain.contract(arts[name].abi, str(receipt.contract_address)), receipt.gas_used

        token, _ = deploy("StableToken", "Proofwork USD", "pUSD")
        escrow, _ = deploy("JobEscrow", Account.from_key(chain.dev_keys[9]).address, 250)
        registry, _ = deploy("IssuerRegistry")
        badges, _ = deploy("SkillBadge", registry.address, "Skill Badge", "PWSB")
        chain.transact(owner, registry.functions.accredit(owner_addr, "did:web:bench.example", "Bench"))

        def member() -> tuple[bytes, str, bytes]:
            acct = Account.create()
            chain.send_eth(owner, acct.address, 10**18)
            skill = f"{FAMILY}/segmentation"
            chain.transact(owner, badges.functions.mint(acct.address, skill, SPEC))
            token_id = int(badges.functions.minted_count().call())
            return acct.key, acct.address, token_id.to_bytes(32, "big")

        founders = [member() for _ in range(3)]
        rule = (1, badges.address, ZERO, ZERO32, FAMILY, 0)
        guild, deploy_gas = deploy(
            "Guild",
            token.address,
            escrow.address,
            True,  # votes by shares: the first founder's 100 shares pass proposals alone
            DAY,
            rule,
            (ZERO, ZERO, ZERO32),  # no attribution: the split and claim do not touch it
            [f[1] for f in founders],
            [100, 1, 1],
            [[f[2]] for f in founders],
        )
        lead_key, lead = founders[0][0], founders[0][1]
        chain.transact(owner, token.functions.mint(client_addr, 10**15))
        chain.transact(client, token.functions.approve(escrow.address, 2**255))

        def job_paid_to_guild(amount: int) -> None:
            """A job hired to the guild, taken by vote, submitted by a named worker, approved."""
            deadline = chain.next_timestamp() + 30 * DAY
            chain.transact(
                client,
                escrow.functions.create_job(
                    token.address, guild.address, [amount], deadline, DAY, SPEC, ZERO
                ),
            )
            job_id = int(escrow.functions.job_count().call())
            fee_bps = int(escrow.functions.fee_bps().call())
            milestone = [amount, 0, 0, 0, 0, ZERO32]
            job = [
                client_addr,
                guild.address,
                token.address,
                ZERO,
                deadline,
                DAY,
                fee_bps,
                SPEC,
                ZERO,
                0,
                [milestone],
            ]
            chain.transact(lead_key, guild.functions.propose_take(job_id, ZERO32, [lead]))
            pid = int(guild.functions.proposal_count().call())
            chain.transact(lead_key, guild.functions.vote(pid, True))
            chain.transact(lead_key, guild.functions.take(pid, job_id, job))
            deliverable = bytes.fromhex("33" * 32)
            receipt = chain.transact(lead_key, guild.functions.submit(job_id, job, 0, deliverable))
            block = chain.web3.eth.get_block(receipt.block_number)
            job[10] = [[amount, 0, 1, 0, int(block["timestamp"]), deliverable]]
            chain.transact(client, escrow.functions.approve(job_id, job, 0))

        def split_gas(amount: int) -> int:
            job_paid_to_guild(amount)
            return chain.transact(owner, guild.functions.split()).gas_used

        def claim_gas(key: bytes, address: str) -> int:
            due = int(guild.functions.claimable(address).call())
            return chain.transact(key, guild.functions.claim(due // 2)).gas_used

        small = [split_gas(1_000 * USD), split_gas(777 * USD + 3)]
        first_claim = claim_gas(founders[1][0], founders[1][1])
        claim_gas(founders[2][0], founders[2][1])  # its first claim too
        small_claims = [claim_gas(f[0], f[1]) for f in founders[1:]]

        admit_gas = 0
        members = list(founders)
        while len(members) < BIG:
            key, address, evidence = member()
            gas = chain.transact(key, guild.functions.propose_admission(1, [evidence])).gas_used
            pid = int(guild.functions.proposal_count().call())
            gas += chain.transact(lead_key, guild.functions.vote(pid, True)).gas_used
            gas += chain.transact(lead_key, guild.functions.execute(pid)).gas_used
            admit_gas = max(admit_gas, gas)
            members.append((key, address, evidence))
        assert int(guild.functions.member_count().call()) == BIG
        large = [split_gas(5_000 * USD + 11), split_gas(123 * USD + 7)]
        claimers = [members[1], members[2], members[BIG - 1]]
        claim_gas(members[BIG - 1][0], members[BIG - 1][1])  # its first claim: a fresh token balance
        large_claims = [claim_gas(m[0], m[1]) for m in claimers]

        # every unit accounted for: what the guild holds is what is claimable plus the carry
        held = int(token.functions.balanceOf(guild.address).call())
        owed = sum(int(guild.functions.claimable(m[1]).call()) for m in members)
        assert held == owed + int(guild.functions.carry().call()), (held, owed)

    split = max(small + large)
    claim = max(small_claims + large_claims)
    figures = {
        "guild_split_gas": split,
        "guild_claim_gas": claim,
        "guild_first_claim_gas": first_claim,
        "split_gas_3_members": small,
        "split_gas_100_members": large,
        "claim_gas_3_members": small_claims,
        "claim_gas_100_members": large_claims,
        "guild_deploy_gas": deploy_gas,
        "guild_admit_gas": admit_gas,
        "guild_split_limit": SPLIT_LIMIT,
        "guild_claim_limit": CLAIM_LIMIT,
        "within_limits": split <= SPLIT_LIMIT and claim <= CLAIM_LIMIT,
        "measured_at": int(time.time()),
    }
    for key, value in figures.items():
        print(f"  {key:<24} {value}")
    print(json.dumps(figures))
    return 0 if figures["within_limits"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
