"""`proofwork serve`: a whole local platform in one process tree.

The embedded chain (persistent) is opened once and served over JSON-RPC on 127.0.0.1
(`chain.rpc_server`), so wallets, other CLIs and the oracle daemons use it at the same time while this
process holds its lock; with an RPC URL the platform runs over that node instead. The contracts are
deployed when missing (escrow and token, court, oracle committee of dev6..dev9, identity, the asset
registry and licensing), then the
components start in order: the local oracle committee first, then whatever else is handed in (the
indexer, the API and web app: their factories come from the interface layer, as the oracles' report
endpoint does). `stop` stops them in reverse order and releases the chain; everything lives in the data
directory, so the next start carries on where this one stopped.

A component is anything with a `name`, `start()` and `stop()` (and optionally a `url` to print); a
factory builds one from the running `Platform`, or returns None when it does not apply.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from proofwork.domain.errors import ChainBusy, InvalidInput, NotAllowed, NotFound, ProofworkError
from proofwork.settings import Settings

if TYPE_CHECKING:
    from proofwork.services.manifest import Deployment
    from proofwork.services.oracle.daemon import OracleDaemon, ServeReports
    from proofwork.services.workspace import Workspace

log = logging.getLogger("proofwork.serve")

LOCAL_ORACLES = ("dev6", "dev7", "dev8", "dev9")  # the local committee: n = 4, f = 1 (as the ML demo)
LOCAL_COMMITTEE_F = 1
FUNDED = ("dev1", "dev2", "dev3", "dev4", "dev5")  # test stablecoin for clients and freelancers
FUNDED_TOKENS = 100_000  # whole tokens each, minted once, when serve deploys the token
SERVING_FILE = "serve.json"  # DATA_DIR/serve.json while serve runs on the embedded chain: pid and URLs
DAEMON_START_TIMEOUT = 60.0
DAEMON_STOP_TIMEOUT = 15.0


class Cancelled(ProofworkError):
    """A start given up because a stop was asked for meanwhile."""

    exit_code = 130


class Component(Protocol):
    """Something the platform runs: started in order, stopped in reverse."""

    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"  # every component listens on this loopback interface
    rpc_port: int = 8545  # the embedded chain's JSON-RPC (0: any free port)
    port: int = 8000  # the web app and API, for the components that serve them (0: any free port)
    oracles: bool = True  # run the local oracle committee
    oracle_interval: float = 2.0  # seconds between an oracle's passes
    index_poll: float = 0.5  # seconds between the indexer's passes

    def checked(self) -> ServeOptions:
        from proofwork.domain.loopback import check_loopback
        from proofwork.settings import parse_port

        check_loopback(self.host)
        parse_port(self.rpc_port, "RPC port")
        parse_port(self.port, "port")
        if not 0.05 <= self.oracle_interval <= 3600:
            raise InvalidInput(
                f"invalid oracle interval {self.oracle_interval}: expected 0.05 to 3600 seconds"
            )
        if not 0.05 <= self.index_poll <= 3600:
            raise InvalidInput(f"invalid index poll {self.index_poll}: expected 0.05 to 3600 seconds")
        return self


@dataclass
class Account:
    name: str
    address: str
    key: str  # 0x hex: the well-known dev key (never a stored one)
    eth: int  # wei
    tokens: int  # token units


@dataclass
class Platform:
    """What a running platform gives its components."""

    settings: Settings  # rpc_url is the platform's RPC URL: every component talks to the chain through it
    options: ServeOptions
    rpc_url: str
    chain_id: int
    embedded: bool  # the data directory's embedded chain, served here
    deployment: Deployment
    say: Callable[[str], None]
    url: str | None = None  # the web app's URL: the component serving it sets it when it starts
    deployed: list[str] = field(default_factory=list)  # what this start deployed
    accounts: list[Account] = field(default_factory=list)
    token_symbol: str = ""
    token_decimals: int = 6
    cancel: threading.Event = field(default_factory=threading.Event)  # set: a stop was asked for

    def open_workspace(self) -> Workspace:
        """A workspace on the platform's chain (through its RPC URL: the chain's lock stays here)."""
        from proofwork.services.workspace import Workspace

        return Workspace.open(self.settings)


ComponentFactory = Callable[[Platform], "Component | None"]


class LocalPlatform:
    """Starts the chain (served), the deployment and the components; `stop` undoes it all."""

    def __init__(
        self,
        settings: Settings,
        options: ServeOptions,
        factories: Sequence[ComponentFactory] = (),
        *,
        say: Callable[[str], None] = log.info,
        cancel: threading.Event | None = None,
    ) -> None:
        self.settings = settings
        self.options = options.checked()
        # set (by a signal handler) to give up a start under way: checked between its steps
        self.cancel = cancel or threading.Event()
        self.factories = list(factories)
        self.say = say
        self.platform: Platform | None = None
        self.components: list[Component] = []
        self._rpc: Any = None  # chain.rpc_server.RpcServer when the embedded chain is served
        self._lock = threading.Lock()
        self._stopped = False

    def start(self) -> Platform:
        """Everything up, or (on any failure) everything already started stopped again and the error
        raised."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> Platform:
        opts = self.options
        if self.settings.rpc_url:
            rpc_url, embedded = self.settings.rpc_url, False
        else:
            from proofwork.chain.rpc_server import serve_embedded

            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
            running = serving_rpc_url(self.settings)
            try:
                self._rpc = serve_embedded(
                    self.settings.data_dir / "chain",
                    opts.host,
                    opts.rpc_port,
                    lock_timeout=0 if running else self.settings.lock_timeout,
                )
            except ChainBusy as exc:
                if running is None:
                    raise
                raise ChainBusy(
                    f"`proofwork serve` is already running on {self.settings.data_dir} (RPC URL {running})"
                ) from exc
            rpc_url, embedded = self._rpc.url, True
        # dev mode (the API and the pages may sign with the dev accounts) exactly on the embedded chain
        settings = replace(self.settings, rpc_url=rpc_url, api_dev_mode=embedded, web_dev_mode=embedded)
        from proofwork.services.workspace import Workspace

        if self.cancel.is_set():
            raise Cancelled("stopped while starting")
        with Workspace.open(settings) as ws:
            deployed = ensure_deployment(ws, oracles=opts.oracles, say=self.say)
            platform = Platform(
                settings=settings,
                options=opts,
                rpc_url=rpc_url,
                chain_id=ws.chain_id,
                embedded=embedded,
                deployment=ws.deployment,
                say=self.say,
                deployed=deployed,
                cancel=self.cancel,
            )
            platform.token_symbol, platform.token_decimals = ws.token.symbol, ws.token.decimals
        self.platform = platform
        for factory in self.factories:
            if self.cancel.is_set():
                raise Cancelled("stopped while starting")
            component = factory(platform)
            if component is None:
                continue
            component.start()
            self.components.append(component)
        platform.accounts = dev_accounts(platform)
        if embedded:
            from proofwork.storage.files import save_json

            info = {
                "pid": os.getpid(),
                "rpc_url": rpc_url,
                "url": platform.url,
                "chain_id": platform.chain_id,
            }
            save_json(self.settings.data_dir / SERVING_FILE, info, mode=0o644)
        return platform

    def stop(self) -> list[str]:
        """Stops the components in reverse order, then the JSON-RPC server (which closes the chain and
        releases its lock). Idempotent; returns the problems met (each stop is tried regardless)."""
        with self._lock:
            if self._stopped:
                return []
            self._stopped = True
        problems: list[str] = []
        for component in reversed(self.components):
            try:
                component.stop()
            except Exception as exc:  # one component failing to stop must not keep the chain locked
                problems.append(f"{component.name}: {exc.__class__.__name__}: {exc}")
        self.components.clear()
        if self._rpc is not None:
            with contextlib.suppress(OSError):
                (self.settings.data_dir / SERVING_FILE).unlink(missing_ok=True)
            try:
                self._rpc.stop()
            except Exception as exc:
                problems.append(f"JSON-RPC server: {exc.__class__.__name__}: {exc}")
            self._rpc = None
        return problems


