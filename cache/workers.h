/*
 * A small pool of worker threads running read-ahead jobs, shared by every
 * open file.
 *
 * A job is (owner, arg, run): run(owner, arg) on some worker. Jobs start in
 * submission order. An owner can withdraw its queued jobs (a seek makes them
 * useless; jobs already running finish on their own and are not waited for)
 * and, before it goes away, drain: withdraw and wait until none of its jobs
 * is running, after which the pool never touches the owner again.
 *
 * The queue is bounded (max_queued); beyond it submit() refuses, which for
 * read-ahead just means less read-ahead. Memory is thus bounded by the queue
 * and the jobs' own work.
 *
 * Thread-safety: every function may be called from any thread, except that
 * mrap_workers_destroy() must not race with anything else, and drain() must
 * not be called from a job of the same owner (it would wait for itself).
 */
#ifndef MRAP_CACHE_WORKERS_H
#define MRAP_CACHE_WORKERS_H

#include <stddef.h>
#include <stdint.h>

typedef void (*mrap_workers_fn)(void *owner, uint64_t arg);

struct mrap_workers;

/* threads: 1..256 (0 means 8); max_queued: 0 means 4096.
 * 0, -EINVAL, -ENOMEM, or -EAGAIN (a thread could not be started). */
int mrap_workers_new(unsigned threads, size_t max_queued, struct mrap_workers **out);
/* Drops queued jobs and joins the threads (running jobs finish). Accepts NULL. */
void mrap_workers_destroy(struct mrap_workers *w);

/* Queues run(owner, arg). 0, -EAGAIN (queue full), or -ENOMEM. */
int mrap_workers_submit(struct mrap_workers *w, void *owner, uint64_t arg, mrap_workers_fn run);

/* Withdraws the owner's queued jobs whose arg is outside [keep_lo, keep_hi).
 * Returns how many were withdrawn. */
size_t mrap_workers_cancel(struct mrap_workers *w, void *owner, uint64_t keep_lo, uint64_t keep_hi);

/* Withdraws all the owner's queued jobs and waits for its running ones. */
void mrap_workers_drain(struct mrap_workers *w, void *owner);

#endif
