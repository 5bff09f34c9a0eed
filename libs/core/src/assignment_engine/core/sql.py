"""Named SQL blocks kept in `.sql` files beside the code that runs them.

A file holds blocks that each start with `-- name: block_name` followed by comment
lines saying what the statement does and what its parameters are. The blocks are
loaded once, at import of the module that calls `load_queries`.
"""

from __future__ import annotations

import re
from importlib import resources

NAME_LINE = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


class Queries(dict[str, str]):
    """Named statements of one file; a missing name raises KeyError naming it."""

    def __getattr__(self, name: str) -> str:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no SQL block named {name!r}") from None


def parse_queries(text: str) -> Queries:
    """Split `text` into its named blocks."""
    queries = Queries()
    matches = list(NAME_LINE.finditer(text))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        body = text[match.end() : end].strip()
        if match[1] in queries:
            raise ValueError(f"SQL block {match[1]!r} is defined twice")
        if not body:
            raise ValueError(f"SQL block {match[1]!r} is empty")
        queries[match[1]] = body
    return queries


def load_queries(package: str, filename: str) -> Queries:
    """Load the named blocks of `filename` from the package `package`."""
    return parse_queries(resources.files(package).joinpath(filename).read_text())
