/* rt_threads.c - the per-context worker pool of the generated runtime (docs/BACKEND.md,
 * "Threads").
 *
 * A context that runs with num_threads = n > 1 owns n - 1 worker threads (rt_threads_new).
 * Kernels split their heavy loops with rt_parallel_for: the range [0, total) is cut into
 * chunks that the calling thread and the workers take from a shared atomic counter until none
 * is left; the call returns when every chunk is done. A context is used by one thread at a
 * time (the contract of include/onnxc/onnxc_model.h), so its pool serves one region at a time;
 * distinct contexts have distinct pools and share nothing. Without a pool (constant folding, a
 * context at 1 thread) or for small ranges the function is called once on the calling thread,
 * so results never depend on the thread count (chunks write disjoint outputs).
 *
 * Workers wait on a condition variable between regions (after a short spin, so that the
 * back-to-back regions of one inference do not pay a sleep/wake-up each).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "runtime/onnxc_rt.h"

#if defined(__x86_64__) || defined(__i386__)
#define RT_CPU_RELAX() __builtin_ia32_pause()
#else
#define RT_CPU_RELAX() ((void)0)
#endif

/* OpenBLAS (pthread build): the process-wide thread count of its GEMMs. */
void openblas_set_num_threads(int num_threads);

struct RtThreads {
    int nworkers;
    pthread_t *tid;
    pthread_mutex_t mu;
    pthread_cond_t cv_start; /* workers wait for a new generation */
    pthread_cond_t cv_done;  /* the caller waits for busy == 0 */
    atomic_uint_fast64_t gen; /* generation of the current region (odd values not used) */
    int stop;                 /* under mu */
    int busy;                 /* workers still inside the current region (under mu) */
    /* the current region (written by the caller before gen is advanced) */
    RtRangeFn fn;
    void *arg;
    int64_t total, chunk;
    atomic_int_fast64_t next; /* next chunk start */
};

typedef struct WorkerArg {
    RtThreads *t;
    int index; /* 1..nworkers (0 is the calling thread) */
} WorkerArg;

/* Takes chunks of the current region until none is left. */
static void run_chunks(RtThreads *t, int worker) {
    for (;;) {
        int64_t b = atomic_fetch_add(&t->next, t->chunk);
        if (b >= t->total) break;
        int64_t e = b + t->chunk < t->total ? b + t->chunk : t->total;
        t->fn(t->arg, b, e, worker);
    }
}

static void *worker_main(void *p) {
    WorkerArg *wa = p;
    RtThreads *t = wa->t;
    int index = wa->index;
    free(wa);
    uint_fast64_t seen = 0;
    for (;;) {
        /* short spin: regions of one inference follow each other closely */
        for (int spin = 0; spin < 4000 && atomic_load(&t->gen) == seen; spin++)
            RT_CPU_RELAX();
        pthread_mutex_lock(&t->mu);
        while (!t->stop && atomic_load(&t->gen) == seen) pthread_cond_wait(&t->cv_start, &t->mu);
        if (t->stop) {
            pthread_mutex_unlock(&t->mu);
            return NULL;
        }
        seen = atomic_load(&t->gen);
        pthread_mutex_unlock(&t->mu);
        run_chunks(t, index);
        pthread_mutex_lock(&t->mu);
        if (--t->busy == 0) pthread_cond_signal(&t->cv_done);
        pthread_mutex_unlock(&t->mu);
    }
}

RtThreads *rt_threads_new(int num_threads) {
    if (num_threads < 2) return NULL;
    RtThreads *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->tid = calloc((size_t)(num_threads - 1), sizeof *t->tid);
    if (!t->tid || pthread_mutex_init(&t->mu, NULL) != 0) {
        free(t->tid);
        free(t);
        return NULL;
    }
    if (pthread_cond_init(&t->cv_start, NULL) != 0) {
        pthread_mutex_destroy(&t->mu);
        free(t->tid);
        free(t);
        return NULL;
    }
    if (pthread_cond_init(&t->cv_done, NULL) != 0) {
        pthread_cond_destroy(&t->cv_start);
        pthread_mutex_destroy(&t->mu);
        free(t->tid);
        free(t);
        return NULL;
    }
    atomic_init(&t->gen, 0);
    atomic_init(&t->next, 0);
    for (int i = 0; i < num_threads - 1; i++) {
        WorkerArg *wa = malloc(sizeof *wa);
        if (!wa) break;
        wa->t = t;
        wa->index = i + 1;
        if (pthread_create(&t->tid[i], NULL, worker_main, wa) != 0) {
            free(wa);
            break;
        }
        t->nworkers++;
    }
    if (t->nworkers == 0) {
        rt_threads_free(t);
        return NULL;
    }
    return t; /* possibly fewer workers than asked: still correct, only slower */
}

void rt_threads_free(RtThreads *t) {
    if (!t) return;
    pthread_mutex_lock(&t->mu);
    t->stop = 1;
    pthread_cond_broadcast(&t->cv_start);
    pthread_mutex_unlock(&t->mu);
    for (int i = 0; i < t->nworkers; i++) pthread_join(t->tid[i], NULL);
    pthread_cond_destroy(&t->cv_done);
    pthread_cond_destroy(&t->cv_start);
    pthread_mutex_destroy(&t->mu);
    free(t->tid);
    free(t);
}

int rt_threads_count(const RtThreads *t) { return t ? t->nworkers + 1 : 1; }

void rt_blas_set_threads(int num_threads) {
    if (num_threads >= 1) openblas_set_num_threads(num_threads);
}

/* Below this many units of work (roughly: inner-loop iterations) a region runs serially. */
#define RT_PAR_MIN_WORK ((int64_t)1 << 15)

void rt_parallel_for(RtCtx *ctx, int64_t total, int64_t cost, RtRangeFn fn, void *arg) {
    if (total <= 0) return;
    RtThreads *t = ctx ? ctx->threads : NULL;
    if (cost < 1) cost = 1;
    if (!t || total < 2 || (total < RT_PAR_MIN_WORK / cost + 1 && total * cost < RT_PAR_MIN_WORK)) {
        fn(arg, 0, total, 0);
        return;
    }
    int nt = t->nworkers + 1;
    /* about 4 chunks per thread (balances a thread slowed down by other load), each at least
     * RT_PAR_MIN_WORK / 4 units */
    int64_t chunk = (total + 4 * nt - 1) / (4 * nt);
    int64_t min_items = (RT_PAR_MIN_WORK / 4) / cost;
    if (chunk < min_items) chunk = min_items;
    if (chunk < 1) chunk = 1;
    if (chunk >= total) {
        fn(arg, 0, total, 0);
        return;
    }
    t->fn = fn;
    t->arg = arg;
    t->total = total;
    t->chunk = chunk;
    atomic_store(&t->next, 0);
    pthread_mutex_lock(&t->mu);
    t->busy = t->nworkers;
    atomic_fetch_add(&t->gen, 1);
    pthread_cond_broadcast(&t->cv_start);
    pthread_mutex_unlock(&t->mu);
    run_chunks(t, 0);
    pthread_mutex_lock(&t->mu);
    while (t->busy > 0) pthread_cond_wait(&t->cv_done, &t->mu);
    pthread_mutex_unlock(&t->mu);
}
