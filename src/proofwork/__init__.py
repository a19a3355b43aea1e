"""proofwork: trustworthy AI/ML gig work on Ethereum."""

__version__ = "0.1.0"
