"""Make docs/report-page.png: one review against the fake GitHub, its report page in chromium.

    python -m tests.e2e.report_screenshot [OUTPUT]      (default docs/report-page.png)

A script, not a test: the tests write their screenshots under pytest's temporary folder only."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tests.browser import open_page as browser_page
from tests.e2e.serving import REPO_ROOT, completed_run, free_port, serve
from tests.fakegithub import FakeGitHub

VOLUME = """\
resource "aws_ebs_volume" "data" {
  availability_zone = "eu-west-1a"
  size              = 10
  encrypted         = false
}

resource "aws_db_instance" "records" {
  engine              = "postgres"
  instance_class      = "db.t3.micro"
  publicly_accessible = true
  storage_encrypted   = true
}
"""


def main(output: Path) -> None:
    with FakeGitHub() as fake, tempfile.TemporaryDirectory() as folder:
        repo = fake.create_repo("octo-org", "infra", files={"README.md": "infra\n"})
        repo.commit("feature", {"infra/main.tf": VOLUME}, "add storage")
        number = repo.open_pull_request(head="feature", title="Add storage")
        port = free_port()
        with serve(fake, Path(folder) / "server.log", env={"PUBLIC_URL": f"http://127.0.0.1:{port}"}, port=port) as app:
            app.deliver(*fake.webhook("pull_request.opened", repo, number))
            run = completed_run(fake, repo, repo.branch_sha("feature"))
            with browser_page() as page:
                page.goto(run["details_url"])
                page.screenshot(path=str(output))  # the first screen: what a reviewer sees on opening it
    print(f"wrote {output} ({output.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO_ROOT / "docs" / "report-page.png")
