/* SPDX-License-Identifier: MIT */
/*
 * Integration test program for snapshots taken while the program runs
 * (tests/integration/run_periodic.sh runs it with --snapshot-signal=12
 * --snapshot-interval=1): the parent raises SIGUSR2 once, then forks; the
 * child raises it twice and lives long enough for an interval snapshot of
 * its own; the parent waits for it. So the parent must have exactly one
 * snapshot on a signal, the child at least one, and each at least one on
 * the interval. First of all the parent closes every descriptor above 2
 * and opens files of its own at those numbers, as servers do: what the
 * shim uses to take snapshots must not touch them (the program fails if
 * their contents change).
 *
 * With the argument "wait" it only prints "ready" and waits 1.5 s, for a
 * signal sent from outside.
 *
 * Each process prints "heapcycle-test: role=NAME pid=PID" so that the test
 * can tell whose snapshot is whose. Without the shim's handler SIGUSR2
 * kills it: it is meant to run only with --snapshot-signal=12.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* memfd_create, close_range */
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
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

#define NFILES 8
static int files[NFILES];

/* Files at the lowest descriptor numbers, each holding "data". */
static int open_files(void)
{
	for (int i = 0; i < NFILES; i++) {
		files[i] = memfd_create("periodic_fork", MFD_CLOEXEC);
		if (files[i] < 0 || write(files[i], "data", 4) != 4) {
			perror("memfd_create");
			return -1;
		}
	}
	return 0;
}

/* 0 when every file still holds "data" and nothing more. */
static int check_files(void)
{
	char buf[16];

	for (int i = 0; i < NFILES; i++) {
		struct stat st;

		if (fstat(files[i], &st) != 0 || st.st_size != 4 ||
		    pread(files[i], buf, sizeof(buf), 0) != 4 || memcmp(buf, "data", 4) != 0) {
			fprintf(stderr, "descriptor %d: the program's file was changed\n",
				files[i]);
			return -1;
		}
	}
	return 0;
}

static void say_role(const char *role)
{
	printf("heapcycle-test: role=%s pid=%ld\n", role, (long)getpid());
	fflush(stdout);
}

int main(int argc, char **argv)
{
	pid_t child;
	int status;

	/* "wait": only say so and wait, for a signal sent from outside. */
	if (argc > 1 && strcmp(argv[1], "wait") == 0) {
		say_role("waiter");
		sink = malloc(100);
		printf("ready\n");
		fflush(stdout);
		nap_ms(1500);
		return 0;
	}
	say_role("parent");
	if (close_range(3, ~0u, 0) != 0 || open_files() != 0)
		return 1;
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
		return check_files() != 0;
	}
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "the child failed\n");
		return 1;
	}
	return check_files() != 0;
}
