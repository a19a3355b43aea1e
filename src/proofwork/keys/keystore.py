"""Encrypted account keys (eth-account keystore v3) under the data directory.

Private keys are only ever held in memory after decryption; nothing here prints,
logs or returns them in a message.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from eth_utils import to_checksum_address

from proofwork.domain.errors import DataDirCorrupted, InvalidInput, NotFound
from proofwork.keys.accounts import address_of
from proofwork.storage.files import save_file

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_DEV_NAME = re.compile(r"^dev\d+$")


@dataclass(frozen=True)
class StoredAccount:
    name: str
    address: str


def validate_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            f"invalid account name {name!r}: use 1-32 lowercase letters, digits, '-' or '_', starting with a letter"
        )
    if _DEV_NAME.fullmatch(name):
        raise InvalidInput(f"account name {name!r} is reserved for the development accounts")
    return name


def parse_private_key(text: str) -> bytes:
    cleaned = text.strip().removeprefix("0x")
    if not re.fullmatch(r"[0-9a-fA-F]{64}", cleaned):
        raise InvalidInput("invalid private key: expected 64 hexadecimal digits")
    key = bytes.fromhex(cleaned)
    address_of(key)  # refuses a key out of the secp256k1 range
    return key


class KeyStore:
    """One keystore v3 JSON file per named account: DIR/NAME.json."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._listing: list[StoredAccount] | None = None  # read once; `add` refreshes it

    def _path(self, name: str) -> Path:
        return self.directory / f"{name}.json"

    def _read(self, path: Path) -> dict[str, object]:
        try:
            data = json.loads(path.read_text())
            if not isinstance(data, dict) or "crypto" not in data or "address" not in data:
                raise ValueError("not a keystore")
            return data
        except (OSError, ValueError) as exc:
            raise DataDirCorrupted(f"keystore file {path} is damaged or unreadable") from exc

    def _scan(self) -> list[StoredAccount]:
        if not self.directory.is_dir():
            return []
        out = []
        for path in sorted(self.directory.glob("*.json")):
            data = self._read(path)
            out.append(
                StoredAccount(path.stem, to_checksum_address("0x" + str(data["address"]).removeprefix("0x")))
            )
        return out

    def list(self) -> list[StoredAccount]:
        if self._listing is None:
            self._listing = self._scan()
        return list(self._listing)

    def find(self, name_or_address: str) -> StoredAccount | None:
        for account in self.list():
            if account.name == name_or_address or account.address.lower() == name_or_address.lower():
                return account
        return None

    def create(self, name: str, password: str) -> StoredAccount:
        return self.add(name, secrets.token_bytes(32), password)

    def add(self, name: str, key: bytes, password: str) -> StoredAccount:
        validate_name(name)
        if not password:
            raise InvalidInput("an empty keystore password is not allowed")
        path = self._path(name)
        if path.exists():
            raise InvalidInput(f"an account named {name!r} already exists")
        address = address_of(key)
        if self.find(address):
            raise InvalidInput(f"account {address} is already stored under another name")
        from eth_account import Account  # its keystore code (scrypt, BLS) loads only to write or unlock

        encrypted = Account.encrypt(key, password)
        save_file(path, json.dumps(encrypted).encode())
        self._listing = None
        return StoredAccount(name, address)

    def unlock(self, name: str, password: str) -> bytes:
        path = self._path(name)
        if not path.exists():
            raise NotFound(f"no account named {name!r}")
        data = self._read(path)
        try:
            from eth_account import Account

            return bytes(Account.decrypt(data, password))
        except ValueError as exc:
            raise InvalidInput(f"wrong password for account {name!r}") from exc
