from __future__ import annotations

import json
from pathlib import Path

import pytest

from proofwork.domain.errors import DataDirCorrupted, InvalidInput, NotFound
from proofwork.keys.keystore import KeyStore, parse_private_key

KEY = bytes.fromhex("4c" * 32)


def test_add_unlock_and_list(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "ks")
    account = store.add("alice", KEY, "pw")
    assert store.unlock("alice", "pw") == KEY
    assert store.list() == [account]
    assert store.find(account.address.lower()) == account
    raw = (tmp_path / "ks" / "alice.json").read_text()
    assert KEY.hex() not in raw
    assert oct((tmp_path / "ks" / "alice.json").stat().st_mode & 0o777) == "0o600"


def test_refusals(tmp_path: Path) -> None:
    store = KeyStore(tmp_path)
    store.add("alice", KEY, "pw")
    with pytest.raises(InvalidInput, match="wrong password"):
        store.unlock("alice", "nope")
    with pytest.raises(InvalidInput, match="already exists"):
        store.add("alice", bytes.fromhex("11" * 32), "pw")
    with pytest.raises(InvalidInput, match="already stored"):
        store.add("bob", KEY, "pw")
    with pytest.raises(NotFound):
        store.unlock("carol", "pw")
    for bad in ("Alice", "dev0", "x" * 40, "1abc", "a b"):
        with pytest.raises(InvalidInput):
            store.add(bad, bytes.fromhex("22" * 32), "pw")
    with pytest.raises(InvalidInput, match="empty"):
        store.add("dora", bytes.fromhex("33" * 32), "")


def test_damaged_keystore_file_is_reported(tmp_path: Path) -> None:
    store = KeyStore(tmp_path)
    (tmp_path / "broken.json").write_text(json.dumps({"nope": 1}))
    with pytest.raises(DataDirCorrupted, match=r"broken\.json"):
        store.list()


@pytest.mark.parametrize("text", ["", "0x12", "zz" * 32, "0x" + "00" * 32, "ff" * 32])
def test_parse_private_key_refuses(text: str) -> None:
    with pytest.raises(InvalidInput, match="invalid private key"):
        parse_private_key(text)
