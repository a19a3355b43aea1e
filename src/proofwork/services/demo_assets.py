"""`proofwork demo --assets`: models and datasets as assets, and the royalties that flow up their lineage.

A data owner registers a labelled digits dataset (scikit-learn's bundled `load_digits`, the ML demo's
train split) with its files encrypted and its two labelers as creators; a base model's creator registers
a small model. A freelancer buys a licence to download the dataset, decrypts it and trains a model in a
paid job whose IP terms (the client's proposal, the freelancer's acceptance) pass the rights to the
client with a creator share for the freelancer. Once the milestone is paid, the client registers the
deliverable as their asset derived from the dataset and the base model, then a fine-tuned model derived
from it. A third party buys a commercial licence on the fine-tuned model; anyone distributes the sale up
the lineage and claims for everyone: every account upstream is paid, to the unit. The buyer downloads and
decrypts the model (the data owner's node is this workspace: keys are released in process). A compute
buyer has its own ONNX model scored on the private dataset and gets only the owner's signed score.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proofwork.domain.asset_access import KeyRequestRefused
from proofwork.domain.assets import AssetManifest, Parent, Share, build_manifest
from proofwork.domain.compute import ComputeRefused
from proofwork.domain.evalspec import SCORE_SCALE
from proofwork.domain.job import fee_of
from proofwork.domain.units import format_amount, parse_amount
from proofwork.services import asset_access, assets, compute_to_data
from proofwork.services.accounts import fund
from proofwork.services.demo_ml import prepare_task, train_onnx
from proofwork.services.deployment import deploy, deploy_assets
from proofwork.services.jobs import Jobs
from proofwork.services.workspace import Signer, Workspace

DAY = 86_400
# the story's terms, in basis points of an asset's revenue (the test recomputes the split from these)
LABELER_BPS = (2_000, 1_000)  # the dataset's two labelers: their creator shares
DELIVERABLE_PARENTS_BPS = (2_000, 1_000)  # the deliverable's parents: the dataset, the base model
CREATOR_BPS = 1_500  # the freelancer's creator share once the rights pass to the client
FINE_TUNED_PARENT_BPS = 3_000  # the fine-tuned model's share to the deliverable it derives from
PRICES = {"dataset": "40", "commercial": "750.37", "compute": "15", "budget": "1200"}
ROLES = (
    # role, dev account
    ("operator", "dev0"),
    ("dataset_owner", "dev1"),
    ("labeler_1", "dev2"),
    ("labeler_2", "dev3"),
    ("base_model_creator", "dev4"),
    ("freelancer", "dev5"),
    ("client", "dev6"),
    ("buyer", "dev7"),
    ("compute_buyer", "dev8"),
)
DATASET_PAYEES = ("dataset_owner", "labeler_1", "labeler_2")  # who a sale of the dataset pays
COMPUTE_PARAMS = {"metric": "accuracy", "label_column": "label", "input": "input", "output": "label"}


@dataclass
class AssetsDemoReport:
    ok: bool = False
    steps: list[str] = field(default_factory=list)
    accounts: dict[str, str] = field(default_factory=dict)  # role -> address
    asset_ids: dict[str, int] = field(default_factory=dict)  # dataset, base_model, deliverable, fine_tuned
    job_id: int = 0
    licences: dict[str, int] = field(default_factory=dict)  # dataset (freelancer's), commercial, compute
    prices: dict[str, int] = field(default_factory=dict)  # token units
    dataset_sale: dict[str, int] = field(default_factory=dict)  # role -> units received from that licence
    royalties: dict[str, int] = field(default_factory=dict)  # role -> units claimed from the commercial sale
    balances: dict[str, dict[str, int]] = field(default_factory=dict)  # role -> before/after the sale
    sum_check: dict[str, Any] = field(default_factory=dict)
    download: dict[str, Any] = field(default_factory=dict)
    compute: dict[str, Any] = field(default_factory=dict)
    lineage: dict[int, list[int]] = field(default_factory=dict)  # asset -> its parents
    decimals: int = 6
    symbol: str = ""
    seconds: float = 0.0
    data_dir: str = ""
    problems: list[str] = field(default_factory=list)


def _read_labelled(path: Path, label: str = "label") -> tuple[Any, Any]:
    """(features as float32, labels) of a CSV with a header and a label column."""
    import numpy as np

    with path.open() as f:
        header = f.readline().strip().split(",")
    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    at = header.index(label)
    return np.delete(table, at, axis=1).astype(np.float32), table[:, at].astype(int)


def _manifest(
    ws: Workspace, path: Path, kind: str, name: str, license: str, description: str
) -> tuple[AssetManifest, bytes | None]:
    files, key = assets.store_files(ws, [path], encrypt=True)
    return build_manifest(kind, name, files, license=license, description=description), key


def run_assets_demo(
    ws: Workspace, serve: Any = None, on_step: Callable[[str], None] = lambda _: None
) -> AssetsDemoReport:
    """The story (see the module doc). `serve` is unused: no oracle takes part (the `run_story` shape)."""
    started = time.monotonic()
    report = AssetsDemoReport(data_dir=str(ws.data_dir))

    def step(text: str) -> None:
        report.steps.append(text)
        on_step(text)

    who: dict[str, Signer] = {role: ws.signer(name) for role, name in ROLES}
    report.accounts = {role: s.address for role, s in who.items() if role != "operator"}
    operator, client, freelancer = who["operator"], who["client"], who["freelancer"]
    deploy(ws, operator)
    deploy_assets(ws, operator)
    token = ws.token
    report.decimals, report.symbol = token.decimals, token.symbol
    dec, sym = token.decimals, token.symbol
    prices = {k: parse_amount(v, dec) for k, v in PRICES.items()}
    report.prices = dict(prices)

    def money(units: int) -> str:
        return f"{format_amount(units, dec)} {sym}"

    for role, amount in (("client", 5_000), ("freelancer", 100), ("buyer", 1_000), ("compute_buyer", 100)):
        fund(ws, who[role].address, parse_amount(str(amount), dec))
    step(
        f"escrow, token, asset registry and licensing deployed; client, freelancer, buyer and compute buyer "
        f"funded in {sym}"
    )

    workdir = ws.data_dir / "demo-assets"
    task = prepare_task(workdir / "data")
    paths = task["paths"]
    # the held-out split: public digits the base model's creator, the client and the compute buyer hold
    public_x, public_y = _public_digits(paths["test_features"], paths["labels"])

    # ---- the dataset and the base model
    data_manifest, data_key = _manifest(
        ws, paths["train"], "dataset", "digits-labelled", "CC-BY-4.0", "8x8 digits, labelled by two people"
    )
    dataset = assets.register(
        ws,
        who["dataset_owner"],
        data_manifest,
        creators=[Share(who[f"labeler_{i + 1}"].address, bps) for i, bps in enumerate(LABELER_BPS)],
        key=data_key,
    )
    rows = len(task["y_train"])
    step(
        f"asset {dataset.asset_id}: dataset 'digits-labelled' ({rows} rows, encrypted AES-256-GCM) registered by "
        f"the data owner {who['dataset_owner'].name}, labelers {who['labeler_1'].name} "
        f"({LABELER_BPS[0] / 100:g} %) and {who['labeler_2'].name} ({LABELER_BPS[1] / 100:g} %) as creators"
    )
    base_path = train_onnx(public_x, public_y, workdir / "base-model.onnx", weak=True)
    base_manifest, base_key = _manifest(
        ws, base_path, "model", "digits-base", "Apache-2.0", "a small decision tree on public digits"
    )
    base = assets.register(ws, who["base_model_creator"], base_manifest, key=base_key)
    step(
        f"asset {base.asset_id}: base model 'digits-base' registered by its creator {who['base_model_creator'].name}"
    )

    # ---- the freelancer licenses the dataset and trains on it
    data_offer = assets.offer(
        ws, who["dataset_owner"], dataset.asset_id, price=prices["dataset"], term_seconds=90 * DAY
    )
    report.licences["dataset"] = assets.buy(ws, freelancer, data_offer)
    fetched = workdir / "freelancer"
    fetched.mkdir()
    asset_access.get(ws, freelancer, report.licences["dataset"], fetched)
    if (fetched / paths["train"].name).read_bytes() != paths["train"].read_bytes():
        report.problems.append("the freelancer's decrypted dataset differs from the registered one")
    report.dataset_sale = {role: assets.claim(ws, operator, who[role].address) for role in DATASET_PAYEES}
    step(
        f"{freelancer.name} bought a 90-day download licence on the dataset ({money(prices['dataset'])}: "
        + ", ".join(f"{r} {money(v)}" for r, v in report.dataset_sale.items())
        + "), got the key sealed to their wallet and decrypted the rows"
    )

    # ---- the paid job, its IP terms, the deliverable
    jobs = Jobs(ws)
    posted = jobs.post(
        client,
        budget=prices["budget"],
        deadline=ws.chain.next_timestamp() + 14 * DAY,
        review_period=3 * DAY,
        freelancer=freelancer.address,
        spec_hash=hashlib.sha256(
            b"Train a digit classifier on the licensed dataset, from the base model."
        ).digest(),
    )
    job_id = report.job_id = posted.job.job_id
    assets.propose_ip_terms(
        ws,
        client,
        job_id,
        transfer=True,
        creator_bps=CREATOR_BPS,
        max_upstream_bps=sum(DELIVERABLE_PARENTS_BPS),
    )
    assets.accept_ip_terms(ws, freelancer, job_id)
    step(
        f"{client.name} posted job {job_id} ({money(prices['budget'])} escrowed) and proposed its IP terms: the "
        f"rights pass to the client on payment, the freelancer keeps a {CREATOR_BPS / 100:g} % creator share; "
        f"{freelancer.name} accepted them"
    )
    x_train, y_train = _read_labelled(fetched / paths["train"].name)
    model_path = train_onnx(x_train, y_train, workdir / "digits-classifier.onnx", weak=False)
    jobs.submit(freelancer, job_id, 0, hashlib.sha256(model_path.read_bytes()).digest())
    jobs.approve(client, job_id, 0)
    job = jobs.get(job_id)
    paid = job.milestones[0].paid - fee_of(job.milestones[0].paid, job.fee_bps)
    step(
        f"{freelancer.name} trained a logistic regression on the {rows} rows and submitted its hash; "
        f"{client.name} approved: milestone paid ({money(paid)} to the freelancer after the fee)"
    )
    deliverable_manifest, deliverable_key = _manifest(
        ws, model_path, "model", "digits-classifier", "Apache-2.0", "job deliverable: logistic regression"
    )
    deliverable = assets.register_deliverable(
        ws,
        client,
        job_id,
        0,
        deliverable_manifest,
        parents=[
            Parent(dataset.asset_id, DELIVERABLE_PARENTS_BPS[0]),
            Parent(base.asset_id, DELIVERABLE_PARENTS_BPS[1]),
        ],
        key=deliverable_key,
    )
    step(
        f"asset {deliverable.asset_id}: the deliverable, registered by its owner {client.name} (job {job_id}, "
        f"creator {freelancer.name} {CREATOR_BPS / 100:g} %), derived from dataset {dataset.asset_id} "
        f"({DELIVERABLE_PARENTS_BPS[0] / 100:g} %) and base model {base.asset_id} "
        f"({DELIVERABLE_PARENTS_BPS[1] / 100:g} %)"
    )
    tuned_path = train_onnx(public_x, public_y, workdir / "digits-tuned.onnx", weak=False)
    tuned_manifest, tuned_key = _manifest(
        ws,
        tuned_path,
        "model",
        "digits-tuned",
        "Apache-2.0",
        "the deliverable fine-tuned on the client's digits",
    )
    tuned = assets.register(
        ws,
        client,
        tuned_manifest,
        parents=[Parent(deliverable.asset_id, FINE_TUNED_PARENT_BPS)],
        key=tuned_key,
    )
    report.asset_ids = {
        "dataset": dataset.asset_id,
        "base_model": base.asset_id,
        "deliverable": deliverable.asset_id,
        "fine_tuned": tuned.asset_id,
    }
    report.lineage = {
        i: [p.asset_id for p in node.parents]
        for i, node in sorted(assets.lineage(ws, tuned.asset_id).items())
    }
    step(
        f"asset {tuned.asset_id}: '{tuned_manifest.name}' registered by {client.name}, derived from asset "
        f"{deliverable.asset_id} ({FINE_TUNED_PARENT_BPS / 100:g} %); lineage "
        + "; ".join(f"{i} <- {parents or '-'}" for i, parents in report.lineage.items())
    )

    # ---- a commercial licence, distributed up the lineage and claimed
    roles = [r for r, _ in ROLES if r not in ("operator", "compute_buyer")]
    before = {r: token.balance_of(who[r].address) for r in roles}
    offer_id = assets.offer(
        ws, client, tuned.asset_id, price=prices["commercial"], term_seconds=365 * DAY, commercial=True
    )
    report.licences["commercial"] = assets.buy(ws, who["buyer"], offer_id)
    step(
        f"{who['buyer'].name} bought a one-year commercial licence on asset {tuned.asset_id} for "
        f"{money(prices['commercial'])} (licence {report.licences['commercial']}, one transaction with a permit)"
    )
    expected = assets.explain_sale(ws, tuned.asset_id, prices["commercial"]).to_accounts
    distributed = assets.distribute_all(ws, operator, tuned.asset_id)
    report.royalties = {r: assets.claim(ws, operator, who[r].address) for r in roles}
    after = {r: token.balance_of(who[r].address) for r in roles}
    report.balances = {r: {"before": before[r], "after": after[r]} for r in roles}
    step(
        f"{operator.name} distributed {money(distributed)} up the lineage and claimed for everyone: "
        + ", ".join(f"{r} {money(v)}" for r, v in report.royalties.items() if v)
    )
    received = sum(report.royalties.values())
    left = token.balance_of(ws.licensing.address)
    report.sum_check = {
        "paid": prices["commercial"],
        "received": received,
        "left_in_licensing": left,
        "ok": received == prices["commercial"] and left == 0,
    }
    step(
        f"sum check: the buyer paid {money(prices['commercial'])}, the accounts received {money(received)}, "
        f"{money(left)} left in Licensing: {'every unit accounted for' if report.sum_check['ok'] else 'MISMATCH'}"
    )
    for role in roles:
        account = who[role].address
        if report.royalties[role] != expected.get(account, 0):
            report.problems.append(
                f"{role} received {report.royalties[role]}, the lineage's split says {expected.get(account, 0)}"
            )
        change = after[role] - before[role]
        if change != (report.royalties[role] - (prices["commercial"] if role == "buyer" else 0)):
            report.problems.append(f"{role}'s balance moved by {change}, not by what it received")
    if not report.sum_check["ok"]:
        report.problems.append(f"the sum check failed: {report.sum_check}")

    # ---- the buyer downloads and decrypts
    out = workdir / "buyer"
    out.mkdir()
    done = asset_access.get(ws, who["buyer"], report.licences["commercial"], out)
    got = done.files[0].read_bytes()
    report.download = {
        "files": [p.name for p in done.files],
        "encrypted": done.encrypted,
        "sha256": hashlib.sha256(got).hexdigest(),
        "matches": got == tuned_path.read_bytes(),
    }
    step(
        f"{who['buyer'].name} downloaded asset {tuned.asset_id}: the owner's node released its key sealed to the "
        f"buyer's wallet; {done.files[0].name} decrypted, {len(got):,} bytes, "
        + (
            "identical to the client's file"
            if report.download["matches"]
            else "DIFFERENT from the client's file"
        )
    )
    if not report.download["matches"]:
        report.problems.append("the downloaded model differs from the registered one")

    # ---- compute-to-data: a score, never a row
    report.compute = _compute(ws, who, dataset.asset_id, prices["compute"], public_x, public_y, workdir, step)
    if not report.compute.get("verified"):
        report.problems.append("the compute result was not verified")
    if report.compute.get("download_refused") != "compute_only":
        report.problems.append("a compute licence got the dataset's key")
    left = token.balance_of(ws.licensing.address)
    if left:
        report.problems.append(f"{left} units are left in Licensing after every claim")
    report.seconds = round(time.monotonic() - started, 1)
    report.ok = not report.problems
    return report


def _public_digits(features: Path, labels: Path) -> tuple[Any, Any]:
    import numpy as np

    x = np.loadtxt(features, delimiter=",", skiprows=1, dtype=np.float32, ndmin=2)
    return x, np.loadtxt(labels, delimiter=",", skiprows=1, dtype=int, ndmin=1)


def _compute(
    ws: Workspace,
    who: dict[str, Signer],
    dataset_id: int,
    price: int,
    x: Any,
    y: Any,
    workdir: Path,
    step: Callable[[str], None],
) -> dict[str, Any]:
    """The compute buyer's licence, its model scored on the private dataset, the signed result checked,
    and a download with that licence refused."""
    holder = who["compute_buyer"]
    offer_id = assets.offer(
        ws, who["dataset_owner"], dataset_id, price=price, term_seconds=30 * DAY, kind="compute"
    )
    licence_id = assets.buy(ws, holder, offer_id)
    half = len(y) // 2  # their own model: trained on half of their own digits
    model = train_onnx(x[:half], y[:half], workdir / "compute-buyer-model.onnx", weak=False).read_bytes()
    request, result, _ = compute_to_data.compute(ws, holder, licence_id, params=COMPUTE_PARAMS, model=model)
    try:
        signer, verified = compute_to_data.verify_result(ws, request, result), True
    except ComputeRefused as exc:
        signer, verified = f"not verified: {exc}", False
    fields = result.to_json()
    sale = {r: assets.claim(ws, who["operator"], who[r].address) for r in DATASET_PAYEES}
    step(
        f"{holder.name} bought a compute licence on dataset {dataset_id} (licence {licence_id}) and had its own "
        f"ONNX model scored on the private rows: accuracy {result.score / SCORE_SCALE:.4f} on {result.rows} rows, "
        f"signed by the owner {signer} and {'verified' if verified else 'NOT VERIFIED'}; the result holds "
        f"only {', '.join(fields)}; the licence paid "
        + ", ".join(f"{r} {format_amount(v, ws.token.decimals)}" for r, v in sale.items())
    )
    empty = Path(tempfile.mkdtemp(prefix="compute-buyer-", dir=workdir))
    refused = ""
    try:
        asset_access.get(ws, holder, licence_id, empty)
    except KeyRequestRefused as exc:
        refused = exc.reason
        step(f"{holder.name} asks to download the dataset with that licence: refused ({exc})")
    return {
        "licence_id": licence_id,
        "sale": sale,
        "result": fields,
        "fields": sorted(fields),
        "score": result.score,
        "accuracy": result.score / SCORE_SCALE,
        "rows": result.rows,
        "signer": signer,
        "verified": verified,
        "download_refused": refused,
        "files_received": sorted(p.name for p in empty.iterdir()),
    }
