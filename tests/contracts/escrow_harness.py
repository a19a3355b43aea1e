"""Drives a deployed JobEscrow and its reference model side by side.

Every call goes through `EscrowHarness._run`: the model predicts the outcome on a
clone of its state; a predicted revert must happen on chain with the same reason
and change nothing; a predicted success must emit exactly the predicted escrow
events and token transfers and return the predicted value. After each success the
job's stored hash is checked against the model's own (keccak256 of the ABI-encoded state,
computed in Python), and every account's credited payments (`claimable`) against the model's.

Tests can pin the expected outcome with `expect=OK` or `expect="escrow: ..."`, so
a disagreement between the test's expectation, the model and the chain fails.
"""

from __future__ import annotations

import contextlib
import copy
from collections import Counter
from dataclasses import dataclass

import boa
from escrow_model import (
    ZERO32,
    ZERO_ADDRESS,
    EscrowModel,
    Outcome,
    Revert,
    norm,
    same,
)
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

OK = object()  # expect=OK: the call must succeed

DAY = 86_400
SPEC = keccak(b"spec: fine-tune a sentiment model")
DOMAIN_NAME = "proofwork JobEscrow"
DOMAIN_VERSION = "1"

_DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def chain_id() -> int:
    return boa.env.evm.patch.chain_id


def now() -> int:
    return boa.env.timestamp


def _typed(domain: dict, primary: str, fields: list[dict], message: dict) -> dict:
    return {
        "types": {"EIP712Domain": _DOMAIN_FIELDS, primary: fields},
        "primaryType": primary,
        "domain": domain,
        "message": message,
    }


def escrow_domain(escrow, chain: int | None = None, name: str = DOMAIN_NAME) -> dict:
    return {
        "name": name,
        "version": DOMAIN_VERSION,
        "chainId": chain_id() if chain is None else chain,
        "verifyingContract": str(escrow.address),
    }


def apply_message(escrow, job_id: int, applicant: str, proposal: bytes, **domain_kw) -> dict:
    return _typed(
        escrow_domain(escrow, **domain_kw),
        "Apply",
        [
            {"name": "jobId", "type": "uint256"},
            {"name": "applicant", "type": "address"},
            {"name": "proposal", "type": "bytes32"},
        ],
        {"jobId": job_id, "applicant": str(applicant), "proposal": proposal},
    )


def submit_message(
    escrow, job_id: int, milestone: int, deliverable: bytes, state: bytes, **domain_kw
) -> dict:
    return _typed(
        escrow_domain(escrow, **domain_kw),
        "Submit",
        [
            {"name": "jobId", "type": "uint256"},
            {"name": "milestone", "type": "uint256"},
            {"name": "deliverable", "type": "bytes32"},
            {"name": "state", "type": "bytes32"},
        ],
        {"jobId": job_id, "milestone": milestone, "deliverable": deliverable, "state": state},
    )


def digest_of(message: dict) -> bytes:
    signable = encode_typed_data(full_message=message)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def sign(account, message: dict) -> bytes:
    return bytes(account.sign_message(encode_typed_data(full_message=message)).signature)


