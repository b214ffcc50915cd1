
fail() { echo "$1" >&2; ping /fail "$1"; exit 1; }
newest=$(ls -1 "$DUMPS" 2>/dev/null | grep "^$PREFIX-[0-9]\{8\}T[0-9]\{6\}Z\.$EXT$" | sort | tail -n 1)
[ -n "$newest" ] || fail "restore drill failed: no $PREFIX-*.$EXT dump in $DUMPS"
