"""What the Proxmox resources share: the client built per operation, and how values cross the API."""

from __future__ import annotations

from providers.proxmox.service import Field, _decode, _encode, connect


def test_connect_reaches_the_api_with_the_token_and_the_ca(pve, pve_connection):
    api = connect(pve_connection, {"token_secret": pve.token_secret}, "PVE")
    assert [n["node"] for n in api.nodes.get()] == ["pve1", "pve2"]
    assert pve.requests[-1][:2] == ("GET", "/nodes")


def test_pbs_tokens_use_pbs_separator(pbs, pbs_connection):
    api = connect(pbs_connection, {"token_secret": pbs.token_secret}, "PBS")
    assert api.config.sync.get() == []


def test_values_cross_the_api_as_pve_spells_them():
    flag = Field("enabled", "enabled", bool, True)
    assert (_encode(flag, True), _encode(flag, False)) == (1, 0)
    assert (_decode(flag, "0"), _decode(flag, 1), _decode(flag, None)) == (False, True, True)
    assert _decode(Field("keep_daily", "keep-daily", int), "30") == 30
    assert _encode(Field("outdated_after", "outdated-after", int), 7.0) == 7  # a number as the engine sends it
