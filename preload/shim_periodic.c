/* SPDX-License-Identifier: MIT */
/*
 * Snapshots while the program runs, for servers that leak slowly: one
 * whenever the snapshot_signal option's signal arrives, and one every
 * snapshot_interval seconds. The signal handler only writes a byte to a
 * pipe (AS-safe); a helper thread, created with every signal blocked so it
 * never steals the program's signals, takes the snapshot. A fork child
 * gets a pipe and a helper of its own. Nothing of this exists unless one
 * of the two options is set.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim.h"

static int shim_wake_pipe[2] = { -1, -1 };
/* The pipe's identity: a program that closes every descriptor may have
 * reused the numbers, and a fork child must not close its files. */
static dev_t shim_wake_dev;
static ino_t shim_wake_ino;

static void snapshot_signal_handler(int sig)
{
	int saved = errno;
	char c = 's';
	ssize_t r;

	(void)sig;
	do
		r = write(shim_wake_pipe[1], &c, 1);
	while (r < 0 && errno == EINTR);
	errno = saved;
}

static void *periodic_main(void *arg)
{
	int timeout = shim_g.opts.snapshot_interval > 0 ?
		      shim_g.opts.snapshot_interval * 1000 : -1;

	(void)arg;
	atomic_store(&shim_g.helper_tid, shim_gettid());
	for (;;) {
		struct pollfd pfd = { .fd = shim_wake_pipe[0], .events = POLLIN };
		int n = poll(&pfd, 1, timeout);
		enum hc_snap_reason reason = HC_REASON_INTERVAL;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return NULL;
		if (n > 0) {
			char buf[64];

			/* Several signals before we got here make one snapshot. */
			if (read(shim_wake_pipe[0], buf, sizeof(buf)) <= 0)
				return NULL;
			reason = HC_REASON_SIGNAL;
		}
		/* The helper's own stack holds nothing of the program's. */
		shim_snapshot_take(reason, NULL, NULL, 0);
	}
	return NULL;
}

/* The pipe and the helper thread; false (said) when either fails. */
static bool periodic_start_helper(void)
{
	sigset_t all, old;
	pthread_t thread;
	pthread_attr_t attr;
	struct stat st;
	bool ok = true;

	if (pipe2(shim_wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		shim_say("cannot create the snapshot pipe; errno", (uintptr_t)errno);
		shim_wake_pipe[0] = shim_wake_pipe[1] = -1;
		return false;
	}
	if (fstat(shim_wake_pipe[0], &st) == 0) {
		shim_wake_dev = st.st_dev;
		shim_wake_ino = st.st_ino;
	}
	/* The reader blocks in poll, not in read. */
	fcntl(shim_wake_pipe[0], F_SETFL, 0);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&thread, &attr, periodic_main, NULL) != 0) {
		shim_say("cannot start the snapshot thread", 0);
		ok = false;
	}
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ok;
}

void shim_periodic_init(void)
{
	int sig = shim_g.opts.snapshot_signal;

	if (sig <= 0 && shim_g.opts.snapshot_interval <= 0)
		return;
	if (sig >= NSIG || sig == SIGKILL || sig == SIGSTOP) {
		shim_say("snapshot_signal: not a signal that can be caught; no snapshots on a signal", 0);
		sig = 0;
		if (shim_g.opts.snapshot_interval <= 0)
			return;
	}
	if (!periodic_start_helper())
		return;
	if (sig > 0) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = snapshot_signal_handler;
		sa.sa_flags = SA_RESTART;
		sigemptyset(&sa.sa_mask);
		sigaction(sig, &sa, NULL);
	}
}

/* Descriptor fd if it still is our pipe's end, else -1. */
static int periodic_own_fd(int fd)
{
	struct stat st;

	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode) ||
	    st.st_dev != shim_wake_dev || st.st_ino != shim_wake_ino)
		return -1;
	return fd;
}

/*
 * A fork child has no helper thread, and its pipe is its parent's: the
 * child's signals would wake the parent's helper, which would snapshot
 * the parent. The child gets a pipe and a helper of its own; the
 * inherited ends are closed if they still are ours.
 */
void shim_periodic_after_fork_child(void)
{
	int i;

	if (shim_wake_pipe[0] < 0)
		return;
	for (i = 0; i < 2; i++)
		if (periodic_own_fd(shim_wake_pipe[i]) >= 0)
			close(shim_wake_pipe[i]);
	periodic_start_helper();
}
