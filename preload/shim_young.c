/* SPDX-License-Identifier: MIT */
/*
 * Each thread's young blocks (src/youngset.h) and the one protocol that
 * lets another thread reach them. The owner uses its set with no lock and
 * no atomic read-modify-write: it raises its busy flag, checks the global
 * gate, works, lowers the flag. A thread that needs every set (a snapshot,
 * fork, a free of a block some other thread allocated) closes the gate,
 * issues membarrier(2) so that every running thread has either published
 * its busy flag or will see the gate, and waits for the flags to fall.
 * While the gate is closed every thread goes to the shared block table
 * instead. The expensive side is the rare one, as in userspace RCU.
 *
 * Without membarrier(2) (old kernels, seccomp), sets are never used and
 * every block goes to the shared table, as before they existed.
 */
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim_young.h"

/* Buckets of 4 records of 32 bytes: a new thread's set holds 128 blocks
 * in 4 KiB, and grows to at most 2048 in 64 KiB. */
#define SHIM_YOUNG_BUCKETS0 32u
#define SHIM_YOUNG_BUCKETS_MAX 512u
/* A set whose blocks other threads keep freeing while young costs them a
 * quiescence each time: after this many, its owner sends its blocks to
 * the shared table for SHIM_YOUNG_BYPASS allocations. */
#define SHIM_YOUNG_STRIKES 4u
#define SHIM_YOUNG_BYPASS 65536u

static struct shim_young *_Atomic shim_young_list;
/* Not static: shim_young_active() in shim.h and shim_young_enter() in
 * shim_young.h read them inline. */
_Atomic int shim_young_gate;
_Atomic int shim_young_enabled;
static pthread_mutex_t shim_young_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_key_t shim_young_key;

static long young_membarrier(int cmd)
{
	return syscall(SYS_membarrier, cmd, 0, 0);
}

static int young_sink(const struct hc_slot *slots, size_t n, void *arg)
{
	(void)arg;
	return hc_blocktable_insert_slots(shim_g.table, slots, n);
}

static void young_release(void *arg);

static void young_cache_set(struct shim_thread *t, const struct shim_young *y)
{
	t->young_slots = y ? y->set->slots : NULL;
	t->young_bmask = y ? y->set->bmask : 0;
}

/* Gives t a set: an abandoned one (its records are live blocks all the
 * same) or a new one from the metadata arena. */
static struct shim_young *young_attach(struct shim_thread *t)
{
	struct shim_young *y;

	if (t->young_off || !atomic_load_explicit(&shim_young_enabled, memory_order_relaxed))
		return NULL;
	t->young_off = true;	/* no attach from inside an attach */
	for (y = atomic_load(&shim_young_list); y; y = y->next) {
		int expect = 0;

		if (atomic_compare_exchange_strong(&y->owned, &expect, 1))
			break;
	}
	if (!y) {
		y = hc_mem_calloc(1, sizeof(*y));
		if (!y)
			return NULL;
		y->set = hc_youngset_new(SHIM_YOUNG_BUCKETS0, SHIM_YOUNG_BUCKETS_MAX);
		if (!y->set) {
			hc_mem_free(y);
			return NULL;
		}
		atomic_store(&y->owned, 1);
		y->next = atomic_load(&shim_young_list);
		while (!atomic_compare_exchange_weak(&shim_young_list, &y->next, y))
			;
	}
	/* So that the set is handed back when the thread exits. A failure
	 * only means the set is never reused. */
	pthread_setspecific(shim_young_key, y);
	t->young = y;
	young_cache_set(t, y);
	t->young_off = false;
	return y;
}

bool shim_young_put_slow(struct shim_thread *t, const struct hc_slot *s)
{
	struct shim_young *y = t->young;
	int r;

	if (HC_UNLIKELY(!hc_tslot_fits(s->addr)))
		return false;
	if (!y && !(y = young_attach(t)))
		return false;
	if (y->bypass) {
		y->bypass--;
		return false;
	}
	if (!shim_young_enter(t))
		return false;
	r = hc_youngset_put_slot(y->set, s, young_sink, NULL);
	young_cache_set(t, y);	/* the set may have grown */
	shim_young_leave(y);
	if (r == HC_ERR_ARG)
		return false;
	if (r != HC_OK)
		atomic_store(&shim_g.degraded, 1);
	return true;
}

bool shim_young_update_flags(struct shim_thread *t, uintptr_t addr, uint8_t set,
			     uint8_t clear, struct hc_block_rec *out)
{
	struct shim_young *y = t->young;
	bool found;

	if (!y || !shim_young_enter(t))
		return false;
	found = hc_youngset_update_flags(y->set, addr, set, clear, out);
	shim_young_leave(y);
	return found;
}

