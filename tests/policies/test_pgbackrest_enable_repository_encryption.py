"""pgbackrest-enable-repository-encryption: ciphered repositories pass; each unencrypted one is named."""

from __future__ import annotations

from policies.rules import pgbackrest_enable_repository_encryption as rule
from policies.rules.support import kinds
from tests.policies import fixtures as f

POLICY = rule.POLICY


def test_compliant_stanza_passes():
    assert f.run_resource(POLICY, kinds.STANZA, f.stanza()).messages == []


def test_repository_without_cipher():
    props = f.stanza()
    del props["spec"]["stanzaConfiguration"]["s3Repositories"][1]["cipherConfig"]
    assert f.run_resource(POLICY, kinds.STANZA, props).messages == [
        "Stanza database/immich-db (dataset immich-db, tier 1) s3Repositories[1] (bucket 'hlb-r2-tier1') has no "
        "cipherConfig; set cipherConfig.type: aes-256-cbc with an encryptionPass Secret reference."]


def test_repository_with_cipher_type_none():
    props = f.stanza()
    props["spec"]["stanzaConfiguration"]["s3Repositories"][0]["cipherConfig"]["type"] = "none"
    (message,) = f.run_resource(POLICY, kinds.STANZA, props).messages
    assert "s3Repositories[0] (bucket 'hlb-b2-tier1') has cipher type 'none';" in message


def test_repository_without_passphrase():
    props = f.stanza()
    del props["spec"]["stanzaConfiguration"]["s3Repositories"][0]["cipherConfig"]["encryptionPass"]
    assert f.run_resource(POLICY, kinds.STANZA, props).messages == [
        "Stanza database/immich-db (dataset immich-db, tier 1) s3Repositories[0] (bucket 'hlb-b2-tier1') has no "
        "cipherConfig.encryptionPass {name, key}; reference the Secret key holding the repository passphrase."]
