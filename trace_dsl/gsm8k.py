"""Convert GSM8K solutions into traces that solve exactly to the gold answer.

A GSM8K answer is prose with calculator annotations (``16-3-4 = <<16-3-4=9>>9``) and a final
``#### 18``. The converter

1. collects the solution's equations in order: every annotation, plus plain-text equations
   (``40 / 10 = 4 days``) whose left side, stripped of unit words, evaluates exactly to the
   stated right side (so prose is never guessed at: an equation is kept only when it checks);
2. turns each expression into ``compute`` steps; a number equal to an earlier equation's
   result becomes a reference to that step, any other number an ``init``;
3. keeps the last equation whose result equals the gold answer as ``result`` and drops the
   steps that do not feed it;
4. names each init after the question words beside its number (``eggs``, ``price``), after
   the things the question lists (``people`` for "Ann, Bob and Cy"), or after a unit constant
   the problem's units call for (``minutes_per_hour``), and labels it grounded / counted /
   constant / ungrounded (see :mod:`trace_dsl.gsm8k_grounding`).

Nothing here is keyed to particular problems; every rule is about the shape of the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

from .ast import Compute, Init, Query, SubTrace, Trace
from .gsm8k_derive import UNIT_FACTORS, Facts, derive
from .gsm8k_grounding import counted_values, unit_constant
from .numbers import find_numbers, preprocess_numbers

__all__ = [
    "Conversion",
    "Failure",
    "InitGrounding",
    "convert",
    "convert_detailed",
    "grounding",
    "parse_gold",
]

Number = int | Fraction


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a problem could not be converted."""

    category: str  # stable: no_equations, no_equation_for_answer, bad_gold, ...
    message: str  # one sentence


@dataclass(frozen=True, slots=True)
class InitGrounding:
    """Where an init value comes from."""

    var: str  # the init's variable
    value: Number  # its value
    # "grounded" (written in the question), "counted" (the question lists that many things),
    # "constant" (a unit constant the problem's units call for) or "ungrounded"
    kind: str


@dataclass(frozen=True, slots=True)
class Conversion:
    """A converted problem: the trace, the gold answer and the grounding of every init."""

    trace: Trace
    answer: Number  # gold answer
    inits: tuple[InitGrounding, ...]

    @property
    def grounded_ratio(self) -> float:
        """Share of inits whose value the problem supplies (grounded, counted or a constant)."""
        if not self.inits:
            return 1.0
        return sum(g.kind != "ungrounded" for g in self.inits) / len(self.inits)


_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "per",
        "each",
        "every",
        "more",
        "less",
        "than",
        "and",
        "or",
        "to",
        "in",
        "on",
        "at",
        "for",
        "from",
        "by",
        "with",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "times",
        "time",
        "how",
        "many",
        "much",
        "what",
        "which",
        "that",
        "this",
        "these",
        "those",
        "it",
        "its",
        "his",
        "her",
        "their",
        "our",
        "your",
        "my",
        "other",
        "another",
        "all",
        "some",
        "about",
        "over",
        "under",
        "into",
        "out",
        "up",
        "down",
        "off",
        "only",
        "just",
        "then",
        "so",
        "if",
        "but",
        "not",
        "no",
        "yes",
        "do",
        "does",
        "did",
        "has",
        "have",
        "had",
        "will",
        "would",
        "can",
        "could",
        "should",
        "may",
        "might",
        "must",
        "he",
        "she",
        "they",
        "we",
        "you",
        "i",
        "s",
        "t",
        "one",
        "two",
        "half",
        "total",
        "new",
        "old",
        "first",
        "second",
        "third",
        "same",
        "extra",
    ]
)
_WORD_AFTER = re.compile(r"[\s$%\-]*([A-Za-z][A-Za-z'\-]*)")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z]*)[^A-Za-z0-9]*\Z")
_IDENT_BAD = re.compile(r"[^a-z0-9_]")
_RESERVED_NAMES = frozenset({"yes", "no", "true", "false", "on", "off", "null", "result", "prev"})


