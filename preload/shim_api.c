/* SPDX-License-Identifier: MIT */
/*
 * The public API of <heapcycle.h> and the process-exit hooks: exit and
 * _exit are wrapped so that the snapshot knows the exiting thread's live
 * frames; the destructor writes the exit snapshot after the program's own
 * atexit handlers and destructors have run; dlclose keeps a record of the
 * library it unloads so that its frames can still be symbolized.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdatomic.h>
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
 * image writes PATH.1 and so on). If the exec fails, the process goes on and
 * still gets its snapshot at exit. vfork and posix_spawn children share
 * their parent's memory: shim_claim_exit_snapshot leaves them alone.
 */
static void shim_before_exec(const struct shim_regs *regs, uintptr_t sp)
{
	if (shim_claim_exit_snapshot())
		shim_snapshot_take(HC_REASON_EXEC, NULL, regs, sp);
}

static void shim_exec_failed(void)
{
	if (shim_in_own_process())
		atomic_store(&shim_g.exit_snapshot_done, 0);
}

#define SHIM_NEXT(type, name) ((type)dlsym(RTLD_NEXT, name))

typedef int (*shim_execve_fn)(const char *, char *const[], char *const[]);
typedef int (*shim_execvp_fn)(const char *, char *const[]);
typedef int (*shim_execvpe_fn)(const char *, char *const[], char *const[]);
typedef int (*shim_fexecve_fn)(int, char *const[], char *const[]);

HC_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	shim_execve_fn next = SHIM_NEXT(shim_execve_fn, "execve");
	struct shim_regs regs;
	uintptr_t sp;
	int rc;

	SHIM_CAPTURE_CALLER(&regs, &sp);
	shim_before_exec(&regs, sp);
	rc = next ? next(path, argv, envp) : (errno = ENOSYS, -1);
	shim_exec_failed();
	return rc;
}

HC_EXPORT int execv(const char *path, char *const argv[])
{
	shim_execve_fn next = SHIM_NEXT(shim_execve_fn, "execve");
	struct shim_regs regs;
	uintptr_t sp;
	int rc;

	SHIM_CAPTURE_CALLER(&regs, &sp);
	shim_before_exec(&regs, sp);
	rc = next ? next(path, argv, environ) : (errno = ENOSYS, -1);
	shim_exec_failed();
	return rc;
}

HC_EXPORT int execvp(const char *file, char *const argv[])
{
	shim_execvp_fn next = SHIM_NEXT(shim_execvp_fn, "execvp");
	struct shim_regs regs;
	uintptr_t sp;
	int rc;

	SHIM_CAPTURE_CALLER(&regs, &sp);
	shim_before_exec(&regs, sp);
	rc = next ? next(file, argv) : (errno = ENOSYS, -1);
	shim_exec_failed();
	return rc;
}

HC_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	shim_execvpe_fn next = SHIM_NEXT(shim_execvpe_fn, "execvpe");
	struct shim_regs regs;
	uintptr_t sp;
	int rc;

	SHIM_CAPTURE_CALLER(&regs, &sp);
	shim_before_exec(&regs, sp);
	rc = next ? next(file, argv, envp) : (errno = ENOSYS, -1);
	shim_exec_failed();
	return rc;
}

HC_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	shim_fexecve_fn next = SHIM_NEXT(shim_fexecve_fn, "fexecve");
	struct shim_regs regs;
	uintptr_t sp;
	int rc;

	SHIM_CAPTURE_CALLER(&regs, &sp);
	shim_before_exec(&regs, sp);
	rc = next ? next(fd, argv, envp) : (errno = ENOSYS, -1);
	shim_exec_failed();
	return rc;
}

/* The execl forms: their arguments become an argv on our stack. */
#define SHIM_COLLECT_ARGS(arg0, ap, argv, n)                                  \
	do {                                                                  \
		va_list count_;                                               \
		va_copy(count_, ap);                                          \
		for (n = 1; va_arg(count_, const char *); n++)                \
			;                                                     \
		va_end(count_);                                               \
	} while (0)

HC_EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	size_t n, i;

	va_start(ap, arg);
	SHIM_COLLECT_ARGS(arg, ap, argv, n);
	{
		char *argv[n + 1];

		argv[0] = (char *)arg;
		for (i = 1; i <= n; i++)
			argv[i] = va_arg(ap, char *);
		va_end(ap);
		return execv(path, argv);
	}
}

HC_EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	size_t n, i;

	va_start(ap, arg);
	SHIM_COLLECT_ARGS(arg, ap, argv, n);
	{
		char *argv[n + 1];

		argv[0] = (char *)arg;
		for (i = 1; i <= n; i++)
			argv[i] = va_arg(ap, char *);
		va_end(ap);
		return execvp(file, argv);
	}
}

HC_EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	size_t n, i;
	char *const *envp;

	va_start(ap, arg);
	SHIM_COLLECT_ARGS(arg, ap, argv, n);
	{
		char *argv[n + 1];

		argv[0] = (char *)arg;
		for (i = 1; i <= n; i++)
			argv[i] = va_arg(ap, char *);
		envp = va_arg(ap, char *const *);
		va_end(ap);
		return execve(path, argv, envp);
	}
}
