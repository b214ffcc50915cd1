gzip -t "$DUMPS/$newest" 2>/dev/null || result 1 "restore drill failed: $newest is not an intact gzip stream"
magic=$(gzip -dc "$DUMPS/$newest" | head -c 4 | od -An -tx1 | tr -d ' \n')
[ "$magic" = 6de29981 ] || result 1 "restore drill failed: $newest is not a mongodump archive (starts $magic)"
result 0 "restore drill passed: $newest decompresses completely and is a mongodump archive"