# ---------------------------------------------------------------------------------- expressions
_TOKEN = re.compile(
    r"\s*(?:(?P<frac>(?<![\d.,])\d+/\d+(?![\d.]))|(?P<num>\d+(?:,\d{3})+(?:\.\d+)?|\d*\.\d+|\d+)|(?P<op>\*\*|[-+*/^()×÷−–])|(?P<pct>%)|(?P<word>[A-Za-z][A-Za-z'’]*)|(?P<other>\S))"
)
_OPS = {"×": "*", "÷": "/", "−": "-", "–": "-", "^": "**"}


class _Bad(Exception):
    pass


Node = tuple  # ("num", Fraction, text) | ("op", name, [children])


def _lex(text: str) -> list[tuple[str, str]]:
    return [
        (m.lastgroup or "other", m.group(m.lastgroup or "other")) for m in _TOKEN.finditer(text)
    ]


def _tokens(
    raw: list[tuple[str, str]], pct_mode: str, frac_mode: bool
) -> list[tuple[str, object]] | None:
    """Turn lexemes into expression tokens; unit words are dropped, ``x`` between numbers
    means times; with ``frac_mode`` a glued ``2/3`` is one parenthesised fraction and ``1 1/2``
    a mixed number."""
    out: list[tuple[str, object]] = []
    i = 0
    n = len(raw)
    while i < n:
        kind, val = raw[i]
        if kind == "frac":
            p, q = val.split("/")
            if frac_mode:
                mixed = bool(out) and out[-1][0] == "num"
                if mixed:
                    whole = out.pop()
                    out.extend((("op", "("), whole, ("op", "+")))
                out.extend(
                    (
                        ("op", "("),
                        ("num", Fraction(p)),
                        ("op", "/"),
                        ("num", Fraction(q)),
                        ("op", ")"),
                    )
                )
                if mixed:
                    out.append(("op", ")"))
            else:
                out.extend((("num", Fraction(p)), ("op", "/"), ("num", Fraction(q))))
        elif kind == "num":
            out.append(("num", Fraction(val.replace(",", ""))))
        elif kind == "op":
            out.append(("op", _OPS.get(val, val)))
        elif kind == "pct":
            if not out or (out[-1][0] != "num" and out[-1] != ("op", ")")):
                return None
            if pct_mode == "scale":
                out.extend((("op", "/"), ("num", Fraction(100))))
        elif kind == "word":
            if val in ("x", "X") and out and out[-1][0] == "num":
                out.append(("op", "*"))
            elif i + 2 < n and raw[i + 1] == ("op", "/") and raw[i + 2][0] == "word":
                i += 2  # unit ratio like minutes/hour: skip it whole
        elif kind == "other":
            if val == "$":
                pass
            else:
                return None
        i += 1
    # parentheses as tokens of their own kind
    return [("(" if t == ("op", "(") else ")" if t == ("op", ")") else t[0], t[1]) for t in out]


class _Parser:
    """Recursive descent over + - * / ** with the usual precedence."""

    def __init__(self, toks: list[tuple[str, object]]) -> None:
        self.toks = toks
        self.i = 0

    def peek(self) -> tuple[str, object] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def parse(self) -> Node:
        node = self.expr()
        if self.i != len(self.toks):
            raise _Bad("trailing tokens")
        return node

    def expr(self) -> Node:
        node = self.term()
        while (t := self.peek()) is not None and t[0] == "op" and t[1] in ("+", "-"):
            self.i += 1
            node = ("op", "add" if t[1] == "+" else "sub", [node, self.term()])
        return node

    def term(self) -> Node:
        node = self.power()
        while True:
            t = self.peek()
            if t is not None and t[0] == "op" and t[1] in ("*", "/"):
                self.i += 1
                node = ("op", "mul" if t[1] == "*" else "div", [node, self.power()])
            elif t is not None and t[0] == "(":
                node = ("op", "mul", [node, self.power()])  # implicit product: 2(3+4)
            else:
                return node

    def power(self) -> Node:
        node = self.unary()
        t = self.peek()
        if t is not None and t == ("op", "**"):
            self.i += 1
            node = ("op", "pow", [node, self.power()])
        return node

    def unary(self) -> Node:
        t = self.peek()
        if t == ("op", "-"):
            self.i += 1
            inner = self.unary()
            if inner[0] == "num":
                return ("num", -inner[1])
            return ("op", "mul", [inner, ("num", Fraction(-1))])
        return self.atom()

    def atom(self) -> Node:
        t = self.peek()
        if t is None:
            raise _Bad("unexpected end")
        self.i += 1
        if t[0] == "num":
            return ("num", t[1])
        if t[0] == "(":
            node = self.expr()
            if self.peek() is None or self.peek()[0] != ")":  # type: ignore[index]
                raise _Bad("missing )")
            self.i += 1
            return node
        raise _Bad(f"unexpected {t}")


