"""S3 Control's asynchronous MRAP requests: create, delete, put-policy.

Design: each request becomes an operation record, answered at once with its
RequestTokenARN; DescribeMultiRegionAccessPointOperation then shows it NEW for
the first half of `delay_s`, INPROGRESS for the second, and SUCCEEDED or
FAILED once the scheduler (timers.py) has finished it at `due`.  What can be
known when the request arrives (name taken, bucket missing or foreign, MRAP
missing) is decided then and stored as `planned_error`; it is revealed only
when the operation finishes, as S3 reports such failures through the
operation, not the request.  A put-policy whose policy is public while the
MRAP blocks public policies fails when it finishes.

Effects: a create adds the MRAP at once with Status CREATING (Get/List show
it, the data plane does not route to it: config.State.mrap_by_alias) and
makes it READY on success; a delete marks it DELETING and removes it on
success; a put-policy sets the Proposed policy at once and the Established
one on success (on failure Proposed falls back to Established).

Records persist in DATA/control.json (written atomically on every change); on
start, unfinished records are rescheduled at their due time, and an MRAP left
CREATING/DELETING by a crash without its record is settled (removed / READY).
Lock order: State.lock, then Operations.lock.  ClientToken is honoured: the
same (account, operation, token) returns the first request's RequestTokenARN.
"""
import json
import os
import secrets
import threading
import time

from .config import Mrap, MrapRegion, make_alias

CONTROL_REGION = "us-west-2"
ARN_KIND = {"CreateMultiRegionAccessPoint": "create", "DeleteMultiRegionAccessPoint": "delete",
            "PutMultiRegionAccessPointPolicy": "put-policy"}


def failure(code, message, resource=None):
    return {"code": code, "message": message, "resource": resource}


def policy_is_public(text):
    """The emulator's rule for IsPublic: some statement Allows with Principal "*"
    (or {"AWS": "*"}, also inside a list) and has no Condition.  S3's real
    analysis (Zelkova) is richer; this is the common case it flags."""
    try:
        doc = json.loads(text or "")
    except ValueError:
        return False
    statements = doc.get("Statement", []) if isinstance(doc, dict) else []
    if isinstance(statements, dict):
        statements = [statements]
    for s in statements:
        if not isinstance(s, dict) or s.get("Effect") != "Allow" or "Condition" in s:
            continue
        p = s.get("Principal")
        if isinstance(p, dict):
            p = p.get("AWS")
        if p == "*" or (isinstance(p, list) and "*" in p):
            return True
    return False


