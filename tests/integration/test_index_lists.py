"""The lists other than jobs, from the chain index: every contract event read back from the index is
the event the chain adapter decodes from the logs; JobCompleted attestations, reviews, badges, the
reputation graph and competitions (with their leaderboards) are the same from either source; a stale
index is not used, and the index answers again once it has caught up."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from proofwork.chain.encoding import labels_commitment, submission_commitment
from proofwork.chain.scores_tree import ScoresTree
from proofwork.db.index import IndexStore
from proofwork.services import attestations, badges, reputation
from proofwork.services.competitions import Competitions
from proofwork.services.event_reads import EventReader, contract_events
from proofwork.services.indexer import index_once
from proofwork.services.workspace import Workspace
from proofwork.storage.unixfs import cid_to_bytes
from tests.conftest import PostgresServer, chain_snapshot
from tests.integration.conftest import DAY, Market, _deployed, digest

ORACLES = [f"dev{i}" for i in range(6, 10)]


@dataclass
class ListsMarket:
    m: Market
    comp_id: int  # finalized: committed, revealed, ranked and paid
    open_comp: int  # entries committed, nothing revealed
    jobs: list[int]


def _signatures(ws: Workspace, sign: Any) -> list[bytes]:
    """Every committee member's signature, in ascending signer order (as the contract wants them)."""
    signers = sorted((ws.signer(o) for o in ORACLES), key=lambda s: int(s.address, 16))
    return [sign(s.key) for s in signers]


def _competition(m: Market, entrants: list[Any], *, finalize: bool) -> int:
    """A competition made straight through the contract, with the committee's signatures made here."""
    pw, ws = m.pw, m.pw.ws
    comps = ws.competitions
    spec_hash, salt = digest("spec"), digest("salt")
    labels_cid = cid_to_bytes(ws.store.add_bytes(b"labels " + os.urandom(8)))
    commitment = labels_commitment(labels_cid, salt, spec_hash)
    prize = pw.amount("100")
    ws.token.approve(m.client.key, comps.address, prize)
    receipt = comps.create(
        m.client.key,
        token=ws.token.address,
        prize=prize,
        spec_hash=spec_hash,
        commitment=commitment,
        deadline=pw.now() + DAY,
        reveal_period=DAY,
        daily_limit=3,
        entry_bond=pw.amount("1"),
        public_percent=30,
        prize_bps=[7000, 3000],
        min_score=0,
        higher_is_better=True,
        sealed_labels=cid_to_bytes(ws.store.add_bytes(b"sealed labels")),
    )
    comp_id = int(
        next(e for e in comps.receipt_events(receipt) if e.name == "CompetitionCreated").args["comp_id"]
    )
    message = comps.labels_message(comp_id, commitment)
    comps.confirm_labels(m.client.key, comp_id, _signatures(ws, lambda key: comps.sign_labels(key, message)))
    entries = []
    for who in entrants:
        ws.token.approve(who.key, comps.address, pw.amount("10"))
        cid = cid_to_bytes(ws.store.add_bytes(b"model " + os.urandom(8)))
        entry_salt = os.urandom(32)
        sealed = cid_to_bytes(ws.store.add_bytes(b"sealed " + os.urandom(8)))
        committed = comps.commit(
            who.key, comp_id, submission_commitment(cid, entry_salt, who.address), sealed
        )
        entry = int(comps.receipt_events(committed)[0].args["entry"])
        entries.append((who, entry, cid, entry_salt))
    if not finalize:
        return comp_id
    pw.advance_time(DAY + 1)
    for who, entry, cid, entry_salt in entries:
        comps.reveal(who.key, comp_id, entry, cid, entry_salt)
    pw.advance_time(DAY + 1)
    scores = [(entry, 900_000 - 100_000 * n) for n, (_, entry, _, _) in enumerate(entries)]
    tree = ScoresTree(scores)
    winners = scores[:2]
    final = comps.final_message(comp_id, tree.root, len(scores), winners, commitment)
    comps.finalize(
        m.client.key,
        comp_id,
        labels_cid,
        salt,
        tree.root,
        winners,
        _signatures(ws, lambda key: comps.sign_final(key, final)),
    )
    return comp_id


