"""Sign-In with Ethereum (EIP-4361) for the API: nonces, message checks, sessions.

Parsing and signature recovery are the `siwe` library's (PyPI `signinwithethereum`); this module
adds what the library leaves to the server: the nonce was issued here and is used once, the domain
and URI are this server's, the message has an expiry and it has not passed, and the session that
follows has its own expiry.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from proofwork.db.api_sessions import SessionStore
from proofwork.domain.errors import ProofworkError

NONCE_TTL = 600  # seconds a nonce may wait for its signed message
MAX_MESSAGE_TTL = 86_400  # a message may not claim to be valid for longer than this


class SignInRejected(ProofworkError):
    """A SIWE message or signature failed a check; `code` is stable, `str(err)` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class SignInUnavailable(ProofworkError):
    """The EIP-4361 library is not installed (`pip install --no-deps signinwithethereum==5.0.2`)."""


@dataclass(frozen=True)
class SignedIn:
    address: str
    token: str
    expires: int


def session_db_path(data_dir: Path) -> Path:
    return data_dir / "api" / "sessions.sqlite3"


class SignIn:
    def __init__(self, store: SessionStore, session_ttl: int) -> None:
        self.store = store
        self.session_ttl = session_ttl

    @staticmethod
    def now() -> int:
        return int(time.time())

    def nonce(self) -> tuple[str, int]:
        """A fresh nonce (alphanumeric, as EIP-4361 requires) and when it expires."""
        nonce = secrets.token_hex(16)
        expires = self.now() + NONCE_TTL
        self.store.add_nonce(nonce, expires, self.now())
        return nonce, expires

    def verify(self, message: str, signature: str, *, domain: str, chain_id: int) -> SignedIn:
        """Checks the signed message for this server and opens a session for its address."""
        try:
            from siwe import SiweMessage, siwe  # the library loads web3: only when someone signs in
        except ImportError as exc:
            raise SignInUnavailable(
                "Sign-In with Ethereum is unavailable on this server: install signinwithethereum==5.0.2"
            ) from exc

        try:
            # the library's regular-expression parser: its ABNF one takes seconds on some 4 kB inputs
            parsed = SiweMessage.from_message(message, abnf=False)
        except Exception as exc:  # the library raises ValueError and pydantic errors of its own
            raise SignInRejected("siwe_malformed", "the message is not an EIP-4361 sign-in message") from exc
        if parsed.domain != domain:
            raise SignInRejected(
                "siwe_wrong_domain", f"the message is for {parsed.domain!r}, not this server ({domain!r})"
            )
        if urlsplit(str(parsed.uri)).netloc != domain:
            raise SignInRejected("siwe_wrong_uri", f"the message's URI {parsed.uri} is not on {domain}")
        if int(parsed.chain_id) != chain_id:
            raise SignInRejected(
                "siwe_wrong_chain",
                f"the message is for chain {parsed.chain_id}, this server is on {chain_id}",
            )
        if parsed.expiration_time is None:
            raise SignInRejected("siwe_no_expiry", "the message must carry an Expiration Time")
        now = self.now()
        expires = int(_instant(str(parsed.expiration_time)))
        issued = int(_instant(str(parsed.issued_at)))
        if expires <= now:
            raise SignInRejected("siwe_expired", "the message has expired: sign in again with a new one")
        if expires - issued > MAX_MESSAGE_TTL:
            raise SignInRejected("siwe_too_long", "the message may be valid for one day at most")
        try:
            parsed.verify(signature, nonce=parsed.nonce, timestamp=datetime.fromtimestamp(now, UTC))
        except siwe.ExpiredMessage as exc:
            raise SignInRejected("siwe_expired", "the message has expired: sign in again") from exc
        except siwe.NotYetValidMessage as exc:
            raise SignInRejected("siwe_not_yet_valid", "the message is not valid yet (Not Before)") from exc
        except (siwe.VerificationError, ValueError, TypeError) as exc:
            raise SignInRejected(
                "siwe_bad_signature", f"the signature is not {parsed.address}'s signature of this message"
            ) from exc
        # the nonce last: a bad signature does not burn a nonce someone else may be signing with
        if not self.store.consume_nonce(parsed.nonce, now):
            raise SignInRejected(
                "siwe_bad_nonce", "the nonce was not issued by this server, has expired or was already used"
            )
        token = secrets.token_urlsafe(32)
        session_expires = now + self.session_ttl
        self.store.add_session(token, str(parsed.address), session_expires, now)
        return SignedIn(str(parsed.address), token, session_expires)

    def session(self, token: str) -> tuple[str, int] | None:
        return self.store.session(token, self.now())

    def sign_out(self, token: str) -> None:
        self.store.end_session(token)


def _instant(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
