
status=$(cat /work/status 2>/dev/null) || status=""
msg=$(cat /work/message 2>/dev/null) || msg=""
case "$status" in ''|*[!0-9]*) status=1; msg="${msg:-the dump container ended without a result}" ;; esac
echo "$msg"
if [ "$status" -eq 0 ]; then ping "" "$msg"; else ping /fail "$msg"; fi
exit "$status"
