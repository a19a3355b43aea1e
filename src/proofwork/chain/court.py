"""Handles of the court family: `Court` (ERC-792 court of staked jurors) and `EscrowArbitrable` (the
adapter that is a plain job's arbiter and opens its cases at an ERC-792 arbitrator), plus the vote
commitment both sides compute (`court_values`, re-exported). The court token is an ERC-20
(`tokens.TokenContract`)."""

from __future__ import annotations

from typing import Any

from web3 import Web3

from proofwork.chain.artifacts import Artifact
from proofwork.chain.client import Chain
from proofwork.chain.court_values import (
    REVEALED_BELOW,
    AppealFunding,
    Case,
    DisputeState,
    RoundInfo,
    Seat,
    derive_salt,
    extra_data,
    vote_commitment,
)
from proofwork.chain.encoding import job_tuple
from proofwork.chain.events import ContractHandle, check_id
from proofwork.chain.receipts import Receipt
from proofwork.domain import court as C
from proofwork.domain import job as J

__all__ = [
    "REVEALED_BELOW",
    "AppealFunding",
    "ArbitrableContract",
    "Case",
    "CourtContract",
    "DisputeState",
    "RoundInfo",
    "Seat",
    "derive_salt",
    "extra_data",
    "vote_commitment",
]


class CourtContract(ContractHandle):
    """`Court`: staking, draws, commit-reveal votes, periods, appeals, rewards."""

    # --- reads ---------------------------------------------------------------------------------

    def dispute_count(self) -> int:
        return int(self.chain.call(self.contract.functions.dispute_count()))

    def state(self, dispute: int) -> DisputeState:
        check_id(dispute, "dispute id")
        fns = self.contract.functions
        arbitrable, choices, token, fee, ruled = self.chain.call(fns.dispute_info(dispute))
        period, round_, start = self.chain.call(fns.dispute_clock(dispute))
        ruling = int(self.chain.call(fns.currentRuling(dispute)))
        return DisputeState(
            dispute,
            str(arbitrable),
            int(choices),
            str(token),
            int(fee),
            bool(ruled),
            C.Period(int(period)),
            int(round_),
            int(start),
            ruling,
        )

    def round_info(self, dispute: int, round_: int) -> RoundInfo:
        raw = self.chain.call(self.contract.functions.round_info(dispute, round_))
        return RoundInfo(int(raw[0]), int(raw[1]), int(raw[2]), int(raw[3]), bool(raw[4]))

    def vote_of(self, dispute: int, round_: int, seat: int) -> int:
        return int(self.chain.call(self.contract.functions.vote_of(dispute, round_, seat)))

    def draw_block(self, dispute: int) -> int:
        """The block whose hash draws the current round's panel: 0 until armed and once drawn."""
        return int(self.chain.call(self.contract.functions.draw_block(dispute)))

    def draw_pending(self) -> bool:
        """Whether an armed draw waits: stake, unstake and distribute revert ("court: draw pending")."""
        return bool(self.chain.call(self.contract.functions.draw_pending()))

    def armed_draws(self) -> list[tuple[int, int, int]]:
        """(dispute, round, draw block) of every DrawArmed event, oldest first."""
        return [
            (int(e.args["_disputeID"]), int(e.args["_round"]), int(e.args["_drawBlock"]))
            for e in self.events("DrawArmed")
        ]

    def appeal_cost(self, dispute: int, extra: bytes = b"") -> int:
        return int(self.chain.call(self.contract.functions.appealCost(dispute, extra)))

    def appeal_period(self, dispute: int) -> tuple[int, int]:
        start, end = self.chain.call(self.contract.functions.appealPeriod(dispute))
        return int(start), int(end)

    def arbitration_cost(self, extra: bytes) -> int:
        return int(self.chain.call(self.contract.functions.arbitrationCost(extra)))

    def weight(self, juror: str) -> int:
        return int(self.chain.call(self.contract.functions.weight(Web3.to_checksum_address(juror))))

    def locked(self, juror: str) -> int:
        return int(self.chain.call(self.contract.functions.locked(Web3.to_checksum_address(juror))))

    def stake_balance(self, juror: str) -> int:
        return int(self.chain.call(self.contract.functions.stake_balance(Web3.to_checksum_address(juror))))

    def credit(self, owner: str, token: str) -> int:
        fn = self.contract.functions.credit(Web3.to_checksum_address(owner), Web3.to_checksum_address(token))
        return int(self.chain.call(fn))

    def total_stake(self) -> int:
        return int(self.chain.call(self.contract.functions.total_stake()))

    def panel(self, dispute: int, round_: int) -> list[Seat]:
        """A round's panel, seat by seat, rebuilt from the Draw events."""
        seats = [
            Seat(dispute, round_, int(e.args["_position"]), str(e.args["_juror"]))
            for e in self.events("Draw", subject=dispute)
            if int(e.args["_round"]) == round_
        ]
        return sorted(seats, key=lambda s: s.position)

    def seats_of(self, juror: str) -> list[Seat]:
        """Every seat the juror was drawn to, in every dispute (Draw events, juror is indexed)."""
        topic = self._by_name["Draw"]
        juror_topic = "0x" + bytes(12).hex() + Web3.to_checksum_address(juror)[2:].lower()
        logs = self.chain.get_logs(self.address, [topic, None, juror_topic], self.deploy_block)
        out = []
        for log in logs:
            e = self._decode(log)
            out.append(
                Seat(int(e.args["_disputeID"]), int(e.args["_round"]), int(e.args["_position"]), juror)
            )
        return out

    # --- writes --------------------------------------------------------------------------------

    def stake(self, key: bytes, amount: int) -> Receipt:
        return self.chain.transact(key, self.contract.functions.stake(amount))

    def unstake(self, key: bytes, amount: int) -> Receipt:
        return self.chain.transact(key, self.contract.functions.unstake(amount))

    def withdraw_stake(self, key: bytes) -> Receipt:
        return self.chain.transact(key, self.contract.functions.withdraw_stake())

    def withdraw(self, key: bytes, token: str) -> Receipt:
        return self.chain.transact(key, self.contract.functions.withdraw(Web3.to_checksum_address(token)))

    def pass_period(self, key: bytes, dispute: int) -> Receipt:
        # estimated in the pending block: a draw must land in a later block than the one that armed it
        return self.chain.transact(key, self.contract.functions.pass_period(dispute), pending=True)

    def commit(self, key: bytes, seat: Seat, panel: list[str], commitment: bytes) -> Receipt:
        fn = self.contract.functions.commit(seat.dispute, seat.position, _addresses(panel), commitment)
        return self.chain.transact(key, fn)

    def reveal(self, key: bytes, seat: Seat, panel: list[str], choice: int, salt: bytes) -> Receipt:
        fn = self.contract.functions.reveal(seat.dispute, seat.position, _addresses(panel), choice, salt)
        return self.chain.transact(key, fn)

    def execute_ruling(self, key: bytes, dispute: int) -> Receipt:
        return self.chain.transact(key, self.contract.functions.execute_ruling(dispute))

    def distribute(self, key: bytes, dispute: int, round_: int, panel: list[str]) -> Receipt:
        fn = self.contract.functions.distribute(dispute, round_, _addresses(panel))
        return self.chain.transact(key, fn)


