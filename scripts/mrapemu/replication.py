"""Replication between the buckets of a Multi-Region Access Point, after a lag.

Design: off by default, so a failover test sees exactly what was written to
each bucket.  With a lag (`--replication-lag SECONDS` for every MRAP, or an
MRAP's own `replication_lag` from the config file or the admin endpoint; a
negative value switches one MRAP off), every change to an object in a member
bucket — through the MRAP, the regional endpoint or the admin seed — is copied
to the other members of that MRAP `lag` seconds later: the store reports the
change (Store.observer), a timer (timers.py) fires, and the copy takes the
source object as it is *then* (body, metadata, tags, lock settings), or deletes
the key when the source no longer has it.  So replication is eventually
consistent, like S3 Replication, and a read through another Region before the
lag sees the old state.  Replicas are written quietly (they do not replicate
again) and marked replication_status REPLICA.  They are written whatever the
destination's Object Lock says: the emulator keeps one version per key, where
S3 would add a version.  Copies pending at shutdown are not redone on restart.
"""
import shutil
import threading

from .store import CHUNK

OFF = -1.0


class Replicator:
    def __init__(self, state, store, scheduler, default_lag_s=None):
        self.state = state
        self.store = store
        self.scheduler = scheduler
        self.default_lag_s = default_lag_s
        self.lock = threading.Lock()
        self.counts = {"pending": 0, "copied": 0, "deleted": 0}   # guarded by self.lock
        store.observer = self.changed

    def lag_of(self, mrap):
        """Seconds, or None when this MRAP does not replicate."""
        lag = mrap.replication_lag
        if lag is None:
            lag = self.default_lag_s
        return None if lag is None or lag < 0 else lag

    def set_lag(self, name, lag_s):
        """Admin: lag_s seconds, or None to switch replication off for this MRAP."""
        with self.state.lock:
            mrap = self.state.mraps.get(name)
            if mrap is None:
                raise KeyError(name)
            mrap.replication_lag = OFF if lag_s is None else max(0.0, float(lag_s))
            self.state.save()
            return self.lag_of(mrap)

    def snapshot(self):
        with self.state.lock:
            lags = {m.name: self.lag_of(m) for m in self.state.mraps.values()}
        with self.lock:
            return dict(self.counts, default_lag_s=self.default_lag_s, mraps=lags)

    def changed(self, bucket, key):
        targets = {}     # destination bucket -> smallest lag of an MRAP joining the two
        with self.state.lock:
            for m in self.state.mraps.values():
                names = [r.bucket for r in m.regions]
                lag = self.lag_of(m)
                if lag is None or m.status == "CREATING" or bucket not in names:
                    continue
                for dest in names:
                    if dest != bucket:
                        targets[dest] = min(targets.get(dest, lag), lag)
        for dest, lag in targets.items():
            with self.lock:
                self.counts["pending"] += 1
            self.scheduler.call_later(lag, lambda d=dest: self._replicate(bucket, key, d))

    def _replicate(self, src, key, dest):
        try:
            if src in self.state.buckets and dest in self.state.buckets:
                self._copy(src, key, dest)
        finally:
            with self.lock:
                self.counts["pending"] -= 1

    def _copy(self, src, key, dest):
        meta, f = self.store.bucket(src).open_body(key)
        target = self.store.bucket(dest)
        if meta is None:
            if target.delete(key, quiet=True) is not None:
                with self.lock:
                    self.counts["deleted"] += 1
            return
        tmp = self.store.temp_path()
        with f, open(tmp, "wb") as out:
            shutil.copyfileobj(f, out, CHUNK)
        copy = {k: v for k, v in meta.items() if k not in ("key", "data")}
        copy["replication_status"] = "REPLICA"
        target.install(key, tmp, copy, quiet=True)
        with self.lock:
            self.counts["copied"] += 1
