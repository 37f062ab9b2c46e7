/* test_ops_index.c - tests of the indexing and shape-computation family: the kernels of
 * runtime/rt_index.c through rt_kernel_find on small tensors with values worked out by hand from
 * the ONNX operator definitions (docs/Operators.md), including their run-time checks (an index
 * out of range is ONNXC_ERR_RUNTIME, a shape input that disagrees with the compiled shape is
 * ONNXC_ERR_SHAPE), and the infer/lower hooks of ops/op_index.c on small graphs: compile-time
 * evaluation (Shape -> Gather, Slice of a constant, ConstantOfShape), declared output types kept
 * for computed shape inputs, and the "computed at run time" diagnostic otherwise.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ir/ir.h"
#include "ops/op.h"
#include "passes/pass.h"
#include "runtime/onnxc_rt.h"
#include "runtime/rt_params.h"
#include "tests/test_util.h"

/* ------------------------------------------------------------------ helpers */

static void assert_f32(const float *got, const float *want, int n) {
    for (int i = 0; i < n; i++)
        if (got[i] != want[i]) {
            print_message("element %d: got %g, want %g\n", i, got[i], want[i]);
            fail();
        }
}

static void assert_i64(const int64_t *got, const int64_t *want, int n) {
    for (int i = 0; i < n; i++)
        if (got[i] != want[i]) {
            print_message("element %d: got %lld, want %lld\n", i, (long long)got[i],
                          (long long)want[i]);
            fail();
        }
}

/* ------------------------------------------------------------------ kernels */

static void test_gather_kernels(void **state) {
    (void)state;
    /* Gather axis 1 of [[1,2,3],[4,5,6]] with [2,-3] -> [[3,1],[6,4]] */
    float x[6] = {1, 2, 3, 4, 5, 6}, y[4];
    int64_t dx[] = {2, 3}, di[] = {2}, dy[] = {2, 2};
    int64_t idx[2] = {2, -3};
    RtTensor in[2] = {tn(x, 1, 2, dx), tn(idx, 7, 1, di)};
    RtTensor out = tn(y, 1, 2, dy);
    RtAxisParams ax = {1};
    assert_int_equal(run_k("rt_k_gather", &ax, in, 2, &out, 1), 0);
    assert_f32(y, (float[]){3, 1, 6, 4}, 4);
    /* index 3 is out of range: a run-time error, not a read */
    idx[0] = 3;
    assert_int_equal(run_k("rt_k_gather", &ax, in, 2, &out, 1), ONNXC_ERR_RUNTIME);
    idx[0] = -4;
    assert_int_equal(run_k("rt_k_gather", &ax, in, 2, &out, 1), ONNXC_ERR_RUNTIME);

    /* GatherElements axis 0: data [[1,2],[3,4]], indices [[1,0],[-1,1]] -> [[3,2],[3,4]] */
    float ge[4] = {1, 2, 3, 4}, gy[4];
    int64_t d22[] = {2, 2}, gi[4] = {1, 0, -1, 1};
    RtTensor gin[2] = {tn(ge, 1, 2, d22), tn(gi, 7, 2, d22)};
    RtTensor gout = tn(gy, 1, 2, d22);
    RtAxisParams a0 = {0};
    assert_int_equal(run_k("rt_k_gather_elements", &a0, gin, 2, &gout, 1), 0);
    assert_f32(gy, (float[]){3, 2, 3, 4}, 4);
    gi[3] = 2;
    assert_int_equal(run_k("rt_k_gather_elements", &a0, gin, 2, &gout, 1), ONNXC_ERR_RUNTIME);

    /* GatherND batch_dims 1: data [2,2,2] = 0..7, indices [[1],[0]] -> [[2,3],[4,5]] */
    int32_t nd[8] = {0, 1, 2, 3, 4, 5, 6, 7}, ny[4];
    int64_t d222[] = {2, 2, 2}, d21[] = {2, 1}, ni[2] = {1, 0};
    RtTensor nin_[2] = {tn(nd, 6, 3, d222), tn(ni, 7, 2, d21)};
    RtTensor nout_ = tn(ny, 6, 2, d22);
    RtGatherNDParams gp = {1};
    assert_int_equal(run_k("rt_k_gather_nd", &gp, nin_, 2, &nout_, 1), 0);
    assert_int_equal(ny[0], 2);
    assert_int_equal(ny[1], 3);
    assert_int_equal(ny[2], 4);
    assert_int_equal(ny[3], 5);
    ni[1] = 5;
    assert_int_equal(run_k("rt_k_gather_nd", &gp, nin_, 2, &nout_, 1), ONNXC_ERR_RUNTIME);
}

