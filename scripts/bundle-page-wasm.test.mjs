// Tests of scripts/bundle-page-wasm.mjs on a small split site made here the way
// `cargo leptos build --split` lays one out: run by scripts/test (`node --test`), with
// binaryen's tools on PATH (scripts/setup).
//
// The site has two routes that share a chunk. The chunk keeps a counter in a static of its
// own (a zero `.bss` segment), as wasm-split leaves them; each route's file adds to what the
// chunk's function returns. The tests load the bundles the way the rewritten loader does, in
// one shared memory and table, as a browser opening one page and then the other.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import test from 'node:test';
import { bundleSite, contentHash, parseHashes } from './bundle-page-wasm.mjs';

const SHARED_IMPORTS = `
 (import "__wasm_split" "memory" (memory 19))
 (import "__wasm_split" "__indirect_function_table" (table 8 funcref))
 (import "__wasm_split" "__wasm_split_shared0" (global $sp (mut i32)))`;

// Slot 1: the chunk's counter, kept at address 1180016 (its .bss, zeroed by its data segment),
// as high as wasm-split puts them.
const CHUNK = `(module ${SHARED_IMPORTS}
 (func $bump (result i32)
  (i32.store (i32.const 1180016) (i32.add (i32.load (i32.const 1180016)) (i32.const 1)))
  (i32.load (i32.const 1180016)))
 (elem (i32.const 1) $bump)
 (data (i32.const 1180016) "\\00\\00\\00\\00"))`;

// Slots 2 and 3: each route's entry, which calls the chunk through the table.
const route = (slot, add) => `(module ${SHARED_IMPORTS}
 (type $count (func (result i32)))
 (func $entry (result i32)
  (i32.add (call_indirect (type $count) (i32.const 1)) (i32.const ${add})))
 (elem (i32.const ${slot}) $entry))`;

// The shared wasm's JavaScript: the loader takes the memory, table and stack pointer from it.
// As wasm-bindgen writes it, it imports the loader (minified, once without spaces) and names
// it as the module the wasm imports from: that name is in the wasm, so it must stay.
const MAIN_JS = `import * as split from "./__wasm_split.L0ADER.js";import*as again from"./__wasm_split.L0ADER.js";
export function initSync() { return globalThis.__shared; }
export const wasmImports = { "./__wasm_split.L0ADER.js": again };
export { split };
`;

// cargo-leptos's loader, cut down: its runtime, then a chunk and the routes that need it.
const LOADER = `import { initSync } from "./itsm-bridge.MA1N.js";

let sharedImports = undefined;
function getSharedImports() {
    if (sharedImports === undefined) {
        sharedImports = { __wasm_split: {  } };
        const { memory, __indirect_function_table, __wasm_split_shared0,  } = initSync(undefined, undefined);
        Object.assign(sharedImports.__wasm_split, { memory, __indirect_function_table, __wasm_split_shared0,  });
    }
    return sharedImports;
}
function wrapAsyncCb(callee) {
    return async (callbackIndex, callbackData) => {
        let success;
        try {
            await callee();
            success = true;
        } catch (e) {
            console.error(e);
            success = false;
        } finally {
            globalThis.__loaded.push([callbackIndex, callbackData, success]);
        }
    }
}
function makeLoad(fetcher, deps) {
    const loader = async () => {
        const parallelStuff = deps.map(d => d());
        const instantiate = fetcher();
        await Promise.all(parallelStuff);
        const imports = getSharedImports();
        return instantiate(imports);
    };
    let loadingModule = undefined;
    return () => {
        if (loadingModule === undefined) loadingModule = loader();
        return loadingModule;
    }
}
/* __first_route, __second_route */
const __chunk_1 = makeLoad(() => {
    const src = fetch(new URL("./chunk_1.C1.wasm", import.meta.url));
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, []);
export const __wasm_split_load___first_route = wrapAsyncCb(makeLoad(() => {
    const src = fetch(new URL("./split___first_route.F1.wasm", import.meta.url));
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, [__chunk_1]));
export const __wasm_split_load___second_route = wrapAsyncCb(makeLoad(() => {
    const src = fetch(new URL("./split___second_route.S2.wasm", import.meta.url));
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, [__chunk_1]));
`;

const MANIFEST = {
  __first_route: ['chunk_1.C1', 'split___first_route.F1'],
  __second_route: ['chunk_1.C1', 'split___second_route.S2'],
};

/** A split site in a new temporary folder, removed after the test; `chunk` and `first`
 * replace the chunk's text and the first route's. */
