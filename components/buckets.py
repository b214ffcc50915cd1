"""Offsite buckets: one per (destination, tier), private, encrypted, lifecycle and lock from the plan.

Locks only where the bucket is versioned (B2, AWS S3, S3-compatible servers with object lock): a delete or an
overwrite by the tools leaves the locked version behind. R2 buckets get none (no versioning; its lock rules refuse
the tools' own deletes and overwrites), nor do servers without object lock (Garage).

Every kind gives the same interface: bucket name, endpoint, region, and per writer (one tool instance
writing one prefix) two credentials limited to that prefix, as secret Outputs of {access_key_id,
secret_access_key}: the tool's read-write key, and a read-only key for its check and drill jobs. Neither is
ever the destination's admin key. Provider SDKs are imported only for kinds the stack uses: the
bridged ones take seconds to import.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pulumi

from plan.capabilities import capabilities_of, identities_of, s3_prefix_policy
from plan.model import BucketPlan, Writer

LABEL_PREFIX = "backup.homelab"


def bucket_labels(plan: BucketPlan) -> dict[str, str]:
    """Labels/tags on every bucket, so policies can find tier and destination without the program."""
    return {f"{LABEL_PREFIX}/tier": str(plan.tier), f"{LABEL_PREFIX}/destination": plan.destination,
            f"{LABEL_PREFIX}/offsite": str(plan.offsite).lower(), f"{LABEL_PREFIX}/lock-days": str(plan.lock_days),
            f"{LABEL_PREFIX}/price-usd-per-tb-month": f"{plan.price_usd_per_tb_month:g}"}


@dataclass(frozen=True)
class OffsiteBucketArgs:
    plan: BucketPlan
    admin_credentials: pulumi.Output | None
    """Secret Output with the destination's admin credential fields (kind-specific), or None for ambient. The
    dynamic providers never take it as an input: they read `credentials.<destination>` from their provider
    configuration (providers/wire.py, `provisioned`), so a preview with other keys shows no change."""
    account: str | None = None
    """R2: Cloudflare account id."""
    ca_file: str | None = None
    """PEM bundle the program trusts for this destination's endpoint (private CA)."""
    jurisdiction: str = "default"
    """R2: where the bucket's data lives (`default`, `eu`, `fedramp`)."""
    supplied: dict[str, dict[str, pulumi.Output]] | None = None
    """Servers the program cannot create keys on: writer key -> {"writer", "reader"} -> the user's key."""


class OffsiteBucket(pulumi.ComponentResource):
    """One backup bucket and the scoped credentials of everything that writes into it."""

    bucket: pulumi.Output[str]
    """Bucket name as created."""
    endpoint: pulumi.Output[str]
    """S3 endpoint the movers use."""
    labels: pulumi.Output[dict]
    """The bucket's backup labels, also for kinds whose buckets take no tags (R2): policies read them here."""
    writer_credentials: dict[str, pulumi.Output]
    """Writer key -> secret Output {access_key_id, secret_access_key}, limited to the writer's prefix."""
    reader_credentials: dict[str, pulumi.Output]
    """Writer key -> secret Output of a read-only key for the same prefix (check and drill jobs)."""

    def __init__(self, name: str, args: OffsiteBucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"homelab-backups:buckets:{_TOKEN[args.plan.kind]}", name, None, opts)
        plan = args.plan
        # Buckets and keys hold or unlock backups: never deleted by accident.
        keep = pulumi.ResourceOptions(parent=self, protect=True)
        builder = {"s3-compatible": _s3_compatible, "b2": _b2, "r2": _r2, "s3": _aws}[plan.kind]
        bucket, creds, readers = builder(name, args, keep)
        self.bucket = pulumi.Output.from_input(bucket)
        self.endpoint = pulumi.Output.from_input(plan.endpoint)
        self.writer_credentials = creds
        self.reader_credentials = readers
        self.labels = pulumi.Output.from_input(bucket_labels(plan))
        self.register_outputs({"bucket": self.bucket, "endpoint": self.endpoint, "labels": self.labels})


_TOKEN = {"s3-compatible": "S3CompatibleBucket", "b2": "B2Bucket", "r2": "R2Bucket", "s3": "AwsBucket"}


