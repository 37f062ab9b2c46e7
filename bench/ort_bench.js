// ort_bench.js - time ONNX Runtime (onnxruntime-node, CPU) on one model, the peer of bench_run.c.
//   node ort_bench.js MODEL.onnx INPUT.bin DIMS THREADS WARMUP RUNS OUTPUT.bin
// INPUT.bin: the model's single float32 input, raw little-endian; DIMS: comma-separated shape.
// Runs WARMUP untimed inferences, then RUNS timed ones (one session.run each, wall clock),
// writes the (first) output as raw float32 to OUTPUT.bin and prints one line:
//   ort median_ms=M p90_ms=P runs=N threads=T
// The session: intraOpNumThreads=THREADS, interOpNumThreads=1, sequential execution, all graph
// optimisations (ORT's default), CPU execution provider.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

function quantile(sorted, q) {
    const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
    return sorted[i];
}

async function main() {
    const a = process.argv.slice(2);
    if (a.length !== 7) {
        process.stderr.write('usage: node ort_bench.js MODEL.onnx INPUT.bin DIMS THREADS WARMUP RUNS OUTPUT.bin\n');
        process.exit(2);
    }
    const [model, inPath, dimsStr, threadsStr, warmStr, runsStr, outPath] = a;
    const threads = parseInt(threadsStr, 10), warm = parseInt(warmStr, 10), runs = parseInt(runsStr, 10);
    const dims = dimsStr.split(',').map((d) => parseInt(d, 10));
    const buf = fs.readFileSync(inPath);
    const n = dims.reduce((x, y) => x * y, 1);
    if (buf.length !== n * 4) {
        process.stderr.write(`ort_bench: ${inPath} has ${buf.length} bytes, shape [${dims}] needs ${n * 4}\n`);
        process.exit(1);
    }
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = buf.readFloatLE(4 * i);
    const session = await ort.InferenceSession.create(model, {
        executionProviders: ['cpu'],
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
    });
    const feeds = {};
    feeds[session.inputNames[0]] = new ort.Tensor('float32', data, dims);
    let out;
    for (let i = 0; i < warm; i++) out = await session.run(feeds);
    const times = [];
    for (let i = 0; i < runs; i++) {
        const t0 = process.hrtime.bigint();
        out = await session.run(feeds);
        times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    if (!out) out = await session.run(feeds);
    const y = out[session.outputNames[0]].data;
    const ob = Buffer.alloc(y.length * 4);
    for (let i = 0; i < y.length; i++) ob.writeFloatLE(y[i], 4 * i);
    fs.writeFileSync(outPath, ob);
    times.sort((x, z) => x - z);
    console.log(`ort median_ms=${quantile(times, 0.5).toFixed(4)} p90_ms=${quantile(times, 0.9).toFixed(4)} runs=${runs} threads=${threads}`);
}

main().catch((e) => {
    process.stderr.write(`ort_bench: ${e && e.message ? e.message : e}\n`);
    process.exit(1);
});
