/* job.h — the Job controller (batch/v1), as upstream's: pods from the template with
 * the batch.kubernetes.io/job-tracking finalizer, outcomes counted through
 * status.uncountedTerminatedPods before the finalizer comes off, parallelism and
 * completions (NonIndexed and Indexed), back-off between recreations, backoffLimit,
 * activeDeadlineSeconds, suspend, the interim and final conditions, and
 * ttlSecondsAfterFinished. Tests start it with shorter back-off through job_controller_start. */
#ifndef K8C_CONTROLLERS_JOB_H
#define K8C_CONTROLLERS_JOB_H

#include "controllers/controller.h"

struct job_controller_opts {
  long long backoff_base_ms; /* delay before recreating after the first failure (10 s) */
  long long backoff_max_ms;  /* cap of the doubling delay (6 min) */
};

extern const struct controller_def job_controller_def;

/* As job_controller_def.start, with opts (NULL or zero fields: upstream's values). The
 * state is freed by job_controller_def.stop. */
void *job_controller_start(struct controller_context *ctx, const struct job_controller_opts *opts,
                           k8c_err *err);

#endif