def _lifecycle(plan: BucketPlan) -> dict | None:
    if plan.lifecycle is None:
        return None
    lifecycle = plan.lifecycle
    return {"noncurrent_days": lifecycle.noncurrent_days, "abort_multipart_days": lifecycle.abort_multipart_days}


def _s3_compatible(name: str, args: OffsiteBucketArgs, opts: pulumi.ResourceOptions):
    from providers import s3_compatible

    plan = args.plan
    caps = capabilities_of(plan.kind, plan.flavour)
    bucket = s3_compatible.Bucket(
        f"{name}-bucket",
        bucket=plan.name, endpoint=plan.endpoint, region=plan.region,
        capabilities={"versioning": caps.versioning, "lifecycle": caps.lifecycle, "object_lock": caps.object_lock},
        versioning=plan.versioning, lifecycle=_lifecycle(plan), lock_days=plan.lock_days,
        tags=bucket_labels(plan), credentials_entry=plan.destination, opts=opts)
    identities = identities_of(plan.kind, plan.flavour, plan.admin_api)
    if identities != "supplied":
        return (bucket.bucket, *_admin_identities(identities, name, args, bucket, opts))
    # No admin API the program can drive: the user creates a key per writer (and a read-only one) on the server.
    supplied = args.supplied or {}
    missing = [w.key for w in plan.writers if w.key not in supplied]
    if missing:
        raise ValueError(f"{plan.destination}: no supplied keys for writers {missing} (estate wiring)")
    return (bucket.bucket, {w.key: supplied[w.key]["writer"] for w in plan.writers},
            {w.key: supplied[w.key]["reader"] for w in plan.writers})


def identity_name(plan: BucketPlan, writer: Writer, role: str) -> str:
    """A tool identity's user name: bucket, writer and role, readable and at most 64 characters."""
    name = f"{plan.name}-{writer.key}" + ("-ro" if role == "reader" else "")
    if len(name) <= 64:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:55]}-{digest}"


def _identity(kind: str, resource_name: str, plan: BucketPlan, writer: Writer, role: str, args: OffsiteBucketArgs,
              opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """One tool identity created through the destination's admin API (its `credential`: the key, secret)."""
    access = "write" if role == "writer" else "read"
    common = {"bucket": plan.name, "access": access, "credentials_entry": plan.destination, "ca_file": args.ca_file,
              "opts": opts}
    if kind == "minio-admin":
        from providers import minio_admin

        return minio_admin.User(resource_name, user_name=identity_name(plan, writer, role), endpoint=plan.endpoint,
                                prefix=writer.prefix, **common)
    if kind == "wasabi-iam":
        from providers import wasabi_iam

        return wasabi_iam.User(resource_name, user_name=identity_name(plan, writer, role),
                               endpoint=plan.admin_endpoint or plan.endpoint, prefix=writer.prefix, **common)
    if kind == "garage-admin":
        from providers import garage_admin

        # Garage keys hold per-bucket rights only: no prefix to pass (README, threat model).
        return garage_admin.Key(resource_name, key_name=identity_name(plan, writer, role),
                                admin_endpoint=plan.admin_endpoint, **common)
    if kind == "rgw-admin":
        from providers import rgw_admin

        return rgw_admin.User(resource_name, uid=identity_name(plan, writer, role), endpoint=plan.endpoint,
                              region=plan.region, credentials_entry=plan.destination, ca_file=args.ca_file,
                              opts=opts)
    raise ValueError(f"{plan.destination}: no identity builder for {kind!r} (estate wiring)")


def _admin_identities(kind: str, name: str, args: OffsiteBucketArgs, bucket: pulumi.Resource,
                      opts: pulumi.ResourceOptions):
    plan = args.plan
    after = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[bucket]))
    creds: dict[str, dict[str, pulumi.Output]] = {"writer": {}, "reader": {}}
    users = []
    for writer in plan.writers:
        for role in ("writer", "reader"):
            users.append(_identity(kind, f"{name}-{writer.key}-{role}", plan, writer, role, args, after))
            creds[role][writer.key] = users[-1].credential
    if kind == "rgw-admin":
        from providers import rgw_admin

        # RGW users get their prefix from the bucket's one policy, written once for all of them.
        grants = [{"uid": identity_name(plan, w, role), "prefix": w.prefix,
                   "access": "write" if role == "writer" else "read"}
                  for w in plan.writers for role in ("writer", "reader")]
        rgw_admin.BucketPolicy(f"{name}-policy", bucket=plan.name, endpoint=plan.endpoint, region=plan.region,
                               grants=grants, credentials_entry=plan.destination, ca_file=args.ca_file,
                               opts=pulumi.ResourceOptions.merge(after, pulumi.ResourceOptions(depends_on=users)))
    return creds["writer"], creds["reader"]


