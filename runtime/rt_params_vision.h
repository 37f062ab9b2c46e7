/* rt_params_vision.h - kernel parameter records of the vision family. */
#pragma once
#include <stdint.h>
