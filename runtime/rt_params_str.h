/* rt_params_str.h - kernel parameter records of the str family. */
#pragma once
#include <stdint.h>
