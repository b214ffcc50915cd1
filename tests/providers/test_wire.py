"""providers.wire: every wire form of a value not known yet, secret envelopes and wire numbers.

The unknown forms here come from the host's own deserializer fed protobuf values (what a preview sends); the
captured real forms, per provider, are replayed in tests/providers/test_wire_forms.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf import struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import rpc

from providers import wire


def from_wire(value: Any) -> Any:
    """`value` sent through a protobuf Struct and read back the way the dynamic-provider host reads check/diff."""
    struct = struct_pb2.Struct()
    struct.update({"v": value})
    return rpc.deserialize_properties(struct, keep_unknowns=True)["v"]


def envelope(value: Any) -> dict[str, Any]:
    return {wire.SECRET_SIG_KEY: wire.SECRET_SIG, "value": value}


def test_constants_are_the_sdks() -> None:
    assert wire.UNKNOWN == rpc.UNKNOWN == "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    assert (rpc._special_sig_key, rpc._special_secret_sig) == (wire.SECRET_SIG_KEY, wire.SECRET_SIG)


UNKNOWN_FORMS = {
    "host Unknown": from_wire(rpc.UNKNOWN),
    "sentinel string": rpc.UNKNOWN,
    "secret Unknown": from_wire(envelope(rpc.UNKNOWN)),
    "secret sentinel": envelope(rpc.UNKNOWN),
    "secret of a secret": envelope(envelope(Unknown())),
    "secret None": envelope(None),
}


def test_the_host_turns_the_sentinel_into_unknown_objects_and_a_secret_one_into_a_secret_none() -> None:
    assert isinstance(from_wire(rpc.UNKNOWN), Unknown)
    assert isinstance(from_wire({"a": [rpc.UNKNOWN]})["a"][0], Unknown)
    assert from_wire(envelope(rpc.UNKNOWN)) == envelope(None)


@pytest.mark.parametrize("value", UNKNOWN_FORMS.values(), ids=UNKNOWN_FORMS.keys())
def test_every_unknown_form_is_unknown_alone_and_nested(value: Any) -> None:
    assert wire.is_unknown(value) and wire.has_unknowns(value) and not wire.known(value)
    nested = [{"a": value}, [1, value], {"a": [{"b": value}]}, envelope({"a": value}), from_wire({"a": [rpc.UNKNOWN]})]
    for container in nested:
        assert wire.has_unknowns(container), container
        assert not wire.is_unknown(container), container
    assert wire.differs("old", value)
    assert wire.differs({"a": "old"}, {"a": value})


KNOWN = ["", "x", 0, 0.5, 14.0, False, None, [], {}, {"a": [1, "b"]}, envelope("s3cr3t"), from_wire(envelope({"k": 1}))]


@pytest.mark.parametrize("value", KNOWN, ids=repr)
def test_known_values_are_known(value: Any) -> None:
    assert wire.known(value) and not wire.is_unknown(value) and not wire.has_unknowns(value)


def test_reveal_opens_envelopes_at_any_depth() -> None:
    received = from_wire({"a": envelope("p"), "b": [envelope(1)], "c": envelope({"d": envelope("e")})})
    assert wire.reveal(received) == {"a": "p", "b": [1.0], "c": {"d": "e"}}
    assert isinstance(wire.reveal(envelope(Unknown())), Unknown)


def test_wire_numbers_become_whole() -> None:
    assert from_wire(14) == 14.0 and isinstance(from_wire(14), float)
    assert wire.whole(14.0) == 14 and isinstance(wire.whole(14.0), int)
    assert wire.whole(0.5) == 0.5 and wire.whole(True) is True and wire.whole("14") == "14"
    received = from_wire({"a": [14, {"b": 7}], "s": envelope(3)})
    assert wire.is_secret_envelope(received), "the host marks a map holding a secret as secret as a whole"
    nested = wire.whole_numbers(received)
    assert wire.is_secret_envelope(nested)
    plain = wire.reveal(nested)
    assert plain == {"a": [14, {"b": 7}], "s": 3}
    assert all(isinstance(v, int) for v in (plain["a"][0], plain["a"][1]["b"], plain["s"]))
    assert [wire.as_int(v) for v in (14.0, 14, 0.5, True, "1", None)] == [14, 14, None, None, None, None]
    assert [wire.is_int(v) for v in (1, 1.0, True)] == [True, False, False]


def test_differs_ignores_envelopes_and_doubles_but_not_values() -> None:
    assert not wire.differs(14, from_wire(14))
    assert not wire.differs({"n": 7, "p": "x"}, from_wire({"n": 7, "p": envelope("x")}))
    assert wire.differs({"p": "x"}, {"p": envelope("y")})
    assert wire.differs(None, "x")


def test_keep_secrets_wraps_again_what_arrived_secret() -> None:
    received = {"password": envelope("p"), "name": "n", "gone": envelope("g")}
    checked = {"password": "p", "name": "n", "extra": 1}
    assert wire.keep_secrets(received, checked) == {"password": envelope("p"), "name": "n", "extra": 1}
    assert wire.keep_secrets(received, {"password": envelope("p")}) == {"password": envelope("p")}
