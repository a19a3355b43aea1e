"""`proofwork asset register|deliverable` write the asset's card, `asset show` and `asset card` read it:
a CSV dataset gets a Croissant 1.0 card (its files by CID and sha256, a record set with the CSV's
columns and types, its licence and creators), a model derived from it a Hugging Face model card (its
licence, the dataset it was trained on). A card given with --card is checked: a bad one is refused in
one line and nothing is registered."""

from __future__ import annotations

import hashlib
import json
from contextlib import nullcontext
from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from proofwork.api.v1 import create_app
from proofwork.services.workspace import Workspace
from proofwork.settings import Settings
from proofwork.web import create_web_app
from tests.e2e.conftest import Cli

CSV = 'id,text,label,score\n1,hello,spam,0.5\n2,"a, b",ham,1e-3\n3,bye,ham,7\n'


def _front_matter(readme: str) -> dict[str, object]:
    assert readme.startswith("---\n")
    meta = yaml.safe_load(readme[4 : readme.index("\n---\n", 4) + 1])
    assert isinstance(meta, dict)
    return meta


def test_a_dataset_and_its_model_get_their_cards(deployed: Cli, tmp_path: Path) -> None:
    cli = deployed
    cli.ok("asset", "deploy")
    data = tmp_path / "tickets.csv"
    data.write_text(CSV)
    (tmp_path / "model.onnx").write_bytes(b"onnx")
    registered = cli.ok(
        "asset", "register", str(data), "--name", "tickets", "--kind", "dataset", "--license", "CC-BY-4.0",
        "--description", "Support tickets, labelled.", "--from", "dev3", "--creator", "dev4:5000", "--json",
    ).json()  # fmt: skip
    assert registered["card"] == "croissant"
    shown = cli.ok("asset", "show", "1", "--json").json()
    owner, labeler = shown["owner"], shown["creators"][0]["account"]
    assert shown["card_format"] == "croissant" and shown["card"]["name"] == "tickets"

    card = json.loads(cli.ok("asset", "card", "1").out)
    assert card["@type"] == "sc:Dataset" and card["conformsTo"] == "http://mlcommons.org/croissant/1.0"
    assert card["name"] == "tickets" and card["description"] == "Support tickets, labelled."
    assert card["license"] == "https://spdx.org/licenses/CC-BY-4.0.html"
    assert card["url"] == f"ipfs://{registered['manifest']}"  # added on output: the card is inside it
    assert [c["name"] for c in card["creator"]] == [owner, labeler]
    (entry,) = card["distribution"]
    assert entry["sha256"] == hashlib.sha256(CSV.encode()).hexdigest()
    assert (
        entry["contentUrl"] == f"ipfs://{shown['files'][0]['cid']}" and entry["encodingFormat"] == "text/csv"
    )
    (records,) = card["recordSet"]
    assert {f["name"]: f["dataType"] for f in records["field"]} == {
        "id": "sc:Integer",
        "text": "sc:Text",
        "label": "sc:Text",
        "score": "sc:Float",
    }
    human = cli.ok("asset", "show", "1").out
    assert "card: Croissant 1.0" in human and "id (sc:Integer)" in human

    model = cli.ok(
        "asset", "register", str(tmp_path / "model.onnx"), "--name", "clf", "--license", "Apache-2.0",
        "--from", "dev2", "--parent", "1:2500", "--json",
    ).json()  # fmt: skip
    assert model["card"] == "huggingface"
    readme = cli.ok("asset", "card", "2", "--format", "hf-readme").out
    meta = _front_matter(readme)
    assert meta["license"] == "apache-2.0" and meta["library_name"] == "onnx"
    (dataset_id,) = meta["datasets"]  # type: ignore[misc]
    assert dataset_id.startswith("eip155:") and dataset_id.endswith("/1") and "base_model" not in meta
    assert "# clf" in readme and "tickets" in readme
    assert readme == cli.ok("asset", "card", "2").out  # a model's card prints as its README by default
    assert "datasets: eip155:" in cli.ok("asset", "show", "2").out
    cli.fails("asset", "card", "2", "--format", "croissant", match="not a Croissant card")
    cli.fails("asset", "card", "1", "--format", "yaml", match="unknown card format")

    # a card given: used as it is (checked); none at all with --no-card
    card["name"] = "tickets, <b>curated</b>"
    del card["url"]
    (tmp_path / "card.json").write_text(json.dumps(card))
    given = cli.ok(
        "asset", "register", str(data), "--name", "tickets 2", "--kind", "dataset", "--license", "MIT",
        "--card", str(tmp_path / "card.json"), "--from", "dev3", "--json",
    ).json()  # fmt: skip
    assert (
        json.loads(cli.ok("asset", "card", str(given["asset_id"])).out)["name"] == "tickets, <b>curated</b>"
    )
    bare = cli.ok(
        "asset", "register", str(tmp_path / "model.onnx"), "--name", "bare", "--license", "MIT", "--no-card",
        "--json",
    ).json()  # fmt: skip
    assert bare["card"] == "none"
    cli.fails("asset", "card", str(bare["asset_id"]), match="has no card")

    # the API and the web page show the same cards
    settings = Settings(data_dir=cli.data_dir)
    with Workspace.open(settings) as ws:
        api = TestClient(create_app(settings, ws))
        assert api.get("/api/v1/assets/1").json()["card_format"] == "croissant"
        served = api.get("/api/v1/assets/1/card")
        assert served.headers["content-type"] == "application/ld+json" and served.json() == {
            **card,
            "name": "tickets",
            "url": f"ipfs://{registered['manifest']}",
        }
        assert api.get("/api/v1/assets/2/card", params={"format": "hf-readme"}).text == readme
        assert api.get("/api/v1/assets/2/card", params={"format": "croissant"}).status_code == 400
        missing = api.get(f"/api/v1/assets/{bare['asset_id']}/card")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "card_not_found"
        web = TestClient(create_web_app(lambda: nullcontext(ws), settings))
        page = web.get("/assets/1").text
        assert 'id="card-title">Card<' in page and "Croissant 1.0 dataset card" in page
        assert "<td>score</td><td><code>sc:Float</code></td>" in page and 'href="/assets/1/card.json"' in page
        assert web.get("/assets/1/card.json").json() == shown["card"]
        model_page = web.get("/assets/2").text
        assert "Hugging Face model card" in model_page and dataset_id in model_page
        assert web.get("/assets/2/README.md").text == readme
        assert "No card." in web.get(f"/assets/{bare['asset_id']}").text
        escaped = web.get(f"/assets/{given['asset_id']}").text  # the card's text is escaped
        assert "tickets, &lt;b&gt;curated&lt;/b&gt;" in escaped and "<b>curated" not in escaped


