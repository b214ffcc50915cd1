
pgbackrest --stanza="$STANZA" --repo=1 --pg1-path=/scratch/pgdata --tablespace-map-all=/scratch/tablespaces \
  restore >/tmp/verify.log 2>&1
status=$?
cat /tmp/verify.log
files=$(find /scratch/pgdata -type f 2>/dev/null | wc -l)
if [ "$status" -eq 0 ] && [ -s /scratch/pgdata/PG_VERSION ] && [ -f /scratch/pgdata/global/pg_control ] \
    && [ "$files" -gt 0 ]; then
  msg="restore drill passed: PostgreSQL $(cat /scratch/pgdata/PG_VERSION) data directory, $files files"
  echo "$msg"; ping "" "$msg"; exit 0
fi
ping /fail "restore drill failed (exit $status, $files files): $(tail -n 30 /tmp/verify.log)"
exit 1
