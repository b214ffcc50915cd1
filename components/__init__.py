"""Pulumi components: each wires one concern from plan records; none of them decides anything."""
