/* testing_kubelet.h — the host-process backend behind `k8c testing-kubelet-server`. */
#ifndef K8C_CMD_TESTING_KUBELET_H
#define K8C_CMD_TESTING_KUBELET_H

#include "kubelet/server/backend.h"

struct host_backend {
  const char *log_dir; /* borrowed */
  struct stream_backend ops;
};

void host_backend_init(struct host_backend *hb, const char *log_dir);

#endif
