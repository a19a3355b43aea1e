"""`proofwork round` as a user drives it, in process on one data dir: deploy, create a round under the
badge rule, three projects apply, badge holders and a badgeless wallet contribute, the round is
finalized, claimed and refunded, and `round verify` recomputes the split from the chain's events.
The accredited issuer and its badges are set up through the services on the same data dir (the
`issuer register` flow needs a served did:web issuer: covered in test_identity_chain_cli.py)."""

from __future__ import annotations

from proofwork.domain.units import parse_amount
from proofwork.services.workspace import Workspace
from proofwork.settings import Settings
from tests.e2e.conftest import Cli

EVIDENCE = b"\x11" * 32


def test_round_lifecycle_and_verify(deployed: Cli) -> None:
    cli = deployed
    cli.fails("round", "verify", "1", match="run `proofwork round deploy`")
    cli.ok(
        "committee",
        "deploy",
        "--f",
        "1",
        *(a for o in ("dev6", "dev7", "dev8", "dev9") for a in ("--oracle", o)),
    )
    cli.ok("identity", "deploy")
    assert cli.ok("round", "deploy", "--json").json()["created"] is True
    with Workspace.open(Settings(data_dir=cli.data_dir)) as ws:
        issuer = ws.signer("dev4")
        ws.issuer_registry.accredit(ws.signer("dev0").key, issuer.address, "did:web:uni.example", "Uni")
        badges = {}
        for name in ("dev2", "dev3", "dev5"):
            ws.badges.mint(issuer.key, ws.address(name), "ml/open-models", EVIDENCE)
            badges[name] = ws.badges.tokens_of(ws.address(name))[0]
    for name in ("dev0", "dev2", "dev3", "dev5", "dev6"):
        cli.ok("account", "fund", name, "--amount", "1000")

    created = cli.ok("round", "create", "--pool", "100", "--accept", "ml/open-models", "--apply-days", "1",
                     "--days", "2", "--json").json()  # fmt: skip
    rid = str(created["round"])
    for recipient in ("dev7", "dev8", "dev9"):
        cli.ok(
            "round",
            "apply",
            rid,
            "--metadata",
            "bafkreiproject",
            "--recipient",
            recipient,
            "--from",
            recipient,
        )
    cli.fails("round", "contribute", rid, "4", "1", "--from", "dev2", match="unknown project")
    cli.fails("round", "contribute", rid, "1", "1", "--from", "dev6", "--credential", str(badges["dev2"]),
              match="not the badge's holder")  # fmt: skip
    for name in ("dev2", "dev3", "dev5"):
        cli.ok("round", "contribute", rid, "1", "1", "--from", name, "--credential", str(badges[name]))
    cli.ok("round", "contribute", rid, "2", "9", "--from", "dev2", "--credential", str(badges["dev2"]))
    cli.ok("round", "contribute", rid, "2", "4", "--from", "dev3", "--credential", str(badges["dev3"]))
    cli.ok(
        "round", "contribute", rid, "3", "50", "--from", "dev6"
    )  # no badge: reaches the project, no matching
    cli.fails("round", "finalize", rid, match="contributions still open")

    before = cli.ok("round", "verify", rid, "--json").json()
    assert before["ok"] is True and before["finalized"] is False

    cli.ok("chain", "advance", "2d")
    cli.fails("round", "contribute", rid, "1", "1", "--from", "dev2", match="contributions closed")
    cli.ok("round", "finalize", rid)
    cli.fails("round", "finalize", rid, match="already finalized")
    paid = [cli.ok("round", "claim", rid, str(j), "--json").json()["paid"] for j in (1, 2, 3)]
    cli.fails("round", "claim", rid, "1", match="already claimed")
    # weights: project 1 = 3000**2 - 3 * 1000**2 = 6e6, project 2 = 2 * 3000 * 2000 = 12e6, project 3 = 0
    assert paid == ["36.333333", "79.666666", "50"]
    assert cli.ok("round", "refund", rid, "--json").json()["refunded"] == "0.000001"

    verified = cli.ok("round", "verify", rid, "--json").json()
    assert verified["ok"] is True and verified["mismatches"] == []
    assert [p["weight"] for p in verified["projects"]] == ["6000000", "12000000", "0"]
    assert verified["returned"] == "0.000001"
    assert "matches the recomputed one" in cli.ok("round", "verify", rid).out
    assert parse_amount(verified["pool"], 6) == 100 * 10**6