static void test_slice_split(void **state) {
    (void)state;
    /* x [2,4] = 0..7; axis 1 from -1 (= 3) down to -10 (clamped to -1) by -2 -> {3, 1};
     * axis 0 from 0 to 9 (clamped to 2) -> both rows: [[3,1],[7,5]] */
    float x[8] = {0, 1, 2, 3, 4, 5, 6, 7}, y[4];
    int64_t dx[] = {2, 4}, d2[] = {2}, dy[] = {2, 2};
    int64_t starts[2] = {-1, 0}, ends[2] = {-10, 9}, axes[2] = {1, 0}, steps[2] = {-2, 1};
    RtTensor in[5] = {tn(x, 1, 2, dx), tn(starts, 7, 1, d2), tn(ends, 7, 1, d2),
                      tn(axes, 7, 1, d2), tn(steps, 7, 1, d2)};
    RtTensor out = tn(y, 1, 2, dy);
    RtSliceParams sp;
    memset(&sp, 0, sizeof sp);
    sp.rank = 2;
    sp.from_inputs = 1;
    assert_int_equal(run_k("rt_k_slice", &sp, in, 5, &out, 1), 0);
    assert_f32(y, (float[]){3, 1, 7, 5}, 4);
    /* inputs that give another shape than the compiled one: a shape error */
    steps[0] = -1;
    assert_int_equal(run_k("rt_k_slice", &sp, in, 5, &out, 1), ONNXC_ERR_SHAPE);
    /* the most negative step takes one element (no overflow): column 3 of both rows */
    int64_t s1[1] = {-1}, e1[1] = {INT64_MIN}, a1[1] = {1}, t1[1] = {INT64_MIN}, d1[] = {1};
    float y1[2];
    int64_t dy1[] = {2, 1};
    RtTensor in1[5] = {tn(x, 1, 2, dx), tn(s1, 7, 1, d1), tn(e1, 7, 1, d1), tn(a1, 7, 1, d1),
                       tn(t1, 7, 1, d1)};
    RtTensor out1 = tn(y1, 1, 2, dy1);
    assert_int_equal(run_k("rt_k_slice", &sp, in1, 5, &out1, 1), 0);
    assert_f32(y1, (float[]){3, 7}, 2);
    /* params mode: rows 1, columns 1..2 */
    float y2[2];
    int64_t dy2[] = {1, 2};
    RtSliceParams pp;
    memset(&pp, 0, sizeof pp);
    pp.rank = 2;
    pp.start[0] = 1, pp.start[1] = 1, pp.step[0] = 1, pp.step[1] = 1;
    RtTensor out2 = tn(y2, 1, 2, dy2);
    assert_int_equal(run_k("rt_k_slice", &pp, in, 1, &out2, 1), 0);
    assert_f32(y2, (float[]){5, 6}, 2);
    /* a params block reading past the end is refused */
    pp.start[1] = 3;
    assert_int_equal(run_k("rt_k_slice", &pp, in, 1, &out2, 1), ONNXC_ERR_SHAPE);

    /* Split [2,4] along axis 1 into 1 and 3 columns; the split input must agree */
    float a[2], b[6];
    int64_t da[] = {2, 1}, db[] = {2, 3}, sv[2] = {1, 3};
    RtTensor sin[2] = {tn(x, 1, 2, dx), tn(sv, 7, 1, d2)};
    RtTensor souts[2] = {tn(a, 1, 2, da), tn(b, 1, 2, db)};
    RtAxisParams ax = {1};
    assert_int_equal(run_k("rt_k_split", &ax, sin, 2, souts, 2), 0);
    assert_f32(a, (float[]){0, 4}, 2);
    assert_f32(b, (float[]){1, 2, 3, 5, 6, 7}, 6);
    sv[0] = 2, sv[1] = 2;
    assert_int_equal(run_k("rt_k_split", &ax, sin, 2, souts, 2), ONNXC_ERR_SHAPE);
}

