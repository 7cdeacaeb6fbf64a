#ifndef KORDON_CCLAMAV_SHIM_H
#define KORDON_CCLAMAV_SHIM_H
#include <clamav.h>
#endif
