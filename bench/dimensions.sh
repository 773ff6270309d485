#!/usr/bin/env bash
# Both translation dimensions at once: runs a program that allocates and
# touches SIZE MiB (default 256) natively and under every combination of
# --backing {anon,thp,hugetlb-2m,hugetlb-1g} x --guest-pages {4k,2m}, checks
# that the guest output equals the native one, and prints what each
# combination really got (peak guest leaves, KVM's pages_4k/pages_2m) and the
# ns per random access. Reserves hugetlb pages (root) and restores the pools.
set -u
cd "$(dirname "$0")/.."
size=${1:-256}
payload=build/tests/payloads/touch256-glibc-static.elf
make -s vmm "$payload" || exit 1

pool2m=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
pool1g=/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages
old2m=$(cat $pool2m 2>/dev/null || echo 0)
old1g=$(cat $pool1g 2>/dev/null || echo 0)
restore() { echo "$old2m" >$pool2m 2>/dev/null; echo "$old1g" >$pool1g 2>/dev/null; }
trap restore EXIT
echo $((old2m + 520)) >$pool2m 2>/dev/null
echo $((old1g + 1)) >$pool1g 2>/dev/null

native=$("$payload" "$size" 2>/tmp/dims.native.err)
echo "native: $(cat /tmp/dims.native.err)"
printf '| backing | guest pages | output = native | guest leaves 4k/2m (peak) | kvm pages_4k | kvm pages_2m | ns/access |\n'
printf '| --- | --- | --- | --- | --- | --- | --- |\n'
status=0
for backing in anon thp hugetlb-2m hugetlb-1g; do
	mem=512M
	[ "$backing" = hugetlb-1g ] && mem=1G
	for pages in 4k 2m; do
		json=$(mktemp)
		out=$(./vmm run --mem "$mem" --backing "$backing" --guest-pages "$pages" --json "$json" \
			"$payload" "$size" 2>/tmp/dims.err)
		rc=$?
		if [ $rc -ne 0 ]; then
			printf '| %s | %s | run failed (%d): %s | | | | |\n' "$backing" "$pages" "$rc" \
				"$(grep -m1 vmm: /tmp/dims.err)"
			status=1
			continue
		fi
		same=yes
		[ "$out" = "$native" ] || { same=NO; status=1; }
		python3 - "$json" "$backing" "$pages" "$same" "$(grep -o '[0-9.]* ns/access' /tmp/dims.err)" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
leaves = r["guest_tables"]["payload_leaves"]
k = r["kvm_pages"]
print("| %s | %s | %s | %d / %d | %s | %s | %s |" % (sys.argv[2], sys.argv[3], sys.argv[4],
      leaves["4k"], leaves["2m"], k.get("pages_4k", "?"), k.get("pages_2m", "?"), sys.argv[5]))
PY
		rm -f "$json"
	done
done
exit $status
