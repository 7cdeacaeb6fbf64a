#ifndef KORDON_CGMIME_SHIM_H
#define KORDON_CGMIME_SHIM_H
#include <gmime/gmime.h>

/*
 * GObject type checks and casts are C macros that Swift cannot import.
 * Each shim below is a checked cast: it returns the object as the subtype
 * when it is one, NULL otherwise, so Swift never performs an unchecked cast.
 */

/** The object as a multipart (incl. multipart/encrypted, multipart/signed), or NULL. */
static inline GMimeMultipart *kordon_as_multipart(GMimeObject *object) {
    return (object != NULL && GMIME_IS_MULTIPART(object)) ? GMIME_MULTIPART(object) : NULL;
}

/** The object as a message/rfc822 (or message/news, message/global) part, or NULL. */
static inline GMimeMessagePart *kordon_as_message_part(GMimeObject *object) {
    return (object != NULL && GMIME_IS_MESSAGE_PART(object)) ? GMIME_MESSAGE_PART(object) : NULL;
}

/** The object as a leaf part (text, binary, message/partial, pkcs7-mime), or NULL. */
static inline GMimePart *kordon_as_part(GMimeObject *object) {
    return (object != NULL && GMIME_IS_PART(object)) ? GMIME_PART(object) : NULL;
}

/** Whether the object is a message/partial fragment (RFC 2046 5.2.2). */
static inline gboolean kordon_is_message_partial(GMimeObject *object) {
    return object != NULL && GMIME_IS_MESSAGE_PARTIAL(object);
}

/** Whether the object is a multipart/encrypted (RFC 1847). */
static inline gboolean kordon_is_multipart_encrypted(GMimeObject *object) {
    return object != NULL && GMIME_IS_MULTIPART_ENCRYPTED(object);
}

/** Whether the object is an application/pkcs7-mime part (S/MIME). */
static inline gboolean kordon_is_application_pkcs7_mime(GMimeObject *object) {
    return object != NULL && GMIME_IS_APPLICATION_PKCS7_MIME(object);
}

/** A message seen as the GMimeObject it derives from, or NULL. */
static inline GMimeObject *kordon_message_as_object(GMimeMessage *message) {
    return (message != NULL && GMIME_IS_MESSAGE(message)) ? GMIME_OBJECT(message) : NULL;
}

/** The byte array behind a memory stream, or NULL when the stream is not one. */
static inline GByteArray *kordon_stream_mem_bytes(GMimeStream *stream) {
    return (stream != NULL && GMIME_IS_STREAM_MEM(stream))
        ? g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream)) : NULL;
}

/** A filter stream seen as one, or NULL when the stream is not a filter stream. */
static inline GMimeStreamFilter *kordon_as_stream_filter(GMimeStream *stream) {
    return (stream != NULL && GMIME_IS_STREAM_FILTER(stream)) ? GMIME_STREAM_FILTER(stream) : NULL;
}

#endif
