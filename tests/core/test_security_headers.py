"""HTTPS mode, Content-Security-Policy and the usual security headers (issue 13 items 9 and 14)."""

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import wuye

SRC = Path(wuye.__file__).resolve().parent
ROOT = SRC.parents[1]


def _run(args: list[str], tmp_path, **env) -> subprocess.CompletedProcess:
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("WUYE_")
        # the browser tests' conftest sets DJANGO_ALLOW_ASYNC_UNSAFE for the live server, which a
        # deployment must not have (async.E001): the child starts from a deployment's environment
        and k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    environ.update({"WUYE_VAR_DIR": str(tmp_path), **env})
    return subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, *args],
        env=environ,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _check_deploy(tmp_path, **env) -> subprocess.CompletedProcess:
    return _run(["-m", "wuye", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, **env)


def _load_settings(tmp_path) -> subprocess.CompletedProcess:
    return _run(["-c", "import wuye.settings"], tmp_path)


def test_check_deploy_is_clean_with_wuye_https(tmp_path):
    result = _check_deploy(tmp_path, WUYE_HTTPS="1", WUYE_BEHIND_PROXY="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stderr + result.stdout


def test_check_deploy_warns_about_plain_http_without_the_switch(tmp_path):
    result = _check_deploy(tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in out


def test_secret_key_file_is_created_readable_by_its_owner_only(tmp_path):
    result = _load_settings(tmp_path)
    assert result.returncode == 0, result.stderr
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_world_readable_secret_key_of_an_older_install_is_narrowed(tmp_path):
    key = tmp_path / "secret_key"
    key.write_text("x" * 64)
    key.chmod(0o644)
    _load_settings(tmp_path)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_text() == "x" * 64


# --- templates: nothing the policy would block ------------------------------------------------------

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
JS_URL = re.compile(r"(href|src|action)\s*=\s*[\"']?\s*javascript:", re.I)
HTMX_EVAL = re.compile(r"\s(hx-on[:\-]|hx-vars=|hx-vals=[\"']?js:)", re.I)


def _templates():
    return sorted(p for p in SRC.rglob("templates/**/*.html"))


def test_no_template_has_inline_script_or_event_handler_attributes():
    """The CSP allows scripts only from our static files: an inline <script>, onclick=, onchange=,
    a javascript: link or htmx's hx-on (eval) would silently stop working. Use data attributes
    (static/wuye/base.js) or a static .js file; JSON data via |json_script is fine."""
    found = []
    templates = _templates()
    assert len(templates) > 50
    for path in templates:
        text = path.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER, JS_URL, HTMX_EVAL):
            for m in pattern.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                found.append(f"{path.relative_to(SRC)}:{line}: {m.group(0).strip()}")
    assert not found, "\n".join(found)


def test_the_template_walk_catches_what_it_looks_for():
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert INLINE_SCRIPT.search('<script type="module">x()</script>')
    assert not INLINE_SCRIPT.search('<script src="/static/x.js"></script>')
    assert not INLINE_SCRIPT.search('<script id="d" type="application/json">{}</script>')
    assert INLINE_HANDLER.search('<button onclick="go()">')
    assert INLINE_HANDLER.search("<select\n  onchange='x'>")
    assert not INLINE_HANDLER.search('<a data-once="1" class="money">')
    assert JS_URL.search('<a href="javascript:void(0)">')
    assert HTMX_EVAL.search('<div hx-on:click="x()">')


# --- response headers --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_pages_send_a_csp_without_unsafe_inline_scripts_and_the_usual_headers(client, steward):
    client.force_login(steward)
    response = client.get("/", follow=True)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in policy.split(";") if part.strip()
    )
    assert directives["script-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-eval'" not in policy
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_login_page_and_api_docs_carry_the_policy_too(client, steward):
    assert "script-src 'self'" in client.get("/login/")["Content-Security-Policy"]
    client.force_login(steward)
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert "script-src 'self'" in docs["Content-Security-Policy"]
    # Served from our static files, not a CDN the policy (and closed company networks) would block.
    assert "cdn." not in docs.content.decode()


@pytest.mark.django_db
def test_api_docs_and_openapi_schema_require_a_login(client, steward):
    for url in ("/api/docs", "/api/openapi.json"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/")
    client.force_login(steward)
    assert client.get("/api/openapi.json").json()["info"]["title"] == "wuye API"
