/* rt_params_seq.h - kernel parameter records of the seq family. */
#pragma once
#include <stdint.h>
