/* SPDX-License-Identifier: MIT */
/*
 * Symbolization for the reports: maps a recorded pc to function, file, line
 * and the chain of inlined calls, with libdw's Dwfl over the modules the
 * snapshot names (path, load bias, build-id). Each module gets its own Dwfl,
 * opened on the first pc that falls in it; its build-id is checked against
 * the recorded one so that a rebuilt or vanished file yields module+offset
 * frames, never a wrong name. Separate debug files are found by build-id
 * (/usr/lib/debug/.build-id, Debian's -dbgsym packages). Results are cached
 * per pc; the strings they point to live as long as the symbolizer. Finding
 * the module of a pc is the snapshot's job (hc_snapshot_module_of); what the
 * report does with the frames is report_text.c's and report_json.c's.
 */
#include "config.h"

#include <dlfcn.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdlib.h>
#include <string.h>

#include "symbolize.h"

/*
 * libstdc++'s demangler, declared by hand so that C code needs no C++
 * header. Weak, because the same object also goes into the shim, which
 * must not depend on libstdc++. A weak reference does not keep the tool's
 * -lstdc++ under --as-needed (Debian's default) either, so when it is
 * unresolved the library is looked up, or loaded, on first use (only the
 * tool symbolizes); without it, names stay mangled.
 */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len,
			    int *status) __attribute__((weak));

typedef char *(*hc_cxa_demangle_fn)(const char *, char *, size_t *, int *);

static hc_cxa_demangle_fn find_demangler(void)
{
	static hc_cxa_demangle_fn fn;
	static bool looked;
	void *lib;

	if (__cxa_demangle)
		return __cxa_demangle;
	if (!looked) {
		looked = true;
		fn = (hc_cxa_demangle_fn)dlsym(RTLD_DEFAULT, "__cxa_demangle");
		lib = fn ? NULL : dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
		if (lib)
			fn = (hc_cxa_demangle_fn)dlsym(lib, "__cxa_demangle");
	}
	return fn;
}

#define HC_SYM_NAME_MAX 4096u
#define HC_SYM_MAX_INLINE 64u	/* deeper inline chains are cut, outermost kept */

enum hc_sym_state {
	HC_SYM_UNOPENED = 0,
	HC_SYM_OPEN,
	HC_SYM_STALE,		/* file missing, unreadable or rebuilt */
};

/*
 * An opened module, shared by every symbolizer alive that names the same
 * file with the same build-id: a report of several processes (a compiler
 * driver and its children, a test suite) opens libc and decompresses its
 * debug information once, not once per snapshot. Reported at bias 0 and
 * looked up by module offset, since each process loaded it elsewhere.
 * The pool is the tool's, used from one thread.
 */
struct hc_sym_open {
	struct hc_sym_open *next;
	char *path;
	uint8_t build_id[HC_SNAPSHOT_MAX_BUILD_ID];
	uint32_t build_id_len;
	enum hc_sym_state state;
	Dwfl *dwfl;		/* one per module: modules never interfere */
	Dwfl_Module *mod;
	unsigned refs;
};

static struct hc_sym_open *hc_sym_pool;

struct hc_sym_module {
	enum hc_sym_state state;
	struct hc_sym_open *open;	/* NULL until first used */
};

/* A cached result: frames[first .. first + n) of the symbolizer. */
struct hc_sym_entry {
	uint64_t pc;
	uint32_t first;
	uint16_t n;
	uint8_t used;
	uint8_t return_address;
};

struct hc_symbolizer {
	const struct hc_snapshot *snap;
	struct hc_sym_module *mods;	/* one per snapshot module */

	struct hc_sym_entry *table;	/* open addressing, power-of-two size */
	size_t table_cap, table_used;

	struct hc_frame *frames;	/* cached frames, by index (realloc moves them) */
	size_t nframes, frames_cap;

	char **strings;			/* every string a frame points to */
	size_t nstrings, strings_cap;
};

static char *debuginfo_path;	/* NULL: libdw's default search path */

static const Dwfl_Callbacks hc_sym_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

const char *hc_demangle(const char *name, char *buf, size_t len)
{
	hc_cxa_demangle_fn demangle;
	char *d;
	int status = -1;
	size_t n;

	if (!name || !buf || len == 0 || strncmp(name, "_Z", 2) != 0)
		return name;
	demangle = find_demangler();
	if (!demangle)
		return name;
	d = demangle(name, NULL, NULL, &status);
	if (!d || status != 0) {
		free(d);
		return name;
	}
	n = strlen(d);
	if (n >= len)
		n = len - 1;
	memcpy(buf, d, n);
	buf[n] = '\0';
	free(d);	/* __cxa_demangle allocates with libc malloc */
	return buf;
}

