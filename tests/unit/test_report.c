/* SPDX-License-Identifier: MIT */
/*
 * Tests for symbolize.c, report_text.c and report_json.c. Each test builds
 * a small snapshot and its analysis by hand (so they do not depend on the
 * analysis code), with stack frames that are real return addresses inside
 * this very test binary, which is listed as a module with its real load
 * bias and build-id: the symbolizer must find these functions and this
 * file through the binary's own DWARF. Fake modules stand for a vanished
 * library, a rebuilt one (wrong build-id) and heapcycle's shim. The JSON
 * output is parsed by python3 (and checked against doc/report-schema.json
 * when python3-jsonschema is installed).
 */
#include "config.h"

#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report.h"
#include "suites.h"

#ifndef HC_TEST_DATA
#define HC_TEST_DATA "tests/data"
#endif
#define SCHEMA_PATH HC_TEST_DATA "/../../doc/report-schema.json"
#define C_RESET_FOR_TEST "\033[0m"

/* ---- code whose addresses the stacks hold ---- */

volatile unsigned hc_test_sink;

enum { LEAF_FIRST_LINE = __LINE__ };
__attribute__((noinline)) void hc_test_alloc_leaf(unsigned n);
__attribute__((noinline)) void hc_test_alloc_leaf(unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		hc_test_sink += i * 7u;
}
enum { LEAF_LAST_LINE = __LINE__ };

__attribute__((noinline)) void hc_test_make_node(unsigned n);
__attribute__((noinline)) void hc_test_make_node(unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		hc_test_sink ^= i * 13u;
}

/* Returns its own return address: a pc inside whoever called it. */
__attribute__((noinline)) uintptr_t hc_test_where(void);
__attribute__((noinline)) uintptr_t hc_test_where(void)
{
	__asm__ volatile("");
	return (uintptr_t)__builtin_return_address(0);
}

enum { HELPER_CALL_LINE = __LINE__ + 5 };
static inline __attribute__((always_inline)) uintptr_t hc_test_inlined_helper(void)
{
	uintptr_t r;

	r = hc_test_where();
	hc_test_sink += (unsigned)HELPER_CALL_LINE;	/* no tail call */
	return r;
}

enum { OUTER_CALL_LINE = __LINE__ + 4 };
__attribute__((noinline)) uintptr_t hc_test_inline_outer(void);
__attribute__((noinline)) uintptr_t hc_test_inline_outer(void)
{
	uintptr_t r = hc_test_inlined_helper();

	hc_test_sink += 1;
	return r;
}

/* ---- the hand-built snapshot ---- */

/* Below where even a non-PIE executable is loaded (0x400000). */
#define FAKE_GONE_BASE 0x100000ull	/* module whose file is missing */
#define FAKE_SHIM_BASE 0x200000ull	/* heapcycle's own shim */
#define FAKE_STALE_BASE 0x300000ull	/* this binary, but a wrong build-id */

struct fx {
	char exe[4096];
	struct hc_module modules[4];
	uint64_t stack1[4], stack2[1], stack3[2];
	struct hc_stack stacks[4];
	struct hc_block blocks[5];
	struct hc_edge edges[2];
	struct hc_snapshot snap;

	uint8_t block_class[5];
	uint32_t block_cycle[5];
	struct hc_leak_group groups[3];
	uint32_t members[2];
	uint64_t cycle_edges[2];
	struct hc_cycle cycles[1];
	struct hc_analysis an;

	uint64_t exe_bias;
	uint64_t pc_leaf, pc_node, pc_main;
};

static int main_module_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct hc_module *m = arg;
	uint64_t lo = UINT64_MAX, hi = 0;
	int i;

	(void)size;
	/* The first object dl_iterate_phdr reports is the executable. */
	m->bias = info->dlpi_addr;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD) {
			if (ph->p_vaddr < lo)
				lo = ph->p_vaddr;
			if (ph->p_vaddr + ph->p_memsz > hi)
				hi = ph->p_vaddr + ph->p_memsz;
		} else if (ph->p_type == PT_NOTE) {
			const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr);
			const char *end = p + ph->p_memsz;

			while (p + sizeof(ElfW(Nhdr)) <= end) {
				const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
				size_t namesz = (nh->n_namesz + 3u) & ~3u;
				size_t descsz = (nh->n_descsz + 3u) & ~3u;
				const char *desc = p + sizeof(*nh) + namesz;

				if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
				    memcmp(p + sizeof(*nh), "GNU", 4) == 0 &&
				    nh->n_descsz <= HC_SNAPSHOT_MAX_BUILD_ID) {
					memcpy(m->build_id, desc, nh->n_descsz);
					m->build_id_len = nh->n_descsz;
				}
				p = desc + descsz;
			}
		}
	}
	m->start = info->dlpi_addr + lo;
	m->end = info->dlpi_addr + hi;
	return 1;
}

