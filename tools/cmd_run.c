/* SPDX-License-Identifier: MIT */
/*
 * `heapcycle run`: finds the shim, chooses where the snapshots go (a private
 * mkdtemp directory, or the user's -o pattern), starts PROG with the shim in
 * LD_PRELOAD and the options in HEAPCYCLE_OPTIONS, waits for it like a shell
 * would (SIGINT and SIGQUIT belong to PROG; SIGTERM, SIGHUP and the
 * snapshot signal are passed on), then finds the snapshots every process of
 * the run wrote and reports them on standard error, which leaves PROG's
 * standard output untouched. The tool is the subreaper of PROG's process
 * tree, so that it knows of the processes PROG leaves running.
 * Suppression and baseline files are read before PROG starts, so a broken
 * one costs no run.
 * The shim (preload/) writes the snapshots; cmd_report.c reads and reports
 * them.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hc.h"
#include "options.h"
#include "tool.h"

#define HC_RUN_ENV_MAX (2 * HC_OPTION_STRING_MAX + 1024)

/* The child's pid, for the forwarding handler; 0 when there is none. */
static volatile sig_atomic_t hc_run_child;

static void hc_run_forward_cb(int sig)
{
	int saved = errno;
	pid_t pid = (pid_t)hc_run_child;

	if (pid > 0)
		kill(pid, sig);
	errno = saved;
}

/* A file that matched the output pattern before the run started. */
struct hc_run_seen {
	char *path;
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
	off_t size;
};

/* What one run owns, released by hc_run_state_fini. */
struct hc_run_state {
	char *shim;			/* absolute path of libheapcycle.so */
	char *tmpdir;			/* the private directory, or NULL with -o */
	char *glob_pat;			/* the -o pattern as a glob */
	struct hc_run_seen *seen;	/* matches before the run (-o only) */
	size_t nseen;
	char **files;			/* snapshots the run wrote */
	size_t nfiles;
	bool *is_api;			/* per file: written by heapcycle_snapshot() */
};

static void hc_run_state_fini(struct hc_run_state *st)
{
	free(st->shim);
	free(st->tmpdir);
	free(st->glob_pat);
	for (size_t k = 0; k < st->nseen; k++)
		free(st->seen[k].path);
	free(st->seen);
	for (size_t k = 0; k < st->nfiles; k++)
		free(st->files[k]);
	free(st->files);
	free(st->is_api);
}

static bool hc_run_is_file(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/*
 * $HEAPCYCLE_PRELOAD, else the installed shim, else the one in the build
 * tree next to this binary. Returns a malloc'd absolute path, or NULL after
 * printing one line.
 */
static char *hc_run_find_shim(void)
{
	const char *env = getenv("HEAPCYCLE_PRELOAD");
	char exe[PATH_MAX], cand[PATH_MAX + 64] = "";
	char *shim = NULL, *slash;
	ssize_t len;

	if (env && *env) {
		shim = realpath(env, NULL);
		if (!shim || !hc_run_is_file(shim)) {
			hc_tool_error("HEAPCYCLE_PRELOAD: %s: %s", env,
				      shim ? "not a regular file" : strerror(errno));
			free(shim);
			shim = NULL;
		}
		goto out;
	}
	if (hc_run_is_file(HC_PRELOAD_PATH)) {
		shim = realpath(HC_PRELOAD_PATH, NULL);
		goto out;
	}
	/* Running from the build tree: BUILD/tools/heapcycle next to
	 * BUILD/preload/.libs/libheapcycle.so. */
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len > 0) {
		exe[len] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(cand, sizeof(cand), "%s/../preload/.libs/libheapcycle.so", exe);
			if (hc_run_is_file(cand))
				shim = realpath(cand, NULL);
		}
	}
out:
	if (!shim && !env)
		hc_tool_error("cannot find the heapcycle shim: no %s%s%s "
			      "(set HEAPCYCLE_PRELOAD to the path of libheapcycle.so)",
			      HC_PRELOAD_PATH, cand[0] ? " nor " : "", cand);
	return shim;
}

/*
 * Expands an output pattern as the shim does: %p becomes pid (a process
 * id, or '*' for a glob), %% a percent sign; with glob_escape, glob's own
 * special characters are escaped. Returns a malloc'd string or NULL (no
 * memory).
 */
