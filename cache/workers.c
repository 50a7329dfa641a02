/*
 * The read-ahead worker pool. One mutex guards the FIFO queue and what each
 * worker is running; "idle" is broadcast whenever a job ends so that drain()
 * can wait for an owner's running jobs without per-owner bookkeeping (each
 * worker records the owner of the job it runs).
 */
#include "cache/workers.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct job {
    void *owner;
    uint64_t arg;
    mrap_workers_fn run;
    struct job *prev, *next;
};

struct worker {
    struct mrap_workers *pool;
    pthread_t thread;
    void *running; /* owner of the job being run, or NULL; under pool->mu */
};

struct mrap_workers {
    pthread_mutex_t mu;
    pthread_cond_t work; /* a job was queued, or stop */
    pthread_cond_t idle; /* a job ended */
    struct job queue;    /* ring; queue.next is the oldest */
    size_t queued;
    size_t max_queued;
    bool stop;
    unsigned nthreads; /* started */
    struct worker *workers;
};

static void unqueue_locked(struct mrap_workers *w, struct job *j)
{
    j->prev->next = j->next;
    j->next->prev = j->prev;
    w->queued--;
}

static void *worker_main(void *arg)
{
    struct worker *me = arg;
    struct mrap_workers *w = me->pool;

    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->stop && w->queued == 0)
            pthread_cond_wait(&w->work, &w->mu);
        if (w->stop)
            break;
        struct job *j = w->queue.next;
        unqueue_locked(w, j);
        me->running = j->owner;
        pthread_mutex_unlock(&w->mu);

        j->run(j->owner, j->arg);
        free(j);

        pthread_mutex_lock(&w->mu);
        me->running = NULL;
        pthread_cond_broadcast(&w->idle);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int mrap_workers_submit(struct mrap_workers *w, void *owner, uint64_t arg, mrap_workers_fn run)
{
    struct job *j = malloc(sizeof(*j));
    if (!j)
        return -ENOMEM;
    j->owner = owner;
    j->arg = arg;
    j->run = run;
    pthread_mutex_lock(&w->mu);
    if (w->queued >= w->max_queued || w->stop) {
        pthread_mutex_unlock(&w->mu);
        free(j);
        return -EAGAIN;
    }
    j->next = &w->queue;
    j->prev = w->queue.prev;
    w->queue.prev->next = j;
    w->queue.prev = j;
    w->queued++;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->mu);
    return 0;
}

/* Unlinks the matching jobs onto a private list, to be freed after unlocking. */
static size_t withdraw_locked(struct mrap_workers *w, void *owner, uint64_t lo, uint64_t hi,
                              struct job **freed)
{
    size_t n = 0;
    for (struct job *j = w->queue.next, *next; j != &w->queue; j = next) {
        next = j->next;
        if (j->owner != owner || (j->arg >= lo && j->arg < hi))
            continue;
        unqueue_locked(w, j);
        j->next = *freed;
        *freed = j;
        n++;
    }
    return n;
}

static void free_list(struct job *j)
{
    while (j) {
        struct job *next = j->next;
        free(j);
        j = next;
    }
}

size_t mrap_workers_cancel(struct mrap_workers *w, void *owner, uint64_t keep_lo, uint64_t keep_hi)
{
    struct job *freed = NULL;
    pthread_mutex_lock(&w->mu);
    size_t n = withdraw_locked(w, owner, keep_lo, keep_hi, &freed);
    pthread_mutex_unlock(&w->mu);
    free_list(freed);
    return n;
}

static bool running_locked(const struct mrap_workers *w, const void *owner)
{
    for (unsigned i = 0; i < w->nthreads; i++)
        if (w->workers[i].running == owner)
            return true;
    return false;
}

void mrap_workers_drain(struct mrap_workers *w, void *owner)
{
    struct job *freed = NULL;
    pthread_mutex_lock(&w->mu);
    withdraw_locked(w, owner, 0, 0, &freed);
    while (running_locked(w, owner))
        pthread_cond_wait(&w->idle, &w->mu);
    pthread_mutex_unlock(&w->mu);
    free_list(freed);
}

int mrap_workers_new(unsigned threads, size_t max_queued, struct mrap_workers **out)
{
    *out = NULL;
    if (threads == 0)
        threads = 8;
    if (threads > 256)
        return -EINVAL;
    struct mrap_workers *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->workers = calloc(threads, sizeof(*w->workers));
    if (!w->workers) {
        free(w);
        return -ENOMEM;
    }
    w->max_queued = max_queued ? max_queued : 4096;
    w->queue.prev = w->queue.next = &w->queue;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->work, NULL);
    pthread_cond_init(&w->idle, NULL);
    for (unsigned i = 0; i < threads; i++) {
        w->workers[i].pool = w;
        if (pthread_create(&w->workers[i].thread, NULL, worker_main, &w->workers[i]) != 0) {
            mrap_workers_destroy(w);
            return -EAGAIN;
        }
        /* Under the lock: drain() of an earlier-started worker's owner reads it. */
        pthread_mutex_lock(&w->mu);
        w->nthreads = i + 1;
        pthread_mutex_unlock(&w->mu);
    }
    *out = w;
    return 0;
}

void mrap_workers_destroy(struct mrap_workers *w)
{
    if (!w)
        return;
    struct job *freed = NULL;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    for (struct job *j = w->queue.next, *next; j != &w->queue; j = next) {
        next = j->next;
        j->next = freed;
        freed = j;
    }
    w->queue.prev = w->queue.next = &w->queue;
    w->queued = 0;
    pthread_cond_broadcast(&w->work);
    pthread_mutex_unlock(&w->mu);
    for (unsigned i = 0; i < w->nthreads; i++)
        pthread_join(w->workers[i].thread, NULL);
    free_list(freed);
    pthread_cond_destroy(&w->work);
    pthread_cond_destroy(&w->idle);
    pthread_mutex_destroy(&w->mu);
    free(w->workers);
    free(w);
}