def _b2(name: str, args: OffsiteBucketArgs, opts: pulumi.ResourceOptions):
    from providers import b2

    plan = args.plan
    bucket = b2.Bucket(f"{name}-bucket", b2.BucketArgs(
        bucket_name=plan.name, lifecycle=_lifecycle(plan), lock_days=plan.lock_days,
        bucket_info=bucket_labels(plan), credentials_entry=plan.destination), opts=opts)
    creds: dict[str, dict[str, pulumi.Output]] = {"writer": {}, "reader": {}}
    for writer in plan.writers:
        for role, capabilities, suffix in (("writer", b2.WRITER_CAPABILITIES, "key"),
                                           ("reader", b2.READER_CAPABILITIES, "read-key")):
            key = b2.ApplicationKey(f"{name}-{writer.key}-{suffix}", b2.ApplicationKeyArgs(
                key_name=identity_name(plan, writer, role)[:100], bucket_id=bucket.id,
                name_prefix=writer.prefix + "/", capabilities=sorted(capabilities),
                credentials_entry=plan.destination),
                opts=opts)
            creds[role][writer.key] = pulumi.Output.secret(
                pulumi.Output.all(key.application_key_id, key.application_key).apply(
                    lambda v: {"access_key_id": v[0], "secret_access_key": v[1]}))
    return bucket.bucket_name, creds["writer"], creds["reader"]


R2_PERMISSION_GROUPS = {"writer": ("Workers R2 Storage Bucket Item Read", "Workers R2 Storage Bucket Item Write"),
                        "reader": ("Workers R2 Storage Bucket Item Read",)}
"""Bucket-scoped object permissions per role; resolved to ids by name at deploy time (ids are not stable facts).
R2 tokens cannot be limited to a prefix: every writer of a bucket can read and overwrite the others' prefixes
(README, threat model), which is why R2 holds offsite copies only under its age-based lock."""


def r2_token_scope(account: str, jurisdiction: str, bucket: str) -> str:
    """The resource key of an R2 bucket in an API token policy; the jurisdiction is part of the bucket's identity."""
    return f"com.cloudflare.edge.r2.bucket.{account}_{jurisdiction}_{bucket}"


def _r2(name: str, args: OffsiteBucketArgs, opts: pulumi.ResourceOptions):
    import pulumi_cloudflare as cloudflare

    plan = args.plan
    account = args.account or ""
    where = {"account_id": account, "jurisdiction": args.jurisdiction}
    bucket = cloudflare.R2Bucket(f"{name}-bucket", name=plan.name, **where, opts=opts)
    after = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[bucket]))
    # The lifecycle resource owns the whole rule set: the default abort-multipart rule is re-declared.
    cloudflare.R2BucketLifecycle(f"{name}-lifecycle", bucket_name=plan.name, **where, rules=[{
        "id": "abort-incomplete-multipart", "enabled": True, "conditions": {"prefix": ""},
        "abort_multipart_uploads_transition": {"condition": {"type": "Age",
                                                             "max_age": plan.lifecycle.abort_multipart_days * 86400}},
    }] if plan.lifecycle else [], opts=after)
    # No R2BucketLock: R2 locks refuse overwriting and deleting young objects, and the R2 lock drill saw restic and
    # pgBackRest fail under them. A Tier 1 dataset's locked copy lives on a versioned, object-locked destination.
    groups = cloudflare.get_account_api_token_permission_groups_list_output(account_id=account)
    scope = json.dumps({r2_token_scope(account, args.jurisdiction, plan.name): "*"})
    creds: dict[str, dict[str, pulumi.Output]] = {"writer": {}, "reader": {}}
    for role, suffix in (("writer", "token"), ("reader", "read-token")):
        wanted = R2_PERMISSION_GROUPS[role]
        group_ids = groups.results.apply(lambda rs, wanted=wanted: [{"id": r.id} for r in rs if r.name in wanted])
        for writer in plan.writers:
            token = cloudflare.ApiToken(
                f"{name}-{writer.key}-{suffix}", name=identity_name(plan, writer, role),
                policies=[{"effect": "allow", "permission_groups": group_ids, "resources": scope}], opts=after)
            # R2's S3 secret key is the SHA-256 of the token value; the access key id is the token id.
            creds[role][writer.key] = pulumi.Output.secret(pulumi.Output.all(token.id, token.value).apply(
                lambda v: {"access_key_id": v[0], "secret_access_key": hashlib.sha256(v[1].encode()).hexdigest()}))
    return bucket.name, creds["writer"], creds["reader"]


