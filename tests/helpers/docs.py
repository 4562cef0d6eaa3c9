"""The runnable blocks of README.md and docs/*.md, as the docs test executes them.

A page is read top to bottom; its fenced blocks become steps:

- ```` ```bash ```` / ```` ```sh ````: a shell script, run with ``set -eo pipefail`` in the
  session's terminal; shell variables it sets stay set for the page's later blocks.
- ```` ```console ````: each ``$ command`` line is a command; lines under it are what it
  prints. When those start with ``Error:``, the command must fail and print that line's
  first words. A trailing ``\\`` continues a command on the next line.
- ```` ```python ````: run in one kernel of the session per page (magics included).
- any block whose first line is a comment naming a file (``# hello.yaml``,
  ``# train.py``) is written to that file in the page's folder instead of being run.

The line before a fence may carry a marker: ``<!-- docs-test: illustrative -->`` (not
run: a command for another machine, a cluster, or the test suite itself) or
``<!-- docs-test: admin -->`` (run with the hub admin's token outside a session, as an
admin would from their laptop). Markers stay rare; the test prints how many there are.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
RUNNABLE = {"bash": "bash", "sh": "bash", "console": "console", "python": "python"}
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w+-]*)\s*$")
MARKER = re.compile(r"<!--\s*docs-test:\s*(?P<what>[\w-]+)\s*-->")
FILE_COMMENT = re.compile(r"^(?:#|//)\s*(?P<name>[\w.-]+\.(?:ya?ml|json|py|txt|csv|cfg|toml))\s*$")


@dataclass
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    lang: str  # bash | console | python | file
    text: str
    marker: str = ""  # "" | "illustrative" | "admin"
    filename: str = ""  # for lang == "file"

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The page's fenced blocks that the docs test writes or runs, in order."""
    lines = page.read_text().splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m or not m["lang"]:
            i += 1
            continue
        start, lang, indent = i, m["lang"].lower(), len(m["indent"])
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][indent:])
            i += 1
        i += 1
        marker = ""
        before = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        if mm := MARKER.search(before):
            marker = mm["what"]
        text = "\n".join(body) + "\n"
        named = FILE_COMMENT.match(body[0]) if body else None
        if named and lang != "console":
            found.append(Block(page, start + 1, "file", text, marker, named["name"]))
        elif lang in RUNNABLE:
            found.append(Block(page, start + 1, RUNNABLE[lang], text, marker))
    return found


def console_script(text: str) -> str:
    """A ``console`` block as a shell script: each ``$`` command in order; a command shown
    printing ``Error: ...`` must fail and say so."""
    commands: list[tuple[str, list[str]]] = []
    pending = ""
    for raw in text.splitlines():
        if pending:
            pending += "\n" + raw
            if not raw.endswith("\\"):
                commands.append((pending, []))
                pending = ""
            continue
        if raw.startswith("$ "):
            cmd = raw[2:]
            if cmd.endswith("\\"):
                pending = cmd
            else:
                commands.append((cmd, []))
        elif commands:
            commands[-1][1].append(raw)
    out: list[str] = []
    for cmd, shown in commands:
        errors = [s for s in shown if s.startswith("Error:")]
        if not errors:
            out.append(cmd)
            continue
        expected = errors[0][len("Error:") :].strip()[:40]
        out.append(
            f"if __out=$({{ {cmd}\n}} 2>&1); then printf '%s\\n' \"$__out\"; "
            f"echo {shlex.quote('expected to fail: ' + cmd)} >&2; exit 1; fi\n"
            f'printf "%s\\n" "$__out"\n'
            f'grep -qF -- {shlex.quote(expected)} <<<"$__out" || '
            f"{{ echo {shlex.quote('expected the error to say: ' + expected)} >&2; exit 1; }}"
        )
    return "\n".join(out) + "\n"


def file_script(block: Block) -> str:
    """A shell line writing a file block into the page's folder."""
    eof = "__SUBMARINE_DOCS_EOF__"
    return f"cat > {shlex.quote(block.filename)} <<'{eof}'\n{block.text}{eof}\n"


# Runs one block in the session's terminal shell: the page's earlier variables are
# restored first and its new ones saved after, so blocks of a page share shell state the
# way a person's terminal would.
RUNNER = r"""#!/bin/bash
# usage: run.sh PAGE_DIR BLOCK_SCRIPT STATE_FILE
mkdir -p "$1" && cd "$1" || exit 90
__before=$(compgen -v | sort)
[ -f "$3" ] && source "$3"
set -eo pipefail
source "$2"
set +eo pipefail
comm -13 <(printf '%s\n' "$__before") <(compgen -v | sort) \
  | grep -v -e '^__' -e '^BASH' -e '^_$' -e '^PIPESTATUS$' \
  | while read -r v; do declare -p "$v" 2>/dev/null; done > "$3.new"
mv "$3.new" "$3"
"""
