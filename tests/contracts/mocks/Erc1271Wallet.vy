# pragma version ~=0.4.3
"""
@title Erc1271Wallet
@notice Test-only smart-contract wallet: it accepts (ERC-1271) exactly the
        digests its owner approved, and can make calls as itself.
"""

MAGIC: constant(bytes4) = 0x1626BA7E

owner: public(address)
approved: public(HashMap[bytes32, bool])


@deploy
def __init__():
    self.owner = msg.sender


@external
def approve_digest(digest: bytes32, ok: bool):
    assert msg.sender == self.owner, "wallet: not owner"
    self.approved[digest] = ok


@external
@view
def isValidSignature(digest: bytes32, signature: Bytes[65]) -> bytes4:
    if self.approved[digest]:
        return MAGIC
    return 0xFFFFFFFF


@external
def execute(target: address, data: Bytes[4096]):
    assert msg.sender == self.owner, "wallet: not owner"
    raw_call(target, data)
