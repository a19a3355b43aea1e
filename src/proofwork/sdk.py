"""The Python SDK: one object for everything the CLI (and later the API) does.

    from proofwork.sdk import Proofwork

    with Proofwork.open(data_dir="~/.proofwork") as pw:          # embedded chain
        pw.deploy()
        client, freelancer = pw.signer("dev1"), pw.signer("dev2")
        pw.fund(client.address, pw.amount("5000"))
        job = pw.jobs.post(client, budget=pw.amount("1500.50"), milestones=2,
                           deadline=pw.now() + 7 * 86400, review_period=3 * 86400,
                           freelancer=freelancer.address).job
        pw.jobs.submit(freelancer, job.job_id, 0, deliverable_sha256)
        pw.jobs.approve(client, job.job_id, 0)

Disputes go to a court of staked jurors when a job names the court's adapter as its arbiter:

        pw.court.deploy()                                          # PWK, Court, EscrowArbitrable
        job = pw.jobs.post(client, ..., arbiter=pw.court.address).job
        case = pw.court.open(freelancer, job.job_id, 0).case       # raise, open, pay the fee
        pw.court.pay_fee(client, case.case_id)                     # else the freelancer wins by default
        pw.court.advance("dev0", case.case_id)                     # after the evidence period: the draw
        pw.court.commit("dev3", case.case_id, 1); pw.court.reveal("dev3", case.case_id)

A job that works on licensed models or datasets buys their licences in the flow that funds it:

        out = pw.jobs.post(client, ..., inputs=JobInputs(offers=(offer_id,)))
        out.input_assets, out.terms_cid                            # the licences, the terms document
        pw.job_inputs(out.job.job_id).all_valid                    # checked on chain, by anyone

An oracle runs in the SDK as in the CLI: `pw.oracle("dev6", OracleOptions(passes=10)).run()`.

Pass `rpc_url="http://127.0.0.1:8545"` to drive any EVM node instead. Amounts are integer
token units (`pw.amount("1500.50")` converts exactly); milestones are numbered from 0.
Every failure raises a `proofwork.domain.errors.ProofworkError` with a one-line message.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any

from proofwork.chain.receipts import Receipt
from proofwork.domain.asset_access import KeyRequest
from proofwork.domain.assets import AssetManifest, Parent, Share, build_manifest
from proofwork.domain.court import CourtParams
from proofwork.domain.job import ZERO_HASH
from proofwork.domain.units import format_amount, parse_amount
from proofwork.services import accounts as account_service
from proofwork.services import (
    asset_access,
    asset_listing,
    assets,
    attestations,
    badges,
    deployment,
    issuers,
    reputation,
)
from proofwork.services.competitions import Competitions
from proofwork.services.credentials import issuing, profiles, status_lists, verification, wallet
from proofwork.services.deployment import (
    DEFAULT_CHALLENGE_WINDOW,
    DEFAULT_FEE_BPS,
    DeployResult,
    deploy,
    deploy_committee,
)
from proofwork.services.disputes import AppealView, CaseOutcome, CaseView, Disputes
from proofwork.services.evaluated_jobs import Evaluations
from proofwork.services.job_inputs import JobInputs, JobInputsView
from proofwork.services.job_inputs import view as job_inputs_view
from proofwork.services.job_listing import JobFilter, JobPage, list_jobs
from proofwork.services.jobs import Jobs, Outcome
from proofwork.services.jurors import Jurors, SeatView, StakeOutcome, VoteOutcome
from proofwork.services.oracle.daemon import DaemonOptions as OracleOptions
from proofwork.services.oracle.daemon import OracleDaemon
from proofwork.services.ranking_challenges import ChallengeOutcome, RankingChallenges
from proofwork.services.workspace import PasswordProvider, Signer, Workspace
from proofwork.settings import Settings

__all__ = [
    "Assets",
    "Court",
    "Identity",
    "JobFilter",
    "JobInputs",
    "JobPage",
    "Jobs",
    "Outcome",
    "Proofwork",
    "Signer",
]

Who = str | Signer


class Court:
    """Disputes of plain jobs before proofwork's court of staked jurors (the `dispute`, `juror` and
    `court` commands). Parties and jurors are names, addresses or Signers; cases are the adapter's
    case ids (from 1); milestones are numbered from 0; PWK amounts in wei (18 decimals)."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def _signer(self, who: Who) -> Signer:
        return who if isinstance(who, Signer) else self.ws.signer(who)

    @property
    def disputes(self) -> Disputes:
        return Disputes(self.ws)

    @property
    def jurors(self) -> Jurors:
        return Jurors(self.ws)

    # set-up
    def deploy(
        self,
        deployer: Who = "dev0",
        params: CourtParams | None = None,
        *,
        treasury: str | None = None,
        force: bool = False,
    ) -> DeployResult:
        """PWK, the court and the escrow's arbitrable adapter (small-claims defaults: `court.default_params`)."""
        return deployment.deploy_court(
            self.ws, self._signer(deployer), params, treasury=treasury, force=force
        )

    @property
    def address(self) -> str:
        """The adapter's address: what a job names as its arbiter to be judged by the court."""
        return self.ws.deployment.arbitrable

    def transfer_pwk(self, sender: Who, to: str, amount: int) -> Receipt:
        return self.ws.court_token.transfer(self._signer(sender).key, self.ws.address(to), amount)

    def pwk_balance(self, account: str) -> int:
        return self.ws.court_token.balance_of(self.ws.address(account))

    # parties
    def open(self, party: Who, job_id: int, milestone: int, statement: str = "") -> CaseOutcome:
        return self.disputes.open(self._signer(party), job_id, milestone, statement)

    def pay_fee(self, party: Who, case_id: int) -> CaseOutcome:
        return self.disputes.pay_fee(self._signer(party), case_id)

    def settle(self, party: Who, case_id: int, freelancer_bps: int) -> CaseOutcome:
        return self.disputes.settle(self._signer(party), case_id, freelancer_bps)

    def evidence(
        self, party: Who, case_id: int, file: str | Path, description: str = ""
    ) -> tuple[CaseOutcome, str]:
        return self.disputes.evidence(self._signer(party), case_id, Path(file), description)

    def appeal(self, party: Who, case_id: int) -> CaseOutcome:
        """Funds `party`'s side of an appeal (the loser 2x the appeal cost in the first half of the
        appeal period, the winner 1.5x until its end); the appeal is made when both sides have funded,
        a side funding alone wins by default. `details` says what was paid and whether it was made."""
        return self.disputes.appeal(self._signer(party), case_id)

    def appeal_funding(self, case_id: int) -> AppealView | None:
        """The appeal funding of a case (None before its dispute exists): appeals made, the pot, and
        during an appeal period each side's role, requirement, deposit and deadline."""
        return self.disputes.show(case_id).appeal

    def show(self, case_id: int) -> CaseView:
        return self.disputes.show(case_id)

    def case_of(self, job_id: int, milestone: int) -> int:
        return self.disputes.case_of(job_id, milestone)

    # anyone
    def advance(self, caller: Who, case_id: int) -> CaseOutcome:
        return self.disputes.advance(self._signer(caller), case_id)

    # jurors
    def stake(self, juror: Who, amount: int) -> StakeOutcome:
        return self.jurors.stake(self._signer(juror), amount)

    def unstake(self, juror: Who, amount: int | None = None) -> StakeOutcome:
        return self.jurors.unstake(self._signer(juror), amount)

    def cases(self, juror: str) -> list[SeatView]:
        return self.jurors.cases(self.ws.address(juror))

    def commit(
        self,
        juror: Who,
        case_id: int,
        choice: int,
        seats: list[int] | None = None,
        *,
        competition: bool = False,
    ) -> VoteOutcome:
        """`competition`: `case_id` is a competition whose ranking challenge is before the court
        (choices 0 refuse, 1 keep the ranking in force, 2 the challenger's)."""
        return self.jurors.commit(self._signer(juror), case_id, choice, seats, competition=competition)

    def reveal(
        self, juror: Who, case_id: int, choice: int | None = None, *, competition: bool = False
    ) -> VoteOutcome:
        return self.jurors.reveal(self._signer(juror), case_id, choice, competition=competition)

    # competitions' ranking challenges (case ids are competition ids)
    def rankings(self, evaluator: Any = None) -> RankingChallenges:
        """Ranking challenges; `evaluator` (a sandbox's Evaluator) re-scores entries."""
        return RankingChallenges(self.ws, evaluator)

    def challenge_ranking(
        self,
        entrant: Who,
        comp_id: int,
        ranking: list[tuple[int, int]] | None = None,
        statement: str = "",
        evaluator: Any = None,
    ) -> ChallengeOutcome:
        return self.rankings(evaluator).challenge(self._signer(entrant), comp_id, ranking, statement)

    def appeal_ranking(self, payer: Who, comp_id: int) -> ChallengeOutcome:
        return self.rankings().appeal(self._signer(payer), comp_id)

    def advance_ranking(self, caller: Who, comp_id: int) -> ChallengeOutcome:
        return self.rankings().advance(self._signer(caller), comp_id)

    def check_ranking(self, comp_id: int, evaluator: Any = None) -> dict[str, Any]:
        return self.rankings(evaluator).check(comp_id)

    def check(self, case_id: int) -> dict[str, Any]:
        return self.jurors.check(case_id)

    def rewards(self, juror: str) -> dict[str, int]:
        return self.jurors.rewards(self.ws.address(juror))

    def withdraw(self, juror: Who) -> tuple[dict[str, int], list[tuple[str, Receipt]]]:
        return self.jurors.withdraw(self._signer(juror))


