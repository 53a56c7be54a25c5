#!/bin/sh
# kvs-probe: the only surface the conformance suite uses inside a guest.
#
# Delivered by cloud-init write_files to /usr/local/bin/kvs-probe and driven over the
# serial console. Disks are addressed by their serial:
#   ${PROBE_DEV_ROOT}/dev/disk/by-id/virtio-<serial>   (PROBE_DEV_ROOT is empty in a VM)
# Every verb prints one result line (fio prints fio's JSON) and exits non-zero with a
# one-line reason on error, so the suite can judge on bytes, never on guesswork.
#
# The seeded pattern (mirrored by suite/guest/pattern.py; keep the two in step):
#   chunk = sha256hex("kvs:<seed>:0") .. sha256hex("kvs:<seed>:63")   (4096 bytes)
#   base  = chunk x 256                                                (1 MiB)
#   every 1 MiB unit starting at byte P of the disk holds
#   ("kvs seed=<seed> pos=<P>\n" + base) cut to the unit's length.
set -u

ROOT="${PROBE_DEV_ROOT:-}"
MIB=1048576
STATE_DIR="${KVS_PROBE_STATE:-${TMPDIR:-/tmp}}"

die() {
    code="$1"; shift
    printf 'error: %s\n' "$*"
    exit "$code"
}

usage() {
    die 2 "usage: kvs-probe write|checksum|size|fio|marker-write|loop-write|loop-status|loop-stop|loop-verify|has|efivar-write|efivar-read ..."
}

need_args() {
    [ "$1" -ge "$2" ] || die 2 "$3 expects: $4"
}

check_int() {
    case "$2" in
        ''|*[!0-9]*) die 2 "$1 must be a non-negative integer, got '$2'" ;;
    esac
}

check_word() {
    case "$2" in
        ''|*[!A-Za-z0-9._-]*) die 2 "$1 may only hold letters, digits, '.', '_' and '-', got '$2'" ;;
    esac
}

device() {
    check_word serial "$1"
    dev="$ROOT/dev/disk/by-id/virtio-$1"
    [ -e "$dev" ] || die 3 "disk virtio-$1 not found under $ROOT/dev/disk/by-id"
}

disk_size() {
    if [ -b "$dev" ]; then
        blockdev --getsize64 "$dev" 2>/dev/null || die 4 "blockdev cannot read the size of $dev"
    else
        stat -L -c %s "$dev" 2>/dev/null || die 4 "stat cannot read the size of $dev"
    fi
}

# O_DIRECT keeps the guest page cache out of the measurement; some filesystems (tmpfs)
# refuse it, and there plain I/O plus fsync is the best we can do.
direct_flag() {
    if dd if="$dev" of=/dev/null bs=4096 count=1 iflag=direct status=none 2>/dev/null; then
        echo ",direct"
    fi
}

check_range() {
    check_int offset "$1"
    check_int length "$2"
    [ $(($1 % 512)) -eq 0 ] || die 2 "offset must be a multiple of 512, got $1"
    [ $(($2 % 512)) -eq 0 ] || die 2 "length must be a multiple of 512, got $2"
    size=$(disk_size)
    [ $(($1 + $2)) -le "$size" ] || die 5 "range $1+$2 is beyond the end of the disk ($size bytes)"
}

workdir() {
    work=$(mktemp -d "${TMPDIR:-/tmp}/kvs-probe.XXXXXX") || die 6 "cannot create a temporary folder"
    trap 'rm -rf "$work"' EXIT
    trap 'exit 130' INT TERM HUP  # a Ctrl-C from the console still runs the EXIT cleanup
}

make_base() {
    j=0
    : > "$work/chunk"
    while [ "$j" -lt 64 ]; do
        printf 'kvs:%s:%d' "$1" "$j" | sha256sum | cut -c1-64 | tr -d '\n' >> "$work/chunk"
        j=$((j + 1))
    done
    cp "$work/chunk" "$work/base"
    k=0
    while [ "$k" -lt 8 ]; do
        cat "$work/base" "$work/base" > "$work/base2" && mv "$work/base2" "$work/base"
        k=$((k + 1))
    done
}

# generate SEED OFFSET LENGTH: the seeded pattern for that range on stdout.
generate() {
    pos="$2"
    end=$(($2 + $3))
    while [ "$pos" -lt "$end" ]; do
        len=$((end - pos))
        [ "$len" -gt "$MIB" ] && len="$MIB"
        { printf 'kvs seed=%s pos=%d\n' "$1" "$pos"; cat "$work/base"; } | head -c "$len"
        pos=$((pos + len))
    done
}

# write_stream OFFSET: stdin to the disk at OFFSET, flushed to the device before returning.
write_stream() {
    dd of="$dev" bs=1M iflag=fullblock oflag=seek_bytes"$(direct_flag)" seek="$1" \
        conv=notrunc,fsync status=none 2>"$work/dd.err" \
        || die 7 "write to $dev failed: $(tail -n 1 "$work/dd.err")"
}

