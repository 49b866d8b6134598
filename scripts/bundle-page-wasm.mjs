#!/usr/bin/env node
// Bundles each page's split-off wasm files into one file (scripts/build-release runs it after
// `cargo leptos build --split`; README, "Site size").
//
// Why: `--split` gives every lazy route (app/src/routes.rs) its own wasm file plus one
// "chunk" file for each set of routes that share some code, so a page's first load fetched
// 40 to 120 small files. Each is compressed on its own, which cost a sixth of their size, and
// wasm-opt could not merge the functions that chunks repeat. Here each route's files become
// one module (binaryen's wasm-merge, then wasm-opt -Oz): a page's first load fetches the
// shared wasm and one file of its own, which is a fifth smaller gzipped than its split files
// were (the whole first load, 7 to 13 % smaller). The cost: code that several pages
// share is in each of their files, so a browser that goes on to other pages fetches some of
// it again (README, "Site size", has the figures).
//
// Why it is sound: a chunk is code only. It imports the shared wasm's memory, function table
// and stack pointer, defines no state of its own (no globals, tables, memories, data other than
// zeros), has no start function or exports, and puts its functions in the table at fixed
// places (active element segments), no two files at the same place; code in other files
// calls them through the table. So the merged module of a route puts the same functions in
// the same places, and loading a second page's bundle that repeats some of them only writes
// the same functions to the same places again. The script checks all of this, and that the
// manifest and the loader agree on each route's files, and stops otherwise, leaving the site
// as it was.
//
// What it rewrites in the site (`pkg/` under SITE_ROOT), all under hashed names:
// - the route files and chunks give way to one `page_<route>.<hash>.wasm` per route;
// - the manifest the server reads (`__wasm_split_manifest.<hash>.json`: route -> the files
//   it names in the page for the browser to preload) lists that one file per route;
// - the loader (`__wasm_split.<hash>.js`: the `__wasm_split_load_<route>` functions the
//   shared wasm calls) fetches that one file; it and the site's JavaScript import each other
//   by name, and both get new names (see `writeJsAndLoader`);
// - `hash.txt` names the new JavaScript, manifest and loader;
// - `.br` and `.gz` copies of the files it writes (build-release makes the `.gz` again).
// A site bundled already is left as it is. The names are the same for the same site.
//
//   node scripts/bundle-page-wasm.mjs SITE_ROOT [HASH_FILE]   # HASH_FILE: SITE_ROOT/hash.txt
//
// Needs binaryen's wasm-merge and wasm-opt on PATH (end2end's npm packages; scripts/setup).

import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import zlib from 'node:zlib';

/** The wasm features cargo-leptos passes wasm-opt for the site's files. */
const FEATURES = ['--enable-bulk-memory', '--enable-nontrapping-float-to-int'];
/** The module the split files import the shared memory, table and stack pointer from. */
const SHARED = '__wasm_split';
/** What a bundle imports them from: the one copy the merge keeps (see `sharedImportsModule`). */
const BUNDLE_SHARED = '__wasm_split_bundle';

/** A hash of a file's content for its name: 16 bytes of SHA-256 in URL-safe base64, as long as
 * cargo-leptos's own (22 characters, which the server's cache policy takes for a hash). */
export function contentHash(bytes) {
  return crypto.createHash('sha256').update(bytes).digest().subarray(0, 16).toString('base64url');
}

/** `kind: hash` lines of cargo-leptos's hash.txt, as a Map. */
export function parseHashes(text) {
  const hashes = new Map();
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const at = line.indexOf(':');
    if (at < 0) throw new Error(`hash.txt: the line ${JSON.stringify(line)} is not "kind: hash"`);
    hashes.set(line.slice(0, at).trim(), line.slice(at + 1).trim());
  }
  return hashes;
}

function formatHashes(hashes) {
  return [...hashes].map(([kind, hash]) => `${kind}: ${hash}\n`).join('');
}

