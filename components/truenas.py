"""A NAS dataset: a snapshot task per GFS level, an encrypted cloud sync task per offsite copy, and the restore
drill its tier asks for (a Kubernetes CronJob: the NAS has no scheduler we can script safely)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from components.healthchecks import PingBase, declare_ping_secrets
from inventory.models import Truenas, TruenasSource
from manifests import drills
from plan.model import CopyPlan
from plan.units import ProtectionUnit
from providers.generated import GeneratedSecret
from providers.truenas.cloud_credentials import CloudCredential
from providers.truenas.cloud_sync_tasks import CloudSyncTask, healthchecks_scripts
from providers.truenas.snapshot_tasks import SnapshotTask
from stack.kubernetes import KubernetesTarget


def nas_connection(nas: Truenas, api_key: pulumi.Output) -> pulumi.Output:
    """The `connection` input of every TrueNAS resource, as a secret (it carries the API key)."""
    settings = {"url": f"wss://{nas.host}/api/{nas.api_version}", "verify_tls": nas.verify_tls}
    if nas.ca_file:
        settings["ca_file"] = nas.ca_file
    return pulumi.Output.secret(api_key.apply(lambda key: {**settings, "api_key": key}))


def cloud_provider(copy: CopyPlan, creds: Mapping[str, str]) -> dict:
    """The 25.04 `provider` object of a cloud credential: B2 natively, everything else over S3."""
    if copy.kind == "b2":
        return {"type": "B2", "account": creds["access_key_id"], "key": creds["secret_access_key"]}
    endpoint = "" if copy.kind == "s3" else copy.endpoint
    return {"type": "S3", "access_key_id": creds["access_key_id"], "secret_access_key": creds["secret_access_key"],
            "endpoint": endpoint, "region": copy.region, "skip_region": copy.kind == "r2",
            "signatures_v2": False, "max_upload_parts": 10000}


@dataclass(frozen=True)
class TruenasArgs:
    unit: ProtectionUnit
    """The NAS dataset's protection unit: snapshot levels, copies with their times, transfer mode, drill."""
    connection: pulumi.Output
    """Secret Output of the NAS connection settings (see `nas_connection`)."""
    credentials: Mapping[str, pulumi.Output]
    """Per destination name: secret Output of {access_key_id, secret_access_key} scoped to this writer."""
    healthchecks: PingBase | None = None
    """Where its tasks and drill report; None: no pings."""
    target: KubernetesTarget | None = None
    """Where the restore drill's Secret and CronJob go; None declares no drill."""
    reader_credentials: Mapping[str, pulumi.Output] = field(default_factory=dict)
    """Per destination name: secret Output of the read-only key the restore drill uses."""


class TruenasProtection(pulumi.ComponentResource):
    """Snapshots on the NAS for fast rollback, encrypted cloud sync for site loss."""

    encryption: pulumi.Output[dict]
    """Secret: destination -> {password, salt} of its rclone encryption, for escrow."""

    def __init__(self, name: str, args: TruenasArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab-backups:truenas:TruenasProtection", name, None, opts)
        source = args.unit.source
        assert isinstance(source, TruenasSource)
        child = pulumi.ResourceOptions(parent=self)
        for level in args.unit.plan.snapshots:
            SnapshotTask(
                f"{name}-{level.level}", connection=args.connection, dataset=source.dataset,
                recursive=source.recursive, exclude=list(source.exclude), lifetime_value=level.lifetime_value,
                lifetime_unit=level.lifetime_unit, naming_schema=level.naming_schema, schedule=level.schedule,
                context=name, opts=child)
        keys: dict[str, tuple[pulumi.Output[str], pulumi.Output[str]]] = {}
        for copy in args.unit.copies:
            keys[copy.destination] = self._cloud_sync(name, args, copy, f"/mnt/{source.dataset}")
        self._declare_drill(name, args, keys)
        self.encryption = pulumi.Output.secret({
            dest: pulumi.Output.all(password, salt).apply(lambda v: {"password": v[0], "salt": v[1]})
            for dest, (password, salt) in keys.items()})
        self.register_outputs({"encryption": self.encryption})

    def _declare_drill(self, name: str, args: TruenasArgs,
                       keys: Mapping[str, tuple[pulumi.Output[str], pulumi.Output[str]]]) -> None:
        """The drill's Secret (the task's password and salt, the copy's read-only key) and CronJob, when the tier
        asks."""
        if args.target is None:
            return
        drill = drills.drill(args.unit, args.healthchecks is not None)
        if drill is None:
            return
        child = f"{name}-{drill.copy.destination}"
        password, salt = keys[drill.copy.destination]
        reader = args.reader_credentials[drill.copy.destination]
        values = {drills.ENCRYPTION_PASSWORD.name: password, drills.ENCRYPTION_SALT.name: salt,
                  "reader_access_key_id": reader.apply(lambda c: c["access_key_id"]),
                  "reader_secret_access_key": reader.apply(lambda c: c["secret_access_key"])}
        assert drill.secret is not None  # a NAS drill always reads its Secret
        args.target.declare_secret(f"{child}-drill-credentials", drill.secret, values, parent=self)
        args.target.declare(f"{child}-drill", drill.cronjob, parent=self)
        declare_ping_secrets(child, args.unit, [drill.cronjob], args.healthchecks, args.target, self)

    def _cloud_sync(self, name: str, args: TruenasArgs, copy: CopyPlan,
                    path: str) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        """The credential and task of one copy; returns the (secret) rclone password and salt it encrypts with."""
        child = f"{name}-{copy.destination}"
        # Protected: without the password and salt the offsite copy cannot be decrypted.
        keep = pulumi.ResourceOptions(parent=self, protect=True)
        password = GeneratedSecret(f"{child}-sync-password", opts=keep)
        salt = GeneratedSecret(f"{child}-sync-salt", opts=keep)
        names = args.unit.copy_objects(copy.destination)
        credential = CloudCredential(
            f"{child}-credential", connection=args.connection, name=names.nas_credential,
            provider=args.credentials[copy.destination].apply(lambda creds: cloud_provider(copy, creds)),
            context=name, opts=pulumi.ResourceOptions(parent=self))
        pre: pulumi.Input[str] | None = None
        post: pulumi.Input[str] | None = None
        if args.healthchecks is not None:
            # The NAS stores the scripts, so the URL is in them; here it stays a secret input end to end.
            scripts = args.healthchecks.url(copy.healthcheck_slug).apply(healthchecks_scripts)
            pre = pulumi.Output.secret(scripts.apply(lambda s: s[0]))
            post = pulumi.Output.secret(scripts.apply(lambda s: s[1]))
        CloudSyncTask(
            f"{child}-sync", connection=args.connection, path=path, credentials=credential.id,
            attributes={"bucket": copy.bucket, "folder": copy.repository},
            schedule=copy.schedule.shifted(args.unit.plan.nas_utc_offset_minutes).truenas(),
            direction="PUSH", transfer_mode=args.unit.transfer_mode, description=names.nas_task,
            encryption=copy.offsite, filename_encryption=copy.offsite,
            encryption_password=password.value if copy.offsite else None,
            encryption_salt=salt.value if copy.offsite else None, snapshot=True, pre_script=pre,
            post_script=post, offsite=copy.offsite, context=name, opts=pulumi.ResourceOptions(parent=self))
        return password.value, salt.value
