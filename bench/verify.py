"""SD-JWT VC presentation verification throughput (`verify_presentation`) on one core.

Builds N distinct credentials and presentations (each its own holder key, claims, salts, nonce),
then times verifying all of them (best of 3 passes) in this single process: issuer signature,
disclosure digests, key binding (holder signature, sd_hash, audience, nonce, age), time checks.
The issuer key resolver is a dict lookup, as a DID resolver's cache would be; status lists are
measured separately (one cached list, the realistic case after the first fetch).

Profiles: `default` issuer EdDSA + holder EdDSA; `es256k` issuer EdDSA + holder ES256K (an
Ethereum wallet key); `es256` all P-256 (what other wallets default to).

Usage: python bench/verify.py [--n N]. Last line: one JSON object (`verifications_per_second` is
the default profile).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from proofwork.identity.sdjwt import (  # noqa: E402
    StatusReference,
    issue_credential,
    present,
    verify_presentation,
)
from proofwork.identity.status_list import (  # noqa: E402
    StatusList,
    make_status_checker,
    sign_status_list_token,
)
from proofwork.keys import jwk  # noqa: E402

NOW = 1_800_000_000
AUD = "did:pkh:eip155:1:0x00000000000000000000000000000000000000c1"
STATUS_URI = "https://issuer.proofwork.example/status/1"
PROFILES = {"default": ("EdDSA", "EdDSA"), "es256k": ("EdDSA", "ES256K"), "es256": ("ES256", "ES256")}
TARGET = 1_000


def build(n: int, issuer_alg: str, holder_alg: str, with_status: bool) -> tuple[list[tuple[str, str]], Any]:
    issuers = [jwk.generate_private_key(issuer_alg) for _ in range(8)]
    keys = {f"did:web:issuer{i}.example": k.public_key() for i, k in enumerate(issuers)}

    def resolve(iss: str, header: Mapping[str, Any], iat: int) -> jwk.PublicKey:
        return keys[iss]

    out = []
    for i in range(n):
        holder = jwk.generate_private_key(holder_alg)
        credential = issue_credential(
            issuer=f"did:web:issuer{i % 8}.example",
            key=issuers[i % 8],
            kid="key-1",
            vct="https://proofwork.example/badge/ml-eval",
            claims={
                "skill": "tabular-classification",
                "grade": "ABC"[i % 3],
                "job_id": i,
                "score": 0.5 + (i % 50) / 100,
                "email": f"worker{i}@example.com",
                "evaluation": {"metric": "f1", "dataset": f"bafy{i:08d}"},
            },
            holder_jwk=jwk.jwk_of(holder),
            iat=NOW - 3600,
            exp=NOW + 86_400,
            status=StatusReference(i, STATUS_URI) if with_status else None,
        )
        nonce = f"nonce-{i}"
        presentation = present(
            credential,
            disclose=["skill", "grade", "evaluation.metric"],
            holder_key=holder,
            aud=AUD,
            nonce=nonce,
            iat=NOW,
        )
        out.append((presentation, nonce))
    return out, resolve


def timed(items: list[tuple[str, str]], resolve: Any, checker: Any = None) -> float:
    start = time.perf_counter()
    for presentation, nonce in items:
        verify_presentation(
            presentation, resolve_key=resolve, now=NOW, audience=AUD, nonce=nonce, check_status=checker
        )
    return time.perf_counter() - start


def rate(items: list[tuple[str, str]], resolve: Any, checker: Any = None) -> float:
    timed(items[: min(200, len(items))], resolve, checker)  # warm-up
    return len(items) / min(timed(items, resolve, checker) for _ in range(3))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=3_000)
    args = parser.parse_args()

    figures: dict[str, Any] = {}
    for name, (issuer_alg, holder_alg) in PROFILES.items():
        start = time.perf_counter()
        items, resolve = build(args.n, issuer_alg, holder_alg, with_status=False)
        built = time.perf_counter() - start
        per_second = rate(items, resolve)
        figures[name] = per_second
        size = sum(len(p) for p, _ in items) / len(items)
        print(
            f"{name:8s} issuer {issuer_alg:6s} holder {holder_alg:6s}: {per_second:8,.0f} verifications/s "
            f"({1e6 / per_second:6.1f} µs each; {args.n:,} distinct presentations of ~{size:,.0f} bytes, "
            f"built in {built:.1f} s)"
        )

    # with a status check against one cached 131,072-entry list (fetched and verified once)
    status_key = jwk.generate_private_key("EdDSA")
    token = sign_status_list_token(
        StatusList(),
        key=status_key,
        kid=None,
        issuer="did:web:status.example",
        uri=STATUS_URI,
        iat=NOW - 60,
        exp=NOW + 3600,
        ttl=300,
    )
    items, resolve = build(args.n, "EdDSA", "EdDSA", with_status=True)

    def resolve_both(iss: str, header: Mapping[str, Any], iat: int) -> jwk.PublicKey:
        return status_key.public_key() if iss == "did:web:status.example" else resolve(iss, header, iat)

    checker = make_status_checker(lambda uri: token, resolve_both, NOW, None)
    with_status = rate(items, resolve_both, checker)
    print(f"default + status list check (cached list): {with_status:8,.0f} verifications/s")
    start = time.perf_counter()
    for _ in range(20):
        make_status_checker(lambda uri: token, resolve_both, NOW, None)(StatusReference(0, STATUS_URI))
    cold_ms = (time.perf_counter() - start) / 20 * 1000
    print(f"cold status list check (verify + inflate a 131,072-entry token): {cold_ms:.2f} ms")

    ok = figures["default"] >= TARGET
    print(f"target >= {TARGET:,}/s on one core: {'met' if ok else 'NOT met'}")
    print(
        json.dumps(
            {
                "verifications_per_second": round(figures["default"]),
                "verifications_per_second_holder_es256k": round(figures["es256k"]),
                "verifications_per_second_es256": round(figures["es256"]),
                "verifications_per_second_with_status": round(with_status),
                "cold_status_check_ms": round(cold_ms, 3),
                "presentations": args.n,
                "target_met": ok,
            }
        )
    )


if __name__ == "__main__":
    main()
