"""`cronjob`: a command the NAS runs on a schedule as one of its users (Tasks > Cron Jobs in the UI).

Used for the NAS's configuration export (manifests/nas_config.py). The middleware keeps the command as given, strips
its newlines and escapes `%` when it writes the crontab (plugins/cron.py), checks that the user exists and that the
command is not empty (`cron_job_create.user`, `cron_job_create.command`), and treats `stdout`/`stderr` as *hide*
flags: true silences that stream instead of mailing it. The command may carry a Healthchecks ping URL, so it is a
secret input and output. `target_dataset` is local: the inventory dataset the command writes into, which the
policy pack reads to carry that dataset's copies to this one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import pulumi

from providers import wire
from providers.truenas.service import CRON_KEYS, ServiceProvider, ServiceResource, bool_problems, schedule_problems

__all__ = ["CronJob", "CronJobProvider"]

_CRON_SCHEDULE_DEFAULTS = {"minute": "00", "hour": "*", "dom": "*", "month": "*", "dow": "*"}


class CronJobProvider(ServiceProvider):
    """`cronjob`: every field can be changed by `cronjob.update`, so nothing forces a replacement."""

    namespace = "cronjob"
    kind = "cron job"
    ui_location = "System > Advanced Settings > Cron Jobs"
    api_fields = ("enabled", "stderr", "stdout", "schedule", "command", "description", "user")
    local_fields = ("connection", "context", "target_dataset")
    output_fields = ("task_id",)
    hints = (
        ("user", "does not exist", "use an existing NAS user (the configuration export runs as root)"),
        ("command", "", "give the command to run, on one line"),
        ("schedule", "", "use cron strings {minute, hour, dom, month, dow} (dow 1=Mon..7=Sun)"),
    )

    def _default_label(self, props: Mapping[str, Any]) -> str:
        description = props.get("description")
        known = isinstance(description, str) and description and not wire.has_unknowns(description)
        return f"cron job {description}" if known else self.kind

    def _problems(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems = bool_problems(news, "enabled", "stderr", "stdout")
        for field in ("command", "user"):
            value = news.get(field)
            if wire.has_unknowns(value):
                continue
            if not isinstance(value, str) or not value.strip():
                problems.append((field, "required: a non-empty string"))
        user = news.get("user")
        if isinstance(user, str) and " " in user and not wire.has_unknowns(user):
            problems.append(("user", "user names cannot contain spaces"))
        command = news.get("command")
        if isinstance(command, str) and "\n" in command and not wire.has_unknowns(command):
            problems.append(("command", "must be one line: the NAS drops newlines when it writes the crontab, which "
                             "would join the lines into one; separate commands with ';'"))
        description = news.get("description")
        if description is not None and not wire.has_unknowns(description) and not isinstance(description, str):
            problems.append(("description", "must be a string"))
        if "schedule" in news:
            problems += schedule_problems("schedule", news["schedule"], CRON_KEYS)
        return problems

    def _normalize(self, inputs: dict[str, Any]) -> dict[str, Any]:
        defaults = {"enabled": True, "stderr": False, "stdout": True, "description": ""}
        for field, default in defaults.items():
            if inputs.get(field) is None:
                inputs[field] = default
        schedule = inputs.get("schedule")
        if schedule is None:
            inputs["schedule"] = dict(_CRON_SCHEDULE_DEFAULTS)
        elif isinstance(schedule, Mapping) and not wire.has_unknowns(schedule):
            inputs["schedule"] = {**_CRON_SCHEDULE_DEFAULTS, **schedule}
        return inputs

    def _from_entry(self, entry: Mapping[str, Any], known: Mapping[str, Any]) -> dict[str, Any]:
        live = super()._from_entry(entry, known)
        live["schedule"] = {key: (entry.get("schedule") or {}).get(key) for key in CRON_KEYS}
        return live

    def _computed(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        return {"task_id": entry["id"]}

    def _identity_filters(self, props: Mapping[str, Any]) -> list[list[Any]]:
        return [["description", "=", props.get("description", "")], ["user", "=", props["user"]]]


class CronJob(ServiceResource, module="truenas", name="CronJob"):
    """A TrueNAS cron job (`cronjob`); unset inputs take the API defaults (stdout hidden, stderr mailed)."""

    provider_class = CronJobProvider
    secret_outputs: ClassVar[tuple[str, ...]] = ("connection", "command")

    task_id: pulumi.Output[int]
    """TrueNAS id of the cron job; import with it."""
    command: pulumi.Output[str]
    """The one-line command (secret: it may carry a ping URL)."""
    user: pulumi.Output[str]
    """The NAS user it runs as."""
    description: pulumi.Output[str]
    """How it is found in the UI."""
    schedule: pulumi.Output[dict[str, str]]
    """Cron fields as the NAS stores them, in the NAS's zone."""
    enabled: pulumi.Output[bool]
    """Whether it runs."""
    stdout: pulumi.Output[bool]
    """Hide standard output (true) instead of mailing it."""
    stderr: pulumi.Output[bool]
    """Hide standard error (true) instead of mailing it."""
    target_dataset: pulumi.Output[str]
    """The inventory dataset the command writes into (local; read by the policy pack)."""

    def __init__(
        self,
        resource_name: str,
        *,
        connection: pulumi.Input[Mapping[str, Any]],
        command: pulumi.Input[str],
        user: pulumi.Input[str],
        description: pulumi.Input[str] | None = None,
        schedule: pulumi.Input[Mapping[str, str]] | None = None,
        enabled: pulumi.Input[bool] | None = None,
        stdout: pulumi.Input[bool] | None = None,
        stderr: pulumi.Input[bool] | None = None,
        target_dataset: pulumi.Input[str] | None = None,
        context: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        self._declare(
            resource_name,
            opts,
            connection=connection,
            command=command,
            user=user,
            description=description,
            schedule=schedule,
            enabled=enabled,
            stdout=stdout,
            stderr=stderr,
            target_dataset=target_dataset,
            context=context,
        )
