/* rt_params.h - parameter blocks of every kernel: POD structs (no pointers), filled by the ops'
 * lower hooks at compile time and embedded as constants in the generated code. One header per
 * family keeps families independent. */
#ifndef ONNXC_RT_PARAMS_H
#define ONNXC_RT_PARAMS_H

#include <stdint.h>

#define RT_MAX_SPATIAL 8 /* spatial dims supported by conv/pool parameter blocks */

#include "runtime/rt_params_elementwise.h"
#include "runtime/rt_params_matmul.h"
#include "runtime/rt_params_conv.h"
#include "runtime/rt_params_norm.h"
#include "runtime/rt_params_shape.h"
#include "runtime/rt_params_reduce.h"
#include "runtime/rt_params_logic.h"
#include "runtime/rt_params_index.h"
#include "runtime/rt_params_act.h"
#include "runtime/rt_params_loss.h"
#include "runtime/rt_params_attn.h"
#include "runtime/rt_params_image.h"

#endif
#include "runtime/rt_params_signal.h"
#include "runtime/rt_params_vision.h"
#include "runtime/rt_params_select.h"
#include "runtime/rt_params_rnn.h"
#include "runtime/rt_params_str.h"
#include "runtime/rt_params_ml.h"
#include "runtime/rt_params_ctrl.h"
#include "runtime/rt_params_seq.h"
#include "runtime/rt_params_train.h"
#include "runtime/rt_params_fused.h"