def _eval(node: Node) -> Fraction:
    if node[0] == "num":
        return Fraction(node[1])
    a, b = (_eval(c) for c in node[2])
    op = node[1]
    if op == "add":
        return a + b
    if op == "sub":
        return a - b
    if op == "mul":
        return a * b
    if op == "div":
        if b == 0:
            raise _Bad("division by zero")
        return a / b
    if b.denominator != 1 or abs(b) > 64:
        raise _Bad("pow out of range")
    return a ** int(b)


def _flatten(node: Node) -> Node:
    """Merge chains of add/mul into one n-ary step (fewer, more readable steps)."""
    if node[0] == "num":
        return node
    op, kids = node[1], [_flatten(c) for c in node[2]]
    if op in ("add", "mul"):
        flat: list[Node] = []
        for k in kids:
            if k[0] == "op" and k[1] == op:
                flat.extend(k[2])
            else:
                flat.append(k)
        kids = flat
    return ("op", op, kids)


def _parse_tokens(toks: list[tuple[str, object]] | None) -> Node | None:
    if not toks:
        return None
    try:
        return _Parser(toks).parse()
    except (_Bad, IndexError):
        return None


def _parse_expr(text: str, pct_mode: str) -> Node | None:
    return _parse_tokens(_tokens(_lex(text), pct_mode, False))


# ---------------------------------------------------------------------------------- equations
_ANNOTATION = re.compile(r"<<([^<>]*)>>")
_RHS_NUMBER = re.compile(r"\s*\$?\s*(-?\d+(?:,\d{3})*(?:\.\d+)?(?:/\d+)?|-?\.\d+)\s*(%?)")
_SEGMENT_BREAK = re.compile(
    r"[:;=?!]|\.(?:\s|$)|,\s|\b(?:so|and|then|is|are|of|gives|be)\b", re.IGNORECASE
)


def _equations(answer: str) -> list[tuple[Node, Fraction]]:
    """Every equation of a solution as (expression, result), in text order."""
    body = answer.split("####")[0]
    found = list(_arith_equations(body))
    if re.search(r"(?<![A-Za-z])[A-Za-z]\s*=|\d[A-Za-z](?![A-Za-z])", body):
        bare = _ANNOTATION.sub(lambda m: "", body)
        # offsets of the stripped text differ slightly; order by line is what matters
        scale = len(body) / max(1, len(bare))
        found += [(int(p * scale), n, v) for p, n, v in _linear_equations(bare)]
        found.sort(key=lambda t: t[0])
    return [(n, v) for _, n, v in found]


