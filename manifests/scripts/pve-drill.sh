
set -u
ping /start ""
tmp=$(mktemp -d) || exit 1
created=""
reason=""
node=$DRILL_NODE
scratch=$SCRATCH_VMID

# api METHOD PATH [curl options]: the answer's body in $tmp/body; fails (with $reason) on anything but 2xx.
api() {
  method=$1 path=$2
  shift 2
  if [ -n "${PVE_CA_FILE:-}" ]; then set -- --cacert "$PVE_CA_FILE" "$@"; fi
  if [ -n "${PVE_TLS_INSECURE:-}" ]; then set -- --insecure "$@"; fi
  : >"$tmp/body"
  code=$(curl -sS -m 60 -o "$tmp/body" -w '%{http_code}' -X "$method" \
    -H "Authorization: PVEAPIToken=${PVE_TOKEN_ID}=${PVE_TOKEN_SECRET}" "$@" "${PVE_URL}/api2/json${path}") \
    || code=000
  case "$code" in 2??) return 0 ;; esac
  said=$(sed -n 's/.*"message": *"\([^"]*\)".*/\1/p' "$tmp/body" 2>/dev/null | sed 's/\\n$//')
  errors=$(tr -d '\n' <"$tmp/body" 2>/dev/null | sed -n 's/.*"errors": *{\([^}]*\)}.*/ \1/p')
  reason="PVE answered $method $path with HTTP $code: ${said:-no answer}${errors}"
  return 1
}

