/* rt_params_select.h - kernel parameter records of the select family. */
#pragma once
#include <stdint.h>