read_range() {
    dd if="$dev" bs=1M iflag=skip_bytes,count_bytes"$(direct_flag)" skip="$1" count="$2" \
        status=none
}

hash_of() {
    sha256sum | cut -c1-64
}

cmd_write() {
    need_args "$#" 4 write "write <serial> <offset> <length> <seed>"
    device "$1"; check_range "$2" "$3"; check_word seed "$4"
    workdir; make_base "$4"
    generate "$4" "$2" "$3" | write_stream "$2"
    printf 'sha256=%s bytes=%d\n' "$(generate "$4" "$2" "$3" | hash_of)" "$3"
}

cmd_checksum() {
    need_args "$#" 3 checksum "checksum <serial> <offset> <length>"
    device "$1"; check_range "$2" "$3"
    workdir
    read_range "$2" "$3" > "$work/data" 2>"$work/dd.err" \
        || die 7 "read of $dev failed: $(tail -n 1 "$work/dd.err")"
    got=$(stat -c %s "$work/data")
    [ "$got" -eq "$3" ] || die 7 "short read from $dev: $got of $3 bytes"
    printf 'sha256=%s bytes=%d\n' "$(hash_of < "$work/data")" "$3"
}

cmd_size() {
    need_args "$#" 1 size "size <serial>"
    device "$1"
    printf 'bytes=%d\n' "$(disk_size)"
}

cmd_has() {
    need_args "$#" 1 has "has <tool>"
    check_word tool "$1"
    where=$(command -v "$1") || die 127 "$1: not found"
    printf '%s=%s\n' "$1" "$where"
}

cmd_fio() {
    need_args "$#" 2 fio "fio <serial> <base64 job file>"
    device "$1"
    command -v fio >/dev/null 2>&1 || die 127 "fio: not found"
    workdir
    printf '%s' "$2" | base64 -d > "$work/job.b" 2>/dev/null || die 2 "the job file is not valid base64"
    esc=$(printf '%s' "$dev" | sed 's/[\\|&]/\\&/g')
    sed "s|@DEVICE@|$esc|g" "$work/job.b" > "$work/job.fio"
    if ! fio --output-format=json+ --output="$work/out.json" "$work/job.fio" \
            >"$work/fio.log" 2>&1; then
        die 8 "fio failed ($(fio --version 2>/dev/null | head -n 1)): $(grep -v '^$' "$work/fio.log" | tail -n 1)"
    fi
    cat "$work/out.json"
}

cmd_marker_write() {
    need_args "$#" 4 marker-write "marker-write <serial> <offset> <length> <marker>"
    device "$1"; check_range "$2" "$3"; check_word marker "$4"
    workdir
    printf '%s\n' "$4" > "$work/unit"
    while [ "$(stat -c %s "$work/unit")" -lt "$MIB" ]; do
        cat "$work/unit" "$work/unit" > "$work/u2" && mv "$work/u2" "$work/unit"
    done
    marker_stream "$3" | write_stream "$2"
    printf 'sha256=%s bytes=%d\n' "$(marker_stream "$3" | hash_of)" "$3"
}

marker_stream() {
    left="$1"
    while [ "$left" -gt 0 ]; do
        len="$left"; [ "$len" -gt "$MIB" ] && len="$MIB"
        head -c "$len" "$work/unit"
        left=$((left - len))
    done
}

# The migration check needs writes that keep landing while the VM moves: numbered
# 4 KiB blocks, each flushed before the next, progress kept in a state file.
loop_block() {
    { printf 'kvs-loop seed=%s n=%d\n' "$1" "$2"; cat "$3"; } | head -c 4096
}

loop_files() {
    check_word serial "$1"
    lstate="$STATE_DIR/kvs-loop-$1"
}

cmd_loop_write() {
    need_args "$#" 4 loop-write "loop-write <serial> <offset> <blocks> <seed>"
    check_int blocks "$3"; device "$1"; check_range "$2" $(($3 * 4096)); check_word seed "$4"
    loop_files "$1"
    rm -f "$lstate.count" "$lstate.stop" "$lstate.err"
    echo 0 > "$lstate.count"
    nohup sh "$0" _loop "$@" </dev/null >/dev/null 2>&1 &
    echo "$!" > "$lstate.pid"
    printf 'started pid=%d\n' "$!"
}

cmd_loop_worker() {
    device "$1"; loop_files "$1"
    pad="$lstate.pad"
    head -c 4096 /dev/zero | tr '\0' '.' > "$pad"
    n=0
    flag=$(direct_flag)
    while [ "$n" -lt "$3" ] && [ ! -e "$lstate.stop" ]; do
        loop_block "$4" "$n" "$pad" | dd of="$dev" bs=4096 oflag=seek_bytes"$flag" \
            seek=$(($2 + n * 4096)) conv=notrunc,fsync status=none 2>>"$lstate.err" \
            || { echo "write of block $n failed" >> "$lstate.err"; exit 1; }
        n=$((n + 1))
        echo "$n" > "$lstate.count.new" && mv "$lstate.count.new" "$lstate.count"
    done
}

