"""`proofwork guild` as a user drives it on one data dir: three holders of ml/vision badges found a
guild, a fourth is admitted by vote, the guild is hired for a job, takes it by vote naming its worker,
the worker submits as the guild, the client approves, anyone splits the payment and members claim their
shares; bad input (a join that fails the rule, a double vote, a non-member's vote, a claim above what
is due) is refused in one line. The issuer's accreditation and the badges are set up through the SDK
(`issuer register` needs a served did:web root, see test_identity_chain_cli.py)."""

from __future__ import annotations

from decimal import Decimal

from proofwork.services.badges import mint_badge
from proofwork.services.workspace import Workspace
from proofwork.settings import Settings
from tests.e2e.conftest import Cli, refused

ISSUER = "dev4"


def setup_badges(cli: Cli) -> None:
    with Workspace.open(Settings(data_dir=cli.data_dir)) as ws:
        issuer = ws.signer(ISSUER)
        ws.issuer_registry.accredit(
            ws.signer("dev0").key, issuer.address, "did:web:guild.example", "Guild test"
        )
        for holder in ("dev2", "dev3", "dev5", "dev6"):
            mint_badge(ws, issuer, ws.address(holder), "ml/vision/segmentation")
        mint_badge(ws, issuer, ws.address("dev7"), "nlp/sentiment")


def test_guild_takes_a_job_and_splits_the_payment(deployed: Cli) -> None:
    cli = deployed
    cli.ok(
        "committee",
        "deploy",
        "--f",
        "1",
        *[a for o in ("dev6", "dev7", "dev8", "dev9") for a in ("--oracle", o)],
    )
    cli.ok("identity", "deploy")
    setup_badges(cli)
    refused(
        cli("guild", "create", "--family", "ml/vision", "--founder", "dev7", "--from", "dev0"),
        "holds no skill badge in the family 'ml/vision'",
    )
    refused(cli("guild", "members", "dev1"), "not a guild")
    created = cli.ok(
        "guild", "create", "--family", "ml/vision", "--founder", "dev2", "--founder", "dev3",
        "--founder", "dev5", "--shares", "2", "--shares", "1", "--shares", "1", "--from", "dev0", "--json",
    ).json()  # fmt: skip
    guild = created["guild"]
    assert [m["shares"] for m in created["members"]] == [2, 1, 1]

    # admissions: the rule first, then the members' vote
    refused(cli("guild", "join", guild, "--from", "dev7"), "holds no skill badge in the family 'ml/vision'")
    joined = cli.ok("guild", "join", guild, "--from", "dev6", "--json").json()
    pid = str(joined["proposal"])
    refused(cli("guild", "vote", guild, pid, "--from", "dev7"), "is not a member")
    cli.ok("guild", "vote", guild, pid, "--from", "dev2")
    refused(cli("guild", "vote", guild, pid, "--from", "dev2"), "already voted")
    refused(cli("guild", "execute", guild, pid, "--from", "dev2"), "has not passed")
    cli.ok("guild", "vote", guild, pid, "--from", "dev3")
    cli.ok("guild", "execute", guild, pid, "--from", "dev3")

    # a job hired to the guild, taken by vote, dev3 named to do it
    posted = cli.ok(
        "job",
        "post",
        "--from",
        "dev1",
        "--freelancer",
        guild,
        "--budget",
        "100",
        "--deadline",
        "2d",
        "--json",
    ).json()
    job = str(posted["job"]["id"])
    take = str(
        cli.ok("guild", "apply", guild, job, "--worker", "dev3", "--from", "dev2", "--json").json()[
            "proposal"
        ]
    )
    for voter in ("dev2", "dev5", "dev6"):
        cli.ok("guild", "vote", guild, take, "--from", voter)
    taken = cli.ok("guild", "take", guild, take, "--from", "dev5", "--json").json()
    assert taken["applied"] is False and len(taken["workers"]) == 1
    deliverable = "ab" * 32
    refused(
        cli("guild", "submit", guild, job, "--hash", deliverable, "--from", "dev2"), "is not named for job"
    )
    cli.ok("guild", "submit", guild, job, "--hash", deliverable, "--from", "dev3")
    refused(cli("guild", "attest", guild, job, "--from", "dev9"), "no JobCompleted attestation yet")
    cli.ok("job", "approve", job, "--from", "dev1")  # the JobCompleted attestation goes to the guild
    attested = cli.ok("guild", "attest", guild, job, "--from", "dev9", "--json").json()
    assert attested["workers"] == taken["workers"]
    refused(cli("guild", "attest", guild, job, "--from", "dev9"), "attested to its workers already")

    split = cli.ok("guild", "split", guild, "--from", "dev9", "--json").json()
    net = Decimal(100) * (10_000 - 250) / 10_000  # the platform fee taken by the escrow
    assert Decimal(split["split"]) == net and split["gas"] <= 40_000
    members = cli.ok("guild", "members", guild, "--json").json()
    owed = {m["address"]: Decimal(m["claimable"]) for m in members["members"]}
    assert members["total_shares"] == 5 and sum(owed.values()) == net  # 97.5 splits exactly by 5
    claimed = cli.ok("guild", "claim", guild, "--from", "dev2", "--json").json()
    assert Decimal(claimed["claimed"]) == net * 2 / 5
    refused(cli("guild", "claim", guild, "--from", "dev3", "--amount", "20"), "claim above due")
    cli.ok("guild", "claim", guild, "--from", "dev3", "--amount", "19.5")
    cli.ok("guild", "leave", guild, "--from", "dev6")
    after = cli.ok("guild", "members", guild, "--json").json()
    assert len(after["members"]) == 3

    # a share change and an expulsion, by vote
    change = str(cli.ok("guild", "shares", guild, "dev5", "3", "--from", "dev2", "--json").json()["proposal"])
    kick = str(cli.ok("guild", "kick", guild, "dev3", "--from", "dev5", "--json").json()["proposal"])
    for proposal in (change, kick):
        for voter in ("dev2", "dev5"):
            cli.ok("guild", "vote", guild, proposal, "--from", voter)
        cli.ok("guild", "execute", guild, proposal, "--from", "dev2")
    final = {m["address"]: m["shares"] for m in cli.ok("guild", "members", guild, "--json").json()["members"]}
    assert sorted(final.values()) == [2, 3] and len(final) == 2
    refused(cli("guild", "kick", guild, "dev3", "--from", "dev2"), "is not a member of the guild")
