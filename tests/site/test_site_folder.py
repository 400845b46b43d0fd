"""The output folder of a build (issue 18): an empty catalog publishes an empty site that says so, with
no search index to fail on; a build deletes only files a build state says it wrote; a folder that is
not empty and holds no build state is refused unless forced."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from index.site.build import build_site
from index.site.search import build_search_index
from index.site.state import STATE_FILE
from index.site.writer import FolderNotOurs
from tests.conftest import run_cli
from tests.support.records import sample_record


def _records(n: int) -> list:
    return [sample_record(slug=f"a-example-{i}", title=f"Thing {i}", url=f"https://a.example/{i}") for i in range(n)]


def test_an_empty_catalog_publishes_an_empty_site_that_says_so(tmp_path: Path) -> None:
    out = tmp_path / "site"
    counts = build_site([], out)
    assert counts["resources"] == 0
    build_search_index(out)  # nothing to index: no pagefind run, no error
    home = (out / "index.html").read_text()
    assert 'id="empty-catalog"' in home and "The catalog is empty" in home
    assert 'id="resources"' not in home and 'id="q"' not in home  # no table, no search box to type into
    assert json.loads((out / "index.json").read_text())["resources"] == []
    assert not (out / "pagefind").exists()


def test_a_catalog_that_becomes_empty_drops_its_pages_and_search_bundle(tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(_records(2), out)
    build_search_index(out)
    assert (out / "pagefind" / "parts.json").is_file() and (out / "pagefind" / "p000" / "pagefind.js").is_file()
    (out / "r" / "theirs.html").write_text("<p>not a build's</p>")  # left alone, and not indexed
    build_search_index(out, keys=build_site([], out)["search_parts"])
    assert not (out / "pagefind").exists()
    assert [p.name for p in (out / "r").iterdir()] == ["theirs.html"] and list((out / "o").iterdir()) == []
    assert "The catalog is empty" in (out / "index.html").read_text()


def test_a_build_deletes_only_files_a_build_wrote(tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(_records(3), out)
    assert (out / "r" / "a-example-2.html").exists()
    foreign = {"notes.txt": "mine", "r/keep.html": "<p>mine</p>", "r/keep.json": "{}", "o/keep.html": "x",
               "c/keep.html": "x", "list/keep.html": "x", "sitemap-keep.xml": "<x/>", "photos/cat.jpg": "x"}
    for rel, text in foreign.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    counts = build_site(_records(2), out)  # a-example-2 left the catalog
    assert not (out / "r" / "a-example-2.html").exists() and not (out / "r" / "a-example-2.json").exists()
    assert counts["removed"] == 2
    for rel, text in foreign.items():
        assert (out / rel).read_text() == text, rel
    # a state of another builder version still names what that build wrote
    state = out / STATE_FILE
    import marshal
    old = marshal.loads(state.read_bytes())
    state.write_bytes(marshal.dumps({**old, "version": "site-0"}))
    build_site(_records(1), out)
    assert not (out / "r" / "a-example-1.html").exists() and (out / "r" / "keep.html").exists()


def test_a_folder_with_someone_elses_files_is_refused_unless_forced(tmp_path: Path) -> None:
    out = tmp_path / "docs"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    with pytest.raises(FolderNotOurs) as refused:
        build_site(_records(2), out)
    assert isinstance(refused.value, ValueError)
    message = str(refused.value)
    assert "\n" not in message and str(out) in message and "--force" in message
    assert sorted(os.listdir(out)) == ["thesis.tex"]  # nothing written
    build_site(_records(2), out, force=True)
    assert (out / "index.html").exists() and (out / "thesis.tex").read_text() == "years of work"
    build_site(_records(1), out)  # now it holds a build state: no force needed, and the file stays
    assert (out / "thesis.tex").read_text() == "years of work"
    empty = tmp_path / "empty"
    empty.mkdir()
    build_site([], empty)  # an empty folder is fine
    assert (empty / STATE_FILE).exists()


def test_build_refuses_a_foreign_folder_in_one_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'catalog.db'}"
    run_cli("db", "upgrade", "--db", db, cwd=tmp_path)
    out = tmp_path / "public"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    proc = run_cli("build", "--db", db, "--out", str(out), "--quiet", cwd=tmp_path, check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: ") and "no build state" in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(os.listdir(out)) == ["keep.txt"]
    forced = run_cli("build", "--db", db, "--out", str(out), "--quiet", "--no-search", "--force", cwd=tmp_path)
    assert "built 0 resources" in forced.stdout
    assert (out / "index.html").exists() and (out / "keep.txt").read_text() == "x"


def test_build_of_an_empty_database_succeeds_with_search(tmp_path: Path) -> None:
    """The CLI's build runs the search indexer too: on an empty catalog it has nothing to index."""
    db = f"sqlite:///{tmp_path / 'catalog.db'}"
    run_cli("db", "upgrade", "--db", db, cwd=tmp_path)
    proc = run_cli("build", "--db", db, "--out", str(tmp_path / "public"), "--quiet", cwd=tmp_path)
    assert "built 0 resources" in proc.stdout
    assert "The catalog is empty" in (tmp_path / "public" / "index.html").read_text()
