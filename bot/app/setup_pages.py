"""The HTML of the setup server's pages: plain forms, no script, every value escaped."""

from __future__ import annotations

import json
from html import escape
from typing import Any

_STYLE = ("body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
          "fieldset{border:1px solid #ccc;border-radius:6px;margin:1rem 0}label{display:block;margin:.4rem 0}"
          "input[type=text],input[type=url]{width:100%;padding:.3rem}button{padding:.5rem 1rem;font-size:1rem}"
          ".error{color:#b00020}code{background:#f4f4f4;padding:0 .2rem}pre{background:#f4f4f4;padding:.5rem;"
          "overflow-x:auto}")


def page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>")


def form_page(app_name: str, public_url: str, token: str, problem: str = "") -> str:
    """The registration form; it carries the setup token back in a hidden field (this server's
    only: the page GitHub receives is `handoff_page`, without it)."""
    error = f"<p class='error' id='error'>{escape(problem)}</p>" if problem else ""
    return page("Register Compliance Bot", f"""{error}
<p>This server has no GitHub App yet. Register one from the App manifest: GitHub asks you to
confirm, then sends you back here, and the App's id, private key and webhook secret are stored.</p>
<p>GitHub will send webhooks to <code id='webhook-url'>{escape(public_url)}/webhook</code>
(set <code>PUBLIC_URL</code> if GitHub reaches this server at another address).</p>
<form method='post' action='/setup'>
<input type='hidden' name='token' value='{escape(token)}'>
<fieldset><legend>Where</legend>
<label><input type='radio' name='target' value='github.com' checked> github.com</label>
<label><input type='radio' name='target' value='ghes' id='target-ghes'> GitHub Enterprise Server at
<input type='url' name='ghes_url' id='ghes-url' placeholder='https://github.example.com'></label>
</fieldset>
<fieldset><legend>Owner</legend>
<label>Organisation (empty: your personal account)
<input type='text' name='org' id='org' placeholder='my-org'></label>
</fieldset>
<fieldset><legend>Name</legend>
<label>App name (unique on GitHub, at most 34 characters)
<input type='text' name='name' id='name' value='{escape(app_name)}'></label>
</fieldset>
<button type='submit' id='register'>Register the GitHub App</button>
</form>""")


def handoff_page(action: str, manifest: dict[str, Any], where: str) -> str:
    """The form the browser posts to GitHub: the manifest travels in the admin's browser."""
    return page("Continue on GitHub", f"""
<p>GitHub ({escape(where)}) shows the App for you to confirm. It comes back here when you do.</p>
<form method='post' action='{escape(action)}' id='to-github'>
<input type='hidden' name='manifest' value='{escape(json.dumps(manifest))}'>
<button type='submit' id='continue'>Create the App on GitHub</button>
</form>
<details><summary>Manifest</summary><pre>{escape(json.dumps(manifest, indent=2))}</pre></details>""")


def stored_page(slug: str, install_url: str, path: str) -> str:
    return page("GitHub App registered", f"""
<p>The App <strong id='slug'>{escape(slug)}</strong> exists. Its id, private key and webhook secret
are in <code id='stored-path'>{escape(path)}</code> (mode 0600).</p>
<ol><li>Restart <code>compliance-bot serve</code> (and any <code>compliance-bot worker</code>): they read that file.</li>
<li><a id='install' href='{escape(install_url)}'>Install the App</a> on the repositories to review.</li></ol>""")


def shown_page(slug: str, install_url: str, values: dict[str, str]) -> str:
    rows = "".join(f"<h2>{escape(name)}</h2><pre id='{escape(name.lower())}'>{escape(value)}</pre>"
                   for name, value in values.items())
    return page("GitHub App registered", f"""
<p>The App <strong id='slug'>{escape(slug)}</strong> exists. Put these in your secrets manager
now: this page is the only place they are shown, and nothing was stored.</p>{rows}
<p><a id='install' href='{escape(install_url)}'>Install the App</a> on the repositories to review.</p>""")


def error_page(title: str, message: str) -> str:
    return page(title, f"<p class='error' id='error'>{escape(message)}</p><p><a href='/setup'>Start again</a></p>")


def token_needed_page(where: str) -> str:
    """A visit without the setup token: say where the operator finds it, nothing else."""
    return page("Setup token needed", f"""
<p class='error' id='error'>This server registers its GitHub App only for whoever started it:
the setup page needs the one-time setup token, and this address has none or a wrong one.</p>
<p id='where'>{escape(where)}</p>""")


def closed_page() -> str:
    """A visit after the App was registered: the token is spent."""
    return page("Setup is over", """
<p class='error' id='error'>This server's GitHub App is registered: the setup token no longer
opens anything. Restart <code>compliance-bot serve</code> (and any <code>compliance-bot worker</code>)
to use the App's credentials; to register another App, restart it without them.</p>""")
