  part="$OUT/.$PREFIX-$stamp.$EXT.partial"
  trap 'rm -f "$part"' EXIT
  cp "$work" "$part"
  mv "$part" "$OUT/$PREFIX-$stamp.$EXT"
  rm -f "$work"
  ls -1 "$OUT" | grep "^$PREFIX-[0-9]\{8\}T[0-9]\{6\}Z\.$EXT$" | sort -r | tail -n +$((KEEP + 1)) |
    while read -r old; do rm -f "$OUT/$old"; done
)
status=$?
kept=$(ls -1 "$OUT" 2>/dev/null | grep -c "^$PREFIX-[0-9]\{8\}T[0-9]\{6\}Z\.$EXT$")
if [ "$status" -eq 0 ]; then msg="$ENGINE export ok: $PREFIX-$stamp.$EXT, $kept kept"
else msg="$ENGINE export failed with status $status (the log of container $ENGINE says why)"; fi
echo "$msg"
printf '%s\n' "$status" > /work/status
printf '%s\n' "$msg" > /work/message
