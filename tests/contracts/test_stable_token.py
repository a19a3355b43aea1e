"""Unit tests of contracts/tokens/StableToken.vy (snekmate ERC-20 + EIP-2612, 6 decimals)."""

import boa
import pytest
from escrow_harness import chain_id, now, permit_signature
from escrow_model import ZERO_ADDRESS
from eth_account.messages import encode_typed_data

NAME, SYMBOL = "Proofwork Test USD", "pUSD"
MAX = 2**256 - 1


@pytest.fixture
def a(accounts):
    return accounts


@pytest.fixture
def funded(token, a):
    token.mint(a.client.address, 1_000_000, sender=a.owner.address)
    return token


def test_metadata(token, a):
    assert token.name() == NAME
    assert token.symbol() == SYMBOL
    assert token.decimals() == 6
    assert token.totalSupply() == 0
    assert token.owner() == a.owner.address
    assert token.is_minter(a.owner.address)
    assert not token.is_minter(a.outsider.address)
    fields, name, version, chain, verifying, _, _ = token.eip712Domain()
    assert (fields, name, version, chain, verifying) == (b"\x0f", NAME, "1", chain_id(), token.address)


def test_domain_separator_matches_eip712(token):
    signable = encode_typed_data(
        full_message={
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                "Empty": [],
            },
            "primaryType": "Empty",
            "domain": {
                "name": NAME,
                "version": "1",
                "chainId": chain_id(),
                "verifyingContract": token.address,
            },
            "message": {},
        }
    )
    assert token.DOMAIN_SEPARATOR() == signable.header


def test_only_minters_mint(token, a):
    with boa.reverts("erc20: access is denied"):
        token.mint(a.outsider.address, 1, sender=a.outsider.address)
    token.mint(a.client.address, 123, sender=a.owner.address)
    (ev,) = [e for e in token.get_logs() if type(e).__name__ == "Transfer"]
    assert (ev.sender, ev.receiver, ev.value) == (ZERO_ADDRESS, a.client.address, 123)
    assert token.balanceOf(a.client.address) == 123
    assert token.totalSupply() == 123
    with boa.reverts("erc20: mint to the zero address"):
        token.mint(ZERO_ADDRESS, 1, sender=a.owner.address)


def test_set_minter(token, a):
    with boa.reverts("ownable: caller is not the owner"):
        token.set_minter(a.outsider.address, True, sender=a.outsider.address)
    with boa.reverts("erc20: minter is owner address"):
        token.set_minter(a.owner.address, False, sender=a.owner.address)
    with boa.reverts("erc20: minter is the zero address"):
        token.set_minter(ZERO_ADDRESS, True, sender=a.owner.address)
    token.set_minter(a.outsider.address, True, sender=a.owner.address)
    token.mint(a.client.address, 5, sender=a.outsider.address)
    token.set_minter(a.outsider.address, False, sender=a.owner.address)
    with boa.reverts("erc20: access is denied"):
        token.mint(a.client.address, 5, sender=a.outsider.address)
    assert token.balanceOf(a.client.address) == 5


def test_transfer_ownership_moves_minter_role(token, a):
    with boa.reverts("ownable: caller is not the owner"):
        token.transfer_ownership(a.outsider.address, sender=a.client.address)
    with boa.reverts("erc20: new owner is the zero address"):
        token.transfer_ownership(ZERO_ADDRESS, sender=a.owner.address)
    token.transfer_ownership(a.outsider.address, sender=a.owner.address)
    assert token.owner() == a.outsider.address
    assert token.is_minter(a.outsider.address)
    assert not token.is_minter(a.owner.address)
    with boa.reverts("erc20: access is denied"):
        token.mint(a.client.address, 1, sender=a.owner.address)
    token.mint(a.client.address, 1, sender=a.outsider.address)


def test_transfer(funded, a):
    token = funded
    assert token.transfer(a.freelancer.address, 400_000, sender=a.client.address) is True
    assert token.balanceOf(a.client.address) == 600_000
    assert token.balanceOf(a.freelancer.address) == 400_000
    with boa.reverts("erc20: transfer amount exceeds balance"):
        token.transfer(a.freelancer.address, 600_001, sender=a.client.address)
    with boa.reverts("erc20: transfer to the zero address"):
        token.transfer(ZERO_ADDRESS, 1, sender=a.client.address)
    assert token.totalSupply() == 1_000_000