def _arith_equations(body: str) -> Iterator[tuple[int, Node, Fraction]]:
    """Annotations and plain-text arithmetic equations as (offset, expression, result)."""
    pos = 0
    for m in re.finditer(r"<<([^<>]*)>>|=", body):
        if m.group(0) != "=":
            expr, _, res = m.group(1).rpartition("=")
            node = _parse_expr(expr, "plain")
            try:
                value = Fraction(res.strip().replace(",", ""))
            except (ValueError, ZeroDivisionError):
                continue
            if node is not None and node[0] == "num":
                # <<6=6>>: a bare result; the equation is in the prose before it ("8 - 2 = ")
                eq = body.rfind("=", pos, m.start())
                line_start = body.rfind("\n", 0, m.start()) + 1
                if eq >= max(pos, line_start) and not body[eq + 1 : m.start()].strip(" $"):
                    found = _plain_equation(body[max(pos, line_start) : eq], res.strip(), False)
                    if found is not None:
                        node = found[0]
            if node is not None:
                try:
                    if _eval(node) == value:
                        yield m.start(), node, value
                except (_Bad, ZeroDivisionError, OverflowError):
                    pass
            pos = m.end()
            continue
        if m.start() < pos:
            continue
        rest = body[m.end() : m.end() + 40]
        if rest.lstrip(" $").startswith("<<"):
            continue  # the text copy of an annotation: the annotation itself is used
        rhs = _RHS_NUMBER.match(rest)
        line_start = body.rfind("\n", 0, m.start()) + 1
        left = body[max(line_start, pos) : m.start()]
        if rhs is None:
            continue
        found = _plain_equation(left, rhs.group(1), rhs.group(2) == "%")
        if found is not None:
            yield m.start(), found[0], found[1]


_LIN_TERM = re.compile(
    r"\s*([+-]?)\s*(?:(\d+(?:\.\d+)?|\.\d+|\(\d+/\d+\)|\d+/\d+)\s*\*?\s*)?([A-Za-z])?(?![A-Za-z0-9(])\s*"
)
_LIN_EQ = re.compile(r"([0-9A-Za-z.+\-*/() ]+?)=\s*\$?\s*(-?\d+(?:\.\d+)?)(?![\d.]*[A-Za-z(*/+])")


def _linear(lhs: str) -> tuple[Fraction, Fraction, str] | None:
    """``a*x + b`` (one letter variable, numeric coefficients) -> (a, b, x); None otherwise."""
    pos, a, b, var, end = 0, Fraction(0), Fraction(0), "", len(lhs.rstrip())
    first = True
    while pos < end:
        m = _LIN_TERM.match(lhs, pos)
        if m is None or m.end() == pos or (not first and not m.group(1)):
            return None
        sign, num, letter = m.groups()
        if num is None and letter is None:
            return None
        coef = Fraction(num.strip("()")) if num else Fraction(1)
        coef = -coef if sign == "-" else coef
        if letter:
            if var and letter != var:
                return None
            var, a = letter, a + coef
        else:
            b += coef
        pos, first = m.end(), False
    if not var or a == 0:
        return None
    return a, b, var


def _linear_equations(body: str) -> Iterator[tuple[int, Node, Fraction]]:
    """Solve ``a*x + b = c`` lines for x when the solution states x (or uses it) later."""
    for m in _LIN_EQ.finditer(body):
        lhs, rhs = m.group(1), Fraction(m.group(2))
        lin = None
        # the longest suffix of the left side that is linear in one letter
        for cut in [0, *(i + 1 for i, ch in enumerate(lhs) if ch == " ")]:
            lin = _linear(lhs[cut:])
            if lin is not None:
                break
        if lin is None:
            continue
        a, b, _var = lin
        if a == 1 and b == 0:
            continue
        x = (rhs - b) / a
        node: Node = ("num", rhs)
        if b != 0:
            # "3x - 5 = 16": x = (16 + 5) / 3, with the 5 the question states, not a -5
            node = (
                ("op", "sub", [node, ("num", b)]) if b > 0 else ("op", "add", [node, ("num", -b)])
            )
            if a != 1:
                # "2p + 12 = 70" then "2p = 58": the solution goes on from rhs - b
                yield m.end(), node, rhs - b
                node = ("num", rhs - b)
        if a != 1:
            node = ("op", "div", [node, ("num", a)])
        yield m.end(), node, x