@pytest.fixture(scope="module")
def lists_market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ListsMarket]:
    """Paid jobs attested and reviewed, an accredited issuer's badge, a finalized competition and an
    open one, on the embedded chain."""
    with _deployed(None, "embedded", tmp_path_factory) as m:
        pw = m.pw
        pw.deploy_committee(ORACLES, f=1)
        pw.identity.deploy("dev0")
        pw.identity.create_issuer("wallet", "dev0")
        pw.identity.register_issuer("wallet")
        pw.identity.mint_badge("dev0", m.client.address, "org/verified-client")
        pw.identity.mint_badge("dev0", m.other.address, "org/verified-client")
        pw.fund(m.other.address, pw.amount("10000"))
        jobs = []
        for client, freelancer, budget in (
            (m.client, m.freelancer, "300"),
            (m.other, m.freelancer, "50"),
            (m.client, m.arbiter, "1200"),
        ):
            job = pw.jobs.post(
                client,
                budget=pw.amount(budget),
                milestones=2,
                freelancer=freelancer.address,
                deadline=pw.now() + 7 * DAY,
                review_period=3 * DAY,
            ).job
            for index in (0, 1):
                pw.jobs.submit(freelancer, job.job_id, index, digest(f"{job.job_id}/{index}"))
                pw.jobs.approve(client, job.job_id, index)
            assert len(pw.identity.attest("dev4", job.job_id)) == 2
            pw.identity.review(client.address, job.job_id, 0, 5, "good work")
            pw.identity.review(freelancer.address, job.job_id, 1, 4, "paid on time")
            jobs.append(job.job_id)
        entrants = [m.freelancer, m.arbiter, m.relayer]
        for who in entrants:
            pw.fund(who.address, pw.amount("100"))
        comp_id = _competition(m, entrants, finalize=True)
        open_comp = _competition(m, entrants[:2], finalize=False)
        yield ListsMarket(m, comp_id, open_comp, jobs)


@contextmanager
def indexed_workspace(lm: ListsMarket, location: Path | str) -> Iterator[Workspace]:
    """A workspace on the market's chain whose settings name the index `location`."""
    base = lm.m.pw.ws
    with Workspace.open(replace(base.settings, index_db=str(location))) as ws:
        ws._chain = base.chain  # the embedded chain the market holds
        try:
            yield ws
        finally:
            ws._chain = None  # not ours to close


def index_into(ws: Workspace, location: Path | str) -> None:
    with IndexStore.open(location) as store:
        index_once(ws, store)


def handles(ws: Workspace) -> list[Any]:
    """Every contract with a generic handle (the escrow's events have the jobs projection)."""
    return [
        ws.committee,
        ws.competitions,
        ws.issuer_registry,
        ws.badges,
        ws.attestations,
        ws.job_attester,
    ]


class NoPeers:
    """Oracle endpoints that serve nothing (the committee here has none registered anyway)."""

    def reports(self, *args: object, **kwargs: object) -> list[Any]:
        return []


def lists(ws: Workspace, lm: ListsMarket, reader: EventReader) -> dict[str, Any]:
    """Every moved list, read through `reader`'s source."""
    m = lm.m
    comps = Competitions(ws)
    return {
        "completions": attestations.job_completions(ws, reader=reader),
        "completions of one": attestations.job_completions(ws, m.freelancer.address, reader=reader),
        "uids of reviews": attestations.attested_uids(
            ws, bytes.fromhex(ws.deployment.review_schema[2:]), m.client.address, reader
        ),
        "badges": badges.minted_badges(ws, reader),
        "seeds": reputation.trust_seeds(ws, reader),
        "competition ids": comps.ids(reader),
        "competitions": [comps.get(i, reader) for i in comps.ids(reader)],
        "listed": comps.listed(reader),
    }


def no_logs(*args: object, **kwargs: object) -> Any:
    raise AssertionError("the logs were read")


