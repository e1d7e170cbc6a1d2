"""Reading source files: local directories, git repositories pinned to a cutoff date, and The Stack's parquet shards.

``CodeReader`` takes a list of sources (config dicts ``{kind: dir|git|parquet, path: ..., name: ...}``) and turns the
files whose extension the language table knows into documents. Work is split between ranks by file (parquet: by row
group): every rank lists the sources the same way (sorted, metadata only) and reads the items whose index modulo
the world size is its rank. Items dropped while listing (vendored directories, symlinks, special files) are counted
by rank 0 only, so the stats add up across ranks.

Nothing is read outside a source's root: directory symlinks are never descended into and file symlinks are never
followed (a target inside the root is read at its own path anyway; one outside must not be read), files are opened
with ``O_NOFOLLOW`` and must be regular, and at most ``max_bytes + 1`` bytes are read from any file. Binary content
(NUL bytes) and invalid UTF-8 are counted drops.
"""

from __future__ import annotations

import hashlib
import operator
import os
import stat
import subprocess
import time
from pathlib import Path
from typing import Generator, Iterable, Iterator, NamedTuple

from datatrove.data import Document
from datatrove.pipeline.base import PipelineStep

from proofpile.code.data import LanguageTable
from proofpile.code.licenses import LicenseDetector
from proofpile.config import read_list
from proofpile.stats import add_counts, add_times

SUBSET = "algebraic-stack"
_PARQUET_COLUMNS = frozenset((
    "content", "text", "path", "max_stars_repo_path", "max_forks_repo_path", "max_issues_repo_path",
    "repository_name", "max_stars_repo_name", "max_forks_repo_name", "max_issues_repo_name",
    "max_stars_repo_head_hexsha", "max_forks_repo_head_hexsha", "max_issues_repo_head_hexsha",
    "licenses", "max_stars_repo_licenses", "max_forks_repo_licenses", "max_issues_repo_licenses", "license",
    "lang", "language", "hexsha"))
_LICENSE_READ = 1 << 16


class Item(NamedTuple):
    """One unit of work: a file to read (dir, git) or a row group to read (parquet). (A named tuple: one is made
    per file listed, and a frozen dataclass's ``__init__`` cost more than the rest of the listing per file.)"""

    source: int
    key: str  # relative path (dir, git), "file#row_group" (parquet)
    license: str | None = None
    blob: str | None = None  # git blob sha
    size: int = -1


def _git(repo: str, *args: str, input: bytes | None = None) -> bytes:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    return subprocess.run(["git", "-c", "safe.directory=*", "-C", repo, *args], input=input, env=env,
                          check=True, capture_output=True).stdout


def git_cutoff_commit(repo: str, cutoff: str | None, ref: str = "HEAD") -> str | None:
    """The last commit on ``ref`` whose committer date is before ``cutoff`` (a date is midnight UTC), or None."""
    args = ["rev-list", "-1"]
    if cutoff:
        when = f"{cutoff} 00:00:00 +0000" if len(str(cutoff)) == 10 else str(cutoff)
        args.append(f"--before={when}")
    out = _git(repo, *args, ref, "--").decode().strip()
    return out or None


