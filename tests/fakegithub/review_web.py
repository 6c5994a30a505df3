"""A read-only page of the fake's web side: a pull request's "Files changed" tab with its inline
review comments, so a test (or the README's screenshot) can see a review as a reviewer does.

    GET /{owner}/{repo}/pull/{number}/files

For each changed file that carries review threads: its path, the lines of its current diff around
each commented line (hunk headers, a gap row between windows), and under the commented line the
thread's comments, their Markdown rendered like GitHub's (CommonMark, tables, strikethrough; a
```suggestion fence becomes a "Suggested change" showing the lines it replaces in red and the
suggestion in green). Threads whose line is no longer in the diff are outdated: GitHub leaves them
out of this tab, and so does the page. Comments of pending reviews are not shown (only their
author sees them on GitHub).

Everything from the repository or a comment is escaped: Markdown is parsed with raw HTML
recognised only so that it can be dropped (HTML comments, which GitHub's sanitizer removes, such as
the bot's fingerprint) or shown as text (any tag), never passed through.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from .diff import DiffLine, FilePatch, Hunk
from .messages import Request, Response
from .rules import Location, locate
from .state import PullRequest, Repository, ReviewComment, ReviewThread

if TYPE_CHECKING:
    from .fake import FakeGitHub

HTML_MEDIA = "text/html"
CONTEXT = 3  # diff lines shown before and after a commented line
FILES = re.compile(r"^/(?P<owner>[A-Za-z0-9][A-Za-z0-9-]{0,38})/(?P<repo>[A-Za-z0-9._-]{1,100})"
                   r"/pull/(?P<number>[1-9][0-9]{0,9})/files$")
# GitHub's pages load nothing from elsewhere; the page's own <style> is all it needs
SECURITY = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:"}
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def is_web_path(path: str) -> bool:
    return FILES.match(path) is not None


def files_url(fake: FakeGitHub, repo: Repository, number: int) -> str:
    """Where a browser opens pull request `number`'s "Files changed" tab on this fake."""
    return f"{fake.root_url}/{repo.full_name}/pull/{number}/files"


def handle(fake: FakeGitHub, req: Request) -> Response:
    """Answer a GET of a "Files changed" page (`is_web_path`), under the fake's lock."""
    if req.method not in ("GET", "HEAD"):
        return _page(405, "Method not allowed", "<p class='blankslate'>This page is read-only.</p>",
                     {"Allow": "GET, HEAD"})
    match = FILES.match(req.path)
    assert match is not None
    repo = fake.world.repo(match["owner"], match["repo"])
    pr = repo.pulls.get(int(match["number"])) if repo is not None else None
    if repo is None or pr is None:
        return _page(404, "Page not found", "<p class='blankslate'>There is no such pull request.</p>")
    return _page(200, f"{pr.title} by {pr.user.login} · Pull Request #{pr.number} · {repo.full_name}",
                 _pull_page(repo, pr))


# -- the page -------------------------------------------------------------------------------------


@dataclass
class _Placed:
    """A thread at its current place in the diff: its hunk, its first and last commented lines."""

    thread: ReviewThread
    hunk: Hunk
    first: DiffLine
    target: DiffLine
    line: int
    start_line: int | None


def _pull_page(repo: Repository, pr: PullRequest) -> str:
    diff = repo.pull_diff(pr)
    threads = [t for t in sorted(repo.threads.values(), key=lambda t: t.database_id) if t.pull_number == pr.number]
    by_file: dict[str, list[_Placed]] = {}
    outdated = 0
    for thread in threads:
        if not _visible(repo, thread):
            continue
        placed = _place(diff.file(thread.path), thread, locate(repo, pr, thread))
        if placed is None:
            outdated += 1
        else:
            by_file.setdefault(thread.path, []).append(placed)
    files = [f for f in diff.files if f.filename in by_file]
    header = (f"<header class='pr'><h1>{_e(pr.title)} <span class='number'>#{pr.number}</span></h1>"
              f"<p class='meta'>{_e(repo.full_name)} · {_e(pr.user.login)} wants to merge into "
              f"<code>{_e(pr.base_ref)}</code> from <code>{_e(pr.head_ref)}</code></p>"
              f"<nav class='tabs'><span>Conversation</span><span>Commits</span><span>Checks</span>"
              f"<span class='selected'>Files changed <span class='counter'>{len(diff.files)}</span></span>"
              f"</nav></header>")
    parts = [header]
    if not files:
        parts.append("<p class='blankslate'>No review comments on the changed lines.</p>")
    for patch in files:
        parts.append(_file_box(repo, patch, sorted(by_file[patch.filename], key=lambda p: p.target.position)))
    if outdated:
        parts.append(f"<p class='note'>{outdated} outdated conversation(s) are not shown here, as on GitHub.</p>")
    return "".join(parts)