def test_a_bad_card_is_refused_in_one_line_and_nothing_is_registered(deployed: Cli, tmp_path: Path) -> None:
    cli = deployed
    cli.ok("asset", "deploy")
    data = tmp_path / "rows.csv"
    data.write_text("a,b\n1,2\n")
    (tmp_path / "model.onnx").write_bytes(b"onnx")
    hf = tmp_path / "hf.json"
    hf.write_text(json.dumps({"license": "mit", "datasets": ["x"]}))
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100 + "]" * 100)
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"name": "x" * (300 * 1024)}))
    other_file = tmp_path / "other.json"
    other_file.write_text(json.dumps({
        "@context": {}, "@type": "sc:Dataset", "conformsTo": "http://mlcommons.org/croissant/1.0",
        "name": "n", "description": "", "license": "MIT",
        "distribution": [{"@type": "cr:FileObject", "@id": "f", "contentUrl": "ipfs://x",
                          "encodingFormat": "text/csv", "sha256": "00" * 32}],
    }))  # fmt: skip
    dataset = ("asset", "register", str(data), "--name", "d", "--kind", "dataset", "--license", "MIT")
    cli.fails(*dataset, "--card", str(hf), match="a dataset's card is Croissant 1.0")
    cli.fails(*dataset, "--card", str(deep), match="invalid card: JSON nested deeper")
    cli.fails(*dataset, "--card", str(big), match="larger than")
    cli.fails(*dataset, "--card", str(other_file), match="not the hash of any file")
    cli.fails(*dataset, "--card", str(tmp_path / "missing.json"), match="cannot read the card")
    cli.fails(*dataset, "--card", str(hf), "--no-card", match="not both")
    model = ("asset", "register", str(tmp_path / "model.onnx"), "--name", "m", "--license", "MIT")
    cli.fails(*model, "--card", str(other_file), match="a model's card is a Hugging Face model card")
    (tmp_path / "readme.json").write_text(json.dumps({"format": "huggingface-model-card", "readme": "# no"}))
    cli.fails(*model, "--card", str(tmp_path / "readme.json"), match="YAML front matter")
    (tmp_path / "bad.csv").write_text("a,b,a\n1,2,3\n")
    cli.fails(
        "asset", "register", str(tmp_path / "bad.csv"), "--name", "d", "--kind", "dataset", "--license", "MIT",
        match="cannot describe the columns of bad.csv",
    )  # fmt: skip
    assert cli.ok("asset", "list", "--json").json()["count"] == 0
    # the same model card as Hub fields is accepted
    done = cli.ok(*model, "--card", str(hf), "--json").json()
    assert _front_matter(cli.ok("asset", "card", str(done["asset_id"])).out)["datasets"] == ["x"]
