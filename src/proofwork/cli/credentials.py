"""Identity and credentials, off chain: `id show|resolve` (a wallet's DIDs and key; any DID's
document) and `cred issue|present|verify|revoke|list` (SD-JWT VC credentials)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from proofwork.cli.args import AccountOpt, InsecureOpt, cli_state, plain
from proofwork.cli.output import CliState, when
from proofwork.domain.errors import CredentialRejected, InvalidInput
from proofwork.domain.jsonsafe import safe_json_loads
from proofwork.domain.units import parse_duration

if TYPE_CHECKING:
    from proofwork.services.workspace import Workspace

id_app = typer.Typer(
    help="Identity: your wallet's DIDs and holder key; resolve any DID.", no_args_is_help=True
)
cred_app = typer.Typer(
    help="Credentials (SD-JWT VC): issue, present with chosen claims, verify, revoke.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(id_app, name="id")
    app.add_typer(cred_app, name="cred")


@id_app.command("show")
def id_show(ctx: typer.Context, account: AccountOpt = "dev0") -> None:
    """An account's did:pkh, its holder key (JWK thumbprint) and the credentials it holds."""
    from proofwork.identity.did import did_pkh_of
    from proofwork.keys.jwk import thumbprint
    from proofwork.services.credentials import wallet

    state = cli_state(ctx)
    with state.workspace() as ws:
        signer = ws.signer(account)
        jwk = wallet.holder_jwk_of(signer)
        held = wallet.held_credentials(ws, signer.address)
        data: dict[str, Any] = {
            "ok": True,
            "account": signer.name,
            "address": signer.address,
            "did": did_pkh_of(ws.chain_id, signer.address),
            "holder_jwk": jwk,
            "holder_thumbprint": thumbprint(jwk),
            "credentials": held,
        }
    lines = [
        f"account     {data['account']} ({data['address']})",
        f"did         {data['did']}",
        f"holder key  {data['holder_thumbprint']} (secp256k1, the wallet key)",
        f"credentials {len(held)}",
        *(_credential_line(c) for c in held),
    ]
    state.emit(data, plain("\n".join(lines)))


@id_app.command("resolve")
def id_resolve(
    ctx: typer.Context,
    did: Annotated[str, typer.Argument(help="A DID: did:web, did:key or did:pkh.")],
    insecure_localhost: InsecureOpt = False,
) -> None:
    """Print a DID's document (did:web is fetched over https)."""
    from proofwork.services.credentials import verification

    state = cli_state(ctx)
    resolver = verification.make_resolver(allow_insecure_localhost=insecure_localhost)
    try:
        document = resolver.resolve(did.strip())
    except CredentialRejected as exc:
        raise CredentialRejected(
            exc.reason, f"cannot resolve {did.strip()[:100]} ({exc.reason}): {exc}"
        ) from exc
    state.emit(
        {"ok": True, "did": document.id, "document": document.raw}, plain(json.dumps(document.raw, indent=2))
    )


def _credential_line(c: dict[str, Any]) -> str:
    if c.get("error"):
        return f"  {c['id']}  (unreadable: {c['path']})"
    expires = f", expires {when(c['exp'])}" if c.get("exp") else ""
    return (
        f"  {c['id']}  {c.get('vct')}\n      from {c.get('issuer')}, issued {when(c.get('iat') or 0)}"
        f"{expires}; claims: {', '.join(c.get('claims') or []) or '-'}"
    )


def _claim_value(text: str) -> Any:
    """`--claim k=v`: v as JSON when it is a number, true/false/null, an object or an array; else text."""
    from proofwork.services.credentials import issuing, wallet

    try:
        value = safe_json_loads(
            text, max_bytes=wallet.MAX_CREDENTIAL_BYTES, max_depth=issuing.MAX_CLAIM_NESTING
        )
    except InvalidInput:
        return text
    return value if not isinstance(value, str) else text


