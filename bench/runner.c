/* SPDX-License-Identifier: MIT */
/*
 * bench-runner: runs one command and prints, on one line of standard output,
 * its wall time in seconds, its peak resident set in KiB (ru_maxrss from
 * wait4(2): the largest of the child and every descendant it waited for),
 * its exit status (128+N for signal N) and CLOCK_MONOTONIC at its end in ns
 * (the scale benchmark subtracts the timestamp its program prints before
 * exit). The child's standard input and output are /dev/null unless -i
 * or -o name files; -e names a file for its standard error. Replaces /usr/bin/time, so
 * the suite does not depend on the time package.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	return ts->tv_sec + ts->tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *in = "/dev/null", *out = "/dev/null", *err = NULL;
	struct timespec t0, t1;
	struct rusage ru;
	double a, b;
	int c, st, code;
	pid_t pid;

	while ((c = getopt(argc, argv, "+i:o:e:")) != -1) {
		if (c == 'i')
			in = optarg;
		else if (c == 'o')
			out = optarg;
		else if (c == 'e')
			err = optarg;
		else
			return 2;
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: bench-runner [-i IN] [-o OUT] [-e ERR] PROG ARGS...\n");
		return 2;
	}
	a = now(&t0);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 2;
	}
	if (pid == 0) {
		int fd = open(in, O_RDONLY);

		if (fd >= 0)
			dup2(fd, 0);
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0)
			dup2(fd, 1);
		if (err) {
			fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd >= 0)
				dup2(fd, 2);
		}
		execvp(argv[optind], argv + optind);
		perror(argv[optind]);
		_exit(127);
	}
	if (wait4(pid, &st, 0, &ru) < 0) {
		perror("wait4");
		return 2;
	}
	b = now(&t1);
	code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	printf("%.6f %ld %d %lld\n", b - a, ru.ru_maxrss, code,
	       (long long)t1.tv_sec * 1000000000LL + t1.tv_nsec);
	return 0;
}
