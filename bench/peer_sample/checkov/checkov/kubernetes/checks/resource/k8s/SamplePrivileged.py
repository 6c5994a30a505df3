"""Sample check declaration: the scorer reads `id` (never runs it)."""

id = "CKV_K8S_16"