void shim_young_quiesce(struct shim_thread *t)
{
	struct shim_young *y;

	t->in_table++;
	pthread_mutex_lock(&shim_young_lock);
	atomic_store(&shim_young_gate, 1);
	if (!atomic_load(&shim_young_enabled))
		return;
	if (young_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0) {
		/* Cannot happen once registered; if it does, stop using sets
		 * after this quiescence, and wait out any owner the slow way:
		 * a whole scheduling round is a barrier too. */
		atomic_store(&shim_young_enabled, 0);
		usleep(10000);
	}
	for (y = atomic_load(&shim_young_list); y; y = y->next) {
		unsigned spins = 0;

		/* Our own flag is up only if a signal handler interrupted our
		 * own set's update (an _exit in a handler, say): waiting would
		 * never end, and the set is read as it stands. */
		if (y == t->young)
			continue;
		while (atomic_load_explicit(&y->busy, memory_order_acquire)) {
			if (++spins < 200)
				__builtin_ia32_pause();
			else
				sched_yield();
		}
	}
}

void shim_young_resume(struct shim_thread *t)
{
	atomic_store(&shim_young_gate, 0);
	pthread_mutex_unlock(&shim_young_lock);
	t->in_table--;
}

int shim_young_drain_all_quiesced(uintptr_t wanted)
{
	struct shim_young *y;
	int ret = HC_OK;

	for (y = atomic_load(&shim_young_list); y; y = y->next) {
		if (!hc_youngset_count(y->set))
			continue;
		if (wanted && hc_youngset_update_flags(y->set, wanted, 0, 0, NULL) &&
		    ++y->strikes >= SHIM_YOUNG_STRIKES) {
			y->strikes = 0;
			y->bypass = SHIM_YOUNG_BYPASS;
		}
		if (hc_youngset_drain(y->set, young_sink, NULL) != HC_OK)
			ret = HC_ERR_NOMEM;
	}
	return ret;
}

bool shim_young_recently_freed_quiesced(uintptr_t addr, struct hc_block_rec *out)
{
	struct shim_young *y;

	for (y = atomic_load(&shim_young_list); y; y = y->next)
		if (hc_youngset_recently_freed(y->set, addr, out))
			return true;
	return false;
}

uint64_t shim_young_bytes(void)
{
	struct shim_young *y;
	uint64_t n = 0;

	for (y = atomic_load(&shim_young_list); y; y = y->next)
		n += sizeof(*y) + hc_youngset_bytes(y->set);
	return n;
}

/* A thread exits: its blocks go to the shared table and its set to the
 * next thread that needs one. Runs as a TLS destructor, in the thread. */
static void young_release(void *arg)
{
	struct shim_thread *t = shim_enter();
	struct shim_young *y = arg;

	if (y && y == t->young) {
		t->in_table++;
		while (!shim_young_enter(t))
			sched_yield();	/* a quiescence is running */
		if (hc_youngset_drain(y->set, young_sink, NULL) != HC_OK)
			atomic_store(&shim_g.degraded, 1);
		t->young = NULL;
		young_cache_set(t, NULL);
		t->young_off = true;	/* later destructors use the table */
		shim_young_leave(y);
		t->in_table--;
		atomic_store(&y->owned, 0);
	}
	shim_leave(t);
}

void shim_young_init(void)
{
	if (pthread_key_create(&shim_young_key, young_release) != 0)
		return;
	if (young_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) != 0)
		return;
	atomic_store(&shim_young_enabled, 1);
}

/*
 * fork's prepare handler quiesced (so no set is mid-update) and the child
 * has one thread: the sets of the others are abandoned, to be reused with
 * their records. membarrier's registration belongs to the address space;
 * a child that cannot renew it moves every record to the shared table,
 * which needs no barrier with one thread, and uses sets no more.
 */
void shim_young_after_fork_child(struct shim_thread *t)
{
	pthread_mutex_t plain = PTHREAD_MUTEX_INITIALIZER;
	struct shim_young *y;

	shim_young_lock = plain;
	for (y = atomic_load(&shim_young_list); y; y = y->next)
		if (y != t->young)
			atomic_store(&y->owned, 0);
	if (atomic_load(&shim_young_enabled) &&
	    young_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) != 0) {
		atomic_store(&shim_young_enabled, 0);
		if (shim_young_drain_all_quiesced(0) != HC_OK)
			atomic_store(&shim_g.degraded, 1);
	}
	atomic_store(&shim_young_gate, 0);
	t->in_table--;
}
