"""Labels of example_SampleEBSEncrypted: CloudFormation resources as `Type.LogicalId` (read, never run)."""

import os


def test_summary() -> None:
    current_dir = os.path.dirname(os.path.realpath(__file__))
    test_files_dir = current_dir + "/example_SampleEBSEncrypted"
    passing_resources = {"AWS::EC2::Volume.Encrypted"}
    failing_resources = {"AWS::EC2::Volume.Plain"}
    assert test_files_dir and passing_resources and failing_resources