static char *hc_run_expand(const char *pat, const char *pid, bool glob_escape)
{
	char *g = malloc(strlen(pat) * (2 + strlen(pid)) + 1), *w = g;

	if (!g)
		return NULL;
	for (const char *r = pat; *r; r++) {
		if (r[0] == '%' && r[1] == 'p') {
			w = stpcpy(w, pid);
			r++;
		} else if (r[0] == '%' && r[1] == '%') {
			*w++ = '%';
			r++;
		} else {
			if (glob_escape && strchr("*?[]\\", *r))
				*w++ = '\\';
			*w++ = *r;
		}
	}
	*w = '\0';
	return g;
}

/* True if s, after the base name matched by the pattern, is ".N". */
static bool hc_run_is_numeric_suffix(const char *s)
{
	if (*s++ != '.' || !*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static int hc_run_versioncmp_cb(const void *a, const void *b)
{
	return strverscmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Lists the regular files matching the glob or the glob plus a ".N" suffix
 * (the shim's name for a second snapshot of the same pid), in version
 * order, without duplicates. Returns HC_OK or HC_ERR_NOMEM; *out is a
 * malloc'd vector of malloc'd strings.
 */
static int hc_run_glob(const char *pat, char ***out, size_t *nout)
{
	glob_t g1 = { 0 }, g2 = { 0 };
	char *pat2 = NULL;
	char **v = NULL;
	size_t n = 0, base;
	int rc = HC_ERR_NOMEM;

	*out = NULL;
	*nout = 0;
	if (asprintf(&pat2, "%s.*", pat) < 0) {
		pat2 = NULL;
		goto out;
	}
	if (glob(pat, 0, NULL, &g1) == GLOB_NOSPACE ||
	    glob(pat2, 0, NULL, &g2) == GLOB_NOSPACE)
		goto out;
	v = calloc(g1.gl_pathc + g2.gl_pathc + 1, sizeof(*v));
	if (!v)
		goto out;
	for (size_t k = 0; k < g1.gl_pathc + g2.gl_pathc; k++) {
		bool first = k < g1.gl_pathc;
		const char *p = first ? g1.gl_pathv[k] : g2.gl_pathv[k - g1.gl_pathc];

		if (!hc_run_is_file(p))
			continue;
		if (!first) {
			/* Keep PATH.N only when PATH itself matches the pattern. */
			const char *dot = strrchr(p, '.');
			bool found = false;

			if (!dot || !hc_run_is_numeric_suffix(dot))
				continue;
			base = (size_t)(dot - p);
			for (size_t j = 0; j < g1.gl_pathc; j++)
				if (strlen(g1.gl_pathv[j]) == base &&
				    !strncmp(g1.gl_pathv[j], p, base))
					found = true;
			if (!found)
				continue;
		}
		v[n] = strdup(p);
		if (!v[n])
			goto out;
		n++;
	}
	qsort(v, n, sizeof(*v), hc_run_versioncmp_cb);
	*out = v;
	*nout = n;
	v = NULL;
	rc = HC_OK;
out:
	if (v) {
		for (size_t k = 0; k < n; k++)
			free(v[k]);
		free(v);
	}
	free(pat2);
	if (g1.gl_pathv)
		globfree(&g1);
	if (g2.gl_pathv)
		globfree(&g2);
	return rc;
}

/*
 * With -o the files the run wrote are those matching the pattern that did
 * not exist before, or that were replaced (the overwrite option): record
 * what is there now. Returns HC_OK or HC_ERR_NOMEM.
 */
static int hc_run_record_before(struct hc_run_state *st)
{
	char **v = NULL;
	size_t n = 0;
	int rc;

	rc = hc_run_glob(st->glob_pat, &v, &n);
	if (rc != HC_OK)
		goto out;
	st->seen = calloc(n + 1, sizeof(*st->seen));
	if (!st->seen) {
		rc = HC_ERR_NOMEM;
		goto out;
	}
	for (size_t k = 0; k < n; k++) {
		struct stat sb;

		if (stat(v[k], &sb) != 0)
			continue;
		st->seen[st->nseen] = (struct hc_run_seen){
			.path = v[k], .dev = sb.st_dev, .ino = sb.st_ino,
			.mtime = sb.st_mtim, .size = sb.st_size,
		};
		st->nseen++;
		v[k] = NULL;
	}
out:
	for (size_t k = 0; k < n; k++)
		free(v[k]);
	free(v);
	return rc;
}

static bool hc_run_was_there(const struct hc_run_state *st, const char *path)
{
	struct stat sb;

	if (stat(path, &sb) != 0)
		return true;	/* gone again: nothing to report */
	for (size_t k = 0; k < st->nseen; k++) {
		const struct hc_run_seen *s = &st->seen[k];

		if (strcmp(s->path, path))
			continue;
		return s->dev == sb.st_dev && s->ino == sb.st_ino &&
		       s->size == sb.st_size &&
		       s->mtime.tv_sec == sb.st_mtim.tv_sec &&
		       s->mtime.tv_nsec == sb.st_mtim.tv_nsec;
	}
	return false;
}

/*
 * Fills st->files with the snapshots of this run. Returns HC_OK or
 * HC_ERR_NOMEM.
 */
static int hc_run_collect(struct hc_run_state *st)
{
	char **v = NULL;
	size_t n = 0, kept = 0;
	int rc;

	rc = hc_run_glob(st->glob_pat, &v, &n);
	if (rc != HC_OK)
		goto out;
	for (size_t k = 0; k < n; k++) {
		if (!st->tmpdir && hc_run_was_there(st, v[k])) {
			free(v[k]);
			continue;
		}
		v[kept++] = v[k];
	}
	st->files = v;
	st->nfiles = kept;
	v = NULL;
	st->is_api = calloc(kept + 1, sizeof(*st->is_api));
	if (!st->is_api)
		rc = HC_ERR_NOMEM;
out:
	free(v);
	return rc;
}

/*
 * Removes the private directory and what the run wrote in it, except the
 * files flagged in keep. Returns true if the directory is gone.
 */
static bool hc_run_remove_tmpdir(struct hc_run_state *st, const bool *keep)
{
	bool kept_any = false;
	DIR *d;
	struct dirent *e;

	d = opendir(st->tmpdir);
	if (!d)
		return false;
	while ((e = readdir(d))) {
		char path[PATH_MAX];
		bool keep_it = false;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", st->tmpdir,
				     e->d_name) >= sizeof(path))
			continue;
		for (size_t k = 0; keep && k < st->nfiles; k++)
			if (keep[k] && !strcmp(st->files[k], path))
				keep_it = true;
		if (keep_it || unlink(path) != 0)
			kept_any = true;
	}
	closedir(d);
	if (kept_any)
		return false;
	return rmdir(st->tmpdir) == 0;
}

/*
 * Why the shim could not create a snapshot at path (absolute, the pattern
 * expanded for the program's pid), checked the way opening it goes: the
 * path, its directory, the file name. Writes the reason, naming what is
 * wrong, to why and returns it; returns NULL when nothing stands in the
 * way, so that the shim was not loaded or was not asked to write.
 */
static const char *hc_run_why_no_file(const char *path, char *why, size_t len)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	struct stat sb;
	size_t dlen;
	long name_max;

	if (strlen(path) >= sizeof(dir)) {
		snprintf(why, len, "the path is longer than %zu bytes", sizeof(dir) - 1);
		return why;
	}
	if (!slash)
		return NULL;
	dlen = slash == path ? 1 : (size_t)(slash - path);
	memcpy(dir, path, dlen);
	dir[dlen] = '\0';
	if (stat(dir, &sb) != 0) {
		if (errno == ENOENT)
			snprintf(why, len, "the directory %s does not exist", dir);
		else
			snprintf(why, len, "%s: %s", dir, strerror(errno));
		return why;
	}
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(why, len, "%s is not a directory", dir);
		return why;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		snprintf(why, len, "the directory %s is not writable: %s", dir, strerror(errno));
		return why;
	}
	name_max = pathconf(dir, _PC_NAME_MAX);
	if (name_max <= 0)
		name_max = NAME_MAX;
	if (strlen(slash + 1) > (size_t)name_max) {
		snprintf(why, len, "the file name is longer than %ld bytes", name_max);
		return why;
	}
	return NULL;
}