def test_approve_and_transfer_from(funded, a):
    token = funded
    assert token.approve(a.relayer.address, 300_000, sender=a.client.address) is True
    assert token.allowance(a.client.address, a.relayer.address) == 300_000
    token.transferFrom(a.client.address, a.freelancer.address, 100_000, sender=a.relayer.address)
    assert token.allowance(a.client.address, a.relayer.address) == 200_000
    with boa.reverts("erc20: insufficient allowance"):
        token.transferFrom(a.client.address, a.freelancer.address, 200_001, sender=a.relayer.address)
    token.approve(a.relayer.address, MAX, sender=a.client.address)
    token.transferFrom(a.client.address, a.freelancer.address, 500_000, sender=a.relayer.address)
    assert token.allowance(a.client.address, a.relayer.address) == MAX  # infinite approval
    assert token.balanceOf(a.freelancer.address) == 600_000
    with boa.reverts("erc20: approve to the zero address"):
        token.approve(ZERO_ADDRESS, 1, sender=a.client.address)


def test_burn(funded, a):
    token = funded
    token.burn(100, sender=a.client.address)
    assert token.totalSupply() == 999_900
    with boa.reverts("erc20: burn amount exceeds balance"):
        token.burn(1_000_000, sender=a.client.address)
    with boa.reverts("erc20: insufficient allowance"):
        token.burn_from(a.client.address, 1, sender=a.relayer.address)
    token.approve(a.relayer.address, 10, sender=a.client.address)
    token.burn_from(a.client.address, 10, sender=a.relayer.address)
    assert token.balanceOf(a.client.address) == 999_890


def test_permit(funded, a):
    token = funded
    deadline = now() + 3_600
    v, r, s = permit_signature(a.client, token, a.relayer.address, 250_000, deadline)
    # anyone may submit the signed permit
    token.permit(a.client.address, a.relayer.address, 250_000, deadline, v, r, s, sender=a.outsider.address)
    (ev,) = token.get_logs()
    assert (type(ev).__name__, ev.owner, ev.spender, ev.value) == (
        "Approval",
        a.client.address,
        a.relayer.address,
        250_000,
    )
    assert token.allowance(a.client.address, a.relayer.address) == 250_000
    assert token.nonces(a.client.address) == 1
    token.transferFrom(a.client.address, a.relayer.address, 250_000, sender=a.relayer.address)
    assert token.balanceOf(a.relayer.address) == 250_000
    # a used permit cannot be replayed: the nonce moved on
    with boa.reverts("erc20: invalid signature"):
        token.permit(
            a.client.address, a.relayer.address, 250_000, deadline, v, r, s, sender=a.outsider.address
        )


def test_permit_deadline_boundary(funded, a):
    token = funded
    deadline = now() + 10
    v, r, s = permit_signature(a.client, token, a.relayer.address, 1, deadline)
    boa.env.time_travel(seconds=11)
    with boa.reverts("erc20: expired deadline"):
        token.permit(a.client.address, a.relayer.address, 1, deadline, v, r, s)
    v, r, s = permit_signature(a.client, token, a.relayer.address, 1, now())
    token.permit(a.client.address, a.relayer.address, 1, now(), v, r, s)
    assert token.allowance(a.client.address, a.relayer.address) == 1


@pytest.mark.parametrize("case", ["other_signer", "other_value", "other_spender", "future_nonce", "bad_s"])
def test_permit_rejects_bad_signatures(funded, a, case):
    token = funded
    deadline = now() + 3_600
    signer, value, spender, nonce = a.client, 7, a.relayer.address, None
    if case == "other_signer":
        signer = a.outsider
    elif case == "future_nonce":
        nonce = 1
    v, r, s = permit_signature(signer, token, spender, value, deadline, nonce=nonce)
    # other_signer: the outsider signed a permit of its own, presented here for the client
    if case == "other_value":
        value = 8
    if case == "other_spender":
        spender = a.freelancer.address
    expected = "erc20: invalid signature"
    if case == "bad_s":
        s = (2**256 - 1).to_bytes(32, "big")
        expected = "ecdsa: invalid signature `s` value"
    with boa.reverts(expected):
        token.permit(a.client.address, spender, value, deadline, v, r, s)
    assert token.nonces(a.client.address) == 0
    assert token.allowance(a.client.address, spender) == 0


def test_permit_is_bound_to_the_token(funded, stable_deployer, a):
    with boa.env.prank(a.owner.address):
        other = stable_deployer.deploy(NAME, SYMBOL)  # same name, other address
    deadline = now() + 3_600
    v, r, s = permit_signature(a.client, funded, a.relayer.address, 5, deadline)
    with boa.reverts("erc20: invalid signature"):
        other.permit(a.client.address, a.relayer.address, 5, deadline, v, r, s)
    assert other.DOMAIN_SEPARATOR() != funded.DOMAIN_SEPARATOR()
