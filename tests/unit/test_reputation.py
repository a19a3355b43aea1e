"""Personalised EigenTrust over paid jobs: exact values on small graphs, explanations, Sybil rings."""

from __future__ import annotations

import numpy as np
import pytest

from proofwork.domain.errors import InvalidInput
from proofwork.domain.reputation import (
    SCORE_ONE,
    TOKEN_UNIT,
    PaidJob,
    compute_reputation,
    edge_weight,
)

TOKENS = TOKEN_UNIT


def dense_eigentrust(jobs, seeds, alpha, iters=2000):
    """The same formula written plainly: dense C, dangling rows to p, many iterations."""
    names = sorted({a for j in jobs for a in (j.client, j.freelancer)} | set(seeds))
    ix = {a: i for i, a in enumerate(names)}
    n = len(names)
    c = np.zeros((n, n))
    for j in jobs:
        if j.client != j.freelancer:
            c[ix[j.client], ix[j.freelancer]] += edge_weight(j)
    p = np.zeros(n)
    for a, w in seeds.items():
        p[ix[a]] = w
    p /= p.sum()
    rows = c.sum(axis=1)
    for i in range(n):
        c[i] = c[i] / rows[i] if rows[i] > 0 else p
    t = p.copy()
    for _ in range(iters):
        t = (1 - alpha) * c.T @ t + alpha * p
    return {a: t[ix[a]] for a in names}


def job(i, client, freelancer, tokens, score=SCORE_ONE):
    return PaidJob(job_id=i, client=client, freelancer=freelancer, amount=tokens * TOKENS, score=score)