/* Makes a private directory and points the output option into it. */
static int hc_run_make_tmpdir(struct hc_run_state *st, struct hc_options *o)
{
	const char *base = getenv("TMPDIR");
	char *dir = NULL;
	int rc = HC_ERR_IO;

	if (!base || !*base)
		base = "/tmp";
	if (asprintf(&dir, "%s/heapcycle.XXXXXX", base) < 0) {
		dir = NULL;
		rc = HC_ERR_NOMEM;
		goto out;
	}
	if (!mkdtemp(dir)) {
		hc_tool_error("cannot make a directory for the snapshots in %s: %s",
			      base, strerror(errno));
		goto out;
	}
	if ((size_t)snprintf(o->output, sizeof(o->output), "%s/heapcycle.%%p.hcs",
			     dir) >= sizeof(o->output)) {
		rmdir(dir);
		hc_tool_error("%s: path too long", base);
		goto out;
	}
	st->tmpdir = dir;
	dir = NULL;
	rc = HC_OK;
out:
	free(dir);
	return rc;
}

/*
 * The user's pattern, made absolute so that a PROG that changes directory
 * still writes where the tool will look.
 */
static int hc_run_absolute_output(struct hc_options *o)
{
	char cwd[PATH_MAX], buf[HC_OPTION_STRING_MAX];
	int rc = HC_ERR_ARG;
	size_t clen;

	if (o->output[0] == '/')
		return HC_OK;
	if (!getcwd(cwd, sizeof(cwd))) {
		hc_tool_error("cannot find the current directory: %s", strerror(errno));
		goto out;
	}
	/* The pattern is expanded by the shim: a '%' in the directory's name
	 * must reach it as "%%". */
	clen = 0;
	for (const char *r = cwd; *r; r++) {
		if (clen + 3 >= sizeof(buf))
			goto too_long;
		if (*r == '%')
			buf[clen++] = '%';
		buf[clen++] = *r;
	}
	if ((size_t)snprintf(buf + clen, sizeof(buf) - clen, "/%s", o->output) >=
	    sizeof(buf) - clen)
		goto too_long;
	memcpy(o->output, buf, sizeof(buf));
	rc = HC_OK;
	goto out;
too_long:
	hc_tool_error("output path too long: %s/%s", cwd, o->output);
out:
	return rc;
}

