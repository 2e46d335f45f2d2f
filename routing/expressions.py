"""A tiny, safe expression language for skill requirements and routing-rule filters.

Theory of operation
-------------------
``parse(source)`` tokenizes and parses ``source`` once, by hand (never ``eval``), and compiles
it into nested closures; ``Expression.evaluate(values)`` only calls them, so it is cheap enough
for the router's hot path. Two uses, told apart by ``missing``:

- skill requirements, ``billing >= 3 and lang_es >= 2``: ``parse(src, missing=0)``, because an
  agent without a skill has proficiency 0;
- rule filters on interaction attributes, ``channel == "webchat" and not in_business_hours``:
  ``parse(src)``, where a name not in the mapping is ``None``.

Grammar (keywords are lowercase; ``not`` binds tighter than ``and``, ``and`` than ``or``)::

    expr       := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | "(" expr ")" | comparison
    comparison := operand [ ("==" | "!=" | "<" | "<=" | ">" | ">=") operand
                          | "in" "[" [literal ("," literal)* [","]] "]"
                          | "contains" operand ]
    operand    := name | literal
    literal    := integer | decimal | string | "true" | "false"
    name       := [A-Za-z_][A-Za-z0-9_.]*   (looked up as a flat key: "customer.tier")

Strings take double or single quotes and the escapes ``\\\\ \\" \\' \\n \\t \\r``. Numbers may
carry a leading ``-``.

Invariants:

- parsing either returns an ``Expression`` or raises ``ExpressionError`` (an ``InvalidInput``)
  with the 0-based column of the fault; the source is at most ``MAX_LENGTH`` characters and
  nests (parentheses and ``not``) at most ``MAX_DEPTH`` deep;
- evaluation never raises and always returns a ``bool``. Values are of three kinds: numbers
  (``int``/``float``/real numbers, but not ``bool``), strings (``str`` and ``StrEnum``) and
  booleans. A comparison holds only when both sides are of the same kind and the relation
  holds, so ``None`` (a missing attribute) or a mismatch (``"a" < 3``) makes it False; that
  includes ``!=``, so ``tier != "vip"`` is False when ``tier`` is missing (write
  ``not tier == "vip"`` to include it). Booleans are only equal or unequal, never ordered.
- ``contains`` is a case-insensitive substring test on two strings; ``in`` is equality with
  any item of the list. A name alone is tested for truth (``0``, ``""``, ``None`` are false).
- ``Expression.names`` is every name the source mentions, even in a branch that can never
  decide the result.
"""

from __future__ import annotations

import numbers
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from hub.errors import InvalidInput

MAX_LENGTH: Final = 1000
MAX_DEPTH: Final = 50

Values = Mapping[str, object]
Predicate = Callable[[Values], bool]


class ExpressionError(InvalidInput):
    """The source is not a valid expression; ``position`` is the 0-based column of the fault."""

    def __init__(self, problem: str, position: int, source: str) -> None:
        shown = source if len(source) <= MAX_LENGTH else source[:60] + "..."
        super().__init__(f'{problem} at column {position} in "{shown}"')
        self.problem = problem
        self.position = position
        self.source = source


@dataclass(frozen=True, slots=True)
class Expression:
    """A parsed expression; build it with ``parse``, never directly."""

    source: str
    names: frozenset[str]
    missing: object = field(hash=False, repr=False)
    _predicate: Predicate = field(compare=False, hash=False, repr=False)

    def evaluate(self, values: Values) -> bool:
        """Whether the expression holds for ``values`` (names not in it are ``missing``)."""
        return self._predicate(values)

    def __str__(self) -> str:
        return self.source


def parse(source: str, *, missing: object = None) -> Expression:
    """Parse and compile ``source``; ``missing`` stands for any name absent at evaluation."""
    if not isinstance(source, str):
        raise ExpressionError(
            f"an expression must be a string, not {type(source).__name__}", 0, repr(source)
        )
    if len(source) > MAX_LENGTH:
        raise ExpressionError(
            f"expression is {len(source)} characters long; the limit is {MAX_LENGTH}",
            MAX_LENGTH,
            source,
        )
    parser = _Parser(source, missing)
    predicate = parser.parse()
    return Expression(source, frozenset(parser.names), missing, predicate)


# --- tokens -----------------------------------------------------------------------------