function splitSite(t, chunk = CHUNK, first = route(2, 100)) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'split-site-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const pkg = path.join(root, 'pkg');
  fs.mkdirSync(pkg);
  const wasm = (stem, wat) => {
    fs.writeFileSync(path.join(root, `${stem}.wat`), wat);
    execFileSync('wasm-as', ['--enable-bulk-memory', path.join(root, `${stem}.wat`), '-o', path.join(pkg, `${stem}.wasm`)]);
    fs.writeFileSync(path.join(pkg, `${stem}.wasm.br`), 'old copy');
    fs.writeFileSync(path.join(pkg, `${stem}.wasm.gz`), 'old copy');
  };
  wasm('chunk_1.C1', chunk);
  wasm('split___first_route.F1', first);
  wasm('split___second_route.S2', route(3, 200));
  fs.writeFileSync(path.join(pkg, 'itsm-bridge.MA1N.js'), MAIN_JS);
  fs.writeFileSync(path.join(pkg, '__wasm_split.L0ADER.js'), LOADER);
  fs.writeFileSync(path.join(pkg, '__wasm_split_manifest.MAN1FEST.json'), JSON.stringify(MANIFEST));
  fs.writeFileSync(path.join(root, 'hash.txt'), 'js: MA1N\nwasm: W\ncss: C\nmanifest: MAN1FEST\nsplit: L0ADER\n');
  return root;
}

/** The memory, table and stack pointer of a page, as the shared wasm would give them. */
function sharedOfAPage() {
  return {
    memory: new WebAssembly.Memory({ initial: 19 }),
    __indirect_function_table: new WebAssembly.Table({ initial: 8, element: 'anyfunc' }),
    __wasm_split_shared0: new WebAssembly.Global({ value: 'i32', mutable: true }, 1024),
  };
}

test('each route gets one file, named by its content, and the site names it', (t) => {
  const root = splitSite(t);
  assert.ok(bundleSite(root));
  const pkg = path.join(root, 'pkg');
  const hashes = parseHashes(fs.readFileSync(path.join(root, 'hash.txt'), 'utf8'));
  assert.equal(hashes.get('wasm'), 'W', 'the shared wasm is left as it is');
  assert.equal(hashes.get('css'), 'C');

  const manifest = JSON.parse(fs.readFileSync(path.join(pkg, `__wasm_split_manifest.${hashes.get('manifest')}.json`), 'utf8'));
  assert.deepEqual(Object.keys(manifest).sort(), ['__first_route', '__second_route']);
  for (const [route, files] of Object.entries(manifest)) {
    assert.equal(files.length, 1, `${route} names one file`);
    const [stem, hash] = files[0].split('.');
    assert.equal(stem, `page${route.replace(/^_+/, '_')}`);
    const bytes = fs.readFileSync(path.join(pkg, `${files[0]}.wasm`));
    assert.equal(hash, contentHash(bytes), 'the name carries the content hash');
    for (const copy of ['br', 'gz']) assert.ok(fs.existsSync(path.join(pkg, `${files[0]}.wasm.${copy}`)));
  }

  // The JavaScript and the loader import each other: both get new names.
  assert.notEqual(hashes.get('js'), 'MA1N');
  assert.notEqual(hashes.get('split'), 'L0ADER');
  const js = fs.readFileSync(path.join(pkg, `itsm-bridge.${hashes.get('js')}.js`), 'utf8');
  const loader = fs.readFileSync(path.join(pkg, `__wasm_split.${hashes.get('split')}.js`), 'utf8');
  assert.ok(js.includes(`import * as split from "./__wasm_split.${hashes.get('split')}.js";`), 'the JavaScript imports the new loader');
  assert.ok(js.includes(`import*as again from"./__wasm_split.${hashes.get('split')}.js";`));
  assert.ok(js.includes('{ "./__wasm_split.L0ADER.js": again }'), "the wasm's name for the module is left");
  assert.ok(loader.includes(`"./itsm-bridge.${hashes.get('js')}.js"`), 'the loader imports the new JavaScript');
  assert.ok(!fs.readdirSync(root).some((name) => name.startsWith('.bundle')), 'the work folder is removed');

  const left = fs.readdirSync(pkg).sort();
  for (const gone of ['chunk_1.C1.wasm', 'chunk_1.C1.wasm.gz', 'split___first_route.F1.wasm', 'itsm-bridge.MA1N.js', '__wasm_split.L0ADER.js', '__wasm_split_manifest.MAN1FEST.json']) {
    assert.ok(!left.includes(gone), `${gone} is removed`);
  }
});

