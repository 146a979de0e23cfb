/* informer_decode.h — turns a watch event's JSON text into the object an informer caches,
 * without metadata.managedFields: the member is cut out of the text before parsing, so
 * the informer never builds (and frees) the JSON values of the half of a typical object
 * that no controller reads. Internal to src/client/. */
#ifndef K8C_CLIENT_INFORMER_DECODE_H
#define K8C_CLIENT_INFORMER_DECODE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The span [*cut_start, *cut_end) of text to remove so that the top-level object's
 * metadata loses its managedFields member (with the comma that separated it). false when
 * there is nothing to cut or the text is not an object as expected (parse it whole). */
bool informer_managed_fields_span(const char *text, size_t len, size_t *cut_start, size_t *cut_end);

/* The parsed object (new reference; caller decrefs) without metadata.managedFields, or
 * NULL if text is not JSON. */
json_t *informer_decode_object(const char *text, size_t len);

#endif