_NAME, _NUMBER, _STRING, _KEYWORD, _SYMBOL, _END, _ERROR = (
    "name",
    "number",
    "string",
    "keyword",
    "symbol",
    "end",
    "error",  # a lexical fault; its value is the ExpressionError to raise on reaching it
)
_KEYWORDS: Final = frozenset({"and", "or", "not", "in", "contains", "true", "false"})
_TWO_CHAR: Final = frozenset({"==", "!=", "<=", ">="})
_ONE_CHAR: Final = frozenset("<>()[],")
_ESCAPES: Final = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t", "r": "\r"}
_HINTS: Final = {
    "=": " (use '==' to compare)",
    "&": " (use 'and')",
    "|": " (use 'or')",
    "!": " (use 'not', or '!=' to compare)",
}
_WHITESPACE: Final = frozenset(" \t\r\n")
_DIGITS: Final = frozenset("0123456789")
_NAME_START: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NAME_REST: Final = _NAME_START | _DIGITS | {"."}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str  # as written in the source
    value: object  # the literal's value, or the text for names, keywords and symbols
    position: int

    def describe(self) -> str:
        if self.kind == _END:
            return "end of expression"
        text = self.text if len(self.text) <= 20 else self.text[:17] + "..."
        return f"keyword '{text}'" if self.kind == _KEYWORD else f"'{text}'"


def _tokenize(source: str) -> list[_Token]:
    """Split ``source`` into tokens ending in an end token, or in an error token at the first
    character that cannot start one, so that the parser reports the leftmost fault."""
    tokens: list[_Token] = []
    try:
        _scan(source, tokens)
    except ExpressionError as error:
        tokens.append(_Token(_ERROR, "", error, error.position))
        return tokens
    tokens.append(_Token(_END, "", None, len(source)))
    return tokens


def _scan(source: str, tokens: list[_Token]) -> None:
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if c in _WHITESPACE:
            i += 1
        elif c in _NAME_START:
            j = i + 1
            while j < n and source[j] in _NAME_REST:
                j += 1
            word = source[i:j]
            if word in _KEYWORDS:
                tokens.append(_Token(_KEYWORD, word, word, i))
            elif word.lower() in _KEYWORDS:
                raise ExpressionError(
                    f"'{word}' is not allowed as a name; keywords are lowercase ('{word.lower()}')",
                    i,
                    source,
                )
            else:
                tokens.append(_Token(_NAME, word, word, i))
            i = j
        elif c in _DIGITS or (c == "-" and i + 1 < n and source[i + 1] in _DIGITS):
            j = i + 1
            while j < n and source[j] in _DIGITS:
                j += 1
            value: int | float
            if j + 1 < n and source[j] == "." and source[j + 1] in _DIGITS:
                j += 2
                while j < n and source[j] in _DIGITS:
                    j += 1
                value = float(source[i:j])
            else:
                value = int(source[i:j])
            tokens.append(_Token(_NUMBER, source[i:j], value, i))
            i = j
        elif c in "\"'":
            i = _string(source, i, tokens)
        elif source[i : i + 2] in _TWO_CHAR:
            tokens.append(_Token(_SYMBOL, source[i : i + 2], source[i : i + 2], i))
            i += 2
        elif c in _ONE_CHAR:
            tokens.append(_Token(_SYMBOL, c, c, i))
            i += 1
        else:
            shown = c if c.isprintable() else repr(c)[1:-1]
            raise ExpressionError(f"unexpected '{shown}'{_HINTS.get(c, '')}", i, source)


def _string(source: str, start: int, tokens: list[_Token]) -> int:
    """Read the string literal opening at ``start``; return the index just past it."""
    quote = source[start]
    chars: list[str] = []
    i, n = start + 1, len(source)
    while i < n:
        c = source[i]
        if c == quote:
            tokens.append(_Token(_STRING, source[start : i + 1], "".join(chars), start))
            return i + 1
        if c == "\\" and i + 1 < n:
            escaped = _ESCAPES.get(source[i + 1])
            if escaped is None:
                shown = source[i + 1] if source[i + 1].isprintable() else "?"
                raise ExpressionError(f"unknown escape '\\{shown}'", i, source)
            chars.append(escaped)
            i += 2
        else:
            chars.append(c)
            i += 1
    raise ExpressionError("unterminated string", start, source)


# --- parser -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Name:
    name: str


@dataclass(frozen=True, slots=True)
class _Const:
    value: object


_Operand = _Name | _Const