static void test_expand_tile_range(void **state) {
    (void)state;
    /* Expand [3,1] = {1,2,3} with shape [2,1,2] -> [2,3,2] */
    float x[3] = {1, 2, 3}, y[12];
    int64_t dx[] = {3, 1}, ds[] = {3}, dy[] = {2, 3, 2}, shape[3] = {2, 1, 2};
    RtTensor in[2] = {tn(x, 1, 2, dx), tn(shape, 7, 1, ds)};
    RtTensor out = tn(y, 1, 3, dy);
    assert_int_equal(run_k("rt_k_expand", NULL, in, 2, &out, 1), 0);
    assert_f32(y, (float[]){1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3}, 12);
    shape[0] = 3;
    assert_int_equal(run_k("rt_k_expand", NULL, in, 2, &out, 1), ONNXC_ERR_SHAPE);

    /* Tile [2,1] = {1,2} by [2,3] -> [4,3] */
    float t[2] = {1, 2}, ty[12];
    int64_t dt[] = {2, 1}, d2[] = {2}, dty[] = {4, 3}, rep[2] = {2, 3};
    RtTensor tin[2] = {tn(t, 1, 2, dt), tn(rep, 7, 1, d2)};
    RtTensor tout = tn(ty, 1, 2, dty);
    assert_int_equal(run_k("rt_k_tile", NULL, tin, 2, &tout, 1), 0);
    assert_f32(ty, (float[]){1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2}, 12);

    /* Range int32 10 -> 4 by -3: {10, 7}; float 1 -> 2 by 0.25: 4 values */
    int32_t s = 10, l = 4, dlt = -3, ry[2];
    int64_t d2r[] = {2};
    RtTensor rin[3] = {tn(&s, 6, 0, NULL), tn(&l, 6, 0, NULL), tn(&dlt, 6, 0, NULL)};
    RtTensor rout = tn(ry, 6, 1, d2r);
    assert_int_equal(run_k("rt_k_range", NULL, rin, 3, &rout, 1), 0);
    assert_int_equal(ry[0], 10);
    assert_int_equal(ry[1], 7);
    dlt = -2; /* {10, 8, 6}: 3 elements, compiled for 2 */
    assert_int_equal(run_k("rt_k_range", NULL, rin, 3, &rout, 1), ONNXC_ERR_SHAPE);
    float fs = 1, fl = 2, fd = 0.25f, fy[4];
    int64_t d4[] = {4};
    RtTensor fin[3] = {tn(&fs, 1, 0, NULL), tn(&fl, 1, 0, NULL), tn(&fd, 1, 0, NULL)};
    RtTensor fout = tn(fy, 1, 1, d4);
    assert_int_equal(run_k("rt_k_range", NULL, fin, 3, &fout, 1), 0);
    assert_f32(fy, (float[]){1, 1.25f, 1.5f, 1.75f}, 4);
}

static void test_pad(void **state) {
    (void)state;
    /* x [1,3] = {1,2,3}; pads begin [0,2] end [0,1] -> [1,6] */
    float x[3] = {1, 2, 3}, y[6];
    int64_t dx[] = {1, 3}, dy[] = {1, 6}, d4[] = {4}, pads[4] = {0, 2, 0, 1};
    float cv = 9;
    RtTensor in[3] = {tn(x, 1, 2, dx), tn(pads, 7, 1, d4), tn(&cv, 1, 0, NULL)};
    RtTensor out = tn(y, 1, 2, dy);
    RtPadParams p;
    memset(&p, 0, sizeof p);
    p.rank = 2;
    p.from_inputs = 1;
    p.mode = RT_PAD_CONSTANT;
    assert_int_equal(run_k("rt_k_pad", &p, in, 3, &out, 1), 0);
    assert_f32(y, (float[]){9, 9, 1, 2, 3, 9}, 6);
    p.mode = RT_PAD_REFLECT; /* numpy reflect: 3 2 | 1 2 3 | 2 */
    assert_int_equal(run_k("rt_k_pad", &p, in, 3, &out, 1), 0);
    assert_f32(y, (float[]){3, 2, 1, 2, 3, 2}, 6);
    p.mode = RT_PAD_EDGE;
    assert_int_equal(run_k("rt_k_pad", &p, in, 3, &out, 1), 0);
    assert_f32(y, (float[]){1, 1, 1, 2, 3, 3}, 6);
    p.mode = RT_PAD_WRAP;
    assert_int_equal(run_k("rt_k_pad", &p, in, 3, &out, 1), 0);
    assert_f32(y, (float[]){2, 3, 1, 2, 3, 1}, 6);
    /* negative pads crop: begin -1, end +1 constant (no value input: 0) -> {2, 3, 0} */
    int64_t cp[4] = {0, -1, 0, 1}, dy3[] = {1, 3};
    float y3[3];
    RtTensor cin[2] = {tn(x, 1, 2, dx), tn(cp, 7, 1, d4)};
    RtTensor cout_ = tn(y3, 1, 2, dy3);
    p.mode = RT_PAD_CONSTANT;
    assert_int_equal(run_k("rt_k_pad", &p, cin, 2, &cout_, 1), 0);
    assert_f32(y3, (float[]){2, 3, 0}, 3);
    /* pads that disagree with the compiled shape */
    cp[3] = 2;
    assert_int_equal(run_k("rt_k_pad", &p, cin, 2, &cout_, 1), ONNXC_ERR_SHAPE);
    /* axes input (opset 18): pad only axis -1 by (1, 0) edge */
    int64_t ap[2] = {1, 0}, axes[1] = {-1}, d2[] = {2}, d1[] = {1}, dy4[] = {1, 4};
    float y4[4];
    RtTensor ain[4] = {tn(x, 1, 2, dx), tn(ap, 7, 1, d2), absent, tn(axes, 7, 1, d1)};
    RtTensor aout = tn(y4, 1, 2, dy4);
    p.mode = RT_PAD_EDGE;
    assert_int_equal(run_k("rt_k_pad", &p, ain, 4, &aout, 1), 0);
    assert_f32(y4, (float[]){1, 1, 2, 3}, 4);
}