struct hc_run_env {
	char *ld_preload;
	char options[HC_RUN_ENV_MAX];
};

/* Builds the child's LD_PRELOAD and HEAPCYCLE_OPTIONS. */
static int hc_run_build_env(const struct hc_run_state *st,
			    const struct hc_options *o, struct hc_run_env *env)
{
	const char *old = getenv("LD_PRELOAD");
	int rc = HC_ERR_ARG;

	/* ld.so splits LD_PRELOAD at spaces and colons, with no escape. */
	if (strpbrk(st->shim, ": \t\n")) {
		hc_tool_error("%s: the shim's path cannot contain ':' or white space "
			      "(LD_PRELOAD cannot carry it)", st->shim);
		goto out;
	}
	if (hc_options_format(o, env->options, sizeof(env->options)) != HC_OK) {
		hc_tool_error("cannot pass the output path '%s' to the shim: "
			      "HEAPCYCLE_OPTIONS cannot carry ':' or white space",
			      o->output);
		goto out;
	}
	if (asprintf(&env->ld_preload, "%s%s%s", st->shim,
		     old && *old ? ":" : "", old && *old ? old : "") < 0) {
		env->ld_preload = NULL;
		hc_tool_error("out of memory");
		rc = HC_ERR_NOMEM;
		goto out;
	}
	rc = HC_OK;
out:
	return rc;
}

/*
 * Starts PROG and waits for it. Returns its pid in *child and its wait
 * status in *wstatus, or -1 with *exec_errno set when it could not be
 * started (fork or exec).
 * snap_sig (0: none) is the snapshot signal: passed on to PROG like
 * SIGTERM, so that it can be sent to the tool, and so that it does not
 * kill the tool (and lose the report) when it is sent to the whole
 * process group.
 */
