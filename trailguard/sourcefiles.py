"""Which files a list of sources names: files, directories (recursively) and globs, each file once.

Both `trailguard test` and `trailguard backtest` list their inputs here, so they read the same
files. A scanned tree is not always tidy: an `aws s3 sync` of a trail bucket holds
`CloudTrail-Digest/` files beside the logs (hash chains, not events), a directory may hold a FIFO
(reading it would wait forever) or a socket, and a symlink back to an ancestor makes a naive walk
endless. Digest files and non-regular files found in a directory or glob are skipped, each counted
and named; every directory is walked once however many links lead to it, and every file is listed
once however many paths reach it. A path named on the command line is read as given (a FIFO named
on purpose, `<(zcat log.gz)`, is a stream to read).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from glob import has_magic
from typing import Iterable, Iterator

STDIN = "-"

DIGEST_DIRECTORY = "CloudTrail-Digest"
"""CloudTrail writes digest files under `AWSLogs/<account>/CloudTrail-Digest/`, named `..._CloudTrail-Digest_...`."""

SKIPPED_DIGEST = "CloudTrail digest"
SKIPPED_NOT_FILE = "not a regular file"
SKIPPED_EMPTY = "empty"
SKIP_KINDS: tuple[str, ...] = (SKIPPED_DIGEST, SKIPPED_NOT_FILE, SKIPPED_EMPTY)


@dataclass(frozen=True, slots=True)
class Skipped:
    """Input that holds no events on purpose and is not an error: `reason` is `"<kind>: <detail>"`
    with kind in SKIP_KINDS."""

    source: str
    reason: str

    @property
    def kind(self) -> str:
        return self.reason.split(":", 1)[0]


@dataclass(slots=True)
class Listing:
    """The files to read, in order; what was skipped; and a message per source that names no file."""

    files: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def is_digest_path(path: str) -> bool:
    """Whether a path or S3 key is a CloudTrail digest file (by its folder or its name)."""
    posix = path.replace(os.sep, "/") if os.sep != "/" else path
    return f"/{DIGEST_DIRECTORY}/" in f"/{posix}" or "_CloudTrail-Digest_" in posix.rsplit("/", 1)[-1]


def digest_skip(source: str) -> Skipped:
    return Skipped(source, f"{SKIPPED_DIGEST}: integrity hashes, not events (CloudTrail-Digest/ files are not read)")


def list_sources(sources: Iterable[str | os.PathLike[str]]) -> Listing:
    """Expand every source, in the order given (sorted within a directory or glob). A source that
    names no file is recorded in `missing` (never raised), so the caller decides whether the rest
    is still read."""
    listing = Listing()
    seen_files: set[tuple[int, int]] = set()
    for source in sources:
        name = os.fspath(source)
        if not _expand(name, listing, seen_files):
            listing.missing.append(_missing_message(name))
    return listing


def _missing_message(source: str) -> str:
    if os.path.isdir(source):
        return f"directory {source} contains no files"
    if has_magic(source):
        return f"pattern {source} matches no files"
    return f"{source}: no such file or directory (give a file, a directory or a glob)"


def _expand(source: str, listing: Listing, seen_files: set[tuple[int, int]]) -> bool:
    """Add the files of one source to `listing`; False if it names no file at all."""
    if source == STDIN:
        listing.files.append(STDIN)
        return True
    if os.path.isdir(source):
        return _walk(source, listing, seen_files, set()) > 0
    if os.path.lexists(source):
        _add(source, listing, seen_files, named=True)
        return True
    if has_magic(source):
        return _glob(source, listing, seen_files) > 0
    return False


def _add(path: str, listing: Listing, seen_files: set[tuple[int, int]], *, named: bool,
         info: os.stat_result | None = None) -> None:
    """List one file unless it was listed already; a file met in a walk is skipped when it is a
    digest or not a regular file, a file named as such is always read."""
    if info is None:
        try:
            info = os.stat(path)
        except OSError:
            listing.files.append(path)  # let the reader say why it cannot be opened
            return
    key = (info.st_dev, info.st_ino)
    if key in seen_files:
        return
    seen_files.add(key)
    if named:
        listing.files.append(path)
    elif not stat.S_ISREG(info.st_mode):
        listing.skipped.append(Skipped(path, f"{SKIPPED_NOT_FILE}: {_file_type(info.st_mode)}; only regular files "
                                             "in a directory or glob are read (name it to read it)"))
    elif is_digest_path(path):
        listing.skipped.append(digest_skip(path))
    else:
        listing.files.append(path)


def _file_type(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a directory")):
        if test(mode):
            return name
    return "not a regular file"


def _walk(directory: str, listing: Listing, seen_files: set[tuple[int, int]],
          seen_dirs: set[tuple[int, int]]) -> int:
    """Add every file below `directory`, sorted, hidden entries skipped, symlinked directories
    followed once each (a link back to an ancestor is not followed again); the files met."""
    met = 0
    for path, info in _walk_entries(directory, seen_dirs):
        _add(path, listing, seen_files, named=False, info=info)
        met += 1
    return met


def _walk_entries(directory: str, seen_dirs: set[tuple[int, int]]) -> Iterator[tuple[str, os.stat_result | None]]:
    try:
        info = os.stat(directory)
    except OSError:
        return
    key = (info.st_dev, info.st_ino)
    if key in seen_dirs:
        return
    seen_dirs.add(key)
    try:
        with os.scandir(directory) as entries:
            names = sorted((entry.name, entry) for entry in entries if not entry.name.startswith("."))
    except OSError:
        return
    for _, entry in names:
        try:
            if entry.is_dir():
                yield from _walk_entries(entry.path, seen_dirs)
                continue
            yield entry.path, entry.stat()
        except OSError:  # a dangling link, a file removed meanwhile
            yield entry.path, None


def _glob(pattern: str, listing: Listing, seen_files: set[tuple[int, int]]) -> int:
    """Files matching a glob (`*`, `?`, `[...]` within a name, `**` across folders), sorted; a
    matching directory contributes every file below it. Walks from the pattern's fixed prefix,
    entering each directory once, so a symlink loop cannot make it endless."""
    parts = pattern.replace(os.sep, "/").split("/")
    fixed: list[str] = []
    while parts and not has_magic(parts[0]):
        fixed.append(parts.pop(0))
    root = "/".join(fixed) if fixed else ""
    if fixed == [""]:
        root = "/"
    start = root or "."
    if not os.path.isdir(start):
        return 0
    seen_dirs: set[tuple[int, int]] = set()
    matched: list[tuple[str, os.stat_result | None, bool]] = []
    _glob_walk(start, root, parts, [], seen_dirs, matched)
    met = 0
    for path, info, is_dir in sorted(matched, key=lambda match: match[0]):  # the order glob.glob's sorted list had
        if is_dir:
            met += _walk(path, listing, seen_files, set())
        else:
            _add(path, listing, seen_files, named=False, info=info)
            met += 1
    return met


def _glob_walk(directory: str, shown: str, pattern: list[str], relative: list[str], seen_dirs: set[tuple[int, int]],
               matched: list[tuple[str, os.stat_result | None, bool]]) -> None:
    try:
        info = os.stat(directory)
    except OSError:
        return
    key = (info.st_dev, info.st_ino)
    if key in seen_dirs:
        return
    seen_dirs.add(key)
    try:
        with os.scandir(directory) as entries:
            names = sorted((entry.name, entry) for entry in entries)
    except OSError:
        return
    for name, entry in names:
        parts = [*relative, name]
        path = os.path.join(shown, name) if shown else name
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if _matches(pattern, parts):
            try:
                matched.append((path, None if is_dir else entry.stat(), is_dir))
            except OSError:
                matched.append((path, None, False))
            continue
        if is_dir and _could_match_below(pattern, parts):
            _glob_walk(os.path.join(directory, name), path, pattern, parts, seen_dirs, matched)


def _name_matches(name: str, part: str) -> bool:
    if name.startswith(".") and not part.startswith("."):
        return False  # as glob: wildcards do not match hidden names
    return fnmatchcase(name, part)


def _matches(pattern: list[str], parts: list[str]) -> bool:
    if not pattern:
        return not parts
    head = pattern[0]
    if head == "**":
        return any(_matches(pattern[1:], parts[index:]) for index in range(len(parts) + 1)
                   if not any(part.startswith(".") for part in parts[:index]))
    return bool(parts) and _name_matches(parts[0], head) and _matches(pattern[1:], parts[1:])


def _could_match_below(pattern: list[str], parts: list[str]) -> bool:
    """Whether some path below the directory `parts` could match `pattern`."""
    if not parts:
        return True
    if not pattern:
        return False
    head = pattern[0]
    if head == "**":
        return not parts[0].startswith(".")
    return _name_matches(parts[0], head) and _could_match_below(pattern[1:], parts[1:])
