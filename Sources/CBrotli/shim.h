#ifndef KORDON_CBROTLI_SHIM_H
#define KORDON_CBROTLI_SHIM_H
#include <brotli/decode.h>
#endif