class Identity:
    """Issuers, credentials, badges, attestations and reputation (the `id`, `cred`, `issuer`,
    `badge`, `attest` and `reputation` commands). Accounts are names or addresses; milestones
    are numbered from 0."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def deploy(self, deployer: str = "dev0", *, force: bool = False) -> DeployResult:
        return deployment.deploy_identity(self.ws, self.ws.signer(deployer), force=force)

    @property
    def directory(self) -> issuers.RegistryDirectory | None:
        """The on-chain issuer registry, or None before the identity contracts are deployed."""
        return issuers.directory_for(self.ws)

    # issuers
    def create_issuer(self, name: str, account: str, base_url: str | None = None) -> profiles.IssuerProfile:
        return profiles.create_issuer(self.ws, name, account=self.ws.signer(account), base_url=base_url)

    def register_issuer(self, name: str, owner: str = "dev0") -> issuers.RegisteredIssuer:
        return issuers.register_issuer(self.ws, self.ws.signer(owner), name)

    # credentials
    def issue(
        self, issuer: str, holder: str, vct: str, claims: dict[str, Any], valid_for: int | None = None
    ) -> issuing.IssuedRecord:
        return issuing.issue_credential_for(
            self.ws,
            issuer,
            holder=holder,
            vct=vct,
            claims=claims,
            valid_for=valid_for,
            directory=self.directory,
        )

    def present(self, holder: str, credential: str, disclose: list[str], audience: str, nonce: str) -> str:
        return wallet.present_credential(
            self.ws, holder, credential, disclose=disclose, audience=audience, nonce=nonce
        )

    def verify(
        self, presentation: str, audience: str, nonce: str, **options: Any
    ) -> verification.Verification:
        options.setdefault("directory", self.directory)
        options.setdefault("resolver", None)
        return verification.verify(self.ws, presentation, audience=audience, nonce=nonce, **options)

    def revoke(self, issuer: str, credential_id: str) -> dict[str, Any]:
        return status_lists.revoke(self.ws, issuer, credential_id, directory=self.directory)

    def suspend(self, issuer: str, credential_id: str) -> dict[str, Any]:
        return status_lists.suspend(self.ws, issuer, credential_id, directory=self.directory)

    # badges, attestations, reputation
    def mint_badge(self, issuer: str, to: str, skill: str, evidence: bytes = ZERO_HASH) -> int:
        return badges.mint_badge(self.ws, self.ws.signer(issuer), self.ws.address(to), skill, evidence)

    def badges(self, holder: str) -> list[Any]:
        return badges.badges_of(self.ws, self.ws.address(holder))

    def declare_skill(self, client: str, job_id: int, skill: str) -> int:
        return attestations.declare_skill(self.ws, self.ws.signer(client), job_id, skill)

    def attest(self, caller: str, job_id: int, *, unverified: bool = False) -> list[attestations.Attested]:
        """JobCompleted for the job's paid milestones; `unverified`: as a committee job's freelancer,
        record those whose canonical oracle reports cannot be had as unverified."""
        return attestations.attest_settled(self.ws, self.ws.signer(caller), job_id, unverified=unverified)

    def review(self, reviewer: str, job_id: int, milestone: int, rating: int, comment: str = "") -> bytes:
        return attestations.review(self.ws, self.ws.signer(reviewer), job_id, milestone, rating, comment)

    def completions(self) -> list[Any]:
        return attestations.job_completions(self.ws)

    def reputation(self, account: str, top: int = 5) -> reputation.ReputationView:
        return reputation.reputation_of(self.ws, account, top)

    def export_reputation(self, issuer: str, holder: str) -> issuing.IssuedRecord:
        record, _ = reputation.export_reputation(self.ws, issuer, holder)
        return record


class Assets:
    """Models and datasets as assets (`pw.assets`): files and manifests, registration with lineage and
    timestamps, a paid job's deliverable under its IP terms, licences and the royalties they pay."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def _signer(self, who: Who) -> Signer:
        return who if isinstance(who, Signer) else self.ws.signer(who)

    def deploy(self, deployer: Who = "dev0", *, force: bool = False) -> DeployResult:
        return assets.deploy(self.ws, self._signer(deployer), force=force)

    def manifest(
        self,
        files: list[Path],
        *,
        kind: str,
        name: str,
        license: str | None = None,
        terms_cid: str | None = None,
        description: str = "",
        card: dict[str, Any] | None = None,
        encrypt: bool = False,
    ) -> tuple[AssetManifest, bytes | None]:
        """Stores the files (encrypted under a new key when `encrypt`) and builds their manifest."""
        stored, key = assets.store_files(self.ws, files, encrypt=encrypt)
        built = build_manifest(
            kind, name, stored, license=license, terms_cid=terms_cid, description=description, card=card
        )
        return built, key

    def register(
        self,
        owner: Who,
        manifest: AssetManifest,
        *,
        creators: list[Share] | tuple[Share, ...] = (),
        parents: list[Parent] | tuple[Parent, ...] = (),
        royalty_bps: int = 0,
        key: bytes | None = None,
        to: str | None = None,
        card: dict[str, Any] | bool = True,
        sources: list[Path] | tuple[Path, ...] = (),
    ) -> assets.Registered:
        """Registers the asset with its card: generated unless the manifest holds one (`card=True`; a
        dataset's CSV columns are read from `sources`, the plaintext files), the card given, or none
        (`card=False`)."""
        return assets.register(
            self.ws,
            self._signer(owner),
            manifest,
            creators=creators,
            parents=parents,
            royalty_bps=royalty_bps,
            key=key,
            to=to,
            card=card,
            sources=sources,
        )

    def card(self, asset_id: int, output: str | None = None) -> str:
        """The asset's card: Croissant JSON-LD (`output="croissant"`) or a model's README.md
        (`"hf-readme"`); by default, whichever the card is."""
        return assets.card(self.ws, asset_id, output)

    def timestamp(self, who: Who, manifest: AssetManifest) -> tuple[str, int]:
        """Timestamps a salted commitment of the manifest without registering it: (CID, block time)."""
        cid = assets.publish_manifest(self.ws, manifest)
        return cid, assets.timestamp(self.ws, self._signer(who), cid)[1]

    def show(self, asset_id: int) -> Any:
        return assets.show(self.ws, asset_id)

    def lineage_prov(self, asset_id: int) -> str:
        return assets.lineage_prov(self.ws, asset_id)

    def propose_ip_terms(
        self, client: Who, job_id: int, *, transfer: bool, creator_bps: int = 0, max_upstream_bps: int = 5_000
    ) -> None:
        assets.propose_ip_terms(
            self.ws,
            self._signer(client),
            job_id,
            transfer=transfer,
            creator_bps=creator_bps,
            max_upstream_bps=max_upstream_bps,
        )

    def accept_ip_terms(self, freelancer: Who, job_id: int) -> None:
        assets.accept_ip_terms(self.ws, self._signer(freelancer), job_id)

    def register_deliverable(
        self, party: Who, job_id: int, milestone: int, manifest: AssetManifest, **kwargs: Any
    ) -> assets.Registered:
        """As `register` (`card`, `sources`, `parents`, `royalty_bps`, `key`), for a paid milestone."""
        return assets.register_deliverable(
            self.ws, self._signer(party), job_id, milestone, manifest, **kwargs
        )

    def offer(self, owner: Who, asset_id: int, *, price: int, **kwargs: Any) -> int:
        return assets.offer(self.ws, self._signer(owner), asset_id, price=price, **kwargs)

    def buy(self, buyer: Who, offer_id: int, *, max_price: int | None = None) -> int:
        return assets.buy(self.ws, self._signer(buyer), offer_id, max_price=max_price)

    def licence(self, licence_id: int) -> Any:
        return assets.licence(self.ws, licence_id)

    def explain_sale(self, asset_id: int, amount: int) -> Any:
        return assets.explain_sale(self.ws, asset_id, amount)

    def distribute(self, caller: Who, asset_id: int) -> int:
        """Distributes what is pending along the whole lineage of `asset_id`."""
        return assets.distribute_all(self.ws, self._signer(caller), asset_id)

    def claim(self, caller: Who, account: str | None = None) -> int:
        return assets.claim(self.ws, self._signer(caller), account)

    def get(
        self, holder: Who, licence_id: int, out_dir: str | Path, *, node: str | None = None, http: Any = None
    ) -> asset_access.Downloaded:
        """Downloads, verifies and decrypts a licensed asset into `out_dir`; the key comes from the
        owner's node at `node` (its API's base URL; `http`: an httpx.Client to reach it), or from this
        workspace when it is the owner's."""
        return asset_access.get(
            self.ws, self._signer(holder), licence_id, Path(out_dir), node=node, http=http
        )

    def release_key(self, request: KeyRequest, signature: bytes) -> asset_access.Released:
        """As the owner's node: the asset key sealed to the holder of a valid download licence."""
        return asset_access.release_key(self.ws, request, signature)

    def compute_request(
        self,
        holder: Who,
        licence_id: int,
        *,
        params: dict[str, Any],
        model: bytes | Path | None = None,
        task: str = "evaluate",
    ) -> Any:
        """A compute licence holder's signed request (`services.compute_to_data.ComputeRequest`)."""
        from proofwork.services import compute_to_data

        data = compute_to_data.read_model(model) if isinstance(model, Path) else model
        return compute_to_data.make_request(
            self.ws, self._signer(holder), licence_id, task=task, model=data, params=params
        )

    def compute(
        self,
        holder: Who,
        licence_id: int,
        *,
        params: dict[str, Any],
        model: bytes | Path | None = None,
        task: str = "evaluate",
        node_url: str | None = None,
    ) -> Any:
        """Compute-to-data: the model scored on the licensed private dataset by its owner's node (at
        `node_url`, else this data directory's); returns the owner's signed result, already verified.
        With a training recipe as `task` (and no model): (the signed result, the trained ONNX model)."""
        from proofwork.services import compute_to_data

        data = compute_to_data.read_model(model) if isinstance(model, Path) else model
        _, result, trained = compute_to_data.compute(
            self.ws, self._signer(holder), licence_id, params=params, model=data, task=task, node_url=node_url
        )
        return (result, trained) if task != "evaluate" else result

    def list(
        self,
        *,
        kind: str | None = None,
        owner: str | None = None,
        creator: str | None = None,
        before: int | None = None,
        limit: int | None = None,
    ) -> asset_listing.Page[asset_listing.ListedAsset]:
        """Assets, newest first (from the chain index when it is caught up, else from the logs)."""
        where = asset_listing.AssetFilter(kind=kind, owner=owner, creator=creator)
        return asset_listing.list_assets(self.ws, where, before=before, limit=limit)

    def licences(
        self,
        *,
        holder: str | None = None,
        asset_id: int | None = None,
        before: int | None = None,
        limit: int | None = None,
    ) -> asset_listing.Page[asset_listing.ListedLicence]:
        """Licences, newest first: held now by `holder`, on `asset_id`."""
        where = asset_listing.LicenceFilter(holder=holder, asset_id=asset_id)
        return asset_listing.list_licences(self.ws, where, before=before, limit=limit)

    def view(self, asset_id: int) -> asset_listing.AssetView:
        """An asset in full: record, manifest, lineage, derived assets, offers and a sale's split."""
        return asset_listing.asset_view(self.ws, asset_id)

    def licence_detail(self, licence_id: int) -> asset_listing.LicenceView:
        """A licence with the offer it was bought under."""
        return asset_listing.licence_detail(self.ws, licence_id)


