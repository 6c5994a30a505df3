"""Sample check declaration: the scorer reads `id` and `supported_resources` (never runs it)."""

id = "CKV_AWS_42"
supported_resources = ("aws_efs_file_system", "aws_efs_access_point")
