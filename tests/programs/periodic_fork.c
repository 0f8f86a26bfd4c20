/* SPDX-License-Identifier: MIT */
/*
 * Integration test program for snapshots taken while the program runs
 * (tests/integration/run_periodic.sh runs it with --snapshot-signal=12
 * --snapshot-interval=1): the parent raises SIGUSR2 once, then forks; the
 * child raises it twice and lives long enough for an interval snapshot of
 * its own; the parent waits for it. So the parent must have exactly one
 * snapshot on a signal, the child at least one, and each at least one on
 * the interval.
 *
 * Each process prints "heapcycle-test: role=NAME pid=PID" so that the test
 * can tell whose snapshot is whose. Without the shim's handler SIGUSR2
 * kills it: it is meant to run only with --snapshot-signal=12.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void *volatile sink;

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

static void say_role(const char *role)
{
	printf("heapcycle-test: role=%s pid=%ld\n", role, (long)getpid());
	fflush(stdout);
}

int main(void)
{
	pid_t child;
	int status;

	say_role("parent");
	sink = malloc(100);
	raise(SIGUSR2);
	/* The helper thread takes the snapshot; give it time before the fork,
	 * so that the signal is not still pending in it. */
	nap_ms(300);
	child = fork();
	if (child < 0) {
		perror("fork");
		return 1;
	}
	if (child == 0) {
		say_role("child");
		sink = malloc(200);
		raise(SIGUSR2);
		nap_ms(300);
		raise(SIGUSR2);
		nap_ms(1800);
		return 0;
	}
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "the child failed\n");
		return 1;
	}
	return 0;
}