static void test_onehot_scatter(void **state) {
    (void)state;
    /* OneHot indices {1, -1, 5} depth 3 axis 1 -> [3,3] rows e1, e2, all off */
    int64_t idx[3] = {1, -1, 5}, d3[] = {3}, d33[] = {3, 3}, d2[] = {2};
    float depth = 3, vals[2] = {0, 7}, y[9];
    RtTensor in[3] = {tn(idx, 7, 1, d3), tn(&depth, 1, 0, NULL), tn(vals, 1, 1, d2)};
    RtTensor out = tn(y, 1, 2, d33);
    RtAxisParams ax = {1};
    assert_int_equal(run_k("rt_k_onehot", &ax, in, 3, &out, 1), 0);
    assert_f32(y, (float[]){0, 7, 0, 0, 0, 7, 0, 0, 0}, 9);
    depth = 4;
    assert_int_equal(run_k("rt_k_onehot", &ax, in, 3, &out, 1), ONNXC_ERR_SHAPE);

    /* ScatterElements axis 1 on [[1,2,3]] with indices [[0,2,0]] and updates [[10,20,30]]:
     * none -> [[30,2,20]] (last write wins); add -> [[41,2,23]]; max -> [[30,2,20]] */
    float data[3] = {1, 2, 3}, upd[3] = {10, 20, 30}, sy[3];
    int64_t sidx[3] = {0, 2, 0}, d13[] = {1, 3};
    RtTensor sin[3] = {tn(data, 1, 2, d13), tn(sidx, 7, 2, d13), tn(upd, 1, 2, d13)};
    RtTensor sout = tn(sy, 1, 2, d13);
    RtScatterParams sp = {1, RT_SCATTER_NONE};
    assert_int_equal(run_k("rt_k_scatter_elements", &sp, sin, 3, &sout, 1), 0);
    assert_f32(sy, (float[]){30, 2, 20}, 3);
    sp.reduction = RT_SCATTER_ADD;
    assert_int_equal(run_k("rt_k_scatter_elements", &sp, sin, 3, &sout, 1), 0);
    assert_f32(sy, (float[]){41, 2, 23}, 3);
    sp.reduction = RT_SCATTER_MUL;
    assert_int_equal(run_k("rt_k_scatter_elements", &sp, sin, 3, &sout, 1), 0);
    assert_f32(sy, (float[]){300, 2, 60}, 3);
    sp.reduction = RT_SCATTER_MIN;
    assert_int_equal(run_k("rt_k_scatter_elements", &sp, sin, 3, &sout, 1), 0);
    assert_f32(sy, (float[]){1, 2, 3}, 3);
    sidx[1] = 3;
    assert_int_equal(run_k("rt_k_scatter_elements", &sp, sin, 3, &sout, 1), ONNXC_ERR_RUNTIME);

    /* ScatterND on int64 [4] = {1,2,3,4}, indices [[3],[-4],[3]], updates {10,20,30}, add ->
     * {21, 2, 3, 44} */
    int64_t nd[4] = {1, 2, 3, 4}, ny[4], nidx[3] = {3, -4, 3}, nupd[3] = {10, 20, 30};
    int64_t d4[] = {4}, d31[] = {3, 1};
    RtTensor nin_[3] = {tn(nd, 7, 1, d4), tn(nidx, 7, 2, d31), tn(nupd, 7, 1, d3)};
    RtTensor nout_ = tn(ny, 7, 1, d4);
    RtScatterParams np = {0, RT_SCATTER_ADD};
    assert_int_equal(run_k("rt_k_scatter_nd", &np, nin_, 3, &nout_, 1), 0);
    assert_i64(ny, (int64_t[]){21, 2, 3, 44}, 4);
    nidx[0] = 4;
    assert_int_equal(run_k("rt_k_scatter_nd", &np, nin_, 3, &nout_, 1), ONNXC_ERR_RUNTIME);
}