def compact(signature: bytes) -> bytes:
    """EIP-2098 64-byte form of a 65-byte signature."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    if v == 28:
        s |= 1 << 255
    return r + s.to_bytes(32, "big")


def permit_signature(account, token, spender: str, value: int, deadline: int, nonce: int | None = None):
    """EIP-2612 permit (v, r, s) of `account` for `token`."""
    if nonce is None:
        nonce = token.nonces(account.address)
    _, name, version, chain, verifying, _, _ = token.eip712Domain()
    message = {
        "types": {
            "EIP712Domain": _DOMAIN_FIELDS,
            "Permit": [
                {"name": "owner", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "Permit",
        "domain": {"name": name, "version": version, "chainId": chain, "verifyingContract": str(verifying)},
        "message": {
            "owner": account.address,
            "spender": str(spender),
            "value": value,
            "nonce": nonce,
            "deadline": deadline,
        },
    }
    signed = account.sign_message(encode_typed_data(full_message=message))
    return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")


def new_account(label: str):
    return Account.from_key(keccak(text=f"proofwork test account {label}"))


def addr(x) -> str:
    """Address of an eth_account account, a contract or a plain address."""
    if hasattr(x, "address"):
        return str(x.address)
    return str(x)


@dataclass
class Outflow:
    job_id: int | None  # None for fee withdrawals
    token: str
    receiver: str
    amount: int
    function: str


def _decoded(log) -> tuple[str, dict]:
    fields = log._asdict()
    fields.pop("address")
    return type(log).__name__, {k: norm(v) for k, v in fields.items()}


def _expected(events: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    return [(name, {k: norm(v) for k, v in fields.items()}) for name, fields in events]


class EscrowHarness:
    """A JobEscrow deployment plus its model; see the module docstring."""

    def __init__(self, escrow, token, owner: str):
        assert escrow.job_count() == 0, "the harness must start from a fresh escrow"
        self.escrow = escrow
        self.token = token
        self.model = EscrowModel(owner=addr(owner), treasury=str(escrow.treasury()), fee_bps=escrow.fee_bps())
        self.outflows: list[Outflow] = []
        self.calls = 0
        self.last_logs: list = []
        self.stats: Counter = Counter()  # (function, "ok" or revert reason) -> calls

    # ------------------------------------------------------------- plumbing

    def state(self, job_id: int) -> tuple:
        return self.model.jobs[job_id].as_tuple()

    def job(self, job_id: int):
        return self.model.jobs[job_id]

    @contextlib.contextmanager
    def rollback(self):
        """Runs a block on chain and model, then restores both."""
        saved = (copy.deepcopy(self.model), list(self.outflows), Counter(self.stats))
        with boa.env.anchor():
            try:
                yield
            finally:
                self.model, self.outflows, self.stats = saved

    def _run(self, name: str, predict, call, *, job_id=None, token=None, expect=None):
        """Predicts with the model, runs on chain, compares. Returns the chain's return value."""
        trial = self.model.clone()
        try:
            outcome: Outcome = predict(trial)
            error = None
        except Revert as exc:
            error = exc.reason
        if expect is OK:
            assert error is None, f"{name}: model predicts revert {error!r}, test expects success"
        elif expect is not None:
            assert error == expect, f"{name}: model predicts {error!r}, test expects revert {expect!r}"
        self.calls += 1
        self.stats[(name, "ok" if error is None else error)] += 1
        if error is not None:
            before = self.escrow.job_state(job_id) if job_id is not None else None
            with boa.reverts(error) if error else boa.reverts():
                call()
            if job_id is not None:
                assert self.escrow.job_state(job_id) == before
            return None
        result = call()
        logs = self.escrow.get_logs()
        self.last_logs = logs
        self._check_logs(name, logs, outcome, job_id, token)
        if outcome.value is not None:
            assert result == outcome.value, f"{name}: returned {result}, model says {outcome.value}"
        self.model = trial
        if job_id is not None:
            self.check_job(job_id)
        tok = (
            token if token is not None else (self.model.jobs[job_id].token if job_id else self.token.address)
        )
        assert self.escrow.fees_owed(tok) == self.model.fees(tok)
        for ev, fields in outcome.events:
            if ev in ("PaymentCredited", "Withdrawn"):
                who = fields["account"]
                assert self.escrow.claimable(tok, who) == self.model.claimable(tok, who), f"{name}: claimable"
        return result

    def _check_logs(self, name, logs, outcome: Outcome, job_id, token) -> None:
        escrow_addr = norm(str(self.escrow.address))
        if token is None:
            token = self.model.jobs[job_id].token if job_id is not None else self.token.address
        token_addr = norm(str(token))
        events = [_decoded(lg) for lg in logs if norm(str(lg.address)) == escrow_addr]
        assert events == _expected(outcome.events), f"{name}: events {events} != {outcome.events}"
        for ev, fields in events:
            if ev == "PaymentCredited":  # a payment of the job kept for its receiver: it left the job
                self.outflows.append(
                    Outflow(job_id, token_addr, fields["account"], fields["amount"], f"{name}:credited")
                )
        out, pulled = [], []
        for lg in logs:
            if type(lg).__name__ != "Transfer":
                continue
            assert norm(str(lg.address)) == token_addr, f"{name}: transfer of an unexpected token {lg}"
            if norm(str(lg.sender)) == escrow_addr:
                out.append((norm(str(lg.receiver)), lg.value))
                self.outflows.append(Outflow(job_id, token_addr, str(lg.receiver), lg.value, name))
            if norm(str(lg.receiver)) == escrow_addr:
                pulled.append((norm(str(lg.sender)), lg.value))
        assert out == [(norm(str(to)), v) for to, v in outcome.transfers], (
            f"{name}: transfers {out} != {outcome.transfers}"
        )
        assert pulled == [(norm(str(fr)), v) for fr, v in outcome.pulled], (
            f"{name}: pulled {pulled} != {outcome.pulled}"
        )

    def events(self) -> list[tuple[str, dict]]:
        """Escrow events of the last successful call, as (name, fields)."""
        escrow_addr = norm(str(self.escrow.address))
        return [_decoded(lg) for lg in self.last_logs if norm(str(lg.address)) == escrow_addr]

    def token_transfers(self) -> list[tuple[str, str, int]]:
        """Token transfers of the last successful call, as (from, to, value), lower-case addresses."""
        return [
            (norm(str(lg.sender)), norm(str(lg.receiver)), lg.value)
            for lg in self.last_logs
            if type(lg).__name__ == "Transfer"
        ]

    def check_job(self, job_id: int) -> None:
        stored = self.escrow.job_state(job_id)
        job = self.model.jobs[job_id]
        assert stored == job.hash(), f"job {job_id}: stored hash differs from the model"

    def check_all(self) -> None:
        assert self.escrow.job_count() == self.model.job_count
        for job_id in self.model.jobs:
            assert self.escrow.job_state(job_id) == self.model.jobs[job_id].hash(), f"job {job_id} hash"

    # ------------------------------------------------------------- creation

    def create_job(
        self,
        client,
        amounts,
        *,
        freelancer=ZERO_ADDRESS,
        token=None,
        deadline=None,
        review_period=DAY,
        spec_hash=SPEC,
        arbiter=ZERO_ADDRESS,
        expect=None,
        permit=None,
        fund=True,
    ):
        """Creates a job as `client`. `fund` mints and approves the budget first;
        `permit=(permit_deadline, v, r, s)` uses create_job_with_permit instead."""
        token = self.token if token is None else token
        client, freelancer, arbiter = addr(client), addr(freelancer), addr(arbiter)
        deadline = now() + 10 * DAY if deadline is None else deadline
        amounts = list(amounts)
        if fund:
            token.mint(client, sum(amounts), sender=self.model.owner)
            if permit is None:
                token.approve(self.escrow.address, sum(amounts), sender=client)
        is_contract = len(boa.env.get_code(addr(token))) > 0
        t = now()

        def predict(m: EscrowModel):
            return m.create_job(
                client,
                addr(token),
                freelancer,
                amounts,
                deadline,
                review_period,
                spec_hash,
                arbiter,
                t,
                is_contract,
            )

        def call():
            args = (addr(token), freelancer, amounts, deadline, review_period, spec_hash, arbiter)
            if permit is None:
                return self.escrow.create_job(*args, sender=client)
            return self.escrow.create_job_with_permit(*args, *permit, sender=client)

        job_id = self._run("create_job", predict, call, token=addr(token), expect=expect)
        if job_id is not None:
            self.check_job(job_id)
        return job_id

    # ------------------------------------------------------- applications

    def apply(self, applicant, job_id, proposal=b"\x11" * 32, *, state=None, expect=None):
        applicant = addr(applicant)
        st = self._state(job_id, state)
        self._run(
            "apply",
            lambda m: m.apply(job_id, st, applicant, proposal),
            lambda: self.escrow.apply(job_id, st, proposal, sender=applicant),
            job_id=self._known(job_id),
            expect=expect,
        )
        if expect is OK or (expect is None and self.model.has_applied(job_id, applicant)):
            assert self.escrow.applied(job_id, applicant)

    def apply_with_sig(
        self,
        relayer,
        job_id,
        applicant,
        proposal=b"\x12" * 32,
        *,
        signature=None,
        sig_ok=True,
        state=None,
        expect=None,
    ):
        """`applicant` is an eth_account account (signs here) unless `signature` is given."""
        if signature is None:
            signature = sign(applicant, apply_message(self.escrow, job_id, addr(applicant), proposal))
        who = addr(applicant)
        st = self._state(job_id, state)
        self._run(
            "apply_with_sig",
            lambda m: m.apply_with_sig(job_id, st, who, proposal, sig_ok),
            lambda: self.escrow.apply_with_sig(job_id, st, who, proposal, signature, sender=addr(relayer)),
            job_id=self._known(job_id),
            expect=expect,
        )

    def assign(self, sender, job_id, freelancer, *, state=None, expect=None):
        sender, freelancer = addr(sender), addr(freelancer)
        st = self._state(job_id, state)
        self._run(
            "assign",
            lambda m: m.assign(sender, job_id, st, freelancer),
            lambda: self.escrow.assign(job_id, st, freelancer, sender=sender),
            job_id=self._known(job_id),
            expect=expect,
        )

    # -------------------------------------------------------- deliveries

    def submit(self, sender, job_id, i, deliverable=None, *, state=None, expect=None):
        sender = addr(sender)
        deliverable = (
            keccak(f"deliverable {job_id}/{i}/{now()}".encode()) if deliverable is None else deliverable
        )
        st = self._state(job_id, state)
        t = now()
        self._run(
            "submit",
            lambda m: m.submit(sender, job_id, st, i, deliverable, t),
            lambda: self.escrow.submit(job_id, st, i, deliverable, sender=sender),
            job_id=self._known(job_id),
            expect=expect,
        )
        return deliverable

    def submit_signature(self, signer, job_id, i, deliverable, state_hash=None, **domain_kw) -> bytes:
        if state_hash is None:
            state_hash = self.model.jobs[job_id].hash()
        return sign(signer, submit_message(self.escrow, job_id, i, deliverable, state_hash, **domain_kw))

    def submit_with_sig(
        self, relayer, job_id, i, deliverable, signature, *, sig_ok=True, state=None, expect=None
    ):
        st = self._state(job_id, state)
        t = now()
        self._run(
            "submit_with_sig",
            lambda m: m.submit_with_sig(job_id, st, i, deliverable, t, sig_ok),
            lambda: self.escrow.submit_with_sig(job_id, st, i, deliverable, signature, sender=addr(relayer)),
            job_id=self._known(job_id),
            expect=expect,
        )

    # ---------------------------------------------------------- payments

    def approve(self, sender, job_id, i, *, state=None, expect=None):
        sender = addr(sender)
        st = self._state(job_id, state)
        self._run(
            "approve",
            lambda m: m.approve(sender, job_id, st, i),
            lambda: self.escrow.approve(job_id, st, i, sender=sender),
            job_id=self._known(job_id),
            expect=expect,
        )

    def pay_partial(self, sender, job_id, i, amount, *, state=None, expect=None):
        sender = addr(sender)
        st = self._state(job_id, state)
        self._run(
            "pay_partial",
            lambda m: m.pay_partial(sender, job_id, st, i, amount),
            lambda: self.escrow.pay_partial(job_id, st, i, amount, sender=sender),
            job_id=self._known(job_id),
            expect=expect,
        )

    def request_revision(self, sender, job_id, i, feedback=b"\x22" * 32, *, state=None, expect=None):
        sender = addr(sender)
        st = self._state(job_id, state)
        t = now()
        self._run(
            "request_revision",
            lambda m: m.request_revision(sender, job_id, st, i, feedback, t),
            lambda: self.escrow.request_revision(job_id, st, i, feedback, sender=sender),
            job_id=self._known(job_id),
            expect=expect,
        )

    def claim(self, sender, job_id, i, *, state=None, expect=None):
        st = self._state(job_id, state)
        t = now()
        self._run(
            "claim",
            lambda m: m.claim(job_id, st, i, t),
            lambda: self.escrow.claim(job_id, st, i, sender=addr(sender)),
            job_id=self._known(job_id),
            expect=expect,
        )

    def reclaim(self, sender, job_id, *, state=None, expect=None):
        sender = addr(sender)
        st = self._state(job_id, state)
        t = now()
        return self._run(
            "reclaim",
            lambda m: m.reclaim(sender, job_id, st, t),
            lambda: self.escrow.reclaim(job_id, st, sender=sender),
            job_id=self._known(job_id),
            expect=expect,
        )

    def cancel(self, sender, job_id, freelancer_amount, *, state=None, expect=None):
        sender = addr(sender)
        st = self._state(job_id, state)
        self._run(
            "cancel",
            lambda m: m.cancel(sender, job_id, st, freelancer_amount),
            lambda: self.escrow.cancel(job_id, st, freelancer_amount, sender=sender),
            job_id=self._known(job_id),
            expect=expect,
        )

    def raise_dispute(self, sender, job_id, i, *, state=None, expect=None):
        sender = addr(sender)
        st = self._state(job_id, state)
        t = now()
        self._run(
            "raise_dispute",
            lambda m: m.raise_dispute(sender, job_id, st, i, t),
            lambda: self.escrow.raise_dispute(job_id, st, i, sender=sender),
            job_id=self._known(job_id),
            expect=expect,
        )

    def resolve(self, sender, job_id, i, freelancer_amount, *, state=None, expect=None):
        sender = addr(sender)
        st = self._state(job_id, state)
        t = now()
        self._run(
            "resolve",
            lambda m: m.resolve(sender, job_id, st, i, freelancer_amount, t),
            lambda: self.escrow.resolve(job_id, st, i, freelancer_amount, sender=sender),
            job_id=self._known(job_id),
            expect=expect,
        )

    # ------------------------------------------------------------- admin

    def set_fee(self, sender, fee_bps, *, expect=None):
        sender = addr(sender)
        self._run(
            "set_fee",
            lambda m: m.set_fee(sender, fee_bps),
            lambda: self.escrow.set_fee(fee_bps, sender=sender),
            expect=expect,
        )
        assert self.escrow.fee_bps() == self.model.fee_bps

    def set_treasury(self, sender, treasury, *, expect=None):
        sender, treasury = addr(sender), addr(treasury)
        self._run(
            "set_treasury",
            lambda m: m.set_treasury(sender, treasury),
            lambda: self.escrow.set_treasury(treasury, sender=sender),
            expect=expect,
        )
        assert same(self.escrow.treasury(), self.model.treasury)

    def withdraw_fees(self, sender, token=None, *, expect=None):
        token = addr(self.token if token is None else token)
        return self._run(
            "withdraw_fees",
            lambda m: m.withdraw_fees(token),
            lambda: self.escrow.withdraw_fees(token, sender=addr(sender)),
            token=token,
            expect=expect,
        )

    def block(self, token, account, flag: bool = True) -> None:
        """Blocks (or unblocks) `account` on a BlocklistToken, in the token and in the model."""
        token.set_blocked(addr(account), flag, sender=self.model.owner)
        key = (norm(addr(token)), norm(addr(account)))
        if flag:
            self.model.blocked.add(key)
        else:
            self.model.blocked.discard(key)

    def set_quiet(self, token, flag: bool = True) -> None:
        """Makes a BlocklistToken answer blocked transfers with False (True) or a revert (False)."""
        token.set_quiet(flag, sender=self.model.owner)
        (self.model.quiet_tokens.add if flag else self.model.quiet_tokens.discard)(norm(addr(token)))

    def withdraw(self, sender, token=None, *, expect=None):
        """`sender` pulls its credited payments of `token` (the harness's token by default)."""
        token, sender = addr(self.token if token is None else token), addr(sender)
        return self._run(
            "withdraw",
            lambda m: m.withdraw(sender, token),
            lambda: self.escrow.withdraw(token, sender=sender),
            token=token,
            expect=expect,
        )

    # ----------------------------------------------------------- helpers

    def _state(self, job_id, state):
        if state is not None:
            return state
        if job_id in self.model.jobs:
            return self.state(job_id)
        # an unknown id: any well-formed state will do
        return next(iter(self.model.jobs.values())).as_tuple() if self.model.jobs else _dummy_state()

    def _known(self, job_id):
        return job_id if job_id in self.model.jobs else None


def _dummy_state() -> tuple:
    return (ZERO_ADDRESS, ZERO_ADDRESS, ZERO_ADDRESS, ZERO_ADDRESS, 0, 0, 0, ZERO32, ZERO_ADDRESS, 0, [])
