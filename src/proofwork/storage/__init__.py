"""Content-addressed artifact storage: IPFS-identical CIDs (unixfs-v1-2025) and the stores that keep them."""