def _place(patch: FilePatch | None, thread: ReviewThread, where: Location) -> _Placed | None:
    """Where `thread` sits in the file's current diff, or None when it is outdated."""
    if patch is None or where.line is None:
        return None
    hunk = patch.hunk_for(thread.side, where.line)
    target = hunk.find(thread.side, where.line) if hunk is not None else None
    if hunk is None or target is None:
        return None
    first = hunk.find(thread.start_side or thread.side, where.start_line) if where.start_line is not None else None
    return _Placed(thread, hunk, first or target, target, where.line, where.start_line)


def _visible(repo: Repository, thread: ReviewThread) -> list[ReviewComment]:
    """The thread's comments a reader sees: not those of a pending (unsubmitted) review."""
    return [c for c in repo.thread_comments(thread)
            if c.review_id is None or c.review_id not in repo.reviews or repo.reviews[c.review_id].state != "PENDING"]


def _file_box(repo: Repository, patch: FilePatch, placed: Sequence[_Placed]) -> str:
    """One file: its header, then each hunk's rows near a thread (a gap row for the rest), each
    thread right under its line, as the "Files changed" tab shows them."""
    wanted = {position for p in placed for position in _window(p)}
    rows: list[str] = []
    for hunk in patch.hunks:
        lines = [d for d in hunk.lines if d.kind != "@"]
        if not any(d.position in wanted for d in lines):
            continue
        rows.append(f"<tr class='hunk'><td class='num'></td><td class='num'></td><td class='code'>"
                    f"{_e(hunk.header)}</td></tr>")
        skipped = False
        for d in lines:
            if d.position not in wanted:
                skipped = True
                continue
            if skipped:
                rows.append(_GAP)
                skipped = False
            rows.append(_diff_row(d))
            rows.extend(f"<tr class='thread-row'><td colspan='3'>{_thread(repo, p)}</td></tr>"
                        for p in placed if p.target is d)
        if skipped:
            rows.append(_GAP)
    return (f"<section class='file' data-path='{_e(patch.filename)}'><div class='file-header'>"
            f"<span class='stat'>+{patch.additions} −{patch.deletions}</span> "
            f"<span class='path'>{_e(patch.filename)}</span></div>"
            f"<table class='diff'>{''.join(rows)}</table></section>")


def _window(p: _Placed) -> range:
    """The diff positions shown for a thread: CONTEXT lines of its side above its first line and
    below its last, and every line between (deletions among them too)."""
    side = p.thread.side
    on_side = [d for d in p.hunk.lines if (d.new if side == "RIGHT" else d.old) is not None]
    top = next(i for i, d in enumerate(on_side) if d.position >= p.first.position)
    bottom = max(i for i, d in enumerate(on_side) if d.position <= p.target.position)
    return range(on_side[max(top - CONTEXT, 0)].position, on_side[min(bottom + CONTEXT, len(on_side) - 1)].position + 1)


_GAP = "<tr class='gap'><td class='num'>⋯</td><td class='num'>⋯</td><td class='code'></td></tr>"


_KIND_CLASS = {"+": "addition", "-": "deletion", " ": "context", "\\": "context"}


def _diff_row(d: DiffLine) -> str:
    old = "" if d.old is None else str(d.old)
    new = "" if d.new is None else str(d.new)
    marker, text = (d.text[:1], d.text[1:]) if d.kind in "+- " else ("", d.text)
    return (f"<tr class='line {_KIND_CLASS[d.kind]}' data-old='{old}' data-new='{new}'>"
            f"<td class='num'>{old}</td><td class='num'>{new}</td>"
            f"<td class='code'><span class='marker'>{_e(marker or ' ')}</span>{_e(text)}</td></tr>")


