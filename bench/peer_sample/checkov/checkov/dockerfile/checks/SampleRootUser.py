"""Sample check declaration: Dockerfile checks name instructions, not resource types (never run)."""

id = "CKV_DOCKER_8"
supported_instructions = ("USER",)
