"""The alias module that lets state written before the one-module-per-service split find its providers."""

from __future__ import annotations

import dill
import pytest


@pytest.mark.parametrize("name", ["SnapshotTaskProvider", "CloudCredentialProvider", "CloudSyncTaskProvider"])
def test_state_pickled_before_the_split_still_finds_its_provider(name: str) -> None:
    """State written before one module per service names `providers.truenas.resources.<Provider>`."""
    old_reference = f"cproviders.truenas.resources\n{name}\n.".encode()
    provider_class = dill.loads(old_reference)
    assert provider_class.__name__ == name
    assert provider_class.__module__ != "providers.truenas.resources"
