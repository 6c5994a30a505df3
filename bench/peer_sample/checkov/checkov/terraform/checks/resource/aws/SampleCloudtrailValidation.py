"""Sample check declaration: the scorer reads `id` and `supported_resources` (never runs it)."""

id = "CKV_AWS_36"
supported_resources = ("aws_cloudtrail",)
