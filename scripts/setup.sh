#!/usr/bin/env bash
# Installs every Debian 12 package that the build, the tests and the reference tools need.
# Idempotent: packages already present are left alone. Run as root (or with sudo).
set -euo pipefail

packages=(
    # build
    build-essential cmake ninja-build pkg-config git
    clang libclang-rt-14-dev
    libexpected-dev libfmt-dev libcli11-dev libblkid-dev libfuse3-dev fuse3
    libgtest-dev libgmock-dev libbenchmark-dev
    libarchive-dev libedit-dev
    # reference tools: makers, checkers and independent readers (../shared/ORACLES.md)
    e2fsprogs fuse2fs dosfstools mtools makefs xorriso genisoimage sleuthkit
    fdisk gdisk parted util-linux python3 attr acl
    isolinux  # its MBR template and loader: bootable hybrid ISOs made by xorriso -isohybrid-mbr
    grub-common  # grub-fstest: the reader of makefs' UFS2 images, whose superblock TSK cannot find
    # manual pages: the man_pages test renders them
    groff-base man-db
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "setup: all ${#packages[@]} packages present"
    exit 0
fi

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
