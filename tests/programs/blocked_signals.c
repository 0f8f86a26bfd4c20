/* SPDX-License-Identifier: MIT */
/*
 * blocked_signals: a daemon's pattern. main blocks every signal before it
 * starts a thread that waits in sigwait(), so that thread never takes the
 * signal the snapshot stops threads with: the snapshot waits
 * stop_timeout_ms for it, once, then says its roots are incomplete.
 * (It used to wait twice as long, and spin a core doing it.)
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *volatile sink;

static void *waiter(void *arg)
{
	sigset_t set;
	int sig;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigwait(&set, &sig);
	return NULL;
}

int main(void)
{
	sigset_t all;
	pthread_t t;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	if (pthread_create(&t, NULL, waiter, NULL) != 0)
		return 1;
	sink = malloc(99);
	memset(sink, 1, 99);
	sink = NULL;
	usleep(100000);
	return 0;
}