def _claims(claims_file: Path | None, claim: list[str] | None) -> dict[str, Any]:
    # what is issued must also be presentable: claims no deeper than issuing allows
    from proofwork.services.credentials import issuing, wallet

    claims: dict[str, Any] = {}
    if claims_file is not None:
        try:
            raw = claims_file.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"cannot read claims file {claims_file}: {exc.strerror}") from exc
        if len(raw) > wallet.MAX_CREDENTIAL_BYTES:
            raise InvalidInput(
                f"claims file {claims_file} is larger than {wallet.MAX_CREDENTIAL_BYTES} bytes"
            )
        try:
            loaded = safe_json_loads(
                raw, max_bytes=wallet.MAX_CREDENTIAL_BYTES, max_depth=issuing.MAX_CLAIM_NESTING
            )
        except InvalidInput as exc:
            raise InvalidInput(f"claims file {claims_file} is not usable JSON: {exc}") from exc
        if not isinstance(loaded, dict):
            raise InvalidInput(f"claims file {claims_file} must hold a JSON object")
        claims.update(loaded)
    for item in claim or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(f"invalid --claim {item!r}: expected NAME=VALUE")
        claims[name.strip()] = _claim_value(value)
    if not claims:
        raise InvalidInput("give the claims: --claims FILE.json and/or --claim NAME=VALUE")
    return claims


@cred_app.command("issue")
def cred_issue(
    ctx: typer.Context,
    issuer: Annotated[str, typer.Option("--from", help="Issuer profile (see `proofwork issuer create`).")],
    holder: Annotated[str, typer.Option("--to", help="Holder account: a name or an address.")],
    kind: Annotated[str, typer.Option("--type", help="course, skill, reference or reputation.")],
    claims_file: Annotated[Path | None, typer.Option("--claims", help="A JSON object of claims.")] = None,
    claim: Annotated[list[str] | None, typer.Option("--claim", help="NAME=VALUE (repeatable).")] = None,
    valid_for: Annotated[str | None, typer.Option(help="Validity, e.g. 365d; default: no expiry.")] = None,
    holder_jwk: Annotated[
        Path | None, typer.Option(help="The holder's public JWK (a holder whose key is not on this machine).")
    ] = None,
) -> None:
    """Issue a credential: every claim selectively disclosable, bound to the holder's wallet key."""
    from proofwork.services.credentials import issuing
    from proofwork.services.issuers import directory_for as registry_directory

    state = cli_state(ctx)
    if kind not in issuing.CREDENTIAL_TYPES:
        raise InvalidInput(f"invalid --type {kind!r}: expected {', '.join(issuing.CREDENTIAL_TYPES)}")
    claims = _claims(claims_file, claim)
    seconds = parse_duration(valid_for) if valid_for is not None else None
    jwk = None
    if holder_jwk is not None:
        try:
            jwk = safe_json_loads(holder_jwk.read_bytes()[: 64 * 1024 + 1], max_bytes=64 * 1024, max_depth=4)
        except OSError as exc:
            raise InvalidInput(f"cannot read the holder JWK {holder_jwk}: {exc.strerror}") from exc
        except InvalidInput as exc:
            raise InvalidInput(f"the holder JWK {holder_jwk} is not usable JSON: {exc}") from exc
        if not isinstance(jwk, dict):
            raise InvalidInput(f"{holder_jwk} must hold a JWK (a JSON object)")
    with state.workspace() as ws:
        ws.address(holder, "--to address")  # a bad address is named as the option it came from
        record = issuing.issue_credential_for(
            ws,
            issuer,
            holder=holder,
            vct=issuing.CREDENTIAL_TYPES[kind],
            claims=claims,
            valid_for=seconds,
            directory=registry_directory(ws),
            holder_jwk=jwk,
        )
    data = {
        "ok": True,
        "id": record.id,
        "path": str(record.path),
        "issuer": record.issuer,
        "vct": record.vct,
        "holder": record.holder,
        "iat": record.iat,
        "exp": record.exp,
        "status": None if record.status is None else {"idx": record.status.idx, "uri": record.status.uri},
        "claims": sorted(claims),
    }
    human = (
        f"issued credential {record.id} ({kind}) to {record.holder}\n  file {record.path}\n"
        f"  claims: {', '.join(sorted(claims))}"
        + (f"\n  status list {record.status.uri} (index {record.status.idx})" if record.status else "")
    )
    state.emit(data, plain(human))


