#!/usr/bin/env bash
# The mrapfs demo: installs what it needs, builds, starts the local MRAP
# emulator with a sample MRAP holding a few files, mounts it with mrapfs
# (SigV4A, exactly as against AWS), shows it working, and leaves it mounted
# for you to explore.  `scripts/demo.sh stop` unmounts and stops the emulator.
#
# Settings (environment): MRAP_DEMO_DIR (default /tmp/mrapfs-demo),
# MRAP_DEMO_PORT (default 9000).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${MRAP_DEMO_DIR:-/tmp/mrapfs-demo}
port=${MRAP_DEMO_PORT:-9000}
mnt=$dir/mnt
alias=mfzwi23gnjvgw.mrap
export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY

stop() {
  if mountpoint -q "$mnt" 2>/dev/null; then fusermount3 -u "$mnt" && echo "unmounted $mnt"; fi
  if [ -f "$dir/emulator.pid" ]; then
    kill "$(cat "$dir/emulator.pid")" 2>/dev/null && echo "stopped the emulator" || true
    rm -f "$dir/emulator.pid"
  fi
}
if [ "${1:-}" = stop ]; then stop; exit 0; fi

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; eval "$@"; }

step "installing packages and building"
bash "$root/scripts/deps.sh"
bash "$root/scripts/build.sh"

stop >/dev/null 2>&1 || true
mkdir -p "$dir" "$mnt"

step "starting the MRAP emulator on 127.0.0.1:$port (data in $dir/data)"
ready=$dir/emulator.ready
rm -f "$ready"
( /usr/bin/python3 "$root/scripts/mrap-emulator" --port "$port" --data "$dir/data" \
    >"$ready" 2>"$dir/emulator.log" & echo $! >"$dir/emulator.pid" )
for _ in $(seq 100); do grep -q ready "$ready" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$ready" || { echo "the emulator did not start; see $dir/emulator.log"; exit 1; }
echo "ready: MRAP 'demo' (alias $alias) over demo-us-east-1 and demo-eu-west-1"

admin=http://127.0.0.1:$port/_emulator
seed() { # bucket key json-extras
  curl -fsS -X POST "$admin/object" -H 'Content-Type: application/json' \
    -d "{\"bucket\":\"demo-us-east-1\",\"key\":\"$1\",$2}" >/dev/null
}
b64() { printf '%s' "$1" | base64 -w0; }
seed "hello.txt" "\"body\":\"$(b64 $'Hello from a Multi-Region Access Point!\n')\""
seed "docs/README.md" "\"body\":\"$(b64 $'# Docs\nmrapfs mounts an S3 MRAP.\n')\""
seed "docs/guide/setup.txt" "\"body\":\"$(b64 $'1. mount\n2. read\n')\""
seed "photos/2026/summer beach.jpg" "\"size\":2500000"
seed "backups/archive-2026-11.tar" "\"size\":52428800"
echo "seeded 5 objects into demo-us-east-1 (the MRAP's nearest active bucket)"

step "the emulator checks signatures as AWS does: an unsigned request is refused"
show "curl -s http://$alias.localhost:$port/hello.txt | head -c 200; echo"

step "mounting with mrapfs (every request signed with SigV4A, region set *)"
arn=arn:aws:s3::111122223333:accesspoint/$alias
show "$root/build/mrapfs --endpoint-url http://localhost:$port --log-file $dir/mrapfs.log $arn $mnt"
for _ in $(seq 100); do mountpoint -q "$mnt" && break; sleep 0.1; done

step "ordinary shell tools on the mount"
show "ls -l $mnt"
show "find $mnt -type f"
show "cat $mnt/hello.txt"
show "ls -l '$mnt/photos/2026'"
show "md5sum $mnt/backups/archive-2026-11.tar"
show "stat -c '%n: %s bytes, modified %y' $mnt/docs/README.md"

step "writing: a new file streams up as it is written and is stored at close"
show "mkdir -p $mnt/notes"
show "cp /etc/os-release $mnt/notes/os-release.txt"
show "dd if=/dev/urandom of=$mnt/notes/random.bin bs=1M count=20 status=none"
show "ls -l $mnt/notes"
show "cmp /etc/os-release $mnt/notes/os-release.txt && echo 'read back: identical'"
show "mv $mnt/notes/random.bin $mnt/notes/renamed.bin || true   # an MRAP has no CopyObject"

step "object metadata as extended attributes (tagging, legal hold, ...; routes on the root)"
show "setfattr -n user.s3.tag.project -v demo $mnt/hello.txt"
show "setfattr -n user.s3.legal-hold -v ON $mnt/notes/os-release.txt"
show "getfattr --absolute-names -d -m - $mnt/hello.txt"
show "rm $mnt/notes/os-release.txt || true   # under legal hold"
show "setfattr -n user.s3.legal-hold -v OFF $mnt/notes/os-release.txt && rm $mnt/notes/os-release.txt && echo removed"
show "getfattr --absolute-names -n user.mrap.routes --only-values $mnt; echo"

step "managing the MRAP with mrapctl (S3 Control, SigV4), and a presigned SigV4A URL"
export AWS_ENDPOINT_URL=http://localhost:$port
show "$root/build/mrapctl routes $arn"
show "curl -s \"\$($root/build/mrapctl presign $alias hello.txt --expires 300)\""

step "what it cost, from the emulator's request accounting"
show "curl -s $admin/stats; echo"

cat <<EOT

The MRAP stays mounted at $mnt; explore it, then:
  fusermount3 -u $mnt          # unmount
  scripts/demo.sh stop         # unmount and stop the emulator
Logs: $dir/mrapfs.log, $dir/emulator.log
EOT
