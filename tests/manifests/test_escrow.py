"""manifests/escrow.py: the one naming of store items, shared by the ExternalSecrets that read values and the escrow
that writes them, so a rendered reference and its escrowed item cannot drift apart."""

from __future__ import annotations

import pytest

from manifests.escrow import STORE_PREFIX, item_suffix, remote_key_prefix, remote_refs
from tests.manifests import estate


@pytest.mark.parametrize(("store_kind", "prefix"), [("onepassword", "homelab-backups/"), (None, "homelab-backups/"),
                                                    ("kubernetes", "homelab-backups.")])
def test_the_prefix_follows_the_store_kind(store_kind, prefix):
    assert remote_key_prefix(store_kind) == prefix


@pytest.mark.parametrize("separator", ["/", "."])
def test_the_item_suffix_is_the_secret_name_whatever_the_separator(separator):
    assert item_suffix(f"{STORE_PREFIX}{separator}immich-db-b2-credentials") == "immich-db-b2-credentials"


def test_a_key_outside_the_program_keeps_its_name():
    assert item_suffix("someone-else/item") == "someone-else/item"
    assert item_suffix(f"{STORE_PREFIX}-other/item") == f"{STORE_PREFIX}-other/item"


def test_remote_refs_reads_every_reference_of_a_rendered_external_secret_in_order():
    externals = [o for o in estate.rendered().objects() if o["kind"] == "ExternalSecret"]
    assert externals
    for external in externals:
        refs = list(remote_refs(external))
        assert refs and refs == [(e["remoteRef"]["key"], e["remoteRef"]["property"])
                                 for e in external["spec"]["data"]], external["metadata"]["name"]
        # The rendered test estate reads from `hlb-<secret name>` (tests/manifests/estate.py REMOTE_PREFIX).
        assert all(key.startswith(estate.REMOTE_PREFIX) and prop for key, prop in refs), refs
