/* rt_params_signal.h - kernel parameter records of the signal family. */
#pragma once
#include <stdint.h>
