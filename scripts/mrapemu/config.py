"""The emulator's account/bucket/MRAP model: defaults, config file, persistence, routing.

Design: one State object holds everything S3 Control would manage — accounts,
credentials, buckets (name, region, account, Object Lock flag, creation time) and
Multi-Region Access Points (name, alias, account, created time, status, and an
ordered list of regions, each a bucket with its TrafficDialPercentage, plus
what S3 Control manages: public access block, policy, replication lag).
S3 Control (control.py) and the admin endpoint both change routing through
set_routes, so the dials have one source of truth.

Sources, in order: built-in defaults (the `demo` MRAP over two Object-Lock
buckets, one credential), then the JSON config file, then DATA/state.json — the
state persisted by earlier runs (route dials and MRAPs/buckets created at run
time, policies, config MRAPs deleted through S3 Control) so a restart keeps
what the previous run changed.

Config file (all keys optional):
    {"defaults": true,
     "credentials": [{"access_key": "..", "secret_key": "..", "session_token": null,
                      "account": "111122223333"}],
     "buckets": [{"name": "b", "region": "us-west-2", "account": "..", "object_lock": false}],
     "mraps": [{"name": "m", "alias": "mabcdefghijkl.mrap", "account": "..",
                "regions": [{"bucket": "b", "dial": 100}], "replication_lag": null}]}

Routing: the emulator pretends the client is nearest the first bucket in the
MRAP's region order, so each request goes to the first bucket whose dial is > 0;
a dial between 1 and 99 is applied as a probability, falling through to the
next active bucket.  Everything here is guarded by State.lock.
"""
import datetime
import hashlib
import ipaddress
import json
import os
import random
import re
import threading
from dataclasses import asdict, dataclass, field

from .xmlresp import S3Error

DEFAULT_ACCOUNT = "111122223333"
DEFAULT_ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
DEFAULT_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
DEFAULT_MRAP = "demo"
DEFAULT_ALIAS = "mfzwi23gnjvgw.mrap"
DEFAULT_BUCKETS = (("demo-us-east-1", "us-east-1"), ("demo-eu-west-1", "eu-west-1"))


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class Credential:
    access_key: str
    secret_key: str
    session_token: str = None
    account: str = DEFAULT_ACCOUNT


@dataclass
class Bucket:
    name: str
    region: str
    account: str = DEFAULT_ACCOUNT
    object_lock: bool = True
    created: str = field(default_factory=now_iso)


@dataclass
class MrapRegion:
    bucket: str
    region: str
    dial: int = 100


@dataclass
class Mrap:
    name: str
    alias: str
    account: str = DEFAULT_ACCOUNT
    regions: list = field(default_factory=list)   # [MrapRegion], client-nearest first
    created: str = field(default_factory=now_iso)
    status: str = "READY"          # READY, CREATING or DELETING (S3 Control, control.py)
    public_access_block: dict = field(default_factory=lambda: dict(PAB_ALL_ON))
    policy: str = None             # the established policy document (JSON text, verbatim)
    proposed_policy: str = None    # the last PutMultiRegionAccessPointPolicy document
    replication_lag: float = None  # seconds; None = no replication (replication.py)


PAB_FIELDS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
# What S3 applies to a Multi-Region Access Point created without a PublicAccessBlock.
PAB_ALL_ON = {f: True for f in PAB_FIELDS}
# Fields the saved run decides for an MRAP the config file also defines.
_RUNTIME_FIELDS = ("public_access_block", "policy", "proposed_policy", "replication_lag")


_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def valid_bucket_name(name):
    """S3's general-purpose bucket naming rules."""
    if not _BUCKET_RE.match(name) or ".." in name:
        return False
    try:
        ipaddress.IPv4Address(name)
        return False
    except ValueError:
        pass
    if name.startswith(("xn--", "sthree-", "amzn-s3-demo-")):
        return False
    return not name.endswith(("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"))


def make_alias(name, account):
    """A stable MRAP alias: 'm' and 12 base32-ish lower-case characters + '.mrap'.
    S3's aliases all start with 'm' (its model's pattern wants a letter first)."""
    digest = hashlib.sha256(("%s/%s" % (account, name)).encode()).digest()
    letters = "abcdefghijklmnopqrstuvwxyz234567"
    return "m" + "".join(letters[b % 32] for b in digest[:12]) + ".mrap"


