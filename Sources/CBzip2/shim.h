#ifndef KORDON_CBZIP2_SHIM_H
#define KORDON_CBZIP2_SHIM_H
#include <bzlib.h>
#endif
