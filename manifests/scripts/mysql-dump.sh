stamp=$(date -u +%Y%m%dT%H%M%SZ)
( set -e
  umask 077
  mkdir -p "$OUT"
  work="/work/$PREFIX-$stamp.$EXT"
  # The password goes in an option file, never on the command line (visible in /proc to the whole pod).
  quote() { printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g'; }
  printf '[client]\nuser="%s"\npassword="%s"\nhost="%s"\nport=%s\n' "$(quote "$MYSQL_USER")" \
    "$(quote "$MYSQL_PASSWORD")" "$MYSQL_HOST" "$MYSQL_PORT" > /work/client.cnf
  "$DUMP_TOOL" --defaults-extra-file=/work/client.cnf --single-transaction --quick --routines --triggers \
    --events --hex-blob --no-tablespaces --default-character-set=utf8mb4 --databases "$MYSQL_DATABASE" \
    --result-file="$work"
  rm -f /work/client.cnf
  tail -n 1 "$work" | grep -q '^-- Dump completed'
