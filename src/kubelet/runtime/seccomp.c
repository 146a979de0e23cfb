/* seccomp.c — the RuntimeDefault seccomp profile. Design: allow by default and refuse
 * (EPERM) the system calls a container has no business making — kernel modules, kexec,
 * reboot, swap, clock setting, keyrings, bpf/perf, handle-based opens, namespace and
 * mount manipulation, obsolete ABIs. A denylist stays correct as new harmless syscalls
 * appear, which an allowlist copied from another project would not. */
#include "kubelet/runtime/runtime_internal.h"

static const char *const denied_syscalls[] = {"acct",
                                              "add_key",
                                              "bpf",
                                              "clock_adjtime",
                                              "clock_settime",
                                              "create_module",
                                              "delete_module",
                                              "finit_module",
                                              "fsconfig",
                                              "fsmount",
                                              "fsopen",
                                              "fspick",
                                              "get_kernel_syms",
                                              "get_mempolicy",
                                              "init_module",
                                              "ioperm",
                                              "iopl",
                                              "kcmp",
                                              "kexec_file_load",
                                              "kexec_load",
                                              "keyctl",
                                              "lookup_dcookie",
                                              "mbind",
                                              "mount",
                                              "mount_setattr",
                                              "move_mount",
                                              "move_pages",
                                              "name_to_handle_at",
                                              "nfsservctl",
                                              "open_by_handle_at",
                                              "open_tree",
                                              "perf_event_open",
                                              "personality",
                                              "pivot_root",
                                              "process_vm_readv",
                                              "process_vm_writev",
                                              "ptrace",
                                              "query_module",
                                              "quotactl",
                                              "quotactl_fd",
                                              "reboot",
                                              "request_key",
                                              "set_mempolicy",
                                              "setns",
                                              "settimeofday",
                                              "stime",
                                              "swapoff",
                                              "swapon",
                                              "syslog",
                                              "_sysctl",
                                              "umount",
                                              "umount2",
                                              "unshare",
                                              "uselib",
                                              "userfaultfd",
                                              "ustat",
                                              "vm86",
                                              "vm86old",
                                              NULL};

json_t *
seccomp_runtime_default(void)
{
  json_t *names = json_array();
  for (size_t i = 0; denied_syscalls[i]; i++)
    json_array_append_new(names, json_string(denied_syscalls[i]));
  return json_pack("{s:s, s:[s, s, s], s:[{s:o, s:s, s:i}]}", "defaultAction", "SCMP_ACT_ALLOW",
                   "architectures", "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32",
                   "syscalls", "names", names, "action", "SCMP_ACT_ERRNO", "errnoRet", 1);
}
