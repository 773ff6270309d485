#!/usr/bin/env bash
# Installs the Debian packages vmm needs, only those that are missing, so
# `make run` and `make check` work on a fresh machine. Safe to run again.
set -euo pipefail

pkgs=(
	gcc make pkg-config
	clang-format    # make format, and the format check in make check
	clang           # libFuzzer harnesses (tests/fuzz, make fuzz)
	libclang-rt-14-dev  # libFuzzer and the sanitizer runtimes for clang
	libelf-dev      # ELF loading (elfutils libelf)
	libjson-c-dev   # --json reports
	libpfm4-dev     # named raw PMU events
	libseccomp-dev  # the seccomp filter vmm runs the guest under
	liblzma-dev     # liblzma.a: the threaded xz compressor test payload (xz_mt)
	check           # unit and end-to-end tests
	musl-tools      # musl-gcc: payloads are built against musl as well as glibc
	linux-perf      # perf stat recipes and tests
	hyperfine       # bench/ timing of whole runs
	python3-numpy python3-scipy  # bench/: medians, bootstrap intervals, tests
	python3-matplotlib           # bench/: figures (SVG, PNG)
	python3-jsonschema           # tests/schema: reports checked against docs/report.schema.json
	busybox-static  # a real static program no one here wrote, for the end-to-end tests;
	                # and the shell of the nested lane's initramfs
	qemu-system-x86 # the nested lane: real KVM for AMD (NPT, shadow) under TCG
	cpio            # the nested lane's initramfs
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "deps: need root to install: ${missing[*]}" >&2; exit 1; }
	sudo=(sudo)
fi
echo "deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
