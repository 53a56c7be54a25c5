#!/usr/bin/env bash
# Builds the lab's QEMU guest image (a kernel and an initramfs) from Debian packages.
#
# Why: `cluster.guests: qemu` boots a real Linux kernel under TCG for every VMI. Nothing
# binary is committed; this script assembles the image at setup time and caches it under
# ${KVSTORAGE_CACHE:-~/.cache/kvstorage}/guest. Safe to run again: it rebuilds only when
# its inputs (this script, the init files, the kernel, fio) changed.
#
# The image: busybox-static, the kernel's virtio-blk/virtio-pci/isofs modules (with their
# dependencies from modules.dep), fio with every library ldd lists, and busybox init
# running scripts/guest/rc (finds the `cidata` disk, applies what the lab launcher put on it)
# and a login getty on ttyS0.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${KVSTORAGE_CACHE:-$HOME/.cache/kvstorage}/guest"
mkdir -p "$cache"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

need=()
[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx mdev || need+=(busybox-static)
command -v cpio >/dev/null || need+=(cpio)
command -v gcc >/dev/null || need+=(gcc libc6-dev)
command -v depmod >/dev/null || need+=(kmod)
command -v fio >/dev/null || need+=(fio)
command -v genisoimage >/dev/null || need+=(genisoimage)
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
if ((${#need[@]})); then
  echo "guest image: installing ${need[*]}"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${need[@]}" >/dev/null
fi

# The kernel: this machine's, when it and its modules are readable; else Debian's
# linux-image-amd64, unpacked into the cache (never installed on the host).
kver="$(uname -r)"
if [ -r "/boot/vmlinuz-$kver" ] && [ -r "/lib/modules/$kver/modules.dep" ]; then
  kroot="/"; vmlinuz="/boot/vmlinuz-$kver"
else
  kroot="$cache/kernel"
  if ! ls "$kroot"/boot/vmlinuz-* >/dev/null 2>&1; then
    pkg="$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/{print $2; exit}')"
    [ -n "$pkg" ] || { echo "guest image: no linux-image-amd64 in the package lists" >&2; exit 1; }
    echo "guest image: unpacking $pkg (no readable kernel on this machine)"
    tmp="$(mktemp -d)"; (cd "$tmp" && apt-get download -q "$pkg" >/dev/null 2>&1)
    rm -rf "$kroot"; mkdir -p "$kroot"; dpkg-deb -x "$tmp"/*.deb "$kroot"; rm -rf "$tmp"
  fi
  vmlinuz="$(ls "$kroot"/boot/vmlinuz-* | head -1)"
  kver="${vmlinuz##*/vmlinuz-}"
  [ -r "$kroot/lib/modules/$kver/modules.dep" ] || depmod -b "$kroot" "$kver"
fi
moddir="$kroot/lib/modules/$kver"

stamp="$( (cat "$0" "$here"/guest/*; echo "$kver $vmlinuz"; fio --version; \
           sha256sum /bin/busybox) | sha256sum | cut -c1-16)"
if [ -f "$cache/stamp" ] && [ "$(cat "$cache/stamp")" = "$stamp" ] \
   && [ -f "$cache/initramfs.gz" ] && [ -f "$cache/vmlinuz" ]; then
  echo "guest image: up to date ($cache)"; exit 0
fi

root="$(mktemp -d)"; trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/sbin,etc,proc,sys,dev,tmp,root,home,mnt,run,var/log,lib/modules,usr/bin}
chmod 0755 "$root"; chmod 1777 "$root/tmp"
cp /bin/busybox "$root/bin/busybox"

# Modules in load order: each one's dependencies (modules.dep lists them) come first.
order=()
add_module() {
  local name="$1" line dep
  line="$(grep -E "(^|/)$name\.ko(\.xz|\.zst)?:" "$moddir/modules.dep" | head -1)" || return 0
  for dep in $(echo "${line#*:}" | tac -s ' '); do add_module "$(basename "${dep%%.ko*}")"; done
  for seen in "${order[@]:-}"; do [ "$seen" = "${line%%:*}" ] && return 0; done
  order+=("${line%%:*}")
}
for m in virtio_pci virtio_blk isofs; do add_module "$m"; done
: > "$root/etc/modules"
for rel in "${order[@]}"; do
  base="$(basename "$rel")"
  case "$base" in
    *.xz) xz -dc "$moddir/$rel" > "$root/lib/modules/${base%.xz}"; base="${base%.xz}";;
    *.zst) zstd -qdc "$moddir/$rel" > "$root/lib/modules/${base%.zst}"; base="${base%.zst}";;
    *) cp "$moddir/$rel" "$root/lib/modules/$base";;
  esac
  echo "$base" >> "$root/etc/modules"
