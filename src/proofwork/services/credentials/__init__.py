"""Off-chain credentials (SD-JWT VC): issuer profiles, status lists, issuing, the holder's wallet,
verification. One module per concern:

- `profiles`: an issuer's profile, DID, signing keys and did.json, and the on-chain directory it answers to;
- `status_lists`: its status lists (IETF Token Status List): allocation, signing, anchoring, revocation;
- `issuing`: credential types, issuing, what an issuer issued;
- `wallet`: what a holder keeps and presents;
- `verification`: verifying a presentation against DIDs, the registry and status lists.

An issuer profile lives in `DATA_DIR/issuers/<name>/` (directories 0700, private files 0600):

- `profile.json`: the DID, its kind (`web` for an institution, `wallet` for an account's did:pkh),
  the account that speaks for it on chain, its base URL and its signing keys (current one last);
- `keys/key-<n>.jwk`: a did:web issuer's Ed25519 signing keys, as private JWKs;
- `status/<n>.json`: status list n (131,072 two-bit entries), kept sparse: which credential
  holds which (randomly drawn) index, and every entry that is not VALID;
- `issued.json`: every credential issued (id -> status index, vct, holder, times);
- `web/`: what `issuer serve` (`api/issuer_http.py`) publishes, laid out as did:web resolves it
  (`.well-known/did.json` for a bare host, `<path>/did.json` otherwise) plus the signed status
  list tokens at `<base_url>/status/<n>`.

A holder's credentials sit in `DATA_DIR/wallet/<address>/<id>.sdjwt`; a credential's id is the
first 128 bits of the SHA-256 of its issuer-signed JWT, so holder and issuer name it alike.

The on-chain issuer registry comes in through `profiles.IssuerDirectory`; nothing here touches web3.
"""
