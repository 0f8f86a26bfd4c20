/* SPDX-License-Identifier: MIT */
/*
 * Taking a snapshot: gather the module map, freeze the block table, stop
 * every other thread, scan the roots and the live blocks for pointers, let
 * the threads go, and write the file. While the world is stopped nothing
 * here may call jemalloc or anything that locks (a stopped thread may hold
 * the lock): memory comes from an mmap arena, files are read with raw
 * system calls. The decisions (what is a pointer, how roots are counted)
 * live in src/scan.c and src/roots.c.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "graph.h"
#include "roots.h"
#include "scan.h"
#include "shim.h"

/* struct pthread sits just above the thread pointer on x86_64; it holds
 * the thread's pthread_setspecific values and its dtv. */
#define SHIM_TCB_SCAN_BYTES 2304u
/* The System V ABI lets a leaf function keep live data below its stack
 * pointer; a thread stopped there still owns it. */
#define SHIM_RED_ZONE 128u

struct shim_snap {
	struct hc_arena arena;
	struct hc_module *mods;
	uint32_t nmods, capmods;
	struct shim_range *data;	/* writable segments that are roots */
	unsigned ndata, capdata;
	struct hc_maps maps;
	struct hc_block *blocks;
	uint64_t nblocks, capblocks;
	bool incomplete;
};

/* ------------------------------------------------------------ modules */

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* The shim's own libraries hold the allocator's and the unwinder's state:
 * pointers in them are bookkeeping, not the program's references. */
static bool excluded_module(const char *path)
{
	const char *b = base_name(path);

	return strncmp(b, "libheapcycle", 12) == 0 || strncmp(b, "libjemalloc", 11) == 0 ||
	       strncmp(b, "libunwind", 9) == 0;
}

static void read_build_id(const struct dl_phdr_info *info, const ElfW(Phdr) *ph,
			  struct hc_module *m)
{
	const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr);
	const char *end = p + ph->p_memsz;

	while (p + sizeof(ElfW(Nhdr)) <= end) {
		const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
		size_t name = (nh->n_namesz + 3) & ~3u, desc = (nh->n_descsz + 3) & ~3u;
		const char *n = p + sizeof(*nh);

		if (n + name + desc > end)
			return;
		if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
		    memcmp(n, "GNU", 4) == 0 && nh->n_descsz <= HC_SNAPSHOT_MAX_BUILD_ID) {
			memcpy(m->build_id, n + name, nh->n_descsz);
			m->build_id_len = nh->n_descsz;
			return;
		}
		p = n + name + desc;
	}
}