done

# fio and its whole library closure (it will not start with stub libraries), and the GNU
# tools a cloud image has where busybox differs (dd's byte offsets, stat, blockdev) or lacks
# (Debian's busybox has no nohup, which the probe's loop writer runs under).
gnu=()
for tool in dd stat sha256sum cut tr cmp blockdev mkfifo timeout od head nohup; do
  path="$(command -v "$tool" || true)"
  [ -n "$path" ] && gnu+=("$path") && cp "$path" "$root/usr/bin/$tool"
done
cp "$(command -v fio)" "$root/usr/bin/fio"
for lib in $(ldd "$(command -v fio)" /bin/dash "${gnu[@]}" | awk '/=>/{print $3} /^\t\//{print $1}'); do
  mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"
done
mkdir -p "$root/lib64"; cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"

install -m 0755 "$here/guest/init" "$root/init"
gcc -static -Os -s -o "$root/usr/bin/sudo" "$here/guest/sudo.c"
chmod 4755 "$root/usr/bin/sudo"
install -m 0755 "$here/guest/rc" "$root/etc/rc"
printf "::sysinit:/etc/rc\nttyS0::respawn:/sbin/getty -L 115200 ttyS0 vt100\n::ctrlaltdel:/sbin/reboot\n" > "$root/etc/inittab"
install -m 0755 "$here/guest/mdev-disk" "$root/etc/mdev-disk"
# mdev gives unlisted devices 0660: the world-usable ones must be listed, as udev has them.
printf '%s\n' 'null 0:0 666' 'zero 0:0 666' 'full 0:0 666' 'random 0:0 666' \
  'urandom 0:0 666' 'tty 0:0 666' 'ptmx 0:0 666' 'vd[a-z]+[0-9]* 0:0 660 */etc/mdev-disk' \
  > "$root/etc/mdev.conf"
printf 'root:x:0:0:root:/root:/bin/dash\n' > "$root/etc/passwd"
printf 'root:*:19000:0:99999:7:::\n' > "$root/etc/shadow"
printf 'root:x:0:\n' > "$root/etc/group"
printf '/bin/sh\n/bin/dash\n' > "$root/etc/shells"
# Login shells are dash (its only library, libc, is in the image already): busybox ash
# queries the cursor position (ESC[6n) after every prompt, which a serial client that
# is a script never answers. The prompt is a Fedora/RHEL one, as the process runtime's.
cp /bin/dash "$root/bin/dash"
cat > "$root/etc/profile" <<'PROFILE'
export PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
if [ "$(id -u)" = 0 ]; then p='#'; else p='$'; fi
PS1="[$(id -un)@$(hostname) ~]$p "
cd
PROFILE

(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$cache/initramfs.gz.new"
mv "$cache/initramfs.gz.new" "$cache/initramfs.gz"
cp "$vmlinuz" "$cache/vmlinuz"
echo "$kver" > "$cache/kernel-version"
echo "$stamp" > "$cache/stamp"
echo "guest image: built $cache (kernel $kver, $(du -h "$cache/initramfs.gz" | cut -f1) initramfs)"
