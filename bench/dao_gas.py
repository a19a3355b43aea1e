"""Gas of the proofwork DAO (contracts/governance/Governor.vy + Timelock.vy), from real receipts.

Runs on the embedded py-evm chain (web3.py, one block per transaction; 21k base and calldata
included). The contracts are compiled on the fly. Set-up: PWK (100M, the court's token,
unchanged), the JobEscrow (fee 2.5 %) owned by the Timelock (delay 1 day), the Governor (voting
delay 1 block, period 20 blocks, quorum 4 %, threshold 10,000 PWK); dev1..dev5 hold PWK and
delegate to themselves. One proposal cycle is first run as a warm-up (so the escrow's fee word
and the Timelock's set-up are as in steady state), then measured:

- propose: one call, `JobEscrow.set_fee(200)` (2.5 % -> 2 %), a one-line description;
- vote: the proposal's first vote, `castVote` (for) by a holder who never voted before (its
  voted-bitmap word is new: the dearer case);
- queue (schedules the call in the Timelock), execute (after the delay, the setter runs).

dao_cycle_gas = propose + vote + queue + execute.

vote_gas: a relayed `castVoteBySig` that is not the proposal's first, sent by dev0 for a holder
who voted on an earlier proposal (its bitmap word exists). The same relayed vote by a holder
who never voted before is printed too (`vote_by_sig_first_time_voter_gas`): it pays a new
storage word once per 256 proposals.

OpenZeppelin Governor 5.5 + TimelockController, same EVM (REFERENCE.md): propose 68,148,
castVote 83,423 (first) / 68,840 (later), queue 144,794, execute 95,078: 391,443 a cycle.

Usage: python bench/dao_gas.py. Last line: one JSON object.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_utils import keccak

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from proofwork.chain.compiler import ContractCompiler  # noqa: E402
from proofwork.sdk import Proofwork  # noqa: E402

E18 = 10**18
SUPPLY = 100_000_000 * E18
DAY = 86_400
VOTING_DELAY = 1
VOTING_PERIOD = 20
QUORUM_BPS = 400
THRESHOLD = 10_000 * E18
OZ = {"propose": 68_148, "first vote": 83_423, "later vote": 68_840, "queue": 144_794, "execute": 95_078}
OZ_CYCLE = 391_443


def ballot(governor: str, chain_id: int, proposal_id: int, support: int, voter: str) -> dict[str, Any]:
    """The EIP-712 Ballot a holder signs to vote without gas."""
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Ballot": [
                {"name": "proposalId", "type": "uint256"},
                {"name": "support", "type": "uint8"},
                {"name": "voter", "type": "address"},
            ],
        },
        "primaryType": "Ballot",
        "domain": {
            "name": "proofwork Governor",
            "version": "1",
            "chainId": chain_id,
            "verifyingContract": governor,
        },
        "message": {"proposalId": proposal_id, "support": support, "voter": voter},
    }


def measure() -> dict[str, int]:
    cache = Path(os.environ.get("PROOFWORK_CACHE_DIR", ROOT / ".cache" / "artifacts"))
    compiler = ContractCompiler(cache, ROOT / "contracts")
    art = {n: compiler.get(n) for n in ("CourtToken", "JobEscrow", "Timelock", "Governor")}
    with tempfile.TemporaryDirectory() as tmp, Proofwork.open(Path(tmp), None) as pw:
        chain = pw.ws.chain
        devs = [pw.signer(f"dev{i}") for i in range(8)]
        dev0 = devs[0]

        def deploy(name: str, *args: Any) -> Any:
            receipt = chain.deploy(dev0.key, art[name].abi, art[name].bytecode, *args)
            return chain.contract(art[name].abi, receipt.contract_address)

        pwk = deploy("CourtToken", SUPPLY)
        escrow = deploy("JobEscrow", dev0.address, 250)
        timelock = deploy("Timelock", DAY)
        governor = deploy(
            "Governor", pwk.address, timelock.address, VOTING_DELAY, VOTING_PERIOD, QUORUM_BPS, THRESHOLD
        )
        chain.transact(dev0.key, timelock.functions.set_governor(governor.address))
        chain.transact(dev0.key, timelock.functions.renounce_admin())
        chain.transact(dev0.key, escrow.functions.transfer_ownership(timelock.address))
        for holder in devs[1:6]:
            chain.transact(dev0.key, pwk.functions.transfer(holder.address, 5_000_000 * E18))
            chain.transact(holder.key, pwk.functions.delegate(holder.address))
        chain_id = chain.web3.eth.chain_id
        g = governor.functions

        def cycle(fee_bps: int, proposer: Any, voter: Any, extra_sig_voters: list[Any]) -> dict[str, int]:
            calldata = escrow.encode_abi("set_fee", args=[fee_bps])
            call = ([escrow.address], [0], [bytes.fromhex(calldata[2:])])
            description = f"Set the platform fee to {fee_bps / 100:g} %"
            figures: dict[str, int] = {}
            figures["propose"] = chain.transact(proposer.key, g.propose(*call, description)).gas_used
            pid = chain.call(g.hashProposal(proposer.address, *call, keccak(text=description)))
            chain.advance_time(1)  # the snapshot block passes
            figures["vote"] = chain.transact(voter.key, g.castVote(pid, 1)).gas_used
            for i, holder in enumerate(extra_sig_voters):
                signed = Account.sign_typed_data(
                    holder.key, full_message=ballot(governor.address, chain_id, pid, 1, holder.address)
                )
                fn = g.castVoteBySig(
                    pid, 1, holder.address, signed.v, signed.r.to_bytes(32), signed.s.to_bytes(32)
                )
                figures[f"vote by sig {i}"] = chain.transact(dev0.key, fn).gas_used
            for _ in range(VOTING_PERIOD):
                chain.advance_time(1)
            assert chain.call(g.state(pid)) == 4, "the proposal should have passed"
            description_hash = keccak(text=description)
            figures["queue"] = chain.transact(dev0.key, g.queue(pid)).gas_used
            chain.advance_time(DAY)
            figures["execute"] = chain.transact(
                dev0.key, g.execute(proposer.address, *call, description_hash)
            ).gas_used
            assert chain.call(escrow.functions.fee_bps()) == fee_bps
            return figures

        cycle(225, devs[1], devs[2], [devs[3]])  # warm-up: dev2 and dev3 vote for the first time
        measured = cycle(200, devs[1], devs[4], [devs[3], devs[5]])
        # dev3 voted on the warm-up proposal (returning voter); dev5 never voted before.
        return {
            "propose": measured["propose"],
            "vote": measured["vote"],
            "queue": measured["queue"],
            "execute": measured["execute"],
            "vote by sig (later vote, returning voter)": measured["vote by sig 0"],
            "vote by sig (later vote, first-time voter)": measured["vote by sig 1"],
        }


def main() -> int:
    figures = measure()
    print("[embedded py-evm] proofwork DAO (receipts, gas used)       OpenZeppelin 5.5 + timelock")
    reference = {
        "propose": OZ["propose"],
        "vote": OZ["first vote"],
        "queue": OZ["queue"],
        "execute": OZ["execute"],
        "vote by sig (later vote, returning voter)": OZ["later vote"],
        "vote by sig (later vote, first-time voter)": OZ["later vote"],
    }
    for step, gas in figures.items():
        print(f"  {step:<44} {gas:>9,}   {reference[step]:>9,}")
    cycle = figures["propose"] + figures["vote"] + figures["queue"] + figures["execute"]
    print(f"  {'cycle (propose + vote + queue + execute)':<44} {cycle:>9,}   {OZ_CYCLE:>9,}")
    print(
        json.dumps(
            {
                "dao_cycle_gas": cycle,
                "vote_gas": figures["vote by sig (later vote, returning voter)"],
                "vote_by_sig_first_time_voter_gas": figures["vote by sig (later vote, first-time voter)"],
                "propose_gas": figures["propose"],
                "cast_vote_first_gas": figures["vote"],
                "queue_gas": figures["queue"],
                "execute_gas": figures["execute"],
                "oz_cycle_gas_reference": OZ_CYCLE,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
