"""A process sending ETH with one key, started twice at once by test_real_chains.py.

Usage: python send_with_one_key.py URL NONCE_DIR KEY_HEX GO_FILE VALUE TO [TO ...]
Waits for GO_FILE (so that both processes start sending together), sends VALUE wei to each TO in turn
and prints one JSON line: the receipts' hashes, blocks and gas, and the notes it was given.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from proofwork.chain.client import Chain
from proofwork.chain.fees import SendPolicy


def main(argv: list[str]) -> None:
    url, nonce_dir, key_hex, go_file, value, *recipients = argv
    notes: list[str] = []
    policy = SendPolicy(replace_after=20.0, max_wait=60.0)
    with Chain.connect(url, policy=policy, nonce_dir=Path(nonce_dir), notify=notes.append) as chain:
        key = bytes.fromhex(key_hex)
        chain.block_number()  # connected: now wait for the other process
        print("ready", flush=True)
        deadline = time.monotonic() + 30
        while not Path(go_file).exists():
            if time.monotonic() > deadline:
                raise SystemExit("no go")
            time.sleep(0.005)
        sent = []
        for to in recipients:
            receipt = chain.send_eth(key, to, int(value))
            sent.append({"hash": receipt.tx_hash, "block": receipt.block_number, "to": to})
    print(json.dumps({"sent": sent, "notes": notes}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
