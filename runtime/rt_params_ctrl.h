/* rt_params_ctrl.h - kernel parameter records of the ctrl family. */
#pragma once
#include <stdint.h>