def serving_rpc_url(settings: Settings) -> str | None:
    """The RPC URL of a `proofwork serve` running on this data directory's embedded chain, if its file
    says so (a stale file from a killed server names a dead pid: then None)."""
    try:
        info = json.loads((settings.data_dir / SERVING_FILE).read_text())
        pid, url = int(info["pid"]), str(info["rpc_url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return url


def ensure_deployment(
    ws: Workspace, *, oracles: bool = True, say: Callable[[str], None] = log.info
) -> list[str]:
    """Deploys what a local platform needs and is missing: token and escrow, the court, the oracle
    committee of dev6..dev9 (when `oracles`), the identity contracts, the asset registry and licensing
    (the `/assets` pages). Returns what was deployed. On a
    chain without dev accounts nothing can be deployed here: the deployment must exist."""
    from proofwork.services.accounts import fund
    from proofwork.services.deployment import (
        deploy,
        deploy_assets,
        deploy_committee,
        deploy_court,
        deploy_identity,
        deploy_labeling,
    )
    from proofwork.services.manifest import load_manifest

    devs = ws.dev_accounts()
    if not devs:
        ws.deployment  # noqa: B018 - raises NotFound with the `proofwork deploy` hint when absent
        return []
    operator = ws.signer("dev0")
    deployed: list[str] = []
    try:
        created = deploy(ws, operator).created
    except NotAllowed as exc:  # contracts from older sources: keep them, as `deploy` does
        if load_manifest(ws.manifest_path) is None:
            raise
        say(f"keeping the deployed contracts: {exc}")
        created = False
    if created:
        deployed.append("token and escrow")
        say("deployed the token and the escrow")
        units = FUNDED_TOKENS * 10**ws.token.decimals
        for name in FUNDED:
            fund(ws, ws.signer(name).address, units, gas_money=0)
    d = ws.deployment
    # a committee names its court when it is deployed: a court is added only before one
    if not d.committee and (not d.arbitrable or not ws.chain.has_code(d.arbitrable)):
        deploy_court(ws, operator)
        deployed.append("court")
        say("deployed the court")
    d = ws.deployment
    if oracles and (not d.committee or not ws.chain.has_code(d.committee)):
        members = [ws.signer(name).address for name in LOCAL_ORACLES]
        deploy_committee(ws, operator, members, f=LOCAL_COMMITTEE_F, force=bool(d.committee))
        deployed.append("oracle committee")
        say("deployed the oracle committee (dev6, dev7, dev8, dev9; f=1)")
    d = ws.deployment
    if d.committee and (not d.job_attester or not ws.chain.has_code(d.job_attester)):
        deploy_identity(ws, operator, force=bool(d.job_attester))
        deployed.append("identity")
        say("deployed the identity contracts")
    if deploy_assets(ws, operator).created:  # on the escrow above; kept when already there
        deployed.append("assets")
        say("deployed the asset registry and licensing")
    if deploy_labeling(ws, operator).created:  # kept when already there
        deployed.append("labeling")
        say("deployed the labeling payouts")
    return deployed


def dev_accounts(platform: Platform) -> list[Account]:
    """The chain's dev accounts with their balances (none on a chain whose accounts are unknown)."""
    with platform.open_workspace() as ws:
        token = ws.token
        return [
            Account(
                name=s.name,
                address=s.address,
                key="0x" + s.key.hex(),
                eth=ws.chain.eth_balance(s.address),
                tokens=token.balance_of(s.address),
            )
            for s in ws.dev_accounts()
        ]


# --- the local oracle committee ------------------------------------------------------------------


class OracleCommittee:
    """The oracle daemons of the committee's members whose keys are dev keys, each on a thread of its
    own, talking to the chain through the platform's RPC URL, announcing its report endpoint."""

    name = "oracle committee"

    def __init__(self, platform: Platform, serve_reports: ServeReports) -> None:
        self.platform = platform
        self.serve_reports = serve_reports
        self.daemons: list[OracleDaemon] = []
        self.threads: list[threading.Thread] = []
        self.errors: list[str] = []

    @property
    def url(self) -> str | None:
        return None

    def members(self) -> list[str]:
        """The names of the dev accounts that sit on the deployed committee."""
        with self.platform.open_workspace() as ws:
            try:
                members = {m.lower() for m in ws.committee.oracles}
            except NotFound:
                return []
            return [s.name for s in ws.dev_accounts() if s.address.lower() in members]

    def start(self) -> None:
        from proofwork.services.oracle.daemon import DaemonOptions, OracleDaemon

        opts = self.platform.options
        options = DaemonOptions(interval=opts.oracle_interval, host=opts.host, port=0, announce=True)
        names = self.members()
        if not names:
            self.platform.say("no dev account sits on the deployed committee: no oracle runs here")
        for name in names:
            daemon = OracleDaemon(
                self.platform.open_workspace, name, self.serve_reports, options, say=self._say_as(name)
            )
            thread = threading.Thread(
                target=self._run, args=(name, daemon), name=f"oracle-{name}", daemon=True
            )
            self.daemons.append(daemon)
            self.threads.append(thread)
            thread.start()
        self._wait_started()

    def _say_as(self, name: str) -> Callable[[str], None]:
        return lambda text: self.platform.say(f"{name}: {text}")

    def _run(self, name: str, daemon: OracleDaemon) -> None:
        try:
            daemon.run()
        except ProofworkError as exc:
            self.errors.append(f"{name}: {exc}")
            self.platform.say(f"{name}: stopped: {exc}")
        except Exception as exc:  # the thread's end is reported, never a traceback on the console
            log.debug("oracle %s failed", name, exc_info=True)
            self.errors.append(f"{name}: {exc.__class__.__name__}: {exc}")
            self.platform.say(f"{name}: stopped: unexpected {exc.__class__.__name__}: {exc}")

    def _wait_started(self) -> None:
        """Until every daemon serves its reports and has announced them, or stopped on its own."""
        import time

        deadline = time.monotonic() + DAEMON_START_TIMEOUT
        waiting = threading.Event()
        while time.monotonic() < deadline:
            pending = [
                d
                for d, t in zip(self.daemons, self.threads, strict=True)
                if not d.ready.is_set() and t.is_alive()
            ]
            if not pending or self.platform.cancel.is_set():
                break
            waiting.wait(0.05)
        if self.errors:
            raise InvalidInput(f"the local oracle committee did not start: {self.errors[0]}")

    def stop(self) -> None:
        for daemon in self.daemons:
            daemon.stop()
        for thread in self.threads:
            thread.join(timeout=DAEMON_STOP_TIMEOUT)
        alive = [t.name for t in self.threads if t.is_alive()]
        if alive:
            raise RuntimeError(f"still running after {DAEMON_STOP_TIMEOUT:g}s: {', '.join(alive)}")


def oracle_committee(serve_reports: ServeReports) -> ComponentFactory:
    """The factory of the local committee (the report endpoint comes from the interface layer)."""

    def build(platform: Platform) -> Component | None:
        return OracleCommittee(platform, serve_reports) if platform.options.oracles else None

    return build


# --- the indexer ----------------------------------------------------------------------------------


class _Stopping(Exception):
    """Raised from the progress callback to end a long catch-up pass when a stop was asked for (the
    batch before it is stored: the next start resumes from that checkpoint)."""


class ChainIndexer:
    """The indexer following the platform's chain into the index database (`settings.index_location`),
    a pass every `options.index_poll` seconds on a thread of its own. A failing pass is reported in
    one line and tried again at the next poll; the index resumes from its checkpoint."""

    name = "indexer"

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.where = platform.settings.index_location
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_problem: str | None = None
        self.caught_up = threading.Event()  # set after the first pass that completed
        self.passes = 0

    @property
    def url(self) -> str | None:
        return None

    def start(self) -> None:
        from proofwork.services.indexer import open_index

        store = open_index(self.where)  # here, so a bad database location fails the start in one line
        self._thread = threading.Thread(target=self._run, args=(store,), name="indexer", daemon=True)
        self._thread.start()

    def _run(self, store: Any) -> None:
        from proofwork.services.indexer import IndexOptions, follow_passes

        settings = self.platform.settings
        options = IndexOptions(confirmations=settings.index_confirmations, chunk=settings.index_chunk)
        ws: Workspace | None = None

        @contextlib.contextmanager
        def workspace() -> Any:
            nonlocal ws
            if ws is None:
                ws = self.platform.open_workspace()
            yield ws

        def progress(_: Any) -> None:
            if self._stop.is_set():
                raise _Stopping

        def pause(seconds: float) -> None:
            self._stop.wait(seconds)

        try:
            while not self._stop.is_set():
                try:
                    for result in follow_passes(
                        workspace,
                        store,
                        options,
                        poll=self.platform.options.index_poll,
                        stop=self._stop.is_set,
                        on_error=self._problem,
                        progress=progress,
                        sleep=pause,
                    ):
                        self.passes += 1
                        if not self.caught_up.is_set():
                            self.caught_up.set()
                            self.platform.say(
                                f"indexer: caught up to block {result.last} (from block {result.first}: "
                                f"{result.events} new events, {result.total_events} in all) into "
                                f"{store.where}; following the chain"
                            )
                        if self._last_problem is not None:
                            self._last_problem = None
                            self.platform.say(f"indexer: going again (block {result.last})")
                except _Stopping:
                    break
                except ProofworkError as exc:
                    self._problem(exc)
                except Exception as exc:  # reported in one line, never a traceback; tried again
                    log.debug("indexer pass failed", exc_info=True)
                    self._problem(exc, unexpected=True)
                self._stop.wait(self.platform.options.index_poll)
        finally:
            if ws is not None:
                with contextlib.suppress(Exception):
                    ws.close()
            store.close()

    def _problem(self, exc: Exception, *, unexpected: bool = False) -> None:
        """One line per distinct problem (not one per poll while it lasts)."""
        text = f"{exc.__class__.__name__}: {exc}" if unexpected else str(exc)
        if text != self._last_problem:
            self._last_problem = text
            self.platform.say(f"indexer: {text} (trying again)")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=DAEMON_STOP_TIMEOUT)
            if self._thread.is_alive():
                raise RuntimeError(f"the indexer is still running after {DAEMON_STOP_TIMEOUT:g}s")


def chain_indexer(platform: Platform) -> Component | None:
    """The factory of the indexer (always: every platform keeps its index)."""
    return ChainIndexer(platform)
