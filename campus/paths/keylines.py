"""Where each key of a TOML manifest is written, so that problems can name a line (pure)."""

from __future__ import annotations

import re


class KeyLines:
    """Find the line where a (dotted) key is written, so problems can point at it.

    tomllib keeps no positions; a light scan of the text is enough for the manifests we write:
    `key = …`, `[table]`, `[[array]]` (indexed as `array[0]`), and one-line inline tables that
    start an array element (`choices[1]`).
    """

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.-]+)\s*\]\]?")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")
    _DOTTED = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*\.")
    _ELEMENT = re.compile(r"^\s*\{")

    def __init__(self, text: str) -> None:
        self.lines: dict[str, int] = {}
        table = ""
        counters: dict[str, int] = {}
        array_key: str | None = None
        element_index = 0
        for number, line in enumerate(text.splitlines(), start=1):
            if header := self._HEADER.match(line):
                name = header[2]
                if header[1] == "[[":
                    index = counters.get(name, 0)
                    counters[name] = index + 1
                    table = f"{name}[{index}]"
                else:
                    table = name
                self.lines.setdefault(table, number)
                array_key = None
                continue
            if key := self._KEY.match(line):
                full = f"{table}.{key[1]}" if table else key[1]
                self.lines.setdefault(full, number)
                rest = line[key.end() :].strip()
                array_key, element_index = (full, 0) if rest.startswith("[") else (None, 0)
                if array_key and self._ELEMENT.match(rest[1:]):
                    self.lines.setdefault(f"{array_key}[0]", number)
                    element_index = 1
                continue
            if dotted := self._DOTTED.match(line):  # `a.b = …`: at least `a` is found
                self.lines.setdefault(f"{table}.{dotted[1]}" if table else dotted[1], number)
            if array_key and self._ELEMENT.match(line):
                self.lines.setdefault(f"{array_key}[{element_index}]", number)
                element_index += 1

    def line(self, dotted: str) -> int:
        """The line of the key, else of its nearest written parent, else 1."""
        while dotted:
            if dotted in self.lines:
                return self.lines[dotted]
            cut = max(dotted.rfind("."), dotted.rfind("["))
            dotted = dotted[:cut] if cut > 0 else ""
        return 1
