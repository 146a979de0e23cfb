/* kubelet_nodestatus_test.c — the node's facts read from this machine, capacity and
 * allocatable as the kubelet writes them, and the conditions with upstream's words and
 * transition times that only move when a status flips. */
#include "kubelet/nodestatus.h"
#include "lib/mem.h"
#include "testlib.h"

#include <string.h>
#include <unistd.h>

TEST(facts_from_this_machine)
{
  struct node_facts f;
  k8c_err err = {0};
  CHECK_INT(node_facts_read("/tmp", "10.0.0.9", &f, &err), 0);
  CHECK_INT(f.cpus, (int)sysconf(_SC_NPROCESSORS_ONLN));
  CHECK(f.memory_bytes > (64LL << 20));
  CHECK(f.ephemeral_bytes > 0);
  CHECK_STR(f.internal_ip, "10.0.0.9");
  CHECK(f.kernel_version[0] != '\0');
  CHECK(f.boot_id[0] != '\0');
  CHECK_STR(f.architecture, "amd64");
  CHECK_INT((int)f.max_pods, 110);
  node_facts_set_runtime(&f, "/usr/bin/crun");
  CHECK(strncmp(f.runtime_version, "crun://1.", 9) == 0);
  node_facts_set_runtime(&f, "/nonexistent/runtime");
  CHECK(strncmp(f.runtime_version, "crun://1.", 9) == 0); /* kept */
  CHECK_INT(node_facts_read("/nonexistent/dir", NULL, &f, &err), -1);
  CHECK(strstr(err.message, "statvfs /nonexistent/dir") != NULL);
  k8c_err_clear(&err);
}

static struct node_facts
fixed_facts(void)
{
  struct node_facts f = {
      .cpus = 2, .memory_bytes = 4LL << 30, .ephemeral_bytes = 100000000000LL, .max_pods = 110};
  strcpy(f.hostname, "n1");
  strcpy(f.internal_ip, "192.168.1.10");
  strcpy(f.architecture, "amd64");
  strcpy(f.runtime_version, "crun://1.8.1");
  return f;
}

TEST(capacity_and_allocatable)
{
  struct node_facts f = fixed_facts();
  cleanup_json json_t *cap = node_capacity_json(&f);
  cleanup_json json_t *alloc = node_allocatable_json(&f);
  CHECK_JSON(cap, "{\"cpu\":\"2\",\"memory\":\"4194304Ki\",\"ephemeral-storage\":\"100000000000\","
                  "\"hugepages-1Gi\":\"0\",\"hugepages-2Mi\":\"0\",\"pods\":\"110\"}");
  CHECK_STR(json_string_value(json_object_get(alloc, "memory")), "4091904Ki"); /* minus 100Mi */
  CHECK_STR(json_string_value(json_object_get(alloc, "ephemeral-storage")), "90000000000");
}

static const char *
cond(const json_t *st, const char *type, const char *field)
{
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get(st, "conditions"), i, c)
    if (strcmp(json_string_value(json_object_get(c, "type")), type) == 0)
      return json_string_value(json_object_get(c, field));
  return NULL;
}

TEST(conditions_and_transitions)
{
  struct node_facts f = fixed_facts();
  struct node_pressure ok = {0};
  cleanup_json json_t *st1 = node_status_build(&f, &ok, NULL, NULL, "2026-01-01T00:00:00Z");
  CHECK_STR(cond(st1, "Ready", "reason"), "KubeletReady");
  CHECK_STR(cond(st1, "Ready", "message"), "kubelet is posting ready status");
  CHECK_STR(cond(st1, "MemoryPressure", "reason"), "KubeletHasSufficientMemory");
  CHECK_STR(cond(st1, "DiskPressure", "message"), "kubelet has no disk pressure");
  CHECK_STR(cond(st1, "PIDPressure", "status"), "False");
  CHECK_STR(json_string_value(
                json_object_get(json_object_get(st1, "nodeInfo"), "containerRuntimeVersion")),
            "crun://1.8.1");
  struct node_pressure mem = {.memory = true};
  cleanup_json json_t *st2 = node_status_build(&f, &mem, st1, NULL, "2026-01-01T00:01:00Z");
  CHECK_STR(cond(st2, "MemoryPressure", "status"), "True");
  CHECK_STR(cond(st2, "MemoryPressure", "reason"), "KubeletHasInsufficientMemory");
  CHECK_STR(cond(st2, "MemoryPressure", "lastTransitionTime"), "2026-01-01T00:01:00Z");
  CHECK_STR(cond(st2, "Ready", "lastTransitionTime"), "2026-01-01T00:00:00Z");
  CHECK_STR(cond(st2, "Ready", "lastHeartbeatTime"), "2026-01-01T00:01:00Z");
  cleanup_json json_t *node = node_object_new("n1", &f, "10.42.1.0/24", "2026-01-01T00:00:00Z");
  CHECK_STR(json_string_value(json_object_get(json_object_get(node, "spec"), "podCIDR")),
            "10.42.1.0/24");
  CHECK_STR(
      json_string_value(json_object_get(
          json_object_get(json_object_get(node, "metadata"), "labels"), "kubernetes.io/hostname")),
      "n1");
}

TEST_MAIN()
