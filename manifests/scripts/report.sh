
status=$?
cat /tmp/verify.log
if [ "$status" -eq 0 ]@AND_VERDICT@; then
  msg="@PASSED@"
  echo "$msg"; ping "" "$msg"; exit 0
fi
ping /fail "@FAILED@ (exit $status): $(tail -n 40 /tmp/verify.log)"
exit 1
