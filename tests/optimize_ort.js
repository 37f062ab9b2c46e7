// optimize_ort.js LIST OUTDIR - runs each original and optimized model of LIST (NAME<TAB>ORIG<TAB>OPT
// lines, tests/test_passes.c test_optimize_portable) with onnxruntime-node on the inputs
// tests/optimize_check.py wrote to OUTDIR/NAME.json and compares every output:
// max |opt - orig| <= 1e-3 * max(1, max |orig|). Needs NODE_PATH with onnxruntime-node.
// Prints one line per model; exit status 1 on a mismatch or a model ORT cannot run.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function run(path, feeds) {
    const s = await ort.InferenceSession.create(path, { graphOptimizationLevel: 'disabled', logSeverityLevel: 3 });
    const out = await s.run(feeds);
    return s.outputNames.map((n) => out[n]);
}

async function main() {
    const [list, outdir] = process.argv.slice(2);
    let bad = 0;
    for (const line of fs.readFileSync(list, 'utf8').split('\n')) {
        if (!line) continue;
        const [name, orig, opt] = line.split('\t');
        const jf = `${outdir}/${name}.json`;
        if (!fs.existsSync(jf)) continue;
        const inp = JSON.parse(fs.readFileSync(jf, 'utf8')).inputs;
        const feeds = {};
        for (const k of Object.keys(inp))
            feeds[k] = new ort.Tensor('float32', Float32Array.from(inp[k].data), inp[k].dims);
        try {
            const a = await run(orig, feeds), b = await run(opt, feeds);
            let worst = 0, ok = a.length === b.length;
            for (let i = 0; ok && i < a.length; i++) {
                const x = a[i].data, y = b[i].data;
                if (x.length !== y.length) { ok = false; break; }
                let err = 0, ref = 0;
                for (let j = 0; j < x.length; j++) {
                    err = Math.max(err, Math.abs(Number(x[j]) - Number(y[j])));
                    ref = Math.max(ref, Math.abs(Number(x[j])));
                }
                if (!(err <= 1e-3 * Math.max(1, ref))) ok = false;
                worst = Math.max(worst, err);
            }
            console.log(`${name}: onnxruntime ${ok ? 'same outputs' : 'MISMATCH'} (max abs err ${worst.toExponential(2)})`);
            if (!ok) bad = 1;
        } catch (e) {
            console.log(`${name}: ONNXRUNTIME FAILED: ${String(e.message || e).split('\n')[0]}`);
            bad = 1;
        }
    }
    process.exit(bad);
}
main();