static int hc_run_spawn(char **prog_argv, const struct hc_run_env *env, int snap_sig,
			pid_t *child, int *wstatus, int *exec_errno)
{
	int fwd[3] = { SIGTERM, SIGHUP, 0 };
	static const int ign[] = { SIGINT, SIGQUIT };
	const size_t nfwd = snap_sig > 0 && snap_sig < NSIG && snap_sig != SIGKILL &&
			    snap_sig != SIGSTOP && snap_sig != SIGTERM && snap_sig != SIGHUP &&
			    snap_sig != SIGINT && snap_sig != SIGQUIT ? 3 : 2;
	struct sigaction sa_ign = { .sa_handler = SIG_IGN };
	struct sigaction sa_fwd = { .sa_handler = hc_run_forward_cb };
	struct sigaction old_fwd[3], old_ign[2];
	sigset_t block, oldmask;
	int pfd[2] = { -1, -1 };
	int rc = -1, err = 0;
	ssize_t got;
	pid_t pid;

	*exec_errno = 0;
	fwd[2] = snap_sig;
	sigemptyset(&block);
	for (size_t k = 0; k < nfwd; k++)
		sigaddset(&block, fwd[k]);
	for (size_t k = 0; k < 2; k++)
		sigaddset(&block, ign[k]);
	sigemptyset(&sa_ign.sa_mask);
	sigfillset(&sa_fwd.sa_mask);
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		*exec_errno = errno;
		goto out;
	}
	fflush(stdout);
	fflush(stderr);
	/* Blocked from before the fork until the handlers are in place, so a
	 * signal cannot hit the tool in between; the child unblocks at once
	 * and keeps the dispositions the tool was started with. */
	sigprocmask(SIG_BLOCK, &block, &oldmask);
	/* Orphans of PROG's tree become ours, not init's: when PROG exits,
	 * those still running are ours to name (hc_run_note_orphans). */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	pid = fork();
	if (pid < 0) {
		*exec_errno = errno;
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		goto out;
	}
	if (pid == 0) {
		close(pfd[0]);
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		if (setenv("LD_PRELOAD", env->ld_preload, 1) == 0 &&
		    (env->options[0] ? setenv("HEAPCYCLE_OPTIONS", env->options, 1)
				     : unsetenv("HEAPCYCLE_OPTIONS")) == 0 &&
		    setenv("G_SLICE", "always-malloc", 0) == 0)
			execvp(prog_argv[0], prog_argv);
		err = errno;
		while (write(pfd[1], &err, sizeof(err)) < 0 && errno == EINTR)
			;
		_exit(HC_EXIT_NOTFOUND);
	}
	close(pfd[1]);
	pfd[1] = -1;
	for (size_t k = 0; k < 2; k++)
		sigaction(ign[k], &sa_ign, &old_ign[k]);
	for (size_t k = 0; k < nfwd; k++)
		sigaction(fwd[k], &sa_fwd, &old_fwd[k]);
	hc_run_child = pid;
	*child = pid;
	sigprocmask(SIG_SETMASK, &oldmask, NULL);

	/* The pipe closes on a successful exec; an int on it is exec's errno. */
	do {
		got = read(pfd[0], &err, sizeof(err));
	} while (got < 0 && errno == EINTR);
	while (waitpid(pid, wstatus, 0) < 0) {
		if (errno != EINTR) {
			*exec_errno = errno;
			break;
		}
	}
	hc_run_child = 0;
	for (size_t k = 0; k < 2; k++)
		sigaction(ign[k], &old_ign[k], NULL);
	for (size_t k = 0; k < nfwd; k++)
		sigaction(fwd[k], &old_fwd[k], NULL);
	if (got == (ssize_t)sizeof(err)) {
		*exec_errno = err;
		goto out;
	}
	if (*exec_errno == 0)
		rc = 0;
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	return rc;
}

static int hc_run_exit_status(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 1;
}

/* Prints the note on snapshots taken while the program ran (by
 * heapcycle_snapshot(), on a signal or on the interval). */
