#ifndef KORDON_CZLIB_SHIM_H
#define KORDON_CZLIB_SHIM_H
#include <zlib.h>

/// inflateInit2 is a macro (it passes the version and sizeof(z_stream)), which Swift cannot call.
static inline int kordon_inflate_init2(z_streamp stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}
#endif
