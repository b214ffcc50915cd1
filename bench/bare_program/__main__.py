"""The floor for the engine benchmark: the same resources as the program, registered with no inventory,
no plan and no components (replayed from a recording of the program under mocks)."""

import inspect
import json
import os

import pulumi
import pulumi_kubernetes as k8s

from providers import s3_compatible
from providers.generated import GeneratedSecret
from providers.truenas import resources as truenas

with open(os.environ["HLB_BENCH_RECORDING"]) as recording:
    rows = json.load(recording)
providers: dict[str, k8s.Provider] = {}
truenas_credentials: dict[str, truenas.CloudCredential] = {}
for row in rows:
    typ, name, inputs = row["type"], row["name"], row["inputs"]
    if typ == "pulumi:providers:kubernetes":
        providers[name] = k8s.Provider(name, render_yaml_to_directory=inputs["renderYamlToDirectory"])
    elif typ.startswith("kubernetes:"):
        opts = pulumi.ResourceOptions(provider=providers[row["provider"].rsplit("::", 1)[-1]])
        version, kind = typ.split(":", 1)[1].rsplit(":", 1)
        typed = {"core/v1:PersistentVolumeClaim": k8s.core.v1.PersistentVolumeClaim,
                 "batch/v1:CronJob": k8s.batch.v1.CronJob}.get(f"{version}:{kind}")
        if typed is not None:
            typed(name, metadata=inputs["metadata"], spec=inputs.get("spec"), opts=opts)
        else:
            k8s.apiextensions.CustomResource(name, api_version=version, kind=kind, metadata=inputs["metadata"],
                                             spec=inputs.get("spec"), opts=opts)
    elif typ.endswith("secrets:GeneratedSecret"):
        GeneratedSecret(name)
    elif typ.endswith("s3compatible:Bucket"):
        keep = {k: inputs[k] for k in ("bucket", "endpoint", "region", "capabilities", "versioning", "lifecycle",
                                       "lock_days", "tags")}
        s3_compatible.Bucket(name, credentials={"access_key_id": "bench", "secret_access_key": "bench"}, **keep)
    elif typ.startswith("pulumi-python:dynamic/truenas:"):
        cls = getattr(truenas, typ.rsplit(":", 1)[-1])
        accepted = set(inspect.signature(cls.__init__).parameters) - {"self", "resource_name", "opts"}
        kwargs = {k: v for k, v in inputs.items() if k in accepted and v is not None}
        if isinstance(kwargs.get("credentials"), str):  # the mock id of the CloudCredential: wire its real id
            kwargs["credentials"] = truenas_credentials[kwargs["credentials"].removesuffix("-id")].id
        created = cls(name, **kwargs)
        if isinstance(created, truenas.CloudCredential):
            truenas_credentials[name] = created