def s3_writer_policy(bucket: str, writer: Writer) -> dict:
    """Least-privilege IAM policy for one writer: its prefix only (see `plan.capabilities.s3_prefix_policy`)."""
    return s3_prefix_policy(bucket, writer.prefix, write=True)


def _aws(name: str, args: OffsiteBucketArgs, opts: pulumi.ResourceOptions):
    import pulumi_aws as aws

    plan = args.plan
    tags = {k.replace("/", ":"): v for k, v in bucket_labels(plan).items()}
    bucket = aws.s3.Bucket(f"{name}-bucket", bucket=plan.name, object_lock_enabled=plan.lock_days > 0, tags=tags,
                           region=plan.region, opts=opts)
    child = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[bucket]))
    aws.s3.BucketPublicAccessBlock(f"{name}-public-access", bucket=bucket.id, block_public_acls=True,
                                   block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True,
                                   opts=child)
    aws.s3.BucketServerSideEncryptionConfiguration(f"{name}-encryption", bucket=bucket.id, rules=[
        {"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}, "bucket_key_enabled": True}],
        opts=child)
    versioning = aws.s3.BucketVersioning(f"{name}-versioning", bucket=bucket.id,
                                         versioning_configuration={"status": "Enabled"}, opts=child)
    after_versioning = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[versioning]))
    if plan.lifecycle:
        aws.s3.BucketLifecycleConfiguration(f"{name}-lifecycle", bucket=bucket.id, rules=[{
            "id": "expire-noncurrent-and-abort-uploads", "status": "Enabled", "filter": {},
            "noncurrent_version_expiration": {"noncurrent_days": plan.lifecycle.noncurrent_days},
            "abort_incomplete_multipart_upload": {"days_after_initiation": plan.lifecycle.abort_multipart_days},
        }], opts=after_versioning)
    if plan.lock_days:
        aws.s3.BucketObjectLockConfiguration(f"{name}-lock", bucket=bucket.id, object_lock_enabled="Enabled",
                                             rule={"default_retention": {"mode": "GOVERNANCE",
                                                                         "days": plan.lock_days}},
                                             opts=after_versioning)
    creds: dict[str, dict[str, pulumi.Output]] = {"writer": {}, "reader": {}}
    for writer in plan.writers:
        for role, suffix in (("writer", ""), ("reader", "-read")):
            user = aws.iam.User(f"{name}-{writer.key}{suffix}-user", name=identity_name(plan, writer, role),
                                tags=tags, opts=child)
            policy = s3_prefix_policy(plan.name, writer.prefix, write=role == "writer")
            aws.iam.UserPolicy(f"{name}-{writer.key}{suffix}-policy", user=user.name, policy=json.dumps(policy),
                               opts=child)
            key = aws.iam.AccessKey(f"{name}-{writer.key}{suffix}-key", user=user.name, opts=child)
            creds[role][writer.key] = pulumi.Output.secret(pulumi.Output.all(key.id, key.secret).apply(
                lambda v: {"access_key_id": v[0], "secret_access_key": v[1]}))
    return bucket.bucket, creds["writer"], creds["reader"]