static void fx_init(struct fx *f)
{
	struct hc_module self = { 0 };
	ssize_t n;

	memset(f, 0, sizeof(*f));
	n = readlink("/proc/self/exe", f->exe, sizeof(f->exe) - 1);
	ck_assert_int_gt(n, 0);
	f->exe[n] = '\0';
	dl_iterate_phdr(main_module_cb, &self);
	ck_assert_uint_gt(self.build_id_len, 0);
	ck_assert_uint_gt(self.start, FAKE_STALE_BASE + 0x1000);
	f->exe_bias = self.bias;

	/* Sorted by start, as a reader would leave them. */
	f->modules[0] = (struct hc_module){ .bias = FAKE_GONE_BASE, .start = FAKE_GONE_BASE,
		.end = FAKE_GONE_BASE + 0x1000, .build_id_len = 4, .build_id = { 1, 2, 3, 4 },
		.path = "/nonexistent/dir/libgone.so.1" };
	f->modules[1] = (struct hc_module){ .bias = FAKE_SHIM_BASE, .start = FAKE_SHIM_BASE,
		.end = FAKE_SHIM_BASE + 0x1000, .path = "/usr/lib/heapcycle/libheapcycle.so" };
	f->modules[2] = self;
	f->modules[2].bias = FAKE_STALE_BASE;
	f->modules[2].start = FAKE_STALE_BASE;
	f->modules[2].end = FAKE_STALE_BASE + 0x1000;
	f->modules[2].build_id[0] ^= 0xff;
	f->modules[2].path = f->exe;
	f->modules[3] = self;
	f->modules[3].flags = HC_MODULE_MAIN;
	f->modules[3].path = f->exe;

	f->pc_leaf = (uintptr_t)hc_test_alloc_leaf + 4;
	f->pc_node = (uintptr_t)hc_test_make_node + 4;
	f->pc_main = (uintptr_t)hc_test_inline_outer + 4;
	f->stack1[0] = FAKE_SHIM_BASE + 0x10;	/* the shim's malloc: hidden */
	f->stack1[1] = FAKE_SHIM_BASE + 0x20;
	f->stack1[2] = f->pc_leaf;
	f->stack1[3] = f->pc_main;
	f->stack2[0] = f->pc_node;
	f->stack3[0] = FAKE_GONE_BASE + 0x40;
	f->stack3[1] = FAKE_STALE_BASE + 0x123;
	f->stacks[1] = (struct hc_stack){ 4, f->stack1 };
	f->stacks[2] = (struct hc_stack){ 1, f->stack2 };
	f->stacks[3] = (struct hc_stack){ 2, f->stack3 };

	f->blocks[0] = (struct hc_block){ .addr = 0x1000, .size = 40, .seq = 1, .stack = 1 };
	f->blocks[1] = (struct hc_block){ .addr = 0x2000, .size = 48, .seq = 2, .stack = 2 };
	f->blocks[2] = (struct hc_block){ .addr = 0x3000, .size = 48, .seq = 3, .stack = 2 };
	f->blocks[3] = (struct hc_block){ .addr = 0x4000, .size = 24, .seq = 4, .stack = 3 };
	f->blocks[4] = (struct hc_block){ .addr = 0x5000, .size = 100, .seq = 5, .stack = 0,
		.root_refs = 1, .root_kind = HC_ROOT_DATA };
	f->edges[0] = (struct hc_edge){ .from = 1, .to = 2, .from_offset = 8 };
	f->edges[1] = (struct hc_edge){ .from = 2, .to = 1, .from_offset = 8 };

	f->snap = (struct hc_snapshot){
		.version = HC_SNAPSHOT_VERSION, .pid = 4242, .ppid = 1, .reason = HC_REASON_EXIT,
		.nthreads = 1, .time_ns = 1700000000123456789ull, .exe = f->exe,
		.cmdline = "run_unit --test", .nmodules = 4, .modules = f->modules,
		.nstacks = 4, .stacks = f->stacks, .nblocks = 5, .blocks = f->blocks,
		.nedges = 2, .edges = f->edges,
	};

	f->block_class[0] = HC_CLASS_DIRECT;
	f->block_class[1] = HC_CLASS_CYCLE;
	f->block_class[2] = HC_CLASS_CYCLE;
	f->block_class[3] = HC_CLASS_POSSIBLE;
	f->block_class[4] = HC_CLASS_REACHABLE;
	f->block_cycle[1] = f->block_cycle[2] = 1;
	f->groups[0] = (struct hc_leak_group){ HC_CLASS_CYCLE, 2, 2, 96, 1, NULL };
	f->groups[1] = (struct hc_leak_group){ HC_CLASS_DIRECT, 1, 1, 40, 0, NULL };
	f->groups[2] = (struct hc_leak_group){ HC_CLASS_POSSIBLE, 3, 1, 24, 3, NULL };
	f->members[0] = 1;
	f->members[1] = 2;
	f->cycle_edges[0] = 0;
	f->cycle_edges[1] = 1;
	f->cycles[0] = (struct hc_cycle){ .nmembers = 2, .members = f->members, .nedges = 2,
		.edges = f->cycle_edges, .bytes = 96, .retained_bytes = 96,
		.retained_blocks = 2, .is_root = true };
	f->an = (struct hc_analysis){ .nblocks = 5, .block_class = f->block_class,
		.block_cycle = f->block_cycle, .ngroups = 3, .groups = f->groups,
		.ncycles = 1, .cycles = f->cycles };
	f->an.totals[HC_CLASS_DIRECT] = (struct hc_class_total){ 1, 40 };
	f->an.totals[HC_CLASS_CYCLE] = (struct hc_class_total){ 2, 96 };
	f->an.totals[HC_CLASS_POSSIBLE] = (struct hc_class_total){ 1, 24 };
	f->an.totals[HC_CLASS_REACHABLE] = (struct hc_class_total){ 1, 100 };
}