static void test_trilu_cumsum_eye_d2s(void **state) {
    (void)state;
    /* Trilu on [3,3] = 1..9: upper k=1 -> {0,2,3, 0,0,6, 0,0,0}; lower k=-1 -> {0,0,0,4,0,0,7,8,0} */
    float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, y[9];
    int64_t d33[] = {3, 3}, k = 1;
    RtTensor in[2] = {tn(x, 1, 2, d33), tn(&k, 7, 0, NULL)};
    RtTensor out = tn(y, 1, 2, d33);
    RtTriluParams tp = {1};
    assert_int_equal(run_k("rt_k_trilu", &tp, in, 2, &out, 1), 0);
    assert_f32(y, (float[]){0, 2, 3, 0, 0, 6, 0, 0, 0}, 9);
    tp.upper = 0;
    k = -1;
    assert_int_equal(run_k("rt_k_trilu", &tp, in, 2, &out, 1), 0);
    assert_f32(y, (float[]){0, 0, 0, 4, 0, 0, 7, 8, 0}, 9);
    k = (int64_t)1 << 62; /* huge k: the lower triangle is everything */
    assert_int_equal(run_k("rt_k_trilu", &tp, in, 2, &out, 1), 0);
    assert_f32(y, x, 9);

    /* CumSum of int32 {1,2,3,4} axis 0: exclusive reverse -> {9, 7, 4, 0} */
    int32_t c[4] = {1, 2, 3, 4}, cy[4];
    int64_t d4[] = {4}, axis = 0;
    RtTensor cin[2] = {tn(c, 6, 1, d4), tn(&axis, 7, 0, NULL)};
    RtTensor cout_ = tn(cy, 6, 1, d4);
    RtCumSumParams cp = {1, 1};
    assert_int_equal(run_k("rt_k_cumsum", &cp, cin, 2, &cout_, 1), 0);
    assert_int_equal(cy[0], 9);
    assert_int_equal(cy[1], 7);
    assert_int_equal(cy[2], 4);
    assert_int_equal(cy[3], 0);
    cp.exclusive = 0, cp.reverse = 0;
    assert_int_equal(run_k("rt_k_cumsum", &cp, cin, 2, &cout_, 1), 0);
    assert_int_equal(cy[3], 10);
    axis = 1;
    assert_int_equal(run_k("rt_k_cumsum", &cp, cin, 2, &cout_, 1), ONNXC_ERR_RUNTIME);

    /* EyeLike [2,3] int64 k=1 -> {0,1,0, 0,0,1} */
    int64_t e[6], ey[6], d23[] = {2, 3};
    RtTensor ein = tn(e, 1, 2, d23), eout = tn(ey, 7, 2, d23);
    RtEyeLikeParams ep = {1};
    assert_int_equal(run_k("rt_k_eyelike", &ep, &ein, 1, &eout, 1), 0);
    assert_i64(ey, (int64_t[]){0, 1, 0, 0, 0, 1}, 6);

    /* DepthToSpace b=2 of [1,4,1,1] = {0,1,2,3}: DCR and CRD both give [1,1,2,2] = {0,1,2,3}
     * here; with [1,8,1,1] = 0..7 DCR -> c=0: {0,2,4,6}, c=1: {1,3,5,7}; CRD -> {0,1,2,3},
     * {4,5,6,7} */
    float dx[8] = {0, 1, 2, 3, 4, 5, 6, 7}, dy[8];
    int64_t din[] = {1, 8, 1, 1}, dout[] = {1, 2, 2, 2};
    RtTensor xin = tn(dx, 1, 4, din), xout = tn(dy, 1, 4, dout);
    RtDepthSpaceParams dp = {2, RT_D2S_DCR};
    assert_int_equal(run_k("rt_k_depth_space", &dp, &xin, 1, &xout, 1), 0);
    assert_f32(dy, (float[]){0, 2, 4, 6, 1, 3, 5, 7}, 8);
    dp.mode = RT_D2S_CRD;
    assert_int_equal(run_k("rt_k_depth_space", &dp, &xin, 1, &xout, 1), 0);
    assert_f32(dy, dx, 8);
    /* SpaceToDepth inverts DCR: [1,2,2,2] -> [1,8,1,1] */
    float back[8], dcr[8] = {0, 2, 4, 6, 1, 3, 5, 7};
    RtTensor sin = tn(dcr, 1, 4, dout), sout = tn(back, 1, 4, din);
    RtDepthSpaceParams sp = {2, RT_S2D};
    assert_int_equal(run_k("rt_k_depth_space", &sp, &sin, 1, &sout, 1), 0);
    assert_f32(back, dx, 8);

    /* ConstantOfShape: int32 7 over [2,2]; the shape input must agree */
    int32_t cy2[4];
    int64_t d2[] = {2}, shape[2] = {2, 2}, d22[] = {2, 2};
    RtConstantOfShapeParams csp = {4, {0}};
    int32_t seven = 7;
    memcpy(csp.value, &seven, 4);
    RtTensor csin = tn(shape, 7, 1, d2), csout = tn(cy2, 6, 2, d22);
    assert_int_equal(run_k("rt_k_constant_of_shape", &csp, &csin, 1, &csout, 1), 0);
    assert_int_equal(cy2[3], 7);
    shape[1] = 3;
    assert_int_equal(run_k("rt_k_constant_of_shape", &csp, &csin, 1, &csout, 1), ONNXC_ERR_SHAPE);
}

