"""The web app in a real browser: Debian's chromium, headless, driven by Playwright, against the app
served by uvicorn on 127.0.0.1 over a deployed embedded-chain market with a 4-oracle committee
(`ml_fixtures.open_ml_market`) and the identity contracts.

The page's wallet is a test EIP-1193 provider (`window.ethereum`, an init script) whose `request`
goes to a Python binding that signs with a dev key (eth_account) and sends the raw transaction, as a
browser wallet would: the server never sees the key. Oracles are run by the test, between clicks.

Screenshots of the main pages go to the test's tmp dir and to build/screenshots/; axe-core (pinned,
from npm: `make web-assets`) checks each main page for serious or critical violations."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from eth_account import Account
from eth_account.messages import encode_defunct

from proofwork.chain.encoding import keccak
from proofwork.services.credentials import issuing
from proofwork.services.demo_ml import THRESHOLD
from proofwork.services.workspace import Signer, Workspace
from proofwork.settings import Settings
from proofwork.web import create_web_app
from proofwork.web.app import AUDIENCE
from tests.conftest import free_port
from tests.integration.ml_fixtures import MlMarket, open_ml_market

# the tests build on each other in order (one browser, one market): one worker runs them all
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("web-browser")]

SKILL = "vision/digit-classification"
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / ".tools" / "web" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "build" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PROVIDER = """
(() => {
  const listeners = {};
  window.ethereum = {
    isProofworkInjectedWallet: true,
    on(event, fn) { (listeners[event] = listeners[event] || []).push(fn); },
    removeListener(event, fn) { listeners[event] = (listeners[event] || []).filter((f) => f !== fn); },
    async request({ method, params }) {
      const answer = await window.__pwInjectedWallet(method, params || []);
      if (answer.error) {
        const error = new Error(answer.error.message);
        error.code = answer.error.code;
        throw error;
      }
      return answer.result;
    },
  };
})();
"""


class InjectedWallet:
    """What a browser wallet does for the page, with one dev key at a time: accounts, chain id,
    `eth_signTransaction` (signs the transaction the page gives it; off with `signs_only = False`, as
    MetaMask, which only sends), `eth_sendTransaction` (it fills in nonce, gas and fees, signs and
    sends), `eth_signTypedData_v4` (permits) and `personal_sign`."""

    def __init__(self, ws: Workspace, lock: threading.RLock) -> None:
        self.ws = ws
        self.lock = lock
        self.signer: Signer | None = None
        self.signs_only = True
        self.sent: list[str] = []  # the hash of every transaction it signed
        self.permits: list[dict[str, Any]] = []

    def use(self, signer: Signer) -> None:
        self.signer = signer

    def handle(self, method: str, params: list[Any]) -> dict[str, Any]:
        try:
            return {"result": self._answer(method, params)}
        except Exception as exc:  # the page sees what a wallet would say
            return {"error": {"code": 4001, "message": f"{type(exc).__name__}: {exc}"}}

    def _answer(self, method: str, params: list[Any]) -> Any:
        assert self.signer is not None, "the test must choose the wallet's account"
        if method in ("eth_requestAccounts", "eth_accounts"):
            return [self.signer.address]
        if method == "eth_chainId":
            return hex(self.ws.chain_id)
        if method == "wallet_switchEthereumChain":
            return None
        if method == "personal_sign":
            message = encode_defunct(hexstr=params[0])
            return "0x" + bytes(Account.sign_message(message, self.signer.key).signature).hex()
        if method == "eth_signTypedData_v4":
            assert params[0].lower() == self.signer.address.lower()
            typed = json.loads(params[1])
            self.permits.append(typed)
            return "0x" + bytes(Account.sign_typed_data(self.signer.key, full_message=typed).signature).hex()
        if method == "eth_signTransaction" and self.signs_only:
            return self._sign(params[0])
        if method == "eth_sendTransaction":
            return self._send(params[0])
        raise ValueError(f"unsupported method {method}")

    def _sign(self, request: dict[str, Any]) -> str:
        """Signs the transaction as given (the page's nonce, gas and fees), as a wallet shows and signs it."""
        assert self.signer is not None
        if request["from"].lower() != self.signer.address.lower():
            raise ValueError("the transaction is not from the connected account")
        tx = {k: (v if k in ("to", "data") else int(v, 16)) for k, v in request.items() if k != "from"}
        raw = bytes(Account.sign_transaction(tx, self.signer.key).raw_transaction)
        self.sent.append("0x" + keccak(raw).hex())
        return "0x" + raw.hex()

    def _send(self, request: dict[str, Any]) -> str:
        assert self.signer is not None
        if request["from"].lower() != self.signer.address.lower():
            raise ValueError("the transaction is not from the connected account")
        web3 = self.ws.chain.web3
        with self.lock:
            tx: dict[str, Any] = {
                "from": self.signer.address,
                "to": web3.to_checksum_address(request["to"]),
                "data": request["data"],
                "value": int(request.get("value") or "0x0", 16),
                "chainId": self.ws.chain_id,
            }
            assert int(request["chainId"], 16) == self.ws.chain_id
            tx["gas"] = int(web3.eth.estimate_gas(tx) * 1.2) + 10_000  # type: ignore[arg-type]
            base = int(web3.eth.get_block("latest").get("baseFeePerGas", 0) or 0)
            tx.update(
                nonce=web3.eth.get_transaction_count(self.signer.address, "pending"),
                maxFeePerGas=2 * base + 1_000_000_000,
                maxPriorityFeePerGas=1_000_000_000,
            )
            signed = Account.sign_transaction(tx, self.signer.key)
            tx_hash = "0x" + bytes(web3.eth.send_raw_transaction(signed.raw_transaction)).hex()
        self.sent.append(tx_hash)
        return tx_hash


@dataclass
class Web:
    url: str
    market: MlMarket
    lock: threading.RLock
    wallet: InjectedWallet
    browser: Any
    shots: Path
    jobs: dict[str, int] = field(default_factory=dict)

    def page(self, *, wallet: bool = True, **options: Any) -> AbstractContextManager[Any]:
        return browser_page(self.browser, self.wallet if wallet else None, **options)

    def made(self, kind: str) -> int:
        """The id of what an earlier test of this module made through the pages (they run in order)."""
        if kind not in self.jobs:
            pytest.fail(
                f"no {kind} job yet: this test needs the module's earlier tests (run the whole module)"
            )
        return self.jobs[kind]

    def shot(self, page: Any, name: str) -> None:
        screenshot(page, self.shots, name)

    def chain(self) -> Any:
        """The market under the app's lock (the embedded chain takes one caller at a time)."""
        return self.lock


def screenshot(page: Any, shots: Path, name: str) -> None:
    """The whole page as `name`.png in `shots` and in build/screenshots/."""
    path = shots / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / path.name)


