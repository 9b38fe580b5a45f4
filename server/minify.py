"""The tag's build: readable sources in static/, small files on the wire.

JavaScript goes through jsmin (comments and whitespace), then calmjs.parse, which
parses it, shortens the names local to each function and prints it compactly: each
function's names in the order they are declared, made of the letters the file uses
most, so that functions begin alike and gzip finds what it has seen. On the way, reads
of the site's settings (`settings.policyVersion`, `core.settings.mode`) become their
short keys, and the properties t.js and b.js hand each other their short names, both
from tagkeys.py. CSS goes through rcssmin. Each result is kept for the life of the
process, so collectors started side by side (tests, workers that share a parent) build
a file once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from calmjs.parse import asttypes, es5, rules
from calmjs.parse.handlers.core import token_handler_unobfuscate
from calmjs.parse.handlers.obfuscation import ID_CHARS, NameGenerator, Obfuscator
from calmjs.parse.lexers.es5 import Lexer
from calmjs.parse.ruletypes import Resolve
from calmjs.parse.unparsers.es5 import Unparser
from calmjs.parse.walkers import Walker
from jsmin import jsmin
from rcssmin import cssmin

from . import tagkeys


class BuildError(Exception):
    """A tag source the build cannot turn into what it promises (a bug in static/)."""


@lru_cache(maxsize=32)
def minify_js(text: str, shared_names: bool = False) -> str:
    """Minified JavaScript; with shared_names (t.js and b.js), the names of tagkeys.py
    shortened too."""
    compact = jsmin(text)
    tree = es5(compact)
    if shared_names:
        shorten_settings(tree)
        shorten_shared(tree)
    merge_var_statements(tree)
    unwrap_single_statements(tree)
    printer = Unparser(rules=[rules.minify(drop_semi=True), renaming(letters_by_use(compact))])
    return "".join(chunk.text for chunk in printer(tree))


def letters_by_use(text: str) -> str:
    """The letters a name may be made of, the most used in text first: the names then
    repeat what is already there, which gzip likes."""
    used = Counter(char for char in text if char in ID_CHARS)
    return "".join(sorted(ID_CHARS, key=lambda char: (-used[char], ID_CHARS.index(char))))


class Renaming(Obfuscator):  # type: ignore[misc]
    """calmjs.parse's renaming of the names local to each function, with the short names
    handed out in the order the names are declared (parameters first) rather than by
    use: functions then begin alike (`function(a,b){var c=…`)."""

    def __init__(self, letters: str) -> None:
        super().__init__(reserved_keywords=tuple(Lexer.keywords_dict))
        self.letters = letters

    def finalize(self) -> None:
        self.global_scope.close()
        names = NameGenerator(skip=self.reserved_keywords, charset=self.letters)
        for scope in self.global_scope.children:  # the global scope keeps its names
            rename(scope, names)


def rename(scope: Any, names: NameGenerator) -> None:
    free = names(skip=scope._reserved_symbols)
    for symbol in scope.referenced_symbols:  # in the order first seen
        if symbol in scope.local_declared_symbols:
            scope.remapped_symbols[symbol] = next(free)
    for child in scope.children:
        rename(child, names)


def renaming(letters: str) -> Callable[[], dict[str, Any]]:
    """The rules for calmjs.parse's Unparser, as calmjs.parse.rules.obfuscate writes them."""
    def rules() -> dict[str, Any]:
        renamer = Renaming(letters)
        return {"token_handler": token_handler_unobfuscate,
                "deferrable_handlers": {Resolve: renamer.resolve},
                "prewalk_hooks": [renamer.prewalk_hook]}
    return rules


@lru_cache(maxsize=32)
def minify_css(text: str) -> str:
    return str(cssmin(text))


def settings_reads(tree: Any) -> list[Any]:
    """The property reads on a settings object: settings.x, core.settings.x, receivedSettings.x."""
    found = []
    for node in Walker().filter(tree, lambda n: isinstance(n, asttypes.DotAccessor)):
        receiver = node.node
        name = (receiver.value if isinstance(receiver, asttypes.Identifier) else
                receiver.identifier.value if isinstance(receiver, asttypes.DotAccessor) else None)
        if name and tagkeys.holds_settings(name):
            found.append(node)
    return found


def shorten_settings(tree: Any) -> None:
    for node in settings_reads(tree):
        name = node.identifier.value
        if name not in tagkeys.SETTINGS:
            raise BuildError(f"settings.{name} is read by the tag but not in tagkeys.SETTINGS")
        node.identifier.value = tagkeys.SETTINGS[name]


def shorten_shared(tree: Any) -> None:
    """core.isGranted(…), {isGranted: …}: the names in tagkeys.SHARED, read or written."""
    for node in Walker().filter(tree, lambda n: isinstance(n, (asttypes.DotAccessor,
                                                               asttypes.Object))):
        names = ([node.identifier] if isinstance(node, asttypes.DotAccessor) else
                 [p.left for p in node.properties if isinstance(p.left, asttypes.PropIdentifier)])
        for name in names:
            name.value = tagkeys.SHARED.get(name.value, name.value)


def merge_var_statements(tree: Any) -> None:
    """`var a = 1; var b;` as `var a = 1, b;`: one keyword for neighbouring declarations,
    which is all the readable source loses by declaring one thing per statement."""
    bodies = [tree._children_list] + [
        node.elements for node in Walker().filter(tree, lambda n: isinstance(n, asttypes.FuncBase))]
    for body in bodies:
        merged: list[Any] = []
        for statement in body:
            if (isinstance(statement, asttypes.VarStatement) and merged
                    and isinstance(merged[-1], asttypes.VarStatement)):
                merged[-1]._children_list.extend(statement._children_list)
            else:
                merged.append(statement)
        body[:] = merged


# Statements that end in a nested statement: one of them as the body of an `if` that has
# an `else` could take that `else` for its own once unwrapped.
DANGLING = (asttypes.If, asttypes.For, asttypes.ForIn, asttypes.While, asttypes.With,
            asttypes.Label)


def unwrap_single_statements(tree: Any) -> None:
    """`if (a) { b(); }` as `if (a) b();`: the braces the readable source keeps around a
    single statement, dropped where the meaning cannot change."""
    for node in Walker().filter(tree, lambda n: isinstance(n, (asttypes.If, asttypes.For,
                                                               asttypes.ForIn, asttypes.While))):
        if isinstance(node, asttypes.If):
            if single(node.consequent) and not (
                    node.alternative is not None
                    and isinstance(node.consequent._children_list[0], DANGLING)):
                node.consequent = node.consequent._children_list[0]
            if node.alternative is not None and single(node.alternative):
                node.alternative = node.alternative._children_list[0]
        elif single(node.statement):
            node.statement = node.statement._children_list[0]


def single(statement: Any) -> bool:
    """A block of one statement that is not a declaration (a function declared in a
    block, or a block of `var`s, keeps its braces)."""
    return (isinstance(statement, asttypes.Block) and len(statement._children_list) == 1
            and not isinstance(statement._children_list[0], (asttypes.FuncDecl,
                                                             asttypes.VarStatement)))
