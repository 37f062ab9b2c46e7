/* test_ops_vision.c - tests of the vision and rnn families (ops/op_vision.c, runtime/rt_vision.c,
 * ops/op_rnn.c, runtime/rt_rnn.c): each kernel run directly on small inputs and compared with
 * values computed independently:
 *   - GridSample (bilinear/nearest, zeros/border/reflection, align_corners 0/1; bicubic zeros;
 *     3-D bilinear), AffineGrid (2-D, 3-D), Col2Im, LSTM (bidirectional, initial states), GRU
 *     (linear_before_reset 1) and RNN (Relu, reverse): PyTorch 2.x (torch.nn.functional.grid_sample,
 *     affine_grid, fold; torch.nn.LSTM/GRU/RNN with the gates reordered to ONNX's), in double,
 *     by the script quoted at the end of this file;
 *   - CenterCropPad, DeformConv, RoiAlign and NonMaxSuppression: worked out by hand (see the
 *     comments);
 * plus the infer/lower hooks on small nodes (shapes, opset-dependent attribute names, errors)
 * and the kernels' refusal of bad data (indices, row counts, sequence lengths).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ir.h"
#include "ops/op.h"
#include "runtime/onnxc_rt.h"
#include "runtime/rt_params.h"

/* ------------------------------------------------------------------ expected values (torch) */
static const float gs_x[24] = {-3.000000000e+00f, -2.500000000e+00f, -2.000000000e+00f, -1.500000000e+00f, -1.000000000e+00f, -5.000000000e-01f, 0.000000000e+00f, 5.000000000e-01f, 1.000000000e+00f, 1.500000000e+00f, 2.000000000e+00f, 2.500000000e+00f, 3.000000000e+00f, 3.500000000e+00f, 4.000000000e+00f, 4.500000000e+00f, 5.000000000e+00f, 5.500000000e+00f, 6.000000000e+00f, 6.500000000e+00f, 7.000000000e+00f, 7.500000000e+00f, 8.000000000e+00f, 8.500000000e+00f};
static const float gs_grid[12] = {-1.000000000e+00f, -1.000000000e+00f, 2.000000030e-01f, -3.000000119e-01f, 1.299999952e+00f, 8.999999762e-01f, -1.700000048e+00f, 4.000000060e-01f, 5.500000119e-01f, 1.600000024e+00f, 0.000000000e+00f, 0.000000000e+00f};
static const double gs_bilinear_zeros_0[12] = {-0.75, -0.950000033, 0, 0, 0, -0.25, 0.75, 5.04999997, 0, 0, 0, 5.75};
static const double gs_bilinear_zeros_1[12] = {-3, -0.700000022, 1.26500014, 0, 0.864999952, -0.25, 3, 5.29999998, 4.56500057, 0, 3.26499981, 5.75};
static const double gs_bilinear_border_0[12] = {-3, -0.950000033, 2.5, 0.200000018, 2.30000001, -0.25, 3, 5.04999997, 8.5, 6.20000002, 8.30000001, 5.75};
static const double gs_bilinear_border_1[12] = {-3, -0.700000022, 2.29999995, -0.199999988, 2.16250001, -0.25, 3, 5.29999998, 8.29999995, 5.80000001, 8.16250001, 5.75};
static const double gs_bilinear_reflection_0[12] = {-3, -0.950000033, 2.45000005, 0.650000066, 1.49999994, -0.25, 3, 5.04999997, 8.45000005, 6.65000007, 7.49999994, 5.75};
static const double gs_bilinear_reflection_1[12] = {-3, -0.700000022, 2.07499999, 0.325000048, 0.962499961, -0.25, 3, 5.29999998, 8.07499999, 6.32500005, 6.96249996, 5.75};
static const double gs_nearest_zeros_0[12] = {-3, 0, 0, 0, 0, 0, 3, 6, 0, 0, 0, 6};
static const double gs_nearest_zeros_1[12] = {-3, 0, 2.5, 0, 0, 0, 3, 6, 8.5, 0, 0, 6};
static const double gs_nearest_border_0[12] = {-3, 0, 2.5, 1, 2.5, 0, 3, 6, 8.5, 7, 8.5, 6};
static const double gs_nearest_border_1[12] = {-3, 0, 2.5, -1, 2, 0, 3, 6, 8.5, 5, 8, 6};
static const double gs_nearest_reflection_0[12] = {-3, 0, 2.5, 1.5, 2.5, 0, 3, 6, 8.5, 7.5, 8.5, 6};
static const double gs_nearest_reflection_1[12] = {-3, 0, 2.5, -0.5, 0, 0, 3, 6, 8.5, 5.5, 6, 6};
static const double gs_bicubic_zeros_0[12] = {-0.8671875, -1.33255516, -0.114785147, -0.00321299432, -0.282095993, -0.25, 0.6328125, 5.16863236, -0.357929263, -0.0480869135, -1.00007997, 5.75};
static const double gs_bicubic_zeros_1[12] = {-3, -1.00285903, 1.44538168, -0.00216600323, 1.06043995, -0.25, 3, 5.28064099, 4.98523757, -0.219849282, 3.51292414, 5.75};
static const float gs3_x[12] = {0.000000000e+00f, 1.000000000e+00f, 2.000000000e+00f, 3.000000000e+00f, 4.000000000e+00f, 5.000000000e+00f, 6.000000000e+00f, 7.000000000e+00f, 8.000000000e+00f, 9.000000000e+00f, 1.000000000e+01f, 1.100000000e+01f};
static const float gs3_grid[12] = {1.000000015e-01f, -2.000000030e-01f, 3.000000119e-01f, -8.999999762e-01f, 8.000000119e-01f, -5.000000000e-01f, 1.200000048e+00f, 0.000000000e+00f, 6.999999881e-01f, 4.000000060e-01f, 4.000000060e-01f, 4.000000060e-01f};
static const double gs3_bilinear_zeros_0[4] = {6.80000006, 1.92000003, 2.15999969, 9.50000006};
static const double gs3_bilinear_border_1[4] = {6.05000003, 5.15000004, 8.09999996, 7.70000003};
static const float ag_theta[6] = {8.999999762e-01f, -2.000000030e-01f, 1.000000015e-01f, 3.000000119e-01f, 1.100000024e+00f, -4.000000060e-01f};
static const double ag_2d_0[24] = {-0.441666667, -1.35833333, 0.00833333333, -1.20833333, 0.458333333, -1.05833333, 0.908333333, -0.908333333, -0.575, -0.625, -0.125, -0.475, 0.325, -0.325, 0.775, -0.175, -0.708333333, 0.108333333, -0.258333333, 0.258333333, 0.191666667, 0.408333333, 0.641666667, 0.558333333};
static const double ag_2d_1[24] = {-0.6, -1.8, -2.77555756e-17, -1.6, 0.6, -1.4, 1.2, -1.2, -0.8, -0.7, -0.2, -0.5, 0.4, -0.3, 1, -0.1, -1, 0.4, -0.4, 0.6, 0.2, 0.8, 0.8, 1};
static const float ag_theta3[12] = {8.999999762e-01f, -2.000000030e-01f, 1.000000015e-01f, 0.000000000e+00f, 3.000000119e-01f, 1.100000024e+00f, -4.000000060e-01f, 2.000000030e-01f, 1.000000015e-01f, 0.000000000e+00f, 8.000000119e-01f, -3.000000119e-01f};
static const double ag_3d_1[36] = {-0.8, -0.8, -1.2, 0.1, -0.5, -1.1, 1, -0.2, -1, -1.2, 1.4, -1.2, -0.3, 1.7, -1.1, 0.6, 2, -1, -0.6, -1.6, 0.4, 0.3, -1.3, 0.5, 1.2, -1, 0.6, -1, 0.6, 0.4, -0.1, 0.9, 0.5, 0.8, 1.2, 0.6};
static const float c2i_in[72] = {0.000000000e+00f, 2.500000000e-01f, 5.000000000e-01f, 7.500000000e-01f, 1.000000000e+00f, 1.250000000e+00f, 1.500000000e+00f, 1.750000000e+00f, 2.000000000e+00f, 2.250000000e+00f, 2.500000000e+00f, 2.750000000e+00f, 3.000000000e+00f, 3.250000000e+00f, 3.500000000e+00f, 3.750000000e+00f, 4.000000000e+00f, 4.250000000e+00f, 4.500000000e+00f, 4.750000000e+00f, 5.000000000e+00f, 5.250000000e+00f, 5.500000000e+00f, 5.750000000e+00f, 6.000000000e+00f, 6.250000000e+00f, 6.500000000e+00f, 6.750000000e+00f, 7.000000000e+00f, 7.250000000e+00f, 7.500000000e+00f, 7.750000000e+00f, 8.000000000e+00f, 8.250000000e+00f, 8.500000000e+00f, 8.750000000e+00f, 9.000000000e+00f, 9.250000000e+00f, 9.500000000e+00f, 9.750000000e+00f, 1.000000000e+01f, 1.025000000e+01f, 1.050000000e+01f, 1.075000000e+01f, 1.100000000e+01f, 1.125000000e+01f, 1.150000000e+01f, 1.175000000e+01f, 1.200000000e+01f, 1.225000000e+01f, 1.250000000e+01f, 1.275000000e+01f, 1.300000000e+01f, 1.325000000e+01f, 1.350000000e+01f, 1.375000000e+01f, 1.400000000e+01f, 1.425000000e+01f, 1.450000000e+01f, 1.475000000e+01f, 1.500000000e+01f, 1.525000000e+01f, 1.550000000e+01f, 1.575000000e+01f, 1.600000000e+01f, 1.625000000e+01f, 1.650000000e+01f, 1.675000000e+01f, 1.700000000e+01f, 1.725000000e+01f, 1.750000000e+01f, 1.775000000e+01f};
static const double c2i_out[40] = {4.5, 4.75, 11.75, 7, 7.25, 0.75, 1, 4.25, 3.25, 3.5, 5.25, 5.5, 13.25, 7.75, 8, 1.5, 1.75, 5.75, 4, 4.25, 13.5, 13.75, 29.75, 16, 16.25, 9.75, 10, 22.25, 12.25, 12.5, 14.25, 14.5, 31.25, 16.75, 17, 10.5, 10.75, 23.75, 13, 13.25};
static const float lstm_x[12] = {6.613521576e-01f, 2.669241130e-01f, 6.167725846e-02f, 6.213173270e-01f, -4.519059658e-01f, -1.661302298e-01f, -1.522768497e+00f, 3.816839159e-01f, -1.027608633e+00f, -5.630527735e-01f, -8.922905326e-01f, -5.825017765e-02f};
static const float lstm_w[48] = {-1.850110292e-01f, 2.764445543e-02f, 3.441745043e-01f, 3.138110340e-01f, -5.643892288e-01f, 3.579112589e-01f, 4.329692721e-01f, 6.836782675e-03f, -3.041581810e-01f, 2.967666090e-01f, -3.064691424e-01f, 1.698014289e-01f, 1.612908095e-01f, 5.476487279e-01f, 3.810856938e-01f, -5.260455608e-01f, -5.489494801e-01f, -2.784745693e-01f, 5.069780350e-01f, -9.616865218e-02f, 2.470825016e-01f, -2.683012486e-01f, 5.665064454e-01f, -2.442760020e-01f, 3.957493901e-01f, 1.196451038e-01f, 1.856889725e-01f, 4.312567413e-01f, 5.474519730e-01f, -3.831186593e-01f, -5.428338051e-01f, -1.227098331e-01f, 3.326524198e-01f, 5.359975100e-01f, -3.585568964e-01f, 1.252914816e-01f, 7.218550891e-02f, 4.308518469e-01f, 4.182527959e-01f, 3.586722016e-01f, -4.178392887e-01f, -4.157523513e-01f, -3.491650522e-01f, 7.253155857e-02f, 5.754247308e-01f, -3.646980822e-01f, 3.076589406e-01f, -3.195565045e-01f};
static const float lstm_r[72] = {-1.667140424e-01f, -6.329745054e-02f, -5.550577044e-01f, -2.752700448e-01f, 3.132898808e-01f, -1.403407305e-01f, 5.750694275e-01f, 4.627972841e-01f, -2.703362890e-02f, 1.269527972e-01f, 2.099242210e-01f, 2.861987054e-01f, -5.346910357e-01f, 2.906101048e-01f, -4.059483707e-01f, -4.356159568e-01f, 3.511120006e-02f, -9.838462621e-02f, -3.853715360e-01f, 3.515844643e-01f, 1.791847497e-01f, -3.732106090e-01f, 3.750147521e-01f, 3.505103886e-01f, 5.120490193e-01f, -3.236392438e-01f, -9.503529966e-02f, -1.118435245e-02f, 8.432632685e-02f, -4.381616712e-01f, -4.097006619e-01f, 3.140811622e-01f, -1.353839785e-01f, 2.820202410e-01f, 3.291470185e-02f, 1.895699650e-01f, 4.981725514e-01f, 3.825832009e-01f, 3.598180115e-01f, 4.102838933e-01f, 3.651835024e-01f, 1.491274834e-01f, -3.948037326e-01f, -4.848347902e-01f, -2.645537853e-01f, -1.886671185e-01f, -4.314429760e-01f, 2.221354544e-01f, 1.848499775e-01f, 3.739443719e-01f, -2.987626791e-01f, 1.251781881e-01f, -2.101847231e-01f, -1.297159940e-01f, -6.723006815e-02f, -3.538881242e-01f, 2.112257034e-01f, 1.786828786e-01f, -1.307324767e-01f, 2.218992412e-01f, 1.865907907e-01f, 3.524948359e-01f, 3.888128698e-01f, -1.955212355e-01f, 5.640860200e-01f, -6.674616039e-02f, -1.983544417e-02f, -5.449494123e-01f, -3.715919852e-01f, -3.372900188e-01f, -2.469459474e-01f, 4.104784727e-01f};
static const float lstm_b[48] = {3.390916884e-01f, -3.343641162e-01f, -5.132539272e-01f, 1.386775672e-01f, -3.865698576e-01f, -2.739366889e-01f, 4.201774895e-01f, -8.561054617e-02f, 3.247348070e-01f, 1.856091917e-01f, -4.329406917e-01f, 1.159886792e-01f, 1.968623698e-01f, 1.034164578e-01f, -2.455889881e-01f, -4.909957051e-01f, 5.541920066e-01f, 3.014736436e-02f, -1.747730970e-01f, 5.287851095e-01f, -1.068220809e-01f, 3.255052567e-01f, 2.499945015e-01f, -3.732033372e-01f, -4.601010382e-01f, -2.631337047e-01f, -1.768179834e-01f, 1.838487759e-02f, -3.994059563e-01f, 4.512048066e-01f, 2.468953580e-01f, 1.054757908e-01f, 1.426150054e-01f, 5.762562752e-01f, 5.627014637e-01f, 3.937800825e-01f, -1.443741769e-01f, -4.667608812e-02f, -4.973866343e-01f, -3.121822178e-01f, 2.065826654e-01f, -2.222369015e-01f, -1.140431911e-01f, -3.723838925e-01f, 5.305305719e-01f, -4.991314411e-01f, -4.500345588e-01f, -1.960467175e-02f};
static const float lstm_h0[12] = {1.538142085e+00f, 1.467315435e+00f, 1.595117211e+00f, -1.527890444e+00f, 1.015629649e+00f, -2.019562125e-01f, -1.286470771e+00f, 8.231099844e-01f, -6.100623608e-01f, -1.295988917e+00f, -9.434162378e-01f, 6.683593392e-01f};
static const float lstm_c0[12] = {1.162776351e+00f, -3.228881657e-01f, 1.878151655e+00f, -5.666264296e-01f, 4.016321898e-01f, -1.152847633e-01f, 3.170481622e-01f, 5.628537536e-01f, 8.661766052e-01f, -3.527792692e-01f, 3.482296467e-01f, 1.137078762e+00f};
static const double lstm_y[36] = {0.489859968, -0.113969639, 0.205131412, -0.0216905028, 0.485032618, -0.133523509, 0.00908749178, 0.0476816259, 0.264899909, 0.00829631556, -0.121882074, 0.324047357, 0.184497923, -0.183297411, 0.269866407, -0.0467745773, 0.0951079428, -0.336547822, 0.0966470987, -0.033116661, 0.331534624, 0.0140693448, -0.094088383, 0.475009441, 0.0512321517, -0.177046224, 0.164792851, 0.0202910826, -0.0267421305, -0.326021671, 0.129203483, 0.000489790051, 0.352475643, -0.157520741, 0.0216707978, 0.496411532};
static const double lstm_yh[12] = {0.0512321517, -0.177046224, 0.164792851, 0.0202910826, -0.0267421305, -0.326021671, 0.00908749178, 0.0476816259, 0.264899909, 0.00829631556, -0.121882074, 0.324047357};
static const double lstm_yc[12] = {0.159842119, -0.359968543, 0.369938046, 0.0665218532, -0.04128135, -0.738108397, 0.0259164348, 0.0921032876, 0.589376628, 0.0190590508, -0.250570953, 0.659119487};
static const float gru_w[18] = {-5.426701307e-01f, -4.080486596e-01f, -3.843359053e-01f, 4.754654467e-01f, 5.089376569e-01f, -1.961066723e-01f, -4.742195606e-01f, -5.057381466e-02f, 2.425018102e-01f, -1.672129706e-02f, -2.927613556e-01f, 1.319963206e-02f, 2.589436062e-02f, 2.574854791e-01f, 6.917659193e-02f, -2.891096175e-01f, 3.329800367e-01f, 3.549169302e-01f};
static const float gru_r[27] = {-4.310349822e-01f, 5.334303975e-01f, -3.711664379e-01f, 1.632907987e-01f, 1.758032888e-01f, 1.373273432e-01f, 4.788671434e-01f, -2.398021370e-01f, -2.437401265e-01f, -3.346062452e-02f, -7.107328624e-02f, 5.246642828e-01f, 5.046784878e-01f, -3.273450136e-01f, 5.648723245e-01f, 1.428783238e-01f, -3.835111856e-01f, 3.160487711e-01f, -5.003152490e-01f, -2.369428426e-02f, -2.735026777e-01f, 2.313397638e-02f, -1.183559299e-01f, 1.915611625e-01f, 4.994520247e-01f, 1.703634560e-01f, -1.859877408e-01f};
static const float gru_b[18] = {-1.093733087e-01f, 1.165410727e-01f, 2.135683224e-02f, -2.833035588e-01f, -5.035377741e-01f, 4.858095646e-01f, -3.679263294e-01f, 3.251529336e-01f, 3.235578835e-01f, 7.950723171e-03f, -3.298617005e-01f, -3.221373260e-01f, 2.907533757e-02f, -3.281017542e-01f, -2.453199476e-01f, -8.612164110e-02f, -1.662482321e-01f, 1.417283863e-01f};
static const double gru_y[18] = {-0.193571538, 0.136321962, 0.308229893, -0.141843051, 0.0479985252, 0.338471651, -0.298080504, 0.219519854, 0.182550862, -0.223677874, 0.0600862354, 0.0425944291, -0.354728371, 0.293017566, -0.105982184, -0.281668246, 0.143963903, 0.0305813514};
static const float rnn_w[6] = {-1.517539322e-01f, -7.653535157e-02f, -2.203639448e-01f, -5.276176333e-01f, 5.035226941e-01f, 1.101482138e-01f};
static const float rnn_r[9] = {5.162807703e-01f, -9.304638207e-02f, -1.450955421e-01f, -5.427705050e-01f, -2.191683054e-01f, 3.786101043e-01f, -5.654831529e-01f, -2.019371539e-01f, 3.517559767e-01f};
static const float rnn_b[6] = {3.327531219e-01f, 2.131838650e-01f, -1.142836660e-01f, -4.371445626e-02f, -1.096427590e-01f, -2.128346413e-01f};
static const double rnn_rev_y[18] = {0.459413588, 0, 0, 0.58400178, 0, 0, 0.56396997, 0, 0, 0.681558728, 0, 0, 0.488075733, 0.627065599, 0, 0.428905457, 0.33090359, 0};
static const double rnn_rev_yh[6] = {0.459413588, 0, 0, 0.58400178, 0, 0};

