// Cross-checks proofwork.identity.sdjwt against the TypeScript SD-JWT VC implementation (@sd-jwt/sd-jwt-vc,
// OpenWallet Foundation) and its status list decoder (@sd-jwt/jwt-status-list).
//
// Usage: node sdjwt_interop.mjs NODE_MODULES_DIR < request.json > answer.json
//
// request: {"now": s,
//           "verify": [{"name", "presentation", "issuer_jwk", "aud", "nonce", "status_list_token"?}],
//           "issue": {"aud", "nonce", "now"},
//           "status_lists": [{"lst", "bits", "indices": [..]}]}
// answer:  {"verified": [{"name", "ok", "error"?, "payload"?, "kb"?}],
//           "issued": [{"alg", "issuer_jwk", "holder_jwk", "credential", "presentation"}],
//           "status_lists": [[status at each index]]}
// Signatures use node:crypto directly for EdDSA and ES256K (which @sd-jwt/crypto-nodejs does not offer)
// and @sd-jwt/crypto-nodejs's own ES256 signer for the ES256 credential.
import { createPublicKey, generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

async function load (modules, name) {
  const dir = join(modules, name)
  const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'))
  const entry = pkg.exports?.['.']?.import ?? pkg.module ?? pkg.main
  return import(pathToFileURL(join(dir, entry)).href)
}

const modules = process.argv[2]
if (modules === undefined) {
  console.error('usage: node sdjwt_interop.mjs NODE_MODULES_DIR < request.json')
  process.exit(2)
}
const { SDJwtVcInstance } = await load(modules, '@sd-jwt/sd-jwt-vc')
const { ES256, digest, generateSalt } = await load(modules, '@sd-jwt/crypto-nodejs')
const { StatusList } = await load(modules, '@sd-jwt/jwt-status-list')

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const request = JSON.parse(Buffer.concat(chunks).toString('utf8'))

function verifierFor (jwk) {
  const key = createPublicKey({ key: jwk, format: 'jwk' })
  return async (data, signature) => {
    const sig = Buffer.from(signature, 'base64url')
    if (jwk.kty === 'OKP') return cryptoVerify(null, Buffer.from(data), key, sig)
    return cryptoVerify('sha256', Buffer.from(data), { key, dsaEncoding: 'ieee-p1363' }, sig)
  }
}

// the KB-JWT is checked against the holder key the issuer put in the credential's cnf
const kbVerifier = async (data, signature, payload) => verifierFor(payload.cnf.jwk)(data, signature)

function nodeSigner (privateKey) {
  return async (data) => {
    const isEd = privateKey.asymmetricKeyType === 'ed25519'
    const sig = isEd
      ? cryptoSign(null, Buffer.from(data), privateKey)
      : cryptoSign('sha256', Buffer.from(data), { key: privateKey, dsaEncoding: 'ieee-p1363' })
    return sig.toString('base64url')
  }
}

function nodeKeyPair (type, options) {
  const { privateKey, publicKey } = generateKeyPairSync(type, options)
  return { privateKey, publicJwk: publicKey.export({ format: 'jwk' }) }
}

async function verifyOne (item) {
  const issuerVerifier = verifierFor(item.issuer_jwk)
  const sdjwt = new SDJwtVcInstance({
    hasher: digest,
    hashAlg: 'sha-256',
    verifier: issuerVerifier,
    kbVerifier,
    statusListFetcher: async () => item.status_list_token,
    statusVerifier: issuerVerifier
  })
  try {
    const result = await sdjwt.verify(item.presentation, {
      keyBindingNonce: item.nonce,
      currentDate: request.now
    })
    if (result.kb === undefined) throw new Error('no key binding verified')
    if (result.kb.payload.aud !== item.aud) throw new Error(`KB-JWT aud ${result.kb.payload.aud} is not ${item.aud}`)
    const claims = await sdjwt.getClaims(item.presentation)
    return { name: item.name, ok: true, payload: claims, kb: result.kb.payload, header: result.header }
  } catch (err) {
    return { name: item.name, ok: false, error: String(err?.message ?? err) }
  }
}

async function issueOne (alg, issue) {
  let signer, issuerJwk, holderJwk, kbSigner
  if (alg === 'ES256') {
    const issuerKeys = await ES256.generateKeyPair()
    const holderKeys = await ES256.generateKeyPair()
    signer = await ES256.getSigner(issuerKeys.privateKey)
    kbSigner = await ES256.getSigner(holderKeys.privateKey)
    issuerJwk = issuerKeys.publicKey
    holderJwk = holderKeys.publicKey
  } else {
    const issuerKeys = nodeKeyPair('ed25519')
    const holderKeys = nodeKeyPair('ec', { namedCurve: 'secp256k1' })
    signer = nodeSigner(issuerKeys.privateKey)
    kbSigner = nodeSigner(holderKeys.privateKey)
    issuerJwk = issuerKeys.publicJwk
    holderJwk = holderKeys.publicJwk
  }
  const holderAlg = alg === 'ES256' ? 'ES256' : 'ES256K'
  const pick = ({ kty, crv, x, y }) => (y === undefined ? { kty, crv, x } : { kty, crv, x, y })
  const sdjwt = new SDJwtVcInstance({
    signer,
    signAlg: alg,
    verifier: verifierFor(issuerJwk),
    hasher: digest,
    hashAlg: 'sha-256',
    saltGenerator: generateSalt,
    kbSigner,
    kbSignAlg: holderAlg,
    kbVerifier
  })
  const credential = await sdjwt.issue(
    {
      iss: 'https://issuer.example/ts',
      iat: issue.now - 10,
      exp: issue.now + 3600,
      vct: 'https://proofwork.example/badge/ml-eval',
      cnf: { jwk: pick(holderJwk) },
      skill: 'tabular-classification',
      grade: 'A',
      email: 'worker@example.com',
      address: { locality: 'Lyon', country: 'FR' }
    },
    {
      _sd: ['skill', 'grade', 'email', 'address'],
      _sd_decoy: 2,
      address: { _sd: ['locality', 'country'] }
    },
    { header: { kid: 'ts-key-1' } }
  )
  const presentation = await sdjwt.present(
    credential,
    { grade: true, address: { locality: true } },
    { kb: { payload: { aud: issue.aud, nonce: issue.nonce, iat: issue.now } } }
  )
  return { alg, holder_alg: holderAlg, issuer_jwk: pick(issuerJwk), holder_jwk: pick(holderJwk), credential, presentation }
}

const answer = { verified: [], issued: [], status_lists: [] }
for (const item of request.verify ?? []) answer.verified.push(await verifyOne(item))
if (request.issue) {
  for (const alg of ['ES256', 'EdDSA']) answer.issued.push(await issueOne(alg, request.issue))
}
for (const sl of request.status_lists ?? []) {
  const list = StatusList.decompressStatusList(sl.lst, sl.bits)
  answer.status_lists.push(sl.indices.map((i) => list.getStatus(i)))
}
process.stdout.write(JSON.stringify(answer))
