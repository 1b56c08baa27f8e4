"""A real documentation folder: assets passed over with one summary line, copies and print pages not indexed twice."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.ingest.discover import load_paths

CHAPTERS = {
    "install": ["Install the tool with the package manager of your system before the first run of the program.",
                "The installer creates a configuration folder in your home directory with sensible default values.",
                "A proxy server can be configured during installation by setting the HTTPS_PROXY environment variable."],
    "usage": ["Start the service with the serve command; it listens on port 8000 of the local interface by default.",
              "The dashboard shows the number of processed jobs per hour and the median waiting time of the queue.",
              "Jobs that fail three times in a row are moved to the dead letter queue for manual inspection."],
    "backup": ["Backups are written every night at 02:00 to the folder named in the backup_dir setting.",
               "Each backup keeps the last fourteen snapshots and removes older ones automatically afterwards.",
               "Restoring a snapshot requires stopping the service first, then running the restore command."],
}
ASSETS = ["_static/style.css", "_static/app.js", "_static/fonts/inter.woff2", "_static/logo.png", "_static/x.svg"]


def _page(title: str, paragraphs: list[str]) -> str:
    body = "".join(f"<p>{p}</p>\n" for p in paragraphs)
    return (f"<html><head><title>{title}</title><link rel=stylesheet href=_static/style.css></head>"
            f"<body><nav>Home | Docs | Search</nav><h1>{title}</h1>\n{body}<footer>© Docs team</footer></body></html>")


@pytest.fixture()
def site(tmp_path) -> Path:
    root = tmp_path / "site"
    root.mkdir()
    for name, paras in CHAPTERS.items():
        (root / f"{name}.html").write_text(_page(name.title(), paras))
    (root / "print.html").write_text(_page("Complete manual", [p for ps in CHAPTERS.values() for p in ps]))
    shutil.copy(root / "usage.html", root / "usage-copy.html")
    for a in ASSETS:
        (root / a).parent.mkdir(parents=True, exist_ok=True)
        (root / a).write_bytes(b"/* asset */")
    (root / "notes.rtf").write_text("{\\rtf1 not supported}")
    return root


def test_assets_and_repeats_are_passed_over(site):
    r = load_paths([site])
    assert sorted(a.title for a in r.articles) == ["Backup", "Install", "Usage"]
    assert sorted(Path(a).name for a in r.assets) == sorted(Path(a).name for a in ASSETS)
    repeats = {Path(p.source).name: p.message for p in r.repeats}
    assert set(repeats) == {"print.html", "usage-copy.html"}
    assert "print page" in repeats["print.html"] and "usage.html" in repeats["usage-copy.html"]
    assert [Path(p.source).name for p in r.problems] == ["notes.rtf"], "a real unsupported document is still reported"
    assert {Path(s).name for s in r.files_seen} >= {"print.html", "usage-copy.html"}, "so their old documents go"


def test_chapter_inside_a_longer_file_is_kept(tmp_path):
    (tmp_path / "usage.html").write_text(_page("Usage", CHAPTERS["usage"]))
    (tmp_path / "all.html").write_text(_page("All", CHAPTERS["usage"] + CHAPTERS["backup"]))
    r = load_paths([tmp_path])
    assert sorted(a.title for a in r.articles) == ["All", "Usage"] and not r.repeats


def test_jsonl_records_are_never_dropped(tmp_path):
    line = '{"id": "1", "title": "t", "text": "%s"}\n' % CHAPTERS["usage"][0]
    (tmp_path / "q1.jsonl").write_text(line)
    (tmp_path / "q2.jsonl").write_text(line)
    assert len(load_paths([tmp_path]).articles) == 2


def test_rag_index_on_a_site_is_quiet_and_cites_the_chapter(site, tmp_path, monkeypatch):
    from rag.cli.main import app

    opts = ["--index-dir", str(tmp_path / "index"), "--collection", "site", "--no-progress"]
    r = CliRunner().invoke(app, ["index", str(site), *opts])
    said = " ".join(r.output.split())
    assert r.exit_code == 0, r.output
    assert "passed over 5 non-document files" in said and "unsupported file type '.css'" not in said
    assert said.count("skipped") == 1, "only notes.rtf gets a warning"
    assert "print.html" in said and "usage-copy.html" in said
    verbose = CliRunner().invoke(app, ["index", str(site), *opts, "--verbose"])
    flat = "".join(verbose.output.split())  # rich folds long paths across lines
    assert "logo.png" in flat and "inter.woff2" in flat
    # The print page must not crowd out the chapter. Checked on the retrieved passages: `rag ask` on
    # this tiny site is refused by issue 10's evidence model (short documents score under its
    # threshold), a known regression that must not hide this check.
    r = CliRunner().invoke(app, ["search", "Where are backups written every night?", "--json", "--k", "5",
                                 "--index-dir", str(tmp_path / "index"), "--collection", "site"])
    import json

    hits = json.loads(r.stdout)["hits"]
    sources = [Path(h["passage"]["source"]).name for h in hits]
    assert sources and sources[0] == "backup.html", sources
    assert "print.html" not in sources and "usage-copy.html" not in sources, sources
