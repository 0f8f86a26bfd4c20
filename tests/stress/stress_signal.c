/* SPDX-License-Identifier: MIT */
/*
 * Stress program: malloc and free from signal handlers that interrupt a
 * thread in the middle of its own allocations. A 200 us interval timer
 * (SIGALRM) and a thread sending SIGUSR1 to the main thread every 100 us
 * both run handlers that malloc, write and free, while the main thread runs
 * 2000000 random malloc/realloc/free calls. Under heapcycle a handler may
 * land inside the shim itself.
 *
 * The program is well defined natively with glibc, which is what the test
 * compares against: each handler uses one size class no other code uses,
 * and main warms that class up first, so glibc serves a handler from its
 * per-thread cache without taking the arena lock an interrupted malloc may
 * hold; each handler blocks the other signal. Signal counts depend on
 * timing and are not printed; the program checks that both handlers ran.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define NOPS 2000000
#define NSLOTS 256
#define MAX_MAIN_SIZE 700	/* glibc tcache bins below the handlers' sizes */
#define ALRM_SIZE 1000
#define USR1_SIZE 900
#define NOINL __attribute__((noinline, noipa))

static struct {
	unsigned char *p;
	size_t size;
} slots[NSLOTS];
static volatile sig_atomic_t nalrm, nusr1, handler_errors;
static atomic_int done;
void *volatile sink;

static NOINL void die(const char *what)
{
	fprintf(stderr, "stress_signal: %s failed: %s\n", what, strerror(errno));
	exit(2);
}

static void handler_work(size_t n, unsigned char tag)
{
	int saved = errno;
	unsigned char *p = malloc(n);

	if (!p) {
		handler_errors++;
	} else {
		memset(p, tag, n);
		sink = p;
		if (p[n - 1] != tag)
			handler_errors++;
		free(p);
	}
	errno = saved;
}

static void on_alrm(int sig)
{
	(void)sig;
	handler_work(ALRM_SIZE, 0xa1);
	nalrm++;
}

static void on_usr1(int sig)
{
	(void)sig;
	handler_work(USR1_SIZE, 0x51);
	nusr1++;
}

static void *sender(void *arg)
{
	pthread_t target = *(pthread_t *)arg;
	struct timespec ts = { 0, 100000 };

	while (!atomic_load(&done)) {
		pthread_kill(target, SIGUSR1);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static uint64_t next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static NOINL void *st_malloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		die("malloc");
	return p;
}

static NOINL void *st_realloc(void *old, size_t n)
{
	void *p = realloc(old, n);

	if (!p)
		die("realloc");
	return p;
}

static NOINL void leak_after_signals(void)
{
	void *p = malloc(4242);

	if (!p)
		die("malloc");
	memset(p, 0x42, 4242);
	sink = p;
	sink = NULL;
}

static void install(int sig, void (*fn)(int), int other)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, other);
	sa.sa_flags = SA_RESTART;
	if (sigaction(sig, &sa, NULL) != 0)
		die("sigaction");
}

int main(void)
{
	uint64_t rng = 0x1234567887654321ULL;
	pthread_t self = pthread_self(), tid;
	struct itimerval it = { { 0, 200 }, { 0, 200 } };
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	size_t blocks = 0, bytes = 0;
	unsigned long corrupt = 0;

	/* One block of each handler's size in this thread's cache. */
	free(st_malloc(ALRM_SIZE));
	free(st_malloc(USR1_SIZE));
	install(SIGALRM, on_alrm, SIGUSR1);
	install(SIGUSR1, on_usr1, SIGALRM);
	if (setitimer(ITIMER_REAL, &it, NULL) != 0)
		die("setitimer");
	if (pthread_create(&tid, NULL, sender, &self) != 0)
		die("pthread_create");

	for (unsigned op = 0; op < NOPS; op++) {
		uint64_t r = next(&rng);
		unsigned i = (unsigned)(r % NSLOTS);
		size_t n = 1 + (size_t)(r >> 24) % MAX_MAIN_SIZE;

		if (!slots[i].p) {
			slots[i].p = st_malloc(n);
		} else if ((r >> 50) % 3 == 0) {
			if (slots[i].p[0] != (unsigned char)i)
				corrupt++;
			slots[i].p = st_realloc(slots[i].p, n);
		} else {
			if (slots[i].p[slots[i].size - 1] != (unsigned char)i)
				corrupt++;
			free(slots[i].p);
			slots[i].p = NULL;
			continue;
		}
		slots[i].size = n;
		slots[i].p[0] = (unsigned char)i;
		slots[i].p[n - 1] = (unsigned char)i;
	}
	/* Keep the signals coming until both handlers have surely run. */
	for (int k = 0; k < 2000 && (nalrm < 10 || nusr1 < 10); k++)
		usleep(1000);
	if (setitimer(ITIMER_REAL, &off, NULL) != 0)
		die("setitimer");
	atomic_store(&done, 1);
	if (pthread_join(tid, NULL) != 0)
		die("pthread_join");
	leak_after_signals();

	for (unsigned i = 0; i < NSLOTS; i++) {
		if (slots[i].p) {
			blocks++;
			bytes += slots[i].size;
		}
	}
	printf("stress_signal: %u operations, %lu corrupted blocks, handler errors %d\n",
	       NOPS, corrupt, (int)handler_errors);
	printf("stress_signal: both handlers ran at least 10 times: %s\n",
	       nalrm >= 10 && nusr1 >= 10 ? "yes" : "no");
	printf("stress: pid=%ld live fn=st_* blocks=%zu bytes=%zu\n", (long)getpid(), blocks, bytes);
	printf("stress: pid=%ld leak class=direct fn=leak_after_signals blocks=1 bytes=4242\n",
	       (long)getpid());
	return corrupt || handler_errors ? 1 : 0;
}
