out=$(redis-check-rdb "$DUMPS/$newest" 2>&1) \
  || result 1 "restore drill failed: redis-check-rdb $newest: $(echo "$out" | tail -n 3)"
keys=$(echo "$out" | sed -n 's/.*\[info\] \([0-9]*\) keys read.*/\1/p' | tail -n 1)
result 0 "restore drill passed: $newest is a valid RDB file, ${keys:-?} keys"
