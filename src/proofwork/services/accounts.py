"""Accounts: list the usable ones, create or import encrypted keys, fund them on local chains."""

from __future__ import annotations

from dataclasses import dataclass

from proofwork.chain.receipts import Receipt
from proofwork.domain.errors import NotAllowed
from proofwork.keys.keystore import StoredAccount, parse_private_key
from proofwork.services.workspace import Workspace

DEFAULT_GAS_MONEY = 10**18  # 1 ETH: plenty for hundreds of escrow transactions on a local chain


@dataclass(frozen=True)
class AccountInfo:
    name: str
    address: str
    kind: str  # "dev" (local chain, no password) or "keystore" (encrypted on this machine)


def list_accounts(ws: Workspace) -> list[AccountInfo]:
    devs = [AccountInfo(s.name, s.address, "dev") for s in ws.dev_accounts()]
    return devs + [AccountInfo(a.name, a.address, "keystore") for a in ws.keystore.list()]


def create_account(ws: Workspace, name: str, password: str) -> StoredAccount:
    return ws.keystore.create(name, password)


def import_account(ws: Workspace, name: str, private_key_text: str, password: str) -> StoredAccount:
    return ws.keystore.add(name, parse_private_key(private_key_text), password)


def fund(
    ws: Workspace, to: str, tokens: int, gas_money: int = DEFAULT_GAS_MONEY
) -> list[tuple[str, Receipt]]:
    """Mints test stablecoin and sends gas money to `to`; only on local development chains."""
    if not ws.chain.is_local:
        raise NotAllowed(
            "`account fund` works only on local development chains (the embedded chain or anvil)"
        )
    deployment = ws.deployment
    if not deployment.token_source_hash:
        raise NotAllowed("the deployed token is an external ERC-20; proofwork cannot mint it")
    minter = next((s for s in ws.dev_accounts() if s.address == deployment.deployer), None)
    if minter is None:
        minter = ws.signer(deployment.deployer)
    banker = ws.dev_accounts()[0]
    receipts: list[tuple[str, Receipt]] = []
    if tokens > 0:
        receipts.append(("mint", ws.token.mint(minter.key, to, tokens)))
    if gas_money > 0:
        receipts.append(("gas money", ws.chain.send_eth(banker.key, to, gas_money)))
    return receipts