class ArbitrableContract(ContractHandle):
    """`EscrowArbitrable`: cases of escrow milestones, fees, settlement, evidence, appeals, execution."""

    def __init__(self, chain: Chain, artifact: Artifact, address: str, deploy_block: int = 0) -> None:
        super().__init__(chain, artifact, address, deploy_block)
        self._static: dict[str, Any] = {}

    def _cached(self, name: str) -> Any:
        if name not in self._static:
            self._static[name] = self.chain.call(getattr(self.contract.functions, name)())
        return self._static[name]

    @property
    def arbitrator(self) -> str:
        return str(self._cached("arbitrator"))

    @property
    def escrow(self) -> str:
        return str(self._cached("escrow"))

    @property
    def fee_timeout(self) -> int:
        return int(self._cached("FEE_TIMEOUT"))

    @property
    def jurors(self) -> int:
        return int(self._cached("JURORS"))

    def case_count(self) -> int:
        return int(self.chain.call(self.contract.functions.case_count()))

    def case(self, case_id: int) -> Case:
        raw = self.chain.call(self.contract.functions.cases(check_id(case_id, "case id")))
        return Case(
            case_id,
            int(raw[0]),
            int(raw[1]),
            str(raw[2]),
            str(raw[3]),
            str(raw[4]),
            int(raw[5]),
            C.CaseStatus(int(raw[6])),
            int(raw[7]),
            int(raw[8]),
            int(raw[9]),
            int(raw[10]),
            bool(raw[11]),
            int(raw[12]),
            str(raw[13]),
            int(raw[14]),
        )

    def case_of(self, job_id: int, milestone: int) -> int:
        return int(self.chain.call(self.contract.functions.case_of(job_id, milestone)))

    def case_of_dispute(self, dispute: int) -> int:
        return int(self.chain.call(self.contract.functions.case_of_dispute(dispute)))

    def fee_due(self, case_id: int) -> int:
        return int(self.chain.call(self.contract.functions.fee_due(case_id)))

    def extra_data(self, case_id: int) -> bytes:
        return bytes(self.chain.call(self.contract.functions.extra_data(case_id)))

    def appeal_funding(self, case_id: int) -> AppealFunding:
        raw = self.chain.call(self.contract.functions.appeal_funding(check_id(case_id, "case id")))
        return AppealFunding(int(raw[0]), int(raw[1]), int(raw[2]), int(raw[3]), bool(raw[4]), bool(raw[5]))

    def appeal_requirement(self, case_id: int, party: str) -> int:
        """What `party` must pay now to fund its side of an appeal (max uint: no appeal possible)."""
        fn = self.contract.functions.appeal_requirement(case_id, Web3.to_checksum_address(party))
        return int(self.chain.call(fn))

    def appeal_window(self, case_id: int, party: str) -> tuple[int, int]:
        """[start, end) in which `party` may fund (the loser: the first half of the period)."""
        fn = self.contract.functions.appeal_window(case_id, Web3.to_checksum_address(party))
        start, end = self.chain.call(fn)
        return int(start), int(end)

    def claimable(self, token: str, account: str) -> int:
        fn = self.contract.functions.claimable(
            Web3.to_checksum_address(token), Web3.to_checksum_address(account)
        )
        return int(self.chain.call(fn))

    # --- writes --------------------------------------------------------------------------------

    def open_case(self, key: bytes, job: J.Job, milestone: int, meta_uri: str) -> Receipt:
        fn = self.contract.functions.open_case(job.job_id, job_tuple(job), milestone, meta_uri)
        return self.chain.transact(key, fn)

    def pay_fee(self, key: bytes, case_id: int, job: J.Job) -> Receipt:
        return self.chain.transact(key, self.contract.functions.pay_fee(case_id, job_tuple(job)))

    def timeout_by_default(self, key: bytes, case_id: int, job: J.Job) -> Receipt:
        return self.chain.transact(key, self.contract.functions.timeout_by_default(case_id, job_tuple(job)))

    def propose_settlement(self, key: bytes, case_id: int, bps: int) -> Receipt:
        return self.chain.transact(key, self.contract.functions.propose_settlement(case_id, bps))

    def accept_settlement(self, key: bytes, case_id: int, job: J.Job, bps: int) -> Receipt:
        fn = self.contract.functions.accept_settlement(case_id, job_tuple(job), bps)
        return self.chain.transact(key, fn)

    def submit_evidence(self, key: bytes, case_id: int, uri: str) -> Receipt:
        return self.chain.transact(key, self.contract.functions.submit_evidence(case_id, uri))

    def fund_appeal(self, key: bytes, case_id: int) -> Receipt:
        return self.chain.transact(key, self.contract.functions.fund_appeal(case_id))

    def execute_ruling(self, key: bytes, case_id: int, job: J.Job) -> Receipt:
        return self.chain.transact(key, self.contract.functions.execute_ruling(case_id, job_tuple(job)))

    def withdraw(self, key: bytes, token: str) -> Receipt:
        return self.chain.transact(key, self.contract.functions.withdraw(Web3.to_checksum_address(token)))


def _addresses(panel: list[str]) -> list[str]:
    return [Web3.to_checksum_address(a) for a in panel]
