# pragma version ~=0.4.3
"""
@title StableToken
@custom:contract-name StableToken
@license GNU Affero General Public License v3.0 only
@notice Test stablecoin for local chains: ERC-20 with EIP-2612 permit and
        6 decimals, like USDC. The owner (deployer) is the only minter.
        On real chains proofwork works with any ERC-20 instead.
@dev All logic comes from snekmate's audited `erc20` module; this file only
     fixes its parameters and exports its surface.
"""

from snekmate.auth import ownable
from snekmate.tokens import erc20

initializes: ownable
initializes: erc20[ownable := ownable]

exports: erc20.__interface__


@deploy
def __init__(name_: String[25], symbol_: String[5]):
    """
    @notice Deploys the token with 6 decimals; the deployer becomes owner and minter.
    @param name_ Token name, also used as the EIP-712 domain name for permits.
    @param symbol_ Token symbol.
    """
    ownable.__init__()
    erc20.__init__(name_, symbol_, 6, name_, "1")