test('the loader loads one page and then the other in one memory, keeping the statics', async (t) => {
  const root = splitSite(t);
  bundleSite(root);
  const pkg = path.join(root, 'pkg');
  const hashes = parseHashes(fs.readFileSync(path.join(root, 'hash.txt'), 'utf8'));

  const shared = sharedOfAPage();
  globalThis.__shared = shared;
  globalThis.__loaded = [];
  const fetched = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (url) => {
    fetched.push(path.basename(new URL(url).pathname));
    return new Response(fs.readFileSync(new URL(url)), { headers: { 'Content-Type': 'application/wasm' } });
  };
  try {
    const main = await import(pathToFileURL(path.join(pkg, `itsm-bridge.${hashes.get('js')}.js`)).href);
    const table = shared.__indirect_function_table;

    await main.split.__wasm_split_load___first_route(7, 70);
    assert.deepEqual(globalThis.__loaded, [[7, 70, true]], 'the callback hears the load succeeded');
    assert.equal(fetched.length, 1, `one file fetched for the first page: ${fetched}`);
    assert.equal(table.get(2)(), 101, "the first page's entry calls the shared chunk");
    assert.equal(table.get(2)(), 102);

    await main.split.__wasm_split_load___second_route(8, 80);
    assert.equal(fetched.length, 2, 'and one for the second');
    // The second bundle holds the chunk again: its static must not be zeroed again.
    assert.equal(table.get(3)(), 203, "the chunk's counter went on from the first page");
    assert.equal(table.get(2)(), 104, "the first page's entry still works");
    assert.equal(main.wasmImports['./__wasm_split.L0ADER.js'], main.split, 'the wasm gets the new loader');
  } finally {
    globalThis.fetch = realFetch;
  }
});

test('a chunk with data other than zeros stops the bundling and is left in place', (t) => {
  const root = splitSite(t, CHUNK.replace('"\\00\\00\\00\\00"', '"\\01\\00\\00\\00"'));
  const before = fs.readdirSync(path.join(root, 'pkg')).sort();
  const hashTxt = fs.readFileSync(path.join(root, 'hash.txt'), 'utf8');
  assert.throws(() => bundleSite(root), /chunk_1\.C1\.wasm cannot be bundled: it has data other than zeros/);
  assert.deepEqual(fs.readdirSync(path.join(root, 'pkg')).sort(), before);
  assert.equal(fs.readFileSync(path.join(root, 'hash.txt'), 'utf8'), hashTxt);
});

test('a loader that does not match the manifest stops the bundling', (t) => {
  const root = splitSite(t);
  const loader = path.join(root, 'pkg', '__wasm_split.L0ADER.js');
  fs.writeFileSync(loader, fs.readFileSync(loader, 'utf8').replace('__wasm_split_load___second_route', '__wasm_split_load___third_route'));
  assert.throws(() => bundleSite(root), /lists the routes __first_route,__second_route, __wasm_split\.L0ADER\.js loads __first_route,__third_route/);
});

test('a bundling stopped before it removed the old files is finished by the next', (t) => {
  const root = splitSite(t);
  const pkg = path.join(root, 'pkg');
  const old = ['chunk_1.C1.wasm', 'itsm-bridge.MA1N.js', '__wasm_split.L0ADER.js', '__wasm_split_manifest.MAN1FEST.json'];
  const kept = new Map(old.map((name) => [name, fs.readFileSync(path.join(pkg, name))]));
  bundleSite(root);
  for (const [name, bytes] of kept) fs.writeFileSync(path.join(pkg, name), bytes);
  fs.writeFileSync(path.join(pkg, 'chunk_1.C1.wasm.gz'), 'old copy');
  assert.equal(bundleSite(root), null);
  const left = fs.readdirSync(pkg);
  for (const name of [...old, 'chunk_1.C1.wasm.gz']) assert.ok(!left.includes(name), `${name} is removed`);
  const hashes = parseHashes(fs.readFileSync(path.join(root, 'hash.txt'), 'utf8'));
  assert.ok(left.includes(`itsm-bridge.${hashes.get('js')}.js`), 'the current files stay');
  assert.ok(left.includes(`__wasm_split.${hashes.get('split')}.js`));
});

test('a site bundled already is left as it is', (t) => {
  const root = splitSite(t);
  bundleSite(root);
  const hashTxt = fs.readFileSync(path.join(root, 'hash.txt'), 'utf8');
  const files = fs.readdirSync(path.join(root, 'pkg')).sort();
  assert.equal(bundleSite(root), null);
  assert.equal(fs.readFileSync(path.join(root, 'hash.txt'), 'utf8'), hashTxt);
  assert.deepEqual(fs.readdirSync(path.join(root, 'pkg')).sort(), files);
});

test('bundling the same site twice gives the same names', (t) => {
  const [one, two] = [splitSite(t), splitSite(t)];
  bundleSite(one);
  bundleSite(two);
  assert.equal(fs.readFileSync(path.join(one, 'hash.txt'), 'utf8'), fs.readFileSync(path.join(two, 'hash.txt'), 'utf8'));
});

test('a chunk with state of its own, or two files filling one table slot, stop the bundling', (t) => {
  const withGlobal = CHUNK.replace('(func $bump', '(global $count (mut i32) (i32.const 0))\n (func $bump');
  assert.throws(() => bundleSite(splitSite(t, withGlobal)), /chunk_1\.C1\.wasm cannot be bundled: it has globals of its own/);
  const onChunksSlot = route(1, 100);
  assert.throws(() => bundleSite(splitSite(t, CHUNK, onChunksSlot)), /cannot be bundled: it fills table slot 1, as .* does/);
});
