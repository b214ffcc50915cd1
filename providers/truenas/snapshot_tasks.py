"""`pool.snapshottask`: periodic ZFS snapshot tasks, one per GFS level of a NAS dataset."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

import pulumi

from providers import wire
from providers.truenas.service import (
    CRON_KEYS,
    ServiceProvider,
    ServiceResource,
    bool_problems,
    hhmm,
    schedule_problems,
)

__all__ = ["DEFAULT_NAMING_SCHEMA", "SnapshotTask", "SnapshotTaskProvider", "naming_schema_problem"]

DEFAULT_NAMING_SCHEMA = "auto-%Y-%m-%d_%H-%M"
"""The middleware's default snapshot name."""
LIFETIME_UNITS = ("HOUR", "DAY", "WEEK", "MONTH", "YEAR")
_SNAPSHOT_SCHEDULE_DEFAULTS = {
    "minute": "00",
    "hour": "*",
    "dom": "*",
    "month": "*",
    "dow": "*",
    "begin": "00:00",
    "end": "23:59",
}


def naming_schema_problem(schema: str) -> str | None:
    """Why TrueNAS (zettarepl) would refuse this snapshot naming schema, or None if it is valid."""
    if "%%" in schema:
        return "'%%' is not allowed (a literal % cannot appear in a ZFS snapshot name)"
    bad = sorted(set(re.findall(r"[^0-9A-Za-z %_.:-]", schema)))
    if bad:
        return f"characters {' '.join(bad)} are not allowed; use only letters, digits, space and % _ . : -"
    if "%s" in schema:
        if re.search("%[^s]", schema):
            return "%s (epoch seconds) cannot be combined with other placeholders"
    else:
        missing = [token for token in ("%Y", "%m", "%d", "%H", "%M") if token not in schema]
        if missing:
            return f"must contain %Y %m %d %H %M (missing {' '.join(missing)}), e.g. {DEFAULT_NAMING_SCHEMA!r}"
    if re.search("(^|[^%])%z", schema) and ":" in schema:
        return "%z and ':' cannot be used together (ZFS names cannot contain '+', TrueNAS writes ':' for it)"
    return None



