"""One background thread that runs callbacks at a given time.

Design: S3 Control's asynchronous operations finish after `--control-delay`
and replication copies objects after `--replication-lag`; both only need
"call fn() at time t" without a thread per event.  A heap ordered by (due
time, sequence number) under one condition variable; the worker sleeps until
the earliest due time or until an earlier event is added.  Callbacks run on
the worker thread, one at a time and outside the lock; one that raises is
logged and does not stop the others.  Times are time.time() epochs, so a due
time saved on disk keeps its meaning across a restart.
"""
import heapq
import itertools
import sys
import threading
import time
import traceback


class Scheduler:
    def __init__(self, name="timers"):
        self._cond = threading.Condition()
        self._heap = []
        self._seq = itertools.count()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def call_at(self, due, fn):
        """Runs fn() on the worker thread at epoch `due` (at once when past)."""
        with self._cond:
            heapq.heappush(self._heap, (due, next(self._seq), fn))
            self._cond.notify()

    def call_later(self, delay_s, fn):
        self.call_at(time.time() + max(0.0, delay_s), fn)

    def stop(self):
        with self._cond:
            self._stopped = True
            self._cond.notify()
        self._thread.join(timeout=10)

    def _run(self):
        while True:
            with self._cond:
                while not self._stopped:
                    if self._heap:
                        wait = self._heap[0][0] - time.time()
                        if wait <= 0:
                            break
                        self._cond.wait(min(wait, 60))
                    else:
                        self._cond.wait(60)
                if self._stopped:
                    return
                _, _, fn = heapq.heappop(self._heap)
            try:
                fn()
            except Exception:  # noqa: BLE001 - one failed job must not stop the rest
                traceback.print_exc(file=sys.stderr)