def _plain_equation(left: str, rhs_text: str, rhs_pct: bool) -> tuple[Node, Fraction] | None:
    """The longest suffix of ``left`` that is an expression equal to the right side."""
    try:
        rhs = Fraction(rhs_text.replace(",", ""))
    except (ValueError, ZeroDivisionError):
        return None
    targets = (rhs, rhs / 100) if rhs_pct else (rhs,)
    raw = _lex(left)
    starts = [i for i, (k, v) in enumerate(raw) if k in ("num", "frac") or v == "("]
    for mode, frac in (("plain", False), ("scale", False), ("plain", True), ("scale", True)):
        if frac and not any(k == "frac" for k, _ in raw):
            continue
        if mode == "scale" and not any(k == "pct" for k, _ in raw):
            continue
        for start in starts[-8:]:
            node = _parse_tokens(_tokens(raw[start:], mode, frac))
            if node is None or node[0] == "num":
                continue
            try:
                value = _eval(node)
            except (_Bad, ZeroDivisionError, OverflowError):
                continue
            if value in targets:
                return node, value
    return None


# ---------------------------------------------------------------------------------- conversion
def parse_gold(answer: str) -> Number | None:
    """Read the gold answer after ``####`` (commas allowed); None when absent or not a number."""
    _, sep, tail = answer.rpartition("####")
    if not sep:
        return None
    text = tail.strip().replace(",", "").replace("$", "")
    try:
        f = Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None
    return f.numerator if f.denominator == 1 else f


class _Question:
    """Numbers of the question (after preprocess_numbers) and the words beside them."""

    def __init__(self, question: str) -> None:
        text, _ = preprocess_numbers(question)
        self.text = text
        self.mentions = find_numbers(text)
        values: dict[Fraction, int] = {}
        percents: list[Fraction] = []
        fractions: list[tuple[Fraction, Fraction]] = []
        for i, m in enumerate(self.mentions):
            values.setdefault(m.value, i)
            tail = text[m.end : m.end + 9].lstrip().lower()
            if tail.startswith(("%", "percent")):
                values.setdefault(m.value / 100, i)
            if "/" in m.text:
                p, q = m.text.split("/")
                values.setdefault(Fraction(p), i)
                values.setdefault(Fraction(q), i)
                values.setdefault(1 / Fraction(q), i)  # 20/100 grounds .01 as well
                if Fraction(q) == 100:
                    percents.append(Fraction(p))
                elif 0 < m.value < 1:
                    fractions.append((Fraction(p), Fraction(q)))
            elif tail.startswith(("%", "percent")):
                percents.append(m.value)
            # "1 1/2 cups": a mixed number is one quantity
            nxt = self.mentions[i + 1] if i + 1 < len(self.mentions) else None
            if (
                nxt is not None
                and m.value.denominator == 1
                and "/" in nxt.text
                and 0 < nxt.value < 1
                and text[m.end : nxt.start] in (" ", "-")
            ):
                values.setdefault(m.value + nxt.value, i)
        self.values = values
        self._facts_args = (percents, fractions)
        self._facts: Facts | None = None
        self._counted: dict[Fraction, str] | None = None

    def classify(self, value: Fraction) -> tuple[str, str]:
        """(kind, name word) of an init value: what in the question supplies it."""
        if value in self.values:
            return "grounded", self.name_for(value) or unit_constant(value, self.text) or "value"
        if self._counted is None:
            self._counted = counted_values(self.text)
        word = self._counted.get(value)
        if word is not None:
            return "counted", word
        word = unit_constant(value, self.text)
        if word is not None:
            return "constant", word
        return "ungrounded", "value"

    @property
    def facts(self) -> Facts:
        """What :func:`derive` needs; built on first use (most problems never need it)."""
        if self._facts is None:
            percents, fractions = self._facts_args
            self._facts = Facts(
                tuple(sorted(v for v in self.values if v > 0)),
                tuple(dict.fromkeys(percents)),
                tuple(dict.fromkeys(fractions)),
                tuple(dict.fromkeys(self._quantities())),
            )
        return self._facts

    def _quantities(self) -> Iterator[tuple[Fraction, Fraction]]:
        """(value, unit factor) of each mention followed by a unit word (or after ``$``)."""
        for m in self.mentions:
            if m.value <= 0:
                continue
            if self.text[max(0, m.start - 1) : m.start] == "$":
                yield m.value, Fraction(100)  # dollars <-> cents
            tail = self.text[m.end : m.end + 16].lstrip(" -")
            for unit, words in UNIT_FACTORS.items():
                if words.match(tail):
                    yield m.value, unit

    def name_for(self, value: Fraction) -> str | None:
        i = self.values.get(value)
        if i is None:
            return None
        m = self.mentions[i]
        # "... with four. She sells": at a clause end the noun usually comes before the number
        after_end = self.text[m.end : m.end + 2].lstrip()[:1] in (".", "?", "!", ";", ",", "")
        if after_end:
            word = self._word_before(m.start)
            if word is not None:
                return word
        for w in _WORD_AFTER.finditer(self.text, m.end, min(len(self.text), m.end + 60)):
            word = w.group(1).lower().replace("'", "").replace("-", "_")
            if word not in _STOP and len(word) > 1:
                return word
            if w.end() - m.end > 40:
                break
        return self._word_before(m.start)

    def _word_before(self, start: int) -> str | None:
        for w in reversed(
            list(re.finditer(r"[A-Za-z][A-Za-z]+", self.text[max(0, start - 40) : start]))
        ):
            word = w.group(0).lower()
            if word not in _STOP:
                return word
        return None


