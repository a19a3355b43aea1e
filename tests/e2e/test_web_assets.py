"""The asset and licence pages in a real browser (Debian's chromium, headless, Playwright), as in
tests/e2e/test_web.py and with its injected test wallet: the asset list and its filters, an asset with
its creators, lineage, offers and a sale's split, a licence bought through the wallet (the permit, then
`buy`), the licence page; axe-core finds no serious or critical violation on any of them.

The market is a copy of the session's deployed data directory (`deployed_template`) with the asset
contracts deployed, a dataset (dev3, labeled by dev4) and a model derived from it (dev2) on offer."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from proofwork.domain.assets import Parent, Share
from proofwork.sdk import Proofwork
from proofwork.services.workspace import Workspace
from proofwork.settings import Settings
from proofwork.web import create_web_app
from tests.e2e.conftest import copy_data_dir
from tests.e2e.test_web import (
    AXE,
    CHROMIUM,
    CHROMIUM_ARGS,
    InjectedWallet,
    act,
    axe_violations,
    browser_page,
    connect,
    screenshot,
    serving,
)

# the tests build on each other in order (one browser, one market): one worker runs them all
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("web-browser-assets")]

DAY = 86_400


@dataclass
class Site:
    url: str
    pw: Proofwork
    lock: threading.RLock
    wallet: InjectedWallet
    browser: Any
    shots: Path
    dataset: int
    model: int
    offer: int

    def page(self, *, wallet: bool = True) -> AbstractContextManager[Any]:
        return browser_page(self.browser, self.wallet if wallet else None)

    def shot(self, page: Any, name: str) -> None:
        screenshot(page, self.shots, name)


@pytest.fixture(scope="module")
def site(deployed_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Debian's chromium is missing: `make browser`"
    assert AXE.exists(), "axe-core is missing: `make web-assets`"
    root = tmp_path_factory.mktemp("web-assets")
    data_dir = copy_data_dir(deployed_template, root / "data")
    (root / "train.csv").write_bytes(b"x,y\n1,0\n2,1\n")
    (root / "model.onnx").write_bytes(b"onnx bytes")
    with Proofwork.open(data_dir) as pw:
        pw.assets.deploy("dev0")
        manifest, _ = pw.assets.manifest(
            [root / "train.csv"], kind="dataset", name="digits", license="CC-BY-4.0"
        )
        dataset = pw.assets.register("dev3", manifest, creators=[Share(pw.address("dev4"), 3_000)]).asset_id
        manifest, _ = pw.assets.manifest(
            [root / "model.onnx"], kind="model", name="digits-clf", license="MIT"
        )
        model = pw.assets.register("dev2", manifest, parents=[Parent(dataset, 2_000)]).asset_id
        offer = pw.assets.offer("dev2", model, price=pw.amount("10"), term_seconds=30 * DAY, commercial=True)
        lock = threading.RLock()

        @contextmanager
        def workspace() -> Iterator[Workspace]:
            with lock:
                yield pw.ws

        app = create_web_app(workspace, Settings(data_dir=data_dir))
        with serving(app) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                yield Site(url, pw, lock, InjectedWallet(pw.ws, lock), browser, root, dataset, model, offer)
            finally:
                browser.close()


def test_asset_list_and_its_filters(site: Site) -> None:
    with site.page(wallet=False) as page:
        page.goto(site.url + "/")
        page.click("nav >> text=Models and datasets")
        page.wait_for_url(re.compile(r".*/assets$"))
        assert page.locator("#assets tbody tr").count() == 2
        assert page.inner_text("#count") == "2 assets"
        site.shot(page, "assets")
        assert axe_violations(page) == []
        page.select_option("#kind", "dataset")
        page.click("form.filters button[type=submit]")
        page.wait_for_url(re.compile(r".*kind=dataset.*"))
        rows = page.locator("#assets tbody tr")
        assert rows.count() == 1 and f"#{site.dataset}" in rows.first.inner_text()
        page.goto(site.url + "/assets?owner=" + site.pw.address("dev2"))
        assert page.locator("#assets tbody tr").count() == 1 and "digits" not in page.inner_text("#count")
        assert f"#{site.model}" in page.inner_text("#assets")
        page.goto(site.url + "/assets?owner=" + site.pw.address("dev5"))
        assert page.inner_text("#count") == "0 assets"
        response = page.goto(site.url + "/assets?kind=tree")
        assert response.status == 400 and "unknown asset kind 'tree'" in page.inner_text(".error")


def test_asset_page_shows_creators_lineage_offers_and_the_split(site: Site) -> None:
    pw = site.pw
    with site.page(wallet=False) as page:
        page.goto(f"{site.url}/assets/{site.dataset}")
        assert "digits" in page.inner_text("h1") and page.inner_text("#asset-kind") == "dataset"
        creators = page.inner_text("#creators")
        assert "30 %" in creators and "70 %" in creators  # the labeler's share, the owner's rest
        page.click(f"#children a[href='/assets/{site.model}']")
        page.wait_for_url(re.compile(rf".*/assets/{site.model}$"))
        assert "digits-clf" in page.inner_text("h1") and "MIT" in page.inner_text("#licence")
        assert "20 % of revenue" in page.inner_text("#parents")
        assert page.locator(f"#parents a[href='/assets/{site.dataset}']").count() == 1
        assert f"Every ancestor: #{site.dataset}." in page.inner_text("body")
        offers = page.inner_text("#offers")
        assert "10 pwUSD" in offers and "commercial" in offers and "30 days" in offers
        split = {
            row.locator("td").nth(1).inner_text(): row.locator("td").nth(2).inner_text()
            for row in page.locator("#split tbody tr").all()
        }
        # the dataset's 20 %: 30 % of it to the labeler, the rest to its owner; the model's owner keeps 80 %
        assert split == {
            f"owner of #{site.model}": "8 pwUSD",
            f"owner of #{site.dataset}": "1.4 pwUSD",
            f"creator of #{site.dataset}": "0.6 pwUSD",
        }
        assert page.locator(f"a[href='/profiles/{pw.address('dev2')}']").count() >= 1
        site.shot(page, "asset")
        assert axe_violations(page) == []
        prov = page.goto(f"{site.url}/assets/{site.model}/lineage.json")
        assert prov.status == 200 and f"asset:{site.dataset}" in prov.text()
        missing = page.goto(f"{site.url}/assets/99")
        assert missing.status == 404 and "no asset 99" in page.inner_text(".error")


def test_buying_a_licence_through_the_wallet(site: Site) -> None:
    pw = site.pw
    buyer = pw.signer("dev1")  # holds the deployed template's test stablecoin
    site.wallet.use(buyer)
    with site.lock:
        before = pw.balance(buyer.address)
    with site.page() as page:
        page.goto(f"{site.url}/assets/{site.model}")
        connect(page)
        sent = len(site.wallet.sent)
        page.click(f"#buy-{site.offer} button[type=submit]")
        page.wait_for_url(re.compile(r".*/licences/\d+$"), timeout=120_000)
        licence_id = int(page.url.rsplit("/", 1)[1])
        # the wallet signed the permit, then the purchase
        assert site.wallet.permits[-1]["primaryType"] == "Permit" and len(site.wallet.sent) - sent == 1
        assert page.inner_text("#licence-status") == "valid"
        assert f"licence {licence_id} bought" in page.inner_text("#flash")
        assert buyer.address[-4:] in page.inner_text("#holder") and page.inner_text("#price") == "10 pwUSD"
        assert "download, commercial use" in page.inner_text("#licence-kind")
        site.shot(page, "licence")
        assert axe_violations(page) == []
    with site.lock:
        lic = pw.assets.licence(licence_id)
        assert (
            lic.holder == buyer.address
            and lic.valid
            and before - pw.balance(buyer.address) == pw.amount("10")
        )
    with site.page(wallet=False) as page:
        page.goto(f"{site.url}/assets/{site.model}")
        assert page.inner_text("#sold") == "1 licence sold"
        page.click("#sold")
        page.wait_for_url(re.compile(rf".*/licences\?asset={site.model}$"))
        assert page.locator("#licences tbody tr").count() == 1 and f"#{licence_id}" in page.inner_text(
            "#licences"
        )
        assert axe_violations(page) == []
        page.goto(f"{site.url}/licences?holder={pw.address('dev5')}")
        assert page.inner_text("#count") == "0 licences"
        page.fill("#holder", buyer.address)
        page.click("form.filters button[type=submit]")
        page.wait_for_url(re.compile(r".*holder=.*"))
        assert "valid" in page.inner_text("#licences tbody tr")
        response = page.goto(f"{site.url}/licences?holder=0x123")
        assert response.status == 400 and "holder" in page.inner_text(".error")
    # a wallet without the price is refused before anything is signed
    site.wallet.use(pw.signer("dev7"))
    with site.page() as page:
        page.goto(f"{site.url}/assets/{site.model}")
        connect(page)
        sent = len(site.wallet.sent)
        text = act(page, f"#buy-{site.offer}")
        assert "holds less" in text and len(site.wallet.sent) == sent, text
        missing = page.goto(f"{site.url}/licences/{licence_id + 1}")
        assert missing.status == 404 and f"no licence {licence_id + 1}" in page.inner_text(".error")
