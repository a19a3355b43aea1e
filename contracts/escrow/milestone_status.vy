# pragma version ~=0.4.3
"""
@title milestone_status
@custom:contract-name milestone_status
@license GNU Affero General Public License v3.0 only
@notice The statuses of a `JobEscrow` milestone (`IJobEscrow.Milestone.status`), for
        every contract that reads escrow job states (the escrow itself, the oracle
        committee, the job attester). A module of constants only: importing it adds
        no code and no storage.
@dev OPEN, SUBMITTED and DISPUTED are the unsettled statuses; PAID and above are
     terminal (no money is left in the milestone), so `status >= PAID` reads "settled".
"""


# @dev Awaiting a (re)submission.
OPEN: constant(uint8) = 0
# @dev A deliverable awaits review (or the committee's verdict).
SUBMITTED: constant(uint8) = 1
# @dev Frozen for the job's arbiter; after the arbitration timeout anyone may end it.
DISPUTED: constant(uint8) = 2
# @dev Paid to the freelancer in full (approve, the last part of pay_partial, claim).
PAID: constant(uint8) = 3
# @dev Refunded to the client (reclaim of an undelivered milestone).
REFUNDED: constant(uint8) = 4
# @dev Split by the arbiter, or by the fallback rule once a dispute timed out.
RESOLVED: constant(uint8) = 5
# @dev Ended by a mutual cancellation.
CANCELLED: constant(uint8) = 6
