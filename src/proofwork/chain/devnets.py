"""The development chains proofwork knows, as plain facts (no web3, no py-evm): their chain ids and
the well-known keys of their funded dev accounts. Commands that only need these (an account's
address or DID on the embedded chain) answer without opening any chain."""

from __future__ import annotations

from typing import Final

# eth-tester's chain id: web3's EthereumTesterProvider answers eth_chainId with it, so the embedded
# chain uses it too and every layer (and existing tooling) agrees.
EMBEDDED_CHAIN_ID: Final = 131277322940537
# eth-tester's default accounts: private keys 1, 2, ..., 10 (as 32-byte big-endian integers).
EMBEDDED_DEV_KEYS: Final = tuple(i.to_bytes(32, "big") for i in range(1, 11))

# Anvil's well-known development mnemonic ("test test ... junk"): its first ten keys are the dev
# accounts on a local anvil node, like dev0..dev9 on the embedded chain.
ANVIL_DEV_KEYS: Final = tuple(
    bytes.fromhex(k)
    for k in (
        "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
        "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
        "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
        "7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
        "47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
        "8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
        "92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
        "4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
        "dbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
        "2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
    )
)
