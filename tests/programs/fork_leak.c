/* SPDX-License-Identifier: MIT */
/*
 * Integration test program: the parent forks; the child leaks one 200-byte
 * block and exits normally; the parent waits for it, then leaks one 100-byte
 * block and returns from main. heapcycle follows the fork, so the report
 * holds two processes, each with only its own leak (the fork happens before
 * either leak, so neither inherits the other's).
 *
 * Each process prints "heapcycle-test: role=NAME pid=PID" so that the test
 * can tell which process of the report is which: EXPECT lines scoped with
 * role=NAME apply to that process only (see tests/integration/expect.py).
 */
/* EXPECT: processes=2 */
/* EXPECT: role=parent direct blocks=1 bytes=100 fn=parent_leak fn=main */
/* EXPECT: role=child direct blocks=1 bytes=200 fn=child_leak fn=run_child */
/* EXPECT: exit=0 */
/* Makefile.am puts -O0 -fno-inline in the per-program flags, but automake
 * appends the user's CFLAGS (-O2 by default) after them. Every frame and
 * every store below matters to the EXPECT lines (no sibling calls, no clones,
 * no dead-store elimination), so the file asks for -O0 itself. */
#pragma GCC optimize("O0")

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void *volatile sink;

static void scrub_stack(void)
{
	volatile char pad[32768];

	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = 0;
}

static void leak_bytes(size_t n)
{
	void *p = malloc(n);

	if (!p)
		exit(1);
	memset(p, 0x5a, n);
	sink = p;
	sink = NULL;
	p = NULL;
}

static void parent_leak(void) { leak_bytes(100); }
static void child_leak(void) { leak_bytes(200); }

static void announce(const char *role)
{
	printf("heapcycle-test: role=%s pid=%ld\n", role, (long)getpid());
	fflush(stdout);
}

static void run_child(void)
{
	announce("child");
	child_leak();
	scrub_stack();
	exit(0);
}

int main(void)
{
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0)
		run_child();

	announce("parent");
	if (waitpid(pid, &status, 0) != pid)
		return 1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "fork_leak: child failed (status %#x)\n", status);
		return 1;
	}
	parent_leak();
	scrub_stack();
	return 0;
}
