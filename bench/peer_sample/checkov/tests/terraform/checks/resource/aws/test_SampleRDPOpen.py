"""Labels of example_SampleRDPOpen (read, never run)."""


def test() -> None:
    test_files_dir = "/example_SampleRDPOpen"
    passing_resources: set[str] = set()
    failing_resources = {"aws_security_group.rdp_open"}
    assert test_files_dir and failing_resources and not passing_resources