@cred_app.command("present")
def cred_present(
    ctx: typer.Context,
    credential: Annotated[str, typer.Argument(help="A credential id (from `cred list`) or an SD-JWT file.")],
    holder: Annotated[str, typer.Option("--from", help="The holder's account.")],
    disclose: Annotated[str, typer.Option(help="Claim names to reveal, comma-separated (a,b).")],
    audience: Annotated[str, typer.Option(help="The verifier (its URL or DID), as it asked.")],
    nonce: Annotated[str, typer.Option(help="The verifier's nonce for this presentation.")],
    out: Annotated[Path | None, typer.Option(help="Write the presentation to this file.")] = None,
) -> None:
    """Present a held credential revealing only the chosen claims, bound to the verifier's audience and nonce."""
    from proofwork.services.credentials import wallet

    state = cli_state(ctx)
    names = [n.strip() for n in disclose.split(",") if n.strip()]
    if not names:
        raise InvalidInput("--disclose needs at least one claim name")
    with state.workspace() as ws:
        presentation = wallet.present_credential(
            ws, holder, credential, disclose=names, audience=audience, nonce=nonce
        )
    if out is not None:
        from proofwork.storage.store import write_atomically

        write_atomically(out, [presentation.encode("ascii") + b"\n"])
    data = {"ok": True, "presentation": presentation, "disclosed": names, "out": str(out) if out else None}
    if out is None and not state.json:
        sys.stdout.write(presentation + "\n")  # verbatim: one line, never wrapped, ready to pipe
        return
    state.emit(
        data, plain(f"presentation written to {out} (reveals {', '.join(names)})" if out else presentation)
    )


@contextmanager
def _maybe_workspace(state: CliState, needed: bool) -> Iterator[Workspace | None]:

    if not needed:
        yield None
        return
    with state.workspace() as ws:
        yield ws


@cred_app.command("verify")
def cred_verify(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The presentation file ('-' for standard input).")],
    audience: Annotated[str, typer.Option(help="Who you are: the audience you asked the holder for.")],
    nonce: Annotated[str, typer.Option(help="The nonce you gave the holder.")],
    offline: Annotated[
        bool,
        typer.Option(help="No network, no registry: status unchecked, did:web only with --did-document."),
    ] = False,
    insecure_localhost: InsecureOpt = False,
    did_document: Annotated[
        list[Path] | None, typer.Option(help="A did:web issuer's did.json, for --offline (repeatable).")
    ] = None,
    kind: Annotated[str | None, typer.Option("--type", help="Require this credential type.")] = None,
) -> None:
    """Verify a presentation: issuer signature (DID), registry, expiry, holder binding, audience, nonce, status."""
    from proofwork.services.credentials import issuing, verification, wallet
    from proofwork.services.issuers import directory_for as registry_directory

    state = cli_state(ctx)
    if kind is not None and kind not in issuing.CREDENTIAL_TYPES:
        raise InvalidInput(f"invalid --type {kind!r}: expected {', '.join(issuing.CREDENTIAL_TYPES)}")
    if str(file) == "-":
        text = sys.stdin.read(wallet.MAX_CREDENTIAL_BYTES + 1).strip()
        if len(text) > wallet.MAX_CREDENTIAL_BYTES:
            raise InvalidInput(f"the presentation is larger than {wallet.MAX_CREDENTIAL_BYTES} bytes")
    else:
        text = wallet.read_credential_file(file)
    documents = dict(verification.load_did_document(p) for p in did_document or [])
    # offline on a remote chain: not even the node is asked (the clock is this machine's)
    with _maybe_workspace(state, not offline or state.settings.rpc_url is None) as ws:
        try:
            result = verification.verify(
                ws,
                text,
                audience=audience,
                nonce=nonce,
                resolver=None,  # verify builds it from the options below (offline: one that fetches nothing)
                directory=None if offline or ws is None else registry_directory(ws),
                offline=offline,
                allow_insecure_localhost=insecure_localhost,
                documents=documents,
                expected_vct=issuing.CREDENTIAL_TYPES[kind] if kind else None,
            )
        except CredentialRejected as exc:
            message = f"credential rejected ({exc.reason}): {exc}"
            if state.json:
                sys.stdout.write(json.dumps({"ok": False, "error": message, "reason": exc.reason}) + "\n")
            sys.stderr.write(f"error: {' '.join(message.split())}\n")
            raise typer.Exit(1) from None
    data = {"ok": True, **result.to_json()}
    accredited = {True: "accredited in the registry", False: "NOT accredited", None: "registry not checked"}
    lines = [
        f"credential {result.id} verified",
        f"  issuer   {result.issuer} ({accredited[result.accredited]})",
        f"  type     {result.vct}",
        f"  holder   {result.holder_address or '-'} (key-bound presentation)",
        f"  issued   {when(result.iat)}" + (f", expires {when(result.exp)}" if result.exp else ""),
        f"  status   {result.status}",
        *(f"  {name} = {json.dumps(value)}" for name, value in result.claims.items()),
    ]
    state.emit(data, plain("\n".join(lines)))


