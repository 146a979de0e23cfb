/* compactor.h — periodic compaction of the store's history, as kube-apiserver does for
 * etcd: every interval, history older than the revision seen one interval ago is
 * dropped, so watches can resume from anything newer than roughly one interval. */
#ifndef K8C_STORAGE_COMPACTOR_H
#define K8C_STORAGE_COMPACTOR_H

#include "storage/storage.h"

struct compactor;

/* Starts a background thread compacting s every interval_seconds. NULL on failure. */
struct compactor *compactor_start(storage *s, int interval_seconds, k8c_err *err);
/* Stops and joins the thread. */
void compactor_stop(struct compactor *c);

#endif