/* ------------------------------------------------------------------ hooks */

typedef struct Fx {
    IrModel *m; /* model owning g */
    IrGraph *g; /* graph the nodes are added to */
    IrDiag d;   /* diagnostics */
} Fx;

static void fx_init(Fx *f) {
    f->m = ir_model_create();
    assert_non_null(f->m);
    f->g = ir_graph_create(f->m, NULL, "g");
    assert_non_null(f->g);
    f->m->graph = f->g;
    ir_diag_init(&f->d, "test");
}

static void fx_free(Fx *f) {
    ir_diag_free(&f->d);
    ir_model_destroy(f->m);
}

static IrValue *mkval(Fx *f, const char *name, IrDType dt, int rank, const int64_t *dims) {
    IrValue *v = ir_value_new(f->g, name);
    assert_non_null(v);
    assert_int_equal(ir_type_set_tensor(f->g->arena, &v->type, dt, rank, dims), 0);
    return v;
}

/* A constant int64 vector value. */
static IrValue *mkints(Fx *f, const char *name, int n, const int64_t *vals) {
    int64_t dn = n;
    IrValue *v = mkval(f, name, IR_DT_INT64, 1, &dn);
    v->init = ir_tensor_new(f->g->arena, IR_DT_INT64, 1, &dn);
    assert_non_null(v->init);
    if (n) memcpy(v->init->data, vals, sizeof(int64_t) * (size_t)n);
    return v;
}

static IrNode *mknode(Fx *f, const char *op, int opset, int nin, IrValue **in) {
    static int k = 0;
    char name[32];
    snprintf(name, sizeof name, "y%d", k++);
    IrValue *y = ir_value_new(f->g, name);
    IrNode *n = ir_node_new(f->g, NULL, name, "", op, opset, nin, in, 1, &y);
    assert_non_null(n);
    return n;
}

