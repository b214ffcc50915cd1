tail -n 1 "$DUMPS/$newest" | grep -q '^-- Dump completed' \
  || result 1 "restore drill failed: $newest is truncated (no '-- Dump completed' trailer)"
tables=$(grep -c '^CREATE TABLE ' "$DUMPS/$newest") || tables=0
[ "$tables" -ge 1 ] || result 1 "restore drill failed: $newest creates no tables"
rows=$(grep -c '^INSERT INTO ' "$DUMPS/$newest") || rows=0
result 0 "restore drill passed: $newest is complete, $tables tables, $rows INSERT statements"
