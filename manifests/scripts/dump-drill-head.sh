result() { printf '%s\n' "$1" > /work/status; printf '%s\n' "$2" > /work/message; echo "$2"; exit 0; }
newest=$(ls -1 "$DUMPS" 2>/dev/null | grep "^$PREFIX-[0-9]\{8\}T[0-9]\{6\}Z\.$EXT$" | sort | tail -n 1)
[ -n "$newest" ] || result 1 "restore drill failed: no $PREFIX-*.$EXT dump in $DUMPS"