class State:
    def __init__(self, data_dir, config=None):
        self.lock = threading.Lock()
        self.path = os.path.join(data_dir, "state.json")
        self.credentials = {}   # access key -> Credential
        self.buckets = {}       # name -> Bucket
        self.mraps = {}         # name -> Mrap (insertion order = config order)
        self.deleted = set()    # names of config/default MRAPs deleted through S3 Control
        self.configured = set()  # names the defaults or the config file define
        self.rng = random.Random()
        config = config or {}
        if config.get("defaults", True):
            self._load_defaults()
        self._load_config(config)
        self.configured = set(self.mraps)
        self._load_persisted()

    # -- loading ---------------------------------------------------------

    def _load_defaults(self):
        self.credentials[DEFAULT_ACCESS_KEY] = Credential(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY)
        for name, region in DEFAULT_BUCKETS:
            self.buckets[name] = Bucket(name, region)
        self.mraps[DEFAULT_MRAP] = Mrap(DEFAULT_MRAP, DEFAULT_ALIAS, regions=[
            MrapRegion(name, region, 100) for name, region in DEFAULT_BUCKETS])

    def _load_config(self, cfg):
        for c in cfg.get("credentials", []):
            self.credentials[c["access_key"]] = Credential(
                c["access_key"], c["secret_key"], c.get("session_token"),
                str(c.get("account", DEFAULT_ACCOUNT)))
        for b in cfg.get("buckets", []):
            if not valid_bucket_name(b["name"]):
                raise ValueError("invalid bucket name in config: %r" % b["name"])
            self.buckets[b["name"]] = Bucket(b["name"], b.get("region", "us-east-1"),
                                             str(b.get("account", DEFAULT_ACCOUNT)),
                                             bool(b.get("object_lock", False)))
        for m in cfg.get("mraps", []):
            mrap = self.add_mrap(m["name"], m.get("alias"), str(m.get("account", DEFAULT_ACCOUNT)),
                                 [(r["bucket"], int(r.get("dial", 100)))
                                  for r in m.get("regions", [])], persist=False)
            lag = m.get("replication_lag")
            mrap.replication_lag = None if lag is None else max(0.0, float(lag))

    def _load_persisted(self):
        try:
            with open(self.path) as f:
                saved = json.load(f)
        except (OSError, ValueError):
            return
        for b in saved.get("buckets", []):
            if b["name"] not in self.buckets and valid_bucket_name(b["name"]):
                self.buckets[b["name"]] = Bucket(**b)
        self.deleted = set(saved.get("deleted", [])) & set(self.mraps)
        for name in self.deleted:
            del self.mraps[name]
        for m in saved.get("mraps", []):
            regions = [MrapRegion(**r) for r in m.get("regions", [])]
            known = self.mraps.get(m["name"])
            if known:   # config decides membership; the saved run decides the dials
                dials = {r.bucket: r.dial for r in regions}
                for r in known.regions:
                    r.dial = dials.get(r.bucket, r.dial)
                for name in _RUNTIME_FIELDS:
                    if name in m:
                        setattr(known, name, m[name])
            else:
                m["regions"] = regions
                self.mraps[m["name"]] = Mrap(**m)

    def save(self):
        """Writes the model atomically; call with self.lock held."""
        doc = {"buckets": [asdict(b) for b in self.buckets.values()],
               "mraps": [asdict(m) for m in self.mraps.values()],
               "deleted": sorted(self.deleted)}
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f, indent=1)
        os.replace(tmp, self.path)

    # -- S3 Control style mutations --------------------------------------

    def add_mrap(self, name, alias, account, regions, persist=True):
        """regions: [(bucket name, dial)].  Returns the Mrap."""
        members = []
        for bucket, dial in regions:
            b = self.buckets.get(bucket)
            if b is None:
                raise ValueError("MRAP %s: unknown bucket %s" % (name, bucket))
            members.append(MrapRegion(bucket, b.region, dial))
        mrap = Mrap(name, alias or make_alias(name, account), account, members)
        self.mraps[name] = mrap
        if persist:
            self.save()
        return mrap

    def delete_mrap(self, name):
        """Removes an MRAP; call with self.lock held."""
        self.mraps.pop(name, None)
        if name in self.configured:     # keep it deleted across restarts
            self.deleted.add(name)
        self.save()

    def set_routes(self, name, active=None, dials=None):
        """Sets dials: `active` (list of buckets → 100, others 0) or explicit `dials`."""
        with self.lock:
            mrap = self.mraps.get(name)
            if mrap is None:
                raise KeyError(name)
            names = {r.bucket for r in mrap.regions}
            wanted = set(active or []) | set((dials or {}).keys())
            unknown = wanted - names
            if unknown:
                raise ValueError("not in MRAP %s: %s" % (name, ", ".join(sorted(unknown))))
            dials = {b: int(d) for b, d in (dials or {}).items()}
            if any(not 0 <= d <= 100 for d in dials.values()):
                raise ValueError("dial must be 0..100")   # checked before anything changes
            for r in mrap.regions:
                if active is not None:
                    r.dial = 100 if r.bucket in active else 0
                if r.bucket in dials:
                    r.dial = dials[r.bucket]
            self.save()
            return asdict(mrap)

    # -- lookups used per request ----------------------------------------

    def credential(self, access_key):
        return self.credentials.get(access_key)

    def mrap_by_alias(self, alias):
        with self.lock:
            for m in self.mraps.values():
                if m.alias == alias and m.status != "CREATING":   # usable once created
                    return m
        return None

    def route(self, mrap):
        """Picks the bucket for one request; raises S3Error when no region is active."""
        with self.lock:
            active = [r for r in mrap.regions if r.dial > 0]
            for r in active:
                if r.dial >= 100 or self.rng.random() * 100 < r.dial:
                    return self.buckets[r.bucket]
            if active:   # every dial lost its draw: the last active region takes it
                return self.buckets[active[-1].bucket]
        # What S3 answers when every dial is 0 is not documented; a 503 lets
        # clients retry while a failover is in progress.
        raise S3Error(503, "ServiceUnavailable",
                      "No active Region for this Multi-Region Access Point.")

    def snapshot(self):
        with self.lock:
            return {"mraps": [asdict(m) for m in self.mraps.values()],
                    "buckets": [asdict(b) for b in self.buckets.values()],
                    "accounts": sorted({c.account for c in self.credentials.values()}
                                       | {b.account for b in self.buckets.values()})}


def load_config_file(path):
    if not path:
        return {}
    with open(path) as f:
        return json.load(f)