class Operations:
    def __init__(self, state, data_dir, scheduler, delay_s=2.0):
        self.state = state
        self.scheduler = scheduler
        self.delay_s = max(0.0, float(delay_s))
        self.lock = threading.Lock()
        self.path = os.path.join(data_dir, "control.json")
        self.ops = {}             # token ARN -> record (dict, JSON-serialisable)
        self.client_tokens = {}   # "account operation client-token" -> token ARN
        self._load()

    # -- persistence -------------------------------------------------------

    def _load(self):
        try:
            with open(self.path) as f:
                doc = json.load(f)
        except (OSError, ValueError):
            doc = {}
        for op in doc.get("operations", []):
            self.ops[op["token"]] = op
            if op.get("client_token"):
                self.client_tokens[self._ct_key(op)] = op["token"]
        pending = [op for op in self.ops.values() if op.get("final") is None]
        with self.state.lock:
            self._settle_orphans(pending)
        for op in pending:
            self._schedule(op)

    def _settle_orphans(self, pending):
        busy = {(o["operation"], o["params"]["name"]) for o in pending}
        changed = False
        for m in list(self.state.mraps.values()):
            if m.status == "CREATING" and ("CreateMultiRegionAccessPoint", m.name) not in busy:
                self.state.mraps.pop(m.name)
                changed = True
            elif m.status == "DELETING" and ("DeleteMultiRegionAccessPoint", m.name) not in busy:
                m.status = "READY"
                changed = True
        if changed:
            self.state.save()

    def _save(self):
        """Call with self.lock held."""
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"operations": list(self.ops.values())}, f, indent=1)
        os.replace(tmp, self.path)

    @staticmethod
    def _ct_key(op):
        return "%s %s %s" % (op["account"], op["operation"], op.get("client_token"))

    # -- queries -------------------------------------------------------------

    def get(self, token, account):
        """(record copy, RequestStatus) or (None, None) when unknown to this account."""
        with self.lock:
            op = self.ops.get(token)
            if op is None or op["account"] != account:
                return None, None
            op = dict(op)
        if op.get("final"):
            return op, op["final"]
        half = op["created"] + (op["due"] - op["created"]) / 2
        return op, "NEW" if time.time() < half else "INPROGRESS"

    def snapshot(self):
        with self.lock:
            return {"delay_s": self.delay_s, "operations": [dict(o) for o in self.ops.values()]}

    # -- submitting ------------------------------------------------------------

    def submit(self, account, operation, client_token, params, request_id):
        """Records a request and applies what it does at once; returns the token ARN."""
        with self.state.lock:
            with self.lock:
                if client_token:
                    known = self.client_tokens.get(
                        "%s %s %s" % (account, operation, client_token))
                    if known:
                        return known
                now = time.time()
                token = "arn:aws:s3:%s:%s:async-request/mrap/%s/%s" % (
                    CONTROL_REGION, account, ARN_KIND[operation], secrets.token_hex(16))
                op = {"token": token, "account": account, "operation": operation,
                      "client_token": client_token, "params": params, "created": now,
                      "due": now + self.delay_s, "request_id": request_id, "final": None,
                      "planned_error": None, "error": None, "regions": None}
                begin = {"CreateMultiRegionAccessPoint": self._begin_create,
                         "DeleteMultiRegionAccessPoint": self._begin_delete,
                         "PutMultiRegionAccessPointPolicy": self._begin_put_policy}[operation]
                op["planned_error"] = begin(op)
                self.ops[token] = op
                if client_token:
                    self.client_tokens[self._ct_key(op)] = token
                self._save()
        self._schedule(op)
        return token

    def _begin_create(self, op):
        p, st = op["params"], self.state
        if p["name"] in st.mraps:
            # emulator wording: S3's text for a name in use is not documented
            return failure("MultiRegionAccessPointAlreadyExists",
                           "A Multi-Region Access Point with this name already exists.",
                           p["name"])
        members, regions = [], set()
        for bucket, bucket_account in p["regions"]:
            b = st.buckets.get(bucket)
            if b is None:
                return failure("NoSuchBucket", "The specified bucket does not exist", bucket)
            if b.account != (bucket_account or op["account"]):
                return failure("AccessDenied", "Access Denied", bucket)
            if b.region in regions:
                # emulator wording: S3 allows one bucket per Region in an MRAP
                return failure("InvalidRequest", "A Multi-Region Access Point can have only "
                               "one bucket per Region.", bucket)
            regions.add(b.region)
            members.append(MrapRegion(b.name, b.region, 100))
        st.mraps[p["name"]] = Mrap(p["name"], make_alias(p["name"], op["account"]),
                                   op["account"], members, status="CREATING",
                                   public_access_block=dict(p["public_access_block"]))
        st.save()
        return None

    def _mrap(self, op):
        m = self.state.mraps.get(op["params"]["name"])
        return m if m is not None and m.account == op["account"] else None

    def _begin_delete(self, op):
        m = self._mrap(op)
        if m is None:
            return no_such_mrap(op["params"]["name"])
        if m.status != "READY":
            return failure("OperationAborted", "A conflicting conditional operation is "
                           "currently in progress against this resource. Please try again.",
                           m.name)
        m.status = "DELETING"
        self.state.save()
        return None

    def _begin_put_policy(self, op):
        m = self._mrap(op)
        if m is None:
            return no_such_mrap(op["params"]["name"])
        m.proposed_policy = op["params"]["policy"]
        self.state.save()
        return None

    # -- finishing -----------------------------------------------------------------

    def _schedule(self, op):
        token = op["token"]
        self.scheduler.call_at(op["due"], lambda: self.finish(token))

    def finish(self, token):
        with self.state.lock:
            with self.lock:
                op = self.ops.get(token)
                if op is None or op.get("final"):
                    return
                error = op["planned_error"]
                m = self._mrap(op)
                name = op["params"]["name"]
                if op["operation"] == "CreateMultiRegionAccessPoint":
                    if error is None and m is not None and m.status == "CREATING":
                        m.status = "READY"
                        op["regions"] = [r.region for r in m.regions]
                    elif error is None:
                        error = no_such_mrap(name)
                elif op["operation"] == "DeleteMultiRegionAccessPoint":
                    if error is None and m is not None:
                        self.state.delete_mrap(name)
                        op["regions"] = [r.region for r in m.regions]
                    elif error is None:
                        error = no_such_mrap(name)
                elif error is None:
                    error = self._finish_put_policy(op, m)
                op["final"] = "FAILED" if error else "SUCCEEDED"
                op["error"] = error
                op["finished"] = time.time()
                self.state.save()
                self._save()

    def _finish_put_policy(self, op, m):
        policy = op["params"]["policy"]
        if m is None:
            return no_such_mrap(op["params"]["name"])
        if m.public_access_block.get("BlockPublicPolicy") and policy_is_public(policy):
            if m.proposed_policy == policy:
                m.proposed_policy = m.policy
            return failure("AccessDenied", "Access Denied", m.name)
        m.policy = policy
        return None


def no_such_mrap(name):
    # emulator wording: the code is S3's, the message is not documented
    return failure("NoSuchMultiRegionAccessPoint",
                   "The specified Multi-Region Access Point does not exist.", name)
