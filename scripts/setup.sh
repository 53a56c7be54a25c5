#!/usr/bin/env bash
# Installs what the embedded lab and the tests need on a fresh Debian machine, then the
# project itself. Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v qemu-img >/dev/null || need+=(qemu-utils)
command -v qemu-storage-daemon >/dev/null || need+=(qemu-system-common)
command -v fio >/dev/null || need+=(fio)
command -v fusermount3 >/dev/null || need+=(fuse3)
command -v unshare >/dev/null || need+=(util-linux)
# QEMU guests open encrypted volumes through loop devices (suite/lab/compute/qemu/loopdev.py)
command -v losetup >/dev/null || need+=(mount)
# The HTML report test screenshots the page; chromium needs at least one font to draw text.
command -v chromium >/dev/null || need+=(chromium fonts-liberation)
command -v kubectl >/dev/null || need+=(kubectl)

if ((${#need[@]})); then
  echo "setup: installing system packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # kubectl is optional: some Debian mirrors do not carry it; the tests that drive it say so.
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    $(printf '%s\n' "${need[@]}" | grep -v '^kubectl$') >/dev/null
  if printf '%s\n' "${need[@]}" | grep -qx kubectl; then
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kubectl >/dev/null 2>&1 \
      || echo "setup: kubectl not available from the package registry; kubectl tests will not run"
  fi
fi

python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -e '.[dev]'
# The QEMU guest image for `guests: qemu` (qemu-system-x86, a Debian kernel, busybox, fio):
# built once, cached outside the repository; the process runtime does not need it.
scripts/build_guest_initramfs.sh \
  || echo "setup: the QEMU guest image was not built; labs with guests: qemu will say so"
echo "setup: ready ($(qemu-storage-daemon --version | head -1); $(fio --version))"