/* ------------------------------------------------------------------ helpers */

static RtTensor tn(const void *data, int32_t dtype, int32_t rank, const int64_t *dims) {
    RtTensor t = {(void *)data, dims, rank, dtype};
    return t;
}

static const RtTensor absent = {NULL, NULL, -1, 0};

/* Runs kernel `name`; returns its status (the message printed on failure when `quiet` is 0). */
static int run_k(const char *name, const void *p, const RtTensor *in, int nin, RtTensor *out,
                 int nout, int quiet) {
    RtKernelFn f = rt_kernel_find(name);
    assert_non_null(f);
    RtCtx ctx;
    rt_ctx_init(&ctx);
    int st = f(&ctx, p, in, nin, out, nout);
    if (st && !quiet)
        print_message("%s: %s\n", name, ctx.errmsg);
    return st;
}

/* Asserts |got[i] - want[i]| <= tol (1 + |want[i]|) for n floats, printing the worst. */
static void near_f(const char *what, const float *got, const double *want, int n, double tol) {
    double worst = 0.0;
    int wi = 0;
    for (int i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]) / (1.0 + fabs(want[i]));
        if (!(e <= worst)) {
            worst = e;
            wi = i;
        }
    }
    if (!(worst <= tol)) {
        print_message("%s: element %d: got %.9g, want %.9g (relative error %g)\n", what, wi,
                      (double)got[wi], want[wi], worst);
        fail();
    }
}

