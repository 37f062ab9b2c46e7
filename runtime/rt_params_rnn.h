/* rt_params_rnn.h - kernel parameter records of the rnn family. */
#pragma once
#include <stdint.h>
