"""The Azure pack's Python checks on the cases fixtures cannot show: undecided outcomes (a value not
known before apply is never a finding, only a question), port-range edges, and which resource a
policy or a range belongs to. The fixtures (tests/fixtures/rules/CB-AZURE-*) cover the findings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from bot.engine.context import ModuleContext
from bot.engine.model import Resource, Violation
from bot.engine.selection import group_key
from rules.checks import azure_encryption, azure_endpoints
from rules.registry import all_rules, default_controls, load_frameworks
from tests.rules.spec.helpers import terraform

RULES = {rule.id: rule for rule in all_rules()}
AUDITING = RULES["CB-AZURE-018"].check  # a `referrer` condition, and `enabled` on the policy
NSG = {what: RULES[rule_id].check for what, rule_id in  # for_each / skip_if with `covers_port`
       (("ssh", "CB-AZURE-007"), ("rdp", "CB-AZURE-008"), ("database", "CB-AZURE-009"), ("udp", "CB-AZURE-010"))}

NSG_RULE = """
resource "azurerm_network_security_rule" "r" {{
  name                        = "r"
  priority                    = 100
  direction                   = {direction}
  access                      = {access}
  protocol                    = {protocol}
  source_port_range           = "*"
  destination_port_range      = {port}
  source_address_prefix       = {source}
  destination_address_prefix  = "*"
  resource_group_name         = "rg"
  network_security_group_name = "nsg"
}}
"""


def nsg_rule(direction: str = '"Inbound"', access: str = '"Allow"', protocol: str = '"Tcp"', port: str = '"22"',
             source: str = '"*"') -> tuple[Resource, ...]:
    return terraform(NSG_RULE.format(direction=direction, access=access, protocol=protocol, port=port, source=source)
                     + 'variable "x" {\n  type = string\n}\n')


def judge(check: object, resources: Sequence[Resource], type_: str) -> list[Violation]:
    groups: dict[str, list[Resource]] = defaultdict(list)
    for resource in resources:
        groups[group_key(resource)].append(resource)
    context = ModuleContext(groups)
    assert callable(check)
    return [v for r in resources if r.type == type_ for v in check(r, context)]


def outcome(violations: list[Violation]) -> str:
    if not violations:
        return "holds"
    return "undecided" if all(v.undecided for v in violations) else "fails"


def test_an_unknown_part_of_an_open_rule_is_a_question_not_a_finding() -> None:
    rule = "azurerm_network_security_rule"
    assert outcome(judge(NSG["ssh"], nsg_rule(), rule)) == "fails"
    for unknown in ({"port": "var.x"}, {"source": "var.x"}, {"access": "var.x"}, {"protocol": "var.x"},
                    {"direction": "var.x"}):
        assert outcome(judge(NSG["ssh"], nsg_rule(**unknown), rule)) == "undecided", unknown


def test_a_known_safe_part_decides_even_when_another_is_unknown() -> None:
    rule = "azurerm_network_security_rule"
    for safe in ({"access": '"Deny"', "port": "var.x"}, {"direction": '"Outbound"', "source": "var.x"},
                 {"protocol": '"Udp"', "port": "var.x"}, {"port": '"23-25"', "source": "var.x"},
                 {"source": '"10.0.0.0/8"', "port": "var.x"}):
        assert outcome(judge(NSG["ssh"], nsg_rule(**safe), rule)) == "holds", safe


def test_port_ranges_are_read_as_ranges() -> None:
    rule = "azurerm_network_security_rule"
    assert outcome(judge(NSG["ssh"], nsg_rule(port='"20-25"'), rule)) == "fails"
    assert outcome(judge(NSG["ssh"], nsg_rule(port='"25-20"'), rule)) == "fails"
    assert outcome(judge(NSG["ssh"], nsg_rule(port='"23-3388"'), rule)) == "holds"
    assert outcome(judge(NSG["rdp"], nsg_rule(port='"23-3389"'), rule)) == "fails"
    assert outcome(judge(NSG["rdp"], nsg_rule(port='"*"'), rule)) == "fails"
    assert outcome(judge(NSG["database"], nsg_rule(port='"5000-5500"'), rule)) == "fails"
    assert outcome(judge(NSG["database"], nsg_rule(port='"80"'), rule)) == "holds"
    assert outcome(judge(NSG["rdp"], nsg_rule(port='"not-a-port"'), rule)) == "holds"


def test_a_bare_address_and_service_tags_are_not_the_internet() -> None:
    rule = "azurerm_network_security_rule"
    for source in ('"0.0.0.0"', '"VirtualNetwork"', '"AzureLoadBalancer"', '"10.0.0.0/8"'):
        assert outcome(judge(NSG["ssh"], nsg_rule(source=source), rule)) == "holds", source
    for source in ('"*"', '"internet"', '"ANY"', '"0.0.0.0/0"', '"::/0"'):
        assert outcome(judge(NSG["ssh"], nsg_rule(source=source), rule)) == "fails", source


def test_udp_counts_any_port_and_the_message_names_the_source() -> None:
    violations = judge(NSG["udp"], nsg_rule(protocol='"Udp"', port='"53"'), "azurerm_network_security_rule")
    assert [v.message for v in violations] == [
        'Network security group allows UDP from the internet (source_address_prefix = "*").']


DYNAMIC = """
resource "azurerm_network_security_group" "g" {
  name                = "g"
  location            = "westeurope"
  resource_group_name = "rg"

  dynamic "security_rule" {
    for_each = %s
    content {
      name                       = security_rule.key
      priority                   = 100
      direction                  = "Inbound"
      access                     = "Allow"
      protocol                   = "Tcp"
      source_port_range          = "*"
      destination_port_range     = "22"
      source_address_prefix      = "*"
      destination_address_prefix = "*"
    }
  }
}