_COMPARATORS: Final[dict[str, Callable[[Any, Any], object]]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_FLIPPED: Final = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_ORDERING: Final = frozenset({"<", "<=", ">", ">="})


class _Parser:
    def __init__(self, source: str, missing: object) -> None:
        self.source = source
        self.missing = missing
        self.tokens = _tokenize(source)
        self.index = 0
        self.depth = 0
        self.names: set[str] = set()

    def parse(self) -> Predicate:
        first = self._peek()
        if first.kind == _END:
            raise ExpressionError("empty expression", first.position, self.source)
        predicate = self._or()
        token = self._peek()
        if token.kind != _END:
            raise self._unexpected(token)
        return predicate

    # helpers

    def _peek(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind == _ERROR:
            assert isinstance(token.value, ExpressionError)
            raise token.value
        return token

    def _next(self) -> _Token:
        token = self._peek()
        if token.kind != _END:
            self.index += 1
        return token

    def _at(self, kind: str, text: str) -> bool:
        token = self._peek()
        return token.kind == kind and token.text == text

    def _unexpected(self, token: _Token, why: str = "") -> ExpressionError:
        return ExpressionError(f"unexpected {token.describe()}{why}", token.position, self.source)

    def _enter(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(
                f"expression nests deeper than {MAX_DEPTH} levels", token.position, self.source
            )

    # grammar

    def _or(self) -> Predicate:
        parts = [self._and()]
        while self._at(_KEYWORD, "or"):
            self._next()
            parts.append(self._and())
        return _any_of(parts)

    def _and(self) -> Predicate:
        parts = [self._not()]
        while self._at(_KEYWORD, "and"):
            self._next()
            parts.append(self._not())
        return _all_of(parts)

    def _not(self) -> Predicate:
        if self._at(_KEYWORD, "not"):
            self._enter(self._next())
            inner = self._not()
            self.depth -= 1
            return _negate(inner)
        if self._at(_SYMBOL, "("):
            self._enter(self._next())
            inner = self._or()
            token = self._next()
            if not (token.kind == _SYMBOL and token.text == ")"):
                raise ExpressionError(
                    f"expected ')', found {token.describe()}", token.position, self.source
                )
            self.depth -= 1
            return inner
        return self._comparison()

    def _comparison(self) -> Predicate:
        left = self._operand()
        token = self._peek()
        if token.kind == _SYMBOL and token.text in _COMPARATORS:
            self._next()
            return _compare(token.text, left, self._operand(), self.missing)
        if token.kind == _KEYWORD and token.text == "in":
            self._next()
            return _member(left, self._list(), self.missing)
        if token.kind == _KEYWORD and token.text == "contains":
            self._next()
            return _contains(left, self._operand(), self.missing)
        return _truthy(left, self.missing)

    def _operand(self) -> _Operand:
        token = self._next()
        if token.kind == _NAME:
            self.names.add(token.text)
            return _Name(token.text)
        if token.kind in (_NUMBER, _STRING):
            return _Const(token.value)
        if token.kind == _KEYWORD and token.text in ("true", "false"):
            return _Const(token.text == "true")
        raise self._unexpected(token)

    def _list(self) -> frozenset[tuple[int, object]]:
        token = self._next()
        if not (token.kind == _SYMBOL and token.text == "["):
            raise ExpressionError(
                f"expected '[' after 'in', found {token.describe()}", token.position, self.source
            )
        items: set[tuple[int, object]] = set()
        while not self._at(_SYMBOL, "]"):
            token = self._next()
            if token.kind in (_NUMBER, _STRING):
                value = token.value
            elif token.kind == _KEYWORD and token.text in ("true", "false"):
                value = token.text == "true"
            else:
                why = " (list items must be literals)" if token.kind == _NAME else ""
                raise self._unexpected(token, why)
            items.add((_kind(value), value))
            if self._at(_SYMBOL, ","):
                self._next()
            elif not self._at(_SYMBOL, "]"):
                raise self._unexpected(self._peek())
        self._next()
        return frozenset(items)


# --- compiled nodes ---------------------------------------------------------------------
# Every node is a closure ``Values -> bool`` that never raises. ``_ALWAYS`` and ``_NEVER``
# are singletons so that constant sub-expressions fold away at compile time.

_NONE, _NUM, _STR, _BOOL = 0, 1, 2, 3
_EXACT_KINDS: Final[dict[type, int]] = {
    int: _NUM,
    float: _NUM,
    str: _STR,
    bool: _BOOL,
    type(None): _NONE,
}


def _kind(value: object) -> int:
    kind = _EXACT_KINDS.get(type(value))
    if kind is not None:
        return kind
    if isinstance(value, str):
        return _STR
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return _NUM
    return _NONE


def _ALWAYS(values: Values) -> bool:
    return True


def _NEVER(values: Values) -> bool:
    return False


def _constant(result: bool) -> Predicate:
    return _ALWAYS if result else _NEVER


def _all_of(parts: list[Predicate]) -> Predicate:
    if _NEVER in parts:
        return _NEVER
    live = tuple(p for p in parts if p is not _ALWAYS)
    if not live:
        return _ALWAYS
    if len(live) == 1:
        return live[0]
    if len(live) == 2:
        a, b = live
        return lambda values: a(values) and b(values)

    def all_of(values: Values) -> bool:
        for part in live:
            if not part(values):
                return False
        return True

    return all_of


def _any_of(parts: list[Predicate]) -> Predicate:
    if _ALWAYS in parts:
        return _ALWAYS
    live = tuple(p for p in parts if p is not _NEVER)
    if not live:
        return _NEVER
    if len(live) == 1:
        return live[0]
    if len(live) == 2:
        a, b = live
        return lambda values: a(values) or b(values)

    def any_of(values: Values) -> bool:
        for part in live:
            if part(values):
                return True
        return False

    return any_of


def _negate(inner: Predicate) -> Predicate:
    if inner is _ALWAYS:
        return _NEVER
    if inner is _NEVER:
        return _ALWAYS
    return lambda values: not inner(values)


def _truth(value: object) -> bool:
    try:
        return bool(value)
    except Exception:  # a value with a broken __bool__ is simply not true
        return False


def _compare_values(op: str, left: object, right: object) -> bool:
    kind = _kind(left)
    if kind == _NONE or kind != _kind(right) or (kind == _BOOL and op in _ORDERING):
        return False
    try:
        return bool(_COMPARATORS[op](left, right))
    except Exception:  # an exotic number type that refuses the comparison
        return False


def _getter(operand: _Operand, missing: object) -> Callable[[Values], object]:
    if isinstance(operand, _Const):
        value = operand.value
        return lambda values: value
    name = operand.name
    return lambda values: values.get(name, missing)


def _compare(op: str, left: _Operand, right: _Operand, missing: object) -> Predicate:
    if isinstance(left, _Const) and isinstance(right, _Const):
        return _constant(_compare_values(op, left.value, right.value))
    if isinstance(left, _Const) and isinstance(right, _Name):
        op, left, right = _FLIPPED[op], right, left
    if isinstance(left, _Name) and isinstance(right, _Const):
        return _name_vs_const(op, left.name, right.value, missing)
    get_left, get_right = _getter(left, missing), _getter(right, missing)
    return lambda values: _compare_values(op, get_left(values), get_right(values))


def _name_vs_const(op: str, name: str, const: object, missing: object) -> Predicate:
    """The hot path (``billing >= 3``): exact built-in types compare without a guard."""
    want = _kind(const)
    if want == _BOOL and op in _ORDERING:
        return _NEVER
    compare = _COMPARATORS[op]
    exact = _EXACT_KINDS.get

    def name_vs_const(values: Values) -> bool:
        value = values.get(name, missing)
        kind = exact(type(value))
        if kind == want:
            return compare(value, const) is True
        if kind is not None:
            return False
        return _compare_values(op, value, const)

    return name_vs_const


def _contains(left: _Operand, right: _Operand, missing: object) -> Predicate:
    if isinstance(right, _Const):
        if not isinstance(right.value, str):
            return _NEVER
        needle = right.value.casefold()
        if isinstance(left, _Const):
            return _constant(isinstance(left.value, str) and needle in left.value.casefold())
        name = left.name

        def contains(values: Values) -> bool:
            value = values.get(name, missing)
            return isinstance(value, str) and needle in value.casefold()

        return contains

    get_left, get_right = _getter(left, missing), _getter(right, missing)

    def contains_name(values: Values) -> bool:
        haystack, needle = get_left(values), get_right(values)
        return (
            isinstance(haystack, str)
            and isinstance(needle, str)
            and needle.casefold() in haystack.casefold()
        )

    return contains_name


def _member(left: _Operand, items: frozenset[tuple[int, object]], missing: object) -> Predicate:
    if isinstance(left, _Const):
        return _constant((_kind(left.value), left.value) in items)
    name = left.name

    def member(values: Values) -> bool:
        value = values.get(name, missing)
        kind = _kind(value)
        if kind == _NONE:
            return False
        try:
            return (kind, value) in items
        except Exception:  # an unhashable exotic number
            return False

    return member


def _truthy(operand: _Operand, missing: object) -> Predicate:
    if isinstance(operand, _Const):
        return _constant(_truth(operand.value))
    name = operand.name
    return lambda values: _truth(values.get(name, missing))


TRUE: Final = parse("true")
