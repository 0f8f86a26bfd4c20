/* SPDX-License-Identifier: MIT */
/*
 * Stress program: 200 rounds of dlopen, call, dlclose of libstress_dl.so
 * (argv[1]), whose functions leak one block per call and return one block
 * the program keeps. The library is unloaded at exit, so its frames can be
 * symbolized only from the module record the shim kept at dlclose. A
 * second thread allocates meanwhile, so that dlopen/dlclose (which take the
 * loader's lock and allocate under it) race with the allocator.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NROUNDS 200

/* Not static: GCC drops a static array that is only written. */
void *kept[NROUNDS];
static atomic_int stop;

static void *churn(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		void *p = malloc(64);

		free(p);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	void *(*make)(size_t);
	int (*leak)(size_t);
	size_t kept_bytes = 0, leak_bytes = 0;
	pthread_t tid;
	void *h;

	if (argc != 2) {
		fprintf(stderr, "usage: stress_dlopen LIBRARY\n");
		return 2;
	}
	if (pthread_create(&tid, NULL, churn, NULL) != 0)
		return 2;
	for (unsigned i = 0; i < NROUNDS; i++) {
		h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			fprintf(stderr, "stress_dlopen: %s\n", dlerror());
			return 2;
		}
		*(void **)&make = dlsym(h, "stress_dl_make");
		*(void **)&leak = dlsym(h, "stress_dl_leak");
		if (!make || !leak) {
			fprintf(stderr, "stress_dlopen: %s\n", dlerror());
			return 2;
		}
		kept[i] = make(32 + i % 7);
		if (!kept[i] || leak(48 + i % 5) != 0) {
			fprintf(stderr, "stress_dlopen: out of memory\n");
			return 2;
		}
		kept_bytes += 32 + i % 7;
		leak_bytes += 48 + i % 5;
		if (dlclose(h) != 0) {
			fprintf(stderr, "stress_dlopen: dlclose: %s\n", dlerror());
			return 2;
		}
	}
	atomic_store(&stop, 1);
	pthread_join(tid, NULL);
	/* RTLD_NOLOAD finds the library only if it is still mapped. */
	h = dlopen(argv[1], RTLD_NOW | RTLD_NOLOAD);
	printf("stress_dlopen: %u rounds, library unloaded at the end: %s\n", NROUNDS,
	       h ? "no" : "yes");
	printf("stress: pid=%ld live fn=stress_dl_make blocks=%u bytes=%zu\n", (long)getpid(),
	       NROUNDS, kept_bytes);
	printf("stress: pid=%ld leak class=direct fn=stress_dl_leak blocks=%u bytes=%zu\n",
	       (long)getpid(), NROUNDS, leak_bytes);
	return h ? 1 : 0;
}