int hc_symbolizer_new(const struct hc_snapshot *s, struct hc_symbolizer **out)
{
	struct hc_symbolizer *sym = NULL;
	int ret = HC_ERR_NOMEM;

	*out = NULL;
	sym = hc_mem_calloc(1, sizeof(*sym));
	if (!sym)
		goto out;
	sym->snap = s;
	if (s && s->nmodules) {
		sym->mods = hc_mem_calloc(s->nmodules, sizeof(*sym->mods));
		if (!sym->mods)
			goto out;
	}
	sym->table_cap = 256;
	sym->table = hc_mem_calloc(sym->table_cap, sizeof(*sym->table));
	if (!sym->table)
		goto out;
	*out = sym;
	sym = NULL;
	ret = HC_OK;
out:
	hc_symbolizer_free(sym);
	return ret;
}

static void sym_open_release(struct hc_sym_open *o)
{
	struct hc_sym_open **pp;

	if (--o->refs)
		return;
	for (pp = &hc_sym_pool; *pp; pp = &(*pp)->next)
		if (*pp == o) {
			*pp = o->next;
			break;
		}
	if (o->dwfl)
		dwfl_end(o->dwfl);
	hc_mem_free(o->path);
	hc_mem_free(o);
}

void hc_symbolizer_free(struct hc_symbolizer *sym)
{
	size_t i;

	if (!sym)
		return;
	if (sym->mods) {
		for (i = 0; i < sym->snap->nmodules; i++)
			if (sym->mods[i].open)
				sym_open_release(sym->mods[i].open);
	}
	for (i = 0; i < sym->nstrings; i++)
		hc_mem_free(sym->strings[i]);
	hc_mem_free(sym->strings);
	hc_mem_free(sym->frames);
	hc_mem_free(sym->table);
	hc_mem_free(sym->mods);
	hc_mem_free(sym);
}

/* Keeps a copy of s for the symbolizer's lifetime; NULL on failure or when s
 * is NULL (the frame then says "unknown", which is what it is). */
static const char *sym_keep(struct hc_symbolizer *sym, const char *s)
{
	char *copy;

	if (!s)
		return NULL;
	if (sym->nstrings == sym->strings_cap) {
		size_t cap = sym->strings_cap ? sym->strings_cap * 2 : 64;
		char **n = hc_mem_realloc(sym->strings, cap * sizeof(*n));

		if (!n)
			return NULL;
		sym->strings = n;
		sym->strings_cap = cap;
	}
	copy = hc_mem_strdup(s);
	if (!copy)
		return NULL;
	sym->strings[sym->nstrings++] = copy;
	return copy;
}

static const char *sym_keep_demangled(struct hc_symbolizer *sym, const char *name)
{
	char buf[HC_SYM_NAME_MAX];

	return sym_keep(sym, hc_demangle(name, buf, sizeof(buf)));
}

/*
 * Opens a module (its path absolute: sym_module checks). The build-id
 * check is what makes a frame trustworthy: a library rebuilt since the run
 * has the same path and different code, and its symbols would name the
 * wrong functions.
 */
static void sym_open_module(struct hc_sym_open *o)
{
	const unsigned char *bits = NULL;
	GElf_Addr vaddr = 0;
	int len;

	o->state = HC_SYM_STALE;
	o->dwfl = dwfl_begin(&hc_sym_callbacks);
	if (!o->dwfl)
		goto out;
	dwfl_report_begin(o->dwfl);
	o->mod = dwfl_report_elf(o->dwfl, o->path, o->path, -1, 0, false);
	dwfl_report_end(o->dwfl, NULL, NULL);
	if (!o->mod)
		goto out;
	if (o->build_id_len) {
		len = dwfl_module_build_id(o->mod, &bits, &vaddr);
		if (len <= 0 || (uint32_t)len != o->build_id_len ||
		    memcmp(bits, o->build_id, o->build_id_len) != 0)
			goto out;
	}
	o->state = HC_SYM_OPEN;
out:
	if (o->state != HC_SYM_OPEN && o->dwfl) {
		dwfl_end(o->dwfl);
		o->dwfl = NULL;
		o->mod = NULL;
	}
}

/* Module i of the snapshot, from the pool or opened on first use. Out of
 * memory, it is stale: its frames keep their module and offset. */
static struct hc_sym_module *sym_module(struct hc_symbolizer *sym, int i)
{
	const struct hc_module *m = &sym->snap->modules[i];
	struct hc_sym_module *sm = &sym->mods[i];
	struct hc_sym_open *o;

