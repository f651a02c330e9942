// A small pool of worker threads for the decode kernels. Decoding runs ~25-50 parallel products per
// step of a few hundred microseconds each; waking a sleeping thread per call (Dispatch) costs tens of
// microseconds, so workers spin briefly after each job before they block, as OpenBLAS's threads do.
#include "ckernels.h"
#include <pthread.h>
#include <sched.h>

#define CK_MAX_HELPERS 63
#define CK_SPINS 4000  // pause instructions before a helper blocks (tens to hundreds of microseconds)

static inline void relax(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
}

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int started;                    // helper threads created
    unsigned slot[CK_MAX_HELPERS];  // the job number each helper is to join next
    unsigned jobs;                  // jobs handed out so far
    ck_task fn;
    void *ctx;
    int n, next, done;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, {0}, 0, 0, 0, 0, 0, 0};

static char busy;  // one job at a time; a concurrent or nested caller runs its tasks inline

static void run_tasks(void) {
    for (;;) {
        int i = __atomic_fetch_add(&pool.next, 1, __ATOMIC_RELAXED);
        if (i >= pool.n) return;
        pool.fn(pool.ctx, i);
    }
}

static void *helper(void *arg) {
    int id = (int)(long)arg;
    unsigned seen = 0;
    for (;;) {
        unsigned want;
        int spins = 0;
        while ((want = __atomic_load_n(&pool.slot[id], __ATOMIC_ACQUIRE)) == seen) {
            if (++spins < CK_SPINS) { relax(); continue; }
            pthread_mutex_lock(&pool.mu);
            while ((want = __atomic_load_n(&pool.slot[id], __ATOMIC_ACQUIRE)) == seen)
                pthread_cond_wait(&pool.cv, &pool.mu);
            pthread_mutex_unlock(&pool.mu);
        }
        seen = want;
        run_tasks();
        __atomic_add_fetch(&pool.done, 1, __ATOMIC_RELEASE);
    }
    return 0;
}

static int ensure_helpers(int want) {
    pthread_mutex_lock(&pool.mu);
    while (pool.started < want) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int failed = pthread_create(&t, &attr, helper, (void *)(long)pool.started);
        pthread_attr_destroy(&attr);
        if (failed) break;
        pool.started++;
    }
    int have = pool.started < want ? pool.started : want;
    pthread_mutex_unlock(&pool.mu);
    return have;
}

void ck_parallel(int n, int threads, ck_task fn, void *ctx) {
    if (threads > n) threads = n;
    if (threads <= 1 || __atomic_test_and_set(&busy, __ATOMIC_ACQUIRE)) {
        for (int i = 0; i < n; i++) fn(ctx, i);
        return;
    }
    int helpers = ensure_helpers(threads - 1 < CK_MAX_HELPERS ? threads - 1 : CK_MAX_HELPERS);
    pool.fn = fn;
    pool.ctx = ctx;
    pool.n = n;
    __atomic_store_n(&pool.next, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&pool.done, 0, __ATOMIC_RELAXED);
    pool.jobs++;
    pthread_mutex_lock(&pool.mu);  // the release stores publish the job's fields to the helpers
    for (int i = 0; i < helpers; i++) __atomic_store_n(&pool.slot[i], pool.jobs, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&pool.cv);
    pthread_mutex_unlock(&pool.mu);
    run_tasks();
    while (__atomic_load_n(&pool.done, __ATOMIC_ACQUIRE) < helpers) relax();
    __atomic_clear(&busy, __ATOMIC_RELEASE);
}

// Parallel forms of the kernels.

typedef struct {
    int m, k, lda, width, n, ldo, panels;  // panels per task
    const float *a, *packed;
    float *out;
} packed_job;

static void packed_task(void *p, int i) {
    const packed_job *j = p;
    int all = (j->n + j->width - 1) / j->width, p0 = i * j->panels, p1 = p0 + j->panels < all ? p0 + j->panels : all;
    ck_gemm_packed(j->m, j->k, j->a, j->lda, j->packed, j->width, j->n, j->out, j->ldo, p0, p1);
}

void ck_gemm_packed_parallel(int m, int k, const float *a, int lda, const float *packed, int width, int n, float *out,
                             int ldo, int threads) {
    packed_job job = {m, k, lda, width, n, ldo, 64 / width, a, packed, out};
    int cols = job.panels * width;
    ck_parallel((n + cols - 1) / cols, threads, packed_task, &job);
}

typedef struct {
    const float *const *parts;
    const int *rows;
    int nparts, k, width;
    float *packed;
} pack_job;

static void pack_task(void *p, int i) {
    const pack_job *j = p;
    ck_pack_panel(j->parts, j->rows, j->nparts, j->k, j->packed, j->width, i);
}

void ck_pack_parallel(const float *const *parts, const int *rows, int nparts, int k, float *packed, int width,
                      int threads) {
    pack_job job = {parts, rows, nparts, k, width, packed};
    int total = 0;
    for (int i = 0; i < nparts; i++) total += rows[i];
    ck_parallel((total + width - 1) / width, threads, pack_task, &job);
}

typedef struct {
    const ck_attend_item *items;
    int hd, rep, ldAtt;
    float scale;
} attend_job;

static void attend_task(void *p, int i) {
    const attend_job *j = p;
    const ck_attend_item *it = &j->items[i];
    ck_attend_decode(it->q, it->k, it->v, it->stride, it->n, j->hd, j->rep, j->scale, it->att, j->ldAtt, it->y);
}

void ck_attend_decode_many(const ck_attend_item *items, int count, int hd, int rep, float scale, int ldAtt,
                           int threads) {
    attend_job job = {items, hd, rep, ldAtt, scale};
    ck_parallel(count, threads, attend_task, &job);
}
