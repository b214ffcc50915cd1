
pg_restore --list "$DUMPS/$newest" >/tmp/toc.txt 2>/tmp/restore.err \
  || fail "restore drill failed: pg_restore --list $newest: $(tail -n 5 /tmp/restore.err)"
data=$(grep -c ' TABLE DATA ' /tmp/toc.txt)
[ "$data" -ge 1 ] || fail "restore drill failed: $newest lists no TABLE DATA entries"
pg_restore --file=/dev/null "$DUMPS/$newest" 2>/tmp/restore.err \
  || fail "restore drill failed: $newest does not read back: $(tail -n 5 /tmp/restore.err)"
msg="restore drill passed: $newest reads back completely, $data tables with data"
echo "$msg"; ping "" "$msg"
