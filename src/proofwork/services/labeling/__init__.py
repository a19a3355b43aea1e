"""Labeling campaigns (issue 14): `campaigns` (create, status, close), `work` (batches served and
signed answers taken), `rounds` (the published round bundle, the committee's recomputation and signed
root, anyone's `verify`), `claims` (single and batch claims, relayed by anyone), `export` (the
aggregated dataset). Quality and pay are `evaluation.label_quality`'s."""