def test_edge_weight_choices():
    assert edge_weight(job(1, "a", "b", 0)) == 0.0
    assert edge_weight(job(1, "a", "b", 99)) == pytest.approx(np.log(100))
    assert edge_weight(job(1, "a", "b", 99, score=None)) == pytest.approx(0.5 * np.log(100))
    assert edge_weight(job(1, "a", "b", 99, score=SCORE_ONE // 4)) == pytest.approx(0.25 * np.log(100))
    assert edge_weight(job(1, "a", "b", 99, score=-5)) == 0.0  # failed / worst score: nothing
    assert edge_weight(job(1, "a", "b", 99, score=3 * SCORE_ONE)) == pytest.approx(np.log(100))  # clipped
    # log damping: 100x the money is far less than 100x the weight
    assert edge_weight(job(1, "a", "b", 10_000)) < 2.1 * edge_weight(job(1, "a", "b", 100))


def test_chain_by_hand():
    # s (seed) pays a; a pays b; b pays nobody (dangling). alpha = 0.5.
    jobs = [job(1, "s", "a", 10), job(2, "a", "b", 10)]
    rep = compute_reputation(jobs, {"s": 1.0})
    # t_s = 0.5 + 0.5 * (t_b) ; t_a = 0.5 t_s ; t_b = 0.5 t_a  => t_s = 0.5 + t_s/8 => t_s = 4/7
    assert rep["s"] == pytest.approx(4 / 7, abs=1e-9)
    assert rep["a"] == pytest.approx(2 / 7, abs=1e-9)
    assert rep["b"] == pytest.approx(1 / 7, abs=1e-9)
    assert rep.converged and rep.iterations < 60
    assert sum(rep.values()) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("alpha", [0.15, 0.5, 0.85])
def test_matches_dense_reference(alpha):
    jobs = [
        job(1, "s1", "a", 10),
        job(2, "s1", "b", 1000, score=SCORE_ONE // 2),
        job(3, "s2", "b", 5, score=None),
        job(4, "a", "c", 50),
        job(5, "a", "b", 20),
        job(6, "a", "c", 70, score=None),  # second job on the same pair: weights add
        job(7, "c", "s1", 3),
        job(8, "b", "b", 10**6),  # self-payment: ignored
        job(9, "d", "a", 40),  # d is never paid and not a seed: its trust is zero
    ]
    seeds = {"s1": 2.0, "s2": 1.0, "e": 1.0}  # e appears in no job
    rep = compute_reputation(jobs, seeds, alpha=alpha, tol=1e-14, max_iter=1000)
    ref = dense_eigentrust(jobs, seeds, alpha)
    assert set(rep) == set(ref)
    for a, v in ref.items():
        assert rep[a] == pytest.approx(v, abs=1e-10), a
    assert sum(rep.values()) == pytest.approx(1.0, abs=1e-12)
    assert rep["d"] == pytest.approx(0.0, abs=1e-15)
    assert rep.score("nobody") == 0.0


def test_self_payments_change_nothing():
    base = [job(1, "s", "a", 10), job(2, "a", "b", 10)]
    noisy = [*base, job(3, "a", "a", 10**9), job(4, "b", "b", 10**9)]
    r1, r2 = compute_reputation(base, {"s": 1}), compute_reputation(noisy, {"s": 1})
    assert dict(r1) == pytest.approx(dict(r2))


def test_explain_top_jobs():
    jobs = [
        job(1, "s", "f", 10),  # s's row: weights log(11), log(101), log(11)
        job(2, "s", "g", 100),
        job(3, "s", "f", 10, score=None),  # half the weight of job 1
        job(4, "t", "f", 1000),  # t only pays f, but t has less trust than s
        job(5, "x", "f", 10**6),  # x has zero trust: contributes 0
        job(6, "s", "h", 10),
    ]
    rep = compute_reputation(jobs, {"s": 3.0, "t": 1.0}, tol=1e-14)
    explained = rep.explain("f", top=5)
    assert [j.job_id for j, _ in explained] == [4, 1, 3, 5]
    ws = [edge_weight(j) for j in jobs]
    out_s = ws[0] + ws[1] + ws[2] + ws[5]
    assert explained[1][1] == pytest.approx(0.5 * rep["s"] * ws[0] / out_s)
    assert explained[0][1] == pytest.approx(0.5 * rep["t"])
    assert explained[3][1] == 0.0
    # the jobs plus f's seed share (none) explain f's whole score
    assert sum(c for _, c in explained) == pytest.approx(rep["f"])
    assert [j.job_id for j, _ in rep.explain("f", top=2)] == [4, 1]
    assert rep.explain("s") == []  # nobody paid s
    assert rep.explain("unknown") == []


@pytest.mark.parametrize(
    ("jobs", "seeds", "alpha", "message"),
    [
        ([job(1, "s", "a", 1)], {}, 0.5, "seed"),
        ([job(1, "s", "a", 1)], {"s": 0.0}, 0.5, "zero"),
        ([job(1, "s", "a", 1)], {"s": -1.0}, 0.5, ">= 0"),
        ([job(1, "s", "a", 1)], {"s": float("nan")}, 0.5, "finite"),
        ([job(1, "s", "a", 1)], {"s": 1.0}, 0.0, "alpha"),
        ([job(1, "s", "a", 1)], {"s": 1.0}, 1.0, "alpha"),
        ([job(1, "s", "a", 1)], {"s": 1.0}, -0.2, "alpha"),
        ([PaidJob(7, "s", "a", -5, None)], {"s": 1.0}, 0.5, "job 7: amount"),
        ([PaidJob(7, "s", "a", 1.5, None)], {"s": 1.0}, 0.5, "job 7: amount"),  # type: ignore[arg-type]
        ([PaidJob(7, "", "a", 1, None)], {"s": 1.0}, 0.5, "client"),
        ([PaidJob(7, "s", "a", 1, 0.5)], {"s": 1.0}, 0.5, "score"),  # type: ignore[arg-type]
    ],
)
def test_bad_inputs(jobs, seeds, alpha, message):
    with pytest.raises(InvalidInput, match=message):
        compute_reputation(jobs, seeds, alpha=alpha)


def test_no_jobs_only_seeds():
    rep = compute_reputation([], {"s": 1.0, "t": 3.0})
    assert rep["s"] == pytest.approx(0.25) and rep["t"] == pytest.approx(0.75)


def test_max_iter_reported():
    jobs = [job(1, "s", "a", 10), job(2, "a", "s", 10)]
    rep = compute_reputation(jobs, {"s": 1.0}, alpha=0.01, tol=1e-15, max_iter=3)
    assert rep.iterations == 3 and not rep.converged
    assert sum(rep.values()) == pytest.approx(1.0)


# --- Sybil ring on a generated market ---------------------------------------------------------------


def honest_market(rng, n_clients=200, n_freelancers=500, n_jobs=6000):
    """Zipf-ish market; 15 % of jobs hire another client (agencies subcontract), so trust flows on."""
    clients = [f"c{i}" for i in range(n_clients)]
    freelancers = [f"f{i}" for i in range(n_freelancers)]
    pop = 1.0 / np.arange(1, n_freelancers + 1) ** 0.8
    pop /= pop.sum()
    jobs = []
    for k in range(n_jobs):
        c = clients[rng.integers(n_clients)]
        if rng.random() < 0.15:
            f = clients[rng.integers(n_clients)]
        else:
            f = freelancers[rng.choice(n_freelancers, p=pop)]
        tokens = int(rng.lognormal(np.log(200), 1.0)) + 1
        score = None if rng.random() < 0.3 else int(rng.uniform(0.6, 1.0) * SCORE_ONE)
        jobs.append(PaidJob(k, c, f, tokens * TOKENS, score))
    return clients, jobs


def sybil_scenario(seed=20260101, ring=100):
    rng = np.random.default_rng(seed)
    clients, jobs = honest_market(rng)
    seeds = {c: 1.0 for c in clients[:20]}
    next_id = len(jobs)
    # the honest freelancer: 10 jobs from 10 distinct real clients, ordinary amounts, verified
    hired_by = rng.choice(len(clients), size=10, replace=False)
    for c in hired_by:
        jobs.append(job(next_id, clients[c], "honest", 150, score=int(0.9 * SCORE_ONE)))
        next_id += 1
    # the ring: 100 accounts, a dense clique of self-funded, huge, perfectly verified jobs
    sybils = [f"sybil{i}" for i in range(ring)]
    for i, a in enumerate(sybils):
        for d in range(1, 21):  # each pays the next 20 around the ring, twice
            for _ in range(2):
                jobs.append(job(next_id, a, sybils[(i + d) % ring], 1_000_000))
                next_id += 1
        jobs.append(job(next_id, a, a, 10**9))  # and itself (ignored)
        next_id += 1
    # attack edges Sybil -> honest (a few), and one real job from a non-seed honest client to a Sybil
    for f in ("f0", "f1", "honest"):
        jobs.append(job(next_id, sybils[0], f, 10))
        next_id += 1
    payer = clients[20 + int(rng.integers(len(clients) - 20))]
    jobs.append(job(next_id, payer, sybils[1], 150))
    return jobs, seeds, sybils, payer


def test_ring_total_bounded_by_what_honest_accounts_paid_into_it():
    """Ring size and fake amounts do not matter: the ring holds at most inflow / alpha, inflow being what
    explain() credits to the jobs paid into it from outside (R = (1-a) R_kept + inflow)."""
    jobs, seeds, sybils, _payer = sybil_scenario()
    alpha = 0.5
    rep = compute_reputation(jobs, seeds, alpha=alpha, tol=1e-13)
    ring = set(sybils)
    inflow = sum(c for j, c in rep.explain(sybils[1], top=10_000) if j.client not in ring)
    ring_total = sum(rep.score(s) for s in sybils)
    assert inflow > 0
    assert ring_total <= inflow / alpha * (1 + 1e-9)  # R = (1-a) R_kept + inflow
    small_jobs, _, small_ring, _ = sybil_scenario(ring=30)
    small = compute_reputation(small_jobs, seeds, alpha=alpha, tol=1e-13)
    assert sum(small.score(s) for s in small_ring) == pytest.approx(ring_total, rel=0.05)


@pytest.mark.parametrize("market_seed", [20260101, 7, 99, 123456])
def test_self_funded_ring_gains_at_most_5_percent_of_an_honest_freelancer(market_seed):
    """The issue's target on generated markets: 100 fake accounts paying one another with self-funded,
    huge, perfectly verified jobs, and also hiring honest freelancers with real money, against one
    freelancer hired by 10 real clients. Nothing honest pays into the ring, so no trust reaches it."""
    jobs, seeds, sybils, payer = sybil_scenario(seed=market_seed)
    cut = [j for j in jobs if not (j.client == payer and j.freelancer in sybils)]
    rep = compute_reputation(cut, seeds)
    honest = rep["honest"]
    assert honest > 0
    ring_total = sum(rep.score(s) for s in sybils)
    assert ring_total <= 0.05 * honest
    assert ring_total == 0.0  # not merely small: personalised trust never reaches an unpaid ring


def test_job_contributions_and_seed_share_add_up_to_the_score():
    jobs = [
        job(1, "s", "a", 10),
        job(2, "s", "b", 30, score=int(0.8 * SCORE_ONE)),
        job(3, "a", "b", 5),
        job(4, "b", "s", 7),
        job(5, "a", "c", 12),
    ]
    rep = compute_reputation(jobs, {"s": 1.0, "c": 0.5}, tol=1e-14)
    for address in ("s", "a", "b", "c"):
        explained = sum(c for _, c in rep.explain(address, top=100)) + rep.seed_share(address)
        assert explained == pytest.approx(rep[address], rel=1e-9)
    assert rep.seed_share("a") == 0.0 and rep.seed_share("nobody") == 0.0
