"""`proofwork label ...` as a user runs it, in process on a deployed embedded chain: a campaign over
text and image items created from a directory, worked in the terminal labeler (answers on stdin) and
through `label submit`, aggregated, a round posted and verified, claimed by a relayer, exported,
closed; and the bad inputs refused in one line with a non-zero exit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.e2e.conftest import Cli

LABELS = ["cat", "dog"]
DAY = 86_400


def _pgm(shade: int) -> bytes:
    return b"P5\n4 4\n255\n" + bytes([shade] * 16)


def _campaign(cli: Cli, tmp_path: Path) -> tuple[str, dict[str, str]]:
    """A campaign of 10 items (9 texts, 1 image), 1 gold, created by dev1; returns its id and the truth
    by item CID."""
    cli.ok("committee", "deploy", *(a for o in ("dev6", "dev7", "dev8", "dev9") for a in ("--oracle", o)))
    cli.ok("label", "deploy")
    items = tmp_path / "items"
    items.mkdir()
    truth_by_name = {}
    for i in range(9):
        (items / f"t{i}.txt").write_text(f"photo {i}: a photo of a {LABELS[i % 2]}")
        truth_by_name[f"t{i}.txt"] = LABELS[i % 2]
    (items / "z.pgm").write_bytes(_pgm(200))
    truth_by_name["z.pgm"] = "cat"
    token = json.loads(next((cli.data_dir / "deployments").glob("*.json")).read_text())["token"]
    spec = {
        "version": 1,
        "name": "pets",
        "token": token,
        "budget": 100_000,
        "items": [],
        "labels": LABELS,
        "labels_per_item": 2,
        "aggregator": "majority_vote",
        "gold": {"share_bps": 1_000},
        "exclusion": {"min_gold_answers": 1, "min_gold_accuracy_bps": 5_000, "min_ms_per_label": 0},
        "pay": {"price_per_label": 1_000, "quality_bonus": 500, "accuracy_floor_bps": 5_000},
        "eligibility": {"kind": "anyone"},
        "per_labeler_cap": 100,
        "batch_size": 10,
        "batch_ttl_s": 600,
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    (tmp_path / "gold.json").write_text(json.dumps({"t0.txt": "cat"}))
    created = cli.ok(
        "label", "create", str(tmp_path / "spec.json"), "--gold", str(tmp_path / "gold.json"),
        "--items-dir", str(items), "--from", "dev1", "--json",
    ).json()  # fmt: skip
    assert created["items"] == 10 and created["gold_items"] == 1
    cids = {}
    for name in sorted(truth_by_name):
        cids[name] = cli.ok("store", "add", str(items / name), "--json").json()["cid"]
    return str(created["campaign"]), {cids[n]: label for n, label in truth_by_name.items()}


def _batch(cli: Cli, campaign: str, labeler: str) -> dict[str, Any]:
    return dict(cli.ok("label", "batch", campaign, "--labeler", labeler, "--json").json())


def test_label_campaign_through_the_cli(deployed: Cli, tmp_path: Path) -> None:
    cli = deployed
    campaign, truth = _campaign(cli, tmp_path)

    # dev3 in the terminal labeler: the keys 1 (cat) and 2 (dog), read from stdin
    batch = _batch(cli, campaign, "dev3")
    keys = "".join(f"{LABELS.index(truth[item]) + 1}\n" for item in batch["items"])
    shown = cli.ok("label", "work", campaign, "--from", "dev3", "--viewer", "true", stdin=keys)
    assert "1=cat  2=dog" in shown.out and "signed and submitted 10 answers" in shown.out
    assert "▀" in shown.out  # the image item drawn with half blocks
    assert "a photo of a" in shown.out

    # dev4 through a batch file signed with --from
    batch = _batch(cli, campaign, "dev4")
    answers = [[item, truth[item]] for item in batch["items"]]
    (tmp_path / "b.json").write_text(json.dumps({"batch": batch["batch"], "answers": answers}))

    # bad inputs first: one line, non-zero, nothing stored
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"batch": batch["batch"], "answers": [*answers, answers[0]]}))
    cli.fails("label", "submit", campaign, str(bad), "--from", "dev4", match="answered twice")
    bad.write_text(json.dumps({"batch": batch["batch"], "answers": [["bafkreibogus", "cat"]]}))
    cli.fails("label", "submit", campaign, str(bad), "--from", "dev4", match="not in batch")
    cli.fails(
        "label", "submit", campaign, str(tmp_path / "b.json"), "--from", "dev5", match="not by its labeler"
    )
    cli.fails("label", "submit", campaign, str(tmp_path / "b.json"), match="no 'signature'")
    status = cli.ok("label", "status", campaign, "--json").json()["campaigns"][0]
    assert status["labels_given"] == 10

    done = cli.ok("label", "submit", campaign, str(tmp_path / "b.json"), "--from", "dev4", "--json").json()
    assert done["answers"] == 10
    cli.fails(
        "label", "submit", campaign, str(tmp_path / "b.json"), "--from", "dev4", match="answered already"
    )
    cli.fails("label", "work", campaign, "--from", "dev5", stdin="", match="nothing left")

    preview = cli.ok("label", "aggregate", campaign, "--json").json()
    assert len(preview["items"]) == 9 and preview["total"] == 20 * 1_500
    posted = cli.ok("label", "round", campaign, "--from", "dev2", "--json").json()
    assert posted["round"] == 1 and posted["total"] == 30_000 and len(posted["signers"]) == 4
    verified = cli.ok("label", "verify", campaign, "1")
    assert "verified" in verified.out
    cli.fails("label", "claim", campaign, "--from", "dev2", match="challenge window")
    cli.ok("chain", "advance", "1h")
    claimed = cli.ok("label", "claim", campaign, "--from", "dev2", "--json").json()
    assert claimed["total"] == 30_000 and len(claimed["paid"]) == 2
    cli.fails("label", "claim", campaign, "--from", "dev2", match="anything left to claim")

    out = tmp_path / "export"
    exported = cli.ok("label", "export", campaign, "--out", str(out), "--json").json()
    assert exported["items"] == 9 and exported["round"] == 1
    assert (out / "labels.csv").read_text().splitlines()[0] == "item,label,confidence,labels"
    shares = (out / "labelers.csv").read_text().splitlines()
    assert len(shares) == 3 and shares[1].endswith(",0.500000")
    cli.ok("asset", "deploy")
    registered = cli.ok(
        "label", "export", campaign, "--out", str(tmp_path / "asset"), "--register", "--from", "dev1",
        "--license", "CC-BY-4.0", "--json",
    ).json()  # fmt: skip
    assert registered["asset_id"] is not None and registered["royalties"].startswith("0x")

    cli.fails("label", "close", campaign, "--from", "dev2", match="not before")
    cli.ok("chain", "advance", "31d")
    closed = cli.ok("label", "close", campaign, "--from", "dev2", "--json").json()
    assert closed["refunded"] == 70_000


def test_label_refusals_before_anything_is_sent(deployed: Cli, tmp_path: Path) -> None:
    cli = deployed
    cli.fails("label", "status", "0", match="campaign id")
    cli.fails(
        "label",
        "create",
        str(tmp_path / "none.yaml"),
        "--gold",
        "g.json",
        "--from",
        "dev1",
        match="no such spec",
    )
    (tmp_path / "spec.json").write_text("{}")
    (tmp_path / "gold.json").write_text("{}")
    cli.fails(
        "label",
        "create",
        str(tmp_path / "spec.json"),
        "--gold",
        str(tmp_path / "gold.json"),
        "--from",
        "dev1",
        match="invalid spec: field 'gold'",
    )


def test_oracles_sign_a_published_round_on_their_own(deployed: Cli, tmp_path: Path) -> None:
    """`label publish`, then each oracle's `label sign` (recomputing from the bundle alone), then
    `label round --bundle --signature ...`: a quorum posts, fewer do not."""
    cli = deployed
    campaign, truth = _campaign(cli, tmp_path)
    for labeler in ("dev3", "dev4"):
        batch = _batch(cli, campaign, labeler)
        answers = [[item, truth[item]] for item in batch["items"]]
        (tmp_path / f"{labeler}.json").write_text(json.dumps({"batch": batch["batch"], "answers": answers}))
        cli.ok("label", "submit", campaign, str(tmp_path / f"{labeler}.json"), "--from", labeler)
    published = cli.ok("label", "publish", campaign, "--json").json()
    bundle, round_ = published["bundle"], str(published["round"])
    assert published["gold_revealed"] == 1
    files = []
    for oracle in ("dev6", "dev7", "dev8"):
        out = tmp_path / f"{oracle}.sig.json"
        signed = cli.ok(
            "label",
            "sign",
            campaign,
            round_,
            "--bundle",
            bundle,
            "--from",
            oracle,
            "--out",
            str(out),
            "--json",
        )
        assert signed.json()["root"] == published["root"]
        files += ["--signature", str(out)]
    cli.fails("label", "sign", campaign, round_, "--bundle", bundle, "--from", "dev5", match="not an oracle")
    round_args = ["label", "round", campaign, "--from", "dev2", "--bundle", bundle, "--no-local-oracles"]
    cli.fails(*round_args, *files[:4], match="the quorum is 3")
    posted = cli.ok(*round_args, *files, "--json").json()
    assert posted["round"] == 1 and posted["root"] == published["root"]
    assert len(posted["signers"]) == 3
    assert "verified" in cli.ok("label", "verify", campaign, "1").out


def test_label_submit_refuses_malformed_files(deployed: Cli, tmp_path: Path) -> None:
    cli = deployed
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    cli.fails("label", "submit", "1", str(bad), match="is not JSON")
    bad.write_text(json.dumps({"batch": "0x12", "answers": []}))
    cli.fails("label", "submit", "1", str(bad), match="'batch' must be 32 bytes")
    bad.write_text(json.dumps({"batch": "0x" + "00" * 32, "answers": [["a", 1]]}))
    cli.fails("label", "submit", "1", str(bad), match="each answer is an item CID and a label")
