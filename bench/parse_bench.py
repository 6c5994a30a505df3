"""How fast `.tf` files are read: lines per second of the hcl2 reader and the tree-sitter reader.

    python -m bench.parse_bench [--runs N] [--modules N] [FOLDER ...]

Two corpora: a generated one (`--modules` modules of realistic Terraform: variables, locals with
conditionals and `for` expressions, resources with nested and dynamic blocks, heredoc policies,
templates, comments) and the repository's own `.tf` files; FOLDERs (checked-out modules, say)
add a third. Each run reads a whole corpus once with each reader, the two interleaved so that
a machine busy with other work slows both alike; figures are the median of the runs, in CPU
seconds of this process (so other processes on the machine count as little as they can), and
the ratio (tree-sitter / hcl2) comes last on each line.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bot.engine.parsers.terraform.module import read_hcl_file, read_hcl_file_hcl2

ROOT = Path(__file__).resolve().parents[1]
SKIPPED_DIRS = {".git", ".venv", "node_modules", ".cache", "__pycache__"}

MODULE = '''# Module {i}: a service with its network, storage and access.
variable "name_{i}" {{
  type        = string
  default     = "svc-{i}"
  description = "Name prefix"
}}

variable "rules_{i}" {{
  type = list(object({{ port = number, cidr = string }}))
  default = [
    {{ port = 443, cidr = "10.0.0.0/8" }},
    {{ port = 80, cidr = "0.0.0.0/0" }},
  ]
}}

locals {{
  tags_{i} = merge(var.common_tags, {{
    Name        = "${{var.name_{i}}}-{i}"
    Environment = var.env == "prod" ? "production" : "staging"
  }})
  ports_{i} = [for r in var.rules_{i} : r.port if r.port != 80]
  by_cidr_{i} = {{ for r in var.rules_{i} : r.cidr => r.port... }}
}}

resource "aws_s3_bucket" "data_{i}" {{
  bucket = "${{local.tags_{i}["Name"]}}-data"
  tags   = local.tags_{i}

  lifecycle {{
    prevent_destroy = true
    ignore_changes  = [tags["Updated"]]
  }}
}}

resource "aws_s3_bucket_server_side_encryption_configuration" "data_{i}" {{
  bucket = aws_s3_bucket.data_{i}.id
  rule {{
    apply_server_side_encryption_by_default {{
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.data_{i}.arn
    }}
  }}
}}

resource "aws_security_group" "svc_{i}" {{
  name   = "${{var.name_{i}}}-sg"
  vpc_id = var.vpc_id

  dynamic "ingress" {{
    for_each = var.rules_{i}
    content {{
      from_port   = ingress.value.port
      to_port     = ingress.value.port
      protocol    = "tcp"
      cidr_blocks = [ingress.value.cidr] # one rule per port
    }}
  }}
}}

resource "aws_iam_policy" "svc_{i}" {{
  name   = "svc-{i}"
  policy = <<-EOT
    {{
      "Version": "2012-10-17",
      "Statement": [{{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "${{aws_s3_bucket.data_{i}.arn}}/*"}}]
    }}
  EOT
}}

resource "aws_instance" "svc_{i}" {{
  count         = var.enabled ? length(var.azs) : 0
  ami           = data.aws_ami.base.id
  instance_type = lookup(var.sizes, var.env, "t3.micro")
  subnet_id     = element(var.subnets, count.index)
  user_data     = templatefile("${{path.module}}/init.sh", {{ name = var.name_{i}, index = count.index }})

  metadata_options {{
    http_tokens   = "required"
    http_endpoint = "enabled"
  }}

  root_block_device {{
    encrypted   = true
    volume_size = max(20, var.disk_size)
  }}
}}

output "bucket_{i}" {{
  value = aws_s3_bucket.data_{i}.arn
}}
'''


def generated(modules: int) -> list[str]:
    return [MODULE.format(i=i) for i in range(modules)]


def files_under(folders: Sequence[Path]) -> list[str]:
    texts = []
    for folder in folders:
        for path in sorted(folder.rglob("*.tf")):
            if path.is_file() and not SKIPPED_DIRS & set(path.relative_to(folder).parts):
                texts.append(path.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n"))
    return texts


def _seconds(read: Callable[[str, str], Any], texts: Sequence[str]) -> float:
    started = time.process_time()
    for text in texts:
        read("bench.tf", text)
    return time.process_time() - started


def measure(texts: Sequence[str], runs: int) -> tuple[float, float]:
    """Median lines per second of (hcl2, tree-sitter) over `runs` interleaved runs."""
    lines = sum(text.count("\n") + 1 for text in texts)
    old: list[float] = []
    new: list[float] = []
    _seconds(read_hcl_file, texts[:1])  # the parser's first use loads its language
    for run in range(runs):
        pair = [(old, read_hcl_file_hcl2), (new, read_hcl_file)]
        for times, read in pair if run % 2 == 0 else reversed(pair):
            times.append(_seconds(read, texts))
    return lines / max(statistics.median(old), 1e-9), lines / max(statistics.median(new), 1e-9)


def line(name: str, texts: Sequence[str], runs: int) -> str:
    old, new = measure(texts, runs)
    lines = sum(text.count("\n") + 1 for text in texts)
    return (f"{name}: {len(texts)} files, {lines:,} lines; hcl2 {old:,.0f} lines/s, "
            f"tree-sitter {new:,.0f} lines/s; ratio {new / old:.2f}x")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--modules", type=int, default=200)
    args = parser.parse_args(argv)
    corpora = [("generated", generated(args.modules)), ("repository fixtures", files_under([ROOT / "tests", ROOT / "bot"]))]
    if args.folders:
        corpora.append(("folders", files_under(args.folders)))
    for name, texts in corpora:
        if texts:
            print(line(name, texts, args.runs), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
