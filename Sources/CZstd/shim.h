#ifndef KORDON_CZSTD_SHIM_H
#define KORDON_CZSTD_SHIM_H
#include <zstd.h>
#include <zstd_errors.h>
#endif