static void test_compile_time_values(void **state) {
    (void)state;
    Fx f;
    fx_init(&f);
    /* Shape-15 of x [2,3,5] with start -2: [3,5], known now */
    int64_t dx[] = {2, 3, 5};
    IrValue *x = mkval(&f, "x", IR_DT_FLOAT, 3, dx);
    IrNode *sh = mknode(&f, "Shape", 15, 1, (IrValue *[]){x});
    ir_node_add_attr(sh, "start", IR_ATTR_INT)->i = -2;
    assert_int_equal(op_infer_node(sh, &f.d), 0);
    assert_non_null(sh->out[0]->init);
    assert_i64(sh->out[0]->init->data, (int64_t[]){3, 5}, 2);
    /* Gather(shape, [-1, 0]) evaluated by its kernel: {5, 3} */
    IrValue *gi = mkints(&f, "gi", 2, (int64_t[]){-1, 0});
    IrNode *g = mknode(&f, "Gather", 13, 2, (IrValue *[]){sh->out[0], gi});
    assert_int_equal(op_infer_node(g, &f.d), 0);
    assert_non_null(g->out[0]->init);
    assert_i64(g->out[0]->init->data, (int64_t[]){5, 3}, 2);
    /* Slice-13 of that constant from 1 to end: {3} */
    IrValue *s0 = mkints(&f, "s0", 1, (int64_t[]){1}), *e0 = mkints(&f, "e0", 1,
                                                                        (int64_t[]){INT64_MAX});
    IrNode *sl = mknode(&f, "Slice", 13, 3, (IrValue *[]){g->out[0], s0, e0});
    assert_int_equal(op_infer_node(sl, &f.d), 0);
    assert_int_equal(sl->out[0]->type.dims[0].value, 1);
    assert_non_null(sl->out[0]->init);
    assert_int_equal(((int64_t *)sl->out[0]->init->data)[0], 3);
    /* Size of x: 30 */
    IrNode *sz = mknode(&f, "Size", 13, 1, (IrValue *[]){x});
    assert_int_equal(op_infer_node(sz, &f.d), 0);
    assert_int_equal(*(int64_t *)sz->out[0]->init->data, 30);
    /* ConstantOfShape with a constant shape: a float zero tensor [2,3] as init */
    IrValue *shp = mkints(&f, "shp", 2, (int64_t[]){2, 3});
    IrNode *cs = mknode(&f, "ConstantOfShape", 9, 1, (IrValue *[]){shp});
    assert_int_equal(op_infer_node(cs, &f.d), 0);
    assert_int_equal(cs->out[0]->type.dtype, IR_DT_FLOAT);
    assert_non_null(cs->out[0]->init);
    assert_int_equal(cs->out[0]->init->numel, 6);
    /* Slice of the (computed) x with constant starts: static shape, lowered with params */
    IrValue *s1 = mkints(&f, "s1", 1, (int64_t[]){-1}), *e1 = mkints(&f, "e1", 1,
                                                                         (int64_t[]){-100});
    IrValue *a1 = mkints(&f, "a1", 1, (int64_t[]){2}), *t1 = mkints(&f, "t1", 1,
                                                                        (int64_t[]){-2});
    IrNode *sx = mknode(&f, "Slice", 13, 5, (IrValue *[]){x, s1, e1, a1, t1});
    assert_int_equal(op_infer_node(sx, &f.d), 0);
    assert_null(sx->out[0]->init);
    assert_int_equal(sx->out[0]->type.dims[2].value, 3); /* 4, 2, 0 */
    assert_int_equal(op_lower_node(sx, &f.d), 0);
    assert_string_equal(sx->kernel, "rt_k_slice");
    const RtSliceParams *p = sx->params;
    assert_int_equal(p->from_inputs, 0);
    assert_int_equal(p->start[2], 4);
    assert_int_equal(p->step[2], -2);
    fx_free(&f);
}

static void test_computed_shape_inputs(void **state) {
    (void)state;
    Fx f;
    fx_init(&f);
    int64_t dx[] = {3, 1}, d3[] = {3};
    IrValue *x = mkval(&f, "x", IR_DT_FLOAT, 2, dx);
    IrValue *shape = mkval(&f, "shape", IR_DT_INT64, 1, d3); /* computed at run time */
    /* no declared output type: the dims are fresh symbols bound by the kernel at run time
     * (docs/DYNAMIC_SHAPES.md) */
    IrNode *n = mknode(&f, "Expand", 13, 2, (IrValue *[]){x, shape});
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(n->out[0]->type.rank, 3);
    assert_true(n->out[0]->type.dims[0].value < 0);
    assert_non_null(n->out[0]->type.dims[0].sym);
    assert_non_null(strchr(n->out[0]->type.dims[0].sym, '?'));
    /* OneHot is not a shape-computing op: still refused with the reason */
    IrValue *idx = mkval(&f, "idx", IR_DT_INT64, 1, d3);
    IrValue *depth = mkval(&f, "depth", IR_DT_INT64, 1, (int64_t[]){1});
    IrValue *vals = mkval(&f, "vals", IR_DT_FLOAT, 1, (int64_t[]){2});
    IrNode *oh = mknode(&f, "OneHot", 11, 3, (IrValue *[]){idx, depth, vals});
    assert_int_equal(op_infer_node(oh, &f.d), -1);
    assert_non_null(strstr(ir_diag_last(&f.d), "computed at run time"));
    /* with a declared static type, it is kept and lowered to the checking kernel */
    int64_t dy[] = {2, 3, 4};
    n = mknode(&f, "Expand", 13, 2, (IrValue *[]){x, shape});
    assert_int_equal(ir_type_set_tensor(f.g->arena, &n->out[0]->type, IR_DT_FLOAT, 3, dy), 0);
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(n->out[0]->type.dims[2].value, 4);
    assert_int_equal(op_lower_node(n, &f.d), 0);
    assert_string_equal(n->kernel, "rt_k_expand");
    /* a declared type of the wrong element type is not used: inferred type, dynamic dims */
    n = mknode(&f, "Expand", 13, 2, (IrValue *[]){x, shape});
    assert_int_equal(ir_type_set_tensor(f.g->arena, &n->out[0]->type, IR_DT_INT32, 3, dy), 0);
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(n->out[0]->type.dtype, IR_DT_FLOAT);
    assert_true(n->out[0]->type.dims[2].value < 0);
    /* Expand with a constant shape: [3,1] x [2,1,4] -> [2,3,4] */
    IrValue *cs = mkints(&f, "cs", 3, (int64_t[]){2, 1, 4});
    n = mknode(&f, "Expand", 13, 2, (IrValue *[]){x, cs});
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(n->out[0]->type.rank, 3);
    assert_int_equal(n->out[0]->type.dims[0].value, 2);
    assert_int_equal(n->out[0]->type.dims[1].value, 3);
    assert_int_equal(n->out[0]->type.dims[2].value, 4);
    /* Gather with float indices: a type error */
    n = mknode(&f, "Gather", 13, 2, (IrValue *[]){x, x});
    assert_int_equal(op_infer_node(n, &f.d), -1);
    /* Pad-18 with constant pads on axis 0 only */
    IrValue *pads = mkints(&f, "pads", 2, (int64_t[]){1, 2}), *axes = mkints(&f, "axes", 1,
                                                                             (int64_t[]){0});
    n = mknode(&f, "Pad", 18, 4, (IrValue *[]){x, pads, NULL, axes});
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(n->out[0]->type.dims[0].value, 6);
    assert_int_equal(n->out[0]->type.dims[1].value, 1);
    /* Split-18 num_outputs 2 of a dim of 3: uneven parts 2 and 1 */
    IrValue *outs[2] = {ir_value_new(f.g, "p0"), ir_value_new(f.g, "p1")};
    n = ir_node_new(f.g, NULL, "split", "", "Split", 18, 1, (IrValue *[]){x}, 2, outs);
    ir_node_add_attr(n, "num_outputs", IR_ATTR_INT)->i = 2;
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(outs[0]->type.dims[0].value, 2);
    assert_int_equal(outs[1]->type.dims[0].value, 1);
    /* DepthToSpace needs C divisible by blocksize^2 */
    int64_t d4[] = {1, 3, 2, 2};
    IrValue *img = mkval(&f, "img", IR_DT_FLOAT, 4, d4);
    n = mknode(&f, "DepthToSpace", 13, 1, (IrValue *[]){img});
    ir_node_add_attr(n, "blocksize", IR_ATTR_INT)->i = 2;
    assert_int_equal(op_infer_node(n, &f.d), -1);
    fx_free(&f);
}

