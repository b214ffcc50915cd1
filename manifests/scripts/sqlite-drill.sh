
cp "$DUMPS/$newest" /tmp/restored.sqlite3 || fail "restore drill failed: cannot copy $newest"
check=$(sqlite3 /tmp/restored.sqlite3 'PRAGMA integrity_check;' 2>&1)
[ "$check" = ok ] || fail "restore drill failed: $newest integrity_check: $(echo "$check" | head -n 5)"
tables=$(sqlite3 /tmp/restored.sqlite3 "SELECT count(*) FROM sqlite_master WHERE type = 'table';" 2>&1)
[ "$tables" -ge 1 ] 2>/dev/null || fail "restore drill failed: $newest has no tables ($tables)"
msg="restore drill passed: $newest is intact, $tables tables"
echo "$msg"; ping "" "$msg"
