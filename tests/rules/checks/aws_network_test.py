"""Default security groups and network ACL entries."""

from __future__ import annotations

from rules.checks import aws_network
from tests.rules.checks.helpers import lines, template, terraform


def _acl_rule(name: str, number: int, action: str, cidr: str = "0.0.0.0/0", ports: tuple[int, int] = (22, 22),
              protocol: str = "tcp", egress: str = "false") -> str:
    return f'''
        resource "aws_network_acl_rule" "{name}" {{
          network_acl_id = aws_network_acl.a.id
          rule_number    = {number}
          egress         = {egress}
          protocol       = "{protocol}"
          rule_action    = "{action}"
          cidr_block     = "{cidr}"
          from_port      = {ports[0]}
          to_port        = {ports[1]}
        }}
    '''


ACL = 'resource "aws_network_acl" "a" {\n  vpc_id = "vpc-1"\n}\n'


def test_a_lower_numbered_deny_of_the_same_family_drops_the_port_first() -> None:
    resources = terraform(ACL + _acl_rule("deny", 10, "deny") + _acl_rule("allow", 20, "allow"))
    assert lines(aws_network.nacl_admin_open, resources) == []


def test_a_deny_after_the_allow_or_of_the_other_family_does_not() -> None:
    later = terraform(ACL + _acl_rule("allow", 10, "allow") + _acl_rule("deny", 20, "deny"))
    ipv6_deny = terraform(ACL + _acl_rule("deny", 10, "deny", cidr="::/0") + _acl_rule("allow", 20, "allow"))
    assert len(lines(aws_network.nacl_admin_open, later)) == 1
    assert len(lines(aws_network.nacl_admin_open, ipv6_deny)) == 1


def test_udp_rdp_and_all_protocols_count_icmp_does_not() -> None:
    udp = terraform(ACL + _acl_rule("udp", 10, "allow", ports=(3389, 3389), protocol="udp"))
    icmp = terraform(ACL + _acl_rule("icmp", 10, "allow", ports=(0, 0), protocol="icmp"))
    everything = terraform(ACL + _acl_rule("all", 10, "allow", ports=(0, 0), protocol="-1"))
    assert len(lines(aws_network.nacl_admin_open, udp)) == 1
    assert lines(aws_network.nacl_admin_open, icmp) == []
    assert len(lines(aws_network.nacl_admin_open, everything)) == 1


def test_egress_entries_are_not_ingress() -> None:
    resources = terraform(ACL + _acl_rule("out", 10, "allow", egress="true"))
    assert lines(aws_network.nacl_admin_open, resources) == []


def test_a_default_group_with_empty_rule_lists_allows_nothing() -> None:
    resources = terraform('''
        resource "aws_default_security_group" "d" {
          vpc_id  = "vpc-1"
          ingress = []
          egress  = []
        }
    ''')
    assert lines(aws_network.default_security_group_open, resources) == []


def test_cloudformation_deny_entries_of_the_same_acl_are_evaluated_first() -> None:
    resources = template('''
        Resources:
          Deny:
            Type: AWS::EC2::NetworkAclEntry
            Properties:
              NetworkAclId: !Ref Acl
              RuleNumber: 10
              Protocol: -1
              RuleAction: deny
              CidrBlock: 0.0.0.0/0
          Allow:
            Type: AWS::EC2::NetworkAclEntry
            Properties:
              NetworkAclId: !Ref Acl
              RuleNumber: 20
              Protocol: 6
              RuleAction: allow
              CidrBlock: 0.0.0.0/0
              PortRange: {From: 22, To: 22}
          OtherAcl:
            Type: AWS::EC2::NetworkAclEntry
            Properties:
              NetworkAclId: !Ref Other
              RuleNumber: 20
              Protocol: 6
              RuleAction: allow
              CidrBlock: 0.0.0.0/0
              PortRange: {From: 22, To: 22}
    ''')
    assert lines(aws_network.nacl_admin_open, resources) == [27]
