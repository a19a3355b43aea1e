# pragma version ~=0.4.3
"""
@title job_completed
@custom:contract-name job_completed
@license GNU Affero General Public License v3.0 only
@notice The JobCompleted attestation schema, shared by the job attester (which encodes
        its data) and the proofwork resolver (which registers the schema and reads the
        parties back). A module of constants only.
@dev Data: abi_encode(jobId, milestone, client, freelancer, token, amountPaid, score,
     verified, threshold, higherIsBetter, specHash, skill). For a verified score,
     `threshold` and `higherIsBetter` are the pass rule the score was judged against and
     `specHash` the job's spec_hash (its Evaluation hash), so a verified pass means what
     the spec says; unverified records carry 0, False and the job's spec_hash.
"""


# @dev The EAS schema string of JobCompleted attestations (non-revocable).
SCHEMA: constant(String[256]) = "uint256 jobId,uint256 milestone,address client,address freelancer,address token,uint256 amountPaid,int256 score,bool verified,int256 threshold,bool higherIsBetter,bytes32 specHash,string skill"
