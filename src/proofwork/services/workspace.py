"""What every use case needs, opened once: the chain, the deployment, the keys.

A `Workspace` is built from explicit settings and passed to the services; nothing
is reached through globals.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from proofwork.chain.artifacts import Artifact, ArtifactStore
from proofwork.chain.devnets import EMBEDDED_CHAIN_ID, EMBEDDED_DEV_KEYS
from proofwork.domain.addresses import parse_address
from proofwork.domain.errors import InvalidInput, NotFound
from proofwork.keys.accounts import address_of
from proofwork.keys.keystore import KeyStore
from proofwork.services.manifest import ROLE_OF, Deployment, artifact_for, load_manifest, upgrade_manifest
from proofwork.settings import Settings
from proofwork.storage.store import ContentStore, open_store

if TYPE_CHECKING:  # the chain handles load web3: only when a command uses the chain
    from proofwork.chain.assets import AssetRegistryContract, LicensingContract
    from proofwork.chain.attestations import AttestationsContract, JobAttesterContract
    from proofwork.chain.badges import SkillBadgeContract
    from proofwork.chain.client import Chain
    from proofwork.chain.committee import CommitteeContract
    from proofwork.chain.competition import CompetitionContract
    from proofwork.chain.court import ArbitrableContract, CourtContract
    from proofwork.chain.escrow import EscrowContract
    from proofwork.chain.issuers import IssuerRegistryContract
    from proofwork.chain.labeling import LabelPayoutsContract
    from proofwork.chain.tokens import TokenContract

PasswordProvider = Callable[[str], str]


def password_from(settings: Settings) -> PasswordProvider:
    """Unlocks stored keys with the configured password (PROOFWORK_PASSWORD), never by prompting."""

    def provide(name: str) -> str:
        if settings.password is None:
            raise InvalidInput(f"account {name!r} is encrypted: set PROOFWORK_PASSWORD or run interactively")
        return settings.password

    return provide


@dataclass(frozen=True)
class Signer:
    name: str
    address: str
    key: bytes = field(repr=False)


_DEV = re.compile(r"^dev(\d+)$")


class Workspace:
    """The data directory, the store, the keys and (opened on first use) the chain.

    The chain opens only when a command needs it, so commands that need none (an account's DID on
    the embedded chain, the store) load neither web3 nor py-evm and never take the chain's lock."""

    def __init__(
        self,
        settings: Settings,
        artifacts: ArtifactStore,
        keystore: KeyStore,
        password: PasswordProvider,
        store: ContentStore,
        chain: Chain | None = None,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.data_dir = settings.data_dir
        self.artifacts = artifacts
        self.keystore = keystore
        self.store = store
        self._password = password
        self._chain = chain
        self._notify = notify
        self._deployment: Deployment | None = None
        self._escrow: EscrowContract | None = None
        self._token: TokenContract | None = None
        self._devs: list[Signer] | None = None
        self._committee: CommitteeContract | None = None
        self._competitions: CompetitionContract | None = None
        self._identity: dict[str, object] = {}
        self._court: dict[str, object] = {}
        self._assets: dict[str, object] = {}
        self._label_payouts: LabelPayoutsContract | None = None

    @classmethod
    def open(
        cls,
        settings: Settings,
        password: PasswordProvider | None = None,
        notify: Callable[[str], None] | None = None,
    ) -> Workspace:
        """Opens the data directory and the store `settings` name (the chain opens on first use);
        `password` unlocks stored keys (default: the configured password, no prompt); `notify` is told
        what happened to a transaction on a node that did not go as sent (replaced with higher fees,
        resent; default: the `proofwork.chain` logger)."""
        if settings.data_dir.exists() and not settings.data_dir.is_dir():
            raise InvalidInput(f"data directory {settings.data_dir} is a file, not a directory")
        try:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidInput(f"cannot use data directory {settings.data_dir}: {exc.strerror}") from exc
        # the store first: a bad store location must fail before the chain's lock is taken
        store = open_store(settings.store or settings.data_dir / "store")
        return cls(
            settings,
            ArtifactStore(),
            KeyStore(settings.data_dir / "keystore"),
            password or password_from(settings),
            store,
            notify=notify,
        )

    @property
    def chain(self) -> Chain:
        """The chain: the node at the RPC URL, or the embedded chain (its lock taken until `close`)."""
        if self._chain is None:
            from proofwork.chain.client import Chain
            from proofwork.chain.fees import SendPolicy
            from proofwork.domain.errors import ChainBusy
            from proofwork.services.serve import serving_rpc_url

            settings = self.settings
            policy = SendPolicy(
                settings.max_fee_per_gas,
                settings.tx_replace_after,
                settings.tx_fee_bump,
                settings.tx_max_wait,
            )
            # `proofwork serve` holds this embedded chain: say so at once rather than wait for its lock
            serving = None if settings.rpc_url else serving_rpc_url(settings)
            try:
                self._chain = Chain.open(
                    settings.data_dir,
                    settings.rpc_url,
                    lock_timeout=0 if serving else settings.lock_timeout,
                    policy=policy,
                    notify=self._notify,
                )
            except ChainBusy as exc:
                if serving is None:
                    raise
                raise ChainBusy(
                    f"the embedded chain in {settings.data_dir / 'chain'} is held by `proofwork serve`: "
                    f"add --rpc-url {serving}"
                ) from exc
        return self._chain

    @property
    def chain_id(self) -> int:
        """The chain's id; the embedded chain's is known without opening it."""
        if self._chain is None and self.settings.rpc_url is None:
            return EMBEDDED_CHAIN_ID
        return self.chain.chain_id

    def close(self) -> None:
        if self._chain is not None:
            self._chain.close()
        close_store = getattr(self.store, "close", None)  # a kubo store holds an HTTP client
        if close_store is not None:
            close_store()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- deployment ------------------------------------------------------------------------------

    @property
    def manifest_path(self) -> Path:
        return self.data_dir / "deployments" / f"{self.chain_id}.json"

    @property
    def deployment(self) -> Deployment:
        if self._deployment is None:
            deployment = load_manifest(self.manifest_path)
            if deployment is None or not self.chain.has_code(deployment.escrow):
                raise NotFound(
                    f"proofwork is not deployed on the {self.chain.description}: run `proofwork deploy`"
                )
            self._deployment = upgrade_manifest(self.manifest_path, deployment, self.artifacts)
        return self._deployment

    def _deployed(self, role: str) -> Artifact:
        """A deployed contract's artifact: the ABI recorded with its deployment, not this install's."""
        return artifact_for(self.deployment, role, self.artifacts)

    def use_deployment(self, deployment: Deployment) -> None:
        self._deployment = deployment
        self._escrow = None
        self._token = None
        self._committee = None
        self._competitions = None
        self._identity = {}
        self._court = {}
        self._assets = {}
        self._label_payouts = None

    @property
    def escrow(self) -> EscrowContract:
        from proofwork.chain.escrow import EscrowContract

        if self._escrow is None:
            d = self.deployment
            self._escrow = EscrowContract(self.chain, self._deployed("escrow"), d.escrow, d.block)
        return self._escrow

    @property
    def token(self) -> TokenContract:
        from proofwork.chain.tokens import TokenContract

        if self._token is None:
            self._token = TokenContract(self.chain, self._deployed("token"), self.deployment.token)
        return self._token

    @property
    def committee(self) -> CommitteeContract:
        from proofwork.chain.committee import CommitteeContract

        if self._committee is None:
            d = self.deployment
            if not d.committee:
                raise NotFound("no oracle committee is deployed here: run `proofwork committee deploy`")
            self._committee = CommitteeContract(
                self.chain, self._deployed("committee"), d.committee, d.committee_block
            )
        return self._committee

    @property
    def competitions(self) -> CompetitionContract:
        from proofwork.chain.competition import CompetitionContract

        if self._competitions is None:
            d = self.deployment
            if not d.competition:
                raise NotFound("no competition contract is deployed here: run `proofwork committee deploy`")
            self._competitions = CompetitionContract(
                self.chain, self._deployed("competition"), d.competition, d.competition_block
            )
        return self._competitions

    @property
    def has_identity(self) -> bool:
        """Whether the identity contracts (issuers, badges, attestations) are deployed here (False
        also when nothing is: credentials work off chain without them)."""
        if self._deployment is None and load_manifest(self.manifest_path) is None:
            return False
        return bool(self.deployment.job_attester)

    def _identity_contract(self, kind: type, artifact: str, address: str) -> object:
        if not self.has_identity:
            raise NotFound("the identity contracts are not deployed here: run `proofwork identity deploy`")
        if artifact not in self._identity:
            self._identity[artifact] = kind(
                self.chain, self._deployed(ROLE_OF[artifact]), address, self.deployment.identity_block
            )
        return self._identity[artifact]

    @property
    def issuer_registry(self) -> IssuerRegistryContract:
        from proofwork.chain.issuers import IssuerRegistryContract

        contract = self._identity_contract(
            IssuerRegistryContract, "IssuerRegistry", self.deployment.issuer_registry
        )
        assert isinstance(contract, IssuerRegistryContract)
        return contract

    @property
    def badges(self) -> SkillBadgeContract:
        from proofwork.chain.badges import SkillBadgeContract

        contract = self._identity_contract(SkillBadgeContract, "SkillBadge", self.deployment.badges)
        assert isinstance(contract, SkillBadgeContract)
        return contract

    @property
    def attestations(self) -> AttestationsContract:
        from proofwork.chain.attestations import AttestationsContract

        contract = self._identity_contract(AttestationsContract, "Attestations", self.deployment.attestations)
        assert isinstance(contract, AttestationsContract)
        return contract

    @property
    def job_attester(self) -> JobAttesterContract:
        from proofwork.chain.attestations import JobAttesterContract

        contract = self._identity_contract(JobAttesterContract, "JobAttester", self.deployment.job_attester)
        assert isinstance(contract, JobAttesterContract)
        return contract

    # --- models and datasets as assets ---------------------------------------------------------------

    def _asset_contract(self, kind: type, role: str) -> Any:
        d = self.deployment
        if not d.licensing:
            raise NotFound("the asset contracts are not deployed here: run `proofwork asset deploy`")
        if role not in self._assets:
            self._assets[role] = kind(self.chain, self._deployed(role), d.address_of(role), d.assets_block)
        return self._assets[role]

    @property
    def asset_registry(self) -> AssetRegistryContract:
        from proofwork.chain.assets import AssetRegistryContract

        return cast("AssetRegistryContract", self._asset_contract(AssetRegistryContract, "asset_registry"))

    @property
    def licensing(self) -> LicensingContract:
        from proofwork.chain.assets import LicensingContract

        handle = cast("LicensingContract", self._asset_contract(LicensingContract, "licensing"))
        handle.registry = self.asset_registry  # the records its splitting calls carry
        return handle

    @property
    def label_payouts(self) -> LabelPayoutsContract:
        """`LabelPayouts`: labeling campaigns' budgets and payouts."""
        from proofwork.chain.labeling import LabelPayoutsContract

        if self._label_payouts is None:
            d = self.deployment
            if not d.label_payouts:
                raise NotFound("the labeling contract is not deployed here: run `proofwork label deploy`")
            self._label_payouts = LabelPayoutsContract(
                self.chain, self._deployed("label_payouts"), d.label_payouts, d.label_payouts_block
            )
        return self._label_payouts

    # --- the court ---------------------------------------------------------------------------------

    def _court_deployment(self) -> Deployment:
        d = self.deployment
        if not d.arbitrable:
            raise NotFound("no court is deployed here: run `proofwork court deploy`")
        return d

    @property
    def court(self) -> CourtContract:
        from proofwork.chain.court import CourtContract

        if "court" not in self._court:
            d = self._court_deployment()
            self._court["court"] = CourtContract(self.chain, self._deployed("court"), d.court, d.court_block)
        contract = self._court["court"]
        assert isinstance(contract, CourtContract)
        return contract

    @property
    def arbitrable(self) -> ArbitrableContract:
        from proofwork.chain.court import ArbitrableContract

        if "arbitrable" not in self._court:
            d = self._court_deployment()
            self._court["arbitrable"] = ArbitrableContract(
                self.chain, self._deployed("arbitrable"), d.arbitrable, d.court_block
            )
        contract = self._court["arbitrable"]
        assert isinstance(contract, ArbitrableContract)
        return contract

    @property
    def court_token(self) -> TokenContract:
        """PWK, the token jurors stake."""
        from proofwork.chain.tokens import TokenContract

        if "court_token" not in self._court:
            d = self._court_deployment()
            self._court["court_token"] = TokenContract(
                self.chain, self._deployed("court_token"), d.court_token
            )
        contract = self._court["court_token"]
        assert isinstance(contract, TokenContract)
        return contract

    def token_at(self, address: str) -> TokenContract:
        """Any ERC-20, spoken to through the shipped StableToken's ERC-20 ABI."""
        from proofwork.chain.tokens import TokenContract

        return TokenContract(self.chain, self.artifacts.get("StableToken"), address)

    # --- accounts --------------------------------------------------------------------------------

    def dev_accounts(self) -> list[Signer]:
        # derived once: `job list` names two parties per job, and each derivation is an EC multiplication
        if self._devs is None:
            keys = (
                EMBEDDED_DEV_KEYS
                if self._chain is None and self.settings.rpc_url is None
                else self.chain.dev_keys
            )
            self._devs = [Signer(f"dev{i}", address_of(key), key) for i, key in enumerate(keys)]
        return self._devs

    def address(self, name_or_address: str, what: str = "account") -> str:
        """The address behind an account name, or the given address itself (validated)."""
        text = str(name_or_address).strip()
        if text.startswith("0x"):
            return parse_address(text, what)
        dev = _DEV.match(text)
        if dev:
            return self._dev(int(dev.group(1)), text).address
        stored = self.keystore.find(text)
        if stored is None:
            raise NotFound(f"no account named {text!r}: see `proofwork account list`")
        return stored.address

    def signer(self, name_or_address: str) -> Signer:
        """Keys for the account that signs (`--from`)."""
        text = str(name_or_address).strip()
        dev = _DEV.match(text)
        if dev:
            return self._dev(int(dev.group(1)), text)
        if text.startswith("0x"):
            address = parse_address(text, "--from address")
            for account in self.dev_accounts():
                if account.address == address:
                    return account
        stored = self.keystore.find(text)
        if stored is None:
            raise NotFound(f"no key for {text!r} on this machine: see `proofwork account list`")
        key = self.keystore.unlock(stored.name, self._password(stored.name))
        return Signer(stored.name, stored.address, key)

    def _dev(self, index: int, name: str) -> Signer:
        devs = self.dev_accounts()
        if not devs:
            raise NotFound(
                f"{name} exists only on local development chains; this is the {self.chain.description}"
            )
        if index >= len(devs):
            raise NotFound(f"no development account {name}: there are dev0 to dev{len(devs) - 1}")
        return devs[index]

    def name_of(self, address: str) -> str | None:
        for account in self.dev_accounts():
            if account.address.lower() == address.lower():
                return account.name
        stored = self.keystore.find(address)
        return stored.name if stored else None
