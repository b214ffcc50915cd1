
case "$KOPIA_REPOSITORY" in
  s3://*)
    rest=${KOPIA_REPOSITORY#s3://}; bucket=${rest%%/*}; prefix=${rest#"$bucket"}; prefix=${prefix#/}
    set -- s3 --bucket="$bucket" --endpoint="${KOPIA_S3_ENDPOINT:-s3.amazonaws.com}"
    if [ -n "${AWS_REGION:-}" ]; then set -- "$@" --region="$AWS_REGION"; fi
    if [ -n "$prefix" ]; then set -- "$@" --prefix="${prefix%/}/"; fi
    if [ "${KOPIA_S3_DISABLE_TLS:-}" = true ]; then set -- "$@" --disable-tls; fi
    if [ -n "${CA_FILE:-}" ]; then set -- "$@" --root-ca-pem-path="$CA_FILE"; fi ;;
  filesystem://*) set -- filesystem --path="${KOPIA_REPOSITORY#filesystem://}" ;;
  *) msg="kopia check failed: KOPIA_REPOSITORY is neither s3:// nor filesystem://"
     echo "$msg" >&2; ping /fail "$msg"; exit 1 ;;
esac
{ kopia repository connect "$@" --readonly --content-cache-size-limit-mb="$CACHE_LIMIT_MB" \
    --metadata-cache-size-limit-mb="$CACHE_LIMIT_MB" &&
  kopia snapshot verify --verify-files-percent="$READ_PERCENT"; } >/tmp/verify.log 2>&1