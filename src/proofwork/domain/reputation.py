"""Seeded, personalised EigenTrust over the graph of paid jobs.

Kamvar, Schlosser & Garcia-Molina, "The EigenTrust algorithm" (WWW 2003), personalised as in
REFERENCE.md section 2 (Cheng & Friedman 2005: no symmetric reputation function is Sybil-proof, so
trust must start from chosen seeds):

    t <- (1 - alpha) * C^T t + alpha * p

- An edge runs from a client to the freelancer it paid: paying is the client vouching for the work.
  C[c, f] = (sum of `edge_weight` over c's jobs paying f) / (sum of `edge_weight` over all c's jobs).
- p is the pre-trusted distribution (`seeds`, normalised): accredited issuers, known-honest clients.
- An account that never paid anyone (a "dangling" row, most freelancers) sends its mass to p, so the
  scores stay a probability distribution (they sum to 1).

Why this resists Sybils: mass only enters a set of accounts through edges from outside it or through
p. A ring of fake accounts paying one another with their own money, however large the amounts and
however many the jobs, can only recirculate what honest accounts paid into it; at alpha = 0.5 the ring's
total stays below (1 - alpha) / alpha = 1 times the trust its honest payers sent it, whatever its size.
Edges from the ring to honest accounts only let mass leak out of it.

Addresses are opaque keys: pass them normalised (e.g. all checksummed or all lower case).
Pure: numpy and scipy only.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from proofwork.domain.errors import InvalidInput

SCORE_ONE = 1_000_000  # fixed point of verified scores: 1e6 = 1.0
TOKEN_UNIT = 10**6  # units of one whole token (StableToken has 6 decimals)
UNVERIFIED_FACTOR = 0.5  # weight of paid work no oracle committee judged, relative to a perfect score


@dataclass(frozen=True)
class PaidJob:
    """One paid job milestone: `client` paid `freelancer` `amount` token units; `score` is the
    committee's verified score, None when no committee judged it. `uid` names the JobCompleted
    attestation it was read from, when it came from the chain."""

    job_id: int
    client: str
    freelancer: str
    amount: int
    score: int | None = None
    milestone: int = 0
    uid: str = ""


def _quality(score: int | None) -> float:
    if score is None:
        return UNVERIFIED_FACTOR
    return min(max(score / SCORE_ONE, 0.0), 1.0)


def edge_weight(job: PaidJob, unit: int = TOKEN_UNIT) -> float:
    """How much one paid job vouches for its freelancer: log1p(whole tokens paid) * quality.

    quality is the verified score clipped to [0, 1] when the oracle committee judged the job, and
    `UNVERIFIED_FACTOR` (0.5) otherwise: money paid without a check counts, but half as much as a
    perfect verified result, and a failed verified job (score 0) counts for nothing.

    The amount is log-damped because only proportions inside a client's row matter (C is row
    normalised), and raw amounts would let one large payment (cheap to stage with recycled or colluding
    money, which only costs fees) capture nearly all of a client's trust; with log1p a 10,000-token job
    weighs about 2x a 100-token one, so trust follows *how many* distinct jobs a client paid more than
    how much money moved. Zero-amount jobs weigh nothing.
    """
    return math.log1p(job.amount / unit) * _quality(job.score)


def _edge_weights(amounts: np.ndarray, scores: np.ndarray, verified: np.ndarray, unit: int) -> np.ndarray:
    quality = np.where(verified, np.clip(scores / SCORE_ONE, 0.0, 1.0), UNVERIFIED_FACTOR)
    return np.log1p(amounts / unit) * quality


class Reputation(Mapping[str, float]):
    """Scores by address (they sum to 1), the iteration count, and per-job explanations."""

    def __init__(
        self,
        addresses: list[str],
        scores: np.ndarray,
        iterations: int,
        converged: bool,
        alpha: float,
        jobs: list[PaidJob],
        clients: np.ndarray,
        freelancers: np.ndarray,
        weights: np.ndarray,
        out_weight: np.ndarray,
        seeds: np.ndarray | None = None,
        dangling: np.ndarray | None = None,
    ) -> None:
        self.addresses = addresses
        self.index = {a: i for i, a in enumerate(addresses)}
        self.scores = scores
        self.iterations = iterations
        self.converged = converged
        self.alpha = alpha
        self._jobs = jobs
        self._clients = clients
        self._freelancers = freelancers
        self._weights = weights
        self._out_weight = out_weight
        self._p = seeds if seeds is not None else np.zeros(len(addresses))
        self._dangling = dangling if dangling is not None else np.zeros(len(addresses), dtype=bool)

    def __getitem__(self, address: str) -> float:
        return float(self.scores[self.index[address]])

    def __iter__(self) -> Iterator[str]:
        return iter(self.addresses)

    def __len__(self) -> int:
        return len(self.addresses)

    def score(self, address: str) -> float:
        """The address's score; 0.0 for an address that is neither in the graph nor a seed."""
        i = self.index.get(address)
        return 0.0 if i is None else float(self.scores[i])

    def top(self, n: int = 10) -> list[tuple[str, float]]:
        order = np.argsort(-self.scores, kind="stable")[:n]
        return [(self.addresses[i], float(self.scores[i])) for i in order]

    def explain(self, address: str, top: int = 5) -> list[tuple[PaidJob, float]]:
        """The jobs that contribute most to `address`'s score, largest first.

        A job j from client c contributes (1 - alpha) * t[c] * C[c, f] * w_j / W(c -> f), which is
        (1 - alpha) * t[c] * w_j / W(c), W(c) the total weight c paid out. What is not explained by jobs
        is alpha * p[address], the seed share.
        """
        i = self.index.get(address)
        if i is None:
            return []
        rows = np.flatnonzero(self._freelancers == i)
        if rows.size == 0:
            return []
        c = self._clients[rows]
        contrib = (1.0 - self.alpha) * self.scores[c] * self._weights[rows] / self._out_weight[c]
        order = np.argsort(-contrib, kind="stable")[:top]
        return [(self._jobs[rows[k]], float(contrib[k])) for k in order]

    def seed_share(self, address: str) -> float:
        """The part of `address`'s score owed to being a seed: the teleport alpha * p, plus the trust
        of every account that paid no one (most freelancers), which flows back to the seeds:
        (alpha + (1 - alpha) * sum of their scores) * p[address]. With `explain`'s job contributions
        it adds up to the score."""
        i = self.index.get(address)
        if i is None:
            return 0.0
        back = float(self.scores[self._dangling].sum())
        return (self.alpha + (1.0 - self.alpha) * back) * float(self._p[i])


