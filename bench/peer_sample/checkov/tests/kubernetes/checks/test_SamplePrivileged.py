"""The example files are labelled by name (`-PASSED`, `-FAILED`); the test only counts (read, never run)."""

import os


def test_summary() -> None:
    current_dir = os.path.dirname(os.path.realpath(__file__))
    test_files_dir = current_dir + "/example_SamplePrivileged"
    summary = {"passed": 1, "failed": 1}
    assert test_files_dir and summary["passed"] == 1 and summary["failed"] == 1
