#define _GNU_SOURCE
#include "CLinuxSupport.h"
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <termios.h>
#include <unistd.h>

int lx_setns(int fd, char kind) {
    int type = kind == 'n' ? CLONE_NEWNET : kind == 'm' ? CLONE_NEWNS : kind == 'u' ? CLONE_NEWUTS : 0;
    return setns(fd, type);
}

int lx_unshare_fs(void) { return unshare(CLONE_FS); }

int lx_unshare_mount_uts(void) { return unshare(CLONE_NEWNS | CLONE_NEWUTS); }
int lx_unshare_net(void) { return unshare(CLONE_NEWNET); }

int lx_set_parent_death_signal(int signal) { return prctl(PR_SET_PDEATHSIG, signal, 0, 0, 0); }

int lx_set_controlling_terminal(int fd) { return ioctl(fd, TIOCSCTTY, 0); }

int lx_set_window_size(int fd, unsigned short columns, unsigned short rows) {
    struct winsize size = {.ws_row = rows, .ws_col = columns, .ws_xpixel = 0, .ws_ypixel = 0};
    return ioctl(fd, TIOCSWINSZ, &size);
}

int lx_posix_spawn_setsid_flag(void) { return POSIX_SPAWN_SETSID; }

int lx_open_pty(int *slave) {
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) return -1;
    if (grantpt(master) != 0 || unlockpt(master) != 0) { close(master); return -1; }
    const char *name = ptsname(master);
    if (name == NULL) { close(master); return -1; }
    int fd = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) { close(master); return -1; }
    *slave = fd;
    return master;
}

int lx_pipe(int fds[2]) { return pipe2(fds, O_CLOEXEC); }
