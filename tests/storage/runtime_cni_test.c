/* runtime_cni_test.c — CNI through the real plugins without containers: namespaces bound
 * to files, ADD/CHECK/DEL on two network namespaces that reach each other, hostPort via
 * portmap, leases released by DEL, DEL idempotent, hostNetwork sandboxes. Processes are
 * put into a namespace with setns in a forked child. */
#include "kubelet/cni/cni.h"
#include "kubelet/cni/netns.h"
#include "runtime_fixture.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/vfs.h>

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

/* Runs argv (output discarded) in the network namespace at netns_path; returns the exit
 * code, or the pid when background is set. */
static int
run_in_netns(const char *netns_path, const char *const *argv, bool background)
{
  pid_t pid = fork();
  if (pid == 0) {
    if (netns_path) {
      int fd = open(netns_path, O_RDONLY | O_CLOEXEC);
      if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
        _exit(126);
    }
    int null_fd = open("/dev/null", O_RDWR);
    dup2(null_fd, 0);
    dup2(null_fd, 1);
    dup2(null_fd, 2);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  if (background)
    return pid;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static struct cni_network
network_of(const struct fixture *f, char *ipam_dir)
{
  return (struct cni_network){.bin_dir = "/usr/lib/cni",
                              .name = "k8c",
                              .bridge = f->bridge,
                              .subnet = f->pod_cidr,
                              .ipam_data_dir = ipam_dir};
}

TEST(netns_bound_to_file)
{
  struct fixture f;
  fixture_setup(&f, NULL);
  k8c_err err = {0};
  char *dir = xasprintf("%s/netns", f.run_dir);
  char *path = NULL;
  CHECK(netns_create(dir, "probe", &path, &err) == 0);
  struct statfs st;
  CHECK(statfs(path, &st) == 0 && st.f_type == NSFS_MAGIC);
  const char *const ip_link[] = {"/bin/busybox", "ip", "link", "show", "lo", NULL};
  CHECK_INT(run_in_netns(path, ip_link, false), 0);
  CHECK(ns_remove_bound(path, &err) == 0);
  CHECK(access(path, F_OK) != 0);
  CHECK(ns_remove_bound(path, &err) == 0); /* idempotent */
  free(path);
  free(dir);
  k8c_err_clear(&err);
  fixture_teardown(&f, true);
}

TEST(add_check_del_between_two_namespaces)
{
  struct fixture f;
  fixture_setup(&f, NULL);
  k8c_err err = {0};
  char *ipam = xasprintf("%s/cni/ipam", f.data_dir);
  struct cni_network net = network_of(&f, ipam);
  char *dir = xasprintf("%s/netns", f.run_dir);
  char *ns_a = NULL, *ns_b = NULL, *res_a = NULL, *res_b = NULL, *ip_a = NULL, *ip_b = NULL;
  char id_a[64], id_b[64];
  snprintf(id_a, sizeof id_a, "%s-a", f.cgroup_parent);
  snprintf(id_b, sizeof id_b, "%s-b", f.cgroup_parent);
  int host_port = 20000 + (int)(getpid() % 20000);
  struct cni_port_mapping port = {.host_port = host_port, .container_port = 8080};
  CHECK(netns_create(dir, id_a, &ns_a, &err) == 0);
  CHECK(netns_create(dir, id_b, &ns_b, &err) == 0);
  if (cni_add(&net, id_a, ns_a, &port, 1, &res_a, &ip_a, &err) < 0 ||
      cni_add(&net, id_b, ns_b, NULL, 0, &res_b, &ip_b, &err) < 0) {
    testlib_fail(__FILE__, __LINE__, "cni add: %s", err.message);
  } else {
    CHECK(strcmp(ip_a, ip_b) != 0);
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%.*s", (int)(strrchr(f.pod_cidr, '.') - f.pod_cidr + 1),
             f.pod_cidr);
    CHECK(strncmp(ip_a, prefix, strlen(prefix)) == 0);
    CHECK_INT(fixture_lease_count(&f), 2);
    CHECK_INT(fixture_veth_count(&f), 2);
    /* portmap 1.1.1's CHECK also looks for its IPv6 chain whenever ip6tables exists and so
     * fails for IPv4-only pods with ports; check the pod without ports. */
    CHECK(cni_check(&net, id_b, ns_b, NULL, 0, res_b, &err) == 0);
    const char *const ping[] = {"/bin/busybox", "ping", "-c", "1", "-W", "2", ip_a, NULL};
    CHECK_INT(run_in_netns(ns_b, ping, false), 0);
    const char *const lo_ping[] = {"/bin/busybox", "ping", "-c", "1", "-W", "2", "127.0.0.1", NULL};
    CHECK_INT(run_in_netns(ns_a, lo_ping, false), 0);
    /* hostPort: an httpd in namespace a answers on the host's port through portmap. */
    char *www = xasprintf("%s/www", f.dir);
    char *index = xasprintf("%s/index.html", www);
    CHECK(fs_mkdir_p(www, 0755, &err) == 0);
    CHECK(fs_write_file(index, "via-hostport\n", 13, 0644, &err) == 0);
    const char *const httpd[] = {"/bin/busybox", "httpd", "-f", "-p", "8080", "-h", www, NULL};
    pid_t server = run_in_netns(ns_a, httpd, true);
    char *gateway = xstrdup(ip_a);
    strcpy(strrchr(gateway, '.'), ".1");
    char *cmd = xasprintf("for i in 1 2 3 4 5 6 7 8 9 10; do busybox wget -q -O- "
                          "http://%s:%d/ 2>/dev/null && exit 0; sleep 0.2; done; exit 1",
                          gateway, host_port);
    FILE *p = popen(cmd, "r");
    char line[128] = "";
    if (p) {
      if (fgets(line, sizeof line, p) == NULL)
        line[0] = '\0';
      pclose(p);
    }
    CHECK_STR(line, "via-hostport\n");
    kill(server, SIGKILL);
    waitpid(server, NULL, 0);
    free(cmd);
    free(gateway);
    free(index);
    free(www);

    CHECK(cni_del(&net, id_a, ns_a, &port, 1, res_a, &err) == 0);
    CHECK_INT(fixture_lease_count(&f), 1);
    CHECK(cni_del(&net, id_a, ns_a, &port, 1, res_a, &err) == 0); /* idempotent */
    CHECK(cni_del(&net, id_a, ns_a, &port, 1, NULL, &err) == 0);  /* without a cached result */
    /* DEL after the namespace is gone still releases the lease. The bridge plugin (1.1.1)
     * learns the addresses whose ipMasq rules it removes from inside the namespace, so
     * those rules stay: runtime_sandbox_remove always DELs before unmounting. */
    CHECK(ns_remove_bound(ns_b, &err) == 0);
    CHECK(cni_del(&net, id_b, ns_b, NULL, 0, res_b, &err) == 0);
    CHECK_INT(fixture_lease_count(&f), 0);
    fixture_sh("iptables -t nat -S POSTROUTING | grep -F -- '%s' | sed 's/^-A/-D/' | "
               "while read -r rule; do eval iptables -t nat $rule; done; "
               "for c in $(iptables -t nat -S | grep -F -- '%s' | awk '{print $2}' | sort -u); "
               "do iptables -t nat -F $c; iptables -t nat -X $c; done",
               id_b, id_b);
  }
  if (err.status)
    fprintf(stderr, "last error: %s\n", err.message);
  k8c_err_clear(&err);
  if (ns_a && ns_remove_bound(ns_a, &err) < 0)
    k8c_err_clear(&err);
  if (ns_b && ns_remove_bound(ns_b, &err) < 0)
    k8c_err_clear(&err);
  free(ns_a);
  free(ns_b);
  free(res_a);
  free(res_b);
  free(ip_a);
  free(ip_b);
  free(dir);
  free(ipam);
  fixture_teardown(&f, true);
}

TEST(failed_add_leaves_nothing)
{
  struct fixture f;
  fixture_setup(&f, NULL);
  k8c_err err = {0};
  char *ipam = xasprintf("%s/cni/ipam", f.data_dir);
  struct cni_network net = network_of(&f, ipam);
  net.subnet = "not-a-cidr";
  char *res = NULL, *ip = NULL;
  CHECK(cni_add(&net, "bad", "/proc/self/ns/net", NULL, 0, &res, &ip, &err) < 0);
  CHECK(strstr(err.message, "CNI") != NULL);
  CHECK(res == NULL && ip == NULL);
  k8c_err_clear(&err);
  free(ipam);
  fixture_teardown(&f, true);
}

TEST(sandbox_files_and_host_network)
{
  struct fixture f;
  fixture_setup(&f, NULL);
  k8c_err err = {0};
  char id[64];
  snprintf(id, sizeof id, "%s-hn", f.cgroup_parent);
  struct sandbox_spec spec = {.id = id,
                              .pod_uid = id,
                              .pod_name = "hostnet",
                              .host_network = true,
                              .qos = POD_QOS_BURSTABLE};
  struct sandbox_info info = {0};
  CHECK(runtime_sandbox_create(f.rt, &spec, &info, &err) == 0);
  CHECK(info.ip == NULL && info.netns_path == NULL && info.uts_path == NULL);
  CHECK(info.ipc_path != NULL);
  CHECK(strstr(info.cgroup_path, "/kubepods/burstable/pod") != NULL);
  CHECK(cgroup_exists(info.cgroup_path));
  char hostname[256] = "";
  gethostname(hostname, sizeof hostname - 1);
  CHECK_STR(info.hostname, hostname);
  CHECK_INT(runtime_sandbox_create(f.rt, &spec, &info, &err), -1);
  CHECK_INT(err.status, 409);
  k8c_err_clear(&err);
  CHECK(runtime_sandbox_remove(f.rt, id, &err) == 0);
  CHECK(!cgroup_exists(info.cgroup_path));
  CHECK(runtime_sandbox_remove(f.rt, id, &err) == 0); /* idempotent */
  sandbox_info_free(&info);

  const char *const search[] = {"ns.svc.cluster.local", NULL};
  const char *const ns[] = {"10.43.0.10", NULL};
  const char *const opts[] = {"ndots:5", NULL};
  const char *const aliases[] = {"10.1.2.3\tfoo.local bar", NULL};
  snprintf(id, sizeof id, "%s-pod", f.cgroup_parent);
  struct sandbox_spec pod = {.id = id,
                             .pod_uid = id,
                             .pod_name = "web-0",
                             .hostname = "web",
                             .dns_nameservers = ns,
                             .dns_searches = search,
                             .dns_options = opts,
                             .host_aliases = aliases};
  CHECK(runtime_sandbox_create(f.rt, &pod, &info, &err) == 0);
  char *resolv_path = xasprintf("%s/resolv.conf", info.dir);
  char *hosts_path = xasprintf("%s/hosts", info.dir);
  char *resolv = fs_read_file(resolv_path, NULL, &err);
  char *hosts = fs_read_file(hosts_path, NULL, &err);
  CHECK_STR(resolv, "search ns.svc.cluster.local\nnameserver 10.43.0.10\noptions ndots:5\n");
  char *pod_line = xasprintf("\n%s\tweb\n", info.ip);
  CHECK(hosts && strstr(hosts, pod_line) != NULL);
  CHECK(hosts && strstr(hosts, "127.0.0.1\tlocalhost\n") != NULL);
  CHECK(hosts && strstr(hosts, "10.1.2.3\tfoo.local bar\n") != NULL);
  free(pod_line);
  free(resolv);
  free(hosts);
  free(resolv_path);
  free(hosts_path);
  /* The UTS namespace carries the hostname. */
  char *probe = xasprintf("nsenter --uts=%s hostname", info.uts_path);
  FILE *p = popen(probe, "r");
  char line[64] = "";
  if (p) {
    if (fgets(line, sizeof line, p) == NULL)
      line[0] = '\0';
    pclose(p);
  }
  CHECK_STR(line, "web\n");
  free(probe);
  sandbox_info_free(&info);
  k8c_err_clear(&err);
  fixture_teardown(&f, true);
}

/* The network connected after the rest: the hosts file a container bind-mounted before
 * (the same inode) gains the pod's IP line, before the HostAliases block; the record
 * gets the IP; removal afterwards leaves nothing. */
TEST(sandbox_connected_later)
{
  struct fixture f;
  fixture_setup(&f, NULL);
  k8c_err err = {0};
  char id[64];
  snprintf(id, sizeof id, "%s-late", f.cgroup_parent);
  const char *const aliases[] = {"10.1.2.3\tfoo.local", NULL};
  struct sandbox_spec pod = {.id = id, .pod_uid = id, .pod_name = "late", .host_aliases = aliases};
  struct sandbox_info info = {0};
  CHECK(runtime_sandbox_prepare(f.rt, &pod, &info, &err) == 0);
  CHECK(info.ip == NULL && info.netns_path != NULL);
  char *hosts_path = xasprintf("%s/hosts", info.dir);
  struct stat before, after;
  CHECK(stat(hosts_path, &before) == 0);
  char *hosts = fs_read_file(hosts_path, NULL, &err);
  CHECK(hosts && strstr(hosts, "\tlate\n") == NULL);
  free(hosts);
  char *ip = NULL;
  CHECK(runtime_sandbox_connect(f.rt, id, &ip, &err) == 0);
  CHECK(ip != NULL);
  CHECK(stat(hosts_path, &after) == 0);
  CHECK(before.st_ino == after.st_ino);
  hosts = fs_read_file(hosts_path, NULL, &err);
  char *want = xasprintf("ip6-allrouters\n%s\tlate\n\n# Entries added by HostAliases.\n"
                         "10.1.2.3\tfoo.local\n",
                         ip ? ip : "?");
  CHECK(hosts && strstr(hosts, want) != NULL);
  struct sandbox_info again = {0};
  CHECK(runtime_sandbox_get(f.rt, id, &again, &err) == 0);
  CHECK_STR(again.ip, ip);
  sandbox_info_free(&again);
  CHECK(runtime_sandbox_remove(f.rt, id, &err) == 0);
  CHECK(access(info.dir, F_OK) != 0);
  /* a container that was never created: removing it is success, and quick */
  char *never = xasprintf("%s_c_0", id);
  CHECK(runtime_container_remove(f.rt, never, &err) == 0);
  free(never);
  free(want);
  free(hosts);
  free(ip);
  free(hosts_path);
  sandbox_info_free(&info);
  k8c_err_clear(&err);
  fixture_teardown(&f, true);
}

TEST_MAIN()