static void hc_run_note_api(const struct hc_run_state *st)
{
	size_t napi = 0;

	for (size_t k = 0; k < st->nfiles; k++)
		napi += st->is_api[k];
	if (!napi)
		return;
	fflush(stdout);
	fprintf(stderr, "heapcycle: note: %zu snapshot%s taken while the program ran "
		"(heapcycle_snapshot(), a signal, an interval) not reported, "
		"see 'heapcycle report':", napi, napi > 1 ? "s" : "");
	for (size_t k = 0; k < st->nfiles; k++)
		if (st->is_api[k])
			fprintf(stderr, " %s", st->files[k]);
	fputc('\n', stderr);
}

/*
 * Says why the run left no snapshot to report, with the real reason when
 * the file could not be created (the shim's own line is lost with
 * quiet, and cannot say that --check fails). shim_ran: the program took
 * snapshots while it ran, so the shim was loaded. Returns HC_OK, or
 * HC_ERR_NOMEM with nothing printed.
 */
static int hc_run_say_no_snapshot(const struct hc_options *o, const char *prog,
				  pid_t child, int wstatus, bool shim_ran)
{
	const char *lead = o->check && !WIFSIGNALED(wstatus) ?
			   "no snapshot was written, so --check fails" : "no snapshot was written";
	char pid[24], why[PATH_MAX + 128];
	char *path;

	if (!o->snapshot_at_exit) {
		hc_tool_error("%s: snapshot_at_exit is off", lead);
		return HC_OK;
	}
	if (WIFSIGNALED(wstatus)) {
		hc_tool_error("%s: %s was killed by SIG%s", lead, prog,
			      sigabbrev_np(WTERMSIG(wstatus)) ?
			      sigabbrev_np(WTERMSIG(wstatus)) : "?");
		return HC_OK;
	}
	snprintf(pid, sizeof(pid), "%ld", (long)child);
	path = hc_run_expand(o->output, pid, false);
	if (!path)
		return HC_ERR_NOMEM;
	if (hc_run_why_no_file(path, why, sizeof(why)))
		hc_tool_error("%s: cannot create %s: %s", lead, path, why);
	else if (shim_ran)
		hc_tool_error("%s: %s took snapshots while it ran, but none at exit",
			      lead, prog);
	else
		hc_tool_error("%s: %s may be statically linked or setuid, or may have "
			      "cleared LD_PRELOAD", lead, prog);
	free(path);
	return HC_OK;
}

/*
 * Processes of PROG's tree still running after PROG exited: reparented to
 * the tool, its subreaper. Those that already exited are reaped (their
 * snapshots are in place); the pids of the others go to pids (at most
 * cap, *npids of them: none when the kernel does not list children).
 * Returns how many are still running.
 */
static size_t hc_run_orphans(pid_t *pids, size_t cap, size_t *npids)
{
	char path[64];
	FILE *f;
	size_t n = 0;
	long pid;
	int ws;

	*npids = 0;
	while (waitpid(-1, &ws, WNOHANG) > 0)
		;
	snprintf(path, sizeof(path), "/proc/self/task/%ld/children", (long)getpid());
	f = fopen(path, "r");
	if (!f) {
		/* No children file (CONFIG_PROC_CHILDREN): only whether any. */
		return waitpid(-1, &ws, WNOHANG) == 0;
	}
	while (fscanf(f, "%ld", &pid) == 1) {
		if (n < cap)
			pids[(*npids)++] = (pid_t)pid;
		n++;
	}
	fclose(f);
	return n;
}

/* Names the processes PROG left running: their snapshots come when they
 * exit, after this report, and where they will be written. */
static void hc_run_note_orphans(const struct hc_options *o, const struct hc_run_state *st,
				const char *prog, const pid_t *pids, size_t n, size_t npids)
{
	fflush(stdout);
	fprintf(stderr, "heapcycle: note: %zu process%s started by %s %s still running when it "
		"exited", n, n > 1 ? "es" : "", prog, n > 1 ? "were" : "was");
	for (size_t k = 0; k < npids; k++)
		fprintf(stderr, "%s%ld", k ? " " : " (pid ", (long)pids[k]);
	fprintf(stderr, "%s%s; not in this report%s: each writes its snapshot when it "
		"exits, to %s\n", npids ? ")" : "", npids < n ? " and more" : "",
		o->check ? " nor in --check" : "", st->tmpdir ? st->tmpdir : o->output);
}