	if (sm->state != HC_SYM_UNOPENED)
		return sm;
	sm->state = HC_SYM_STALE;
	if (!m->path || m->path[0] != '/' || m->build_id_len > sizeof(o->build_id))
		return sm;
	for (o = hc_sym_pool; o; o = o->next)
		if (o->build_id_len == m->build_id_len && strcmp(o->path, m->path) == 0 &&
		    memcmp(o->build_id, m->build_id, m->build_id_len) == 0)
			break;
	if (!o) {
		o = hc_mem_calloc(1, sizeof(*o));
		if (!o)
			return sm;
		o->path = hc_mem_strdup(m->path);
		if (!o->path) {
			hc_mem_free(o);
			return sm;
		}
		memcpy(o->build_id, m->build_id, m->build_id_len);
		o->build_id_len = m->build_id_len;
		sym_open_module(o);
		o->next = hc_sym_pool;
		hc_sym_pool = o;
	}
	o->refs++;
	sm->open = o;
	sm->state = o->state;
	return sm;
}

/* The name a DIE gives its function: the linkage name (demangled, so C++
 * keeps its namespaces and parameter types) or else the plain name,
 * following DW_AT_abstract_origin for inlined and out-of-line copies. */
static const char *die_function_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name;

	if ((dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) ||
	     dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr)) &&
	    (name = dwarf_formstring(&attr)))
		return name;
	if (dwarf_attr_integrate(die, DW_AT_name, &attr) && (name = dwarf_formstring(&attr)))
		return name;
	return NULL;
}

/* The source file a DW_AT_call_file index names in the CU's file table. */
static const char *call_file(Dwarf_Die *cudie, Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	Dwarf_Word idx;
	Dwarf_Files *files;
	size_t nfiles;

	if (!dwarf_attr(die, DW_AT_call_file, &attr) || dwarf_formudata(&attr, &idx) != 0)
		return NULL;
	if (dwarf_getsrcfiles(cudie, &files, &nfiles) != 0 || idx >= nfiles)
		return NULL;
	return dwarf_filesrc(files, idx, NULL, NULL);
}

static unsigned die_udata(Dwarf_Die *die, int name)
{
	Dwarf_Attribute attr;
	Dwarf_Word v;

	if (!dwarf_attr(die, name, &attr) || dwarf_formudata(&attr, &v) != 0)
		return 0;
	return v > 0xffffffffu ? 0 : (unsigned)v;
}

static struct hc_frame *sym_push(struct hc_symbolizer *sym, const struct hc_frame *base)
{
	if (sym->nframes == sym->frames_cap) {
		size_t cap = sym->frames_cap ? sym->frames_cap * 2 : 256;
		struct hc_frame *n = hc_mem_realloc(sym->frames, cap * sizeof(*n));

		if (!n)
			return NULL;
		sym->frames = n;
		sym->frames_cap = cap;
	}
	sym->frames[sym->nframes] = *base;
	return &sym->frames[sym->nframes++];
}

/*
 * Appends the frames of one pc to sym->frames, innermost first: one per
 * DW_TAG_inlined_subroutine scope around the address (each located where
 * the line table, or the inner inline's DW_AT_call_file/line, says), then
 * the enclosing function. Without DWARF, the ELF symbol alone.
 */
static void sym_resolve(struct hc_symbolizer *sym, uint64_t pc, bool return_address)
{
	struct hc_frame base = { .pc = pc };
	struct hc_frame *f;
	struct hc_sym_module *sm;
	const char *symname = NULL, *file = NULL, *name;
	Dwarf_Addr addr;
	Dwarf_Addr bias = 0;
	Dwfl_Module *mod;
	Dwarf_Die *cudie, *scopes = NULL;
	Dwfl_Line *line;
	GElf_Off off;
	GElf_Sym elfsym;
	int i, nscopes = 0, lineno = 0, col = 0;
	unsigned emitted = 0;
	int mi = sym->snap ? hc_snapshot_module_of(sym->snap, pc) : -1;

	if (mi < 0) {
		sym_push(sym, &base);
		return;
	}
	base.module = sym->snap->modules[mi].path;
	base.module_offset = pc - sym->snap->modules[mi].bias;
	sm = sym_module(sym, mi);
	if (sm->state != HC_SYM_OPEN) {
		base.stale = true;
		sym_push(sym, &base);
		return;
	}
	/* The module is reported at bias 0 (it is shared, see hc_sym_open). */
	mod = sm->open->mod;
	addr = return_address && base.module_offset > 0 ? base.module_offset - 1 :
							   base.module_offset;

	symname = dwfl_module_addrinfo(mod, addr, &off, &elfsym, NULL, NULL, NULL);
	line = dwfl_module_getsrc(mod, addr);
	if (line)
		file = dwfl_lineinfo(line, NULL, &lineno, &col, NULL, NULL);

	cudie = dwfl_module_addrdie(mod, addr, &bias);
	if (cudie)
		nscopes = dwarf_getscopes(cudie, addr - bias, &scopes);
	for (i = 0; i < nscopes && emitted < HC_SYM_MAX_INLINE; i++) {
		int tag = dwarf_tag(&scopes[i]);

		if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram)
			continue;
		f = sym_push(sym, &base);
		if (!f)
			goto out;
		emitted++;
		f->file = sym_keep(sym, file);
		f->line = lineno > 0 ? (unsigned)lineno : 0;
		f->column = col > 0 ? (unsigned)col : 0;
		if (tag == DW_TAG_subprogram) {
			/* The ELF symbol is what LSan and gdb show for the
			 * outer function; the DIE is the fallback. */
			name = symname ? symname : die_function_name(&scopes[i]);
			f->function = sym_keep_demangled(sym, name);
			goto out;
		}
		f->function = sym_keep_demangled(sym, die_function_name(&scopes[i]));
		f->inlined = true;
		/* The caller's location is where this inline was called. */
		file = call_file(cudie, &scopes[i]);
		lineno = (int)die_udata(&scopes[i], DW_AT_call_line);
		col = (int)die_udata(&scopes[i], DW_AT_call_column);
	}
	/* No enclosing subprogram DIE (no DWARF, or a chain cut short): one
	 * more frame from the symbol table. */
	f = sym_push(sym, &base);
	if (!f)
		goto out;
	f->function = sym_keep_demangled(sym, symname);
	f->file = sym_keep(sym, file);
	f->line = lineno > 0 ? (unsigned)lineno : 0;
	f->column = col > 0 ? (unsigned)col : 0;