@contextmanager
def browser_page(browser: Any, wallet: InjectedWallet | None, **options: Any) -> Iterator[Any]:
    """A page in a new browser context, with the injected test wallet unless `wallet` is None."""
    context = browser.new_context(**options)
    if wallet is not None:
        context.add_init_script(PROVIDER)
        context.expose_function("__pwInjectedWallet", wallet.handle)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        yield page
    finally:
        context.close()


@contextmanager
def serving(app: Any) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory, digits_task: dict[str, Path]) -> Iterator[Web]:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Debian's chromium is missing: `make browser`"
    assert AXE.exists(), "axe-core is missing: `make web-assets`"
    data_dir = tmp_path_factory.mktemp("web")
    with open_ml_market("embedded", None, data_dir / "pw", digits_task) as market:
        pw = market.pw
        pw.identity.deploy("dev0")
        pw.identity.create_issuer("proofwork", "dev0")
        pw.identity.register_issuer("proofwork")
        pw.identity.mint_badge("dev0", "dev1", "org/verified-client")  # trust reaches the client
        for node in market.nodes:
            node.attest = True  # the settling oracle records JobCompleted (and earns the badge)
        lock = threading.RLock()

        @contextmanager
        def workspace() -> Iterator[Workspace]:
            with lock:
                yield pw.ws

        app = create_web_app(workspace, Settings(data_dir=data_dir / "pw"))
        with serving(app) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                yield Web(
                    url, market, lock, InjectedWallet(pw.ws, lock), browser, tmp_path_factory.mktemp("shots")
                )
            finally:
                browser.close()


