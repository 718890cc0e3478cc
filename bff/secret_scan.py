"""Find configured secrets written down in the checkout production runs from.

Anything committed (a test's key, an example, a published vector) is known to everyone who has seen
the repository, and the sandbox's generated keys (var/keys) are known to everyone on the machine:
neither may sign tokens, encrypt data or talk to a gateway in production. The scan reads the
tracked text files once at start-up (git ls-files; without git, the tree minus what is never
tracked), skipping binary and huge files, and takes well under a second.
"""
from __future__ import annotations

import base64
import binascii
import os
import re
import subprocess

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SANDBOX_KEYS_DIRS = ("var/keys",)  # deploy/devrun.py KEYS_DIR: the sandbox's generated keys
MAX_FILE_BYTES = 2 * 1024 * 1024
_SKIP_DIRS = {".git", "node_modules", "miniprogram_npm", ".venv", "venv", "__pycache__", "var", ".pytest_cache",
              ".ruff_cache", ".mypy_cache", "build", "dist"}
_PEM_BODY = re.compile(rb"-----BEGIN [A-Z0-9 ]+-----(.+?)-----END [A-Z0-9 ]+-----", re.S)
_KEY_FORM = 200  # forms this long are key bodies (an RSA 2048 key's base64 is 300+ characters)


def _git_files(root: str) -> list[str] | None:
    """Tracked files by git, or None when there is no git or no repository."""
    if not os.path.isdir(os.path.join(root, ".git")) and not os.path.isfile(os.path.join(root, ".git")):
        return None
    try:
        # The checkout may belong to the deploying user, not the service's: say it is safe to read.
        done = subprocess.run(["git", "-c", f"safe.directory={root}", "ls-files", "-z"],  # noqa: S603, S607
                              cwd=root, capture_output=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return [os.path.join(root, name) for name in done.stdout.decode("utf-8", "replace").split("\0") if name]


def _walked_files(root: str, skip: set[str] | frozenset) -> list[str]:
    """Without git: the tree, minus what is never tracked (.env files, caches, var/, dependencies) and skip."""
    found = []
    skip_names = {os.path.basename(path) for path in skip}
    for directory, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS]
        for name in files:
            path = os.path.join(directory, name)
            if (name.startswith(".env") and name != ".env.example") or (
                    name in skip_names and os.path.realpath(path) in skip):
                continue
            found.append(path)
    return found


def _sandbox_files(root: str) -> list[str]:
    found = []
    for relative in SANDBOX_KEYS_DIRS:
        for directory, _dirs, files in os.walk(os.path.join(root, relative)):
            found.extend(os.path.join(directory, f) for f in files)
    return found


def project_files(root: str = PROJECT_ROOT, skip: set[str] | frozenset = frozenset()) -> list[str]:
    """The files to look in: tracked ones (only in a checkout: a pyproject.toml beside bff/) and the sandbox keys.

    Without git, the walk leaves out the paths in skip (the configured key files, should hospital IT
    keep them in the tree); a tracked file or one in the sandbox's keys is always read.
    """
    if not os.path.isfile(os.path.join(root, "pyproject.toml")):
        return _sandbox_files(root)
    tracked = _git_files(root)
    return (tracked if tracked is not None else _walked_files(root, skip)) + _sandbox_files(root)


def _read_text(path: str) -> bytes | None:
    """A file's bytes, or None for a binary, huge, missing or unreadable one."""
    try:
        if os.path.getsize(path) > MAX_FILE_BYTES:
            return None
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    return None if b"\0" in data[:8192] else data


def _flat(data: bytes) -> bytes:
    return data.translate(None, b" \t\r\n\f\v")


def key_forms(text: bytes) -> list[bytes]:
    """A key file's base64 bodies without whitespace (the PEM blocks', or the whole text if it has none)."""
    bodies = [_flat(body) for body in _PEM_BODY.findall(text)]
    return bodies or [_flat(text)]


def data_key_forms(value: str) -> list[bytes]:
    """DATA_KEY as written and as its decoded bytes in the encodings a person might copy it in."""
    forms = [value.encode()]
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return forms
    forms += [raw, raw.hex().encode(), raw.hex().upper().encode(), base64.urlsafe_b64encode(raw),
              base64.b64encode(raw).rstrip(b"=")]
    return [form for form in forms if len(form) >= 8]


def find(needles: dict[str, list[bytes]], root: str = PROJECT_ROOT, skip: set[str] | frozenset = frozenset()
         ) -> dict[str, str]:
    """For each setting whose value (any of its forms) occurs in a project file: that file, relative to root.

    Long forms (a key's base64 body) are also looked for with whitespace removed, so re-wrapping a key
    or splitting it over string literals' lines does not hide it.
    skip holds the configured key files' real paths, left out of a walk without git (see project_files).
    """
    found: dict[str, str] = {}
    pending = {name: forms for name, forms in needles.items() if forms}
    for path in project_files(root, skip):
        if not pending:
            break
        data = _read_text(path)
        if data is None:
            continue
        flat = None
        for name, forms in list(pending.items()):
            for form in forms:
                if len(form) >= _KEY_FORM and flat is None:
                    flat = _flat(data)
                if form in data or (len(form) >= _KEY_FORM and form in flat):
                    found[name] = os.path.relpath(path, root)
                    del pending[name]
                    break
    return found