class GitBlobs:
    """A ``git cat-file --batch`` process: blob contents by sha, without a checkout."""

    def __init__(self, repo: str):
        env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"}
        self.proc = subprocess.Popen(["git", "-c", "safe.directory=*", "-C", repo, "cat-file", "--batch"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)

    def read(self, sha: str) -> bytes | None:
        self.proc.stdin.write(sha.encode() + b"\n")
        self.proc.stdin.flush()
        header = self.proc.stdout.readline().split()
        if len(header) != 3 or header[1] != b"blob":
            return None
        size = int(header[2])
        data = self.proc.stdout.read(size)
        self.proc.stdout.read(1)  # the newline after the contents
        return data

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()
        self.proc.stdout.close()


_entry_name = operator.attrgetter("name")


def _utf8(name: str) -> bool:
    """Whether a file name (decoded with surrogateescape) is valid UTF-8: ids and meta must be."""
    if name.isascii():  # most are; undecodable bytes became surrogates, which are not ASCII
        return True
    try:
        name.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _within(root: str, path: str) -> bool:
    return os.path.commonpath([root, path]) == root


def _safe_dir(root: str, path: str, safe: dict[str, bool]) -> bool:
    """Whether the real path of a directory listed under ``root`` is still inside it (one swapped for a symlink since
    may not be), remembered in ``safe``. A directory that is not a symlink, in a safe one, is safe: one ``lstat``
    instead of ``realpath``'s one per component from ``/``; any other is resolved. (A loop, not recursion: a deep
    tree must not exceed Python's recursion limit.)"""
    unknown = []
    while path != root and path not in safe and len(path) > len(root):
        unknown.append(path)
        path = os.path.dirname(path)
    ok = path == root or safe.get(path, False)
    for d in reversed(unknown):  # from the top down
        try:
            plain = not stat.S_ISLNK(os.lstat(d).st_mode)
        except OSError:
            plain = False
        ok = safe[d] = (ok and plain) or _within(root, os.path.realpath(d))
    return ok


_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


def read_regular_file(path: str, max_bytes: int) -> tuple[bytes | None, str | None]:
    """At most ``max_bytes + 1`` bytes of a regular file that is not a symlink -> (bytes, None) or (None, reason)."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as e:
        return None, "symlink" if e.errno == 40 else "unreadable"  # ELOOP: the last component is a symlink
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None, "special_file"
        if st.st_size > max_bytes:
            return None, "too_large"  # not read at all: a 2 GB sparse file costs one fstat
        if 0 < st.st_size <= 1 << 20:  # most files: all of them in one read of the size fstat gave
            data = os.read(fd, st.st_size)
            if len(data) == st.st_size:
                return data, None
            os.lseek(fd, 0, os.SEEK_SET)  # it shrank since: read as any other file
        chunks, remaining = [], max_bytes + 1  # the file may have grown since fstat
        while remaining > 0:
            done = max_bytes + 1 - remaining
            # the size fstat gave, asked for: a read of 1 MiB allocated (and freed) a 1 MiB buffer per file, which
            # cost more than the read itself (past it, or for a file whose size fstat does not say, 1 MiB at a time)
            chunk = os.read(fd, min(remaining, st.st_size - done if st.st_size > done else 1 << 20, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
            if done + len(chunk) == st.st_size:  # the size fstat gave, all read: no read for the end (a file that
                break  # grows now is read as it was, as it would be had it grown after that read)
        data = b"".join(chunks)
        if len(data) > max_bytes:
            return None, "too_large"
        return data, None
    except OSError:
        return None, "unreadable"
    finally:
        os.close(fd)


def decode_source(data: bytes) -> tuple[str | None, str | None]:
    if b"\x00" in data:
        return None, "binary"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, "invalid_utf8"
    text = text.removeprefix("\ufeff")
    if not text or text.isspace():  # (not ``strip()``: no copy of the file)
        return None, "empty"
    return text, None


class CodeReader(PipelineStep):
    """Source files of the configured sources -> documents with ``meta.path/repo/commit/license/source``."""

    type = "📖 - READER"
    name = "🧮 Code sources"

    def __init__(self, sources: list[dict], languages: str, vendored_dirs: str, licenses: str,
                 max_bytes: int = 1048575, max_bytes_by_ext: dict[str, int] | None = None,
                 cutoff: str | None = None):
        super().__init__()
        self.sources = [dict(s) for s in sources]
        for s in self.sources:
            if s.get("kind") not in ("dir", "git", "parquet"):
                raise ValueError(f"code source {s}: kind must be dir, git or parquet")
            if not s.get("path"):
                raise ValueError(f"code source {s}: no path")
        self.table = LanguageTable.load(languages)
        self.skip_dirs = frozenset(read_list(vendored_dirs))
        self.licenses = LicenseDetector(licenses)
        self.max_bytes = max_bytes
        self.max_bytes_by_ext = dict(max_bytes_by_ext or {})
        self._capped_endings = tuple(f".{ext}" for ext in self.max_bytes_by_ext)
        self.cutoff = cutoff

    # -- helpers -------------------------------------------------------------------------------------------------
    def _cap(self, path: str) -> int:
        if not path.lower().endswith(self._capped_endings):  # none of those extensions: no need to look it up
            return self.max_bytes
        return self.max_bytes_by_ext.get(self.table.extension_of(path), self.max_bytes)

    def _source_name(self, source: dict) -> str:
        return source.get("name") or Path(str(source["path"]).rstrip("/")).name

    def _count(self, counting: bool, reason: str) -> None:
        if counting:
            self.stat_update(f"dropped_{reason}")

    # -- listing -------------------------------------------------------------------------------------------------
    def list_dir(self, index: int, source: dict, counting: bool) -> Iterator[Item]:
        """Regular files under a directory, sorted, depth first, never leaving it; each file's license is the one
        of the nearest enclosing directory that holds a license file."""
        root = os.path.realpath(source["path"])
        if not os.path.isdir(root):
            raise FileNotFoundError(f"code source directory not found: {source['path']}")

        is_license_file, known_extension = self.licenses.is_license_file, self.table.extension_of

        def listing(rel: str, inherited: str | None) -> tuple[list[Item], list[str], str | None]:
            """One directory: its files (as items), its subdirectories to descend into, its license."""
            path = os.path.join(root, rel) if rel else root
            try:
                with os.scandir(path) as it:
                    entries = sorted(it, key=_entry_name)
            except OSError:
                self._count(counting, "unreadable_dir")
                return [], [], inherited
            license = inherited
            for e in entries:
                if is_license_file(e.name) and e.is_file(follow_symlinks=False):
                    data, _ = read_regular_file(e.path, _LICENSE_READ)
                    if data is not None:
                        license = self.licenses.identify(data[:_LICENSE_READ].decode("utf-8", "replace"))
                        break
            files, subdirs = [], []
            parent = f"{rel}/" if rel else ""
            for e in entries:
                name = e.name
                if not (name.isascii() or _utf8(name)):
                    self._count(counting, "invalid_path")
                elif e.is_symlink():
                    self._count(counting, self._symlink_reason(root, e.path))
                elif e.is_dir(follow_symlinks=False):
                    if name in self.skip_dirs:
                        self._count(counting, "vendored_dir")
                    else:
                        subdirs.append(parent + name)
                elif known_extension(name) is None:
                    continue
                elif e.is_file(follow_symlinks=False):
                    files.append(Item(index, parent + name, license))
                else:
                    self._count(counting, "special_file")
            return files, subdirs, license

        # depth first with an explicit stack, not recursion: a deeply nested tree must not exceed Python's
        # recursion limit (each directory's files, then its subdirectories in name order)
        stack: list[tuple[str, str | None]] = [("", None)]
        while stack:
            rel, inherited = stack.pop()
            files, subdirs, license = listing(rel, inherited)
            yield from files
            stack.extend((sub, license) for sub in reversed(subdirs))

    @staticmethod
    def _symlink_reason(root: str, path: str) -> str:
        try:
            target = str(Path(path).resolve(strict=True))
        except RuntimeError:
            return "symlink_loop"
        except OSError as e:
            return "symlink_loop" if e.errno == 40 else "symlink_broken"
        if not _within(root, target):
            return "symlink_outside_root"
        return "symlink"  # inside the root: its target is read at its own path

    def _git_repos(self, source: dict) -> list[str]:
        path = str(source["path"])
        if os.path.exists(os.path.join(path, ".git")) or os.path.exists(os.path.join(path, "HEAD")):
            return [path]
        # a folder of repositories
        return sorted(os.path.join(path, d) for d in os.listdir(path)
                      if os.path.exists(os.path.join(path, d, ".git")) or os.path.exists(os.path.join(path, d, "HEAD")))

    def list_git(self, index: int, source: dict, repo: str, counting: bool) -> tuple[str | None, list[Item]]:
        cutoff = source.get("cutoff", self.cutoff)
        commit = git_cutoff_commit(repo, cutoff, source.get("ref", "HEAD"))
        if commit is None:
            self._count(counting, "git_no_commit_before_cutoff")
            return None, []
        out = _git(repo, "ls-tree", "-r", "-l", "-z", "--full-tree", commit)
        entries = []
        for record in out.split(b"\0"):
            if not record:
                continue
            head, _, path = record.partition(b"\t")
            mode, kind, sha, size = head.decode().split()
            entries.append((path.decode("utf-8", "surrogateescape"), mode, kind, sha, size))
        # licenses by directory: the nearest enclosing one wins
        license_blobs = {}
        for path, mode, kind, sha, size in entries:
            d, _, name = path.rpartition("/")
            if kind == "blob" and mode != "120000" and self.licenses.is_license_file(name) and d not in license_blobs:
                license_blobs[d] = sha
        licenses = {}
        if license_blobs:
            blobs = GitBlobs(repo)
            try:
                for d, sha in sorted(license_blobs.items()):
                    data = blobs.read(sha) or b""
                    licenses[d] = self.licenses.identify(data[:_LICENSE_READ].decode("utf-8", "replace"))
            finally:
                blobs.close()

        def license_of(path: str) -> str | None:
            d = path
            while d:
                d = d.rpartition("/")[0]
                if d in licenses:
                    return licenses[d]
            return None

        items, vendored = [], set()
        for path, mode, kind, sha, size in sorted(entries):
            parts = path.split("/")
            skipped = next((i for i, p in enumerate(parts[:-1]) if p in self.skip_dirs), None)
            if skipped is not None:
                vendored.add("/".join(parts[: skipped + 1]))
                continue
            if not self.table.known(parts[-1]):
                continue
            if not _utf8(path):
                self._count(counting, "invalid_path")
            elif kind != "blob":
                self._count(counting, "submodule")
            elif mode == "120000":
                self._count(counting, "symlink")  # never followed: its target is a path, maybe outside the repo
            elif not size.isdigit():
                self._count(counting, "git_missing_object")  # `ls-tree -l` prints BAD: the blob is not there
            else:
                items.append(Item(index, path, license=license_of(path), blob=sha, size=int(size)))
        for _ in vendored:
            self._count(counting, "vendored_dir")
        return commit, items

    def list_parquet(self, index: int, source: dict) -> Iterator[Item]:
        import pyarrow.parquet as pq
        from datatrove.io import get_datafolder

        folder = get_datafolder(str(source["path"]))
        for f in folder.list_files(glob_pattern=source.get("glob", "**/*.parquet")):
            with folder.open(f, "rb") as fh:
                row_groups = pq.ParquetFile(fh).num_row_groups
            for rg in range(row_groups):
                yield Item(index, f"{f}#{rg}")

    # -- reading -------------------------------------------------------------------------------------------------
    def _document(self, data: bytes | None, reason: str | None, doc_id: str, meta: dict,
                  meta_made: bool = False) -> Document | None:
        """The document of a file read (``data``) or its drop (``reason``); its metadata is the subset, then
        ``meta`` without its None values (``meta_made=True``: ``meta`` is that already)."""
        if data is not None:
            text, reason = decode_source(data)
        if reason:
            self.stat_update(f"dropped_{reason}")
            return None
        if not meta_made:
            meta = {"subset": SUBSET, **{k: v for k, v in meta.items() if v is not None}}
        self._files_read += 1  # added to the stats as ``files_read`` when ``run`` ends
        return Document(text=text, id=doc_id, metadata=meta)

    def read_dir_files(self, source: dict, items: Iterable[Item], times: list[float], rank: int = 0,
                       world_size: int = 1, n: int = 0) -> Generator[Document, None, int]:
        """The documents of a directory source's items: those whose index (from ``n`` on) modulo ``world_size`` is
        ``rank``; the time of each file read in ``times``. Returns ``n`` plus the number of items. A file under a
        directory that now leads outside the root (swapped for a symlink since it was listed) is not read."""
        root = os.path.realpath(source["path"])
        prefix = root if root.endswith("/") else root + "/"  # os.path.join(root, key): the key is relative, clean
        name = self._source_name(source)
        safe_dirs: dict[str, bool] = {}
        safe_parent = None  # the last directory found safe: items come a directory at a time
        clock = time.perf_counter
        for item in items:
            n += 1
            if (n - 1) % world_size != rank:
                continue
            start = clock()  # track_time() per file, added to the stats at the end
            key = item.key
            path = prefix + key
            parent = path.rpartition("/")[0] if "/" in key else root
            if parent != safe_parent:  # (_safe_dir's answer for a directory never changes: it is remembered)
                if not _safe_dir(root, parent, safe_dirs):
                    self.stat_update("dropped_symlink_outside_root")
                    times.append(clock() - start)
                    continue
                safe_parent = parent
            data, reason = read_regular_file(path, self._cap(key))
            meta = {"subset": SUBSET, "source": "dir", "repo": name, "path": key}
            if item.license is not None:
                meta["license"] = item.license
            doc = self._document(data, reason, f"{name}:{key}", meta, meta_made=True)
            times.append(clock() - start)
            if doc is not None:
                yield doc
        return n

    def read_parquet_row_group(self, source: dict, item: Item) -> Iterator[Document]:
        import pyarrow.parquet as pq
        from datatrove.io import get_datafolder

        folder = get_datafolder(str(source["path"]))
        f, _, rg = item.key.rpartition("#")
        with folder.open(f, "rb") as fh:
            pf = pq.ParquetFile(fh)
            wanted = [c for c in pf.schema_arrow.names if c in _PARQUET_COLUMNS]  # skip the rest of The Stack's
            table = pf.read_row_group(int(rg), columns=wanted)
        cols = set(table.column_names)

        def col(*names):
            name = next((n for n in names if n in cols), None)
            return table.column(name).to_pylist() if name else [None] * table.num_rows

        contents = col("content", "text")
        paths = col("path", "max_stars_repo_path", "max_forks_repo_path", "max_issues_repo_path")
        repos = col("repository_name", "max_stars_repo_name", "max_forks_repo_name", "max_issues_repo_name")
        commits = col("max_stars_repo_head_hexsha", "max_forks_repo_head_hexsha", "max_issues_repo_head_hexsha")
        licenses = col("licenses", "max_stars_repo_licenses", "max_forks_repo_licenses", "max_issues_repo_licenses",
                       "license")
        langs = col("lang", "language")
        hexshas = col("hexsha")
        name = self._source_name(source)
        for row, content in enumerate(contents):
            path = paths[row] or ""
            if content is None:
                self.stat_update("dropped_empty")
                continue
            data = content.encode("utf-8", "surrogatepass") if isinstance(content, str) else bytes(content)
            cap = self._cap(path) if path else self.max_bytes
            reason = "too_large" if len(data) > cap else None
            license = licenses[row]
            if isinstance(license, list):
                license = " AND ".join(license) if license else None
            if repos[row] and path:
                doc_id = f"{repos[row]}@{commits[row]}:{path}" if commits[row] else f"{repos[row]}:{path}"
            else:
                doc_id = f"{name}:{hexshas[row] or hashlib.sha1(data).hexdigest()}"
            yield self._document(None if reason else data, reason, doc_id, {
                "source": "parquet", "repo": repos[row], "path": path or None, "commit": commits[row],
                "license": license, "stack_lang": langs[row]})

    # -- the step ------------------------------------------------------------------------------------------------
    _files_read = 0

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        if data:
            yield from data
        try:
            yield from self._read(rank, world_size)
        finally:
            add_counts(self.stats, {"files_read": self._files_read})
            self._files_read = 0

    def _read(self, rank: int, world_size: int) -> Iterator[Document]:
        n = 0
        counting = rank == 0
        for index, source in enumerate(self.sources):
            kind = source["kind"]
            if kind == "dir":
                times = []
                try:
                    n = yield from self.read_dir_files(source, self.list_dir(index, source, counting), times, rank,
                                                       world_size, n)
                finally:
                    add_times(self.stats, times)
            elif kind == "git":
                repos = self._git_repos(source)
                for repo in repos:
                    name = source["name"] if source.get("name") and len(repos) == 1 else Path(repo).name
                    try:
                        commit, items = self.list_git(index, source, repo, counting)
                    except (subprocess.CalledProcessError, OSError, ValueError):
                        self._count(counting, "git_unreadable_repo")  # empty, corrupt, or not a repository
                        continue
                    mine = [item for i, item in enumerate(items) if (n + i) % world_size == rank]
                    n += len(items)
                    if mine:
                        yield from self._read_git(name, repo, commit, mine)
            else:
                for item in self.list_parquet(index, source):
                    if n % world_size == rank:
                        with self.track_time():
                            docs = list(self.read_parquet_row_group(source, item))
                        yield from (d for d in docs if d is not None)
                    n += 1

    def _read_git(self, name: str, repo: str, commit: str, items: list[Item]) -> Iterator[Document]:
        blobs = GitBlobs(repo)
        try:
            for item in items:
                with self.track_time():
                    cap = self._cap(item.key)
                    data, reason = (None, "too_large") if item.size > cap else (blobs.read(item.blob), None)
                    if data is None and reason is None:
                        reason = "unreadable"
                    doc = self._document(data, reason, f"{name}@{commit}:{item.key}", {
                        "source": "git", "repo": name, "commit": commit, "path": item.key, "license": item.license})
                if doc is not None:
                    yield doc
        finally:
            blobs.close()