def act(page: Any, form: str) -> str:
    """Submits a `data-action` form and waits for its script: the page reloaded with "Done: ..." (what
    it says after the transactions are mined), or the form's error."""
    page.click(f"{form} button[type=submit]")
    handle = page.wait_for_function(
        f"""() => {{
          const flash = document.getElementById('flash');
          if (flash && !flash.hidden && flash.textContent) return flash.textContent;
          const r = document.querySelector('{form} .result.error');
          return r ? r.textContent : null;
        }}""",
        timeout=120_000,
    )
    return str(handle.json_value())


def connect(page: Any) -> None:
    page.click("#connect")
    page.wait_for_function(
        "() => document.getElementById('wallet-status').textContent.startsWith('Wallet connected')"
    )


def axe_violations(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, { resultTypes: ['violations'] })")
    assert len(result["passes"]) > 10, "axe-core checked (almost) nothing"
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


# --- the flows ----------------------------------------------------------------------------------------


def test_post_an_evaluated_job_submit_a_model_see_the_score_and_the_payment(web: Web) -> None:
    ml = web.market
    web.wallet.use(ml.client)
    with web.page() as page:
        page.goto(web.url + "/jobs/new")
        connect(page)
        page.fill("#budget", "250.5")
        page.fill("#deadline_days", "7")
        page.fill("#review", "2d")
        page.fill("#freelancer", ml.good.address)
        page.check("#evaluated")
        page.set_input_files("#spec", str(ml.spec))
        page.set_input_files("#labels", str(ml.labels))
        sent_before = len(web.wallet.sent)
        page.click("#post-job button[type=submit]")
        page.wait_for_url(re.compile(r".*/jobs/\d+$"), timeout=120_000)
        job_id = int(page.url.rsplit("/", 1)[1])
        # the wallet signed the permit, then the creation and the evaluation's registration
        assert len(web.wallet.sent) - sent_before == 2 and web.wallet.permits[-1]["primaryType"] == "Permit"
        with web.chain():
            job = ml.pw.jobs.get(job_id)
            evaluation = ml.evaluations.get(job_id)
        assert job.client == ml.client.address and job.budget == ml.pw.amount("250.5")
        assert ml.evaluations.binding_problem(job, evaluation) is None
        body = page.locator("body").inner_text()
        assert "digits-classifier" in body and "Evaluation report" in body and "250.5 pwUSD" in body
        assert page.inner_text("#threshold") == str(THRESHOLD)
        assert "No score settled yet" in body
        web.jobs["evaluated"] = job_id
    with web.chain():
        ml.pw.identity.declare_skill("dev1", job_id, SKILL)

    web.wallet.use(ml.good)
    with web.page() as page:
        page.goto(f"{web.url}/jobs/{job_id}")
        connect(page)
        page.set_input_files("#deliverable", str(ml.models["good"]))
        assert "Done:" in act(page, "#submit-form")
        page.wait_for_selector("#milestones td:has-text('submitted')")
    with web.chain():
        assert ml.pw.jobs.get(job_id).milestones[0].status.label == "submitted"
        before = ml.pw.balance(ml.good.address)
        ml.settle_all()
        paid = ml.pw.balance(ml.good.address) - before
        settled = ml.pw.ws.committee.events("ScoreSettled", subject=job_id)
    assert paid > 0 and len(settled) == 1 and settled[0].args["passed"]

    with web.page() as page:
        page.goto(f"{web.url}/jobs/{job_id}")
        assert page.inner_text("#job-state") == "completed"
        score = page.inner_text("#scores td.score")
        assert score == f"{settled[0].args['median'] / 10**6:.6f}".rstrip("0").rstrip(".")
        assert "passed: paid" in page.inner_text("#scores")
        assert page.inner_text("#paid") == "250.5 pwUSD"
        history = page.inner_text(".history")
        # the committee's verdict pays through the escrow's `resolve`: the net amount, in token units
        assert f"resolved by the arbiter: {ml.pw.format(paid)} pwUSD to the freelancer" in history
        # every transaction is linked, and its page says it succeeded
        link = page.locator("#scores a.tx").first.get_attribute("href")
        assert link == f"/tx/{settled[0].tx_hash}"
        web.shot(page, "job-evaluated")
        page.goto(web.url + link)
        assert page.inner_text("#tx-status") == "success"


