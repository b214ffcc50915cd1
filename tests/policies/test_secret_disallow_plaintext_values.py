"""secret-disallow-plaintext-values: secret values pass; plaintext values, rendered Secrets, credential keys in
ConfigMaps and templates, and plaintext provider credentials are named."""

from __future__ import annotations

from policies.rules import secret_disallow_plaintext_values as rule
from policies.rules.support import kinds
from policies.rules.support.props import SecretStr
from tests.policies import fixtures as f

POLICY = rule.POLICY


def test_compliant_objects_and_inputs_pass():
    for resource_type, props in ((kinds.SECRET, f.k8s_secret()), (kinds.CONFIGMAP, f.configmap()),
                                 (kinds.EXTERNAL_SECRETS[0], f.external_secret()), (kinds.B2_BUCKET, f.b2_bucket()),
                                 (kinds.B2_KEY, f.b2_key()), (kinds.S3C_BUCKET, f.s3c_bucket()),
                                 (kinds.SNAPSHOT_TASK, f.snapshot_task()), (kinds.CLOUD_SYNC_TASK, f.cloud_sync_task()),
                                 (kinds.CLOUD_CREDENTIAL, f.cloud_credential())):
        assert f.run_resource(POLICY, resource_type, props).messages == [], resource_type


def test_secret_with_a_plaintext_value():
    props = f.k8s_secret()
    props["stringData"]["RESTIC_PASSWORD"] = "correct horse"
    assert f.run_resource(POLICY, kinds.SECRET, props).messages == [
        "Secret security/vaultwarden-b2-repo (dataset vaultwarden, tier 1) holds stringData.RESTIC_PASSWORD in plain "
        "text (stored unencrypted in the stack state); wrap the values with pulumi.Output.secret(...)."]


def test_secret_value_unknown_but_marked_secret_passes():
    props = f.k8s_secret()
    props["stringData"]["RESTIC_PASSWORD"] = SecretStr(f.UNKNOWN)
    assert f.run_resource(POLICY, kinds.SECRET, props).messages == []


def test_secret_rendered_to_a_directory():
    provider = {"renderYamlToDirectory": "rendered/security"}
    assert f.run_resource(POLICY, kinds.SECRET, f.k8s_secret(), provider=provider).messages == [
        "Secret security/vaultwarden-b2-repo (dataset vaultwarden, tier 1) is rendered into 'rendered/security', a "
        "manifest meant for git, with its values base64-encoded in plain text; deliver it as an ExternalSecret "
        "(kubernetes.secret_delivery: external-secret)."]


def test_configmap_with_a_credential():
    props = f.configmap()
    props["data"]["AWS_SECRET_ACCESS_KEY"] = "abc"
    assert f.run_resource(POLICY, kinds.CONFIGMAP, props).messages == [
        "ConfigMap security/backup-settings (dataset vaultwarden, tier 1) holds AWS_SECRET_ACCESS_KEY, which look like "
        "credentials, in a ConfigMap (plain text to anyone who can read the namespace); move them to a Secret or "
        "ExternalSecret."]


def test_external_secret_template_with_a_literal_credential():
    props = f.external_secret()
    props["spec"]["target"]["template"]["data"]["RESTIC_PASSWORD"] = "hunter2"
    assert f.run_resource(POLICY, kinds.EXTERNAL_SECRETS[0], props).messages == [
        "ExternalSecret security/vaultwarden-b2-repo (dataset vaultwarden, tier 1) writes RESTIC_PASSWORD as literal "
        "template values (committed with the manifest); fetch them from the secret store with spec.data remoteRefs "
        "instead."]


def test_provider_credentials_in_plain_text():
    props = f.s3c_bucket()
    props["credentials"] = {"access_key_id": "AKIA", "secret_access_key": "s3cr3t"}
    assert f.run_resource(POLICY, kinds.S3C_BUCKET, props, name="hlb-minio-tier1-bucket").messages == [
        "Bucket 'hlb-minio-tier1-bucket' takes credentials.access_key_id, credentials.secret_access_key in plain text "
        "(stored unencrypted in the stack state); pass it as pulumi.Output.secret(...)."]


def test_cloud_sync_encryption_password_in_plain_text():
    props = f.cloud_sync_task() | {"encryption_password": "pass-phrase"}
    assert f.run_resource(POLICY, kinds.CLOUD_SYNC_TASK, props, name="photos-b2").messages == [
        "CloudSyncTask 'photos-b2' takes encryption_password in plain text (stored unencrypted in the stack state); "
        "pass it as pulumi.Output.secret(...)."]


def test_truenas_api_key_in_plain_text():
    props = f.snapshot_task()
    props["connection"] = {"url": "wss://citadel/api/current", "api_key": "1-abc"}
    (message,) = f.run_resource(POLICY, kinds.SNAPSHOT_TASK, props, name="photos-hourly").messages
    assert message.startswith("SnapshotTask 'photos-hourly' takes connection.api_key in plain text")
