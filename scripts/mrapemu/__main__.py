"""Command line: scripts/mrap-emulator --port PORT --data DIR [options].

Prints exactly one line `ready` on stdout once it listens on 127.0.0.1; logs go
to stderr; SIGTERM and SIGINT stop it cleanly (state is always on disk, so
there is nothing to flush).
"""
import argparse
import signal
import sys
import threading

from .accounting import Faults, Stats
from .config import State, load_config_file
from .control_ops import Operations
from .replication import Replicator
from .server import App, serve, stop
from .store import Store
from .timers import Scheduler


def parse_args(argv):
    p = argparse.ArgumentParser(prog="mrap-emulator",
                                description="Local S3 Multi-Region Access Point emulator")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--data", required=True, help="directory holding all persistent state")
    p.add_argument("--config", help="JSON file adding credentials, buckets and MRAPs")
    p.add_argument("--restore-delay", type=float, default=2.0,
                   help="seconds a RestoreObject takes to complete (default 2)")
    p.add_argument("--control-delay", type=float, default=2.0,
                   help="seconds an S3 Control create/delete/put-policy takes (default 2)")
    p.add_argument("--replication-lag", type=float, default=None,
                   help="replicate objects between each MRAP's buckets after SECONDS "
                        "(default: no replication)")
    p.add_argument("--fault-slowdown", type=float, default=0.0, help="fraction answered 503")
    p.add_argument("--fault-internal", type=float, default=0.0, help="fraction answered 500")
    p.add_argument("--fault-cut", type=float, default=0.0, help="fraction of connections cut")
    p.add_argument("--latency-ms", type=int, default=0, help="delay added to every request")
    p.add_argument("--fault-seed", type=int, default=None, help="seed for fault draws")
    p.add_argument("--log-requests", action="store_true", help="log each request to stderr")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    state = State(args.data, load_config_file(args.config))
    store = Store(args.data)
    store.load_all(state.buckets)
    faults = Faults(args.fault_slowdown, args.fault_internal, args.fault_cut, args.latency_ms,
                    args.fault_seed)
    timers = Scheduler()
    operations = Operations(state, args.data, timers, args.control_delay)
    replication = Replicator(state, store, timers, args.replication_lag)
    app = App(state, store, Stats(), faults, args.restore_delay, args.log_requests,
              operations, replication)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())

    def ready():
        sys.stdout.write("ready\n")
        sys.stdout.flush()
    server, _ = serve(app, args.port, ready)
    sys.stderr.write("mrap-emulator: listening on 127.0.0.1:%d, data in %s\n"
                     % (args.port, args.data))
    while not done.wait(3600):
        pass
    stop(server)
    timers.stop()
    sys.stderr.write("mrap-emulator: stopped\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