def test_post_a_plain_job_submit_and_approve_through_the_wallet(web: Web) -> None:
    ml = web.market
    web.wallet.use(ml.client)
    web.wallet.signs_only = False  # a wallet that only sends (MetaMask): it sends what the page prepared
    with web.page() as page:
        page.goto(web.url + "/jobs/new")
        connect(page)
        page.fill("#budget", "40")
        page.fill("#milestones", "2")
        page.fill("#freelancer", ml.weak.address)
        web.shot(page, "post-job")
        page.click("#post-job button[type=submit]")
        page.wait_for_url(re.compile(r".*/jobs/\d+$"), timeout=120_000)
        job_id = int(page.url.rsplit("/", 1)[1])
    web.wallet.signs_only = True
    web.jobs["plain"] = job_id
    web.wallet.use(ml.weak)
    with web.page() as page:
        page.goto(f"{web.url}/jobs/{job_id}")
        connect(page)
        report = ml.workdir / "report.txt"
        report.write_text("the work")
        page.set_input_files("#deliverable", str(report))
        assert "Done:" in act(page, "#submit-form")
    web.wallet.use(ml.client)
    with web.page() as page:
        page.goto(f"{web.url}/jobs/{job_id}")
        connect(page)
        page.fill("#approve-milestone", "1")
        assert "Done:" in act(page, "#approve-form")
        page.wait_for_selector("#milestones td:has-text('paid')")
        assert page.inner_text("#held") == "20 pwUSD"
    with web.chain():
        job = ml.pw.jobs.get(job_id)
    assert [m.status.label for m in job.milestones] == ["paid", "open"]
    # the freelancer cannot approve: the server refuses before anything is sent
    web.wallet.use(ml.weak)
    with web.page() as page:
        page.goto(f"{web.url}/jobs/{job_id}")
        connect(page)
        sent = len(web.wallet.sent)
        page.fill("#approve-milestone", "2")
        text = act(page, "#approve-form")
        assert "client" in text and len(web.wallet.sent) == sent, text


def test_job_board_filters_on_the_server(web: Web) -> None:
    evaluated, plain = web.made("evaluated"), web.made("plain")
    with web.page(wallet=False) as page:
        page.goto(web.url + "/")
        rows = page.locator("#jobs tbody tr")
        assert rows.count() == 2
        web.shot(page, "job-board")
        page.select_option("#kind", "evaluated")
        page.click("form.filters button[type=submit]")
        page.wait_for_url(re.compile(r".*kind=evaluated.*"))
        assert page.locator("#jobs tbody tr").count() == 1
        assert f"#{evaluated}" in page.inner_text("#jobs")
        page.goto(web.url + "/?state=active&min_budget=30&max_budget=50")
        assert page.locator("#jobs tbody tr").count() == 1 and f"#{plain}" in page.inner_text("#jobs")
        page.goto(web.url + "/?q=digits+accuracy")
        assert page.locator("#jobs tbody tr").count() == 1
        page.goto(web.url + "/?min_budget=1000")
        assert page.inner_text("#count") == "0 jobs"
        page.goto(web.url + "/?party=" + web.market.weak.address)
        assert page.locator("#jobs tbody tr").count() == 1
        response = page.goto(web.url + "/?state=lost")
        assert response.status == 400 and "invalid state 'lost'" in page.inner_text(".error")