/** The sections of a wasm module: [{ id, header (where it begins), start, end (of its content) }]. */
function sections(bytes) {
  if (bytes.length < 8 || bytes.readUInt32LE(0) !== 0x6d736100) throw new Error('not a wasm module');
  const list = [];
  let at = 8;
  while (at < bytes.length) {
    const header = at;
    const id = bytes[at++];
    const [size, start] = leb(bytes, at);
    if (start + size > bytes.length) throw new Error('the file is cut short');
    list.push({ id, header, start, end: start + size });
    at = start + size;
  }
  return list;
}

/** The module without the sections of the ids given. */
function withoutSections(bytes, ids) {
  const kept = sections(bytes).filter((s) => !ids.includes(s.id));
  return Buffer.concat([bytes.subarray(0, 8), ...kept.map((s) => bytes.subarray(s.header, s.end))]);
}

/** The number of entries of section `id` and where the first begins; [0, 0] without it. */
function sectionEntries(bytes, id) {
  const section = sections(bytes).find((s) => s.id === id);
  return section ? leb(bytes, section.start) : [0, 0];
}

/** An unsigned LEB128 number at `at`: [its value, where it ends]. */
function leb(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (at >= bytes.length || shift > 35) throw new Error('the file is cut short');
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return [value, at];
  }
}

function name(bytes, at) {
  const [length, from] = leb(bytes, at);
  return [bytes.subarray(from, from + length).toString(), from + length];
}

/** The (module, name, kind) of each import; kind 0 function, 1 table, 2 memory, 3 global. */
function imports(bytes) {
  let [count, at] = sectionEntries(bytes, 2);
  const list = [];
  while (count--) {
    let module;
    let field;
    [module, at] = name(bytes, at);
    [field, at] = name(bytes, at);
    const kind = bytes[at++];
    const entry = { module, field, kind, minimum: 0, type: 0, mutable: false };
    list.push(entry);
    // The import's type: a function's type index; a table's element type and limits; a
    // memory's limits; a global's value type and mutability.
    if (kind === 0) [, at] = leb(bytes, at);
    else if (kind === 1) {
      entry.type = bytes[at++];
      [entry.minimum, at] = limits(bytes, at);
    } else if (kind === 2) [entry.minimum, at] = limits(bytes, at);
    else if (kind === 3) {
      entry.type = bytes[at++];
      entry.mutable = bytes[at++] === 1;
    } else throw new Error(`an import of kind ${kind}`);
  }
  return list;
}

/** A table's or memory's limits: [minimum, where they end]. */
function limits(bytes, at) {
  const flags = bytes[at++];
  let minimum;
  [minimum, at] = leb(bytes, at);
  if (flags & 1) [, at] = leb(bytes, at);
  return [minimum, at];
}

/**
 * The split file `bytes` as code only, or an error saying why it is not: it may import only
 * the shared memory, table and stack pointer, and defines no table, memory, global or tag of
 * its own, no start function and no exports. Its data, if any, must be zeros (the `.bss` of
 * statics only its code uses, which wasm-split moves out of the shared wasm): those segments
 * are dropped. The memory there is zero when the page starts, as the shared wasm's memory is
 * made new and nothing else writes there; a bundle must not zero it again, as the statics
 * may be in use by then (a second page's bundle repeats the code of the first page's that
 * both use).
 */
export function codeOnly(bytes) {
  const ids = new Set(sections(bytes).map((s) => s.id));
  const own = { 4: 'a table', 5: 'a memory', 6: 'globals', 13: 'tags', 8: 'a start function', 7: 'exports' };
  for (const [id, what] of Object.entries(own)) {
    if (ids.has(Number(id))) throw new Error(`it has ${what} of its own`);
  }
  for (const i of imports(bytes)) {
    if (i.module !== SHARED || i.kind === 0) throw new Error(`it imports ${i.module}.${i.field}`);
  }
  let [count, at] = sectionEntries(bytes, 11);
  if (count === 0) return withoutSections(bytes, [11, 12]);
  while (count--) {
    at = constantOffset(bytes, at, 'it has data not at a fixed address')[1];
    let size;
    [size, at] = leb(bytes, at);
    if (bytes.subarray(at, at + size).some((b) => b !== 0)) throw new Error('it has data other than zeros');
    at += size;
  }
  return withoutSections(bytes, [11, 12]);
}

