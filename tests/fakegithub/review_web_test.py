"""The fake's "Files changed" page: threads under their lines with the diff around them, comment
Markdown rendered as GitHub does (suggestions as "Suggested change"), and nothing from a comment
or a file name ever reaching the page as markup."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.fakegithub import FakeGitHub, Repository
from tests.fakegithub.plugin import checked_fake
from tests.fakegithub.review_web import files_url

pytestmark = pytest.mark.timeout(60)

NUMBERED = "".join(f"line {n} = {n}\n" for n in range(1, 31))


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with checked_fake() as running:
        yield running


def pull(fake: FakeGitHub, files: dict[str, str | None], base: dict[str, str] | None = None) -> tuple[Repository, int]:
    repo = fake.create_repo("octo-org", "web", files={"README.md": "web\n", **(base or {})})
    repo.commit("feature", files, "change")
    return repo, repo.open_pull_request(head="feature", title="Change <things>")


def page(fake: FakeGitHub, repo: Repository, number: int) -> str:
    response = httpx.get(files_url(fake, repo, number), timeout=10)
    assert response.status_code == 200 and response.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    return response.text


def thread_html(text: str, comment_id: int) -> str:
    match = re.search(rf"<div class='thread' id='discussion_r{comment_id}'.*?</div></div></div>", text, re.DOTALL)
    assert match is not None, f"no thread {comment_id}"
    return match.group(0)


def rows(text: str) -> list[str]:
    """The diff rows of the page's files, as `old|new|kind` (and `hunk`, `gap`, `thread`)."""
    table = text.split("<table class='diff'>", 1)[1]
    out = []
    for row in re.finditer(r"<tr class='(line (\w+)' data-old='(\d*)' data-new='(\d*)|hunk|gap|thread-row)", table):
        out.append(f"{row.group(3)}|{row.group(4)}|{row.group(2)}" if row.group(2) else row.group(1))
    return out


def test_a_suggestion_shows_the_lines_it_replaces_and_the_new_ones(fake: FakeGitHub) -> None:
    changed = NUMBERED.replace("line 15 = 15\n", "line 15 = fifteen\n")
    repo, number = pull(fake, {"numbers.tf": changed}, base={"numbers.tf": NUMBERED})
    comment = repo.add_review_comment(number, "numbers.tf", 15, "Use a number:\n\n```suggestion\nline 15 = 15\n```")
    removal = repo.add_review_comment(number, "numbers.tf", 17, "Not needed.\n```suggestion\n```", user="hubot")
    text = page(fake, repo, number)
    first = thread_html(text, comment.id)
    assert "<p>Use a number:</p>" in first and "Comment on line 15" in first
    assert ("<div class='suggestion'><div class='suggestion-header'>Suggested change</div><table class='diff'>"
            "<tr class='deletion'><td class='num'>15</td><td class='code'><span class='marker'>-</span>"
            "line 15 = fifteen</td></tr><tr class='addition'><td class='num'></td><td class='code'>"
            "<span class='marker'>+</span>line 15 = 15</td></tr></table></div>") in first
    second = thread_html(text, removal.id)  # an empty suggestion deletes the line: red only
    assert "Not needed.</p>" in second and "<tr class='deletion'><td class='num'>17</td>" in second
    assert "<tr class='addition'>" not in second
    # git's hunk is lines 12-18 with the change at 15; each thread sits under its line
    assert rows(text) == ["hunk", "12|12|context", "13|13|context", "14|14|context", "15||deletion",
                          "|15|addition", "thread-row", "16|16|context", "17|17|context", "thread-row",
                          "18|18|context"]
    assert "<h1>Change &lt;things&gt; <span class='number'>#1</span></h1>" in text


def test_only_the_lines_near_a_comment_are_shown(fake: FakeGitHub) -> None:
    repo, number = pull(fake, {"new.tf": NUMBERED})
    comment = repo.add_review_comment(number, "new.tf", 15, "Here.")
    text = page(fake, repo, number)
    assert rows(text) == ["hunk", "gap", *[f"|{n}|addition" for n in range(12, 16)], "thread-row",
                          *[f"|{n}|addition" for n in range(16, 19)], "gap"]
    assert "@@ -0,0 +1,30 @@" in text and f"id='discussion_r{comment.id}'" in text


