
restic --cache-dir=/tmp/cache ${CA_FILE:+--cacert="$CA_FILE"} --retry-lock="$RETRY_LOCK" check \
  --read-data-subset="$READ_PERCENT%" \
  >/tmp/verify.log 2>&1