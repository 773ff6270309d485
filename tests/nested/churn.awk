# Turns one ptchurn run under `vmm run -x , -e ...` into table rows.
# Input: the payload's stdout (JSON lines, one per region, in order), then
# vmm's CSV counters (region,value,unit,name,...). Output, per region and
# counter: "@@ TABLE MODE TEST COUNTER VALUE OPS" (mode from -v m=MODE).
NR == FNR {
	split($0, a, "\"test\":\""); split(a[2], b, "\"")
	split($0, c, "\"ops\":"); split(c[2], d, ",")
	test_of[NR - 1] = b[1]; ops_of[NR - 1] = d[1]
	next
}
$1 in test_of { print "@@ TABLE " m " " test_of[$1] " " $4 " " $2 " " ops_of[$1] }
