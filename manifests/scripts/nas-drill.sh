
fail() { echo "$1" >&2; ping /fail "$1"; exit 1; }
RCLONE_CONFIG_DRILL_PASSWORD=$(printf '%s' "$ENCRYPTION_PASSWORD" | rclone obscure -) \
  && RCLONE_CONFIG_DRILL_PASSWORD2=$(printf '%s' "$ENCRYPTION_SALT" | rclone obscure -) \
  || fail "restore drill failed: rclone obscure did not accept the encryption password or salt"
export RCLONE_CONFIG_DRILL_PASSWORD RCLONE_CONFIG_DRILL_PASSWORD2
unset ENCRYPTION_PASSWORD ENCRYPTION_SALT
rclone lsf -R --files-only --max-depth "$LIST_DEPTH" --min-size 1B --max-size "$MAX_SIZE" drill: 2>/tmp/verify.log \
  | head -n "$SAMPLE_FILES" >/tmp/sample.txt
picked=$(wc -l </tmp/sample.txt)
[ "$picked" -ge 1 ] || fail "restore drill failed: no file of 1 byte to $MAX_SIZE within $LIST_DEPTH levels of \
$RCLONE_CONFIG_DRILL_REMOTE decrypts (wrong password or salt, or an empty copy): $(tail -n 20 /tmp/verify.log)"
rclone copy --files-from-raw /tmp/sample.txt --no-traverse drill: /scratch/restored >>/tmp/verify.log 2>&1 \
  || fail "restore drill failed: rclone copy of $picked files: $(tail -n 20 /tmp/verify.log)"
restored=$(find /scratch/restored -type f -size +0 | wc -l)
[ "$restored" -eq "$picked" ] || fail "restore drill failed: $restored of $picked files restored non-empty"
rclone cryptcheck --files-from-raw /tmp/sample.txt /scratch/restored drill: >>/tmp/verify.log 2>&1 \
  || fail "restore drill failed: rclone cryptcheck: $(tail -n 20 /tmp/verify.log)"
msg="restore drill passed: $picked files of $RCLONE_CONFIG_DRILL_REMOTE decrypted and non-empty, cryptcheck agrees"
echo "$msg"; ping "" "$msg"