def test_comment_markdown_renders_like_github_and_nothing_runs(fake: FakeGitHub) -> None:
    hostile = "infra/<img src=x onerror=alert(1)>.tf"
    repo, number = pull(fake, {hostile: "a = 1\nb = 2\n"})
    body = ("**Bold** and ~~gone~~ with `code`\nnext line <!-- hidden: fingerprint -->\n\n"
            "| rule | severity |\n| --- | --- |\n| CB-1 | high |\n\n"
            "```hcl\nb = \"<script>alert(1)</script>\"\n```\n\n"
            "<script>alert(2)</script>\n\n<b onclick=alert(3)>click</b> [here](javascript:alert(4))\n\n"
            "<!-- compliance-bot:fingerprint=abc -->")
    comment = repo.add_review_comment(number, hostile, 2, body)
    text = page(fake, repo, number)
    shown = text.split("<main>", 1)[1]
    assert "<script" not in shown and "<img" not in shown and "<b onclick" not in shown and "href=" not in shown
    assert "fingerprint" not in shown and "hidden" not in shown  # HTML comments: dropped, as GitHub does
    thread = thread_html(text, comment.id)
    assert "<p><strong>Bold</strong> and <s>gone</s> with <code>code</code><br />\nnext line </p>" in thread
    assert "<thead>\n<tr>\n<th>rule</th>\n<th>severity</th>" in thread and "<td>CB-1</td>" in thread
    assert ("<pre><code class=\"language-hcl\">b = &quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;\n"
            "</code></pre>") in thread  # another fence is code, not a suggestion
    assert "<p>&lt;script&gt;alert(2)&lt;/script&gt;</p>" in thread
    assert "&lt;b onclick=alert(3)&gt;click&lt;/b&gt; [here](javascript:alert(4))" in thread
    assert "<span class='path'>infra/&lt;img src=x onerror=alert(1)&gt;.tf</span>" in text


def test_a_thread_whose_line_changed_is_outdated_and_left_out(fake: FakeGitHub) -> None:
    repo, number = pull(fake, {"a.tf": "a = 1\nb = 2\n", "b.tf": "c = 3\n"})
    repo.add_review_comment(number, "a.tf", 2, "Old.")
    kept = repo.add_review_comment(number, "b.tf", 1, "Still here.")
    repo.push(number, {"a.tf": "a = 1\nb = 20\n"})
    text = page(fake, repo, number)
    assert "Old." not in text and "Still here." in thread_html(text, kept.id)
    assert "1 outdated conversation(s) are not shown here" in text
    assert "data-path='a.tf'" not in text and "data-path='b.tf'" in text


def test_a_pull_request_without_comments_and_unknown_pages(fake: FakeGitHub) -> None:
    repo, number = pull(fake, {"a.tf": "a = 1\n"})
    assert "No review comments on the changed lines." in page(fake, repo, number)
    for missing in (f"{fake.root_url}/octo-org/web/pull/9/files", f"{fake.root_url}/octo-org/nope/pull/1/files"):
        response = httpx.get(missing, timeout=10)
        assert response.status_code == 404 and "There is no such pull request." in response.text
    posted = httpx.post(files_url(fake, repo, number), timeout=10)
    assert posted.status_code == 405 and posted.headers["allow"] == "GET, HEAD"


def test_a_suggestion_on_several_lines_and_a_comment_on_a_removed_line(fake: FakeGitHub) -> None:
    changed = NUMBERED.replace("line 15 = 15\n", "")
    repo, number = pull(fake, {"numbers.tf": changed}, base={"numbers.tf": NUMBERED})
    assert repo.installation_id is not None
    token = fake.installation_token(repo.installation_id)
    review = httpx.post(f"{fake.url}/repos/{repo.full_name}/pulls/{number}/reviews", timeout=10,
                        headers={"Authorization": f"token {token}", "Accept": "application/vnd.github+json"},
                        json={"event": "COMMENT", "commit_id": repo.branch_sha("feature"), "comments": [
                            {"path": "numbers.tf", "start_line": 13, "line": 14, "side": "RIGHT",
                             "body": "```suggestion\nline 13 = 13\nline 14 = 14 # kept\n```"},
                            {"path": "numbers.tf", "line": 15, "side": "LEFT",
                             "body": "Why?\n```suggestion\nline 15 = 15\n```"}]})
    assert review.status_code == 200, review.text
    text = page(fake, repo, number)
    threads = re.findall(r"<div class='thread' id='discussion_r(\d+)' data-line='(\d+)'>", text)
    assert [line for _, line in threads] == ["14", "15"]
    several, removed = (thread_html(text, int(comment)) for comment, _ in threads)
    assert "Comment on lines 13 to 14" in several
    assert re.findall(r"<tr class='(deletion|addition)'><td class='num'>(\d*)</td><td class='code'>"
                      r"<span class='marker'>.</span>([^<]*)</td>", several) == [
        ("deletion", "13", "line 13 = 13"), ("deletion", "14", "line 14 = 14"),
        ("addition", "", "line 13 = 13"), ("addition", "", "line 14 = 14 # kept")]
    # GitHub offers suggestions on the new side only: on a removed line the fence stays code
    assert "Suggested change" not in removed and '<code class="language-suggestion">line 15 = 15' in removed
    # git's hunk: lines 12-18 around the removed line 15, all of it near one thread or the other
    assert rows(text) == ["hunk", "12|12|context", "13|13|context", "14|14|context", "thread-row",
                          "15||deletion", "thread-row", "16|15|context", "17|16|context", "18|17|context"]