def _thread(repo: Repository, p: _Placed) -> str:
    replaced = _replaced_lines(p) if p.thread.side == "RIGHT" else None
    comments = "".join(_comment(c, replaced) for c in _visible(repo, p.thread))
    where = (f"lines {p.start_line} to {p.line}" if p.start_line is not None and p.start_line != p.line
             else f"line {p.line}")
    resolved = " · resolved" if p.thread.is_resolved else ""
    return (f"<div class='thread' id='discussion_r{p.thread.comment_ids[0]}' data-line='{p.line}'>"
            f"<div class='thread-where'>Comment on {_e(where)}{resolved}</div>{comments}</div>")


def _replaced_lines(p: _Placed) -> list[tuple[int, str]]:
    """The head file's lines a suggestion on this thread replaces (first..line, new numbering)."""
    first = p.start_line if p.start_line is not None else p.line
    return [(d.new, d.text[1:]) for d in p.hunk.lines
            if d.kind in "+ " and d.new is not None and first <= d.new <= p.line]


def _comment(comment: ReviewComment, replaced: list[tuple[int, str]] | None) -> str:
    badge = "<span class='label'>bot</span>" if comment.user.type == "Bot" else ""
    body = MARKDOWN.render(comment.body, {"replaced": replaced})
    return (f"<div class='comment' id='r{comment.id}'><div class='comment-header'>"
            f"<span class='avatar'>{_e(comment.user.login[:1].upper())}</span>"
            f"<strong class='author'>{_e(comment.user.login)}</strong>{badge}"
            f"<span class='when'>commented <time datetime='{_e(comment.created_at)}'>{_e(_day(comment.created_at))}</time>"
            f"</span></div>"
            f"<div class='markdown-body'>{body}</div></div>")


def _day(timestamp: str) -> str:
    """`2026-12-01T22:17:16Z` as GitHub writes a date: `on Dec 1, 2026`."""
    day = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ")
    return f"on {day:%b} {day.day}, {day.year}"


# -- Markdown ---------------------------------------------------------------------------------------


