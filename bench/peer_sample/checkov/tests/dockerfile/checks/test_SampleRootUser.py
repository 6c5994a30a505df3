"""Labels of example_SampleRootUser: a Dockerfile as `/path.INSTRUCTION` (read, never run)."""

import os


def test() -> None:
    current_dir = os.path.dirname(os.path.realpath(__file__))
    test_files_dir = current_dir + "/example_SampleRootUser"
    passing_resources = {"/success/Dockerfile.USER"}
    failing_resources = {"/failure/Dockerfile.USER"}
    assert test_files_dir and passing_resources and failing_resources
