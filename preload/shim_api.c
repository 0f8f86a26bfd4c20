/* SPDX-License-Identifier: MIT */
/*
 * The public API of <heapcycle.h> and the process-exit hooks: exit and
 * _exit are wrapped so that the snapshot knows the exiting thread's live
 * frames; the destructor writes the exit snapshot after the program's own
 * atexit handlers and destructors have run, and an at_quick_exit handler
 * after its quick_exit handlers; dlclose keeps a record of the library it
 * unloads so that its frames can still be symbolized.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

#include "shim.h"

/* Exported names that no system header declares for us, or that the
 * shim defines under the public header's macro. */
int heapcycle_snapshot(const char *path);
void _Exit(int status) __attribute__((noreturn));

void (*shim_real_exit)(int) __attribute__((noreturn));
int (*shim_real_dlclose)(void *);

/* A vfork or clone child shares our memory and runs no atfork handler:
 * it must not touch the shim's state. */
static bool shim_in_own_process(void)
{
	return (uint32_t)syscall(SYS_getpid) == shim_g.pid;
}

static bool shim_claim_exit_snapshot(void)
{
	int expect = 0;

	return atomic_load(&shim_g.state) == SHIM_READY && shim_g.opts.snapshot_at_exit &&
	       shim_in_own_process() &&
	       atomic_compare_exchange_strong(&shim_g.exit_snapshot_done, &expect, 1);
}

HC_EXPORT int heapcycle_snapshot(const char *path)
{
	struct shim_regs regs;
	uintptr_t sp;

	if (atomic_load(&shim_g.state) != SHIM_READY || !shim_in_own_process()) {
		errno = EAGAIN;
		return -1;
	}
	SHIM_CAPTURE_CALLER(&regs, &sp);
	return shim_snapshot_take(HC_REASON_API, path, &regs, sp);
}

HC_EXPORT __attribute__((noreturn)) void exit(int status)
{
	if (atomic_load(&shim_g.state) == SHIM_READY) {
		uintptr_t sp;

		/* The snapshot runs later, from our destructor: remember which
		 * thread exits and what its frames held at this call. */
		SHIM_CAPTURE_CALLER(&shim_g.exit_regs, &sp);
		shim_g.exit_sp = sp;
		atomic_store(&shim_g.exit_tid, shim_gettid());
	}
	if (shim_real_exit)
		shim_real_exit(status);
	syscall(SYS_exit_group, status);
	__builtin_unreachable();
}

static __attribute__((noreturn)) void shim_underscore_exit(int status,
							      const struct shim_regs *regs,
							      uintptr_t sp)
{
	if (shim_claim_exit_snapshot())
		shim_snapshot_take(HC_REASON_UNDERSCORE_EXIT, NULL, regs, sp);
	for (;;)
		syscall(SYS_exit_group, status);
}

HC_EXPORT __attribute__((noreturn)) void _exit(int status)
{
	struct shim_regs regs;
	uintptr_t sp;

	SHIM_CAPTURE_CALLER(&regs, &sp);
	shim_underscore_exit(status, &regs, sp);
}

HC_EXPORT __attribute__((noreturn)) void _Exit(int status)
{
	struct shim_regs regs;
	uintptr_t sp;

	SHIM_CAPTURE_CALLER(&regs, &sp);
	shim_underscore_exit(status, &regs, sp);
}

/* Runs after the program's atexit handlers and the destructors of the
 * objects loaded after us (the executable's among them). */
__attribute__((destructor(101))) static void shim_destructor(void)
{
	const struct shim_regs *regs = NULL;
	uintptr_t sp = 0;

	if (!shim_claim_exit_snapshot())
		return;
	/* exit() from this thread: its frames up from the call are live.
	 * Return from main: nothing on this stack is live any more. */
	if (atomic_load(&shim_g.exit_tid) == shim_gettid()) {
		regs = &shim_g.exit_regs;
		sp = shim_g.exit_sp;
	}
	shim_snapshot_take(HC_REASON_EXIT, NULL, regs, sp);
}

/*
 * quick_exit runs the at_quick_exit handlers and then libc's own _exit,
 * which does not come through ours. Registered before the program can
 * register any, this handler runs after all of its handlers, as the
 * destructor runs after its atexit handlers; atexit handlers and
 * destructors do not run, as at _exit, hence the reason. It runs on the
 * thread that called quick_exit: the frames from that call up are live.
 */
static void shim_quick_exit_cb(void)
{
	struct shim_regs regs;
	uintptr_t sp;

	SHIM_CAPTURE_CALLER(&regs, &sp);
	if (shim_claim_exit_snapshot())
		shim_snapshot_take(HC_REASON_UNDERSCORE_EXIT, NULL, &regs, sp);
}

__attribute__((constructor)) static void shim_api_init(void)
{
	at_quick_exit(shim_quick_exit_cb);
}

HC_EXPORT int dlclose(void *handle)
{
	struct shim_thread *t = shim_enter();

	if (atomic_load(&shim_g.state) == SHIM_READY) {
		pthread_mutex_lock(&shim_snapshot_lock);
		shim_modules_remember_locked();
		pthread_mutex_unlock(&shim_snapshot_lock);
	}
	shim_leave(t);
	return shim_real_dlclose ? shim_real_dlclose(handle) : 0;
}

/* ------------------------------------------------------------ exec */

/*
 * exec replaces the image and with it the heap: what the old image never
 * freed is its leak, so it gets a snapshot of its own just before (the new
 * image writes PATH.1 and so on). If the exec fails, the image was not
 * replaced: that snapshot is removed, or the report would count its leaks
 * twice, and the process gets its snapshot at exit. vfork and posix_spawn
 * children share their parent's memory: shim_claim_exit_snapshot leaves
 * them alone.
 */

