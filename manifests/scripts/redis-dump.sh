stamp=$(date -u +%Y%m%dT%H%M%SZ)
( set -e
  umask 077
  mkdir -p "$OUT"
  work="/work/$PREFIX-$stamp.$EXT"
  cli() { redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" --no-auth-warning "$@"; }
  before=$(cli LASTSAVE)
  case "$before" in ''|*[!0-9]*) echo "LASTSAVE answered: $before" >&2; exit 1 ;; esac
  # LASTSAVE counts seconds: after a second, the save that BGSAVE starts ends strictly later than `before`.
  sleep 1
  started=$(cli BGSAVE SCHEDULE)
  case "$started" in
    "Background saving started"|"Background saving scheduled"|*"already in progress"*) ;;
    *) echo "BGSAVE answered: $started" >&2; exit 1 ;;
  esac
  waited=0
  while :; do
    now=$(cli LASTSAVE)
    case "$now" in ''|*[!0-9]*) ;; *) [ "$now" -gt "$before" ] && break ;; esac
    [ "$waited" -lt "$REDIS_WAIT_SECONDS" ] || { echo "no new save within $REDIS_WAIT_SECONDS s" >&2; exit 1; }
    sleep 1
    waited=$((waited + 1))
  done
  cli INFO persistence | tr -d '\r' | grep -qx 'rdb_last_bgsave_status:ok'
  cp "/data/$RDB_PATH" "$work"
  redis-check-rdb "$work" >/dev/null