loop_report() {
    count=$(cat "$lstate.count" 2>/dev/null) || die 9 "no loop writer was started for $1"
    running=no
    loop_pid
    kill -0 "$pid" 2>/dev/null && running=yes
    [ -s "$lstate.err" ] && die 9 "loop writer failed: $(tail -n 1 "$lstate.err")"
    printf 'written=%d running=%s\n' "$count" "$running"
}

# A missing or empty pid file must never turn into "kill -0 0" (the whole group).
loop_pid() {
    pid=$(cat "$lstate.pid" 2>/dev/null) || die 9 "no loop writer was started for this disk"
    check_int pid "$pid"
    [ "$pid" -gt 0 ] || die 9 "the loop writer's pid file is damaged"
}

cmd_loop_status() {
    need_args "$#" 1 loop-status "loop-status <serial>"
    loop_files "$1"
    loop_report "$1"
}

cmd_loop_stop() {
    need_args "$#" 1 loop-stop "loop-stop <serial>"
    loop_files "$1"
    loop_pid
    touch "$lstate.stop"
    waited=0
    while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 300 ]; do
        sleep 0.1; waited=$((waited + 1))
    done
    kill -0 "$pid" 2>/dev/null && die 9 "loop writer (pid $pid) did not stop within 30 s"
    # the writer is gone: its state files go too, once reported
    trap 'rm -f "$lstate.count" "$lstate.stop" "$lstate.err" "$lstate.pid" "$lstate.pad"' EXIT
    loop_report "$1"
}

# Streams both sides through a FIFO into cmp: a long run must not need its size in /tmp
# (tmpfs in RAM on most guests).
cmd_loop_verify() {
    need_args "$#" 4 loop-verify "loop-verify <serial> <offset> <blocks> <seed>"
    check_int blocks "$3"; device "$1"; check_range "$2" $(($3 * 4096)); check_word seed "$4"
    workdir
    head -c 4096 /dev/zero | tr '\0' '.' > "$work/pad"
    mkfifo "$work/expected" || die 6 "cannot create a FIFO in $work"
    loop_stream "$4" "$3" "$work/pad" > "$work/expected" &
    if read_range "$2" $(($3 * 4096)) 2>/dev/null | cmp - "$work/expected" > "$work/cmp" 2>&1
    then
        wait
        printf 'ok blocks=%d\n' "$3"
        return 0
    fi
    kill "$!" 2>/dev/null; wait
    # GNU cmp names the first difference "byte N", older diffutils (3.8) "char N"
    at=$(sed -n -e 's/.*byte \([0-9]*\).*/\1/p' -e 's/.*char \([0-9]*\).*/\1/p' "$work/cmp" \
        | head -n 1)
    die 1 "block $(((${at:-1} - 1) / 4096)) of $3 differs from what the loop wrote"
}

# EFI variables (persistent VM state): a variable of the suite's own vendor GUID, written
# as the kernel's efivarfs expects (4 bytes of attributes: non-volatile, boot service and
# runtime access, then the data).
EFI_GUID="6b767374-6174-6500-8000-6b7670726f62"

efivar_file() {
    check_word name "$1"
    store="$ROOT/sys/firmware/efi/efivars"
    [ -d "$store" ] || die 3 "no EFI variable store at $store (the guest did not boot with EFI)"
    var="$store/$1-$EFI_GUID"
}

cmd_efivar_write() {
    need_args "$#" 2 efivar-write "efivar-write <name> <value>"
    efivar_file "$1"
    check_word value "$2"
    if [ -e "$var" ]; then
        chattr -i "$var" 2>/dev/null
        rm -f "$var" || die 1 "cannot replace EFI variable $1"
    fi
    printf '\007\000\000\000%s' "$2" > "$var" 2>/dev/null || die 1 "cannot write EFI variable $1"
    printf 'ok name=%s\n' "$1"
}

cmd_efivar_read() {
    need_args "$#" 1 efivar-read "efivar-read <name>"
    efivar_file "$1"
    [ -e "$var" ] || die 3 "EFI variable $1 not found"
    printf 'value=%s\n' "$(tail -c +5 "$var")"
}

loop_stream() {
    n=0
    while [ "$n" -lt "$2" ]; do
        loop_block "$1" "$n" "$3"
        n=$((n + 1))
    done
}

[ "$#" -ge 1 ] || usage
verb="$1"; shift
case "$verb" in
    write) cmd_write "$@" ;;
    checksum) cmd_checksum "$@" ;;
    size) cmd_size "$@" ;;
    has) cmd_has "$@" ;;
    fio) cmd_fio "$@" ;;
    marker-write) cmd_marker_write "$@" ;;
    loop-write) cmd_loop_write "$@" ;;
    loop-status) cmd_loop_status "$@" ;;
    loop-stop) cmd_loop_stop "$@" ;;
    loop-verify) cmd_loop_verify "$@" ;;
    efivar-write) cmd_efivar_write "$@" ;;
    efivar-read) cmd_efivar_read "$@" ;;
    _loop) cmd_loop_worker "$@" ;;
    *) usage ;;
esac
