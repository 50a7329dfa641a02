"""On-disk object store: objects, metadata sidecars, multipart uploads, sorted index.

Layout under the data directory (no file name is ever derived from a key, so a
key such as `../x` can never name a path):

    tmp/                                   temp bodies being received
    buckets/<bucket>/objects/<hh>/<h>.json metadata sidecar, h = sha256(bucket NUL key)
    buckets/<bucket>/objects/<hh>/<h>.<rand>.data   the body the sidecar names
    buckets/<bucket>/uploads/<upload id>/upload.json   an open multipart upload
    buckets/<bucket>/uploads/<upload id>/<part>.<rand>.data + <part>.json

A body is streamed into tmp/ while it is hashed, then renamed next to its
sidecar under a fresh random name; the sidecar (which names that body file) is
then atomically replaced, and only then is the previous body unlinked.  A reader
therefore sees the old or the new object, never a mix, and a reader that already
opened the old body keeps reading it.  Start-up deletes bodies no sidecar names.

Each bucket keeps an in-memory index: a sorted list of keys (bisect; Python
orders str by code point, which is S3's UTF-8 byte order) and a dict of the few
fields listings need.  Full metadata is read from the sidecar on demand.  The
bucket lock guards the index and every sidecar replacement; bodies are read and
written without it.  Bucket names reaching this module were validated against
S3's rules, so they are safe directory names.

Every change to an object (install, update, delete) is reported to
Store.observer(bucket, key) after the lock is released, unless made with
quiet=True; replication.py listens there and writes its replicas quietly.
"""
import bisect
import hashlib
import json
import os
import secrets
import shutil
import threading
import time

CHUNK = 1 << 20


