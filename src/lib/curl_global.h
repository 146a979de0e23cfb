/* curl_global.h — the process's one libcurl global initialisation, shared by every
 * component that makes curl handles (the API client, the image puller). */
#ifndef K8C_LIB_CURL_GLOBAL_H
#define K8C_LIB_CURL_GLOBAL_H

#include <stdbool.h>

/* Initialises libcurl once per process (thread-safe; later calls return the first
 * call's result). False if libcurl could not be initialised. */
bool curl_global_once(void);

#endif
