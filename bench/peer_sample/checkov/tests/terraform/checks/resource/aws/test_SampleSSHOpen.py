"""Labels of example_SampleSSHOpen (read, never run)."""


def test() -> None:
    test_files_dir = "/example_SampleSSHOpen"
    passing_resources = {
        "aws_security_group.rdp_open",  # passes the SSH check, but the RDP check also judges it: skipped
        "aws_security_group.private",
    }
    failing_resources = {"aws_security_group.ssh_open"}
    assert test_files_dir and passing_resources and failing_resources
