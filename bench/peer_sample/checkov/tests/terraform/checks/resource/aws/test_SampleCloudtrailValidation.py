"""Labels as conf dicts in Checkov's parsed form, asserted against a CheckResult (read, never run)."""

from enum import Enum
from typing import Any


class CheckResult(Enum):
    PASSED = "PASSED"
    FAILED = "FAILED"


def scan_resource_conf(conf: dict[str, Any]) -> CheckResult:
    return CheckResult.PASSED if conf.get("enable_log_file_validation") == [True] else CheckResult.FAILED


def test_failure() -> None:
    resource_conf = {"name": ["trail"], "s3_bucket_name": ["${aws_s3_bucket.logs.id}"],
                     "event_selector": [{"read_write_type": ["All"]}]}
    assert scan_resource_conf(conf=resource_conf) == CheckResult.FAILED


def test_success() -> None:
    resource_conf = {"name": ["trail"], "s3_bucket_name": ["${aws_s3_bucket.logs.id}"],
                     "enable_log_file_validation": [True]}
    assert scan_resource_conf(conf=resource_conf) == CheckResult.PASSED
