"""Issue 17 item 3: users see the law as they and courts know it (《民法典》第九百四十四条,
《个人信息保护法》第二十五条, 本公司联系规范), never our own file names. Every template and every
string literal in the code (docstrings and comments aside: developers read those) is searched for
"LAW.md" and "SPEC §/第"; a refusal message is also checked as it is rendered."""

import ast
import re
from pathlib import Path

import wuye

SRC = Path(wuye.__file__).parent
INTERNAL = re.compile(r"LAW\.md|LAW §|SPEC ?(§|第)")


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _user_strings(path: Path):
    tree = ast.parse(path.read_text("utf-8"))
    skip = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            yield node.lineno, node.value


def test_no_template_shows_an_internal_file_name():
    hits = [
        f"{path.relative_to(SRC)}:{n}: {line.strip()[:80]}"
        for path in SRC.rglob("templates/**/*")
        if path.is_file()
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if INTERNAL.search(line) and "{#" not in line
    ]
    assert hits == []


def test_no_message_in_the_code_shows_an_internal_file_name():
    hits = [
        f"{path.relative_to(SRC)}:{line}: {text.strip()[:80]}"
        for path in SRC.rglob("*.py")
        if "migrations" not in path.parts
        for line, text in _user_strings(path)
        if INTERNAL.search(text)
    ]
    assert hits == []


def test_the_corpus_of_law_citations_uses_chinese_article_numbers():
    """《民法典》第944条 is how a programmer writes it; a court writes 第九百四十四条."""
    arabic = re.compile(r"》第\d")
    hits = [
        f"{path.relative_to(SRC)}:{line}"
        for path in SRC.rglob("*.py")
        if "migrations" not in path.parts
        for line, text in _user_strings(path)
        if arabic.search(text)
    ] + [
        str(path.relative_to(SRC))
        for path in SRC.rglob("templates/**/*")
        if path.is_file() and arabic.search(path.read_text("utf-8"))
    ]
    assert hits == []
