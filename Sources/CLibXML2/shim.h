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
#include <libxml/xmlreader.h>
#include <libxml/xmlregexp.h>
#include <libxml/uri.h>
#include <libxml/encoding.h>

/* xmlFree is a global function pointer, which Swift 6 sees as shared mutable state. */
static inline void kordon_xml_free(void *pointer) { xmlFree(pointer); }

/* libxml2's generic error handler is variadic, which Swift cannot implement. XPath
 * evaluation reports some problems (a function or variable bound to an undefined
 * prefix) through it, to standard error by default; Kordon silences it around XPath
 * calls and restores the previous handler afterwards (it is per-thread state). */
static void kordon_xml_ignore_generic_error(void *context, const char *message, ...) {
    (void)context;
    (void)message;
}

/** The generic error handler in force on this thread, saved by kordon_xml_silence_generic_errors. */
typedef struct kordon_generic_errors {
    xmlGenericErrorFunc handler;
    void *context;
} kordon_generic_errors;

static inline kordon_generic_errors kordon_xml_silence_generic_errors(void) {
    kordon_generic_errors saved = { xmlGenericError, xmlGenericErrorContext };
    xmlSetGenericErrorFunc(NULL, kordon_xml_ignore_generic_error);
    return saved;
}

static inline void kordon_xml_restore_generic_errors(kordon_generic_errors saved) {
    xmlSetGenericErrorFunc(saved.context, saved.handler);
}
#endif
