"""docs/catalog.md carries the catalogue table generated from the data; a stale page fails here."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from trailguard.catalog import load_catalog
from trailguard.catalog.render import DOCS_BEGIN, DOCS_END, render_docs_block, splice_docs

ROOT = Path(__file__).parents[2]
PAGE = ROOT / "docs" / "catalog.md"
SCRIPT = ROOT / "scripts" / "gen_catalog_docs.py"


def _script():
    spec = importlib.util.spec_from_file_location("gen_catalog_docs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_page_is_current() -> None:
    current = PAGE.read_text(encoding="utf-8")
    expected = splice_docs(current, render_docs_block(load_catalog()))
    assert current == expected, "docs/catalog.md is stale: run python scripts/gen_catalog_docs.py"


def test_generated_block_has_every_detection_and_pattern() -> None:
    catalog = load_catalog()
    block = render_docs_block(catalog)
    for detection in catalog.detections.values():
        assert f"| [`{detection.id}`](#{detection.id}) | {detection.title} |" in block
        assert f"#### {detection.id}\n" in block
        for pattern in detection.patterns.values():
            assert f"```\n{pattern}\n```" in block


def test_splice_replaces_only_between_markers() -> None:
    page = f"intro\n{DOCS_BEGIN}\nold table\n{DOCS_END}\noutro\n"
    assert splice_docs(page, "new table\n") == f"intro\n{DOCS_BEGIN}\nnew table\n\n{DOCS_END}\noutro\n"
    with pytest.raises(ValueError, match="lacks the markers"):
        splice_docs("no markers here", "x")


def test_script_checks_then_rewrites_a_stale_page(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    page = tmp_path / "catalog.md"
    page.write_text(f"# Catalogue\n{DOCS_BEGIN}\nstale\n{DOCS_END}\n", encoding="utf-8")
    script = _script()
    assert script.main(["--check", "--page", str(page)]) == 1
    assert "is stale: run python scripts/gen_catalog_docs.py" in capsys.readouterr().err
    assert script.main(["--page", str(page)]) == 0
    assert script.main(["--check", "--page", str(page)]) == 0
    assert "| [`root-usage`](#root-usage) |" in page.read_text(encoding="utf-8")
