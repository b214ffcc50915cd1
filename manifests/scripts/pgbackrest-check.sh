
pgbackrest --stanza="$STANZA" --repo="$REPO" verify --output=text --verbose >/tmp/verify.log 2>&1