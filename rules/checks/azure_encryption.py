"""Customer-managed keys for resources whose tags say they hold regulated data.

Azure encrypts managed disks, storage accounts and SQL databases at rest by default with keys
Microsoft manages, so a resource without a customer-managed key is not unencrypted data, and
demanding one everywhere would cry wolf. What a platform key does not give is custody: the
organisation cannot revoke it, rotate it on its own schedule or prove who could use it, which is
what PCI DSS 3.6 and CIS (Level 2) ask for data that matters. The configuration says which data
matters only through tags (`DataClassification = "PHI"`, `classification = "pci"`...), so only
resources tagged with a regulated class are judged, as CB-AWS-009 does for S3 buckets.

The key is set in different places: a disk encryption set (`disk_encryption_set_id`, or
`secure_vm_disk_encryption_set_id` for confidential VMs) on a disk or a VM's `os_disk`, Azure Disk
Encryption (`encryption_settings`) on a managed disk, a `customer_managed_key` block or an
`azurerm_storage_account_customer_managed_key` on a storage account, and
`transparent_data_encryption_key_vault_key_id` or an `azurerm_mssql_server_transparent_data_encryption`
with a key on a SQL server. A key written as a value not known before apply counts as set.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.engine.model import Node, Resource, Unknown, Violation
from bot.engine.rule import RuleContext
from rules._support import truthy

_CLASSIFICATION_KEYS = frozenset({"dataclassification", "classification", "datasensitivity", "sensitivity"})
_REGULATED_CLASSES = frozenset({"phi", "ephi", "hipaa", "pci", "pcidss", "cardholder", "restricted", "confidential"})
_DISK_KEYS = ("disk_encryption_set_id", "secure_vm_disk_encryption_set_id")
_VIRTUAL_MACHINES = frozenset({
    "azurerm_linux_virtual_machine", "azurerm_windows_virtual_machine",
    "azurerm_linux_virtual_machine_scale_set", "azurerm_windows_virtual_machine_scale_set",
})


def _set(node: Node | None) -> bool:
    """Present with a value (an Unknown counts: set to something we cannot see)."""
    return node is not None and node.value not in (None, "")


def _classification(resource: Resource) -> tuple[str | None, bool]:
    """The regulated class the tags name ("PHI"), and whether the tags are not known before apply."""
    tags = resource.body.get("tags")
    if tags is None:
        return None, False
    if isinstance(tags.value, Unknown):
        return None, True
    unknown = False
    for key, node in tags.items():
        if re.sub(r"[^a-z]", "", key.lower()) not in _CLASSIFICATION_KEYS:
            continue
        if isinstance(node.value, Unknown):
            unknown = True
        elif isinstance(node.value, str) and re.sub(r"[^a-z]", "", node.value.lower()) in _REGULATED_CLASSES:
            return node.value, False
    return None, unknown


def _referred_with_key(resource: Resource, ctx: RuleContext, type_: str, *keys: str) -> bool:
    return any(other.exists and any(_set(other.body.get(k)) for k in keys) for other in ctx.referrers(resource, type_))


def _missing_key(resource: Resource, ctx: RuleContext) -> tuple[Node, str] | None:
    """Where the customer-managed key should be and what to set; None when one is configured."""
    body = resource.body
    if resource.type == "azurerm_managed_disk":
        if any(_set(body.get(k)) for k in _DISK_KEYS):
            return None
        settings = body.get("encryption_settings")
        if settings is not None and all(truthy(b.get("enabled")) is not False for b in settings.children()):
            return None  # Azure Disk Encryption with keys in the customer's Key Vault
        return body, "`disk_encryption_set_id` (a disk encryption set with a customer-managed key)"
    if resource.type in _VIRTUAL_MACHINES:
        disks = body.get("os_disk")
        for disk in disks.children() if disks is not None else []:
            if not any(_set(disk.get(k)) for k in _DISK_KEYS):
                return disk, "`os_disk.disk_encryption_set_id` (a disk encryption set with a customer-managed key)"
        return None
    if resource.type == "azurerm_storage_account":
        if _set(body.get("customer_managed_key")) or ctx.referrers(resource, "azurerm_storage_account_customer_managed_key"):
            return None
        return body, "a `customer_managed_key` block (or an azurerm_storage_account_customer_managed_key)"
    if resource.type == "azurerm_mssql_server":
        if _set(body.get("transparent_data_encryption_key_vault_key_id")) or _referred_with_key(
                resource, ctx, "azurerm_mssql_server_transparent_data_encryption", "key_vault_key_id",
                "managed_hsm_key_id"):
            return None
        return body, "`transparent_data_encryption_key_vault_key_id` (a TDE protector in Key Vault)"
    return None


def check_regulated_cmk(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """CB-AZURE-034: resources tagged as holding regulated data use a customer-managed key."""
    missing = _missing_key(resource, ctx)
    if missing is None:
        return
    node, what = missing
    regulated, unknown = _classification(resource)
    line = resource.line if node is resource.body else node.line
    if regulated is not None:
        yield Violation(
            message=f"Resource tagged as holding {regulated} data is encrypted with platform-managed keys only: "
                    f"set {what}.",
            line=line, end_line=line, key="customer_managed_key",
        )
    elif unknown:
        yield Violation(
            message="Cannot tell: the data classification tag is not known before apply; if it names regulated "
                    f"data, set {what}.",
            line=line, end_line=line, key="customer_managed_key", undecided=True,
        )
