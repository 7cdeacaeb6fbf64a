#ifndef KORDON_CHYPERSCAN_SHIM_H
#define KORDON_CHYPERSCAN_SHIM_H
/* Hyperscan (Debian libhyperscan-dev, pkg-config libhs): multi-pattern matching
 * without backtracking. Only Sources/KordonRules imports this module. */
#include <hs/hs.h>
#endif
