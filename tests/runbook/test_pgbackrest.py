"""The Stanza -> pgbackrest.conf mapping: every field the dalibo plugin documents lands on its pgBackRest option,
secrets stay references, and a field without a mapping is refused rather than silently dropped."""

from __future__ import annotations

import pytest

from runbook.pgbackrest import conf_text, env_option, stanza_options

FULL = {
    "name": "cluster1",
    "s3Repositories": [{
        "bucket": "backups", "endpoint": "s3.example.org", "region": "eu-1", "uriStyle": "path", "verifyTLS": False,
        "repoPath": "/cluster1",
        "secretRef": {"accessKeyId": {"name": "creds", "key": "ID"},
                      "secretAccessKey": {"name": "creds", "key": "KEY"}},
        "retentionPolicy": {"full": 4, "fullType": "count", "diff": 7, "archive": 2, "archiveType": "full",
                            "history": 30},
        "cipherConfig": {"encryptionPass": {"name": "creds", "key": "PASS"}, "type": "aes-256-cbc"},
    }, {
        "bucket": "second", "endpoint": "other.example.org", "region": "auto", "repoPath": "/c1",
    }],
    "processMax": 2, "startFast": True, "delta": False,
    "archive": {"async": True, "pushQueueMax": "1GiB", "getQueueMax": "64MiB"},
    "compressConfig": {"type": "zst", "level": 3},
    "customEnvVar": {"PGBACKREST_REPO1_STORAGE_PORT": "9000", "TZ": "UTC"},
}


def test_every_documented_field_maps_to_its_option() -> None:
    mapped = stanza_options(FULL)
    assert mapped.stanza == "cluster1"
    assert mapped.options == {
        "archive-async": "y", "archive-get-queue-max": "64MiB", "archive-push-queue-max": "1GiB",
        "compress-level": "3", "compress-type": "zst", "delta": "n", "log-level-file": "off", "process-max": "2",
        "start-fast": "y",
        "repo1-cipher-type": "aes-256-cbc", "repo1-path": "/cluster1", "repo1-retention-archive": "2",
        "repo1-retention-archive-type": "full", "repo1-retention-diff": "7", "repo1-retention-full": "4",
        "repo1-retention-full-type": "count", "repo1-retention-history": "30", "repo1-s3-bucket": "backups",
        "repo1-s3-endpoint": "s3.example.org", "repo1-s3-region": "eu-1", "repo1-s3-uri-style": "path",
        "repo1-storage-port": "9000", "repo1-storage-verify-tls": "n", "repo1-type": "s3",
        "repo2-path": "/c1", "repo2-s3-bucket": "second", "repo2-s3-endpoint": "other.example.org",
        "repo2-s3-region": "auto", "repo2-type": "s3",
    }
    assert mapped.secret_options == {"repo1-cipher-pass": ("creds", "PASS"), "repo1-s3-key": ("creds", "ID"),
                                     "repo1-s3-key-secret": ("creds", "KEY")}
    assert mapped.env == {"TZ": "UTC"}


@pytest.mark.parametrize(("change", "message"), [
    ({"logLevel": "info"}, "logLevel"),
    ({"azureRepositories": []}, "azureRepositories"),
    ({"s3Repositories": [{"bucket": "b", "keyType": "auto"}]}, "keyType"),
    ({"s3Repositories": [{"bucket": "b", "retentionPolicy": {"window": 3}}]}, "window"),
])
def test_fields_without_a_mapping_are_refused(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        stanza_options({"name": "c", **change})


def test_environment_names_follow_pgbackrest_convention() -> None:
    assert env_option("PGBACKREST_REPO2_S3_URI_STYLE") == "repo2-s3-uri-style"
    assert env_option("PGBACKREST_") is None and env_option("AWS_REGION") is None


def test_conf_text_is_ini_in_the_given_order() -> None:
    text = conf_text({"global": {"b": "2", "a": "1"}, "st": {"pg1-path": "/x"}})
    assert text == "[global]\nb=2\na=1\n\n[st]\npg1-path=/x\n"