def test_profile_shows_reputation_badges_and_completed_work(web: Web) -> None:
    ml = web.market
    job_id = web.made("evaluated")
    with web.chain():
        (record,) = [c for c in ml.pw.identity.completions() if c.job_id == job_id]
        reputation = ml.pw.identity.reputation(ml.good.address)
    assert record.verified and reputation.score > 0
    with web.page(wallet=False) as page:
        page.goto(f"{web.url}/profiles/{ml.good.address}")
        assert page.inner_text("#address") == ml.good.address
        assert f"#{job_id} (completed)" in page.inner_text("main")
        completions = page.inner_text("#completions")
        assert f"#{job_id}" in completions and SKILL in completions
        shown = f"{record.score / 10**6:.6f}".rstrip("0")
        assert shown in completions and shown in page.inner_text("#contributions")
        assert SKILL in page.inner_text("#badge-list") and "earned by a verified job" in page.inner_text(
            "#badge-list"
        )
        assert f"{reputation.score:.6f}" in page.inner_text("#rep-score")
        assert f"#{job_id}" in page.inner_text("#contributions")
        assert "How it is computed" in page.inner_text("main")
        web.shot(page, "profile")
        # a client's profile: no reputation as a freelancer, with the reason
        page.goto(f"{web.url}/profiles/{ml.oracles[0].address}")
        assert page.locator("#rep-score, #rep-none").count() == 1
        response = page.goto(f"{web.url}/profiles/0x1234")
        assert response.status == 400 and "address" in page.inner_text(".error")


def test_verify_a_credential(web: Web) -> None:
    ml = web.market
    with web.chain():
        record = ml.pw.identity.issue(
            "proofwork", ml.good.address, issuing.VCT_SKILL, {"skill": "ml/classification", "level": 3}
        )
    with web.page(wallet=False) as page:
        page.goto(web.url + "/credentials/verify")
        nonce = page.input_value("#nonce")
        assert page.input_value("#audience") == AUDIENCE and len(nonce) >= 12
        with web.chain():
            shown = ml.pw.identity.present("dev2", record.id, ["skill"], AUDIENCE, nonce)
        page.fill("#presentation", shown)
        page.click("#verify-form button[type=submit]")
        page.wait_for_selector("#verify-result")
        result = page.inner_text("#verify-result")
        assert "Verified" in result and "accredited in the registry" in result
        assert '"ml/classification"' in page.inner_text("#claims") and "level" not in page.inner_text(
            "#claims"
        )
        assert ml.good.address in result
        web.shot(page, "credential-verified")
        # the same presentation for another nonce is refused, with the reason
        page.goto(web.url + "/credentials/verify")
        page.fill("#presentation", shown)
        page.click("#verify-form button[type=submit]")
        page.wait_for_selector("#verify-result")
        assert "credential rejected (wrong-nonce)" in page.inner_text("#verify-result")


def test_download_a_statement(web: Web) -> None:
    ml = web.market
    with web.page(wallet=False) as page:
        page.goto(f"{web.url}/profiles/{ml.good.address}")
        with page.expect_download() as info:
            page.click("#statement")
        download = info.value
        assert download.suggested_filename == f"proofwork-statement-{ml.good.address}.csv"
        rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text())))
    with web.chain():
        balance = ml.pw.balance(ml.good.address)
    # funded with 10 tokens outside proofwork; everything else came from the escrow
    assert [r["direction"] for r in rows] == ["in"]
    assert int(rows[0]["amount_units"]) == balance - ml.pw.amount("10")
    assert rows[0]["job"] == str(web.made("evaluated")) and rows[0]["contract"] == "escrow"
    assert rows[0]["amount"] == ml.pw.format(int(rows[0]["amount_units"]))
    with web.page(wallet=False) as page:
        response = page.request.get(f"{web.url}/statements/{ml.client.address}.csv")
        assert response.ok and response.headers["content-type"].startswith("text/csv")
        text = response.text()
    client_rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["direction"] for r in client_rows} == {"out"}
    assert sum(-int(r["amount_units"]) for r in client_rows) == ml.pw.amount("290.5")


