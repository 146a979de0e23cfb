/* probe.h — container probes as the kubelet runs them: one attempt of an httpGet,
 * tcpSocket, grpc or exec probe (probe_run), and the per-container state machine that
 * turns attempts into a liveness/readiness/startup result with initialDelaySeconds,
 * periodSeconds, timeoutSeconds, successThreshold and failureThreshold (probe_state).
 * Network probes connect from the node to the pod's IP, as the kubelet does. */
#ifndef K8C_KUBELET_PROBES_PROBE_H
#define K8C_KUBELET_PROBES_PROBE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

enum probe_result { PROBE_SUCCESS, PROBE_FAILURE, PROBE_UNKNOWN };
enum probe_kind { PROBE_LIVENESS, PROBE_READINESS, PROBE_STARTUP };

/* Runs argv in the container (exec probes): returns 0 with *exit_code and *output
 * (caller frees; may be NULL) or -1 when the command could not run / timed out, with
 * *output saying why. */
typedef int (*probe_exec_fn)(void *ctx, char *const *argv, int timeout_ms, int *exit_code,
                             char **output);

struct probe_target {
  const char *pod_ip;      /* default host for httpGet / tcpSocket / grpc */
  const json_t *container; /* for named ports */
  probe_exec_fn exec;      /* NULL: exec probes are UNKNOWN */
  void *exec_ctx;
};

/* One attempt of probe (a core/v1 Probe). *message (caller frees; NULL on success
 * without output) is upstream's wording, e.g. `HTTP probe failed with statuscode: 500`
 * or `dial tcp 10.42.0.5:81: connect: connection refused`. */
enum probe_result probe_run(const json_t *probe, const struct probe_target *target, char **message);

/* Each probe kind, one file each. */
enum probe_result probe_http_run(const json_t *http_get, const struct probe_target *target,
                                 int timeout_ms, char **message);
enum probe_result probe_tcp_run(const json_t *tcp_socket, const struct probe_target *target,
                                int timeout_ms, char **message);
enum probe_result probe_grpc_run(const json_t *grpc, const struct probe_target *target,
                                 int timeout_ms, char **message);
enum probe_result probe_exec_run(const json_t *exec, const struct probe_target *target,
                                 int timeout_ms, char **message);

/* A port value (number or name of one of the container's ports) → number, or -1. */
int probe_port(const json_t *port, const json_t *container);

/* ---------- the state machine ---------- */

struct probe_state {
  enum probe_kind kind;
  int period_ms, timeout_ms, initial_delay_ms, success_threshold, failure_threshold;
  int64_t next_ms; /* monotonic time of the next attempt */
  int successes, failures;
  bool result; /* the current verdict: live / ready / started */
};

/* Starts tracking probe (may be NULL: no probe, the verdict is always true) for a
 * container that started at started_ms (monotonic). Initial verdicts as upstream:
 * liveness true, readiness false, startup false. */
void probe_state_init(struct probe_state *s, enum probe_kind kind, const json_t *probe,
                      int64_t started_ms);
/* Whether an attempt is due at now_ms. */
bool probe_state_due(const struct probe_state *s, int64_t now_ms);
/* Records an attempt's result made at now_ms; returns true when the verdict changed. */
bool probe_state_record(struct probe_state *s, enum probe_result r, int64_t now_ms);

#endif
