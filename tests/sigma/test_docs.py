"""docs/sigma.md carries the verdict table generated from the SigmaHQ rules; a stale page fails
here, and every caveat and refusal kind the converter can give is documented."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from tests.sigma.rules import SIGMAHQ
from trailguard.sigma.conversion import CAVEAT_KINDS
from trailguard.sigma.convert import convert_paths
from trailguard.sigma.doctable import DOCS_BEGIN, DOCS_END, render_docs_block, splice_docs

ROOT = Path(__file__).parents[2]
PAGE = ROOT / "docs" / "sigma.md"
SCRIPT = ROOT / "scripts" / "gen_sigma_docs.py"
CONVERT = ROOT / "trailguard" / "sigma" / "convert.py"
VALUES = ROOT / "trailguard" / "sigma" / "values.py"


def _script():
    spec = importlib.util.spec_from_file_location("gen_sigma_docs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_page_is_current() -> None:
    current = PAGE.read_text(encoding="utf-8")
    expected = splice_docs(current, render_docs_block(convert_paths([SIGMAHQ])))
    assert current == expected, "docs/sigma.md is stale: run python scripts/gen_sigma_docs.py"


def test_generated_block_has_every_rule_with_its_author_and_verdict() -> None:
    conversions = convert_paths([SIGMAHQ])
    block = render_docs_block(conversions)
    assert "40 rules: 28 exact, 9 caveats, 3 refused." in block
    for c in conversions:
        assert f"[{c.title}]({c.link}) | {c.author.replace('|', chr(92) + '|')} | {c.verdict} |" in block
        if c.pattern:
            assert f"`{c.pattern.replace('|', chr(92) + '|')}`" in block


def test_splice_replaces_only_between_markers() -> None:
    page = f"intro\n{DOCS_BEGIN}\nold table\n{DOCS_END}\noutro\n"
    assert splice_docs(page, "new table\n") == f"intro\n{DOCS_BEGIN}\nnew table\n\n{DOCS_END}\noutro\n"
    with pytest.raises(ValueError, match="lacks the markers"):
        splice_docs("no markers here", "x")


def test_script_checks_then_rewrites_a_stale_page(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    page = tmp_path / "sigma.md"
    page.write_text(f"# Sigma\n{DOCS_BEGIN}\nstale\n{DOCS_END}\n", encoding="utf-8")
    script = _script()
    assert script.main(["--check", "--page", str(page)]) == 1
    assert "is stale: run python scripts/gen_sigma_docs.py" in capsys.readouterr().err
    assert script.main(["--page", str(page)]) == 0
    assert script.main(["--check", "--page", str(page)]) == 0
    assert "| exact | `{ $.userIdentity.type = \"Root\"" in page.read_text(encoding="utf-8")


def test_every_caveat_kind_is_documented() -> None:
    text = PAGE.read_text(encoding="utf-8")
    used = set(re.findall(r'caveat\(\s*[^,]+,\s*"([a-z-]+)"', CONVERT.read_text()))
    assert used <= set(CAVEAT_KINDS)
    for kind in CAVEAT_KINDS:
        assert f"| `{kind}` |" in text, kind


def test_every_refusal_kind_is_documented() -> None:
    text = PAGE.read_text(encoding="utf-8")
    kinds = set(re.findall(r'Refusal\(\s*"([a-z-]+)"', CONVERT.read_text() + VALUES.read_text()))
    kinds |= {"correlation", "filter"}  # named by a variable in convert_paths
    kinds -= {"condition", "value", "query-expression"}  # cannot come from a rule pySigma parses
    documented = set(re.findall(r"^\| `([a-z-]+)`(?:, `([a-z-]+)`)? \|", text, flags=re.M))
    documented = {k for pair in documented for k in pair if k}
    assert kinds <= documented, kinds - documented