def test_every_event_and_every_list_is_the_same_from_the_index_and_the_logs(
    lists_market: ListsMarket, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lm = lists_market
    location = tmp_path / "index.sqlite3"
    with indexed_workspace(lm, location) as ws:
        with EventReader(ws) as reader:
            assert reader.indexed_block is None and not location.exists(), "no index: the logs, none made"
            logged = lists(ws, lm, reader)
        # the lists the CLI, the API and the SDK show, from the logs
        shown_logged = (
            attestations.reviews_of(ws),
            attestations.reviews_of(ws, lm.m.freelancer.address),
            reputation.reputation_of(ws, lm.m.freelancer.address).to_json(),
            Competitions(ws).leaderboard(lm.comp_id, NoPeers()),
            Competitions(ws).leaderboard(lm.open_comp, NoPeers()),
        )
        index_into(ws, location)
        with EventReader(ws) as reader:
            assert reader.indexed_block == ws.chain.block_number()
            for handle in handles(ws):
                assert reader.from_index(handle), handle
                names = sorted(handle._by_name)
                for name in names:
                    assert reader.events(handle, name) == handle.events(name), name
                assert reader.events(handle, *names) == handle.events(*names)
            indexed = lists(ws, lm, reader)
        assert indexed == logged
        # what the CLI, the API and the SDK call now reads no log at all
        with monkeypatch.context() as patched:
            patched.setattr(type(ws.chain), "get_logs", no_logs)
            shown_indexed = (
                attestations.reviews_of(ws),
                attestations.reviews_of(ws, lm.m.freelancer.address),
                reputation.reputation_of(ws, lm.m.freelancer.address).to_json(),
                Competitions(ws).leaderboard(lm.comp_id, NoPeers()),
                Competitions(ws).leaderboard(lm.open_comp, NoPeers()),
            )
        assert shown_indexed == shown_logged
    # what the lists hold: nothing vacuous is compared
    assert len(logged["completions"]) == 6 and len(logged["completions of one"]) == 4
    assert len(logged["uids of reviews"]) == 2 and len(logged["badges"]) == 2
    assert len(logged["seeds"]) == 3
    assert logged["listed"] == logged["competitions"]
    final = next(c for c in logged["competitions"] if c.comp_id == lm.comp_id)
    assert final.finalized and len(final.revealed) == 3 and len(final.awards) == 2 and final.winners
    assert len(shown_logged[0]) == 6 and len(shown_logged[1]) == 2
    assert shown_logged[2]["paid_jobs"] == 4 and shown_logged[2]["score"] > 0
    assert [row.place for row in shown_logged[3][1]] == [0, 1, None]


def test_filters_on_indexed_arguments_and_subjects(lists_market: ListsMarket, tmp_path: Path) -> None:
    lm = lists_market
    location = tmp_path / "index.sqlite3"
    with indexed_workspace(lm, location) as ws:
        index_into(ws, location)
        attested = ws.attestations
        schema = bytes.fromhex(ws.deployment.job_completed_schema[2:])
        for where in (
            {"schemaUID": schema},
            {"recipient": lm.m.arbiter.address},
            {"recipient": lm.m.freelancer.address.lower(), "schemaUID": schema},
            {"attester": ws.deployment.job_attester},
            {"recipient": "0x" + "00" * 20},
        ):
            logged = attested.events("Attested", where=where)
            assert contract_events(ws, attested, "Attested", where=where) == logged, where
        assert len(attested.events("Attested", where={"recipient": lm.m.arbiter.address})) == 3
        comps = ws.competitions
        names = ("SubmissionCommitted", "SubmissionRevealed", "PrizeAwarded")
        for comp_id in (lm.comp_id, lm.open_comp, 10**30):
            assert contract_events(ws, comps, *names, subject=comp_id) == comps.events(
                *names, subject=comp_id
            )
        with EventReader(ws) as reader:
            assert reader.from_index(comps)


def test_a_stale_index_is_not_read_until_it_has_caught_up(lists_market: ListsMarket, tmp_path: Path) -> None:
    lm = lists_market
    location = tmp_path / "index.sqlite3"
    with indexed_workspace(lm, location) as ws:
        index_into(ws, location)
        before = attestations.job_completions(ws)
        with chain_snapshot(ws.chain.web3):
            m = lm.m
            job = m.post("20", freelancer=m.arbiter.address).job
            m.pw.jobs.submit(m.arbiter, job.job_id, 0, digest("late"))
            m.pw.jobs.approve(m.client, job.job_id, 0)
            assert len(m.pw.identity.attest("dev4", job.job_id)) == 1
            comp_id = _competition(m, [], finalize=False)
            with EventReader(ws) as reader:
                assert reader.indexed_block is None, "behind the head: the logs answer"
                stale = attestations.job_completions(ws, reader=reader)
                assert Competitions(ws).get(comp_id, reader).comp_id == comp_id
            assert [r.job_id for r in stale] == [r.job_id for r in before] + [job.job_id]
            assert Competitions(ws).leaderboard(comp_id, NoPeers())[0].comp_id == comp_id
            index_into(ws, location)
            with EventReader(ws) as reader:
                assert reader.indexed_block == ws.chain.block_number()
                assert attestations.job_completions(ws, reader=reader) == stale
                assert comp_id in Competitions(ws).ids(reader)
        # the chain reverted: the next pass rolls the new events back out, and the index answers again
        index_into(ws, location)
        with EventReader(ws) as reader:
            assert reader.indexed_block == ws.chain.block_number()
            assert attestations.job_completions(ws, reader=reader) == before


def test_a_broken_index_leaves_the_logs_to_answer(lists_market: ListsMarket, tmp_path: Path) -> None:
    lm = lists_market
    location = tmp_path / "index.sqlite3"
    location.write_bytes(b"not a database" * 100)
    with indexed_workspace(lm, location) as ws, EventReader(ws) as reader:
        assert reader.indexed_block is None
        assert Competitions(ws).ids(reader) == [lm.comp_id, lm.open_comp]


def test_the_lists_from_an_index_on_postgresql(lists_market: ListsMarket, postgres: PostgresServer) -> None:
    lm = lists_market
    location = postgres.create_database()
    with indexed_workspace(lm, location) as ws:
        with EventReader(ws) as reader:
            assert reader.indexed_block is None
            logged = lists(ws, lm, reader)
        index_into(ws, location)
        with EventReader(ws) as reader:
            assert reader.indexed_block == ws.chain.block_number()
            for handle in handles(ws):
                assert reader.from_index(handle), handle
                names = sorted(handle._by_name)
                assert reader.events(handle, *names) == handle.events(*names)
            assert lists(ws, lm, reader) == logged
