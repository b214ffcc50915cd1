"""The command the NAS's own cron job runs to export its configuration (a `nas-config` dataset).

It writes what TrueNAS's `config.save` with `secretseed: true` produces (System > General Settings > Manage
Configuration > Download File with "Export Password Secret Seed"): an uncompressed tar holding `freenas-v1.db`, the
configuration database, and `pwenc_secret`, the seed that decrypts the credentials stored in it. `config.upload`
(the UI's Upload File) accepts that tar, so the restore is the vendor's own path. The API offers `config.save` only
as a download job (a pipe read over HTTP), which a NAS cron job cannot call, so the command bundles the same two
files itself:

- the database through SQLite's online backup (`.backup`), consistent while the middleware writes to it, and
  checked with `PRAGMA integrity_check`;
- `umask 077`: the tar holds the secret seed; it is readable by root only, on the NAS and in the encrypted offsite
  copies its target dataset's cloud sync tasks make;
- `<dataset>-<UTC stamp>.tar` via a temporary name, the newest `keep` kept (older ones with the same prefix only);
- a Healthchecks ping on success, `/fail` otherwise; the command exits non-zero when the export failed.

The middleware strips newlines from a cron job's command and escapes `%` for crontab (plugins/cron.py,
`construct_cron_command`), so the command is one line of `;`-joined POSIX shell.
"""

from __future__ import annotations

import shlex

from plan.units import ProtectionUnit

CONFIG_DB = "/data/freenas-v1.db"
"""Where TrueNAS keeps its configuration database."""
SECRET_SEED = "/data/pwenc_secret"
"""The password secret seed: without it a restored database cannot decrypt its stored credentials."""
MEMBERS = ("freenas-v1.db", "pwenc_secret")
"""The tar's members, named as `config.save` names them."""
CURL = "curl -fsS -m 10 --retry 5 -o /dev/null"


def export_command(unit: ProtectionUnit, ping_url: str | None = None) -> str:
    """The one-line shell command of the NAS cron job exporting its configuration into the unit's folder."""
    export = unit.plan.export
    if export is None or unit.kind != "nas-config":
        raise ValueError(f"{unit.name} is not a NAS configuration export")
    folder, prefix = shlex.quote(export.target_path), shlex.quote(unit.name)
    pattern = f"^{unit.name}-[0-9]\\{{8\\}}T[0-9]\\{{6\\}}Z\\.tar$"
    steps = [
        "umask 077",
        f"d={folder}",
        f"p={prefix}",
        f"k={export.keep}",
        "t=$(date -u +%Y%m%dT%H%M%SZ)",
        'w=$(mktemp -d) || exit 1',
        f'if mkdir -p "$d" && sqlite3 {CONFIG_DB} ".backup \'$w/freenas-v1.db\'"'
        ' && [ "$(sqlite3 "$w/freenas-v1.db" \'PRAGMA integrity_check;\')" = ok ]'
        f' && cp {SECRET_SEED} "$w/pwenc_secret"'
        f' && tar -C "$w" -cf "$d/.$p-$t.tar.partial" {" ".join(MEMBERS)}'
        ' && mv "$d/.$p-$t.tar.partial" "$d/$p-$t.tar"; then s=0; else s=1; rm -f "$d/.$p-$t.tar.partial"; fi',
        'rm -rf "$w"',
        f'if [ "$s" -eq 0 ]; then ls -1 "$d" | grep {shlex.quote(pattern)} | sort -r | tail -n +$((k + 1))'
        ' | while read -r o; do rm -f "$d/$o"; done; fi',
    ]
    if ping_url is not None:
        url = ping_url.rstrip("/")
        steps.append(f'if [ "$s" -eq 0 ]; then {CURL} --data-raw "configuration exported: $p-$t.tar" '
                     f'{shlex.quote(url)}; else {CURL} --data-raw "configuration export failed" '
                     f'{shlex.quote(url + "/fail")}; fi')
    steps.append('exit "$s"')
    return "; ".join(steps)
