/* rt_params_ml.h - kernel parameter records of the ml family. */
#pragma once
#include <stdint.h>
