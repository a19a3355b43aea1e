"""The on-chain identity commands as a user drives them, on one data dir:
`identity deploy`, `issuer register|list`, credentials checked against the registry (accredited,
unknown, revoked), a paid job's JobCompleted attestation, reviews, soulbound badges, reputation and
its export; bad input refused in one line; and `demo --identity --json`.

The commands run through the entry point in this process (tests/e2e/runner.py); the two `issuer serve`
web roots and `demo --identity` are real processes (daemons; the demo runs beside the module's tests)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Cli, Result, demo_process, refused

ORACLES = ("dev6", "dev7", "dev8", "dev9")
AUD = ["--audience", "https://client.example", "--nonce", "n-7"]
NEEDS_IDENTITY = "run `proofwork identity deploy`"
LOCK = {"PROOFWORK_LOCK_TIMEOUT": "120"}

pytestmark = pytest.mark.daemon  # two `issuer serve` web roots, `demo --identity` beside the tests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def batch(*calls: tuple[Cli, Sequence[str]]) -> list[Result]:
    """Independent commands, one after the other (in-process calls are serialised); results in the
    order given. The lock timeout is the one they had when they ran side by side as processes."""
    return [cli(*args, env=LOCK) for cli, args in calls]


def ok(result: Result, what: str = "") -> Any:
    """A success: exit 0, no traceback, its --json output parsed."""
    assert result.code == 0, f"{what} failed: {result.err}"
    assert "Traceback" not in result.err
    return result.json()


# --- demo --identity: its own chain, started first so that it overlaps the flow below ---------------


@pytest.fixture(scope="module", autouse=True)
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    # the demo keeps its chain in a new temporary directory: keep that one among the test's files
    root = tmp_path_factory.mktemp("demo")
    with demo_process("--identity", root) as proc:
        yield proc, root


# --- one data dir: escrow, committee, identity, two served issuers -----------------------------------


@dataclass
class World:
    cli: Cli
    uni: str  # base URL of the issuer `uni` (account dev4), registered
    other: str  # base URL of the issuer `other` (account dev5), never registered
    uni_did: str
    uni_account: str
    uni_profile: dict[str, Any]  # `issuer create uni --json`
    deployment: dict[str, Any]  # `identity deploy --json`
    before_identity: list[Result]  # identity commands run before `identity deploy`
    fresh: Result  # an identity command on a data dir where nothing is deployed


def _serve(cli: Cli, name: str, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "proofwork", "issuer", "serve", name, "--port", str(port)],
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_served(proc: subprocess.Popen[str], base: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/did.json", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            pytest.fail(f"issuer serve exited: {proc.communicate()[1]}")
        if time.monotonic() > deadline:
            pytest.fail(f"issuer serve did not come up at {base}")
        time.sleep(0.1)


def _stop(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    if proc.poll() is None:
        proc.terminate()
    try:
        out, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return proc.returncode, out, err


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("identity-chain")
    cli = Cli(root / "data")
    ports = {"uni": free_port(), "other": free_port()}
    bases = {name: f"http://127.0.0.1:{port}/{name}" for name, port in ports.items()}
    committee = ["committee", "deploy", "--f", "1", "--json"]
    for name in ORACLES:
        committee += ["--oracle", name]

    cli.ok("deploy")
    fresh, *setup = batch(
        (Cli(root / "fresh"), ["issuer", "list"]),
        (cli, committee),
        (cli, ["account", "fund", "dev1", "--amount", "1000", "--json"]),
        (cli, ["issuer", "create", "uni", "--account", "dev4", "--base-url", bases["uni"], "--json"]),
        (cli, ["issuer", "create", "other", "--account", "dev5", "--base-url", bases["other"], "--json"]),
    )
    created = [ok(result, "setup") for result in setup][-2:]
    uni = created[0]["issuer"]
    for name, profile in zip(("uni", "other"), created, strict=True):
        assert profile["issuer"]["did"] == f"did:web:127.0.0.1%3A{ports[name]}:{name}"
    # serving needs no chain: the two web roots come up while the identity contracts are deployed
    procs = {name: _serve(cli, name, port) for name, port in ports.items()}
    try:
        before_identity = batch(
            (cli, ["issuer", "list"]),
            (cli, ["attest", "list", "--json"]),
            (cli, ["reputation", "show", "dev2"]),
        )
        deployed = cli.ok("identity", "deploy", "--json").json()
        assert deployed["ok"] is True and deployed["created"] is True
        for name, proc in procs.items():
            _wait_served(proc, bases[name])
        registered = cli.ok("issuer", "register", "uni", "--from", "dev0", "--json").json()
        assert registered["issuer"] == "uni" and registered["account"] == uni["account"]
        assert next(s["name"] for s in registered["steps"]) == "accredit"
        yield World(
            cli,
            bases["uni"],
            bases["other"],
            uni["did"],
            uni["account"],
            uni,
            deployed,
            before_identity,
            fresh,
        )
    finally:
        stopped = {name: _stop(proc) for name, proc in procs.items()}
    for name, (code, out, err) in stopped.items():
        assert code == 0 and "Traceback" not in err, (name, err)
        assert f"serving did:web:127.0.0.1%3A{ports[name]}:{name}" in out


def test_identity_commands_ask_for_identity_deploy(world: World) -> None:
    refused(world.fresh, "run `proofwork deploy`")  # nothing deployed at all: the escrow comes first
    for result in world.before_identity:
        refused(result, NEEDS_IDENTITY)
    assert world.before_identity[1].json() == {
        "ok": False,
        "error": "the identity contracts are not deployed here: run `proofwork identity deploy`",
    }


def test_issuer_profile_names_where_its_did_document_is(world: World) -> None:
    assert world.uni_profile["did_document_url"] == world.uni + "/did.json"


def test_issuer_registry(world: World) -> None:
    cli = world.cli
    listed, again, stranger = batch(
        (cli, ["issuer", "list", "--json"]),
        (cli, ["identity", "deploy", "--json"]),
        (cli, ["issuer", "register", "other", "--from", "dev3"]),
    )
    issuers = ok(listed)["issuers"]
    assert [(i["name"], i["address"], i["accredited"], i["revoked_at"]) for i in issuers] == [
        ("uni", world.uni_account, True, 0)
    ], "only the registered profile is in the registry"
    assert issuers[0]["did"].startswith("did:web:127.0.0.1%3A") and issuers[0]["since"] > 0
    # deploying again sends nothing and names the same contracts
    redeployed = ok(again)
    assert redeployed["created"] is False and redeployed["gas"] == {}
    contracts = ("issuer_registry", "badges", "schema_registry", "attestations", "job_attester", "resolver")
    assert {k: redeployed[k] for k in contracts} == {k: world.deployment[k] for k in contracts}
    refused(stranger, "only the registry's owner")


def _present(credential: str, disclose: str, out: Path) -> list[str]:
    return [
        "cred",
        "present",
        credential,
        "--from",
        "dev2",
        "--disclose",
        disclose,
        *AUD,
        "--out",
        str(out),
        "--json",
    ]


def test_credentials_are_checked_against_the_registry(world: World, tmp_path: Path) -> None:
    cli = world.cli
    issue = ["cred", "issue", "--to", "dev2", "--json"]
    accredited, stranger = (
        ok(r)
        for r in batch(
            (
                cli,
                [
                    *issue,
                    "--from",
                    "uni",
                    "--type",
                    "course",
                    "--claim",
                    "course=Applied ML",
                    "--claim",
                    "grade=A",
                    "--claim",
                    "student_name=Ada Lovelace",
                ],
            ),
            (cli, [*issue, "--from", "other", "--type", "skill", "--claim", "skill=nlp"]),
        )
    )
    assert accredited["claims"] == ["course", "grade", "student_name"]
    assert accredited["status"]["uri"].startswith(world.uni + "/status/")
    assert stranger["status"]["uri"].startswith(world.other + "/status/")

    uni_p, other_p = tmp_path / "uni.sdjwt", tmp_path / "other.sdjwt"
    shown = batch(
        (cli, _present(accredited["id"], "course,grade", uni_p)),
        (cli, _present(stranger["id"], "skill", other_p)),
    )
    assert [ok(r)["disclosed"] for r in shown] == [["course", "grade"], ["skill"]]
    assert "Ada" not in uni_p.read_text()

    verify = ["cred", "verify", *AUD, "--insecure-localhost", "--json"]
    good, unknown = batch((cli, [*verify, str(uni_p)]), (cli, [*verify, str(other_p)]))
    verified = ok(good)
    assert verified["ok"] is True and verified["accredited"] is True
    assert verified["claims"] == {"course": "Applied ML", "grade": "A"}
    assert verified["issuer_address"] == world.uni_account and verified["status"] == "valid"
    # `other`'s did.json is served and its signature is good: it is the registry that refuses it
    refused(unknown, "credential rejected (unknown-issuer)")
    assert unknown.code == 1 and "not an accredited issuer in the registry" in unknown.err
    assert unknown.json()["reason"] == "unknown-issuer" and unknown.json()["ok"] is False

    revoked = cli.ok("cred", "revoke", accredited["id"], "--from", "uni", "--json").json()
    assert revoked["status"] == "revoked" and revoked["previous"] == "valid"
    gone = cli.fails(
        "cred", "verify", str(uni_p), *AUD, "--insecure-localhost", match="credential rejected (revoked)"
    )
    assert gone.code == 1 and gone.out == ""


def test_paid_job_attestations_reviews_badges_reputation(world: World, tmp_path: Path) -> None:
    cli = world.cli
    posted = cli.ok(
        "job",
        "post",
        "--from",
        "dev1",
        "--freelancer",
        "dev2",
        "--budget",
        "250",
        "--deadline",
        "1d",
        "--json",
    ).json()["job"]
    job, dev2 = str(posted["id"]), posted["freelancer"]
    deliverable = tmp_path / "report.txt"
    deliverable.write_text("named entities, tagged\n")
    cli.ok("job", "submit", job, "--from", "dev2", "--file", str(deliverable))
    cli.ok("job", "approve", job, "--from", "dev1", "--no-attest")

    # JobCompleted: one attestation of the paid milestone, unverified (no committee judged it)
    attested = cli.ok("attest", "job", job, "--from", "dev2", "--json").json()["attested"]
    assert len(attested) == 1
    (row,) = attested
    assert row["job"] == int(job) and row["milestone"] == 1 and row["verified"] is False
    assert row["score"] == 0 and row["badge"] == 0 and row["gas"] > 0
    uid = row["uid"]
    assert uid.startswith("0x") and len(uid) == 66 and int(uid, 16) != 0

    again, review, minted = batch(
        (cli, ["attest", "job", job, "--from", "dev2"]),
        (cli, ["attest", "review", job, "--rating", "5", "--from", "dev1", "--comment", "fast", "--json"]),
        (cli, ["badge", "mint", "dev2", "--skill", "nlp/ner", "--from", "dev4", "--json"]),
    )
    assert again.code == 0 and f"job {job}: nothing to attest" in again.out
    reviewed = ok(review, "attest review")
    assert reviewed["rating"] == 5 and reviewed["job"] == int(job)
    assert reviewed["uid"].startswith("0x") and reviewed["uid"] != uid
    badge = ok(minted, "badge mint")
    assert badge["holder"] == dev2 and badge["skill"] == "nlp/ner"
    token = badge["token_id"]
    assert isinstance(token, int) and token > 0

    twice, stranger, rating, not_issuer, listed, badges, rep, reviews = batch(
        (cli, ["attest", "review", job, "--rating", "4", "--from", "dev1"]),
        (cli, ["attest", "review", job, "--rating", "5", "--from", "dev3"]),
        (cli, ["attest", "review", job, "--rating", "9", "--from", "dev2"]),
        (cli, ["badge", "mint", "dev2", "--skill", "nlp/ner", "--from", "dev5"]),
        (cli, ["attest", "list", "--json"]),
        (cli, ["badge", "list", "dev2", "--json"]),
        (cli, ["reputation", "show", "dev2", "--json"]),
        (cli, ["attest", "reviews", "dev2", "--json"]),
    )
    refused(twice, "already reviewed")
    received = ok(reviews)["reviews"]
    assert [(r["uid"], r["job"], r["reviewee"], r["rating"]) for r in received] == [
        (reviewed["uid"], int(job), dev2, 5)
    ]
    refused(stranger, "client or freelancer")
    refused(rating, "rating is a whole number from 1 to 5")
    refused(not_issuer, "not an accredited issuer")

    rows = ok(listed)["attestations"]
    assert [(a["uid"], a["job"], a["milestone"], a["freelancer"], a["verified"]) for a in rows] == [
        (uid, int(job), 1, dev2, False)
    ]
    assert rows[0]["amount_paid"] == 250_000_000 and rows[0]["client"] == posted["client"]

    held = ok(badges)
    assert held["holder"] == dev2
    assert [
        (b["token_id"], b["skill"], b["issuer"], b["earned_by_job"], b["locked"]) for b in held["badges"]
    ] == [(token, "nlp/ner", world.uni_account, False, True)]

    # reputation: the paid job counts; dev2 is vouched for by an accredited issuer's badge
    score = ok(rep)
    assert score["address"] == dev2 and score["score"] > 0 and score["rank"] == 1
    assert score["paid_jobs"] == 1 and score["verified_jobs"] == 0 and score["total_paid"] == 250_000_000
    assert [(j["job"], j["attestation"]) for j in score["top_jobs"]] == [(int(job), uid)]

    # a portable reputation credential signed by `uni`, held in dev2's wallet, verifiable by anyone
    out = tmp_path / "reputation.sdjwt"
    exported = cli.ok("reputation", "export", "dev2", "--issuer", "uni", "--out", str(out), "--json").json()
    assert exported["ok"] is True and len(exported["id"]) >= 16
    assert exported["paid_jobs"] == 1 and exported["score"] == pytest.approx(score["score"])
    assert exported["issuer"] == world.uni_did and out.read_text() == exported["credential"]
    presentation = tmp_path / "reputation-presentation.sdjwt"
    cli.ok(*_present(exported["id"], "score,paid_jobs", presentation))
    checked = cli.ok(
        "cred", "verify", str(presentation), *AUD, "--insecure-localhost", "--type", "reputation", "--json"
    ).json()
    assert checked["accredited"] is True and checked["holder"] == dev2
    assert checked["claims"] == {"score": pytest.approx(score["score"]), "paid_jobs": 1}


def test_bad_input_is_one_line_without_traceback(world: World) -> None:
    cli = world.cli
    address, job, skill = batch(
        (cli, ["reputation", "show", "0xnotanaddress"]),
        (cli, ["attest", "job", "999", "--from", "dev2", "--json"]),
        (cli, ["badge", "mint", "dev2", "--skill", "", "--from", "dev4"]),
    )
    refused(address, "invalid account '0xnotanaddress'")
    refused(job, "no job 999")
    assert job.json() == {"ok": False, "error": job.err.strip().removeprefix("error: ")}
    refused(skill, "a skill is 1 to 64 bytes")
    assert address.out == "" and skill.out == ""


# --- demo --identity (started by the `demo` fixture when the module began) --------------------------


def test_demo_identity_json(demo: tuple[subprocess.Popen[str], Path]) -> None:
    proc, root = demo
    out, err = proc.communicate(timeout=180)
    data = ok(Result(proc.returncode, out, err), "demo --identity --json")
    assert data["ok"] is True and data["problems"] == []
    assert Path(data["data_dir"]).parent == root
    # selective disclosure: exactly the two claims shown, nothing else of the credential
    assert set(data["disclosed"]) == {"course", "grade"}
    assert data["revoked_rejection"] == "revoked"
    attestations = data["attestations"]
    assert len(attestations) == 2
    assert sorted(a["verified"] for a in attestations) == [False, True]
    verified = next(a for a in attestations if a["verified"])
    unverified = next(a for a in attestations if not a["verified"])
    assert verified["score"] > 900_000 and unverified["score"] == 0
    assert all(a["uid"].startswith("0x") and len(a["uid"]) == 66 for a in attestations)
    badges = data["badges"]
    assert [b["skill"] for b in badges] == ["vision/digit-classification"]
    assert badges[0]["locked"] is True and badges[0]["earned_by"] == verified["uid"]
    reputation = data["reputation"]
    assert reputation["paid_jobs"] == 2 and reputation["verified_jobs"] == 1
    assert reputation["score"] > 0 and reputation["rank"] == 1
    assert {j["attestation"] for j in reputation["top_jobs"]} == {a["uid"] for a in attestations}
    credential = data["reputation_credential"]
    assert credential["id"] and credential["issuer"].startswith("did:")
    claims = credential["claims"]
    assert claims["paid_jobs"] == 2 and claims["verified_jobs"] == 1
    assert claims["score"] == pytest.approx(reputation["score"], abs=1e-9)
    assert claims["block"] == reputation["block"] and isinstance(claims["chain_id"], int)


def test_approving_a_payment_attests_it_at_once(world: World, tmp_path: Path) -> None:
    cli = world.cli
    job = str(
        cli.ok(
            "job",
            "post",
            "--from",
            "dev1",
            "--freelancer",
            "dev3",
            "--budget",
            "40",
            "--deadline",
            "1d",
            "--json",
        ).json()["job"]["id"]
    )
    deliverable = tmp_path / "labels.csv"
    deliverable.write_text("id,label\n1,cat\n")
    cli.ok("job", "submit", job, "--from", "dev3", "--file", str(deliverable))
    paid = cli.ok("job", "approve", job, "--from", "dev1", "--json").json()
    (attested,) = paid["attested"]["attestations"]
    assert attested["milestone"] == 1 and attested["verified"] is False and int(attested["uid"], 16) != 0
    again = cli.ok("attest", "job", job, "--from", "dev3")
    assert f"job {job}: nothing to attest" in again.out