class SnapshotTaskProvider(ServiceProvider):
    """`pool.snapshottask`: one periodic ZFS snapshot task (the plan makes one per GFS level).

    Every field, the dataset included, can be changed by `pool.snapshottask.update`, so nothing forces a replacement.
    """

    namespace = "pool.snapshottask"
    kind = "periodic snapshot task"
    ui_location = "Data Protection > Periodic Snapshot Tasks"
    api_fields = (
        "dataset",
        "recursive",
        "exclude",
        "lifetime_value",
        "lifetime_unit",
        "naming_schema",
        "schedule",
        "enabled",
        "allow_empty",
    )
    local_fields = ("connection", "context", "fixate_removal_date")
    local_defaults = {"fixate_removal_date": False}
    output_fields = ("task_id",)
    hints = (
        ("dataset", "Dataset not found", "create the dataset first or fix the name: pool/dataset, without /mnt/"),
        ("exclude", "non-recursive", "set recursive=true or drop exclude"),
        ("exclude", "child", "exclude only descendants of the dataset, written as pool/dataset/child"),
        ("naming_schema", "", f"use letters, digits and % _ . : - with %Y %m %d %H %M, e.g. {DEFAULT_NAMING_SCHEMA!r}"),
        ("schedule", "", "use cron strings {minute, hour, dom, month, dow} (dow 1=Mon..7=Sun) and begin/end 'HH:MM'"),
        ("enabled", "replication", "disable the replication task bound to this snapshot task first"),
    )

    def _default_label(self, props: Mapping[str, Any]) -> str:
        dataset = props.get("dataset")
        known = isinstance(dataset, str) and not wire.has_unknowns(dataset)
        return f"snapshot task for {dataset}" if known else self.kind

    def _problems(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems = bool_problems(news, "recursive", "enabled", "allow_empty", "fixate_removal_date")
        dataset = news.get("dataset")
        if "dataset" not in news:
            problems.append(("dataset", "required: the ZFS dataset to snapshot, e.g. tank/photos"))
        elif not wire.has_unknowns(dataset) and (
            not isinstance(dataset, str) or not re.fullmatch(r"[A-Za-z0-9][\w.:-]*(/[\w.: -]+)*", dataset)
        ):
            problems.append(("dataset", "must be a ZFS dataset name like tank/photos (no /mnt/ prefix, no trailing /)"))
        lifetime = news.get("lifetime_value")
        if lifetime is not None and not wire.has_unknowns(lifetime) and (not wire.is_int(lifetime) or lifetime < 1):
            problems.append(("lifetime_value", "must be a whole number >= 1 (how many lifetime_units to keep)"))
        unit = news.get("lifetime_unit")
        if unit is not None and not wire.has_unknowns(unit) and unit not in LIFETIME_UNITS:
            problems.append(("lifetime_unit", f"must be one of {', '.join(LIFETIME_UNITS)}"))
        schema = news.get("naming_schema")
        if schema is not None and not wire.has_unknowns(schema):
            reason = naming_schema_problem(schema) if isinstance(schema, str) else "must be a string"
            if reason:
                problems.append(("naming_schema", reason))
        exclude = news.get("exclude")
        if exclude is not None and not wire.has_unknowns(exclude):
            if not isinstance(exclude, list) or not all(isinstance(item, str) for item in exclude):
                problems.append(("exclude", "must be a list of dataset names"))
            elif exclude:
                if news.get("recursive") is not True and not wire.has_unknowns(news.get("recursive")):
                    problems.append(("exclude", "only works with recursive=true; set it or drop exclude"))
                if isinstance(dataset, str) and not wire.has_unknowns(dataset):
                    problems += [
                        (f"exclude[{i}]", f"{item!r} is not below {dataset}; exclude only its descendants")
                        for i, item in enumerate(exclude)
                        if not item.startswith(f"{dataset}/")
                    ]
        if "schedule" in news:
            problems += schedule_problems("schedule", news["schedule"], (*CRON_KEYS, "begin", "end"))
        return problems

    def _normalize(self, inputs: dict[str, Any]) -> dict[str, Any]:
        defaults = {
            "recursive": False,
            "exclude": [],
            "lifetime_value": 2,
            "lifetime_unit": "WEEK",
            "naming_schema": DEFAULT_NAMING_SCHEMA,
            "enabled": True,
            "allow_empty": True,
            "fixate_removal_date": False,
        }
        for field, default in defaults.items():
            if inputs.get(field) is None:
                inputs[field] = default
        schedule = inputs.get("schedule")
        if schedule is None:
            inputs["schedule"] = dict(_SNAPSHOT_SCHEDULE_DEFAULTS)
        elif isinstance(schedule, Mapping) and not wire.has_unknowns(schedule):
            merged = {**_SNAPSHOT_SCHEDULE_DEFAULTS, **schedule}
            for key in ("begin", "end"):
                merged[key] = hhmm(merged[key]) or merged[key]
            inputs["schedule"] = merged
        return inputs

    def _from_entry(self, entry: Mapping[str, Any], known: Mapping[str, Any]) -> dict[str, Any]:
        live = super()._from_entry(entry, known)
        live["schedule"] = {key: entry.get("schedule", {}).get(key) for key in _SNAPSHOT_SCHEDULE_DEFAULTS}
        return live

    def _computed(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        return {"task_id": entry["id"]}

    def _identity_filters(self, props: Mapping[str, Any]) -> list[list[Any]]:
        return [["dataset", "=", props["dataset"]], ["naming_schema", "=", props["naming_schema"]]]

    def _delete_params(self, id_: int, props: Mapping[str, Any]) -> list[Any]:
        return [id_, {"fixate_removal_date": bool(props.get("fixate_removal_date"))}]

    def _update_extras(self, news: Mapping[str, Any]) -> dict[str, Any]:
        return {"fixate_removal_date": True} if news.get("fixate_removal_date") else {}


class SnapshotTask(ServiceResource, module="truenas", name="SnapshotTask"):
    """A TrueNAS periodic snapshot task (`pool.snapshottask`); unset inputs take the API defaults."""

    provider_class = SnapshotTaskProvider
    secret_outputs: ClassVar[tuple[str, ...]] = ("connection",)

    task_id: pulumi.Output[int]
    """TrueNAS id of the task; import with it."""
    dataset: pulumi.Output[str]
    """ZFS dataset snapshotted, e.g. tank/photos."""
    recursive: pulumi.Output[bool]
    """Also snapshot child datasets."""
    exclude: pulumi.Output[list[str]]
    """Child datasets left out of a recursive task."""
    lifetime_value: pulumi.Output[int]
    """How many lifetime_units each snapshot is kept."""
    lifetime_unit: pulumi.Output[str]
    """HOUR, DAY, WEEK, MONTH or YEAR."""
    naming_schema: pulumi.Output[str]
    """strftime-like snapshot name, with %Y %m %d %H %M."""
    schedule: pulumi.Output[dict[str, str]]
    """Cron fields plus the begin/end window, as the NAS stores them."""
    enabled: pulumi.Output[bool]
    """Whether the task runs."""
    allow_empty: pulumi.Output[bool]
    """Take snapshots even when nothing changed."""

    def __init__(
        self,
        resource_name: str,
        *,
        connection: pulumi.Input[Mapping[str, Any]],
        dataset: pulumi.Input[str],
        recursive: pulumi.Input[bool] | None = None,
        exclude: pulumi.Input[list[str]] | None = None,
        lifetime_value: pulumi.Input[int] | None = None,
        lifetime_unit: pulumi.Input[str] | None = None,
        naming_schema: pulumi.Input[str] | None = None,
        schedule: pulumi.Input[Mapping[str, str]] | None = None,
        enabled: pulumi.Input[bool] | None = None,
        allow_empty: pulumi.Input[bool] | None = None,
        fixate_removal_date: pulumi.Input[bool] | None = None,
        context: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        self._declare(
            resource_name,
            opts,
            connection=connection,
            dataset=dataset,
            recursive=recursive,
            exclude=exclude,
            lifetime_value=lifetime_value,
            lifetime_unit=lifetime_unit,
            naming_schema=naming_schema,
            schedule=schedule,
            enabled=enabled,
            allow_empty=allow_empty,
            fixate_removal_date=fixate_removal_date,
            context=context,
        )