def test_competition_leaderboard(web: Web) -> None:
    from proofwork.services.competitions import Competitions

    ml, pw = web.market, web.market.pw
    comps = Competitions(pw.ws)
    with web.chain():
        comp_id, _ = comps.create(
            ml.client,
            ml.spec,
            ml.labels,
            prize=pw.amount("500"),
            deadline=pw.now() + 86_400,
            reveal_period=86_400,
            prize_bps=[10_000],
            min_score=0,
            entry_bond=pw.amount("1"),
        )
        for _ in range(2):
            ml.run_oracles()
        assert comps.get(comp_id).labels_confirmed
        good, _ = comps.enter(ml.good, comp_id, ml.models["good"])
        weak, _ = comps.enter(ml.weak, comp_id, ml.models["weak"])
        ml.run_oracles()
    web.jobs["competition"] = comp_id
    with web.page(wallet=False) as page:
        page.goto(web.url + "/competitions")
        assert "500 pwUSD" in page.inner_text("#competitions")
        page.click(f"a[href='/competitions/{comp_id}']")
        page.wait_for_selector("#leaderboard")
        assert page.inner_text("#comp-state") == "open for entries"
        rows = page.locator("#leaderboard tbody tr")
        assert rows.count() == 2
        first, second = (rows.nth(i).locator("td").all_inner_texts() for i in (0, 1))
        assert (first[1], second[1]) == (str(good), str(weak))
        assert float(first[3]) > float(second[3]) > 0 and first[4] == "4"
        assert first[5] == "hidden"  # the private part decides the prizes, after the reveal
        web.shot(page, "competition")


def test_read_only_without_a_wallet(web: Web) -> None:
    with web.page(wallet=False) as page:
        page.goto(f"{web.url}/jobs/{web.made('plain')}")
        assert "no wallet found" in page.inner_text("#wallet-status")
        page.fill("#approve-milestone", "2")
        page.click("#approve-form button[type=submit]")
        page.wait_for_selector("#approve-form .result.error")
        assert "connect a wallet" in page.inner_text("#approve-form .result")
        # times are shown in the browser's locale, with the UTC time kept in the element
        stamp = page.locator("time[data-unix]").first
        assert stamp.inner_text() != stamp.get_attribute("datetime")
        response = page.goto(f"{web.url}/jobs/999")
        assert response.status == 404 and "no job 999" in page.inner_text(".error")


def test_pages_fit_a_phone_screen(web: Web) -> None:
    with web.page(wallet=False, viewport={"width": 375, "height": 740}, is_mobile=True) as page:
        for name, path in (
            ("phone-board", "/"),
            ("phone-job", f"/jobs/{web.made('evaluated')}"),
            ("phone-profile", f"/profiles/{web.market.good.address}"),
        ):
            page.goto(web.url + path)
            overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} is {overflow} px wider than a phone"
            web.shot(page, name)


def test_no_serious_or_critical_accessibility_violations(web: Web) -> None:
    pages = [
        "/",
        "/jobs/new",
        f"/jobs/{web.made('evaluated')}",
        f"/jobs/{web.made('plain')}",
        f"/profiles/{web.market.good.address}",
        "/credentials/verify",
        "/competitions",
        f"/competitions/{web.made('competition')}",
    ]
    found = {}
    with web.page() as page:
        # the check can fail: a form field without a label and an image without text are caught
        page.goto(web.url + "/")
        page.evaluate(
            "() => document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=x><input>')"
        )
        assert {v["id"] for v in axe_violations(page)} >= {"image-alt", "label"}
        for path in pages:
            page.goto(web.url + path)
            violations = axe_violations(page)
            if violations:
                found[path] = [
                    (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in violations
                ]
    assert not found, found
