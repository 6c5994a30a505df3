"""Labels of example_SampleEFSEncrypted, in the shape of a Checkov unit test (read, never run)."""

from pathlib import Path


def test() -> None:
    test_files_dir = Path(__file__).parent / "example_SampleEFSEncrypted"
    passing_resources = {
        "aws_efs_file_system.enabled",
        "aws_efs_file_system.kms_only",  # this peer counts a KMS key as encryption: our false positive
        "aws_efs_access_point.root",  # a type CB-AWS-016 does not judge: skipped
    }
    failing_resources = {
        "aws_efs_file_system.default",
        "aws_efs_file_system.disabled",
        "aws_efs_file_system.unknown",  # not known before apply: we do not report it, a false negative
    }
    assert test_files_dir and passing_resources and failing_resources
