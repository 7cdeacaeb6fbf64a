#ifndef KORDON_CGMIME_SHIM_H
#define KORDON_CGMIME_SHIM_H
#include <gmime/gmime.h>
#endif
