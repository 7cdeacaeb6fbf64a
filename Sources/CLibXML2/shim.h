#ifndef KORDON_CLIBXML2_SHIM_H
#define KORDON_CLIBXML2_SHIM_H
/* Debian's libxml2 is built with ICU, and <libxml/encoding.h> then includes
 * <unicode/ucnv.h>, which clashes with the ICU copy inside Swift's Foundation.
 * Kordon never touches xmlCharEncodingHandler's fields (where the ICU types are
 * used), so it hides ICU from the headers it imports. */
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>
#include <libxml/xmlschemastypes.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <libxml/xmlsave.h>
#include <libxml/encoding.h>

/* xmlFree is a global function pointer, which Swift 6 sees as shared mutable state. */
static inline void kordon_xml_free(void *pointer) { xmlFree(pointer); }
#endif
