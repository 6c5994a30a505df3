"""Sample check declaration: the scorer reads `id` and `supported_resources` (never runs it)."""

id = "CKV_AWS_3"
supported_resources = ("AWS::EC2::Volume",)
