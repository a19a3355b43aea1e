"""Errors every layer raises; each carries a one-line message meant for a person."""


class ProofworkError(Exception):
    """Base of every expected failure. `str(err)` is a complete one-line explanation."""

    exit_code = 1


class InvalidInput(ProofworkError):
    """The user gave a value that cannot be used (bad amount, address, duration, file)."""

    exit_code = 2


class NotFound(ProofworkError):
    """An id, account or deployment that does not exist."""


class ChainUnavailable(ProofworkError):
    """The node cannot be reached, or the embedded chain cannot be opened."""


class ChainBusy(ChainUnavailable):
    """Another process holds the embedded chain for writing."""


class DataDirCorrupted(ProofworkError):
    """Files in the data directory are damaged; nothing was changed."""


class TransactionRejected(ProofworkError):
    """A contract call reverted, or a transaction could not be sent; nothing was paid."""


class NotAllowed(ProofworkError):
    """The action is not permitted in the job's current state or for this caller."""


class PartlyDone(ProofworkError):
    """A flow of several transactions stopped after some were sent: the message says what stands (and
    that no funds were lost) and how to finish without repeating it."""


class ArtifactCorrupted(ProofworkError):
    """Bytes read for a content id do not hash to that id; they were not used."""


class EvaluationFailed(ProofworkError):
    """A submission could not be scored (broken, hostile or over its limits); no money moved."""


class CredentialRejected(ProofworkError):
    """A credential, presentation, status list or DID document failed a check.

    `reason` is a short stable code (e.g. "expired", "wrong-nonce", "revoked") that tests and
    machine-readable output use; `str(err)` is the one-line explanation for a person.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


# Why a signed transaction from a user's wallet was refused before broadcast: stable code -> HTTP status.
SIGNED_TX_REFUSALS: dict[str, int] = {
    "tx_malformed": 400,  # not hex, or not a raw signed transaction
    "tx_wrong_chain": 400,  # signed for another chain id (or for none: replayable anywhere)
    "tx_unexpected_call": 400,  # not a call of a proofwork contract this server prepares
    "not_your_address": 403,  # signed by another address than the one acting
    "tx_replayed": 409,  # its nonce is already used on chain (sent before)
    "tx_too_large": 413,
}


class SignedTransactionRefused(InvalidInput):
    """A transaction a wallet signed failed a check before broadcast; nothing was sent.

    `reason` is a stable code from `SIGNED_TX_REFUSALS` (which also gives its HTTP status)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.status = SIGNED_TX_REFUSALS[reason]


# Why a labeling service refused a batch request or a signed batch: stable code -> (HTTP status, when).
LABEL_REFUSALS: dict[str, tuple[int, str]] = {
    "campaign_not_found": (404, "no such campaign on this labeling service"),
    "batch_not_found": (404, "no such batch in the campaign"),
    "item_not_in_batch": (400, "an answer for an item the batch does not hold"),
    "duplicate_answer": (400, "two answers for one item"),
    "unknown_label": (400, "a label outside the campaign's label set"),
    "empty_batch": (400, "a batch submitted without answers"),
    "malformed_answers": (400, "answers that are not (item CID, label) string pairs"),
    "wrong_signer": (403, "the batch is not signed by the labeler it was served to"),
    "not_eligible": (403, "the labeler does not meet the campaign's eligibility rule"),
    "batch_expired": (409, "submitted after the batch's expiry (its items were served again)"),
    "batch_answered": (409, "the batch was answered already (a replay)"),
    "labeler_cap": (409, "the labeler has given the campaign's per-labeler cap of labels"),
    "budget_spent": (409, "every label the budget can pay is given or out in batches"),
    "no_work": (409, "nothing left this labeler may label now"),
    "campaign_closed": (409, "past the campaign's close time"),
}


class LabelRefused(InvalidInput):
    """A labeling service refused a batch request or a signed batch; nothing was stored.

    `reason` is a stable code from `LABEL_REFUSALS` (which also gives its HTTP status)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.status = LABEL_REFUSALS[reason][0]