/* ------------------------------------------------------------------ GridSample */

static void grid_sample_2d(int mode, int pad, int ac, const double *want, const char *what) {
    RtGridSampleParams p = {mode, pad, ac, 2};
    int64_t dx[4] = {1, 2, 3, 4}, dg[4] = {1, 2, 3, 2}, dy[4] = {1, 2, 2, 3};
    float y[12];
    RtTensor in[2] = {tn(gs_x, IR_DT_FLOAT, 4, dx), tn(gs_grid, IR_DT_FLOAT, 4, dg)};
    RtTensor out = tn(y, IR_DT_FLOAT, 4, dy);
    assert_int_equal(run_k("rt_k_grid_sample", &p, in, 2, &out, 1, 0), 0);
    near_f(what, y, want, 12, 1e-6);
}

static void test_grid_sample(void **state) {
    (void)state;
    grid_sample_2d(RT_GS_LINEAR, RT_GS_ZEROS, 0, gs_bilinear_zeros_0, "bilinear zeros 0");
    grid_sample_2d(RT_GS_LINEAR, RT_GS_ZEROS, 1, gs_bilinear_zeros_1, "bilinear zeros 1");
    grid_sample_2d(RT_GS_LINEAR, RT_GS_BORDER, 0, gs_bilinear_border_0, "bilinear border 0");
    grid_sample_2d(RT_GS_LINEAR, RT_GS_BORDER, 1, gs_bilinear_border_1, "bilinear border 1");
    grid_sample_2d(RT_GS_LINEAR, RT_GS_REFLECTION, 0, gs_bilinear_reflection_0, "bilinear refl 0");
    grid_sample_2d(RT_GS_LINEAR, RT_GS_REFLECTION, 1, gs_bilinear_reflection_1, "bilinear refl 1");
    grid_sample_2d(RT_GS_NEAREST, RT_GS_ZEROS, 0, gs_nearest_zeros_0, "nearest zeros 0");
    grid_sample_2d(RT_GS_NEAREST, RT_GS_ZEROS, 1, gs_nearest_zeros_1, "nearest zeros 1");
    grid_sample_2d(RT_GS_NEAREST, RT_GS_BORDER, 0, gs_nearest_border_0, "nearest border 0");
    grid_sample_2d(RT_GS_NEAREST, RT_GS_BORDER, 1, gs_nearest_border_1, "nearest border 1");
    grid_sample_2d(RT_GS_NEAREST, RT_GS_REFLECTION, 0, gs_nearest_reflection_0, "nearest refl 0");
    grid_sample_2d(RT_GS_NEAREST, RT_GS_REFLECTION, 1, gs_nearest_reflection_1, "nearest refl 1");
    grid_sample_2d(RT_GS_CUBIC, RT_GS_ZEROS, 0, gs_bicubic_zeros_0, "bicubic zeros 0");
    grid_sample_2d(RT_GS_CUBIC, RT_GS_ZEROS, 1, gs_bicubic_zeros_1, "bicubic zeros 1");
    /* 3-D (volumetric) bilinear */
    int64_t dx[5] = {1, 1, 2, 3, 2}, dg[5] = {1, 1, 2, 2, 3}, dy[5] = {1, 1, 1, 2, 2};
    float y[4];
    RtTensor in[2] = {tn(gs3_x, IR_DT_FLOAT, 5, dx), tn(gs3_grid, IR_DT_FLOAT, 5, dg)};
    RtTensor out = tn(y, IR_DT_FLOAT, 5, dy);
    RtGridSampleParams p = {RT_GS_LINEAR, RT_GS_ZEROS, 0, 3};
    assert_int_equal(run_k("rt_k_grid_sample", &p, in, 2, &out, 1, 0), 0);
    near_f("3-D zeros 0", y, gs3_bilinear_zeros_0, 4, 1e-6);
    p = (RtGridSampleParams){RT_GS_LINEAR, RT_GS_BORDER, 1, 3};
    assert_int_equal(run_k("rt_k_grid_sample", &p, in, 2, &out, 1, 0), 0);
    near_f("3-D border 1", y, gs3_bilinear_border_1, 4, 1e-6);
    /* grid of the wrong last dim is refused */
    int64_t bad[5] = {1, 1, 2, 2, 2};
    in[1] = tn(gs3_grid, IR_DT_FLOAT, 5, bad);
    assert_int_not_equal(run_k("rt_k_grid_sample", &p, in, 2, &out, 1, 1), 0);
    /* NaN and huge coordinates do not crash (zeros padding gives 0) */
    const float g[4] = {NAN, 0.f, 1e30f, -1e30f};
    int64_t dx2[4] = {1, 1, 2, 2}, dg2[4] = {1, 1, 2, 2}, dy2[4] = {1, 1, 1, 2};
    const float x2[4] = {1, 2, 3, 4};
    float y2[2];
    RtTensor in2[2] = {tn(x2, IR_DT_FLOAT, 4, dx2), tn(g, IR_DT_FLOAT, 4, dg2)};
    RtTensor out2 = tn(y2, IR_DT_FLOAT, 4, dy2);
    for (int pad = 0; pad < 3; pad++) {
        p = (RtGridSampleParams){RT_GS_CUBIC, pad, 0, 2};
        assert_int_equal(run_k("rt_k_grid_sample", &p, in2, 2, &out2, 1, 0), 0);
    }
    p = (RtGridSampleParams){RT_GS_LINEAR, RT_GS_ZEROS, 0, 2};
    assert_int_equal(run_k("rt_k_grid_sample", &p, in2, 2, &out2, 1, 0), 0);
    assert_true(y2[0] == 0.0f && y2[1] == 0.0f);
}