/* Shape -> Gather -> Unsqueeze -> Concat -> Reshape: the shape chain resolves during inference,
 * so Reshape sees a constant [2, -1] and x [2,3,4] becomes [2,12]. */
static void test_shape_chain(void **state) {
    (void)state;
    Fx f;
    fx_init(&f);
    int64_t dx[] = {2, 3, 4};
    IrValue *x = mkval(&f, "x", IR_DT_FLOAT, 3, dx);
    IrNode *sh = mknode(&f, "Shape", 13, 1, (IrValue *[]){x});
    IrValue *zero = mkval(&f, "zero", IR_DT_INT64, 0, NULL);
    zero->init = ir_tensor_new(f.g->arena, IR_DT_INT64, 0, NULL); /* scalar 0 */
    IrNode *g = mknode(&f, "Gather", 13, 2, (IrValue *[]){sh->out[0], zero});
    IrValue *ax = mkints(&f, "ax", 1, (int64_t[]){0});
    IrNode *u = mknode(&f, "Unsqueeze", 13, 2, (IrValue *[]){g->out[0], ax});
    IrValue *m1 = mkints(&f, "m1", 1, (int64_t[]){-1});
    IrNode *c = mknode(&f, "Concat", 13, 2, (IrValue *[]){u->out[0], m1});
    ir_node_add_attr(c, "axis", IR_ATTR_INT)->i = 0;
    IrNode *r = mknode(&f, "Reshape", 14, 2, (IrValue *[]){x, c->out[0]});
    assert_int_equal(pass_infer(f.g, &f.d), 0);
    assert_non_null(c->out[0]->init);
    assert_i64(c->out[0]->init->data, (int64_t[]){2, -1}, 2);
    assert_int_equal(r->out[0]->type.rank, 2);
    assert_int_equal(r->out[0]->type.dims[0].value, 2);
    assert_int_equal(r->out[0]->type.dims[1].value, 12);
    fx_free(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gather_kernels),
        cmocka_unit_test(test_slice_split),
        cmocka_unit_test(test_expand_tile_range),
        cmocka_unit_test(test_pad),
        cmocka_unit_test(test_onehot_scatter),
        cmocka_unit_test(test_trilu_cumsum_eye_d2s),
        cmocka_unit_test(test_compile_time_values),
        cmocka_unit_test(test_computed_shape_inputs),
        cmocka_unit_test(test_shape_chain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
