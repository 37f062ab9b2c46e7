/* rt_params_train.h - kernel parameter records of the train family. */
#pragma once
#include <stdint.h>
