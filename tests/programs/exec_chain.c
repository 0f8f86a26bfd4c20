/* SPDX-License-Identifier: MIT */
/*
 * Integration test program: execs itself argv[1] times (a countdown), each
 * image leaking one block of 100 + N bytes (N its countdown value) from
 * leak_in_image, then execing the next; the last image (N = 0) returns 0.
 * Each image first tries an exec that fails (no such file): the image goes
 * on, so that attempt must leave no snapshot of its own.
 * heapcycle follows exec: one snapshot per image, all with the same pid
 * (snap.PID.hcs, then .1, .2, ...), each holding only its own image's leak
 * (exec replaces the heap). Each image prints "exec_chain: image=N pid=P"
 * so that run_exec.sh can check the pid and the count.
 */
/* Every frame and store below matters: see fork_leak.c. */
#pragma GCC optimize("O0")

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *volatile sink;

static void leak_in_image(size_t n)
{
	void *p = malloc(n);

	if (!p)
		exit(1);
	memset(p, 0x6b, n);
	sink = p;
	sink = NULL;
	p = NULL;
}

static void scrub_stack(void)
{
	volatile char pad[32768];

	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = 0;
}

int main(int argc, char **argv)
{
	long n;
	char next[24];

	if (argc != 2 || (n = strtol(argv[1], NULL, 10)) < 0 || n > 50) {
		fprintf(stderr, "usage: exec_chain COUNT (0 to 50)\n");
		return 2;
	}
	printf("exec_chain: image=%ld pid=%ld\n", n, (long)getpid());
	fflush(stdout);
	leak_in_image(100 + (size_t)n);
	scrub_stack();
	if (execl("/nonexistent/exec_chain", argv[0], (char *)NULL) != -1 || errno != ENOENT) {
		perror("exec_chain: exec of a missing file");
		return 1;
	}
	if (n == 0)
		return 0;
	snprintf(next, sizeof(next), "%ld", n - 1);
	execl("/proc/self/exe", argv[0], next, (char *)NULL);
	perror("exec_chain: execl");
	return 1;
}
