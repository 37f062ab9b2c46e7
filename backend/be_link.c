/* be_link.c - temporary files, the runtime folder, and linking a model object into a shared
 * library with the system C compiler driver (cc), run as a child process (posix_spawnp, never
 * system()), with its output captured into the diagnostic on failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/be_internal.h"

#ifndef ONNXC_BUILD_RUNTIME_DIR
#define ONNXC_BUILD_RUNTIME_DIR "."
#endif
#ifndef ONNXC_OPENBLAS_LIB
#define ONNXC_OPENBLAS_LIB "-lopenblas"
#endif

extern char **environ;

const char *be_runtime_dir(void) {
    const char *e = getenv("ONNXC_RUNTIME_DIR");
    if (e && e[0])
        return e;
    return ONNXC_BUILD_RUNTIME_DIR;
}

/* Temporary files of the emissions in progress, for be_tmp_remove_all (called from the
 * driver's signal handler, so only async-signal-safe work there: unlink). A ring of the most
 * recent names; a slot is marked ready only once its name is complete. Unlinking a name that
 * was already renamed or removed does nothing. */
#define TMP_RING 32
static char tmp_ring[TMP_RING][4096];
static volatile sig_atomic_t tmp_ready[TMP_RING];
static atomic_uint tmp_next;

static void tmp_register(const char *p) {
    size_t n = strlen(p);
    if (n >= sizeof tmp_ring[0])
        return;
    unsigned i = atomic_fetch_add(&tmp_next, 1u) % TMP_RING;
    tmp_ready[i] = 0;
    memcpy(tmp_ring[i], p, n + 1);
    tmp_ready[i] = 1;
}

static void tmp_unregister(const char *p) {
    for (int i = 0; i < TMP_RING; i++)
        if (tmp_ready[i] && strcmp(tmp_ring[i], p) == 0)
            tmp_ready[i] = 0;
}

void be_tmp_remove_all(void) {
    for (int i = 0; i < TMP_RING; i++)
        if (tmp_ready[i])
            unlink(tmp_ring[i]);
}

char *be_tmp_create(const char *final_path, const char *suffix, IrDiag *d) {
    const char *slash = strrchr(final_path, '/');
    size_t dirlen = slash ? (size_t)(slash - final_path + 1) : 0;
    const char *base = slash ? slash + 1 : final_path;
    size_t n = strlen(final_path) + strlen(suffix) + 16;
    char *tmp = ir_malloc(n);
    if (!tmp) {
        ir_error(d, NULL, "out of memory");
        return NULL;
    }
    snprintf(tmp, n, "%.*s.%s.XXXXXX%s", (int)dirlen, final_path, base, suffix);
    /* The file must not exist unregistered: a SIGINT/SIGTERM/SIGHUP between mkstemps and
     * tmp_register would leave it behind, so those signals wait until it is registered. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int fd = mkstemps(tmp, (int)strlen(suffix));
    int err = errno;
    if (fd >= 0)
        tmp_register(tmp);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (fd < 0) {
        ir_error(d, NULL, "cannot create a temporary file for '%s': %s", final_path,
                 strerror(err));
        free(tmp);
        return NULL;
    }
    /* mkstemp creates 0600; a library should be readable like any cc output. */
    mode_t um = umask(0);
    umask(um);
    fchmod(fd, 0666 & ~um);
    close(fd);
    return tmp;
}

int be_tmp_commit(const char *tmp, const char *final_path, IrDiag *d) {
    tmp_unregister(tmp);
    if (rename(tmp, final_path) != 0) {
        ir_error(d, NULL, "cannot rename '%s' to '%s': %s", tmp, final_path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Runs argv[0] (PATH lookup) with stdout+stderr captured into a malloc'ed string (*out).
 * Returns the exit status, or -1 if it could not be started / was killed. */
static int run_capture(char *const argv[], char **out) {
    *out = NULL;
    int pfd[2];
    if (pipe(pfd) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
    posix_spawn_file_actions_addclose(&fa, pfd[0]);
    posix_spawn_file_actions_addclose(&fa, pfd[1]);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    size_t len = 0, cap = 1024;
    char *buf = ir_malloc(cap);
    for (;;) {
        char chunk[4096];
        ssize_t k = read(pfd[0], chunk, sizeof chunk);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        if (buf && len + (size_t)k + 1 > cap && len < 65536) {
            while (len + (size_t)k + 1 > cap)
                cap *= 2;
            char *nb = ir_realloc(buf, cap);
            if (!nb) {
                free(buf);
                buf = NULL;
            } else {
                buf = nb;
            }
        }
        if (buf && len + (size_t)k + 1 <= cap) {
            memcpy(buf + len, chunk, (size_t)k);
            len += (size_t)k;
        }
    }
    close(pfd[0]);
    if (buf)
        buf[len] = '\0';
    *out = buf;
    if (rc != 0) {
        if (buf) {
            snprintf(buf, cap, "cannot start '%s': %s", argv[0], strerror(rc));
        }
        return -1;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    if (!WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

int be_link_shared(const char *obj_path, const char *so_path, const char *model_name, IrDiag *d) {
    const char *rt = be_runtime_dir();
    char rtapi[4096], rtlib[4096];
    snprintf(rtapi, sizeof rtapi, "%s/libonnxc_rtapi.a", rt);
    snprintf(rtlib, sizeof rtlib, "%s/libonnxc_rt.a", rt);
    if (access(rtapi, R_OK) != 0 || access(rtlib, R_OK) != 0) {
        ir_error(d, NULL, "runtime libraries not found in '%s' (libonnxc_rtapi.a, libonnxc_rt.a);"
                 " set ONNXC_RUNTIME_DIR", rt);
        return -1;
    }
    /* Version script: only the generic API and the typed API are exported. */
    char *vs = be_tmp_create(so_path, ".map", d);
    if (!vs)
        return -1;
    FILE *f = fopen(vs, "w");
    int werr = !f;
    if (f) {
        fprintf(f,
                "{\n  global:\n    onnxc_model_info; onnxc_context_create; onnxc_context_destroy;\n"
                "    onnxc_run; onnxc_context_error; onnxc_status_string;\n"
                "    onnxc_set_num_threads; onnxc_get_num_threads;\n"
                "    %s_create; %s_destroy; %s_error; %s_run;\n  local: *;\n};\n",
                model_name, model_name, model_name, model_name);
        werr = ferror(f) != 0;
        werr |= fclose(f) != 0;
    }
    if (werr) {
        ir_error(d, NULL, "cannot write '%s': %s", vs, strerror(errno));
        unlink(vs);
        free(vs);
        return -1;
    }
    char vsarg[4200];
    snprintf(vsarg, sizeof vsarg, "-Wl,--version-script=%s", vs);
    const char *cc = getenv("ONNXC_CC");
    if (!cc || !cc[0])
        cc = "cc";
    char *argv[] = {(char *)cc, "-shared", "-o", (char *)so_path, (char *)obj_path, vsarg,
                    "-Wl,-z,noexecstack", "-Wl,--whole-archive", rtapi, "-Wl,--no-whole-archive",
                    rtlib, (char *)ONNXC_OPENBLAS_LIB, "-lm", "-lpthread", NULL};
    char *out = NULL;
    int st = run_capture(argv, &out);
    unlink(vs);
    free(vs);
    if (st != 0) {
        ir_error(d, NULL, "linking '%s' failed (%s, status %d): %s", so_path, cc, st,
                 out ? out : "");
        free(out);
        return -1;
    }
    free(out);
    return 0;
}