def _validate(jobs: Sequence[PaidJob], seeds: Mapping[str, float], alpha: float, max_iter: int) -> None:
    if not (isinstance(alpha, int | float) and 0.0 < alpha < 1.0):
        raise InvalidInput(f"alpha must be strictly between 0 and 1, got {alpha!r}")
    if max_iter < 1:
        raise InvalidInput(f"max_iter must be at least 1, got {max_iter!r}")
    if not seeds:
        raise InvalidInput("reputation needs at least one seed (a pre-trusted account)")
    for address, weight in seeds.items():
        if not isinstance(address, str) or not address:
            raise InvalidInput(f"seed address must be a non-empty string, got {address!r}")
        if not (isinstance(weight, int | float) and math.isfinite(weight) and weight >= 0):
            raise InvalidInput(f"seed weight for {address} must be finite and >= 0, got {weight!r}")
    if sum(seeds.values()) <= 0:
        raise InvalidInput("seed weights must not all be zero")
    for job in jobs:
        if not isinstance(job.amount, int) or isinstance(job.amount, bool) or job.amount < 0:
            raise InvalidInput(f"job {job.job_id}: amount must be a non-negative integer, got {job.amount!r}")
        if job.score is not None and (not isinstance(job.score, int) or isinstance(job.score, bool)):
            raise InvalidInput(f"job {job.job_id}: score must be an integer (1e6 = 1.0) or None")
        if not isinstance(job.client, str) or not job.client:
            raise InvalidInput(f"job {job.job_id}: client must be a non-empty address")
        if not isinstance(job.freelancer, str) or not job.freelancer:
            raise InvalidInput(f"job {job.job_id}: freelancer must be a non-empty address")


def compute_reputation(
    jobs: Sequence[PaidJob],
    seeds: Mapping[str, float],
    alpha: float = 0.5,
    tol: float = 1e-10,
    max_iter: int = 100,
    unit: int = TOKEN_UNIT,
) -> Reputation:
    """Personalised EigenTrust: power iteration of t <- (1-alpha) C^T t + alpha p until ||dt||_1 < tol.

    Self-payments (client == freelancer) are ignored: they move no money between parties and are the
    cheapest Sybil noise there is. Seeds that never appear in a job are still accounts (they hold
    alpha * p of the mass and send it all back to p). Raises InvalidInput on negative amounts, alpha
    outside (0, 1), empty or all-zero seeds. `converged` is False if max_iter was reached first.
    """
    _validate(jobs, seeds, alpha, max_iter)
    kept = [j for j in jobs if j.client != j.freelancer]

    # Addresses -> indices once. A dict is O(n) and several times faster than np.unique's sort on
    # millions of 42-character strings.
    index: dict[str, int] = {}
    for address in seeds:
        index.setdefault(address, len(index))
    clients = np.fromiter((index.setdefault(j.client, len(index)) for j in kept), np.int64, len(kept))
    freelancers = np.fromiter((index.setdefault(j.freelancer, len(index)) for j in kept), np.int64, len(kept))
    n = len(index)
    addresses = list(index)

    amounts = np.fromiter((float(j.amount) for j in kept), np.float64, len(kept))
    verified = np.fromiter((j.score is not None for j in kept), np.bool_, len(kept))
    scores = np.fromiter((0.0 if j.score is None else float(j.score) for j in kept), np.float64, len(kept))
    weights = _edge_weights(amounts, scores, verified, unit)

    out_weight = np.bincount(clients, weights=weights, minlength=n)
    dangling = out_weight <= 0
    safe_out = np.where(dangling, 1.0, out_weight)
    # C^T directly: row = freelancer, column = client; duplicates (several jobs c -> f) are summed.
    ct = sp.csr_matrix((weights / safe_out[clients], (freelancers, clients)), shape=(n, n))
    ct.sum_duplicates()

    p = np.zeros(n)
    for address, weight in seeds.items():
        p[index[address]] += float(weight)
    p /= p.sum()

    t = p.copy()
    iterations = 0
    converged = False
    for iterations in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        new = (1.0 - alpha) * (ct @ t + t[dangling].sum() * p) + alpha * p
        delta = np.abs(new - t).sum()
        t = new
        if delta < tol:
            converged = True
            break
    t /= t.sum()
    return Reputation(
        addresses, t, iterations, converged, alpha, kept, clients, freelancers, weights, safe_out, p, dangling
    )
