/* terminal.h — interactive access to containers: an exec with a pseudo-terminal (the
 * OCI runtime hands the pty master over a console socket), attaching to a container's
 * main process through conmon's attach socket, and terminal resizes for both.
 * Design idea: everything ends as plain fds (a pty master, or pipes fed by one relay
 * thread that unwraps conmon's framed messages), so the streaming server relays them
 * exactly as it relays an exec's pipes. */
#ifndef K8C_KUBELET_RUNTIME_TERMINAL_H
#define K8C_KUBELET_RUNTIME_TERMINAL_H

#include "kubelet/runtime/runtime.h"

#include <pthread.h>

/* Runs argv in the container with a terminal of width x height (0 x 0: the runtime's
 * default). On success proc->stdout_fd is the pty master (read: the terminal's output),
 * proc->stdin_fd a dup of it (write: keyboard input), proc->stderr_fd -1; *tty_fd is
 * one more dup of the master for resizes. The caller owns all fds and reaps with
 * runtime_exec_wait (which closes the three proc fds, not *tty_fd). */
int runtime_container_exec_tty(struct runtime *rt, const char *id, const char *const *argv,
                               const char *const *env, unsigned width, unsigned height,
                               struct exec_process *proc, int *tty_fd, k8c_err *err);

/* Sets the window size of an exec's terminal (tty_fd from runtime_container_exec_tty). */
int runtime_exec_resize(const struct exec_process *proc, int tty_fd, unsigned width,
                        unsigned height, k8c_err *err);

/* A connection to a running container's main process through conmon. */
struct attach_session {
  int stdin_fd;  /* write end: bytes go to the container's stdin; -1 unless with_stdin */
  int stdout_fd; /* read end: the container's stdout (the terminal's output with a tty) */
  int stderr_fd; /* read end: its stderr; -1 with a tty */
  int sock;      /* conmon's attach socket (SOCK_SEQPACKET), owned by the relay */
  int wake[2];   /* closing wake[1] stops the relay */
  pthread_t relay;
  int out_w, err_w, in_r; /* the relay's ends of the pipes */
  bool with_stdin;
};

/* Connects to conmon's attach socket of container id. Output arrives on the pipes; with
 * with_stdin, closing stdin_fd closes the container's stdin (conmon closes it when the
 * last attached writer leaves unless the container keeps stdin open across attaches).
 * 409 if the container was not started with a terminal or stdin and tty is asked for in
 * a way it cannot serve; 404 for an unknown or stopped container. Free with
 * runtime_attach_close. */
int runtime_container_attach(struct runtime *rt, const char *id, bool tty, bool with_stdin,
                             struct attach_session *a, k8c_err *err);
/* Stops the relay and closes every fd of the session still open (the caller may have
 * closed and set to -1 stdin_fd, stdout_fd or stderr_fd). */
void runtime_attach_close(struct attach_session *a);
/* Resizes the terminal of a container started with tty (conmon's control fifo). */
int runtime_container_resize(struct runtime *rt, const char *id, unsigned width, unsigned height,
                             k8c_err *err);

#endif
