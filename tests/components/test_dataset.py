"""components/dataset.py on the prod stack under mocks: one ProtectedDataset per dataset carrying the declared facts
the stack policies read (tier, source kind, size, restore speed per copy), and the parent of what protects it."""

from __future__ import annotations

from tests.components.harness import of_type, stack_plan

PROTECTION = ("volsync:VolSyncBackup", "truenas:TruenasProtection", "pgbackrest:PgBackRestBackup",
              "exports:ExportJob", "kopiur:KopiurBackup")
"""The components that protect one dataset each; every one sits under its dataset's ProtectedDataset."""
KIND = {"volsync:VolSyncBackup": "pvc", "truenas:TruenasProtection": "truenas",
        "pgbackrest:PgBackRestBackup": "postgres", "exports:ExportJob": "export", "kopiur:KopiurBackup": "pvc"}


def test_one_protected_dataset_per_unit_with_its_declared_facts(prod):
    registered, _ = prod
    found = {r.name: r for r in of_type(registered, "inventory:ProtectedDataset")}
    units = {u.dataset: u for u in stack_plan("prod").units}
    assert len(found) == len(of_type(registered, "inventory:ProtectedDataset")), "one component per dataset"
    assert set(found) == set(units)
    for name, unit in units.items():
        inputs = found[name].inputs
        assert inputs["dataset"] == name and inputs["tier"] == unit.tier and inputs["source"] == unit.kind, name
        assert inputs["size_gb"] == unit.size_gb, name
        assert inputs["restore_mbps"] == {c.destination: c.restore_mbps for c in unit.copies}, name
        assert inputs.get("offsite_override_reason") == unit.offsite_override_reason, name


def test_every_protecting_component_is_a_child_of_its_dataset(prod):
    registered, _ = prod
    datasets = {r.urn: r for r in of_type(registered, "inventory:ProtectedDataset")}
    children: dict[str, list[str]] = {}
    for suffix in PROTECTION:
        for component in of_type(registered, suffix):
            parent = datasets.get(component.parent)
            assert parent is not None, f"{component.urn} is not under a ProtectedDataset"
            assert parent.inputs["source"] == KIND[suffix], component.urn
            children.setdefault(parent.name, []).append(component.name)
    assert children == {name: [name] for name in children}
    assert set(children) == {r.name for r in datasets.values()}, "a dataset that nothing protects"