@cred_app.command("revoke")
def cred_revoke(
    ctx: typer.Context,
    credential: Annotated[str, typer.Argument(help="The credential id (see `cred list --issuer`).")],
    issuer: Annotated[str, typer.Option("--from", help="The issuer profile that issued it.")],
    suspend: Annotated[bool, typer.Option("--suspend", help="Suspend instead (reversible).")] = False,
    reinstate: Annotated[bool, typer.Option("--reinstate", help="Lift a suspension.")] = False,
) -> None:
    """Revoke (final), suspend or reinstate a credential; its status list is re-signed and published."""
    from proofwork.services.credentials import status_lists
    from proofwork.services.issuers import directory_for as registry_directory

    state = cli_state(ctx)
    if suspend and reinstate:
        raise InvalidInput("give at most one of --suspend and --reinstate")
    action = status_lists.suspend if suspend else status_lists.reinstate if reinstate else status_lists.revoke
    with state.workspace() as ws:
        result = action(ws, issuer, credential, directory=registry_directory(ws))
    state.emit(
        {"ok": True, **result},
        plain(
            f"credential {result['id']} is now {result['status']} (was {result['previous']}); {result['uri']}"
        ),
    )


@cred_app.command("list")
def cred_list(
    ctx: typer.Context,
    account: Annotated[
        str | None,
        typer.Option("--account", help="Only this holder's credentials (default: all on this machine)."),
    ] = None,
    issuer: Annotated[
        str | None, typer.Option("--issuer", help="What this issuer profile issued, with status.")
    ] = None,
) -> None:
    """Credentials held in the wallets on this machine, or issued by one of its issuer profiles."""
    from proofwork.services.credentials import issuing, wallet

    state = cli_state(ctx)
    if issuer is not None:
        with state.workspace() as ws:
            issued = issuing.issued_credentials(ws, issuer)
        lines = [f"{len(issued)} credential(s) issued by {issuer}"] + [
            f"  {c['id']}  {c['status']:<9} {c['vct']} to {c['holder']}, {when(c['iat'])}" for c in issued
        ]
        state.emit({"ok": True, "issuer": issuer, "issued": issued}, plain("\n".join(lines)))
        return
    with state.workspace() as ws:
        address = ws.address(account, "--account") if account else None
        held = wallet.held_credentials(ws, address)
    lines = [f"{len(held)} credential(s) held" + (f" by {address}" if address else "")]
    lines += [f"{c['holder']}\n{_credential_line(c)}" if not address else _credential_line(c) for c in held]
    state.emit({"ok": True, "credentials": held}, plain("\n".join(lines)))