variable "rules" {
  type = map(string)
}
"""


def test_a_dynamic_block_generates_rules_only_when_its_for_each_is_not_empty() -> None:
    group = "azurerm_network_security_group"
    assert outcome(judge(NSG["ssh"], terraform(DYNAMIC % "var.rules"), group)) == "undecided"
    assert outcome(judge(NSG["ssh"], terraform(DYNAMIC % "{}"), group)) == "holds"
    assert outcome(judge(NSG["ssh"], terraform(DYNAMIC % '{ a = "b" }'), group)) == "fails"


SERVERS = """
resource "azurerm_mssql_server" "a" {
  name    = "a"
  version = "12.0"
}

resource "azurerm_mssql_server" "b" {
  name    = "b"
  version = "12.0"
}

resource "azurerm_mssql_server_extended_auditing_policy" "a" {
  server_id = azurerm_mssql_server.a.id
}
"""


def test_a_policy_audits_only_the_server_it_names() -> None:
    violations = judge(AUDITING, terraform(SERVERS), "azurerm_mssql_server")
    assert [(v.line, v.undecided) for v in violations] == [(6, False)]


def test_an_inline_auditing_block_of_azurerm_2_counts() -> None:
    resources = terraform('resource "azurerm_mssql_server" "a" {\n  extended_auditing_policy {\n'
                          '    retention_in_days = 90\n  }\n}\n')
    assert judge(AUDITING, resources, "azurerm_mssql_server") == []


def test_an_unknown_policy_switch_is_a_question() -> None:
    resources = terraform(SERVERS.replace("azurerm_mssql_server.a.id\n", "azurerm_mssql_server.a.id\n  enabled = var.x\n")
                          + 'variable "x" {\n  type = bool\n}\n')
    policy = judge(AUDITING, resources, "azurerm_mssql_server_extended_auditing_policy")
    assert outcome(policy) == "undecided"


AKS = """
resource "azurerm_kubernetes_cluster" "k" {
  name       = "k"
  dns_prefix = "k"
  %s
}

