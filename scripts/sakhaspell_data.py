#!/usr/bin/env python3
"""The `sakhaspell` PyPI package's corpus counts (MIT; `lm/unigrams.tsv.gz`, `lm/bigrams.tsv.gz`), which
the word LM is built from (build_lm.py), the synthetic speech is written from (make_synthetic_sakha.py)
and the interface's Sakha words are checked against (www/tests/interface-languages.test.mjs). Only the
standard library: the package is downloaded with pip once, and its lm/ folder kept in
~/.cache/sakha-asr/sakhaspell-VERSION/.

Run as a script it prints that folder's path (the package folder, which holds lm/), downloading it
first where it is missing; with --offline it never downloads, and fails where it is missing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

SAKHASPELL_VERSION = "0.4.0"


def cached_dir() -> Path:
    """Where the unpacked package is kept (it may not be there yet)."""
    cache_root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache_root / "sakha-asr" / f"sakhaspell-{SAKHASPELL_VERSION}" / "sakhaspell"


def sakhaspell_dir(given: Path | None) -> Path:
    """The unpacked sakhaspell package (the folder holding lm/), downloaded with pip when not given."""
    if given is not None:
        package = given / "sakhaspell" if (given / "sakhaspell" / "lm").is_dir() else given
        if not (package / "lm" / "bigrams.tsv.gz").is_file():
            raise SystemExit(f"{given}: no lm/bigrams.tsv.gz (give the unpacked sakhaspell package folder)")
        return package
    package = cached_dir()
    if not (package / "lm" / "bigrams.tsv.gz").is_file():
        with tempfile.TemporaryDirectory() as download:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", download,
                 f"sakhaspell=={SAKHASPELL_VERSION}"],
                check=True,
            )
            (wheel,) = Path(download).glob("sakhaspell-*.whl")
            with zipfile.ZipFile(wheel) as archive:
                archive.extractall(package.parent, [n for n in archive.namelist() if n.startswith("sakhaspell/lm/")])
    return package


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--offline", action="store_true", help="never download: fail where it is not in the cache")
    args = parser.parse_args()
    if args.offline:
        package = cached_dir()
        if not (package / "lm" / "unigrams.tsv.gz").is_file():
            raise SystemExit(f"{package}: not downloaded yet (run python3 scripts/sakhaspell_data.py)")
        print(package)
    else:
        print(sakhaspell_dir(None))


if __name__ == "__main__":
    main()