def _ident(word: str) -> str:
    word = _IDENT_BAD.sub("_", word.lower()).strip("_")[:24] or "n"
    if word[0].isdigit():
        word = "n_" + word
    return word


def _fraction_literal(node: Node) -> Fraction | None:
    """The value of ``a / b`` when ``node`` divides two plain numbers, else None."""
    if node[0] != "op" or node[1] != "div" or len(node[2]) != 2:
        return None
    a, b = node[2]
    if a[0] != "num" or b[0] != "num" or b[1] == 0:
        return None
    return Fraction(a[1]) / Fraction(b[1])


def _to_number(v: Fraction) -> Number:
    return v.numerator if v.denominator == 1 else v


def _decimal_ok(v: Fraction) -> bool:
    d = v.denominator
    while d % 2 == 0:
        d //= 2
    while d % 5 == 0:
        d //= 5
    return d == 1


def convert_detailed(question: str, answer: str) -> Conversion | Failure:
    """Convert one GSM8K problem, keeping the grounding of every init.

    Args:
        question: the problem text.
        answer: the annotated solution ending with ``#### N``.

    Returns:
        A :class:`Conversion` whose trace solves exactly to the gold answer, or a
        :class:`Failure` with a stable category.
    """
    gold = parse_gold(answer)
    if gold is None:
        return Failure("bad_gold", "no '#### N' gold answer")
    equations = list(_equations(answer))
    if not equations:
        category = "no_annotations" if "<<" not in answer else "no_equations"
        return Failure(category, "the solution has no equation that checks")
    final = max((i for i, (_, v) in enumerate(equations) if v == gold), default=None)
    if final is None:
        return Failure(
            "no_equation_for_answer", "no equation of the solution equals the gold answer"
        )
    equations = equations[: final + 1]
    q = _Question(question)

    # emit steps: (kind, payload); compute steps reference earlier results by value
    computes: list[tuple[str, list[object], str]] = []  # (op, args, var)
    inits: dict[Fraction, str] = {}  # value -> init var (one init per distinct value)
    init_order: list[Fraction] = []
    results: list[tuple[Fraction, str]] = []  # (value, var) of each equation, in order
    counter = [0]
    deriving: list[Fraction] = []  # non-empty while the leaves of a derivation are emitted

    def new_var() -> str:
        counter[0] += 1
        return f"s{counter[0]}"

    def literal(value: Fraction) -> str:
        for rv, rvar in reversed(results):
            if rv == value:
                return rvar
        var = inits.get(value)
        if var is None and not deriving and value not in q.values:
            # a literal the question implies (0.8 for 20% off): compute it from what it states;
            # the leaves of that computation are plain inits, never derived again
            node = derive(value, q.facts)
            if node is not None:
                deriving.append(value)
                var = emit(node)
                deriving.pop()
                inits[value] = var
        if var is None:
            var = f"i{len(inits)}"
            inits[value] = var
            init_order.append(value)
            computes.append(("init", [value], var))
        return var

    def emit(node: Node, top: bool = False) -> str:
        if node[0] == "num":
            return literal(node[1])
        whole = None if top else _fraction_literal(node)
        if whole is not None and not deriving:
            # "150*(1/3)" where the question says 2/3: the fraction is one quantity, the
            # complement of a stated one; its parts alone are not in the question
            a, b = (k[1] for k in node[2])
            if (a not in q.values or b not in q.values) and (
                (whole in q.values and _decimal_ok(whole))
                or (whole not in q.values and derive(whole, q.facts) is not None)
            ):
                return literal(whole)
        args = [emit(c) for c in node[2]]
        var = new_var()
        computes.append((node[1], args, var))  # type: ignore[arg-type]
        return var

    for node, value in equations:
        node = _flatten(node)
        var = literal(node[1]) if node[0] == "num" else emit(node, top=True)
        results.append((value, var))
    result_var = results[-1][1]
    if result_var.startswith("i"):
        return Failure("answer_is_given", "the answer is a number of the question, never computed")

    # keep only what feeds the result
    needed = {result_var}
    kept: list[tuple[str, list[object], str]] = []
    for op, args, var in reversed(computes):
        if var in needed:
            kept.append((op, args, var))
            if op != "init":
                needed.update(a for a in args if isinstance(a, str))
    kept.reverse()

    # names: inits after the question's words, intermediates step1.., the answer 'result'
    names: dict[str, str] = {}
    used: set[str] = set()
    grounding_list: list[InitGrounding] = []
    step_no = 0
    for op, args, var in kept:
        if op == "init":
            init_value = args[0]
            assert isinstance(init_value, Fraction)
            if not _decimal_ok(init_value):
                return Failure("not_decimal", f"init value {init_value} has no finite decimal form")
            kind, word = q.classify(init_value)
            base = _ident(word)
            if base in _RESERVED_NAMES or re.fullmatch(r"step\d+", base):
                base = base + "_n"
            name, k = base, 2
            while name in used:
                name, k = f"{base}_{k}", k + 1
            used.add(name)
            names[var] = name
            grounding_list.append(InitGrounding(name, _to_number(init_value), kind))
        elif var == result_var:
            names[var] = "result"
        else:
            step_no += 1
            names[var] = f"step{step_no}"
    steps: list[object] = []
    for op, args, var in kept:
        if op == "init":
            steps.append(Init(names[var], _to_number(args[0])))  # type: ignore[arg-type]
        else:
            steps.append(Compute(op, tuple(names[a] for a in args), names[var]))  # type: ignore[index]
    steps.append(Query("result"))
    trace = Trace((SubTrace("arithmetic", tuple(steps)),))  # type: ignore[arg-type]
    return Conversion(trace, gold, tuple(grounding_list))


def convert(question: str, answer: str) -> Trace | Failure:
    """Convert one GSM8K problem into a trace that solves exactly to its gold answer.

    Args:
        question: the problem text.
        answer: the annotated solution ending with ``#### N``.

    Returns:
        The :class:`Trace`, or a :class:`Failure` with a stable category.
    """
    out = convert_detailed(question, answer)
    return out.trace if isinstance(out, Conversion) else out


def grounding(question: str, trace: Trace) -> tuple[InitGrounding, ...]:
    """Label every init of a trace: grounded, counted, a unit constant, or ungrounded.

    See :mod:`trace_dsl.gsm8k_grounding` for what each kind means.

    Args:
        question: the problem text (numbers are preprocessed first).
        trace: any trace.

    Returns:
        One :class:`InitGrounding` per init with a literal value.
    """
    q = _Question(question)
    out = []
    for step in trace.steps:
        if isinstance(step, Init) and step.value is not None:
            v = Fraction(step.value)
            kind = q.classify(v)[0]
            out.append(InitGrounding(step.var, step.value, kind))
    return tuple(out)