int hc_cmd_run(struct hc_options *o, bool output_given, int argc, char **argv)
{
	struct hc_run_state st = { 0 };
	struct hc_run_env env = { 0 };
	struct hc_tool_extras x = { 0 };
	struct hc_tool_result res = { 0 };
	char **prog_argv;
	int status = HC_EXIT_USAGE;
	int wstatus = 0, exec_errno = 0;
	pid_t child = 0, orphans[16];
	size_t nreported, norphans = 0, npids = 0;
	bool nomem = false;
	int i = 1;

	/* Options end at the first operand (PROG) or at "--": what follows
	 * belongs to PROG. */
	while (i < argc && argv[i][0] == '-') {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			hc_tool_print_help(stdout);
			status = fflush(stdout) ? 1 : 0;
			goto out;
		}
		if (hc_tool_parse_option(o, argc, argv, &i, true, &output_given) != HC_OK)
			goto out;
	}
	if (hc_tool_check_options(o) != HC_OK)
		goto out;
	if (i >= argc) {
		status = hc_tool_usage("run: no program given");
		goto out;
	}
	prog_argv = argv + i;
	if (hc_tool_extras_load(o, &x) != HC_OK)
		goto out;

	st.shim = hc_run_find_shim();
	if (!st.shim)
		goto out;
	if (output_given) {
		if (hc_run_absolute_output(o) != HC_OK)
			goto out;
	} else if (hc_run_make_tmpdir(&st, o) != HC_OK) {
		goto out;
	}
	if (hc_run_build_env(&st, o, &env) != HC_OK)
		goto out;
	st.glob_pat = hc_run_expand(o->output, "*", true);
	if (!st.glob_pat || (!st.tmpdir && hc_run_record_before(&st) != HC_OK)) {
		nomem = true;
		goto out;
	}

	if (hc_run_spawn(prog_argv, &env, o->snapshot_signal, &child, &wstatus,
			 &exec_errno) != 0) {
		hc_tool_error("cannot run %s: %s", prog_argv[0], strerror(exec_errno));
		status = exec_errno == ENOENT ? HC_EXIT_NOTFOUND : HC_EXIT_NOEXEC;
		goto out;
	}
	status = hc_run_exit_status(wstatus);
	norphans = hc_run_orphans(orphans, HC_ARRAY_SIZE(orphans), &npids);

	if (hc_run_collect(&st) != HC_OK) {
		nomem = true;
		goto out;
	}
	if (hc_tool_report_files(stderr, st.files, st.nfiles, o, &x,
				 hc_tool_want_color(STDERR_FILENO), st.is_api,
				 &res) == HC_ERR_NOMEM) {
		nomem = true;
		goto out;
	}
	hc_run_note_api(&st);
	if (norphans)
		hc_run_note_orphans(o, &st, prog_argv[0], orphans, norphans, npids);
	nreported = res.nread;
	if (nreported == 0 && res.nfailed == 0 &&
	    hc_run_say_no_snapshot(o, prog_argv[0], child, wstatus, st.nfiles > 0) != HC_OK) {
		nomem = true;
		goto out;
	}
	/* A snapshot that cannot be read, or none at all, cannot prove the
	 * run clean. A program killed by a signal keeps its 128 + N: that
	 * fails the run already, and says more. */
	if (o->check && (hc_tool_result_fails(&res, o) || res.nfailed ||
			 (!nreported && !WIFSIGNALED(wstatus))))
		status = o->error_exitcode;
out:
	if (nomem) {
		hc_tool_error("out of memory");
		status = HC_EXIT_USAGE;
	}
	/* Processes still running write into the private directory later. */
	if (st.tmpdir && !norphans) {
		bool any_api = false;

		for (size_t k = 0; st.is_api && k < st.nfiles; k++)
			any_api |= st.is_api[k];
		/* Snapshots the program took itself are kept for 'report'. */
		if (!hc_run_remove_tmpdir(&st, st.is_api) && !any_api)
			hc_tool_error("could not remove %s", st.tmpdir);
	}
	free(env.ld_preload);
	hc_tool_extras_fini(&x);
	hc_run_state_fini(&st);
	return status;
}
