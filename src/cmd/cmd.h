/* cmd.h — the subcommands of the k8c binary, one file each. */
#ifndef K8C_CMD_H
#define K8C_CMD_H

int cmd_agent(int argc, char **argv);
int cmd_image(int argc, char **argv);
int cmd_server(int argc, char **argv);
int cmd_testing_dns_bench(int argc, char **argv);       /* hidden: bench/dns.sh */
int cmd_testing_proxy_bench(int argc, char **argv);     /* hidden: bench/proxy.sh */
int cmd_testing_clusterip_bench(int argc, char **argv); /* hidden: bench/clusterip.sh */
int cmd_version(int argc, char **argv);
/* Hidden: the kubelet streaming server over host processes, for e2e tests. */
int cmd_testing_kubelet_server(int argc, char **argv);

#endif
