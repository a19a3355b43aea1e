# pragma version ~=0.4.3
"""
@title ReentrantToken
@notice Test-only ERC-20 whose `transfer` and `transferFrom` call back into a
        target (the escrow) with a prepared payload, to prove the escrow's
        nonreentrant locks. It can also report failure by returning False.
"""

from ethereum.ercs import IERC20

implements: IERC20

balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])
totalSupply: public(uint256)

# @dev Call made from inside the next transfer, if armed (one shot).
target: public(address)
payload: public(Bytes[4096])
armed: public(bool)
# @dev True: a failing re-entrant call reverts the whole transfer.
bubble: public(bool)
# @dev Re-entrant calls attempted so far, and whether the last one succeeded.
attempts: public(uint256)
last_ok: public(bool)
# @dev True: transfers move the tokens but return False.
return_false: public(bool)


@external
def mint(to: address, amount: uint256):
    self.balanceOf[to] += amount
    self.totalSupply += amount
    log IERC20.Transfer(sender=empty(address), receiver=to, value=amount)


@external
def arm(target: address, payload: Bytes[4096], bubble: bool):
    self.target = target
    self.payload = payload
    self.bubble = bubble
    self.armed = True


@external
def set_return_false(flag: bool):
    self.return_false = flag


@external
def approve(spender: address, amount: uint256) -> bool:
    self.allowance[msg.sender][spender] = amount
    log IERC20.Approval(owner=msg.sender, spender=spender, value=amount)
    return True


@external
def transfer(to: address, amount: uint256) -> bool:
    self._move(msg.sender, to, amount)
    self._reenter()
    return not self.return_false


@external
def transferFrom(owner: address, to: address, amount: uint256) -> bool:
    self.allowance[owner][msg.sender] -= amount
    self._move(owner, to, amount)
    self._reenter()
    return not self.return_false


@internal
def _move(owner: address, to: address, amount: uint256):
    self.balanceOf[owner] -= amount
    self.balanceOf[to] += amount
    log IERC20.Transfer(sender=owner, receiver=to, value=amount)


@internal
def _reenter():
    if not self.armed:
        return
    self.armed = False
    self.attempts += 1
    if self.bubble:
        raw_call(self.target, self.payload)
        self.last_ok = True
    else:
        self.last_ok = raw_call(self.target, self.payload, revert_on_failure=False)