static char *arena_strdup(struct hc_arena *a, const char *s, size_t n)
{
	char *d = hc_arena_alloc(a, n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

static ssize_t read_link(const char *path, char *buf, size_t len)
{
	long n = syscall(SYS_readlinkat, AT_FDCWD, path, buf, len - 1);

	if (n < 0)
		n = 0;
	buf[n] = 0;
	return n;
}

struct module_cb_arg {
	struct shim_snap *s;
	struct hc_arena *arena;
	struct hc_module *mods;
	uint32_t *nmods, cap;
	bool want_data;
};

static int module_cb(struct dl_phdr_info *info, size_t size, void *argv)
{
	struct module_cb_arg *arg = argv;
	struct hc_module *m;
	char *exe;
	const char *path = info->dlpi_name ? info->dlpi_name : "";
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	int i;

	(void)size;
	if (*arg->nmods >= arg->cap)
		return 1;
	m = &arg->mods[*arg->nmods];
	memset(m, 0, sizeof(*m));
	if (*arg->nmods == 0 && path[0] == 0) {
		/* From the arena, as every buffer of a snapshot: see
		 * shim_snapshot_take. */
		exe = hc_arena_alloc(arg->arena, PATH_MAX);
		if (exe) {
			read_link("/proc/self/exe", exe, PATH_MAX);
			path = exe;
		}
		m->flags |= HC_MODULE_MAIN;
	}
	m->bias = info->dlpi_addr;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t s = info->dlpi_addr + ph->p_vaddr, e = s + ph->p_memsz;

		if (ph->p_type == PT_NOTE && m->build_id_len == 0)
			read_build_id(info, ph, m);
		if (ph->p_type != PT_LOAD)
			continue;
		if (s < lo)
			lo = s;
		if (e > hi)
			hi = e;
		if (arg->want_data && (ph->p_flags & PF_W) && !excluded_module(path) &&
		    arg->s->ndata < arg->s->capdata) {
			arg->s->data[arg->s->ndata].lo = s;
			arg->s->data[arg->s->ndata].hi = e;
			arg->s->ndata++;
		}
	}
	if (hi == 0)
		return 0;	/* nothing mapped: not a module we can name */
	m->start = lo;
	m->end = hi;
	m->path = arena_strdup(arg->arena, path, strlen(path));
	if (!m->path)
		return 1;
	(*arg->nmods)++;
	return 0;
}

/* Modules seen before a dlclose, kept for the life of the process in the
 * metadata arena (hc_mem), so their frames can be symbolized later. */
#define SHIM_MAX_REMEMBERED 512
static struct hc_module shim_remembered[SHIM_MAX_REMEMBERED];
static uint32_t shim_nremembered;

static bool same_module(const struct hc_module *a, const struct hc_module *b)
{
	return a->bias == b->bias && a->start == b->start && strcmp(a->path, b->path) == 0;
}

void shim_modules_remember_locked(void)
{
	struct hc_arena arena = {0};
	struct hc_module *mods = hc_arena_alloc(&arena, SHIM_MAX_REMEMBERED * sizeof(*mods));
	uint32_t n = 0, i, j;
	struct module_cb_arg arg = { NULL, &arena, mods, &n, SHIM_MAX_REMEMBERED, false };

	if (!mods)
		return;
	dl_iterate_phdr(module_cb, &arg);
	for (i = 0; i < n; i++) {
		for (j = 0; j < shim_nremembered; j++)
			if (same_module(&shim_remembered[j], &mods[i]))
				break;
		if (j < shim_nremembered || shim_nremembered == SHIM_MAX_REMEMBERED)
			continue;
		shim_remembered[shim_nremembered] = mods[i];
		shim_remembered[shim_nremembered].path = hc_mem_strdup(mods[i].path);
		if (shim_remembered[shim_nremembered].path)
			shim_nremembered++;
	}
	hc_arena_release(&arena);
}

static int gather_modules(struct shim_snap *s)
{
	struct module_cb_arg arg;
	uint32_t i, j;

	s->capmods = 1024 + SHIM_MAX_REMEMBERED;
	s->mods = hc_arena_alloc(&s->arena, s->capmods * sizeof(*s->mods));
	s->capdata = 4096;
	s->data = hc_arena_alloc(&s->arena, s->capdata * sizeof(*s->data));
	if (!s->mods || !s->data)
		return -1;
	arg.s = s;
	arg.arena = &s->arena;
	arg.mods = s->mods;
	arg.nmods = &s->nmods;
	arg.cap = 1024;
	arg.want_data = true;
	dl_iterate_phdr(module_cb, &arg);
	for (i = 0; i < shim_nremembered; i++) {
		for (j = 0; j < s->nmods; j++)
			if (same_module(&s->mods[j], &shim_remembered[i]))
				break;
		if (j < s->nmods)
			continue;
		s->mods[s->nmods] = shim_remembered[i];
		s->mods[s->nmods].flags |= HC_MODULE_UNLOADED;
		s->nmods++;
	}
	return 0;
}

/* ------------------------------------------------------------ blocks */

static int copy_block_cb(const struct hc_block_rec *rec, void *argv)
{
	struct shim_snap *s = argv;
	struct hc_block *b;

	if (s->nblocks == s->capblocks)
		return 1;
	b = &s->blocks[s->nblocks++];
	memset(b, 0, sizeof(*b));
	b->addr = rec->addr;
	b->size = rec->size;
	b->seq = rec->seq;
	b->stack = rec->stack;
	b->tid = rec->tid;
	b->kind = rec->kind;
	b->flags = rec->flags & ~SHIM_BLOCK_UNSIZED;
	return 0;
}

/* ------------------------------------------------------------ files */

static char *read_whole(struct hc_arena *a, const char *path, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = hc_arena_alloc(a, cap);
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);

	*len = 0;
	if (fd < 0 || !buf) {
		if (fd >= 0)
			syscall(SYS_close, fd);
		return NULL;
	}
	for (;;) {
		long got;

		if (n == cap) {
			char *nb = hc_arena_realloc(a, buf, cap, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		got = syscall(SYS_read, fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	syscall(SYS_close, fd);
	*len = n;
	return buf;
}

/* ------------------------------------------------------------ roots */

struct root_arg {
	struct shim_snap *s;
	enum hc_root_kind kind;
};

static void scan_readable_cb(uintptr_t lo, uintptr_t hi, void *argv)
{
	struct root_arg *a = argv;

	hc_scan_root_range(a->s->blocks, a->s->nblocks, lo, hi, a->kind);
}

static void scan_root(struct shim_snap *s, uintptr_t lo, uintptr_t hi, enum hc_root_kind kind)
{
	struct root_arg a = { s, kind };

	hc_maps_for_readable(&s->maps, lo, hi, scan_readable_cb, &a);
}

/* A thread's roots: registers, its stack from the stack pointer up to
 * the end of the mapping that holds it (never below: dead frames there
 * keep stale copies of dropped pointers), and its static TLS. */
static void scan_thread(struct shim_snap *s, const struct shim_regs *regs, uintptr_t sp,
			uintptr_t tp, bool red_zone)
{
	const struct hc_mapping *m;

	if (regs && regs->n)
		hc_scan_root_words(s->blocks, s->nblocks, regs->word, regs->n, HC_ROOT_REGISTERS);
	if (sp) {
		m = hc_maps_find(&s->maps, sp);
		if (m) {
			uintptr_t lo = red_zone && sp - m->lo >= SHIM_RED_ZONE ? sp - SHIM_RED_ZONE : sp;

			scan_root(s, lo, m->hi, HC_ROOT_STACK);
		} else {
			s->incomplete = true;
		}
	}
	if (tp) {
		uintptr_t lo = tp - shim_g.static_tls_size;

		/* The static TLS size is glibc's upper bound (it counts the
		 * TCB and the surplus kept for dlopen). A thread's TLS sits at
		 * the top of its stack mapping, so that bound reaches into the
		 * stack below it, where dead frames are: never below sp. */
		if (sp > lo && sp < tp)
			lo = sp;
		scan_root(s, lo, tp + SHIM_TCB_SCAN_BYTES, HC_ROOT_TLS);
	}
}

/* ------------------------------------------------------------ take */

static void fill_meta(struct shim_snap *s, struct hc_snapshot *snap)
{
	char *buf = hc_arena_alloc(&s->arena, PATH_MAX);
	size_t len = 0, i;
	char *cmd;
	struct timespec ts;

	if (buf) {
		read_link("/proc/self/exe", buf, PATH_MAX);
		snap->exe = arena_strdup(&s->arena, buf, strlen(buf));
	}
	cmd = read_whole(&s->arena, "/proc/self/cmdline", &len);
	if (cmd && len > 0) {
		if (len > HC_SNAPSHOT_MAX_STRING - 1)
			len = HC_SNAPSHOT_MAX_STRING - 1;
		for (i = 0; i < len; i++)
			if (cmd[i] == 0)
				cmd[i] = ' ';
		while (len > 0 && cmd[len - 1] == ' ')
			len--;
		cmd[len] = 0;
		snap->cmdline = cmd;
	}
	if (!snap->exe)
		snap->exe = "";
	if (!snap->cmdline)
		snap->cmdline = "";
	clock_gettime(CLOCK_REALTIME, &ts);
	snap->time_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int build_stacks(struct shim_snap *s, struct hc_snapshot *snap)
{
	uint32_t count = hc_stackdepot_count(shim_g.depot), id;
	struct hc_stack *stacks = hc_arena_alloc(&s->arena, ((size_t)count + 1) * sizeof(*stacks));

	if (!stacks)
		return -1;
	for (id = 1; id <= count; id++) {
		unsigned n = 0;
		const uintptr_t *pcs = hc_stackdepot_get(shim_g.depot, id, &n);

		stacks[id].nframes = pcs ? n : 0;
		stacks[id].frames = (const uint64_t *)pcs;
	}
	snap->stacks = stacks;
	snap->nstacks = count + 1;
	return 0;
}

static int range_cmp_lo(const struct shim_range *a, const struct shim_range *b)
{
	return a->lo < b->lo ? -1 : a->lo > b->lo;
}

/*
 * Type hints: blocks whose first word points into a loaded module, most
 * likely at a C++ vtable. Their first two words go into the snapshot so
 * the tool can name the class (and read a shared_ptr control block's
 * counts). Runs with the world stopped: arena memory, no libc sort.
 */
static int gather_typehints(struct shim_snap *s, struct hc_snapshot *snap)
{
	struct shim_range *r = hc_arena_alloc(&s->arena, (s->nmods + 1) * sizeof(*r));
	struct hc_typehint *h;
	uint64_t i, n = 0, cap = 0;
	uint32_t m, nr = 0;

	if (!r)
		return -1;
	for (m = 0; m < s->nmods; m++) {
		struct shim_range x = { s->mods[m].start, s->mods[m].end };
		uint32_t k = nr;

		if (s->mods[m].flags & HC_MODULE_UNLOADED)
			continue;
		/* insertion sort: a few hundred modules at most */
		while (k > 0 && range_cmp_lo(&r[k - 1], &x) > 0) {
			r[k] = r[k - 1];
			k--;
		}
		r[k] = x;
		nr++;
	}
	h = NULL;
	for (i = 0; i < s->nblocks; i++) {
		const struct hc_block *b = &s->blocks[i];
		uintptr_t w0;
		uint32_t lo = 0, hi = nr;

		if (b->size < 2 * sizeof(uintptr_t))
			continue;
		w0 = ((const uintptr_t *)(uintptr_t)b->addr)[0];
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;

			if (w0 < r[mid].lo)
				hi = mid;
			else if (w0 >= r[mid].hi)
				lo = mid + 1;
			else
				break;
		}
		if (lo >= hi)
			continue;
		if (n == cap) {
			uint64_t ncap = cap ? cap * 2 : 1024;
			struct hc_typehint *nh = hc_arena_realloc(&s->arena, h, cap * sizeof(*h),
								  ncap * sizeof(*h));

			if (!nh)
				return -1;
			h = nh;
			cap = ncap;
		}
		h[n].block = i;
		h[n].word[0] = w0;
		h[n].word[1] = ((const uintptr_t *)(uintptr_t)b->addr)[1];
		n++;
	}
	snap->ntypehints = n;
	snap->typehints = h;
	return 0;
}

/* Everything a snapshot captures, in arena memory. */
struct shim_capture {
	struct shim_snap s;
	struct shim_world world;
	struct hc_snapshot snap;
	struct hc_edge *edges;
	uint64_t nedges;
};

/*
 * Gathers the modules, the live blocks, their roots and the edges between
 * them into c. Caller holds shim_snapshot_lock and is inside the shim (t).
 * Returns 0, or -1 when out of memory (c->s.arena must still be released).
 */
static int shim_capture(struct shim_capture *c, struct shim_thread *t,
			const struct shim_regs *regs, uintptr_t sp)
{
	struct shim_snap *s = &c->s;
	char *maps_text;
	size_t maps_len;
	uint64_t i;
	bool stopped = false;
	int rc = -1;

	if (gather_modules(s) < 0)
		return -1;
	fill_meta(s, &c->snap);
	pthread_mutex_lock(&shim_mmap_lock);
	/* A signal handler of the program that allocates now must not wait
	 * for the shard locks this thread holds. */
	t->in_table++;
	/* Every thread's young blocks join the shared table, and until the
	 * world resumes, new blocks go there too. */
	shim_young_quiesce(t);
	if (shim_young_drain_all_quiesced(0) != HC_OK)
		atomic_store(&shim_g.degraded, 1);
	hc_blocktable_lock_all(shim_g.table);
	s->capblocks = hc_blocktable_count(shim_g.table) + 1;
	s->blocks = hc_arena_alloc(&s->arena, s->capblocks * sizeof(*s->blocks));
	if (!s->blocks)
		goto unlock;
	hc_blocktable_foreach_locked(shim_g.table, copy_block_cb, s);
	/* From here until the world resumes: no jemalloc, no locks. */
	if (shim_world_stop(&c->world, &s->arena) != HC_OK)
		goto unlock;
	stopped = true;
	maps_text = read_whole(&s->arena, "/proc/self/maps", &maps_len);
	if (!maps_text || hc_maps_parse(&s->maps, maps_text, maps_len, &s->arena) < 0)
		goto unlock;
	if (hc_scan_sort_blocks(s->blocks, s->nblocks, &s->arena) < 0)
		goto unlock;
	for (i = 0; i < s->ndata; i++)
		scan_root(s, s->data[i].lo, s->data[i].hi, HC_ROOT_DATA);
	{
		unsigned nreg = shim_mmap_region_count_locked(), r;
		struct shim_range *regions = hc_arena_alloc(&s->arena, (nreg + 1) * sizeof(*regions));

		if (!regions)
			goto unlock;
		nreg = shim_mmap_regions_locked(regions, nreg);
		for (r = 0; r < nreg; r++)
			scan_root(s, regions[r].lo, regions[r].hi, HC_ROOT_MMAP);
	}
	for (i = 0; i < c->world.nthreads; i++) {
		const struct shim_stopped *th = &c->world.threads[i];

		if (th->tid == 0)
			continue;
		scan_thread(s, &th->regs, th->sp, th->tp, true);
	}
	scan_thread(s, regs, sp, (uintptr_t)__builtin_thread_pointer(), false);
	if (hc_scan_edges(s->blocks, s->nblocks, &s->arena, &c->edges, &c->nedges) < 0)
		goto unlock;
	if (gather_typehints(s, &c->snap) < 0)
		goto unlock;
	if (build_stacks(s, &c->snap) < 0)
		goto unlock;
	rc = 0;
unlock:
	if (stopped)
		shim_world_resume(&c->world);
	hc_blocktable_unlock_all(shim_g.table);
	shim_young_resume(t);
	t->in_table--;
	pthread_mutex_unlock(&shim_mmap_lock);
	if (rc < 0)
		return rc;

	c->snap.version = HC_SNAPSHOT_VERSION;
	c->snap.pid = shim_g.pid;
	c->snap.ppid = (uint32_t)syscall(SYS_getppid);
	c->snap.nthreads = 1 + c->world.nthreads;
	c->snap.metadata_bytes = hc_blocktable_bytes(shim_g.table) + shim_young_bytes() +
				 hc_stackdepot_bytes(shim_g.depot);
	if (atomic_load(&shim_g.degraded))
		c->snap.flags |= HC_SNAP_DEGRADED;
	if (c->world.incomplete || s->incomplete)
		c->snap.flags |= HC_SNAP_ROOTS_INCOMPLETE;
	if (!shim_g.opts.stacks)
		c->snap.flags |= HC_SNAP_STACKS_OFF;
	c->snap.nmodules = s->nmods;
	c->snap.modules = s->mods;
	c->snap.nblocks = s->nblocks;
	c->snap.blocks = s->blocks;
	c->snap.nedges = c->nedges;
	c->snap.edges = c->edges;
	return 0;
}

/* The path being written: static, as it is used under the snapshot lock
 * only, and a snapshot may be taken on a thread with 16 KiB of stack. */
static char shim_snapshot_file[HC_OPTION_STRING_MAX + 16];

const char *shim_snapshot_last_file(void)
{
	return shim_snapshot_file;
}

int shim_snapshot_take(enum hc_snap_reason reason, const char *path,
		       const struct shim_regs *regs, uintptr_t sp)
{
	struct shim_thread *t = shim_enter();
	struct shim_capture c;
	struct shim_gobject_table gobj = { NULL, 0 };
	char *file = shim_snapshot_file;
	void *wbuf;
	int rc = -1, fd, saved_errno = errno;

	if (atomic_load(&shim_g.state) != SHIM_READY) {
		errno = EAGAIN;
		shim_leave(t);
		return -1;
	}
	if (t->in_table) {
		/* A signal handler that interrupted this thread inside the
		 * block records (and now calls _exit, say): what they hold
		 * cannot be waited for from here. */
		shim_say("no snapshot: called from a signal handler that interrupted "
			 "heapcycle's own bookkeeping", 0);
		errno = EAGAIN;
		shim_leave(t);
		return -1;
	}
	memset(&c, 0, sizeof(c));
	/* GLib's type lock is GLib's: ask for its classes before we hold any
	 * of ours. _exit may run in a signal handler and exec in a forked
	 * child, where that lock may never be released: no GObject names
	 * there (the cycles are still reported, untyped). */
	if (reason != HC_REASON_UNDERSCORE_EXIT && reason != HC_REASON_EXEC &&
	    shim_gobject_classes(&gobj, &c.s.arena) < 0)
		atomic_store(&shim_g.degraded, 1);
	shim_gc_lock();		/* first in the lock order */
	pthread_mutex_lock(&shim_snapshot_lock);
	if (shim_capture(&c, t, regs, sp) < 0) {
		saved_errno = ENOMEM;
		shim_say("out of memory while taking a snapshot", 0);
		goto out;
	}
	if (shim_gc_fill(&c.snap, &c.s.arena, &gobj) < 0)
		atomic_store(&shim_g.degraded, 1);
	{
		struct hc_bad_free *bf = hc_arena_alloc(&c.s.arena, 1024 * sizeof(*bf));
		uint32_t i;

		if (bf) {
			c.snap.nbadfrees = shim_badfrees_copy(bf, 1024);
			/* Stacks recorded after the capture are not in its table. */
			for (i = 0; i < c.snap.nbadfrees; i++) {
				if (bf[i].alloc_stack >= c.snap.nstacks)
					bf[i].alloc_stack = HC_STACK_NONE;
				if (bf[i].free_stack >= c.snap.nstacks)
					bf[i].free_stack = HC_STACK_NONE;
			}
			c.snap.badfrees = bf;
		}
	}
	c.snap.reason = reason;
	fd = shim_out_open(path ? path : shim_g.output, file, sizeof(shim_snapshot_file));
	if (fd < 0) {
		saved_errno = errno;
		shim_say_file("cannot create the snapshot", file, saved_errno);
		goto out;
	}
	wbuf = hc_arena_alloc(&c.s.arena, HC_SNAPSHOT_WRITE_BUF);
	if (!wbuf || hc_snapshot_write_fd_buf(fd, &c.snap, wbuf) != HC_OK) {
		if (!wbuf)
			errno = ENOMEM;
		saved_errno = errno;
		shim_say_file("cannot write the snapshot", file, saved_errno);
		syscall(SYS_close, fd);
		goto out;
	}
	if (syscall(SYS_close, fd) != 0) {
		saved_errno = errno;
		goto out;
	}
	rc = 0;
out:
	hc_arena_release(&c.s.arena);
	pthread_mutex_unlock(&shim_snapshot_lock);
	shim_gc_unlock();
	shim_leave(t);
	errno = saved_errno;
	return rc;
}

int shim_reachable_from_roots(void *const *objs, size_t n, bool *keep,
			      const struct shim_regs *regs, uintptr_t sp)
{
	struct shim_thread *t = shim_enter();
	struct shim_capture c;
	struct hc_graph g;
	uint8_t *reach = NULL;
	bool built = false;
	size_t i;
	int rc = -1;

	memset(&c, 0, sizeof(c));
	memset(&g, 0, sizeof(g));
	pthread_mutex_lock(&shim_snapshot_lock);
	if (shim_capture(&c, t, regs, sp) < 0)
		goto out;
	/* The world runs again: the graph may use the metadata allocator. */
	if (hc_graph_build(&g, &c.snap) != HC_OK)
		goto out;
	built = true;
	reach = hc_mem_calloc(c.snap.nblocks ? c.snap.nblocks : 1, 1);
	if (!reach || hc_collect_reachability(&g, &c.snap, reach) != HC_OK)
		goto out;
	for (i = 0; i < n; i++) {
		uint64_t off;
		int64_t b = hc_scan_find(c.snap.blocks, c.snap.nblocks, (uintptr_t)objs[i], &off);

		/* Not a block we know (a static object): nothing to disprove. */
		keep[i] = b >= 0 && reach[b] != 0;
	}
	rc = 0;
out:
	hc_mem_free(reach);
	if (built)
		hc_graph_fini(&g);
	hc_arena_release(&c.s.arena);
	pthread_mutex_unlock(&shim_snapshot_lock);
	shim_leave(t);
	return rc;
}