/** An active segment's start (flags 0, `i32.const N`, `end`) at `at`: [N, where it ends]. */
function constantOffset(bytes, at, otherwise) {
  if (bytes[at++] !== 0 || bytes[at++] !== 0x41) throw new Error(otherwise);
  let offset;
  [offset, at] = signedLeb(bytes, at);
  if (bytes[at++] !== 0x0b) throw new Error(otherwise);
  return [offset, at];
}

function signedLeb(bytes, at) {
  const start = at;
  let [value, end] = leb(bytes, at);
  const bits = 7 * (end - start);
  if (bytes[end - 1] & 0x40) value -= 2 ** bits;
  return [value, end];
}

/**
 * The table slots the split file `bytes` fills: its element segments must be active ones at
 * fixed places, each function given by its index (the form wasm-split writes).
 */
export function tableSlots(bytes) {
  let [count, at] = sectionEntries(bytes, 9);
  const slots = [];
  while (count--) {
    let offset;
    [offset, at] = constantOffset(bytes, at, 'it fills the table other than at fixed places');
    let functions;
    [functions, at] = leb(bytes, at);
    for (let i = 0; i < functions; i++) {
      slots.push(offset + i);
      [, at] = leb(bytes, at);
    }
  }
  return slots;
}

/**
 * A module that imports the shared memory, table and stack pointer once, from
 * BUNDLE_SHARED, and exports them under the names the split files import: merged first under
 * the name SHARED, it stands for the shared wasm, so the bundle imports each of them once
 * (wasm-merge keeps every module's own imports, and a module may import one memory only).
 */
function sharedImportsModule(splitFiles) {
  // Each import once, with the largest minimum size any file declares: wasm-opt must not
  // take a table for smaller than the element segments that fill it.
  const wanted = new Map();
  for (const i of splitFiles.flatMap(imports)) {
    const seen = wanted.get(i.field);
    if (seen && (seen.kind !== i.kind || seen.type !== i.type || seen.mutable !== i.mutable)) {
      throw new Error(`${SHARED}.${i.field} is imported as two types`);
    }
    if (!seen || seen.minimum < i.minimum) wanted.set(i.field, i);
  }
  const valueTypes = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x70: 'funcref', 0x6f: 'externref' };
  const typeName = (byte) => {
    if (!valueTypes[byte]) throw new Error(`an import of type 0x${byte.toString(16)}`);
    return valueTypes[byte];
  };
  const declare = (i) => {
    if (i.kind === 1) return `(table $${i.field} ${i.minimum} ${typeName(i.type)})`;
    if (i.kind === 2) return `(memory $${i.field} ${i.minimum})`;
    const type = typeName(i.type);
    return `(global $${i.field} ${i.mutable ? `(mut ${type})` : type})`;
  };
  const kindName = ['func', 'table', 'memory', 'global'];
  const all = [...wanted.values()];
  const lines = all.map((i) => `(import "${BUNDLE_SHARED}" "${i.field}" ${declare(i)})`);
  lines.push(...all.map((i) => `(export "${i.field}" (${kindName[i.kind]} $${i.field}))`));
  return `(module\n ${lines.join('\n ')}\n)\n`;
}

/** Writes `file`'s `.br` and `.gz` copies beside it, as cargo-leptos's `--precompress` does. */
function precompress(file) {
  const bytes = fs.readFileSync(file);
  fs.writeFileSync(
    `${file}.br`,
    zlib.brotliCompressSync(bytes, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }),
  );
  fs.writeFileSync(`${file}.gz`, zlib.gzipSync(bytes, { level: 9 }));
}

function removeWithCopies(file) {
  for (const suffix of ['', '.br', '.gz']) fs.rmSync(`${file}${suffix}`, { force: true });
}

/** `bytes` as `<stem>.<hash>.<extension>` in `dir`; returns the name. */
function writeHashed(dir, stem, extension, bytes) {
  const fileName = `${stem}.${contentHash(bytes)}.${extension}`;
  fs.writeFileSync(path.join(dir, fileName), bytes);
  return fileName;
}