out:
	free(scopes);	/* dwarf_getscopes allocates with libc malloc */
}

static size_t sym_hash(uint64_t pc, bool return_address)
{
	uint64_t h = (pc ^ (uint64_t)return_address) * 0x9e3779b97f4a7c15ull;

	return (size_t)(h ^ (h >> 29));
}

static bool sym_grow(struct hc_symbolizer *sym)
{
	size_t cap = sym->table_cap * 2, i, j;
	struct hc_sym_entry *n = hc_mem_calloc(cap, sizeof(*n));

	if (!n)
		return false;
	for (i = 0; i < sym->table_cap; i++) {
		const struct hc_sym_entry *e = &sym->table[i];

		if (!e->used)
			continue;
		for (j = sym_hash(e->pc, e->return_address) & (cap - 1); n[j].used; j = (j + 1) & (cap - 1))
			;
		n[j] = *e;
	}
	hc_mem_free(sym->table);
	sym->table = n;
	sym->table_cap = cap;
	return true;
}

unsigned hc_symbolize(struct hc_symbolizer *sym, uint64_t pc, bool return_address,
		      struct hc_frame *out, unsigned max)
{
	struct hc_sym_entry *e;
	size_t j, first;
	unsigned i, n;

	if (max == 0)
		return 0;
	if (!sym) {
		memset(out, 0, sizeof(*out));
		out->pc = pc;
		return 1;
	}
	if ((sym->table_used + 1) * 4 > sym->table_cap * 3)
		sym_grow(sym);	/* on failure the table is still usable, only fuller */
	for (j = sym_hash(pc, return_address) & (sym->table_cap - 1);; j = (j + 1) & (sym->table_cap - 1)) {
		e = &sym->table[j];
		if (!e->used || (e->pc == pc && e->return_address == return_address))
			break;
	}
	if (!e->used) {
		first = sym->nframes;
		sym_resolve(sym, pc, return_address);
		if (sym->nframes == first || first > UINT32_MAX || sym->table_used + 1 >= sym->table_cap) {
			/* Out of memory: answer without caching. */
			sym->nframes = first;
			memset(out, 0, sizeof(*out));
			out->pc = pc;
			return 1;
		}
		e->used = 1;
		e->pc = pc;
		e->return_address = return_address;
		e->first = (uint32_t)first;
		e->n = (uint16_t)(sym->nframes - first);
		sym->table_used++;
	}
	/* Keep the outermost frames when out is short: the real function
	 * the return address is in matters more than what was inlined. */
	n = e->n < max ? e->n : max;
	for (i = 0; i < n; i++)
		out[i] = sym->frames[e->first + e->n - n + i];
	return n;
}

bool hc_symbolizer_is_internal(struct hc_symbolizer *sym, uint64_t pc)
{
	const char *path, *base;
	int mi;

	if (!sym || !sym->snap)
		return false;
	mi = hc_snapshot_module_of(sym->snap, pc);
	if (mi < 0)
		return false;
	path = sym->snap->modules[mi].path;
	if (!path)
		return false;
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	return strncmp(base, "libheapcycle", 12) == 0;
}
