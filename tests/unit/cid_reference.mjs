// Reference CIDs from helia's importer (npm ipfs-unixfs-importer), to cross-check proofwork.storage.unixfs.
//
// Usage: node cid_reference.mjs NODE_MODULES_DIR FILE profile
//        node cid_reference.mjs NODE_MODULES_DIR FILE CHUNK_SIZE MAX_LINKS [--blocks]
//
// `profile` imports with the importer's own `profile: 'unixfs-v1-2025'` (IPIP-499) and nothing else.
// With explicit sizes: CIDv1, raw leaves, fixed-size chunks, balanced layout, a single chunk reduced to
// itself (the settings the profile sets, with other numbers). Prints the root CID; with --blocks, one
// line per block written (CID), then the root CID last.
import { createReadStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

async function load (modules, name, subpath = '.') {
  const dir = join(modules, name)
  const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'))
  const entry = pkg.exports?.[subpath]?.import ?? (subpath === '.' ? pkg.main : undefined)
  if (entry === undefined) throw new Error(`${name}: no ESM entry for ${subpath}`)
  return import(pathToFileURL(join(dir, entry)).href)
}

const [modules, file, chunkArg, linksArg, flag] = process.argv.slice(2)
if (modules === undefined || file === undefined || chunkArg === undefined) {
  console.error('usage: node cid_reference.mjs NODE_MODULES_DIR FILE (profile | CHUNK_SIZE MAX_LINKS [--blocks])')
  process.exit(2)
}
const { importer } = await load(modules, 'ipfs-unixfs-importer')
const { fixedSize } = await load(modules, 'ipfs-unixfs-importer', './chunker')
const { balanced } = await load(modules, 'ipfs-unixfs-importer', './layout')
const { BlackHoleBlockstore } = await load(modules, 'blockstore-core', './black-hole')

const written = []
const store = new BlackHoleBlockstore()
const put = store.put.bind(store)
store.put = async (cid, bytes, options) => {
  if (flag === '--blocks') written.push(cid.toString())
  return put(cid, bytes, options)
}

let options
if (chunkArg === 'profile') {
  options = { profile: 'unixfs-v1-2025' }
} else {
  options = {
    cidVersion: 1,
    rawLeaves: true,
    reduceSingleLeafToSelf: true,
    chunker: fixedSize({ chunkSize: Number(chunkArg) }),
    layout: balanced({ maxChildrenPerNode: Number(linksArg) })
  }
}

const content = createReadStream(file, { highWaterMark: 1 << 20 })
let root
for await (const entry of importer([{ content }], store, options)) {
  root = entry.cid.toString()
}
for (const cid of written) console.log(cid)
console.log(root)
