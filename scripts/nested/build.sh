#!/usr/bin/env bash
# The nested lane's inputs: Debian's kernel (fetched with apt-get download,
# unpacked, never installed; cached under build/nested/kernel/) and an
# initramfs with busybox, the KVM modules, ./vmm with its libraries, the
# test payloads and tests/nested/. Prints "SKIP: reason" and exits 3 when
# this machine cannot build them; any other failure exits 1.
set -euo pipefail
cd "$(dirname "$0")/../.."

OUT=build/nested
KDIR=$OUT/kernel
ROOT=$OUT/initramfs
MODULES=(virt/lib/irqbypass.ko drivers/crypto/ccp/ccp.ko arch/x86/kvm/kvm.ko
	arch/x86/kvm/kvm-amd.ko) # insmod order: each needs the ones before

skip() { echo "SKIP: $*"; exit 3; }

for tool in qemu-system-x86_64 cpio busybox dpkg-deb; do
	command -v "$tool" >/dev/null || skip "$tool not installed (scripts/deps.sh installs it)"
done
[ -x ./vmm ] || { echo "nested: ./vmm not built" >&2; exit 1; }

# linux-image-amd64 is a metapackage: the kernel is in the versioned package
# it depends on. A cached kernel serves when the package index is unreachable.
kernel_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}

fetch_kernel() {
	local pkg=$1 dest=$KDIR/$1 tmp deb
	[ -f "$dest/ok" ] && return 0
	tmp=$(mktemp -d "$OUT/dl.XXXXXX")
	echo "nested: fetching $pkg (apt-get download, unpacked into $dest)"
	if ! (cd "$tmp" && apt-get download -q "$pkg" >/dev/null 2>&1); then
		rm -rf "$tmp"
		return 1
	fi
	deb=$(ls "$tmp"/*.deb)
	rm -rf "$dest" && mkdir -p "$dest/modules"
	dpkg-deb --fsys-tarfile "$deb" |
		tar -x -C "$tmp" --wildcards './boot/vmlinuz-*' "${MODULES[@]/#/*/kernel/}"
	cp "$tmp"/boot/vmlinuz-* "$dest/vmlinuz"
	for m in "${MODULES[@]}"; do
		cp "$tmp"/lib/modules/*/kernel/"$m" "$dest/modules/"
	done
	rm -rf "$tmp"
	touch "$dest/ok"
}

mkdir -p "$OUT" "$KDIR"
pkg=$(kernel_pkg || true)
if [ -z "$pkg" ] && [ "$(id -u)" -eq 0 ] && ! ls -d "$KDIR"/*/ok >/dev/null 2>&1; then
	apt-get update -qq >/dev/null 2>&1 # a fresh machine may never have read the index
	pkg=$(kernel_pkg || true)
fi
if [ -z "$pkg" ] || ! fetch_kernel "$pkg"; then
	cached=$(find "$KDIR" -mindepth 2 -maxdepth 2 -name ok 2>/dev/null | sort | tail -n 1)
	[ -n "$cached" ] || skip "no Debian kernel package: apt-cache/apt-get download of linux-image-amd64 failed"
	pkg=$(basename "$(dirname "$cached")")
	echo "nested: package index unreachable, using the cached $pkg"
fi
ln -sfn "$pkg" "$KDIR/current"

# busybox must be static: the initramfs has no libraries but vmm's.
bb=$(command -v busybox)
if ldd "$bb" >/dev/null 2>&1; then
	skip "$bb is dynamically linked (install busybox-static)"
fi

rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,dev,proc,sys,tmp,modules,vmm/build/tests,vmm/build/payloads}
cp "$bb" "$ROOT/bin/busybox"
ln -s busybox "$ROOT/bin/sh"
cp tests/nested/init "$ROOT/init"
cp tests/nested/*.sh tests/nested/*.awk "$ROOT/vmm/"
cp "$KDIR/current/modules/"*.ko "$ROOT/modules/"
printf '%s\n' "${MODULES[@]##*/}" >"$ROOT/modules/order"

# A program and the libraries it links, at the paths the dynamic loader
# expects: copy_linked FILE DEST (DEST inside the initramfs).
copy_linked() {
	mkdir -p "$ROOT$(dirname "$2")"
	cp -L "$1" "$ROOT$2"
	# A static program (vmm where its archives are installed) needs none.
	{ ldd "$1" 2>/dev/null || true; } | { grep -oE '/[^ ]+' || true; } | while read -r lib; do
		mkdir -p "$ROOT$(dirname "$lib")"
		cp -L "$lib" "$ROOT$lib"
	done
}
copy_linked vmm /vmm/vmm

# vmm's end-to-end suites (tests/e2e) and what they expect to find: bash
# (a pipeline's status), env, a dynamically linked /bin/true (refused).
for t in test_run test_memory test_payloads test_counters; do
	[ -x "build/tests/e2e/$t" ] && copy_linked "build/tests/e2e/$t" "/vmm/build/tests/e2e/$t"
done
copy_linked /bin/bash /bin/bash
copy_linked /bin/true /bin/true
mkdir -p "$ROOT/usr/bin"
ln -s ../../bin/busybox "$ROOT/usr/bin/env"

# Payloads without debug info: a smaller image boots faster.
copy_payloads() {
	mkdir -p "$2"
	for f in "$1"/*.elf; do
		strip --strip-debug -o "$2/$(basename "$f")" "$f"
	done
}
copy_payloads build/tests/payloads "$ROOT/vmm/build/tests/payloads"
copy_payloads build/payloads "$ROOT/vmm/build/payloads"

(cd "$ROOT" && find . | cpio -o -H newc --quiet) >"$OUT/initramfs.cpio"
echo "nested: kernel $pkg, initramfs $(du -h "$OUT/initramfs.cpio" | cut -f1)"
