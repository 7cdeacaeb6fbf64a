#ifndef KORDON_CLZMA_SHIM_H
#define KORDON_CLZMA_SHIM_H
#include <lzma.h>

/// LZMA_STREAM_INIT is a compound-literal macro, which Swift cannot import.
static inline lzma_stream kordon_lzma_stream_init(void) {
    lzma_stream stream = LZMA_STREAM_INIT;
    return stream;
}

/// LZMA_CONCATENATED is a UINT32_C() macro, which Swift cannot import.
static const uint32_t kordon_lzma_concatenated = LZMA_CONCATENATED;
#endif
