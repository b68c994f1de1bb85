// System calls the process node needs that Swift cannot import (variadic, or declared only
// under _GNU_SOURCE): namespaces, the parent-death signal, terminals.
#ifndef CLINUXSUPPORT_H
#define CLINUXSUPPORT_H

#include <sys/types.h>

/// setns(2) on `fd` for the namespace type `kind`: 'n' network, 'm' mount, 'u' UTS.
int lx_setns(int fd, char kind);
/// unshare(2) of the calling thread's filesystem attributes (needed before joining a mount
/// namespace from a multithreaded process).
int lx_unshare_fs(void);
/// unshare(2) of a new mount and UTS namespace.
int lx_unshare_mount_uts(void);
// Moves the calling thread into a new, empty network namespace.
int lx_unshare_net(void);
/// Sets the signal the kernel sends when the parent (thread) dies.
int lx_set_parent_death_signal(int signal);
/// Makes `fd` (a terminal) the controlling terminal of the calling session leader.
int lx_set_controlling_terminal(int fd);
/// Sets a terminal's window size.
int lx_set_window_size(int fd, unsigned short columns, unsigned short rows);
/// POSIX_SPAWN_SETSID, which Swift does not import (a glibc macro).
int lx_posix_spawn_setsid_flag(void);
/// Opens a new pseudo-terminal pair; returns the master, stores the slave in `*slave`.
int lx_open_pty(int *slave);

/// pipe2(2) with O_CLOEXEC: no child started meanwhile inherits either end.
int lx_pipe(int fds[2]);

#endif