/**
 * `text` cut at each ES import of `./<fileName>` (`from "./<fileName>"`), the quoted name
 * left out. Only those: the site's JavaScript also names the loader as the module its wasm
 * imports functions from, a name in the wasm that stays as it is.
 */
function cutAtImportsOf(text, fileName) {
  const escaped = fileName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text.split(new RegExp(`(?<=\\bfrom\\s*)(?:"\\./${escaped}"|'\\./${escaped}')`));
}

/**
 * The site's JavaScript and the loader, which import each other by name, under new names.
 * Neither can be named after its own content alone (each name is in the other's content), so
 * both are named after the content of the two with the names left out: a change to either
 * gives both new names. Returns [the JavaScript's name, the loader's].
 */
function writeJsAndLoader(dir, js, oldJsName, loader, oldLoaderName) {
  const jsParts = cutAtImportsOf(js, oldLoaderName);
  const loaderParts = cutAtImportsOf(loader, oldJsName);
  if (jsParts.length < 2) throw new Error(`${oldJsName} does not import ${oldLoaderName}`);
  if (loaderParts.length < 2) throw new Error(`${oldLoaderName} does not import ${oldJsName}`);
  const hash = contentHash(Buffer.from(JSON.stringify([jsParts, loaderParts])));
  const jsName = `itsm-bridge.${hash}.js`;
  const loaderName = `__wasm_split.${contentHash(Buffer.from(`loader of ${hash}`))}.js`;
  const newJs = jsParts.join(JSON.stringify(`./${loaderName}`));
  // What is left of the old name must be the wasm's name for the module, an object's key.
  const left = newJs.split(`./${oldLoaderName}`).length - 1;
  const keys = newJs.split(`"./${oldLoaderName}":`).length - 1;
  if (left !== keys) throw new Error(`${oldJsName} names ${oldLoaderName} in a way not rewritten`);
  fs.writeFileSync(path.join(dir, jsName), newJs);
  fs.writeFileSync(path.join(dir, loaderName), loaderParts.join(JSON.stringify(`./${jsName}`)));
  return [jsName, loaderName];
}

/**
 * cargo-leptos's loader read: its runtime (the text up to its first chunk or route) and, per
 * route, the files its `__wasm_split_load_<route>` instantiates (the route's own and the
 * chunks it waits for), as file stems.
 */