# Fields of a flat JSON object (PVE answers compact JSON; the optional spaces cover pretty-printers).
text() { sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p"; }
number() { sed -n "s/.*\"$1\": *\\([0-9][0-9]*\\).*/\\1/p"; }
# One object of a JSON array per line (nested objects such as a backup's `verification` flattened away first).
objects() {
  tr -d '\n' | sed 's/"verification": *{[^}]*}/"verification":0/g; s/} *, *{/}\
{/g'
  echo
}
# A config object ({"data":{"scsi0":"...",...}}) or an extracted config (text) as `key: value` lines.
config_lines() {
  awk '{ s = $0; while (match(s, /"[a-z0-9_-]+": *"[^"]*"/)) { p = substr(s, RSTART, RLENGTH)
         s = substr(s, RSTART + RLENGTH); sub(/": *"/, ": ", p); gsub(/"/, "", p); print p } }'
}
# The disks a restore brings back, as sorted `key size` lines: qemu disks not excluded from backups (backup=0),
# a container's rootfs and the mount points it backs up (backup=1); CD-ROMs carry no data.
disks() {
  awk -v kind="$1" '/^\[/ { exit }
    { key = $1; sub(/:$/, "", key); value = $0; sub(/^[^:]*: */, "", value) }
    value ~ /media=cdrom/ || value !~ /size=/ { next }
    kind == "qemu" && key ~ /^(ide|sata|scsi|virtio|efidisk|tpmstate)[0-9]+$/ && value !~ /(^|,)backup=0/ { ok = 1 }
    kind == "lxc" && (key == "rootfs" || (key ~ /^mp[0-9]+$/ && value ~ /(^|,)backup=1/)) { ok = 1 }
    ok { size = value; sub(/.*size=/, "", size); sub(/,.*/, "", size); print key, size; ok = 0 }' | sort
}
listed() { awk '{ printf "%s%s", (NR > 1 ? ", " : ""), $0 }' "$1"; }
macs() { grep -E '^net[0-9]+:' | grep -oiE '([0-9a-f]{2}:){5}[0-9a-f]{2}' | tr 'a-f' 'A-F' | sort -u; }

wait_task() {
  upid=$1 what=$2
  deadline=$(($(date +%s) + TIMEOUT_SECONDS))
  while :; do
    api GET "/nodes/$node/tasks/$upid/status" || return 1
    if [ "$(text status <"$tmp/body")" = stopped ]; then
      result=$(text exitstatus <"$tmp/body")
      [ "$result" = OK ] && return 0
      reason="the $what task $upid ended with: ${result:-no exit status}"
      return 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      reason="the $what task $upid was still running after ${TIMEOUT_SECONDS}s (proxmox.drill.timeout_minutes)"
      return 1
    fi
    sleep "${POLL_SECONDS:-10}"
  done
}

# Sets $found to the scratch guest as `type pool` when it exists (empty otherwise).
scratch_guest() {
  found=""
  api GET /cluster/resources -G --data-urlencode type=vm || return 1
  objects <"$tmp/body" >"$tmp/resources"
  while IFS= read -r line; do
    if [ "$(printf '%s' "$line" | number vmid)" = "$scratch" ]; then
      found="$(printf '%s' "$line" | text type) $(printf '%s' "$line" | text pool)"
    fi
  done <"$tmp/resources"
}

destroy() {
  kind=$1
  api DELETE "/nodes/$node/$kind/$scratch?purge=1&destroy-unreferenced-disks=1" || return 1
  wait_task "$(text data <"$tmp/body")" destroy
}

fail() {
  why=$1
  if [ -n "$created" ]; then
    if scratch_guest; then
      if [ -n "$found" ] && [ "${found#* }" != "$SCRATCH_POOL" ]; then
        why="$why; VM id $scratch now belongs to a guest outside pool $SCRATCH_POOL, left alone"
      elif [ -n "$found" ] && ! destroy "${found%% *}"; then
        why="$why; removing scratch guest $scratch failed too ($reason): remove it by hand"
      fi
    else
      why="$why; could not check for scratch guest $scratch ($reason): remove it by hand if it is there"
    fi
  fi
  echo "drill of $GROUP: $why" >&2
  ping /fail "drill of $GROUP: $why"
  exit 1
}

# A scratch guest left by an interrupted drill is removed first; an id held by anything else is never touched.
scratch_guest || fail "$reason"
if [ -n "$found" ]; then
  [ "${found#* }" = "$SCRATCH_POOL" ] || fail "VM id $scratch is taken by a guest outside pool $SCRATCH_POOL; \
move the scratch range (proxmox.drill.vmid_first/vmid_last) clear of it"
  destroy "${found%% *}" || fail "a scratch guest $scratch from an earlier drill could not be removed: $reason"
fi

# The group's guests: its id list, its pool's members, or every backed-up guest but the excluded; one node's only.
api GET "/nodes/$node/storage/$BACKUP_STORAGE/content" -G --data-urlencode content=backup || fail "$reason"
objects <"$tmp/body" | while IFS= read -r line; do
  volid=$(printf '%s' "$line" | text volid) vmid=$(printf '%s' "$line" | number vmid)
  ctime=$(printf '%s' "$line" | number ctime)
  [ -n "$volid" ] && [ -n "$vmid" ] && printf '%s %s %s\n' "$vmid" "${ctime:-0}" "$volid"
done >"$tmp/backups"
members=" ${SELECT_VMIDS:-} "
if [ -n "${SELECT_POOL:-}" ]; then
  api GET "/pools/$SELECT_POOL" || fail "$reason"
  members=" $(grep -oE '"vmid": *[0-9]+' "$tmp/body" | tr -dc '0-9\n' | tr '\n' ' ') "
fi
if [ -n "${SELECT_NODE:-}" ]; then
  api GET /cluster/resources -G --data-urlencode type=vm || fail "$reason"
  on_node=" $(objects <"$tmp/body" | grep -E "\"node\": *\"$SELECT_NODE\"" | number vmid | tr '\n' ' ') "
else
  on_node=""
fi
awk -v members="$members" -v all="${SELECT_ALL:-0}" -v exclude=" ${SELECT_EXCLUDE:-} " -v on_node="$on_node" '
  (all == "1" ? index(exclude, " " $1 " ") == 0 : index(members, " " $1 " ") > 0) &&
  (on_node == "" || index(on_node, " " $1 " ") > 0)' "$tmp/backups" >"$tmp/candidates"
count=$(cut -d' ' -f1 "$tmp/candidates" | sort -un | wc -l)
[ "$count" -gt 0 ] || fail "no backup of these guests on storage $BACKUP_STORAGE (node $node): the backup job has \
not written one, or its storage is not reachable from $node"
# One guest per run, the next one each run: run N (months, weeks or days since 1970, as the CronJob repeats) drills
# the (N mod count)-th guest by id, so every guest comes round without state kept between runs.
case "$DRILL_ROTATE" in
  month) month=$(date -u +%m) && run=$(($(date -u +%Y) * 12 + ${month#0})) ;;
  week) run=$(($(date +%s) / 604800)) ;;
  *) run=$(($(date +%s) / 86400)) ;;
esac
run=${DRILL_RUN:-$run}
vmid=$(cut -d' ' -f1 "$tmp/candidates" | sort -un | sed -n "$((run % count + 1))p")
volid=$(awk -v id="$vmid" '$1 == id' "$tmp/candidates" | sort -k2,2n | tail -n 1 | cut -d' ' -f3-)
case "$volid" in
  *vzdump-lxc-* | */ct/*) kind=lxc ;;
  *) kind=qemu ;;
esac

api GET "/nodes/$node/vzdump/extractconfig" -G --data-urlencode "volume=$volid" || fail "reading $volid: $reason"
# The answer is {"data":"<the config as one JSON string>"}: unwrap it whole (a description may hold quotes).
tr -d '\n' <"$tmp/body" | sed 's/^{ *"data": *"//; s/" *} *$//' \
  | awk '{ gsub(/\\n/, "\n"); gsub(/\\"/, "\""); print }' >"$tmp/backup.conf"
disks "$kind" <"$tmp/backup.conf" >"$tmp/expected"
[ -s "$tmp/expected" ] || fail "backup $volid lists no disk with a size: nothing a restore could be checked against"

started=$(date +%s)
if [ "$kind" = qemu ]; then
  set -- --data-urlencode "archive=$volid"
else
  set -- --data-urlencode "ostemplate=$volid" --data-urlencode restore=1
fi
api POST "/nodes/$node/$kind" --data-urlencode "vmid=$scratch" "$@" --data-urlencode "storage=$SCRATCH_STORAGE" \
  --data-urlencode "pool=$SCRATCH_POOL" --data-urlencode unique=1 --data-urlencode start=0 \
  || fail "restoring $volid to $scratch: $reason"
created=$kind
wait_task "$(text data <"$tmp/body")" restore || fail "restoring $volid to $scratch: $reason"

api GET "/nodes/$node/$kind/$scratch/config" || fail "$reason"
config_lines <"$tmp/body" >"$tmp/restored.conf"
# Never on the production network: every interface of the clone is unplugged before anything else happens to it.
# An explicit link_down=0 is dropped first: PVE refuses a property string naming a key twice.
grep -E '^net[0-9]+:' "$tmp/restored.conf" | grep -v 'link_down=1' | while IFS= read -r nic; do
  value=$(printf '%s\n' "${nic#*: }" | sed -e 's/,link_down=0//g' -e 's/^link_down=0,//')
  api PUT "/nodes/$node/$kind/$scratch/config" --data-urlencode "${nic%%:*}=${value},link_down=1" \
    || { echo "$reason" >"$tmp/unplug"; break; }
done
[ -s "$tmp/unplug" ] && fail "unplugging the scratch guest's network: $(cat "$tmp/unplug")"
disks "$kind" <"$tmp/restored.conf" >"$tmp/restored"
if ! cmp -s "$tmp/expected" "$tmp/restored"; then
  fail "restored $volid to $scratch but its disks differ from the backup's: expected [$(listed "$tmp/expected")] \
found [$(listed "$tmp/restored")]"
fi
macs <"$tmp/restored.conf" >"$tmp/restored.conf.macs"
kept=$(macs <"$tmp/backup.conf" | grep -xF -f "$tmp/restored.conf.macs" || true)
[ -z "$kept" ] || fail "the restored guest kept the production MAC address $kept (the restore must use unique=1)"

destroy "$kind" || fail "removing scratch guest $scratch after a good restore: $reason"
created=""
took=$(($(date +%s) - started))
ping "" "restored $volid (guest $vmid, $kind) to $scratch in ${took}s; disks as in the backup: \
$(listed "$tmp/expected"); removed again"
