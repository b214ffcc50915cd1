"""The declared estate: datasets, tiers and destinations (pure Python, no Pulumi)."""

from inventory.load import InventoryError, load_inventory
from inventory.models import Dataset, Inventory

__all__ = ["Dataset", "Inventory", "InventoryError", "load_inventory"]