/* ------------------------------------------------------------------ AffineGrid, Col2Im */

static void test_affine_grid(void **state) {
    (void)state;
    int64_t dt[3] = {1, 2, 3}, ds[1] = {4}, dy[4] = {1, 3, 4, 2};
    const int64_t size[4] = {1, 1, 3, 4};
    float y[24];
    RtTensor in[2] = {tn(ag_theta, IR_DT_FLOAT, 3, dt), tn(size, IR_DT_INT64, 1, ds)};
    RtTensor out = tn(y, IR_DT_FLOAT, 4, dy);
    for (int ac = 0; ac < 2; ac++) {
        RtAffineGridParams p = {ac, 2};
        assert_int_equal(run_k("rt_k_affine_grid", &p, in, 2, &out, 1, 0), 0);
        near_f(ac ? "affine 2-D ac" : "affine 2-D", y, ac ? ag_2d_1 : ag_2d_0, 24, 1e-6);
    }
    /* 3-D, align_corners */
    int64_t dt3[3] = {1, 3, 4}, ds3[1] = {5}, dy3[5] = {1, 2, 2, 3, 3};
    const int64_t size3[5] = {1, 1, 2, 2, 3};
    float y3[36];
    RtTensor in3[2] = {tn(ag_theta3, IR_DT_FLOAT, 3, dt3), tn(size3, IR_DT_INT64, 1, ds3)};
    RtTensor out3 = tn(y3, IR_DT_FLOAT, 5, dy3);
    RtAffineGridParams p3 = {1, 3};
    assert_int_equal(run_k("rt_k_affine_grid", &p3, in3, 2, &out3, 1, 0), 0);
    near_f("affine 3-D", y3, ag_3d_1, 36, 1e-6);
    /* size disagreeing with the output's shape is refused */
    const int64_t wrong[4] = {1, 1, 4, 4};
    in[1] = tn(wrong, IR_DT_INT64, 1, ds);
    RtAffineGridParams p = {0, 2};
    assert_int_not_equal(run_k("rt_k_affine_grid", &p, in, 2, &out, 1, 1), 0);
}

static void test_col2im(void **state) {
    (void)state;
    /* fold of [1, 2 * 2 * 2, 9] into 4 x 5, block 2 x 2, dilations (1, 2), pads (1, 0, 1, 0),
     * strides (2, 1) */
    RtCol2ImParams p = {.nspatial = 2, .dilations = {1, 2}, .strides = {2, 1}, .pads = {1, 0, 1, 0}};
    int64_t dx[3] = {1, 8, 9}, d2[1] = {2}, dy[4] = {1, 2, 4, 5};
    const int64_t img[2] = {4, 5}, blk[2] = {2, 2};
    float y[40];
    RtTensor in[3] = {tn(c2i_in, IR_DT_FLOAT, 3, dx), tn(img, IR_DT_INT64, 1, d2),
                      tn(blk, IR_DT_INT64, 1, d2)};
    RtTensor out = tn(y, IR_DT_FLOAT, 4, dy);
    assert_int_equal(run_k("rt_k_col2im", &p, in, 3, &out, 1, 0), 0);
    near_f("col2im", y, c2i_out, 40, 1e-6);
    /* a block shape that does not match L is refused */
    const int64_t blk2[2] = {3, 2};
    in[2] = tn(blk2, IR_DT_INT64, 1, d2);
    assert_int_not_equal(run_k("rt_k_col2im", &p, in, 3, &out, 1, 1), 0);
}

/* ------------------------------------------------------------------ CenterCropPad */