export function splitLoader(text) {
  const first = text.search(/^(\/\*.*\*\/\s*)?(export )?const __/m);
  if (first < 0) throw new Error('the loader declares no chunk or route');
  // `const __chunk_N = makeLoad(() => { const src = fetch(new URL("./<file>.wasm", …)); … }, [deps])`,
  // and for a route `export const __wasm_split_load_<route> = wrapAsyncCb(makeLoad(…, [deps]))`.
  const declaration = /^(export )?const (\w+) = (?:wrapAsyncCb\()?makeLoad\(\(\) => \{\s*const src = fetch\(new URL\("\.\/([^"]+)\.wasm", import\.meta\.url\)\);[^]*?\n\}\s*,\s*\[([^\]]*)\]\)/gm;
  const files = new Map();
  const routes = new Map();
  for (const [, exported, variable, stem, deps] of text.matchAll(declaration)) {
    files.set(variable, stem);
    // Only routes wait for chunks: a chunk that waited for another would need it bundled too.
    if (!exported && deps.trim()) throw new Error(`the loader's ${variable} waits for other files`);
    if (exported) {
      if (!variable.startsWith('__wasm_split_load_')) throw new Error(`the loader exports ${variable}`);
      routes.set(variable.slice('__wasm_split_load_'.length), { stem, deps: deps.split(',').map((d) => d.trim()).filter(Boolean) });
    }
  }
  const exports = [...text.matchAll(/^export const (\w+)/gm)].length;
  if (exports !== routes.size) throw new Error(`the loader exports ${exports} functions, of which ${routes.size} are read`);
  const byRoute = new Map();
  for (const [route, { stem, deps }] of routes) {
    byRoute.set(route, [...deps.map((d) => {
      if (!files.has(d)) throw new Error(`the loader's ${route} waits for ${d}, which it does not declare`);
      return files.get(d);
    }), stem]);
  }
  return { runtime: text.slice(0, first), routes: byRoute };
}

/** The loader: cargo-leptos's runtime, and one `__wasm_split_load_<route>` per bundle. */
export function bundleLoader(runtime, bundles) {
  const loads = [...bundles].map(
    ([route, fileName]) => `export const __wasm_split_load_${route} = wrapAsyncCb(makeLoad(() => {
    const src = fetch(new URL(${JSON.stringify(`./${fileName}`)}, import.meta.url));
    return async (imports) => (WebAssembly.instantiateStreaming(src, { ${BUNDLE_SHARED}: imports.${SHARED} }));
}, []));
`,
  );
  return `${runtime}${loads.join('')}`;
}

/** The files of each route, from the manifest, checked against what the loader loads. */
function filesOfRoutes(manifest, manifestName, loader, loaderName) {
  const same = (a, b) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());
  if (!same(Object.keys(manifest), loader.routes.keys())) {
    throw new Error(`${manifestName} lists the routes ${Object.keys(manifest).sort()}, ${loaderName} loads ${[...loader.routes.keys()].sort()}`);
  }
  for (const [route, files] of Object.entries(manifest)) {
    if (!same(files, loader.routes.get(route))) {
      throw new Error(`${manifestName} and ${loaderName} differ on the files of ${route}`);
    }
  }
  return new Map(Object.entries(manifest).sort());
}

/**
 * Removes what a bundling stopped after `hash.txt` was written left in `pkg`: split files,
 * and the JavaScript, loader and manifest that `hash.txt` no longer names (with their copies).
 */
function removeLeftovers(pkg, hashes) {
  const current = new Set([
    `itsm-bridge.${hashes.get('js')}.js`,
    `__wasm_split.${hashes.get('split')}.js`,
    `__wasm_split_manifest.${hashes.get('manifest')}.json`,
  ]);
  const replaced = /^(chunk_\d+\..+\.wasm|split_.+\.wasm|itsm-bridge\.[^.]+\.js|__wasm_split\.[^.]+\.js|__wasm_split_manifest\.[^.]+\.json)$/;
  for (const fileName of fs.readdirSync(pkg)) {
    if (replaced.test(fileName) && !current.has(fileName)) removeWithCopies(path.join(pkg, fileName));
  }
}

/** Writes `text` to `file` whole or not at all (a new file renamed over the old). */
function replaceFile(file, text) {
  fs.writeFileSync(`${file}.new`, text);
  fs.renameSync(`${file}.new`, file);
}

/**
 * Bundles the split site at `siteRoot` (see the top of the file); returns what it did, or
 * null if the site is bundled already. Nothing in the site changes until every new file is
 * made; then they are copied in, `hash.txt` is replaced to name them, and the old files go
 * (if it stops before they go, running it again removes them).
 */
export function bundleSite(siteRoot, hashFile = path.join(siteRoot, 'hash.txt'), log = () => {}) {
  const pkg = path.join(siteRoot, 'pkg');
  const hashes = parseHashes(fs.readFileSync(hashFile, 'utf8'));
  for (const kind of ['js', 'manifest', 'split']) {
    if (!hashes.has(kind)) throw new Error(`${hashFile} names no ${kind} file: is the site split and hashed?`);
  }
  const manifestName = `__wasm_split_manifest.${hashes.get('manifest')}.json`;
  const loaderName = `__wasm_split.${hashes.get('split')}.js`;
  const manifest = JSON.parse(fs.readFileSync(path.join(pkg, manifestName), 'utf8'));
  const bundled = Object.values(manifest);
  if (bundled.length > 0 && bundled.every((files) => files.length === 1 && files[0].startsWith('page_'))) {
    removeLeftovers(pkg, hashes);
    return null;
  }
  const loader = splitLoader(fs.readFileSync(path.join(pkg, loaderName), 'utf8'));
  const routes = filesOfRoutes(manifest, manifestName, loader, loaderName);

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-page-wasm-'));
  try {
    // Each split file checked, its zero data dropped; and no two fill one table slot.
    const splitFiles = new Set([...routes.values()].flat());
    const inputs = new Map();
    const checked = [];
    const slotFiller = new Map();
    for (const stem of splitFiles) {
      let bytes;
      try {
        bytes = codeOnly(fs.readFileSync(path.join(pkg, `${stem}.wasm`)));
        for (const slot of tableSlots(bytes)) {
          if (slotFiller.has(slot)) throw new Error(`it fills table slot ${slot}, as ${slotFiller.get(slot)} does`);
          slotFiller.set(slot, stem);
        }
      } catch (error) {
        throw new Error(`${stem}.wasm cannot be bundled: ${error.message}`);
      }
      checked.push(bytes);
      inputs.set(stem, path.join(work, `${stem}.wasm`));
      fs.writeFileSync(inputs.get(stem), bytes);
    }
    const sharedWat = path.join(work, 'shared.wat');
    const shared = path.join(work, 'shared.wasm');
    fs.writeFileSync(sharedWat, sharedImportsModule(checked));
    execFileSync('wasm-as', [...FEATURES, sharedWat, '-o', shared]);

    const out = path.join(work, 'out');
    fs.mkdirSync(out);
    const bundles = new Map();
    for (const [route, stems] of routes) {
      const merged = path.join(work, `${route}.merged.wasm`);
      const optimised = path.join(work, `${route}.wasm`);
      const parts = stems.flatMap((stem, i) => [inputs.get(stem), `part${i}`]);
      execFileSync('wasm-merge', [...FEATURES, shared, SHARED, ...parts, '-o', merged]);
      // The shared imports' module left its exports: the bundle has none.
      fs.writeFileSync(merged, withoutSections(fs.readFileSync(merged), [7]));
      execFileSync('wasm-opt', ['-Oz', ...FEATURES, merged, '-o', optimised]);
      const fileName = writeHashed(out, `page_${route.replace(/^_+/, '')}`, 'wasm', fs.readFileSync(optimised));
      bundles.set(route, fileName);
      log(`${route}: ${stems.length} files -> ${fileName}`);
    }
    const bundleManifest = Object.fromEntries(
      [...bundles].map(([route, fileName]) => [route, [fileName.replace(/\.wasm$/, '')]]),
    );
    const newManifest = writeHashed(out, '__wasm_split_manifest', 'json', Buffer.from(`${JSON.stringify(bundleManifest, null, 2)}\n`));
    const jsName = `itsm-bridge.${hashes.get('js')}.js`;
    const [newJs, newLoader] = writeJsAndLoader(
      out,
      fs.readFileSync(path.join(pkg, jsName), 'utf8'),
      jsName,
      bundleLoader(loader.runtime, bundles),
      loaderName,
    );

    for (const fileName of fs.readdirSync(out)) {
      fs.copyFileSync(path.join(out, fileName), path.join(pkg, fileName));
      precompress(path.join(pkg, fileName));
    }
    const hashOf = (fileName) => fileName.split('.').at(-2);
    hashes.set('js', hashOf(newJs));
    hashes.set('manifest', hashOf(newManifest));
    hashes.set('split', hashOf(newLoader));
    replaceFile(hashFile, formatHashes(hashes));
    for (const stem of splitFiles) removeWithCopies(path.join(pkg, `${stem}.wasm`));
    for (const old of [manifestName, loaderName, jsName]) removeWithCopies(path.join(pkg, old));
    return { bundles, loader: newLoader, manifest: newManifest, js: newJs, removed: splitFiles.size };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

const invoked = process.argv[1] && pathToFileURL(fs.realpathSync(process.argv[1])).href;
if (import.meta.url === invoked) {
  const [siteRoot, hashFile] = process.argv.slice(2);
  if (!siteRoot) {
    console.error('usage: node scripts/bundle-page-wasm.mjs SITE_ROOT [HASH_FILE]');
    process.exit(2);
  }
  const done = bundleSite(siteRoot, hashFile, (line) => console.log(line));
  if (done) console.log(`${done.removed} split files bundled into ${done.bundles.size}, one per page`);
  else console.log('the site is bundled already: one file per page');
}
