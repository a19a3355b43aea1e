"""The API's request and response bodies, one family per entity (XPublic, XsPublic, XCreate).

Amounts are strings of whole token base units (they exceed JSON's safe integers), with a
`_display` twin in token units; addresses are 0x-hex, hashes 0x-hex of 32 bytes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Address = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{40}$", examples=["0x" + "ab" * 20])]
Hash32 = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{64}$")]
Units = Annotated[str, Field(pattern=r"^[0-9]{1,78}$", description="whole token base units")]
HexBytes = Annotated[str, Field(pattern=r"^0x([0-9a-fA-F]{2})*$")]
UINT64 = 2**64 - 1


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InfoPublic(BaseModel):
    api_version: str
    chain_id: int
    dev_mode: bool
    escrow: str | None
    token: str | None
    token_symbol: str | None
    token_decimals: int | None
    upload_limit: int


# --- sign-in ---------------------------------------------------------------------------------------


class NoncePublic(BaseModel):
    nonce: str
    expires_at: int
    domain: str
    chain_id: int


class SignInCreate(Strict):
    message: str = Field(min_length=1, max_length=4096, description="the EIP-4361 message, as signed")
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$", description="personal_sign of the message")


class SessionPublic(BaseModel):
    address: str
    expires_at: int
    token: str | None = Field(None, description="bearer token (also set as an HttpOnly cookie)")
    dev_mode: bool


# --- jobs --------------------------------------------------------------------------------------------


class DeadlinesPublic(BaseModel):
    due: int
    review_until: int | None
    claimable_from: int | None
    verdict_from: int | None
    released_from: int | None
    resolvable_from: int | None


class MilestonePublic(BaseModel):
    index: int
    amount: str
    paid: str
    status: str
    revisions: int
    timestamp: int
    deliverable: str | None
    deadlines: DeadlinesPublic | None = None


class JobPublic(BaseModel):
    id: int
    status: str
    client: str
    freelancer: str | None
    token: str
    arbiter: str | None
    budget: str
    budget_display: str
    held: str
    paid: str
    refunded: str
    deadline: int
    review_period: int
    fee_bps: int
    spec_hash: str
    skill: str | None
    milestone_count: int


class JobsPublic(BaseModel):
    data: list[JobPublic]
    count: int = Field(description="jobs matching the filters, all pages")
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last")
    dev_mode: bool
    indexed_block: int | None = Field(
        default=None,
        description="the last block of the chain index this page was read from; null: read from the chain's logs",
    )
    stale: bool = Field(
        default=False,
        description="true when the page comes from an index that may lag the chain: the node cannot be "
        "reached, or the indexer is behind the head by more than its confirmation depth",
    )


class SubmissionPublic(BaseModel):
    milestone: int
    deliverable: str
    timestamp: int
    block: int


class ScorePublic(BaseModel):
    milestone: int
    round: int
    median: str
    passed: bool
    signers: list[str]
    scores: list[str]
    signatures: list[str] = Field(description="the oracles' signed reports (EIP-712), in signers' order")
    tx_hash: str


class DisputePublic(BaseModel):
    milestone: int
    by: str
    timestamp: int
    block: int
    case_id: int | None
    resolved: dict[str, str] | None


class EvaluationPublic(BaseModel):
    spec_hash: str
    threshold: str
    higher_is_better: bool
    tolerance: str
    labels_revealed: bool


class InputAssetPublic(BaseModel):
    asset_id: int
    offer_id: int
    licence_id: int
    kind: str = Field(description="download or compute")
    commercial: bool
    token: str
    price: str = Field(description="what the licence cost, in whole base units of `token`")
    status: str | None = Field(
        None, description="the licence now: valid, expired, revoked, surrendered, not held by the client..."
    )
    valid: bool | None = None
    holder: str | None = None
    expires_at: int | None = None


class JobInputsPublic(BaseModel):
    terms_cid: str = Field(description="the job's terms document: its sha256 digest is the job's spec hash")
    problem: str | None = Field(
        None, description="why the document cannot be trusted (its licences not checked)"
    )
    all_valid: bool
    input_assets: list[InputAssetPublic]


class JobDetailPublic(JobPublic):
    milestones: list[MilestonePublic]
    submissions: list[SubmissionPublic]
    applicants: list[str]
    judged_by_committee: bool
    scores: list[ScorePublic]
    evaluation: EvaluationPublic | None
    disputes: list[DisputePublic]
    inputs: JobInputsPublic | None = Field(
        None, description="the input assets the job's terms document records, each licence checked on chain"
    )
    dev_mode: bool


class JobCreate(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: Address | None = Field(None, alias="from", description="the client: the session's address")
    budget: Units | None = Field(None, description="total, split evenly over `milestones` when a count")
    milestones: (
        Annotated[int, Field(ge=1, le=16)] | Annotated[list[Units], Field(min_length=1, max_length=16)]
    ) = 1
    deadline: int = Field(ge=0, le=UINT64, description="unix time")
    review_period: int = Field(gt=0, le=365 * 86_400, description="seconds")
    freelancer: Address | None = None
    spec_hash: Hash32 | None = None
    arbiter: Address | None = None
    permit_deadline: int | None = Field(None, ge=0, le=2**256 - 1)
    permit_signature: str | None = Field(None, pattern=r"^0x[0-9a-fA-F]{130}$")
    input_offers: list[Annotated[int, Field(ge=1, le=2**64)]] = Field(
        default_factory=list,
        max_length=4,
        description="licence offers on the models and datasets the job works on: each licence is bought "
        "first (a step each), then named in `input_licences` instead",
    )
    input_licences: list[Annotated[int, Field(ge=1, le=2**64)]] = Field(
        default_factory=list, max_length=4, description="licences the client holds, recorded as input assets"
    )
    max_licence_fee: Units | None = Field(None, description="the most each input licence may cost")
    compute_inputs: bool = Field(False, description="accept compute-only licences as inputs")


class SubmissionCreate(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: Address | None = Field(None, alias="from", description="the freelancer: the session's address")
    deliverable: Hash32


class ApprovalCreate(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: Address | None = Field(None, alias="from", description="the client: the session's address")


class UnsignedTransaction(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from")
    to: str
    data: str
    value: str
    chainId: int
    nonce: int
    gas: int
    maxFeePerGas: str
    maxPriorityFeePerGas: str
    type: int


class WritePublic(BaseModel):
    """What a write returns: what to sign next, or (dev mode) what was sent."""

    status: Literal["sign_transaction", "sign_typed_data", "sent"]
    dev_mode: bool
    transaction: UnsignedTransaction | None = None
    typed_data: dict[str, Any] | None = None
    note: str = ""
    tx_hash: str | None = None
    job: JobPublic | None = None
    licence_id: int | None = None
    terms_cid: str | None = Field(
        default=None, description="a job with input assets: its terms document's CID"
    )


class RawTransactionCreate(Strict):
    raw: str = Field(
        description="the signed transaction, 0x-hex (at most 64 KiB): a call this API prepared, signed "
        "by the signed-in address for this chain"
    )


class TransactionPublic(BaseModel):
    tx_hash: str
    block: int
    gas_used: int
    sender: str
    job_ids: list[int]
    licence_ids: list[int] = Field(default_factory=list, description="licences the transaction bought")
    dev_mode: bool


# --- competitions ---------------------------------------------------------------------------------------


class CompetitionPublic(BaseModel):
    id: int
    client: str
    token: str
    prize: str
    deadline: int
    reveal_end: int
    entry_bond: str
    public_percent: int
    prize_bps: list[int]
    higher_is_better: bool
    labels_confirmed: bool
    entries: int
    revealed: int
    ranked: bool
    finalized: bool
    cancelled: bool
    challenge_end: int | None
    winners: list[dict[str, Any]]


class CompetitionsPublic(BaseModel):
    data: list[CompetitionPublic]
    count: int
    dev_mode: bool


class LeaderboardRowPublic(BaseModel):
    entry: int
    submitter: str
    revealed: bool
    public_score: str | None
    oracles: int
    private_score: str | None
    place: int | None
    prize: str


class LeaderboardPublic(BaseModel):
    competition: CompetitionPublic
    rows: list[LeaderboardRowPublic]
    dev_mode: bool


# --- profiles, credentials, artifacts ------------------------------------------------------------


class ProfilePublic(BaseModel):
    address: str
    reputation: dict[str, Any] | None = Field(description="score, rank and the jobs that explain it")
    badges: list[dict[str, Any]]
    reviews: list[dict[str, Any]]
    attestations: list[dict[str, Any]] = Field(description="JobCompleted attestations received")
    completed_jobs: list[JobPublic]
    dev_mode: bool


class CredentialVerify(Strict):
    presentation: str = Field(min_length=1, max_length=65_536, description="SD-JWT VC presentation")
    audience: str = Field(min_length=1, max_length=512)
    nonce: str = Field(min_length=1, max_length=512)


class VerificationPublic(BaseModel):
    valid: bool
    reason: str | None = Field(None, description="stable code of the failed check")
    message: str | None = None
    credential: dict[str, Any] | None = None


class ArtifactPublic(BaseModel):
    cid: str
    size: int


# --- assets and licences ------------------------------------------------------------------------------


class SharePublic(BaseModel):
    account: str
    bps: int = Field(description="basis points of what is left after the parents' shares")


class ParentPublic(BaseModel):
    asset_id: int
    bps: int = Field(description="basis points of the asset's revenue passed up to this parent")


class AssetJobPublic(BaseModel):
    job_id: int
    milestone: int
    deliverable: str


class AssetPublic(BaseModel):
    asset_id: int
    owner: str
    kind: Literal["model", "dataset"]
    manifest: str = Field(description="CID of the manifest")
    creators: list[SharePublic]
    parents: list[ParentPublic]
    royalty_bps: int = Field(description="ERC-2981 royalty on resales")
    existed_since: int = Field(
        description="unix time its existence is proven from (a timestamp, or registration)"
    )
    job: AssetJobPublic | None = Field(None, description="the paid job milestone it was delivered in")
    block: int
    tx_hash: str


class AssetsPublic(BaseModel):
    data: list[AssetPublic]
    count: int = Field(description="assets matching the filters, all pages")
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last")
    indexed_block: int | None = Field(
        description="the last block of the chain index the list was read from; null: read from the logs"
    )


class OfferPublic(BaseModel):
    offer_id: int
    asset_id: int
    seller: str
    token: str
    price: Units
    price_display: str
    term_seconds: int = Field(description="0: perpetual")
    commercial: bool
    kind: str = Field(description="download or compute")
    transferable: bool
    revocable: bool
    terms_cid: str
    max_licences: int = Field(description="0: unlimited")
    sold: int
    active: bool = Field(description="not withdrawn")
    available: bool = Field(
        description="can be bought now: active, not sold out, its seller still owns the asset"
    )


class OffersPublic(BaseModel):
    data: list[OfferPublic]


class LineageNodePublic(BaseModel):
    asset_id: int
    name: str | None
    kind: str
    owner: str
    parents: list[ParentPublic]


class LineagePublic(BaseModel):
    data: list[LineageNodePublic] = Field(description="the asset and every ancestor, newest first")


class ReceiverPublic(BaseModel):
    account: str
    amount: Units
    amount_display: str


class SalePublic(BaseModel):
    """Where the price of the cheapest offer that can be bought goes, once every level is distributed."""

    price: Units
    price_display: str
    received: list[ReceiverPublic]


class AssetDetailPublic(AssetPublic):
    name: str | None = Field(description="from the manifest; null when the store does not hold it")
    registered_at: int
    manifest_json: dict[str, Any] | None = Field(
        description="the manifest; null when the store does not hold it"
    )
    card_format: str | None = Field(
        None,
        description="the manifest's card: croissant (a dataset's Croissant 1.0 JSON-LD), huggingface (a "
        "model's Hugging Face model card), other or none; null when the store does not hold the manifest. "
        "The card itself: `manifest_json.card`, or `GET /assets/{id}/card`",
    )
    lineage: list[LineageNodePublic] = Field(description="the asset and every ancestor")
    children: list[int] = Field(description="the assets registered as derived from this one")
    offers: list[OfferPublic]
    sale: SalePublic | None


class LicencePublic(BaseModel):
    licence_id: int
    offer_id: int
    asset_id: int
    holder: str | None = Field(description="null once surrendered")
    price: Units
    price_display: str
    token: str
    expires_at: int = Field(description="unix time; 0: perpetual")
    kind: str = Field(description="download or compute")
    commercial: bool
    transferable: bool
    revoked: bool
    valid: bool


class LicencesPublic(BaseModel):
    data: list[LicencePublic]
    count: int
    next_cursor: str | None
    indexed_block: int | None


class LicenceDetailPublic(LicencePublic):
    revocable: bool
    terms_cid: str | None


class PurchaseCreate(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: Address | None = Field(None, alias="from", description="the buyer: the session's address")
    max_price: Units | None = Field(None, description="the most the buyer pays (default: the offer's price)")
    permit_deadline: int | None = Field(None, ge=0, le=2**256 - 1)
    permit_signature: str | None = Field(None, pattern=r"^0x[0-9a-fA-F]{130}$")