/* Runs a report writer into memory; returns the NUL-terminated text. */
static char *render(bool json, const struct hc_report_input *in, size_t n,
		    const struct hc_report_opts *opts)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	int ret;

	ck_assert_ptr_nonnull(mem);
	ret = json ? hc_report_json(mem, in, n, opts) : hc_report_text(mem, in, n, opts);
	ck_assert_int_eq(ret, HC_OK);
	fclose(mem);
	return buf;
}

/* Feeds text to python3 running script (text arrives as the file named by
 * argv[1], arg as argv[2] unless NULL); returns the exit status. Shared
 * with test_formats.c (suites.h). */
int hc_test_run_python(const char *text, const char *script, const char *arg)
{
	char path[] = "/tmp/hc-test-report-XXXXXX";
	char *cmd = NULL;
	FILE *p;
	int fd = mkstemp(path), status;
	size_t len = strlen(text);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	ck_assert_int_gt(asprintf(&cmd, "python3 - '%s'%s%s%s", path, arg ? " '" : "",
				  arg ? arg : "", arg ? "'" : ""), 0);
	p = popen(cmd, "w");
	ck_assert_ptr_nonnull(p);
	fputs(script, p);
	status = pclose(p);
	unlink(path);
	free(cmd);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static int run_python(const char *text, const char *script)
{
	return hc_test_run_python(text, script, NULL);
}

/* Returns the line after the first one containing needle, or NULL. */
static const char *line_after(const char *text, const char *needle)
{
	const char *p = strstr(text, needle);

	if (!p)
		return NULL;
	p = strchr(p, '\n');
	return p ? p + 1 : NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = s ? strlen(s) : 0, b = strlen(suffix);

	return s && a >= b && strcmp(s + a - b, suffix) == 0;
}

/* ---- symbolizer ---- */

START_TEST(test_symbolize_names_function_and_file_of_this_binary)
{
	struct fx f;
	struct hc_symbolizer *sym;
	struct hc_frame fr[8], again[8];
	unsigned n;

	fx_init(&f);
	ck_assert_int_eq(hc_symbolizer_new(&f.snap, &sym), HC_OK);
	n = hc_symbolize(sym, f.pc_leaf, true, fr, 8);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(fr[0].function, "hc_test_alloc_leaf");
	ck_assert_msg(ends_with(fr[0].file, "test_report.c"), "file %s", fr[0].file);
	ck_assert_uint_ge(fr[0].line, LEAF_FIRST_LINE);
	ck_assert_uint_le(fr[0].line, LEAF_LAST_LINE);
	ck_assert_str_eq(fr[0].module, f.exe);
	ck_assert_uint_eq(fr[0].module_offset, f.pc_leaf - f.exe_bias);
	ck_assert_uint_eq(fr[0].pc, f.pc_leaf);
	ck_assert(!fr[0].stale);
	ck_assert(!fr[0].inlined);

	/* Cached: the same strings come back. */
	n = hc_symbolize(sym, f.pc_leaf, true, again, 8);
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_eq(again[0].function, fr[0].function);
	ck_assert_ptr_eq(again[0].file, fr[0].file);
	hc_symbolizer_free(sym);
}
END_TEST

START_TEST(test_symbolize_expands_inlined_call_with_call_site_line)
{
	struct fx f;
	struct hc_symbolizer *sym;
	struct hc_frame fr[8];
	uintptr_t ra = hc_test_inline_outer();
	unsigned n;

	fx_init(&f);
	ck_assert_int_eq(hc_symbolizer_new(&f.snap, &sym), HC_OK);
	n = hc_symbolize(sym, ra, true, fr, 8);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(fr[0].function, "hc_test_inlined_helper");
	ck_assert(fr[0].inlined);
	ck_assert_msg(ends_with(fr[0].file, "test_report.c"), "file %s", fr[0].file);
	ck_assert_str_eq(fr[1].function, "hc_test_inline_outer");
	ck_assert(!fr[1].inlined);
	ck_assert_msg(ends_with(fr[1].file, "test_report.c"), "file %s", fr[1].file);
	ck_assert_uint_eq(fr[0].line, HELPER_CALL_LINE);
	ck_assert_uint_eq(fr[1].line, OUTER_CALL_LINE);
	ck_assert_uint_eq(fr[0].pc, ra);
	ck_assert_uint_eq(fr[1].pc, ra);

	/* Room for one frame: the real function, not the inline, is kept. */
	n = hc_symbolize(sym, ra, true, fr, 1);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(fr[0].function, "hc_test_inline_outer");
	hc_symbolizer_free(sym);
}
END_TEST

START_TEST(test_symbolize_wrong_build_id_is_stale)
{
	struct fx f;
	struct hc_symbolizer *sym;
	struct hc_frame fr[8];
	unsigned n;

	fx_init(&f);
	/* Same file as the executable, so only the build-id tells. */
	ck_assert_int_eq(hc_symbolizer_new(&f.snap, &sym), HC_OK);
	n = hc_symbolize(sym, FAKE_STALE_BASE + 0x123, true, fr, 8);
	ck_assert_uint_eq(n, 1);
	ck_assert(fr[0].stale);
	ck_assert_ptr_null(fr[0].function);
	ck_assert_ptr_null(fr[0].file);
	ck_assert_str_eq(fr[0].module, f.exe);
	ck_assert_uint_eq(fr[0].module_offset, 0x123);
	hc_symbolizer_free(sym);

	/* With the right build-id the same module resolves. */
	f.modules[2].build_id[0] ^= 0xff;
	f.modules[2].bias = f.exe_bias;
	f.modules[2].start = f.modules[3].start;
	f.modules[2].end = f.modules[3].end;
	f.snap.nmodules = 3;
	ck_assert_int_eq(hc_symbolizer_new(&f.snap, &sym), HC_OK);
	n = hc_symbolize(sym, f.pc_node, true, fr, 8);
	ck_assert_uint_eq(n, 1);
	ck_assert(!fr[0].stale);
	ck_assert_str_eq(fr[0].function, "hc_test_make_node");
	hc_symbolizer_free(sym);
}
END_TEST

/* Two snapshots of one executable loaded at different addresses (two
 * processes of one run) share the opened module: each resolves its own
 * addresses, before and after the other symbolizer is gone, and a copy
 * with another build-id stays stale. */
START_TEST(test_symbolizers_share_a_module_across_snapshots)
{
	struct fx a, b;
	struct hc_symbolizer *sa, *sb;
	struct hc_frame fr[8];
	const uint64_t shift = 0x10000000;
	unsigned n;

	fx_init(&a);
	fx_init(&b);
	/* b's process loaded the executable elsewhere. */
	b.modules[3].bias += shift;
	b.modules[3].start += shift;
	b.modules[3].end += shift;
	ck_assert_int_eq(hc_symbolizer_new(&a.snap, &sa), HC_OK);
	ck_assert_int_eq(hc_symbolizer_new(&b.snap, &sb), HC_OK);
	n = hc_symbolize(sa, a.pc_leaf, true, fr, 8);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(fr[0].function, "hc_test_alloc_leaf");
	n = hc_symbolize(sb, b.pc_leaf + shift, true, fr, 8);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(fr[0].function, "hc_test_alloc_leaf");
	ck_assert_uint_eq(fr[0].module_offset, a.pc_leaf - a.exe_bias);
	/* The same file with another build-id is not the shared one. */
	n = hc_symbolize(sb, FAKE_STALE_BASE + 0x123, true, fr, 8);
	ck_assert(fr[0].stale);
	ck_assert_ptr_null(fr[0].function);
	hc_symbolizer_free(sa);
	n = hc_symbolize(sb, b.pc_node + shift, true, fr, 8);
	ck_assert_uint_eq(n, 1);
	ck_assert(!fr[0].stale);
	ck_assert_str_eq(fr[0].function, "hc_test_make_node");
	hc_symbolizer_free(sb);
	/* Opened again from nothing once every user is gone. */
	ck_assert_int_eq(hc_symbolizer_new(&a.snap, &sa), HC_OK);
	n = hc_symbolize(sa, a.pc_main, true, fr, 8);
	ck_assert_uint_ge(n, 1);
	ck_assert(!fr[n - 1].stale);
	ck_assert_ptr_nonnull(fr[n - 1].function);
	hc_symbolizer_free(sa);
}
END_TEST

START_TEST(test_symbolize_missing_file_is_stale_and_no_module_is_null)
{
	struct fx f;
	struct hc_symbolizer *sym;
	struct hc_frame fr[8];
	unsigned n;

	fx_init(&f);
	ck_assert_int_eq(hc_symbolizer_new(&f.snap, &sym), HC_OK);
	n = hc_symbolize(sym, FAKE_GONE_BASE + 0x40, true, fr, 8);
	ck_assert_uint_eq(n, 1);
	ck_assert(fr[0].stale);
	ck_assert_ptr_null(fr[0].function);
	ck_assert_str_eq(fr[0].module, "/nonexistent/dir/libgone.so.1");
	ck_assert_uint_eq(fr[0].module_offset, 0x40);

	n = hc_symbolize(sym, 0x10, true, fr, 8);
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_null(fr[0].module);
	ck_assert_ptr_null(fr[0].function);
	ck_assert_uint_eq(fr[0].pc, 0x10);
	ck_assert_uint_eq(hc_symbolize(sym, 0x10, true, fr, 0), 0);
	hc_symbolizer_free(sym);
}
END_TEST

START_TEST(test_symbolizer_internal_is_the_shim_only)
{
	struct fx f;
	struct hc_symbolizer *sym;

	fx_init(&f);
	ck_assert_int_eq(hc_symbolizer_new(&f.snap, &sym), HC_OK);
	ck_assert(hc_symbolizer_is_internal(sym, FAKE_SHIM_BASE + 0x10));
	ck_assert(!hc_symbolizer_is_internal(sym, f.pc_leaf));
	ck_assert(!hc_symbolizer_is_internal(sym, FAKE_GONE_BASE + 0x40));
	ck_assert(!hc_symbolizer_is_internal(sym, 0x10));
	hc_symbolizer_free(sym);
}
END_TEST

START_TEST(test_demangle)
{
	char buf[64];
	const char *plain = "make_person";

	ck_assert_str_eq(hc_demangle("_ZN3foo3barEv", buf, sizeof(buf)), "foo::bar()");
	ck_assert_str_eq(hc_demangle("_ZN2ns6Person4makeEPKci", buf, sizeof(buf)),
			 "ns::Person::make(char const*, int)");
	ck_assert_ptr_eq(hc_demangle(plain, buf, sizeof(buf)), plain);
	/* Not a valid mangling: returned as is. */
	ck_assert_str_eq(hc_demangle("_Zgarbage", buf, sizeof(buf)), "_Zgarbage");
	ck_assert_str_eq(hc_demangle("_ZN3foo3barEv", buf, 5), "foo:");
}
END_TEST

/* ---- text report ---- */

START_TEST(test_report_text_leaks_cycles_and_summary)
{
	struct fx f;
	struct hc_symbolizer *sym;
	struct hc_report_opts opts = { 0 };
	struct hc_report_input in;
	char *text, expect[4400];
	const char *p, *direct, *cycle, *possible;
	uint64_t blocks = 0, bytes = 0;

	fx_init(&f);
	ck_assert_int_eq(hc_symbolizer_new(&f.snap, &sym), HC_OK);
	in = (struct hc_report_input){ "run.4242.hcs", &f.snap, &f.an, sym };
	text = render(false, &in, 1, &opts);

	snprintf(expect, sizeof(expect), "==4242== heapcycle: %s (pid 4242, ppid 1), "
		 "snapshot at exit in run.4242.hcs\n", f.exe);
	ck_assert_msg(strncmp(text, expect, strlen(expect)) == 0, "%.1500s", text);

	/* The internal frames are hidden and the rest renumbered from #0. */
	p = line_after(text, "Direct leak of 40 byte(s) in 1 object(s) allocated from:\n");
	ck_assert_msg(p, "%.1500s", text);
	snprintf(expect, sizeof(expect), "    #0 0x%llx in hc_test_alloc_leaf ",
		 (unsigned long long)f.pc_leaf);
	ck_assert_msg(strncmp(p, expect, strlen(expect)) == 0, "%.1500s", p);
	p = strchr(p, '\n') + 1;
	ck_assert_msg(strncmp(p, "    #1 ", 7) == 0, "%.1500s", p);
	/* The caller, after whatever the compiler inlined into it. */
	ck_assert_msg(strstr(p, " in hc_test_inline_outer "), "%.1500s", p);
	ck_assert_msg(strstr(text, "test_report.c:"), "%.1500s", text);
	ck_assert_msg(!strstr(text, "libheapcycle"), "%.1500s", text);
	ck_assert_msg(!strstr(text, "0x200010"), "%.1500s", text);

	cycle = strstr(text, "Leaked cycle of 96 byte(s) in 2 object(s), "
		       "retaining 96 byte(s) in 2 object(s):\n"
		       "    #0 0x2000 (48 bytes) --[+8]--> #1 0x3000 (48 bytes) --[+8]--> #0\n"
		       "  #0 allocated from:\n"
		       "    #0 ");
	ck_assert_msg(cycle, "%.1500s", text);
	ck_assert_msg(strstr(cycle, "in hc_test_make_node "), "%.1500s", cycle);
	ck_assert_msg(strstr(cycle, "\n  #1 allocated from the same stack as #0\n"), "%.1500s", cycle);
	direct = strstr(text, "Direct leak of");
	possible = strstr(text, "Possible leak (interior pointers only) of 24 byte(s) in 1 object(s)"
			  " allocated from:\n"
			  "    #0 0x100040 in (/nonexistent/dir/libgone.so.1+0x40) "
			  "(module changed or missing)\n");
	ck_assert_msg(possible, "%.1500s", text);
	snprintf(expect, sizeof(expect), "    #1 0x300123 in (%s+0x123) (module changed or missing)\n",
		 f.exe);
	ck_assert_msg(strstr(possible, expect), "%.1500s", possible);
	/* Cycles first, then groups largest first; cycle groups only above. */
	ck_assert(cycle < direct);
	ck_assert(direct < possible);
	ck_assert_msg(!strstr(text, "Cycle member"), "%.1500s", text);
	ck_assert_msg(!strstr(text, "Still reachable"), "%.1500s", text);

	ck_assert_msg(strstr(text, "SUMMARY: heapcycle: 160 byte(s) leaked in 4 allocation(s).\n"),
		      "%.1500s", text);
	ck_assert_msg(strstr(text, "LEAK SUMMARY (pid 4242):\n"
			     "   definitely lost: 40 bytes in 1 blocks\n"
			     "   indirectly lost: 0 bytes in 0 blocks\n"
			     "     possibly lost: 24 bytes in 1 blocks\n"
			     "  in leaked cycles: 96 bytes in 2 blocks (1 cycle)\n"
			     "   still reachable: 100 bytes in 1 blocks\n"), "%.1500s", text);
	ck_assert_msg(!strstr(text, "WARNING"), "%.1500s", text);
	ck_assert_msg(!strchr(text, '\033'), "colour without opts.color");

	hc_report_leak_totals(&in, 1, &blocks, &bytes);
	ck_assert_uint_eq(blocks, 4);
	ck_assert_uint_eq(bytes, 160);
	free(text);
	hc_symbolizer_free(sym);
}
END_TEST

START_TEST(test_report_text_options_flags_and_no_leaks)
{
	struct fx f;
	struct hc_symbolizer *sym;
	struct hc_report_opts opts = { .color = true, .show_reachable = true, .max_frames = 1 };
	struct hc_report_input in[2];
	struct hc_analysis clean;
	char *text;
	const char *p;

	fx_init(&f);
	f.snap.flags = HC_SNAP_DEGRADED | HC_SNAP_ROOTS_INCOMPLETE;
	ck_assert_int_eq(hc_symbolizer_new(&f.snap, &sym), HC_OK);
	in[0] = (struct hc_report_input){ "a.hcs", &f.snap, &f.an, sym };
	text = render(false, in, 1, &opts);
	ck_assert_msg(strchr(text, '\033'), "%.1500s", text);
	p = line_after(text, "Direct leak of 40 byte(s) in 1 object(s) allocated from:");
	ck_assert_msg(p && strstr(p, "hc_test_alloc_leaf"), "%.1500s", text);
	p = strchr(p, '\n') + 1;
	ck_assert_msg(strncmp(p, "    ... ", 8) == 0 && strstr(p, " more frame(s)\n"), "%.1500s", p);
	ck_assert_msg(!strstr(text, "    #1 "), "%.1500s", text);
	ck_assert_msg(strstr(text, "Still reachable of 100 byte(s) in 1 object(s) allocated from:"
			     C_RESET_FOR_TEST "\n    (no stack recorded)\n"), "%.1500s", text);
	ck_assert_msg(strstr(text, "out of memory"), "%.1500s", text);
	ck_assert_msg(strstr(text, "roots incomplete"), "%.1500s", text);
	free(text);

	/* Two processes, the second without leaks. */
	opts = (struct hc_report_opts){ 0 };
	clean = (struct hc_analysis){ .nblocks = 5, .block_class = f.block_class };
	clean.totals[HC_CLASS_REACHABLE] = (struct hc_class_total){ 3, 300 };
	in[1] = (struct hc_report_input){ "b.hcs", &f.snap, &clean, sym };
	text = render(false, in, 2, &opts);
	ck_assert_msg(strstr(text, "heapcycle: no leaks found (300 bytes in 3 blocks still reachable)\n"),
		      "%.1500s", text);
	ck_assert_msg(strstr(strstr(text, "b.hcs"), "no leaks found"), "%.1500s", text);
	free(text);
	hc_symbolizer_free(sym);
}
END_TEST

/* ---- JSON report ---- */

static const char json_checks[] =
	"import json, sys\n"
	"d = json.load(open(sys.argv[1], encoding='utf-8'))\n"
	"assert d['version'] == 1 and d['tool'] == 'heapcycle', d\n"
	"p, = d['processes']\n"
	"assert p['pid'] == 4242 and p['ppid'] == 1 and p['reason'] == 'exit'\n"
	"assert p['time'] == 1700000000123456789 and p['flags'] == ['stacks_off']\n"
	"assert p['snapshot'] == 'run.4242.hcs' and p['cmdline'] == 'run_unit --test'\n"
	"s = p['summary']\n"
	"assert s['direct'] == {'blocks': 1, 'bytes': 40}, s\n"
	"assert s['cycle'] == {'blocks': 2, 'bytes': 96}, s\n"
	"assert s['possible'] == {'blocks': 1, 'bytes': 24}, s\n"
	"assert s['reachable'] == {'blocks': 1, 'bytes': 100}, s\n"
	"assert s['leaked'] == {'blocks': 4, 'bytes': 160} and s['cycles'] == 1, s\n"
	"assert d['summary'] == s\n"
	"assert [(l['class'], l['blocks'], l['bytes']) for l in p['leaks']] == "
	"[('cycle', 2, 96), ('direct', 1, 40), ('possible', 1, 24)], p['leaks']\n"
	"st = p['leaks'][1]['stack']\n"
	"assert st[0]['function'] == 'hc_test_alloc_leaf', st\n"
	"assert st[0]['file'].endswith('test_report.c') and st[0]['line'] > 0, st\n"
	"assert st[0]['inlined'] is False and st[0]['offset'].startswith('0x'), st\n"
	"assert all('libheapcycle' not in (f['module'] or '') for f in st), st\n"
	"gone, stale = p['leaks'][2]['stack']\n"
	"assert gone == {'pc': '0x100040', 'function': None, 'file': None, 'line': None,\n"
	"    'module': '/nonexistent/dir/libgone.so.1', 'offset': '0x40', 'inlined': False}, gone\n"
	"assert stale['function'] is None and stale['offset'] == '0x123', stale\n"
	"c, = p['cycles']\n"
	"assert (c['bytes'], c['retained_bytes'], c['retained_blocks'], c['root']) == (96, 96, 2, True)\n"
	"assert [(m['address'], m['size'], m['type'], m['class']) for m in c['members']] == "
	"[('0x2000', 48, None, 'cycle'), ('0x3000', 48, None, 'cycle')], c\n"
	"assert c['members'][0]['stack'][0]['function'] == 'hc_test_make_node'\n"
	"assert c['edges'] == [{'from': 0, 'to': 1, 'offset': 8, 'to_offset': 0},\n"
	"    {'from': 1, 'to': 0, 'offset': 8, 'to_offset': 0}], c['edges']\n";

START_TEST(test_report_json_parses_and_has_the_values)
{
	struct fx f;
	struct hc_symbolizer *sym;
	struct hc_report_input in;
	char *text;

	fx_init(&f);
	f.snap.flags = HC_SNAP_STACKS_OFF;
	ck_assert_int_eq(hc_symbolizer_new(&f.snap, &sym), HC_OK);
	in = (struct hc_report_input){ "run.4242.hcs", &f.snap, &f.an, sym };
	text = render(true, &in, 1, NULL);
	ck_assert_msg(run_python(text, json_checks) == 0, "%.1500s", text);
	free(text);
	hc_symbolizer_free(sym);
}
END_TEST

START_TEST(test_report_json_escapes_strings)
{
	struct fx f;
	struct hc_report_input in[2];
	char *text;

	fx_init(&f);
	f.snap.exe = "/bin/caf\xc3\xa9\x01\t\\";	/* valid UTF-8 kept */
	f.snap.cmdline = "x\xed\xa0\x80y\xc0\xafz\xe2\x82";	/* surrogate, overlong, cut */
	in[0] = (struct hc_report_input){ "a\"b\nc\xff.hcs", &f.snap, &f.an, NULL };
	in[1] = in[0];
	in[1].path = NULL;
	text = render(true, in, 2, NULL);
	ck_assert_msg(strstr(text, "\"snapshot\": \"a\\\"b\\nc\\ufffd.hcs\""), "%.1500s", text);
	ck_assert_msg(strstr(text, "\"exe\": \"/bin/caf\xc3\xa9\\u0001\\t\\\\\""), "%.1500s", text);
	ck_assert_msg(strstr(text, "\"snapshot\": null"), "%.1500s", text);
	ck_assert_msg(run_python(text,
		"import json, sys\n"
		"d = json.load(open(sys.argv[1], encoding='utf-8'))\n"
		"p = d['processes'][0]\n"
		"assert p['snapshot'] == 'a\"b\\nc\\ufffd.hcs', p['snapshot']\n"
		"assert p['exe'] == '/bin/caf\\u00e9\\x01\\t\\\\', p['exe']\n"
		"assert p['cmdline'] == 'x\\ufffd\\ufffd\\ufffdy\\ufffd\\ufffdz\\ufffd\\ufffd', ascii(p['cmdline'])\n"
		"assert d['summary']['leaked'] == {'blocks': 8, 'bytes': 320}\n"
		"assert d['summary']['cycles'] == 2\n"
		"st = p['leaks'][1]['stack']\n"
		"assert [f['function'] for f in st] == [None, None, None, None], st\n"
		"assert st[0]['module'] is None and st[0]['offset'] == '0x200010', st\n") == 0,
		"%.1500s", text);
	free(text);
}
END_TEST

/* doc/report-schema.json against real output. python3-jsonschema is
 * optional: without it this test says so and passes, unless
 * HC_REQUIRE_JSONSCHEMA is set (CI sets it). */
START_TEST(test_report_json_matches_schema)
{
	struct fx f;
	struct hc_symbolizer *sym;
	struct hc_report_opts opts = { .show_reachable = true };
	struct hc_report_input in[2];
	char *text, *script = NULL;
	int rc;

	fx_init(&f);
	f.snap.flags = HC_SNAP_DEGRADED | HC_SNAP_ROOTS_INCOMPLETE | HC_SNAP_STACKS_OFF;
	f.edges[1].to_offset = 16;
	ck_assert_int_eq(hc_symbolizer_new(&f.snap, &sym), HC_OK);
	in[0] = (struct hc_report_input){ "a.hcs", &f.snap, &f.an, sym };
	in[1] = (struct hc_report_input){ NULL, &f.snap, &f.an, NULL };
	text = render(true, in, 2, &opts);
	ck_assert_int_gt(asprintf(&script,
		"import json, sys\n"
		"try:\n"
		"    import jsonschema\n"
		"except ImportError:\n"
		"    sys.exit(77)\n"
		"schema = json.load(open('%s'))\n"
		"jsonschema.Draft202012Validator.check_schema(schema)\n"
		"d = json.load(open(sys.argv[1]))\n"
		"jsonschema.Draft202012Validator(schema).validate(d)\n"
		"assert any(l['class'] == 'reachable' for l in d['processes'][0]['leaks'])\n"
		"d['processes'][0]['leaks'][0]['class'] = 'lost'\n"
		"assert not jsonschema.Draft202012Validator(schema).is_valid(d)\n",
		SCHEMA_PATH), 0);
	rc = run_python(text, script);
	if (rc == 77 && !getenv("HC_REQUIRE_JSONSCHEMA"))
		fprintf(stderr, "test_report_json_matches_schema: python3-jsonschema "
			"not installed, schema not checked\n");
	else
		ck_assert_msg(rc == 0, "schema check failed (%d): %.1500s", rc, text);
	free(script);
	free(text);
	hc_symbolizer_free(sym);
}
END_TEST

Suite *suite_report(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("symbolize");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_symbolize_names_function_and_file_of_this_binary);
	tcase_add_test(tc, test_symbolize_expands_inlined_call_with_call_site_line);
	tcase_add_test(tc, test_symbolize_wrong_build_id_is_stale);
	tcase_add_test(tc, test_symbolizers_share_a_module_across_snapshots);
	tcase_add_test(tc, test_symbolize_missing_file_is_stale_and_no_module_is_null);
	tcase_add_test(tc, test_symbolizer_internal_is_the_shim_only);
	tcase_add_test(tc, test_demangle);
	suite_add_tcase(s, tc);

	tc = tcase_create("report");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_report_text_leaks_cycles_and_summary);
	tcase_add_test(tc, test_report_text_options_flags_and_no_leaks);
	tcase_add_test(tc, test_report_json_parses_and_has_the_values);
	tcase_add_test(tc, test_report_json_escapes_strings);
	tcase_add_test(tc, test_report_json_matches_schema);
	suite_add_tcase(s, tc);
	return s;
}