static void test_center_crop_pad(void **state) {
    (void)state;
    /* x [3, 4] = 0..11; axis 0 padded to 6 (1 before, 2 after), axis 1 cropped to 1 (start
     * (4 - 1) / 2 = 1) */
    const int32_t x[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    const int64_t shape[2] = {6, 1};
    int64_t dx[2] = {3, 4}, ds[1] = {2}, dy[2] = {6, 1};
    int32_t y[6];
    RtCenterCropPadParams p = {.naxes = 2, .axes = {0, 1}};
    RtTensor in[2] = {tn(x, IR_DT_INT32, 2, dx), tn(shape, IR_DT_INT64, 1, ds)};
    RtTensor out = tn(y, IR_DT_INT32, 2, dy);
    assert_int_equal(run_k("rt_k_center_crop_pad", &p, in, 2, &out, 1, 0), 0);
    const int32_t want[6] = {0, 1, 5, 9, 0, 0};
    assert_memory_equal(y, want, sizeof want);
    /* only axis 1 (shape [3]): pad 4 -> 7 (1 before, 2 after) */
    const int64_t s1[1] = {7};
    int64_t d1[1] = {1}, dy2[2] = {3, 7};
    int32_t y2[21];
    RtCenterCropPadParams p1 = {.naxes = 1, .axes = {1}};
    in[1] = tn(s1, IR_DT_INT64, 1, d1);
    out = tn(y2, IR_DT_INT32, 2, dy2);
    assert_int_equal(run_k("rt_k_center_crop_pad", &p1, in, 2, &out, 1, 0), 0);
    const int32_t want2[21] = {0, 0, 1, 2, 3, 0, 0, 0, 4, 5, 6, 7, 0, 0, 0, 8, 9, 10, 11, 0, 0};
    assert_memory_equal(y2, want2, sizeof want2);
    /* the shape input disagreeing with the output is refused */
    const int64_t s2[1] = {6};
    in[1] = tn(s2, IR_DT_INT64, 1, d1);
    assert_int_not_equal(run_k("rt_k_center_crop_pad", &p1, in, 2, &out, 1, 1), 0);
}

/* ------------------------------------------------------------------ DeformConv */

static void test_deform_conv(void **state) {
    (void)state;
    /* X [1, 1, 3, 3] = 1..9, W = [[2]] (1x1 kernel), every offset (0.5, 0.5): each output is
     * 2 * the mean of the 2x2 neighbourhood at (i, j) (zero outside), times the mask, + bias. */
    const float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[1] = {2}, b[1] = {0.25f};
    float off[18], mask[9], y[9];
    for (int i = 0; i < 18; i++)
        off[i] = 0.5f;
    for (int i = 0; i < 9; i++)
        mask[i] = i == 4 ? 0.5f : 1.0f;
    int64_t dx[4] = {1, 1, 3, 3}, dw[4] = {1, 1, 1, 1}, dof[4] = {1, 2, 3, 3}, db[1] = {1};
    int64_t dm[4] = {1, 1, 3, 3};
    RtDeformConvParams p = {.group = 1, .offset_group = 1, .kernel = {1, 1}, .strides = {1, 1},
                            .dilations = {1, 1}};
    RtTensor in[5] = {tn(x, IR_DT_FLOAT, 4, dx), tn(w, IR_DT_FLOAT, 4, dw),
                      tn(off, IR_DT_FLOAT, 4, dof), tn(b, IR_DT_FLOAT, 1, db),
                      tn(mask, IR_DT_FLOAT, 4, dm)};
    RtTensor out = tn(y, IR_DT_FLOAT, 4, dx);
    assert_int_equal(run_k("rt_k_deform_conv", &p, in, 5, &out, 1, 0), 0);
    const double want[9] = {
        2 * (1 + 2 + 4 + 5) / 4.0 + 0.25, 2 * (2 + 3 + 5 + 6) / 4.0 + 0.25, 2 * (3 + 6) / 4.0 + 0.25,
        2 * (4 + 5 + 7 + 8) / 4.0 + 0.25, 0.5 * 2 * (5 + 6 + 8 + 9) / 4.0 + 0.25,
        2 * (6 + 9) / 4.0 + 0.25,         2 * (7 + 8) / 4.0 + 0.25, 2 * (8 + 9) / 4.0 + 0.25,
        2 * 9 / 4.0 + 0.25};
    near_f("deform conv", y, want, 9, 1e-6);
    /* zero offsets, 2x2 kernel of ones, no bias/mask: an ordinary convolution (sums of 2x2) */
    const float w4[4] = {1, 1, 1, 1};
    float off0[32] = {0}, y4[4];
    int64_t dw4[4] = {1, 1, 2, 2}, dof4[4] = {1, 8, 2, 2}, dy4[4] = {1, 1, 2, 2};
    RtDeformConvParams p4 = {.group = 1, .offset_group = 1, .kernel = {2, 2}, .strides = {1, 1},
                             .dilations = {1, 1}};
    RtTensor in4[3] = {tn(x, IR_DT_FLOAT, 4, dx), tn(w4, IR_DT_FLOAT, 4, dw4),
                       tn(off0, IR_DT_FLOAT, 4, dof4)};
    RtTensor out4 = tn(y4, IR_DT_FLOAT, 4, dy4);
    assert_int_equal(run_k("rt_k_deform_conv", &p4, in4, 3, &out4, 1, 0), 0);
    const double want4[4] = {12, 16, 24, 28};
    near_f("deform conv zero offsets", y4, want4, 4, 1e-6);
}

/* ------------------------------------------------------------------ RoiAlign */

static void test_roi_align(void **state) {
    (void)state;
    /* X [1, 1, 6, 6] with X[h][w] = 10 h + w: bilinear interpolation of a linear function is
     * exact, so each bin's average is the function at the mean of its sample points.
     * roi (0, 0, 4, 4), 2x2 output, sampling_ratio 2:
     *   half_pixel: start -0.5, bins of 2: samples at 0 and 1 per axis, so bin (0, 0) =
     *     mean(0, 1, 10, 11) = 5.5, bin (0, 1) (x = 2, 3) = 7.5, (1, 0) = 25.5, (1, 1) = 27.5;
     *   output_half_pixel: start 0, samples at 0.5 and 1.5: bin (0, 0) = f(1, 1) = 11, ...;
     *   max mode (output_half_pixel): the maximum over samples of max_k(w_k * v_k); every
     *     sample sits at a pixel corner's centre, its 4 corners weigh 0.25, so the maximum is
     *     0.25 * the largest corner of the bin's last sample (see below). */
    float x[36], y[4];
    for (int h = 0; h < 6; h++)
        for (int w = 0; w < 6; w++)
            x[h * 6 + w] = (float)(10 * h + w);
    const float rois[4] = {0, 0, 4, 4};
    const int64_t bi[1] = {0};
    int64_t dx[4] = {1, 1, 6, 6}, dr[2] = {1, 4}, db[1] = {1}, dy[4] = {1, 1, 2, 2};
    RtTensor in[3] = {tn(x, IR_DT_FLOAT, 4, dx), tn(rois, IR_DT_FLOAT, 2, dr),
                      tn(bi, IR_DT_INT64, 1, db)};
    RtTensor out = tn(y, IR_DT_FLOAT, 4, dy);
    RtRoiAlignParams p = {.mode_max = 0, .half_pixel = 1, .output_height = 2, .output_width = 2,
                          .sampling_ratio = 2, .spatial_scale = 1.0};
    assert_int_equal(run_k("rt_k_roi_align", &p, in, 3, &out, 1, 0), 0);
    const double want_hp[4] = {5.5, 7.5, 25.5, 27.5};
    near_f("roi align half_pixel", y, want_hp, 4, 1e-6);
    p.half_pixel = 0;
    assert_int_equal(run_k("rt_k_roi_align", &p, in, 3, &out, 1, 0), 0);
    const double want_ohp[4] = {11, 13, 31, 33};
    near_f("roi align output_half_pixel", y, want_ohp, 4, 1e-6);
    p.mode_max = 1;
    assert_int_equal(run_k("rt_k_roi_align", &p, in, 3, &out, 1, 0), 0);
    /* bin (0, 0): samples (0.5|1.5, 0.5|1.5); at (1.5, 1.5) the corners (1,1),(1,2),(2,1),(2,2)
     * weigh 0.25: max 0.25 * 22 = 5.5; bin (1, 1): at (3.5, 3.5): 0.25 * 44 = 11 */
    const double want_max[4] = {5.5, 0.25 * 24, 0.25 * 42, 11};
    near_f("roi align max", y, want_max, 4, 1e-6);
    /* spatial_scale 0.5 maps the roi (0, 0, 8, 8) to (0, 0, 4, 4): the output_half_pixel result
     * again */
    p = (RtRoiAlignParams){0, 0, 2, 2, 2, 0.5};
    const float rois2[4] = {0, 0, 8, 8};
    in[1] = tn(rois2, IR_DT_FLOAT, 2, dr);
    assert_int_equal(run_k("rt_k_roi_align", &p, in, 3, &out, 1, 0), 0);
    near_f("roi align scale", y, want_ohp, 4, 1e-6);
    /* a batch index outside X is refused */
    const int64_t bad[1] = {1};
    in[2] = tn(bad, IR_DT_INT64, 1, db);
    assert_int_not_equal(run_k("rt_k_roi_align", &p, in, 3, &out, 1, 1), 0);
}

/* ------------------------------------------------------------------ NonMaxSuppression */

static void test_nms(void **state) {
    (void)state;
    /* The specification's suppress_by_IOU example: six boxes, scores .9 .75 .6 .95 .5 .3,
     * max 3, IoU 0.5: boxes 3, 0 and 5 survive (1 and 2 overlap 0 by more than 0.5, 4 overlaps 3). */
    const float boxes[24] = {0, 0,  1, 1,    0, 0.1f,  1, 1.1f,  0, -0.1f, 1, 0.9f,
                             0, 10, 1, 11,   0, 10.1f, 1, 11.1f, 0, 100,   1, 101};
    const float scores[6] = {0.9f, 0.75f, 0.6f, 0.95f, 0.5f, 0.3f};
    const int64_t maxo[1] = {3};
    const float iou[1] = {0.5f}, sthr[1] = {0.0f};
    int64_t db[3] = {1, 6, 4}, ds[3] = {1, 1, 6}, d1[1] = {1}, dy[2] = {3, 3};
    int64_t y[9];
    RtNmsParams p = {0, 0};
    RtTensor in[5] = {tn(boxes, IR_DT_FLOAT, 3, db), tn(scores, IR_DT_FLOAT, 3, ds),
                      tn(maxo, IR_DT_INT64, 1, d1), tn(iou, IR_DT_FLOAT, 1, d1),
                      tn(sthr, IR_DT_FLOAT, 1, d1)};
    RtTensor out = tn(y, IR_DT_INT64, 2, dy);
    assert_int_equal(run_k("rt_k_nms", &p, in, 5, &out, 1, 0), 0);
    const int64_t want[9] = {0, 0, 3, 0, 0, 0, 0, 0, 5};
    assert_memory_equal(y, want, sizeof want);
    /* score threshold 0.4 drops box 5: two rows; the 3-row output is refused with the count */
    const float sthr2[1] = {0.4f};
    in[4] = tn(sthr2, IR_DT_FLOAT, 1, d1);
    assert_int_not_equal(run_k("rt_k_nms", &p, in, 5, &out, 1, 1), 0);
    int64_t dy2[2] = {2, 3};
    out = tn(y, IR_DT_INT64, 2, dy2);
    assert_int_equal(run_k("rt_k_nms", &p, in, 5, &out, 1, 0), 0);
    assert_memory_equal(y, want, 6 * sizeof(int64_t));
    /* center_point_box: the same boxes as (x_center, y_center, w, h) */
    float cb[24];
    for (int i = 0; i < 6; i++) {
        const float *b = boxes + 4 * i;
        cb[4 * i] = (b[1] + b[3]) / 2;
        cb[4 * i + 1] = (b[0] + b[2]) / 2;
        cb[4 * i + 2] = b[3] - b[1];
        cb[4 * i + 3] = b[2] - b[0];
    }
    RtNmsParams pc = {1, 0};
    in[0] = tn(cb, IR_DT_FLOAT, 3, db);
    in[4] = tn(sthr, IR_DT_FLOAT, 1, d1);
    out = tn(y, IR_DT_INT64, 2, dy);
    assert_int_equal(run_k("rt_k_nms", &pc, in, 5, &out, 1, 0), 0);
    assert_memory_equal(y, want, sizeof want);
    /* no max_output_boxes_per_class: nothing is selected */
    int64_t dz[2] = {0, 3};
    out = tn(y, IR_DT_INT64, 2, dz);
    assert_int_equal(run_k("rt_k_nms", &p, in, 2, &out, 1, 0), 0);
}

/* ------------------------------------------------------------------ RNN, GRU, LSTM */

static void test_lstm_gru_rnn(void **state) {
    (void)state;
    const int64_t T = 3, B = 2, I = 2, H = 3;
    int64_t dx[3] = {T, B, I}, dw2[3] = {2, 4 * H, I}, dr2[3] = {2, 4 * H, H}, db2[2] = {2, 8 * H};
    int64_t dh2[3] = {2, B, H}, dy2[4] = {T, 2, B, H};
    float y[36], yh[12], yc[12];
    RtRnnParams p = {.cell = RT_RNN_LSTM, .direction = 2, .hidden = H,
                     .act = {{RT_RNN_ACT_SIGMOID, RT_RNN_ACT_TANH, RT_RNN_ACT_TANH},
                             {RT_RNN_ACT_SIGMOID, RT_RNN_ACT_TANH, RT_RNN_ACT_TANH}}};
    RtTensor in[8] = {tn(lstm_x, IR_DT_FLOAT, 3, dx),   tn(lstm_w, IR_DT_FLOAT, 3, dw2),
                      tn(lstm_r, IR_DT_FLOAT, 3, dr2),  tn(lstm_b, IR_DT_FLOAT, 2, db2),
                      absent,                           tn(lstm_h0, IR_DT_FLOAT, 3, dh2),
                      tn(lstm_c0, IR_DT_FLOAT, 3, dh2), absent};
    RtTensor out[3] = {tn(y, IR_DT_FLOAT, 4, dy2), tn(yh, IR_DT_FLOAT, 3, dh2),
                       tn(yc, IR_DT_FLOAT, 3, dh2)};
    assert_int_equal(run_k("rt_k_rnn", &p, in, 8, out, 3, 0), 0);
    near_f("lstm Y", y, lstm_y, 36, 1e-5);
    near_f("lstm Y_h", yh, lstm_yh, 12, 1e-5);
    near_f("lstm Y_c", yc, lstm_yc, 12, 1e-5);
    /* sequence_lens out of range is refused */
    const int32_t lens[2] = {3, 4};
    int64_t dl[1] = {2};
    in[4] = tn(lens, IR_DT_INT32, 1, dl);
    assert_int_not_equal(run_k("rt_k_rnn", &p, in, 8, out, 3, 1), 0);
    /* GRU, linear_before_reset 1 (PyTorch's GRU), forward, Y only */
    int64_t dw[3] = {1, 3 * H, I}, dr[3] = {1, 3 * H, H}, db[2] = {1, 6 * H}, dy[4] = {T, 1, B, H};
    RtRnnParams pg = {.cell = RT_RNN_GRU, .direction = 0, .hidden = H, .linear_before_reset = 1,
                      .act = {{RT_RNN_ACT_SIGMOID, RT_RNN_ACT_TANH, 0}}};
    RtTensor ing[4] = {tn(lstm_x, IR_DT_FLOAT, 3, dx), tn(gru_w, IR_DT_FLOAT, 3, dw),
                       tn(gru_r, IR_DT_FLOAT, 3, dr), tn(gru_b, IR_DT_FLOAT, 2, db)};
    RtTensor outg[1] = {tn(y, IR_DT_FLOAT, 4, dy)};
    assert_int_equal(run_k("rt_k_rnn", &pg, ing, 4, outg, 1, 0), 0);
    near_f("gru Y", y, gru_y, 18, 1e-5);
    /* RNN, Relu, reverse: PyTorch's forward RNN on the time-reversed input, reversed back */
    int64_t dwr[3] = {1, H, I}, drr[3] = {1, H, H}, dbr[2] = {1, 2 * H}, dyh[3] = {1, B, H};
    RtRnnParams pr = {.cell = RT_RNN_SIMPLE, .direction = 1, .hidden = H,
                      .act = {{RT_RNN_ACT_RELU, 0, 0}}};
    RtTensor inr[4] = {tn(lstm_x, IR_DT_FLOAT, 3, dx), tn(rnn_w, IR_DT_FLOAT, 3, dwr),
                       tn(rnn_r, IR_DT_FLOAT, 3, drr), tn(rnn_b, IR_DT_FLOAT, 2, dbr)};
    RtTensor outr[2] = {tn(y, IR_DT_FLOAT, 4, dy), tn(yh, IR_DT_FLOAT, 3, dyh)};
    assert_int_equal(run_k("rt_k_rnn", &pr, inr, 4, outr, 2, 0), 0);
    near_f("rnn Y", y, rnn_rev_y, 18, 1e-5);
    near_f("rnn Y_h", yh, rnn_rev_yh, 6, 1e-5);
}

/* ------------------------------------------------------------------ infer and lower */

typedef struct Fx {
    IrModel *m;
    IrGraph *g;
    IrDiag d;
} Fx;

static void fx_init(Fx *f) {
    f->m = ir_model_create();
    f->g = ir_graph_create(f->m, NULL, "g");
    f->m->graph = f->g;
    ir_diag_init(&f->d, "test");
}

static void fx_free(Fx *f) {
    ir_diag_free(&f->d);
    ir_model_destroy(f->m);
}

static IrValue *mkval(Fx *f, const char *name, IrDType dt, int rank, const int64_t *dims) {
    IrValue *v = ir_value_new(f->g, name);
    assert_int_equal(ir_type_set_tensor(f->g->arena, &v->type, dt, rank, dims), 0);
    return v;
}

static IrNode *mknode(Fx *f, const char *op, int opset, int nin, IrValue **in, int nout) {
    static int k = 0;
    IrValue *outs[3];
    char name[32];
    for (int i = 0; i < nout; i++) {
        snprintf(name, sizeof name, "v%d_%d", k, i);
        outs[i] = ir_value_new(f->g, name);
    }
    snprintf(name, sizeof name, "n%d", k++);
    IrNode *n = ir_node_new(f->g, NULL, name, "", op, opset, nin, in, nout, outs);
    assert_non_null(n);
    return n;
}

static void set_int(IrNode *n, const char *name, int64_t v) {
    ir_node_add_attr(n, name, IR_ATTR_INT)->i = v;
}

static void set_str(IrNode *n, const char *name, const char *v) {
    ir_node_add_attr(n, name, IR_ATTR_STRING)->s = (IrString){v, strlen(v)};
}

static void test_infer_lower(void **state) {
    (void)state;
    Fx f;
    fx_init(&f);
    /* GridSample: opset 16 names bilinear/bicubic, opset 20 linear/cubic */
    IrValue *x = mkval(&f, "x", IR_DT_FLOAT, 4, (int64_t[]){2, 3, 5, 6});
    IrValue *g = mkval(&f, "g", IR_DT_FLOAT, 4, (int64_t[]){2, 7, 8, 2});
    IrNode *n = mknode(&f, "GridSample", 16, 2, (IrValue *[]){x, g}, 1);
    set_str(n, "mode", "bicubic");
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(n->out[0]->type.rank, 4);
    assert_int_equal(n->out[0]->type.dims[1].value, 3);
    assert_int_equal(n->out[0]->type.dims[2].value, 7);
    assert_int_equal(n->out[0]->type.dims[3].value, 8);
    assert_int_equal(op_lower_node(n, &f.d), 0);
    assert_int_equal(((const RtGridSampleParams *)n->params)->mode, RT_GS_CUBIC);
    n = mknode(&f, "GridSample", 20, 2, (IrValue *[]){x, g}, 1);
    set_str(n, "mode", "bicubic");
    assert_int_equal(op_infer_node(n, &f.d), -1); /* opset 20 says "cubic" */
    n = mknode(&f, "GridSample", 22, 2, (IrValue *[]){x, g}, 1);
    set_str(n, "padding_mode", "reflection");
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(op_lower_node(n, &f.d), 0);
    assert_int_equal(((const RtGridSampleParams *)n->params)->mode, RT_GS_LINEAR);
    assert_int_equal(((const RtGridSampleParams *)n->params)->padding, RT_GS_REFLECTION);
    /* RoiAlign opset 10 has no coordinate_transformation_mode (output_half_pixel), 16 defaults
     * to half_pixel */
    IrValue *rois = mkval(&f, "rois", IR_DT_FLOAT, 2, (int64_t[]){4, 4});
    IrValue *bi = mkval(&f, "bi", IR_DT_INT64, 1, (int64_t[]){4});
    n = mknode(&f, "RoiAlign", 10, 3, (IrValue *[]){x, rois, bi}, 1);
    set_int(n, "output_height", 3);
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(n->out[0]->type.dims[0].value, 4);
    assert_int_equal(n->out[0]->type.dims[2].value, 3);
    assert_int_equal(n->out[0]->type.dims[3].value, 1);
    assert_int_equal(op_lower_node(n, &f.d), 0);
    assert_int_equal(((const RtRoiAlignParams *)n->params)->half_pixel, 0);
    n = mknode(&f, "RoiAlign", 16, 3, (IrValue *[]){x, rois, bi}, 1);
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(op_lower_node(n, &f.d), 0);
    assert_int_equal(((const RtRoiAlignParams *)n->params)->half_pixel, 1);
    /* DeformConv output size from the convolution formula */
    IrValue *w = mkval(&f, "w", IR_DT_FLOAT, 4, (int64_t[]){4, 3, 3, 3});
    IrValue *off = mkval(&f, "off", IR_DT_FLOAT, 4, (int64_t[]){2, 18, 3, 4});
    n = mknode(&f, "DeformConv", 19, 3, (IrValue *[]){x, w, off}, 1);
    ir_node_add_attr(n, "pads", IR_ATTR_INTS);
    set_int(n, "group", 2); /* 3 channels do not split into 2 groups */
    assert_int_equal(op_infer_node(n, &f.d), -1);
    n = mknode(&f, "DeformConv", 19, 3, (IrValue *[]){x, w, off}, 1);
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(n->out[0]->type.dims[1].value, 4);
    assert_int_equal(n->out[0]->type.dims[2].value, 3);
    assert_int_equal(n->out[0]->type.dims[3].value, 4);
    /* NonMaxSuppression without a declared static output: its row count is a fresh symbol */
    IrValue *bx = mkval(&f, "bx", IR_DT_FLOAT, 3, (int64_t[]){1, 6, 4});
    IrValue *sc = mkval(&f, "sc", IR_DT_FLOAT, 3, (int64_t[]){1, 2, 6});
    IrValue *mo = mkval(&f, "mo", IR_DT_INT64, 1, (int64_t[]){1});
    n = mknode(&f, "NonMaxSuppression", 11, 3, (IrValue *[]){bx, sc, mo}, 1);
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(n->out[0]->type.rank, 2);
    assert_true(n->out[0]->type.dims[0].value < 0 && n->out[0]->type.dims[0].sym != NULL);
    assert_int_equal(n->out[0]->type.dims[1].value, 3);
    /* ... without max_output_boxes_per_class: known empty [0, 3] */
    n = mknode(&f, "NonMaxSuppression", 11, 2, (IrValue *[]){bx, sc}, 1);
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(n->out[0]->type.dims[0].value, 0);
    assert_int_equal(n->out[0]->type.dims[1].value, 3);
    /* LSTM: layout 1, bidirectional; Y [B, T, 2, H], Y_h and Y_c [B, 2, H] */
    IrValue *xs = mkval(&f, "xs", IR_DT_FLOAT, 3, (int64_t[]){5, 7, 3}); /* [B, T, I] */
    IrValue *lw = mkval(&f, "lw", IR_DT_FLOAT, 3, (int64_t[]){2, 16, 3});
    IrValue *lr = mkval(&f, "lr", IR_DT_FLOAT, 3, (int64_t[]){2, 16, 4});
    n = mknode(&f, "LSTM", 14, 3, (IrValue *[]){xs, lw, lr}, 3);
    set_int(n, "layout", 1);
    set_str(n, "direction", "bidirectional");
    assert_int_equal(op_infer_node(n, &f.d), 0); /* hidden_size from R */
    const IrType *ty = &n->out[0]->type;
    assert_int_equal(ty->rank, 4);
    assert_true(ty->dims[0].value == 5 && ty->dims[1].value == 7 && ty->dims[2].value == 2 &&
                ty->dims[3].value == 4);
    assert_true(n->out[2]->type.dims[0].value == 5 && n->out[2]->type.dims[1].value == 2);
    assert_int_equal(op_lower_node(n, &f.d), 0);
    const RtRnnParams *rp = n->params;
    assert_int_equal(rp->hidden, 4);
    assert_int_equal(rp->act[1][0], RT_RNN_ACT_SIGMOID);
    assert_int_equal(rp->act[1][2], RT_RNN_ACT_TANH);
    /* activations: the count must match; alpha/beta consumed by the activations using them */
    n = mknode(&f, "GRU", 14, 3,
               (IrValue *[]){xs, mkval(&f, "gw", IR_DT_FLOAT, 3, (int64_t[]){1, 12, 3}),
                             mkval(&f, "gr", IR_DT_FLOAT, 3, (int64_t[]){1, 12, 4})},
               2);
    set_int(n, "layout", 1);
    IrAttr *acts = ir_node_add_attr(n, "activations", IR_ATTR_STRINGS);
    static IrString names[2] = {{"hardsigmoid", 11}, {"LeakyRelu", 9}};
    acts->strings = names;
    acts->n = 2;
    IrAttr *al = ir_node_add_attr(n, "activation_alpha", IR_ATTR_FLOATS);
    static float alphas[2] = {0.3f, 0.05f};
    al->floats = alphas;
    al->n = 2;
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(op_lower_node(n, &f.d), 0);
    rp = n->params;
    assert_int_equal(rp->act[0][0], RT_RNN_ACT_HARDSIGMOID);
    assert_int_equal(rp->act[0][1], RT_RNN_ACT_LEAKYRELU);
    assert_true(fabs(rp->alpha[0][0] - 0.3) < 1e-7 && fabs(rp->beta[0][0] - 0.5) < 1e-7);
    assert_true(fabs(rp->alpha[0][1] - 0.05) < 1e-7);
    ((IrAttr *)ir_node_attr(n, "activations"))->n = 1; /* (adding attributes may move them) */
    assert_int_equal(op_infer_node(n, &f.d), -1);
    /* W of the wrong gate count is refused */
    n = mknode(&f, "GRU", 14, 3, (IrValue *[]){xs, lw, lr}, 2);
    set_int(n, "layout", 1);
    assert_int_equal(op_infer_node(n, &f.d), -1);
    fx_free(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid_sample),     cmocka_unit_test(test_affine_grid),
        cmocka_unit_test(test_col2im),          cmocka_unit_test(test_center_crop_pad),
        cmocka_unit_test(test_deform_conv),     cmocka_unit_test(test_roi_align),
        cmocka_unit_test(test_nms),             cmocka_unit_test(test_lstm_gru_rnn),
        cmocka_unit_test(test_infer_lower),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The script that computed the expected values above (run with /usr/bin/python3):
# Expected values for tests/test_ops_vision.c, computed with torch (independent of onnxc).
import torch, torch.nn.functional as F, numpy as np
torch.manual_seed(1)
def arr(name, a, fmt="%.9g"):
    a = np.asarray(a, dtype=np.float64).ravel()
    s = ", ".join(fmt % v for v in a)
    print(f"static const double {name}[{a.size}] = {{{s}}};")
def farr(name, a):
    a = np.asarray(a, dtype=np.float32).ravel()
    print(f"static const float {name}[{a.size}] = {{{', '.join('%.9ef' % v for v in a)}}};")
# GridSample 2-D: X [1, 2, 3, 4], grid [1, 2, 3, 2]
X = torch.arange(24, dtype=torch.float32).reshape(1, 2, 3, 4) * 0.5 - 3
G = torch.tensor([[[-1.0, -1.0], [0.2, -0.3], [1.3, 0.9]], [[-1.7, 0.4], [0.55, 1.6], [0.0, 0.0]]]).reshape(1, 2, 3, 2)
farr("gs_x", X); farr("gs_grid", G)
for mode in ("bilinear", "nearest"):
    for pad in ("zeros", "border", "reflection"):
        for ac in (0, 1):
            arr(f"gs_{mode}_{pad}_{ac}", F.grid_sample(X.double(), G.double(), mode=mode, padding_mode=pad, align_corners=bool(ac)))
for ac in (0, 1):
    arr(f"gs_bicubic_zeros_{ac}", F.grid_sample(X.double(), G.double(), mode="bicubic", padding_mode="zeros", align_corners=bool(ac)))
# GridSample 3-D bilinear: X [1, 1, 2, 3, 2], grid [1, 1, 2, 2, 3]
X3 = torch.arange(12, dtype=torch.float32).reshape(1, 1, 2, 3, 2)
G3 = torch.tensor([0.1, -0.2, 0.3, -0.9, 0.8, -0.5, 1.2, 0.0, 0.7, 0.4, 0.4, 0.4]).reshape(1, 1, 2, 2, 3)
farr("gs3_x", X3); farr("gs3_grid", G3)
arr("gs3_bilinear_zeros_0", F.grid_sample(X3.double(), G3.double(), mode="bilinear", padding_mode="zeros", align_corners=False))
arr("gs3_bilinear_border_1", F.grid_sample(X3.double(), G3.double(), mode="bilinear", padding_mode="border", align_corners=True))
# AffineGrid
th = torch.tensor([[[0.9, -0.2, 0.1], [0.3, 1.1, -0.4]]], dtype=torch.float64)
farr("ag_theta", th)
for ac in (0, 1):
    arr(f"ag_2d_{ac}", F.affine_grid(th, [1, 1, 3, 4], align_corners=bool(ac)))
th3 = torch.tensor([[[0.9, -0.2, 0.1, 0.0], [0.3, 1.1, -0.4, 0.2], [0.1, 0.0, 0.8, -0.3]]], dtype=torch.float64)
farr("ag_theta3", th3)
arr("ag_3d_1", F.affine_grid(th3, [1, 1, 2, 2, 3], align_corners=True))
# Col2Im = fold: input [1, C*kh*kw, L]
inp = torch.arange(8 * 9, dtype=torch.float64).reshape(1, 8, 9) * 0.25
farr("c2i_in", inp)
arr("c2i_out", F.fold(inp, output_size=(4, 5), kernel_size=(2, 2), dilation=(1, 2), padding=(1, 0), stride=(2, 1)))
# LSTM / GRU / RNN (torch: gate order i, f, g, o; ONNX i, o, f, c)
T, B, I, H = 3, 2, 2, 3
x = torch.randn(T, B, I)
lstm = torch.nn.LSTM(I, H, bidirectional=True)
h0 = torch.randn(2, B, H); c0 = torch.randn(2, B, H)
with torch.no_grad():
    y, (hn, cn) = lstm(x, (h0, c0))
def onnx_lstm_w(w):  # torch [4H, .] i f g o -> onnx i o f c
    i, f, g, o = w.chunk(4, 0); return torch.cat([i, o, f, g], 0)
W = torch.stack([onnx_lstm_w(lstm.weight_ih_l0), onnx_lstm_w(lstm.weight_ih_l0_reverse)]).detach()
R = torch.stack([onnx_lstm_w(lstm.weight_hh_l0), onnx_lstm_w(lstm.weight_hh_l0_reverse)]).detach()
Bb = torch.stack([torch.cat([onnx_lstm_w(lstm.bias_ih_l0), onnx_lstm_w(lstm.bias_hh_l0)]),
                  torch.cat([onnx_lstm_w(lstm.bias_ih_l0_reverse), onnx_lstm_w(lstm.bias_hh_l0_reverse)])]).detach()
farr("lstm_x", x); farr("lstm_w", W); farr("lstm_r", R); farr("lstm_b", Bb); farr("lstm_h0", h0); farr("lstm_c0", c0)
# torch y [T, B, 2H] -> onnx [T, 2, B, H]
arr("lstm_y", y.detach().reshape(T, B, 2, H).permute(0, 2, 1, 3)); arr("lstm_yh", hn.detach()); arr("lstm_yc", cn.detach())
gru = torch.nn.GRU(I, H)
with torch.no_grad():
    yg, hg = gru(x)
def onnx_gru_w(w):  # torch r z n -> onnx z r h
    r, z, n = w.chunk(3, 0); return torch.cat([z, r, n], 0)
farr("gru_w", onnx_gru_w(gru.weight_ih_l0).detach()); farr("gru_r", onnx_gru_w(gru.weight_hh_l0).detach())
farr("gru_b", torch.cat([onnx_gru_w(gru.bias_ih_l0), onnx_gru_w(gru.bias_hh_l0)]).detach())
arr("gru_y", yg.detach())
rnn = torch.nn.RNN(I, H, nonlinearity="relu")
with torch.no_grad():
    yr, hr = rnn(x.flip(0))
farr("rnn_w", rnn.weight_ih_l0.detach()); farr("rnn_r", rnn.weight_hh_l0.detach())
farr("rnn_b", torch.cat([rnn.bias_ih_l0, rnn.bias_hh_l0]).detach())
arr("rnn_rev_y", yr.detach().flip(0)); arr("rnn_rev_yh", hr.detach())
*/