/* The file of the snapshot before the exec under way ("" if none was
 * written); only the thread that claimed the exit snapshot uses it. */
static char shim_exec_file[HC_OPTION_STRING_MAX + 16];

/* Returns true if this call claimed the exit snapshot (and took it, or
 * tried to): only then is a failed exec this call's to undo. */
static bool shim_before_exec(const struct shim_regs *regs, uintptr_t sp)
{
	size_t n;

	if (!shim_claim_exit_snapshot())
		return false;
	shim_exec_file[0] = '\0';
	/* Held across the take (recursive, in the lock order), so that the
	 * name read after it is this snapshot's. */
	shim_gc_lock();
	pthread_mutex_lock(&shim_snapshot_lock);
	if (shim_snapshot_take(HC_REASON_EXEC, NULL, regs, sp) == 0) {
		n = strlen(shim_snapshot_last_file());
		if (n < sizeof(shim_exec_file))
			memcpy(shim_exec_file, shim_snapshot_last_file(), n + 1);
	}
	pthread_mutex_unlock(&shim_snapshot_lock);
	shim_gc_unlock();
	return true;
}

/* errno is the failed exec's, for the program. */
static void shim_exec_failed(bool took)
{
	int saved = errno;

	if (!took)
		return;
	if (shim_exec_file[0])
		syscall(SYS_unlinkat, AT_FDCWD, shim_exec_file, 0);
	atomic_store(&shim_g.exit_snapshot_done, 0);
	errno = saved;
}

enum shim_exec_kind { SHIM_EXECVE, SHIM_EXECVP, SHIM_EXECVPE, SHIM_FEXECVE };

struct shim_exec_call {
	enum shim_exec_kind kind;
	const char *path;	/* path or file name */
	int fd;			/* fexecve */
	char *const *argv;
	char *const *envp;
};

/* Snapshot, then the real exec from libc. */
static int shim_exec_run(const struct shim_exec_call *c, const struct shim_regs *regs,
			 uintptr_t sp)
{
	static const char *const names[] = { "execve", "execvp", "execvpe", "fexecve" };
	void *next = dlsym(RTLD_NEXT, names[c->kind]);
	bool took;
	int rc;

	took = shim_before_exec(regs, sp);
	if (!next) {
		errno = ENOSYS;
		rc = -1;
	} else if (c->kind == SHIM_EXECVE) {
		rc = ((int (*)(const char *, char *const[], char *const[]))next)(c->path, c->argv, c->envp);
	} else if (c->kind == SHIM_EXECVP) {
		rc = ((int (*)(const char *, char *const[]))next)(c->path, c->argv);
	} else if (c->kind == SHIM_EXECVPE) {
		rc = ((int (*)(const char *, char *const[], char *const[]))next)(c->path, c->argv, c->envp);
	} else {
		rc = ((int (*)(int, char *const[], char *const[]))next)(c->fd, c->argv, c->envp);
	}
	shim_exec_failed(took);
	return rc;
}

/* In each exported exec: the caller's registers must be taken in the
 * function the program called. */
#define SHIM_EXEC(...)                                                        \
	do {                                                                  \
		struct shim_exec_call call_ = { __VA_ARGS__ };                \
		struct shim_regs regs_;                                       \
		uintptr_t sp_;                                                \
		SHIM_CAPTURE_CALLER(&regs_, &sp_);                            \
		return shim_exec_run(&call_, &regs_, sp_);                    \
	} while (0)

HC_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	SHIM_EXEC(SHIM_EXECVE, path, -1, argv, envp);
}

HC_EXPORT int execv(const char *path, char *const argv[])
{
	SHIM_EXEC(SHIM_EXECVE, path, -1, argv, environ);
}

HC_EXPORT int execvp(const char *file, char *const argv[])
{
	SHIM_EXEC(SHIM_EXECVP, file, -1, argv, NULL);
}

HC_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	SHIM_EXEC(SHIM_EXECVPE, file, -1, argv, envp);
}

HC_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	SHIM_EXEC(SHIM_FEXECVE, NULL, fd, argv, envp);
}

/*
 * The execl forms: their arguments become an argv on our stack (their
 * count is only known by walking them once), then the matching execv.
 */
#define SHIM_EXECL(kind, path, arg, with_env)                                 \
	do {                                                                  \
		va_list ap_, count_;                                          \
		size_t n_ = 1, i_;                                            \
		va_start(ap_, arg);                                           \
		va_copy(count_, ap_);                                         \
		while (va_arg(count_, const char *))                          \
			n_++;                                                 \
		va_end(count_);                                               \
		{                                                             \
			char *argv_[n_ + 1];                                  \
			char *const *envp_ = environ;                         \
			argv_[0] = (char *)(arg);                             \
			for (i_ = 1; i_ <= n_; i_++)                          \
				argv_[i_] = va_arg(ap_, char *);              \
			if (with_env)                                         \
				envp_ = va_arg(ap_, char *const *);           \
			va_end(ap_);                                          \
			SHIM_EXEC(kind, path, -1, argv_, envp_);              \
		}                                                             \
	} while (0)

HC_EXPORT int execl(const char *path, const char *arg, ...)
{
	SHIM_EXECL(SHIM_EXECVE, path, arg, false);
}

HC_EXPORT int execlp(const char *file, const char *arg, ...)
{
	SHIM_EXECL(SHIM_EXECVP, file, arg, false);
}

HC_EXPORT int execle(const char *path, const char *arg, ...)
{
	SHIM_EXECL(SHIM_EXECVE, path, arg, true);
}
