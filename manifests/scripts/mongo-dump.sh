stamp=$(date -u +%Y%m%dT%H%M%SZ)
( set -e
  umask 077
  mkdir -p "$OUT"
  work="/work/$PREFIX-$stamp.$EXT"
  # The URI carries the password: it goes in a config file, never on the command line.
  printf "uri: '%s'\n" "$(printf '%s' "$MONGODB_URI" | sed "s/'/''/g")" > /work/mongo.yaml
  mongodump --config=/work/mongo.yaml ${MONGO_DATABASE:+"--db=$MONGO_DATABASE"} ${MONGO_OPLOG:+--oplog} \
    --archive="$work" --gzip
  rm -f /work/mongo.yaml
  # A gzip archive whose content starts with mongodump's archive magic number (0x8199e26d, little-endian).
  gzip -t "$work"
  test "$(gzip -dc "$work" | head -c 4 | od -An -tx1 | tr -d ' \n')" = 6de29981
