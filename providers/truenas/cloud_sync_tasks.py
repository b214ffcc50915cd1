"""`cloudsync`: rclone tasks that push a NAS path to a bucket, and the Healthchecks scripts they run."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import pulumi

from providers import wire
from providers.truenas.service import (
    CRON_KEYS,
    REDACTED,
    ServiceProvider,
    ServiceResource,
    bool_problems,
    hhmm,
    schedule_problems,
)

__all__ = ["CloudSyncTask", "CloudSyncTaskProvider", "healthchecks_scripts"]

_CLOUD_SYNC_SCHEDULE_DEFAULTS = {"minute": "00", "hour": "*", "dom": "*", "month": "*", "dow": "*"}


def healthchecks_scripts(ping_url: str) -> tuple[str, str]:
    """Pre/post scripts for a cloud sync task that ping a Healthchecks check: `/start` before, success after.

    TrueNAS runs the post script only when rclone succeeded, so a failed run sends no success ping and the check's
    grace period raises the alert. The pre ping ends in `|| true`: a non-zero pre script aborts the sync, and a
    monitoring outage must never stop a backup. The post ping does not: when it fails (wrong ping key, Healthchecks
    unreachable) the task ends FAILED on the NAS instead of looking fine while alerting is dead. The scripts run
    with the encryption password in their environment
    (CLOUD_SYNC_ENCRYPTION_PASSWORD), so they print nothing and never echo the environment.
    """
    parts = urlsplit(ping_url.strip())
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or parts.path.strip("/") == ""
        or re.search(r"[\s'\"`$\\;&|<>(){}]", ping_url.strip())
    ):
        raise ValueError(
            "ping_url must be a plain http(s) Healthchecks ping URL such as https://hc-ping.com/<uuid> "
            "or <ping endpoint>/<ping-key>/<slug>"
        )
    success = urlunsplit(parts._replace(path=parts.path.rstrip("/"), fragment=""))
    start = urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/start", fragment=""))
    command = "curl -fsS -m 10 --retry 5 -o /dev/null"
    header = "#!/bin/sh\n# Healthchecks ping managed by Pulumi (homelab-backups); prints nothing.\n"
    return f"{header}{command} {shlex.quote(start)} || true\n", f"{header}{command} {shlex.quote(success)}\n"



class CloudSyncTaskProvider(ServiceProvider):
    """`cloudsync`: an rclone task copying a NAS path to a bucket, normally PUSH with client-side encryption.

    Every field can be changed by `cloudsync.update`, so nothing forces a replacement. Rotating the encryption
    password or salt in place would leave the existing remote data unreadable, so `check` refuses it unless the task
    also moves to a new bucket or folder.
    """

    namespace = "cloudsync"
    kind = "cloud sync task"
    ui_location = "Data Protection > Cloud Sync Tasks"
    api_fields = (
        "description",
        "path",
        "credentials",
        "attributes",
        "schedule",
        "direction",
        "transfer_mode",
        "encryption",
        "filename_encryption",
        "encryption_password",
        "encryption_salt",
        "snapshot",
        "bwlimit",
        "transfers",
        "pre_script",
        "post_script",
        "enabled",
    )
    local_fields = ("connection", "context", "offsite")
    local_defaults = {"offsite": False}
    output_fields = ("task_id",)
    secret_fields = ("encryption_password", "encryption_salt")
    hints = (
        ("credentials", "Invalid credentials", "create the CloudCredential first and pass its id"),
        ("path", "", "use a path inside a pool, /mnt/<pool>/<dataset>"),
        ("attributes.bucket", "", "set attributes.bucket to an existing bucket the credential can write"),
        ("attributes.folder", "", "set attributes.folder ('' for the bucket root)"),
        ("encryption_password", "", "set encryption_password (as a secret) when encryption is true"),
        ("snapshot", "", "use snapshot=true only for PUSH tasks (not MOVE) on datasets without child datasets"),
        ("schedule", "", "use cron strings {minute, hour, dom, month, dow}; dow runs 1 (Mon) to 7 (Sun)"),
        ("bwlimit", "", "list bwlimit entries in increasing 'HH:MM' order"),
    )

    def _default_label(self, props: Mapping[str, Any]) -> str:
        for field in ("description", "path"):
            value = props.get(field)
            if isinstance(value, str) and value and not wire.has_unknowns(value):
                return f"cloud sync task {value}"
        return self.kind

    def _problems(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems = bool_problems(news, "encryption", "filename_encryption", "snapshot", "enabled", "offsite")
        for field in ("description", "encryption_password", "encryption_salt", "pre_script", "post_script"):
            value = news.get(field)
            if value is not None and not wire.has_unknowns(value) and not isinstance(value, str):
                problems.append((field, "must be a string"))
        path = news.get("path")
        if not wire.has_unknowns(path) and (
            not isinstance(path, str) or not re.fullmatch(r"/mnt/[^/]+(/[^/]+)*/?", path) or "/../" in f"{path}/"
        ):
            problems.append(("path", "must be a path inside a pool such as /mnt/tank/photos"))
        credentials = news.get("credentials")
        if not wire.has_unknowns(credentials) and not (
            (wire.is_int(credentials) and credentials > 0) or (isinstance(credentials, str) and credentials.isdigit())
        ):
            problems.append(("credentials", "must be the id of a cloud credential (CloudCredential.id)"))
        attributes = news.get("attributes")
        if not wire.has_unknowns(attributes) or isinstance(attributes, Mapping):
            if not isinstance(attributes, Mapping):
                problems.append(("attributes", "must be a dict with at least bucket and folder"))
            else:
                bucket, folder = attributes.get("bucket"), attributes.get("folder")
                if not wire.has_unknowns(bucket) and (not isinstance(bucket, str) or not bucket):
                    problems.append(("attributes.bucket", "required: the bucket name"))
                if not wire.has_unknowns(folder) and not isinstance(folder, str):
                    problems.append(("attributes.folder", "required: the folder inside the bucket ('' for its root)"))
        if "schedule" not in news or news["schedule"] is None:
            problems.append(("schedule", "required: {minute, hour, dom, month, dow} (TrueNAS 25.04 has no default)"))
        else:
            problems += schedule_problems("schedule", news["schedule"], CRON_KEYS)
        direction, mode = news.get("direction"), news.get("transfer_mode")
        if not wire.has_unknowns(direction) and direction not in ("PUSH", "PULL"):
            problems.append(("direction", "must be PUSH (NAS to cloud) or PULL (cloud to NAS)"))
        if not wire.has_unknowns(mode) and mode not in ("SYNC", "COPY", "MOVE"):
            problems.append(("transfer_mode", "must be SYNC, COPY or MOVE"))
        encryption = news.get("encryption", False)
        password = news.get("encryption_password")
        if encryption is True and not wire.has_unknowns(password) and not password:
            problems.append(("encryption_password", "required when encryption is true; pass it as a secret"))
        offsite = news.get("offsite") is True and direction == "PUSH"
        if offsite and encryption is not True and not wire.has_unknowns(encryption):
            problems.append(
                (
                    "encryption",
                    "an offsite PUSH task must encrypt client-side: set encryption=true with "
                    "encryption_password and encryption_salt (secrets)",
                )
            )
        if news.get("snapshot") is True and (direction == "PULL" or mode == "MOVE"):
            problems.append(("snapshot", "only PUSH tasks that do not MOVE can sync from a temporary snapshot"))
        transfers = news.get("transfers")
        if transfers is not None and not wire.has_unknowns(transfers) and (not wire.is_int(transfers) or transfers < 1):
            problems.append(("transfers", "must be a whole number >= 1, or null for rclone's default"))
        problems += self._bwlimit_problems(news.get("bwlimit"))
        problems += self._rotation_problems(olds, news)
        return problems

    @staticmethod
    def _bwlimit_problems(bwlimit: Any) -> list[tuple[str, str]]:
        if bwlimit is None or wire.has_unknowns(bwlimit):
            return []
        if not isinstance(bwlimit, list):
            return [("bwlimit", "must be a list of {time: 'HH:MM', bandwidth: bytes/s or null}")]
        problems: list[tuple[str, str]] = []
        times: list[str] = []
        for i, item in enumerate(bwlimit):
            if not isinstance(item, Mapping) or set(item) - {"time", "bandwidth"}:
                problems.append((f"bwlimit[{i}]", "must be {time: 'HH:MM', bandwidth: bytes/s or null}"))
                continue
            at = hhmm(item.get("time"))
            if at is None:
                problems.append((f"bwlimit[{i}].time", "must be a time of day like '08:00'"))
            else:
                times.append(at)
            bandwidth = item.get("bandwidth")
            if bandwidth is not None and (not wire.is_int(bandwidth) or bandwidth < 1):
                problems.append((f"bwlimit[{i}].bandwidth", "must be bytes per second >= 1, or null for no limit"))
        if not problems and times != sorted(set(times)):
            problems.append(("bwlimit", "entries must be in strictly increasing time order"))
        return problems

    @staticmethod
    def _rotation_problems(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[tuple[str, str]]:
        if not olds or not olds.get("encryption") or not news.get("encryption"):
            return []
        keys = ("encryption_password", "encryption_salt", "filename_encryption")
        if any(wire.has_unknowns(news.get(key)) for key in keys) or all(olds.get(key) == news.get(key) for key in keys):
            return []
        old_place = (olds.get("attributes") or {}).get("bucket"), (olds.get("attributes") or {}).get("folder")
        new_attributes = news.get("attributes") if isinstance(news.get("attributes"), Mapping) else {}
        if old_place != (new_attributes.get("bucket"), new_attributes.get("folder")):
            return []
        return [
            (
                "encryption_password",
                "changing the encryption password, salt or filename_encryption in place "
                "would make the data already in the bucket unreadable; point attributes.folder at a new folder "
                "for the re-keyed copy (and keep the old keys until it is no longer needed)",
            )
        ]

    def _normalize(self, inputs: dict[str, Any]) -> dict[str, Any]:
        defaults = {
            "description": "",
            "encryption": False,
            "filename_encryption": False,
            "encryption_password": "",
            "encryption_salt": "",
            "snapshot": False,
            "bwlimit": [],
            "transfers": None,
            "pre_script": "",
            "post_script": "",
            "enabled": True,
            "offsite": False,
        }
        for field, default in defaults.items():
            if field not in inputs or (inputs[field] is None and default is not None):
                inputs[field] = default
        credentials = inputs.get("credentials")
        if isinstance(credentials, str) and credentials.isdigit():
            inputs["credentials"] = int(credentials)
        schedule = inputs.get("schedule")
        if isinstance(schedule, Mapping) and not wire.has_unknowns(schedule):
            inputs["schedule"] = {**_CLOUD_SYNC_SCHEDULE_DEFAULTS, **schedule}
        bwlimit = inputs.get("bwlimit")
        if isinstance(bwlimit, list) and not wire.has_unknowns(bwlimit):
            inputs["bwlimit"] = [
                {**item, "time": hhmm(item.get("time")) or item.get("time"), "bandwidth": item.get("bandwidth")}
                if isinstance(item, Mapping)
                else item
                for item in bwlimit
            ]
        return inputs

    def _from_entry(self, entry: Mapping[str, Any], known: Mapping[str, Any]) -> dict[str, Any]:
        live = super()._from_entry(entry, known)
        credential = entry.get("credentials")
        live["credentials"] = credential.get("id") if isinstance(credential, Mapping) else credential
        attributes = dict(entry.get("attributes") or {})
        known_attributes = known.get("attributes")
        if isinstance(known_attributes, Mapping) and known_attributes:
            # The NAS may add keys of its own (e.g. the S3 region it looked up); compare only the keys we manage.
            attributes = {key: value for key, value in attributes.items() if key in known_attributes}
        live["attributes"] = attributes
        live["schedule"] = {key: (entry.get("schedule") or {}).get(key) for key in CRON_KEYS}
        for field in self.secret_fields:
            if live.get(field) == REDACTED and field in known:
                live[field] = known[field]
        return live

    def _computed(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        return {"task_id": entry["id"]}

    def _identity_filters(self, props: Mapping[str, Any]) -> list[list[Any]]:
        return [["path", "=", props["path"]], ["description", "=", props.get("description", "")]]

    def _same_object(self, entry: Mapping[str, Any], props: Mapping[str, Any]) -> bool:
        live = self._from_entry(entry, props)
        return all(live.get(field) == props.get(field) for field in ("credentials", "attributes", "direction"))


class CloudSyncTask(ServiceResource, module="truenas", name="CloudSyncTask"):
    """A TrueNAS cloud sync task (`cloudsync`); `offsite=True` makes check insist on client-side encryption."""

    provider_class = CloudSyncTaskProvider
    secret_outputs: ClassVar[tuple[str, ...]] = ("connection", "encryption_password", "encryption_salt", "pre_script",
                                                   "post_script")

    task_id: pulumi.Output[int]
    """TrueNAS id of the task; import with it."""
    description: pulumi.Output[str]
    """Name shown in the TrueNAS UI."""
    path: pulumi.Output[str]
    """Local path, /mnt/<pool>/..."""
    credentials: pulumi.Output[int]
    """Id of the cloud credential used."""
    attributes: pulumi.Output[dict[str, Any]]
    """bucket, folder and provider options."""
    schedule: pulumi.Output[dict[str, str]]
    """Cron fields {minute, hour, dom, month, dow}."""
    direction: pulumi.Output[str]
    """PUSH or PULL."""
    transfer_mode: pulumi.Output[str]
    """SYNC, COPY or MOVE."""
    encryption: pulumi.Output[bool]
    """rclone crypt on the remote side."""
    filename_encryption: pulumi.Output[bool]
    """Also encrypt file names."""
    encryption_password: pulumi.Output[str]
    """rclone crypt password (secret)."""
    encryption_salt: pulumi.Output[str]
    """rclone crypt salt (secret)."""
    snapshot: pulumi.Output[bool]
    """Sync from a temporary ZFS snapshot."""
    bwlimit: pulumi.Output[list[dict[str, Any]]]
    """Bandwidth schedule."""
    transfers: pulumi.Output[int | None]
    """Parallel transfers, None for rclone's default."""
    pre_script: pulumi.Output[str]
    """Script run before the sync."""
    post_script: pulumi.Output[str]
    """Script run after a successful sync."""
    enabled: pulumi.Output[bool]
    """Whether the task runs."""
    offsite: pulumi.Output[bool]
    """Whether the destination is offsite (not sent to the NAS)."""

    def __init__(
        self,
        resource_name: str,
        *,
        connection: pulumi.Input[Mapping[str, Any]],
        path: pulumi.Input[str],
        credentials: pulumi.Input[int | str],
        attributes: pulumi.Input[Mapping[str, Any]],
        schedule: pulumi.Input[Mapping[str, str]],
        direction: pulumi.Input[str],
        transfer_mode: pulumi.Input[str],
        description: pulumi.Input[str] | None = None,
        encryption: pulumi.Input[bool] | None = None,
        filename_encryption: pulumi.Input[bool] | None = None,
        encryption_password: pulumi.Input[str] | None = None,
        encryption_salt: pulumi.Input[str] | None = None,
        snapshot: pulumi.Input[bool] | None = None,
        bwlimit: pulumi.Input[list[Mapping[str, Any]]] | None = None,
        transfers: pulumi.Input[int] | None = None,
        pre_script: pulumi.Input[str] | None = None,
        post_script: pulumi.Input[str] | None = None,
        enabled: pulumi.Input[bool] | None = None,
        offsite: pulumi.Input[bool] | None = None,
        context: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        self._declare(
            resource_name,
            opts,
            connection=connection,
            path=path,
            credentials=credentials,
            attributes=attributes,
            schedule=schedule,
            direction=direction,
            transfer_mode=transfer_mode,
            description=description,
            encryption=encryption,
            filename_encryption=filename_encryption,
            encryption_password=encryption_password,
            encryption_salt=encryption_salt,
            snapshot=snapshot,
            bwlimit=bwlimit,
            transfers=transfers,
            pre_script=pre_script,
            post_script=post_script,
            enabled=enabled,
            offsite=offsite,
            context=context,
        )
