#!/usr/bin/env bash
# The benchmark (run by hand; not a test): the same workloads through mrapfs
# (MRAP endpoint, SigV4A), s3fs and rclone mount (the emulator's regional
# bucket, path style, SigV4), next to the limit: curl GET/PUT of the same
# object from the same emulator. Prints a table: throughput or time, the HTTP
# requests each workload cost (the emulator's accounting) and the peak RSS of
# the filesystem process during it (VmHWM, reset through /proc/PID/clear_refs).
#
#   scripts/bench.sh [mrapfs s3fs rclone curl]     (default: all four)
#
# Settings: BENCH_DIR (/var/tmp/mrapfs-bench: emulator data, kept between runs
# so the 1 GiB seed is made once), BENCH_PORT (9500), BENCH_FIO_SECONDS (20),
# MRAPFS_OPTS (mrapfs's cache options; default: a 2 GiB disk cache under
# BENCH_DIR, so that the warm re-read of the 1 GiB file comes from mrapfs's
# cache, as rclone's and s3fs's would with their caches on).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${BENCH_DIR:-/var/tmp/mrapfs-bench}
port=${BENCH_PORT:-9500}
fio_secs=${BENCH_FIO_SECONDS:-20}
tools=("$@")
((${#tools[@]})) || tools=(curl mrapfs s3fs rclone)
ak=AKIAIOSFODNN7EXAMPLE
sk=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
bucket=demo-us-east-1
alias=mfzwi23gnjvgw.mrap
util="/usr/bin/python3 $root/scripts/bench_util.py"
results=$dir/results.tsv

bash "$root/scripts/deps.sh"
missing=()
for p in s3fs rclone fio; do command -v "$p" >/dev/null || missing+=("$p"); done
if ((${#missing[@]})); then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
export MRAP_BUILD_DIR=$root/build-bench
bash "$root/scripts/build.sh" -DCMAKE_BUILD_TYPE=Release >/dev/null

# Every run starts cold: no cache left by an earlier run, and an empty mount
# point (a tool that failed to mount must not have written into the bare directory).
mountpoint -q "$dir/mnt" && { fusermount3 -u "$dir/mnt" || umount -l "$dir/mnt"; }
rm -rf "$dir/cache" "$dir/mnt"
mkdir -p "$dir/mnt" "$dir/cache"
emu_pid=
cleanup() {
  mountpoint -q "$dir/mnt" && { fusermount3 -u "$dir/mnt" || umount -l "$dir/mnt"; }
  [ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null
  return 0
}
trap cleanup EXIT
/usr/bin/python3 "$root/scripts/mrap-emulator" --port "$port" --data "$dir/data" \
  >"$dir/emulator.ready" 2>"$dir/emulator.log" &
emu_pid=$!
for _ in $(seq 300); do grep -q ready "$dir/emulator.ready" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$dir/emulator.ready" || { echo "emulator did not start: $dir/emulator.log"; exit 1; }
if [ ! -f "$dir/seeded" ]; then
  echo "seeding: 1 GiB object, 10,000 + 10,000 tiny objects, 1,000 x 4 KiB (once)"
  $util seed "$port" && touch "$dir/seeded"
fi
[ -f "$dir/src-1g.bin" ] || head -c 1G /dev/urandom >"$dir/src-1g.bin"
: >"$results"

now() { date +%s.%N; }
mib_s() { /usr/bin/python3 -c "import sys; print('%.0f MiB/s' % ($1 / 1048576 / ($3 - $2)))"; }
secs() { /usr/bin/python3 -c "print('%.2f s' % ($2 - $1))"; }
drop_page_cache() { sync; echo 3 >/proc/sys/vm/drop_caches; }
fs_pid=
rss_reset() { [ -n "$fs_pid" ] && echo 5 >"/proc/$fs_pid/clear_refs" 2>/dev/null || true; }
rss_peak() {
  [ -n "$fs_pid" ] || { echo -; return; }
  awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$fs_pid/status" 2>/dev/null || echo -
}
# row WORKLOAD TOOL RESULT: appends one table row with the requests since the last reset.
row() {
  read -r reqs ops < <($util stats "$port")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$reqs" "$(rss_peak)" "$ops" | tee -a "$results"
}
begin() { drop_page_cache; $util reset "$port"; rss_reset; }

mount_fs() { # TOOL -> mounts $dir/mnt, sets fs_pid, sets base (the folder holding bench/)
  local tool=$1 mnt=$dir/mnt
  case $tool in
    mrapfs)
      AWS_ACCESS_KEY_ID=$ak AWS_SECRET_ACCESS_KEY=$sk "$MRAP_BUILD_DIR/mrapfs" \
        --endpoint-url "http://localhost:$port" --log-file "$dir/mrapfs.log" \
        ${MRAPFS_OPTS:---cache $dir/cache/mrapfs --max-cache-size 2048} "$alias" "$mnt"
      fs_pid=$(pgrep -f "mrapfs.*$mnt" | head -1) ;;
    s3fs)
      printf '%s:%s\n' "$ak" "$sk" >"$dir/s3fs.passwd"; chmod 600 "$dir/s3fs.passwd"
      # s3fs's documented options for a non-AWS endpoint, plus its usual tuning.
      s3fs "$bucket" "$mnt" -o passwd_file="$dir/s3fs.passwd",url="http://localhost:$port" \
        -o use_path_request_style,endpoint=us-east-1,parallel_count=8,multipart_size=64 \
        -o max_stat_cache_size=100000,stat_cache_expire=60
      fs_pid=$(pgrep -f "s3fs $bucket $mnt" | head -1) ;;
    rclone)
      # rclone's recommended mount for read/write use: VFS cache for writes.
      RCLONE_CONFIG_EMU_TYPE=s3 RCLONE_CONFIG_EMU_PROVIDER=Other \
      RCLONE_CONFIG_EMU_ENDPOINT="http://localhost:$port" RCLONE_CONFIG_EMU_REGION=us-east-1 \
      RCLONE_CONFIG_EMU_ACCESS_KEY_ID=$ak RCLONE_CONFIG_EMU_SECRET_ACCESS_KEY=$sk \
      RCLONE_CONFIG_EMU_FORCE_PATH_STYLE=true \
        env -u AWS_CA_BUNDLE rclone mount "emu:$bucket" "$mnt" --daemon --vfs-cache-mode writes \
        --cache-dir "$dir/cache/rclone" --log-file "$dir/rclone.log"
      fs_pid=$(pgrep -f "rclone mount emu:$bucket" | head -1) ;;
  esac
  for _ in $(seq 300); do mountpoint -q "$mnt" && return 0; sleep 0.1; done
  echo "$tool did not mount"; return 1
}

run_fs() {
  local tool=$1 b=$dir/mnt/bench t0 t1
  mount_fs "$tool" || return 1
  begin; t0=$(now); ls -l "$b/flat" >/dev/null; t1=$(now)
  row "ls -l, 10,000 files" "$tool" "$(secs "$t0" "$t1")"
  begin; t0=$(now); find "$b/tree" >/dev/null; t1=$(now)
  row "find, 10,000 files in 100 dirs" "$tool" "$(secs "$t0" "$t1")"
  begin; t0=$(now); cat "$b"/small/* >/dev/null; t1=$(now)
  row "read 1,000 x 4 KiB" "$tool" "$(secs "$t0" "$t1")"
  begin; t0=$(now); cat "$b/big-1g.bin" >/dev/null; t1=$(now)
  row "seq read 1 GiB, cold" "$tool" "$(mib_s $((1 << 30)) "$t0" "$t1")"
  begin; t0=$(now); cat "$b/big-1g.bin" >/dev/null; t1=$(now)
  row "seq read 1 GiB, warm" "$tool" "$(mib_s $((1 << 30)) "$t0" "$t1")"
  for bs in 4k 256k; do
    begin
    fio --name=rr --filename="$b/big-1g.bin" --readonly --rw=randread --bs=$bs \
      --runtime="$fio_secs" --time_based --ioengine=psync --output-format=json \
      >"$dir/fio.json" 2>/dev/null || true
    read -r bw iops < <($util fio-json "$dir/fio.json" 2>/dev/null || echo "- -")
    row "fio randread $bs, ${fio_secs}s" "$tool" "$bw MiB/s, $iops IOPS"
  done
  rm -f "$b/write-$tool.bin" 2>/dev/null || true
  begin; t0=$(now)
  if dd if="$dir/src-1g.bin" of="$b/write-$tool.bin" bs=1M status=none; then
    t1=$(now); row "seq write 1 GiB (dd bs=1M)" "$tool" "$(mib_s $((1 << 30)) "$t0" "$t1")"
  else
    row "seq write 1 GiB (dd bs=1M)" "$tool" "failed"
  fi
  fusermount3 -u "$dir/mnt" || umount -l "$dir/mnt"
  fs_pid=
}

run_curl() {
  # S3 requires x-amz-content-sha256 with SigV4 headers; curl does not add it itself.
  local url=http://localhost:$port/$bucket/bench t0 t1
  local sig=(--aws-sigv4 "aws:amz:us-east-1:s3" --user "$ak:$sk" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")
  begin; t0=$(now); curl -fsS "${sig[@]}" -o /dev/null "$url/big-1g.bin"; t1=$(now)
  row "seq read 1 GiB, cold" curl "$(mib_s $((1 << 30)) "$t0" "$t1")"
  begin; t0=$(now)
  curl -fsS "${sig[@]}" -T "$dir/src-1g.bin" \
    -o /dev/null "$url/write-curl.bin"
  t1=$(now); row "seq write 1 GiB (dd bs=1M)" curl "$(mib_s $((1 << 30)) "$t0" "$t1")"
}

for tool in "${tools[@]}"; do
  echo "== $tool"
  case $tool in
    curl) run_curl ;;
    mrapfs|s3fs|rclone) run_fs "$tool" || echo "$tool: run failed" ;;
    *) echo "unknown tool $tool"; exit 2 ;;
  esac
done

echo
echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), emulator on 127.0.0.1"
sort -t$'\t' -k1,1 -s "$results" >"$results.sorted"
$util table "$results.sorted" | tee "$dir/results.md"
