"""homelab-backups: load the inventory, compile the plan, build the components, export the runbook contract."""

import pulumi

from components.estate import build_estate
from plan import build_plan
from runbook.contract import runbook_contract
from runbook.proxmox import proxmox_runbook
from stack.config import load_stack_inventory
from stack.credentials import require_credentials
from stack.runtime import tune_for_large_graphs

tune_for_large_graphs()
inventory = load_stack_inventory()
plan = build_plan(inventory)
require_credentials(inventory, plan)
estate = build_estate(inventory, plan)

pulumi.export("runbook", runbook_contract(inventory, plan))
pulumi.export("secrets", pulumi.Output.secret(estate.secrets()))
pulumi.export("credentials", pulumi.Output.secret(estate.credentials))
pulumi.export("reader_credentials", pulumi.Output.secret(estate.reader_credentials))
pulumi.export("cnpg_cluster_plugins", estate.cluster_plugins)
pulumi.export("cnpg_cluster_ca_sources", estate.cluster_ca_sources)
if plan.proxmox is not None:
    pulumi.export("proxmox", proxmox_runbook(inventory, plan.proxmox))
if estate.hosts:
    pulumi.export("hosts", {name: host.files for name, host in estate.hosts.items()})
    pulumi.export("host_secret_files",
                  pulumi.Output.secret({name: host.secret_files for name, host in estate.hosts.items()}))