def _write_json(path, doc):
    tmp = "%s.%s.tmp" % (path, secrets.token_hex(4))
    with open(tmp, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    os.replace(tmp, path)


def _read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def _unlink(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class Store:
    def __init__(self, data_dir):
        self.root = os.path.abspath(data_dir)
        self.tmp_dir = os.path.join(self.root, "tmp")
        os.makedirs(self.tmp_dir, exist_ok=True)
        for name in os.listdir(self.tmp_dir):     # bodies of requests cut by a crash
            _unlink(os.path.join(self.tmp_dir, name))
        self._buckets = {}
        self._lock = threading.Lock()
        self.observer = None     # fn(bucket name, key) called after each object change

    def changed(self, bucket, key):
        if self.observer is not None:
            self.observer(bucket, key)

    def bucket(self, name):
        with self._lock:
            b = self._buckets.get(name)
            if b is None:
                b = self._buckets[name] = BucketStore(self, name)
            return b

    def load_all(self, names):
        for name in names:
            self.bucket(name)

    def temp_path(self):
        return os.path.join(self.tmp_dir, secrets.token_hex(12))


class BucketStore:
    def __init__(self, store, name):
        self.store = store
        self.name = name
        self.dir = os.path.join(store.root, "buckets", name)
        self.obj_dir = os.path.join(self.dir, "objects")
        self.up_dir = os.path.join(self.dir, "uploads")
        os.makedirs(self.obj_dir, exist_ok=True)
        os.makedirs(self.up_dir, exist_ok=True)
        self.lock = threading.RLock()
        self.keys = []       # sorted
        self.index = {}      # key -> (size, etag, last_modified, storage_class)
        self.uploads = {}    # upload id -> upload.json document
        self._rebuild()

    # -- paths -----------------------------------------------------------

    def _hash(self, key):
        return hashlib.sha256(self.name.encode() + b"\0" + key.encode("utf-8", "surrogatepass")
                              ).hexdigest()

    def _sidecar(self, key):
        h = self._hash(key)
        return os.path.join(self.obj_dir, h[:2], h + ".json")

    def data_path(self, meta):
        return os.path.join(self.obj_dir, meta["data"][:2], meta["data"])

    # -- start-up --------------------------------------------------------

    def _rebuild(self):
        referenced = set()
        for sub in os.scandir(self.obj_dir):
            if not sub.is_dir():
                continue
            datas = []
            for entry in os.scandir(sub.path):
                if entry.name.endswith(".json"):
                    meta = _read_json(entry.path)
                    if meta is None:
                        continue
                    referenced.add(meta["data"])
                    self.index[meta["key"]] = _summary(meta)
                elif entry.name.endswith(".data"):
                    datas.append(entry)
                else:
                    _unlink(entry.path)             # a sidecar temp from a crash
            for entry in datas:
                if entry.name not in referenced:
                    _unlink(entry.path)
        self.keys = sorted(self.index)
        for entry in os.scandir(self.up_dir):
            doc = _read_json(os.path.join(entry.path, "upload.json"))
            if doc is None:
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                self.uploads[doc["upload_id"]] = doc

    # -- objects ---------------------------------------------------------

    def head(self, key):
        """Full metadata of `key` or None."""
        if key not in self.index:
            return None
        return _read_json(self._sidecar(key))

    def open_body(self, key):
        """(meta, open file) of the current object, or (None, None)."""
        for _ in range(5):          # the body may be replaced between the two reads
            meta = self.head(key)
            if meta is None:
                return None, None
            try:
                return meta, open(self.data_path(meta), "rb")
            except FileNotFoundError:
                continue
        return None, None

    def install(self, key, temp_body, meta, check=None, quiet=False):
        """Makes temp_body the body of `key` with metadata `meta` (which gets
        key/data set).  check(old_meta_or_None) runs under the lock and may raise
        to refuse; then temp_body is removed and nothing changes."""
        h = self._hash(key)
        sub = os.path.join(self.obj_dir, h[:2])
        os.makedirs(sub, exist_ok=True)
        data_name = "%s.%s.data" % (h, secrets.token_hex(6))
        meta["key"] = key
        meta["data"] = data_name
        with self.lock:
            old = self.head(key)
            try:
                if check:
                    check(old)
            except BaseException:
                _unlink(temp_body)
                raise
            os.replace(temp_body, os.path.join(sub, data_name))
            _write_json(os.path.join(sub, h + ".json"), meta)
            if key not in self.index:
                bisect.insort(self.keys, key)
            self.index[key] = _summary(meta)
        if old:
            _unlink(self.data_path(old))
        if not quiet:
            self.store.changed(self.name, key)
        return old

    def update(self, key, fn):
        """fn(meta) edits metadata in place under the lock (it may raise);
        returns the new metadata or None when the key is missing."""
        with self.lock:
            meta = self.head(key)
            if meta is None:
                return None
            fn(meta)
            _write_json(self._sidecar(key), meta)
            self.index[key] = _summary(meta)
        self.store.changed(self.name, key)
        return meta

    def delete(self, key, check=None, quiet=False):
        with self.lock:
            meta = self.head(key)
            if meta is None:
                return None
            if check:
                check(meta)
            _unlink(self._sidecar(key))
            i = bisect.bisect_left(self.keys, key)
            if i < len(self.keys) and self.keys[i] == key:
                del self.keys[i]
            self.index.pop(key, None)
        _unlink(self.data_path(meta))
        if not quiet:
            self.store.changed(self.name, key)
        return meta

    def list(self, prefix="", after="", delimiter="", limit=1000):
        """Yields up to `limit` entries in order, ("key", key, summary) or
        ("prefix", common prefix, None), starting after `after`; returns via
        the second element of the result (entries, next_marker_or_None)."""
        out = []
        with self.lock:
            keys = self.keys
            start = max(after, prefix)
            i = bisect.bisect_right(keys, after) if start == after else bisect.bisect_left(keys, start)
            n = len(keys)
            while i < n:
                k = keys[i]
                if not k.startswith(prefix):
                    break
                if len(out) == limit:
                    return out, True
                if delimiter:
                    j = k.find(delimiter, len(prefix))
                    if j >= 0:
                        cp = k[:j + len(delimiter)]
                        if cp > after:
                            out.append(("prefix", cp, None))
                        i = bisect.bisect_left(keys, _successor(cp), i)
                        continue
                out.append(("key", k, self.index[k]))
                i += 1
        return out, False

    def count(self):
        return len(self.keys)

    # -- multipart uploads -------------------------------------------------

    def create_upload(self, key, meta):
        upload_id = secrets.token_urlsafe(48)
        d = os.path.join(self.up_dir, upload_id)
        os.makedirs(d)
        doc = {"upload_id": upload_id, "key": key, "initiated": time.time(), "meta": meta}
        _write_json(os.path.join(d, "upload.json"), doc)
        with self.lock:
            self.uploads[upload_id] = doc
        return doc

    def get_upload(self, upload_id, key=None):
        with self.lock:
            doc = self.uploads.get(upload_id)
        if doc is None or (key is not None and doc["key"] != key):
            return None
        return doc

    def put_part(self, upload_id, number, temp_body, part):
        """Installs a part (replacing an earlier upload of the same number).
        Returns False (and drops the body) if the upload vanished meanwhile."""
        d = os.path.join(self.up_dir, upload_id)
        name = "%05d.%s.data" % (number, secrets.token_hex(6))
        part.update(number=number, data=name)
        with self.lock:
            if upload_id not in self.uploads:
                _unlink(temp_body)
                return False
            old = _read_json(os.path.join(d, "%05d.json" % number))
            os.replace(temp_body, os.path.join(d, name))
            _write_json(os.path.join(d, "%05d.json" % number), part)
        if old:
            _unlink(os.path.join(d, old["data"]))
        return True

    def parts(self, upload_id):
        """All parts of an upload, sorted by number."""
        d = os.path.join(self.up_dir, upload_id)
        out = []
        try:
            names = os.listdir(d)
        except FileNotFoundError:
            return out
        for name in names:
            if name.endswith(".json") and name != "upload.json":
                p = _read_json(os.path.join(d, name))
                if p:
                    out.append(p)
        out.sort(key=lambda p: p["number"])
        return out

    def part_path(self, upload_id, part):
        return os.path.join(self.up_dir, upload_id, part["data"])

    def remove_upload(self, upload_id):
        with self.lock:
            doc = self.uploads.pop(upload_id, None)
        if doc is not None:
            shutil.rmtree(os.path.join(self.up_dir, upload_id), ignore_errors=True)
        return doc

    def list_uploads(self):
        """Open uploads sorted by (key, initiated, id), S3's ListMultipartUploads order."""
        with self.lock:
            docs = list(self.uploads.values())
        docs.sort(key=lambda d: (d["key"], d["initiated"], d["upload_id"]))
        return docs


def _summary(meta):
    return (meta["size"], meta["etag"], meta["last_modified"], meta.get("storage_class", "STANDARD"))


def _successor(prefix):
    """The smallest string greater than every string starting with prefix."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)
