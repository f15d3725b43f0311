#!/usr/bin/env node
// Benchmark worker for sharp (see bench/README.md for the protocol).
//
//   node sharp_worker.js                          serve JSON lines on stdin/stdout
//   node sharp_worker.js --once IN OUT [--size 1000] [--quality 82]
//                                                 one image, for the peak-RSS measurement of a fresh process
//
// Recipe: sharp(buf).rotate().resize(size, size, {fit: 'inside', withoutEnlargement: true}).jpeg({quality})
// with sharp.concurrency(1) and sharp.cache(false). A run request with "format": "avif" ends in .avif() instead:
// sharp's defaults (quality 50, effort 4, 4:4:4) unless it carries "avif_quality" / "avif_effort". `.rotate()` with no angle applies EXIF orientation, as
// services do; sharp writes no metadata unless asked (withMetadata/keepMetadata).
'use strict';

process.env.UV_THREADPOOL_SIZE = process.env.UV_THREADPOOL_SIZE || '1';
const fs = require('fs');
const path = require('path');
const readline = require('readline');

// sharp is installed by bench/setup.sh into <repo>/.tools/bench/node (or IMGRESIZE_BENCH_NODE_MODULES).
const nodeModules = process.env.IMGRESIZE_BENCH_NODE_MODULES
  || path.join(__dirname, '..', '..', '.tools', 'bench', 'node', 'node_modules');
const sharp = require(path.join(nodeModules, 'sharp'));
sharp.concurrency(1);
sharp.cache(false);

async function resize(buf, size, quality, avif) {
  const pipeline = sharp(buf)
    .rotate()
    .resize(size, size, { fit: 'inside', withoutEnlargement: true });
  const encoded = avif ? pipeline.avif(avif) : pipeline.jpeg({ quality });
  const { data, info } = await encoded.toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

// Every rendition from one input the way sharp's documentation recommends: one sharp instance
// (auto-orient), a clone() per output, all awaited together. Same spec as imgresize's RENDITIONS.
async function renditions(buf, specs, quality, outDir) {
  const base = sharp(buf).rotate();
  const jobs = [];
  for (const r of specs) {
    const width = r.size ?? r.width ?? null;
    const height = r.size ?? r.height ?? null;
    const fit = r.fit ?? 'inside';
    const options = { fit, withoutEnlargement: fit === 'inside' };
    if (fit === 'cover') {
      options.position = r.gravity === 'attention' ? sharp.strategy.attention
        : r.gravity === 'entropy' ? sharp.strategy.entropy : 'centre';
    }
    for (const format of r.formats ?? ['jpeg']) {
      const pipeline = base.clone().resize(width, height, options);
      const encoded = format === 'webp' ? pipeline.webp({ quality }) : pipeline.jpeg({ quality });
      jobs.push(encoded.toBuffer({ resolveWithObject: true }).then(({ data, info }) => {
        if (outDir) fs.writeFileSync(path.join(outDir, `${r.name}.${format === 'jpeg' ? 'jpg' : format}`), data);
        return { name: r.name, format, width: info.width, height: info.height, bytes: data.length };
      }));
    }
  }
  return Promise.all(jobs);
}

function arg(name, def) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : def;
}

async function once() {
  const i = process.argv.indexOf('--once');
  const [inp, outp] = process.argv.slice(i + 1, i + 3);
  const r = await resize(fs.readFileSync(inp), Number(arg('--size', 1000)), Number(arg('--quality', 82)));
  fs.writeFileSync(outp, r.data);
  process.stdout.write(JSON.stringify({ ok: true, bytes: r.data.length, width: r.width, height: r.height }) + '\n');
}

async function handle(images, req) {
  switch (req.op) {
    case 'load':
      images.set(req.id, fs.readFileSync(req.path));
      return { ok: true };
    case 'run': {
      const buf = images.get(req.id);
      if (!buf) throw new Error(`unknown id ${req.id}`);
      const size = Number(req.size ?? 1000);
      const quality = Number(req.quality ?? 82);
      let avif = null;
      if (req.format === 'avif') {
        avif = {};
        if (req.avif_quality != null) avif.quality = Number(req.avif_quality);
        if (req.avif_effort != null) avif.effort = Number(req.avif_effort);
      } else if (req.format != null && req.format !== 'jpeg') {
        throw new Error(`unsupported format ${JSON.stringify(req.format)}`);
      }
      const t0 = process.hrtime.bigint();
      const r = await resize(buf, size, quality, avif);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (req.out) fs.writeFileSync(req.out, r.data);
      return { ok: true, ms, bytes: r.data.length, width: r.width, height: r.height };
    }
    case 'renditions': {
      const buf = images.get(req.id);
      if (!buf) throw new Error(`unknown id ${req.id}`);
      const t0 = process.hrtime.bigint();
      const outputs = await renditions(buf, req.renditions, Number(req.quality ?? 82), req.out_dir);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      return { ok: true, ms, outputs };
    }
    default:
      throw new Error(`unknown op ${JSON.stringify(req.op)}`);
  }
}

async function serve() {
  // Protocol replies go through the original stdout; console.log is redirected to stderr.
  const write = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
  console.log = console.error;
  const images = new Map();
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  for await (const line of rl) { // one request at a time, in order
    if (!line.trim()) continue;
    let req;
    try {
      req = JSON.parse(line);
    } catch (e) {
      write({ ok: false, error: `bad JSON: ${e.message}` });
      continue;
    }
    if (req.op === 'quit') {
      write({ ok: true });
      break;
    }
    try {
      write(await handle(images, req));
    } catch (e) {
      write({ ok: false, error: String(e && e.message ? e.message : e) });
    }
  }
  process.exit(0);
}

(process.argv.includes('--once') ? once() : serve()).catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