class Labeling:
    """Labeling campaigns (`pw.labeling`): a campaign created with its budget escrowed, batches served
    and signed answers taken, rounds posted with the committee's signed root, claims, verify, close,
    the dataset exported."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def _signer(self, who: Who) -> Signer:
        return who if isinstance(who, Signer) else self.ws.signer(who)

    def deploy(self, deployer: Who = "dev0", *, force: bool = False) -> DeployResult:
        from proofwork.services.deployment import deploy_labeling

        return deploy_labeling(self.ws, self._signer(deployer), force=force)

    def create(self, client: Who, spec: bytes, gold: bytes, **options: Any) -> Any:
        """`campaigns.create_campaign`: options `items_dir`, `challenge_window`, `duration`, `committee`."""
        from proofwork.services.labeling import campaigns

        return campaigns.create_campaign(self.ws, self._signer(client), spec, gold, **options)

    def status(self, campaign_id: int) -> Any:
        from proofwork.services.labeling import campaigns

        return campaigns.campaign_status(self.ws, campaign_id)

    def next_batch(self, campaign_id: int, labeler: str, presentation: str | None = None) -> Any:
        from proofwork.services.labeling import work

        return work.next_batch(self.ws, campaign_id, self.ws.address(labeler), presentation=presentation)

    def submit(
        self, campaign_id: int, batch_id: bytes, answers: list[tuple[str, str]], signature: bytes
    ) -> Any:
        from proofwork.services.labeling import work

        return work.submit_batch(self.ws, campaign_id, batch_id, answers, signature)

    def round(self, relayer: Who, campaign_id: int) -> Any:
        from proofwork.services.labeling import rounds

        return rounds.run_round(self.ws, self._signer(relayer), campaign_id)

    def verify(self, campaign_id: int, round_: int, bundle_cid: str | None = None) -> Any:
        from proofwork.services.labeling import rounds

        return rounds.verify_round(self.ws, campaign_id, round_, bundle_cid)

    def claim(self, relayer: Who, campaign_id: int, labelers: list[str] | None = None) -> Any:
        from proofwork.services.labeling import claims

        return claims.claim(self.ws, self._signer(relayer), campaign_id, labelers)

    def close(self, caller: Who, campaign_id: int) -> tuple[int, Receipt]:
        from proofwork.services.labeling import campaigns

        return campaigns.close_campaign(self.ws, self._signer(caller), campaign_id)

    def export(self, campaign_id: int, out: Path, **options: Any) -> Any:
        """`export.export_round`: options `round_`, `registrant`, `license`."""
        from proofwork.services.labeling.export import export_round

        return export_round(self.ws, campaign_id, options.pop("round_", None), out, **options)


class Proofwork:
    """A session with one chain and one data directory."""

    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace
        self.jobs = Jobs(workspace)
        # evaluated jobs (hidden labels, committee settlement, reveal); `verify` needs an Evaluator
        self.evaluations = Evaluations(workspace)
        self.competitions = Competitions(workspace)
        self.identity = Identity(workspace)
        self.court = Court(workspace)
        self.assets = Assets(workspace)
        self.labeling = Labeling(workspace)

    @classmethod
    def open(
        cls,
        data_dir: str | Path,
        rpc_url: str | None = None,
        *,
        password: PasswordProvider | None = None,
        lock_timeout: float | None = None,
    ) -> Proofwork:
        """A session on `data_dir` (and the node at `rpc_url`, else the embedded chain there). Other
        settings come from the environment (`proofwork.settings`); `password` unlocks stored keys
        (default: PROOFWORK_PASSWORD)."""
        settings = Settings.from_env(
            data_dir=Path(data_dir),
            rpc_url=rpc_url,
            lock_timeout=lock_timeout,
        )
        return cls.from_settings(settings, password)

    @classmethod
    def from_settings(cls, settings: Settings, password: PasswordProvider | None = None) -> Proofwork:
        """A session on what `settings` name; the chain is opened (and the embedded chain's lock
        taken) now, for the whole session."""
        ws = Workspace.open(settings, password)
        try:
            ws.chain  # noqa: B018  (opening it is the point)
        except BaseException:
            ws.close()
            raise
        return cls(ws)

    def close(self) -> None:
        self.ws.close()

    def __enter__(self) -> Proofwork:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- set-up ------------------------------------------------------------------------------------

    def deploy(
        self,
        deployer: str = "dev0",
        *,
        treasury: str | None = None,
        fee_bps: int = DEFAULT_FEE_BPS,
        force: bool = False,
    ) -> DeployResult:
        return deploy(self.ws, self.ws.signer(deployer), treasury=treasury, fee_bps=fee_bps, force=force)

    def deploy_committee(
        self,
        oracles: list[str],
        *,
        f: int,
        challenge_window: int = DEFAULT_CHALLENGE_WINDOW,
        deployer: str = "dev0",
    ) -> DeployResult:
        """An oracle committee (arbiter of evaluated jobs) and a competition contract on it."""
        members = [self.ws.address(o) for o in oracles]
        return deploy_committee(
            self.ws, self.ws.signer(deployer), members, f=f, challenge_window=challenge_window
        )

    def oracle(self, account: str, options: OracleOptions = OracleOptions()) -> OracleDaemon:
        """An evaluation oracle for `account` (a committee member) on this session's workspace:
        `.run()` passes until `.stop()` (from another thread) or `options.passes`; `.url` is its
        report endpoint once serving. The same loop as `proofwork oracle run`."""
        from proofwork.api.oracle_http import ReportServer

        return OracleDaemon(lambda: nullcontext(self.ws), account, ReportServer, options)

    def signer(self, name_or_address: str) -> Signer:
        return self.ws.signer(name_or_address)

    def address(self, name_or_address: str) -> str:
        return self.ws.address(name_or_address)

    def fund(self, account: str, tokens: int, gas_money: int = account_service.DEFAULT_GAS_MONEY) -> None:
        account_service.fund(self.ws, self.ws.address(account), tokens, gas_money)

    def list_jobs(
        self,
        where: JobFilter | None = None,
        *,
        before: int | None = None,
        limit: int | None = 20,
        **filters: Any,
    ) -> JobPage:
        """Jobs newest first, filtered (`JobFilter`, or its fields as keywords: skill, state, client,
        freelancer, involving, min_budget, max_budget), in pages (`before`: the last page's
        `next_cursor`; `limit` None: all). From the chain index when it is caught up, else the logs."""
        if where is None:
            where = JobFilter(**filters)
        elif filters:
            raise TypeError("give a JobFilter or filter keywords, not both")
        return list_jobs(self.ws, where, before=before, limit=limit)

    def job_inputs(self, job_id: int) -> JobInputsView | None:
        """The input assets a job's terms document records (`pw.jobs.post(..., inputs=JobInputs(offers=
        [...]))` bought their licences), each licence checked on chain now; None when it names none."""
        return job_inputs_view(self.ws, self.jobs.get(job_id))

    # --- money and time -------------------------------------------------------------------------------

    def amount(self, text: str) -> int:
        """'1500.50' -> token units, exactly."""
        return parse_amount(text, self.ws.token.decimals)

    def format(self, units: int) -> str:
        return format_amount(units, self.ws.token.decimals)

    def balance(self, account: str) -> int:
        return self.ws.token.balance_of(self.ws.address(account))

    def now(self) -> int:
        """The timestamp the next block will carry."""
        return self.ws.chain.next_timestamp()

    def advance_time(self, seconds: int) -> int:
        """Local chains only."""
        return self.ws.chain.advance_time(seconds)