def _markdown() -> MarkdownIt:
    # breaks: in comments GitHub turns each newline into a line break
    md = MarkdownIt("commonmark", {"html": True, "breaks": True, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.add_render_rule("fence", _fence)
    md.add_render_rule("html_block", _html_block)
    md.add_render_rule("html_inline", _html_inline)
    return md


def _fence(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    """A ```suggestion fence on a RIGHT-side line is GitHub's "Suggested change"; others are code."""
    token = tokens[idx]
    words = token.info.split()
    replaced = env.get("replaced")
    if words[:1] == ["suggestion"] and replaced is not None:
        return _suggestion(replaced, token.content)
    return self.fence(tokens, idx, options, env)


def _suggestion(replaced: Iterable[tuple[int, str]], content: str) -> str:
    suggested = content[:-1].split("\n") if content else []
    rows = [f"<tr class='deletion'><td class='num'>{n}</td><td class='code'><span class='marker'>-</span>"
            f"{_e(text)}</td></tr>" for n, text in replaced]
    rows += [f"<tr class='addition'><td class='num'></td><td class='code'><span class='marker'>+</span>"
             f"{_e(text)}</td></tr>" for text in suggested]
    return (f"<div class='suggestion'><div class='suggestion-header'>Suggested change</div>"
            f"<table class='diff'>{''.join(rows)}</table></div>\n")


def _html_block(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    text = _COMMENT.sub("", tokens[idx].content)
    return f"<p>{_e(text.strip())}</p>\n" if text.strip() else ""


def _html_inline(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    return _e(_COMMENT.sub("", tokens[idx].content))


MARKDOWN = _markdown()


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


STYLE = """
body{margin:0;background:#fff;color:#1f2328;font:14px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI","Noto Sans",
Helvetica,Arial,sans-serif}
main{max-width:1012px;margin:0 auto;padding:16px 24px 32px}
code,.code,pre{font-family:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"Liberation Mono",monospace}
h1{font-size:26px;font-weight:400;margin:0 0 4px}h1 .number{color:#59636e;font-weight:300}
.meta{color:#59636e;margin:0 0 16px}.meta code{background:#ddf4ff;color:#0969da;border-radius:6px;padding:1px 5px;
font-size:12px}
.tabs{display:flex;gap:4px;border-bottom:1px solid #d1d9e0;margin-bottom:16px}
.tabs span{padding:8px 16px;color:#59636e;border:1px solid transparent;border-bottom:0;border-radius:6px 6px 0 0}
.tabs .selected{color:#1f2328;border-color:#d1d9e0;background:#fff;margin-bottom:-1px;font-weight:600}
.counter{display:inline-block;line-height:18px;background:#818b981f;border-radius:2em;padding:0 6px;font-size:12px;
font-weight:500}
.file{border:1px solid #d1d9e0;border-radius:6px;margin-bottom:16px;overflow:hidden}
.file-header{background:#f6f8fa;border-bottom:1px solid #d1d9e0;padding:8px 16px;font-family:ui-monospace,
SFMono-Regular,"SF Mono",Menlo,Consolas,"Liberation Mono",monospace;font-size:12px;font-weight:600}
.stat{color:#59636e;font-weight:400;margin-right:4px}
table.diff{width:100%;border-collapse:collapse;font-size:12px;line-height:20px}
.diff td{padding:0 10px;vertical-align:top}
.diff .num{width:1%;min-width:40px;text-align:right;color:#59636e;white-space:nowrap;user-select:none}
.diff .code{white-space:pre-wrap;word-break:break-all}
.marker{display:inline-block;width:14px;user-select:none}
tr.addition td{background:#dafbe1}tr.addition td.num{background:#aceebb;color:#1f2328}
tr.deletion td{background:#ffebe9}tr.deletion td.num{background:#ffcecb;color:#1f2328}
tr.hunk td,tr.gap td{background:#ddf4ff;color:#59636e}tr.hunk td.num,tr.gap td.num{background:#b6e3ff}
tr.thread-row>td{padding:0;background:#fff;border-top:1px solid #d1d9e0;border-bottom:1px solid #d1d9e0;
font-family:-apple-system,BlinkMacSystemFont,"Segoe UI","Noto Sans",Helvetica,Arial,sans-serif;font-size:14px;
line-height:1.5;white-space:normal;word-break:normal}
.thread{margin:8px 16px 8px;border:1px solid #d1d9e0;border-radius:6px;background:#fff}
.thread-where{padding:4px 16px;color:#59636e;font-size:12px;background:#f6f8fa;border-bottom:1px solid #d1d9e0;
border-radius:6px 6px 0 0}
.comment{padding:12px 16px}.comment+.comment{border-top:1px solid #d1d9e0}
.comment-header{display:flex;align-items:center;gap:8px;margin-bottom:4px}
.avatar{display:inline-flex;align-items:center;justify-content:center;width:24px;height:24px;border-radius:6px;
background:#1f883d;color:#fff;font-size:12px;font-weight:600}
.label{border:1px solid #d1d9e0;border-radius:2em;padding:0 7px;font-size:12px;font-weight:500;color:#59636e}
.when{color:#59636e;font-size:12px}
.markdown-body>:first-child{margin-top:0}.markdown-body>:last-child{margin-bottom:0}
.markdown-body p,.markdown-body ul,.markdown-body ol,.markdown-body table:not(.diff),.markdown-body pre,
.markdown-body blockquote{margin:0 0 12px}
.markdown-body code{background:#818b9833;border-radius:6px;padding:.2em .4em;font-size:85%}
.markdown-body pre{background:#f6f8fa;border-radius:6px;padding:12px 16px;overflow:auto;font-size:85%}
.markdown-body pre code{background:none;padding:0;font-size:100%}
.markdown-body table:not(.diff){border-collapse:collapse}.markdown-body table:not(.diff) :is(th,td){
border:1px solid #d1d9e0;padding:6px 13px}.markdown-body th{font-weight:600;background:#f6f8fa}
.markdown-body blockquote{color:#59636e;border-left:4px solid #d1d9e0;padding:0 1em;margin-left:0}
.markdown-body a{color:#0969da}
.suggestion{border:1px solid #d1d9e0;border-radius:6px;overflow:hidden;margin:0 0 12px}
.suggestion-header{background:#f6f8fa;border-bottom:1px solid #d1d9e0;padding:6px 12px;font-size:12px;
font-weight:600;color:#59636e}
.suggestion table.diff{margin:0}
.blankslate,.note{color:#59636e;text-align:center;padding:16px}
"""


def _page(status: int, title: str, body: str, headers: dict[str, str] | None = None) -> Response:
    text = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><link rel='icon' href='data:,'>"
            f"<title>{_e(title)}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>")
    return Response(status, text, HTML_MEDIA, {**SECURITY, **(headers or {})})