variable "ranges" {
  type = list(string)
}
"""


def test_aks_ranges_unknown_or_partly_unknown_are_questions_unless_a_known_one_is_open() -> None:
    kind = "azurerm_kubernetes_cluster"
    check = azure_endpoints.check_aks_api_server
    assert outcome(judge(check, terraform(AKS % "api_server_access_profile {\n authorized_ip_ranges = var.ranges\n}"),
                         kind)) == "undecided"
    assert outcome(judge(check, terraform(AKS % 'api_server_authorized_ip_ranges = ["0.0.0.0/0", var.ranges[0]]'),
                         kind)) == "fails"
    assert outcome(judge(check, terraform(AKS % 'api_server_authorized_ip_ranges = ["10.0.0.0/8"]'), kind)) == "holds"
    generated = 'dynamic "api_server_access_profile" {\n for_each = var.ranges\n content {}\n}'
    assert outcome(judge(check, terraform(AKS % generated), kind)) == "undecided"


COSMOS = """
resource "azurerm_cosmosdb_account" "c" {
  name       = "c"
  offer_type = "Standard"
  %s
}

variable "vnet" {
  type = bool
}
"""


def test_cosmos_datacenter_address_and_unknown_filters() -> None:
    kind = "azurerm_cosmosdb_account"
    check = RULES["CB-AZURE-033"].check  # `split` and `not_empty` over the filter
    assert outcome(judge(check, terraform(COSMOS % 'ip_range_filter = ["0.0.0.0"]'), kind)) == "holds"
    assert outcome(judge(check, terraform(COSMOS % 'ip_range_filter = ","'), kind)) == "fails"
    assert outcome(judge(check, terraform(COSMOS % 'ip_range_filter = "10.0.0.0/8"\n  is_virtual_network_filter_enabled = '
                                          'var.vnet'), kind)) == "holds"  # restricted whichever the vnet filter
    assert outcome(judge(check, terraform(COSMOS % 'ip_range_filter = ""'), kind)) == "fails"
    assert outcome(judge(check, terraform(COSMOS % 'ip_range_filter = "10.0.0.0/8, 0.0.0.0/0"'), kind)) == "fails"
    assert outcome(judge(check, terraform(COSMOS % "is_virtual_network_filter_enabled = var.vnet"), kind)) == "undecided"


def test_the_cis_azure_framework_is_shipped_and_every_azure_rule_has_controls() -> None:
    frameworks = {f.key: f for f in load_frameworks()}
    cis = frameworks["cis-azure"]
    assert cis.version == "v2.1.0"
    azure = [rule for rule in all_rules() if rule.id.startswith("CB-AZURE-")]
    assert len(azure) >= 25
    controls = default_controls()
    for rule in azure:
        assert {"hipaa", "pci-dss", "soc2"} & set(controls[rule.id]), rule.id
        assert rule.sources == frozenset({"terraform"}), rule.id
    automated = {c.id for c in cis.controls if c.coverage == "automated"}
    enforced = {c for rule in azure for c in controls[rule.id].get("cis-azure", ())}
    assert automated == enforced


DISK = """
resource "azurerm_managed_disk" "d" {
  name = "d"
  %s
}

variable "tags" {
  type = map(string)
}
"""


def test_regulated_data_is_judged_by_its_tags_and_unknown_tags_are_a_question() -> None:
    kind = "azurerm_managed_disk"
    check = azure_encryption.check_regulated_cmk
    assert outcome(judge(check, terraform(DISK % 'tags = { DataClassification = "phi" }'), kind)) == "fails"
    assert outcome(judge(check, terraform(DISK % 'tags = { Classification = "Public" }'), kind)) == "holds"
    assert outcome(judge(check, terraform(DISK % "tags = var.tags"), kind)) == "undecided"
    assert outcome(judge(check, terraform(DISK % "tags = { DataClassification = var.tags.x }"), kind)) == "undecided"
    encrypted = 'tags = { DataClassification = "phi" }\n  encryption_settings {\n    enabled = true\n  }'
    assert outcome(judge(check, terraform(DISK % encrypted), kind)) == "holds"
    switched_off = encrypted.replace("enabled = true", "enabled = false")
    assert outcome(judge(check, terraform(DISK % switched_off), kind)) == "fails"
