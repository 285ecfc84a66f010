"""Make the numbers of a word problem explicit: ``preprocess_numbers`` and ``find_numbers``.

Word problems spell numbers many ways (``80,000``, ``twenty-five``, ``a dozen``, ``half``,
``two thirds``). Rewriting them to digits lets the GSM8K converter ground every ``init`` value
in the question and name it after the words beside it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

__all__ = ["NumberMention", "Rewrite", "find_numbers", "preprocess_numbers"]


@dataclass(frozen=True, slots=True)
class Rewrite:
    """One rewrite made by :func:`preprocess_numbers`."""

    original: str  # text as it was, e.g. "a dozen"
    replacement: str  # text it became, e.g. "12"
    start: int  # 0-based offset in the original text


@dataclass(frozen=True, slots=True)
class NumberMention:
    """A number found in (preprocessed) text."""

    value: Fraction  # exact value
    start: int  # 0-based offset of the first character
    end: int  # offset one past the last character
    text: str  # as written


_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000}
_ORD_FRACTIONS = {
    "half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4,
    "fourth": 4, "fourths": 4, "fifth": 5, "fifths": 5, "sixth": 6, "sixths": 6,
    "eighth": 8, "eighths": 8, "tenth": 10, "tenths": 10,
}  # fmt: skip
_MULTIPLIERS = {"twice": 2, "double": 2, "doubled": 2, "doubles": 2, "triple": 3, "tripled": 3,
                "triples": 3, "thrice": 3, "quadruple": 4, "quadrupled": 4}  # fmt: skip

_WORD = r"[A-Za-z]+"
_SMALL = "|".join(sorted(list(_UNITS) + list(_TENS), key=len, reverse=True))
# "twenty-five", "one hundred", "two thousand", "forty five"
_SCALE_WORDS = "hundred|thousand|million|billion"
_NUMBER_WORDS = re.compile(
    # the lookahead on the first letter keeps the scan fast: most words start no number
    rf"\b(?=[abefhmnostzABEFHMNOSTZ])(?:(?P<a>a|an)\s+)?(?:(?P<n>(?:{_SMALL})(?:[- ](?:{_SMALL}))?)"
    rf"(?:\s*\b(?P<scale>{_SCALE_WORDS}))?|(?P<bare>{_SCALE_WORDS}))\b",
    re.IGNORECASE,
)
_THOUSANDS = re.compile(r"(?<![\d.])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,]*\d)")
_FRACTION_WORDS = re.compile(
    rf"\b(?P<num>a|an|one|two|three|four|five|six|seven|nine)[- ](?P<den>{'|'.join(_ORD_FRACTIONS)})\b",
    re.IGNORECASE,
)
_DOZEN = re.compile(r"\b(?:(?P<half>half\s+a)|(?P<a>a|one))?\s*\bdozens?\b", re.IGNORECASE)
_HALF = re.compile(r"\bhalf(?=way\b|\b)", re.IGNORECASE)
# "a pair of socks", "a couple of days": two, as "a dozen" is twelve
_PAIR = re.compile(r"\b(?:a|one)\s+(?:pair|couple)\s+of\b", re.IGNORECASE)
_MULT = re.compile(rf"\b(?:{'|'.join(_MULTIPLIERS)})\b", re.IGNORECASE)
_PERCENT = re.compile(r"(?<![\w./])(\d+(?:\.\d+)?|\.\d+)\s*(?:%|percent\b)", re.IGNORECASE)
# ".5 hours", "$.25": a decimal without its leading zero is a number too
_NUMBER = re.compile(r"(?<![\w.])-?(?:\d+(?:\.\d+)?|\.\d+)(?:/\d+)?(?!\.?\d)")
_VULGAR = {
    "½": "1/2", "⅓": "1/3", "⅔": "2/3", "¼": "1/4", "¾": "3/4", "⅕": "1/5", "⅖": "2/5",
    "⅗": "3/5", "⅘": "4/5", "⅙": "1/6", "⅚": "5/6", "⅛": "1/8", "⅜": "3/8", "⅝": "5/8",
    "⅞": "7/8",
}  # fmt: skip
_VULGAR_RE = re.compile(rf"(?P<whole>\d)?(?P<frac>[{''.join(_VULGAR)}])")
# "120 million", "1.5 billion": a digit amount times a scale word
_DIGIT_SCALE = re.compile(
    r"(?<![\w.])(?P<n>\d+(?:\.\d+)?)\s+(?P<scale>thousand|million|billion)\b", re.IGNORECASE
)
_ORDINALS = {
    "other": 2, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "twelfth": 12, "fifteenth": 15, "twentieth": 20,
}  # fmt: skip
_SUFFIX = {1: "st", 2: "nd", 3: "rd"}
# "every third customer": an ordinal that counts (one in N), not a position or a fraction
_EVERY_ORDINAL = re.compile(
    rf"\b(?P<every>every)\s+(?P<ord>{'|'.join(_ORDINALS)})\b", re.IGNORECASE
)
# "4 and a half hours" (after "half" -> "1/2"), "2 and 3/4 cups": one mixed number
_AND_FRACTION = re.compile(r"(?<![\d./])(\d+)\s+and\s+(?:an?\s+)?(\d+)/(\d+)(?![\d/])")
# "once a week", "once per day": a frequency of one
_ONCE = re.compile(r"\bonce(?=\s+(?:a|an|per|every|each)\b)", re.IGNORECASE)


def _words_value(n: str | None, scale: str | None, article: str | None) -> int | None:
    total = 0
    if n:
        for part in re.split(r"[- ]", n.lower()):
            total += _UNITS.get(part, 0) + _TENS.get(part, 0)
    elif article and scale:
        total = 1
    else:
        return None
    if scale:
        total *= _SCALES[scale.lower()]
    return total


def _sub(
    pattern: re.Pattern[str],
    text: str,
    fn: Callable[[re.Match[str]], str | None],
    rewrites: list[Rewrite],
    base: list[int],
) -> str:
    out: list[str] = []
    last = 0
    for m in pattern.finditer(text):
        if m.end() == m.start():
            continue
        rep = fn(m)
        if rep is None or rep == m.group(0):
            continue
        out.append(text[last : m.start()])
        out.append(rep)
        rewrites.append(Rewrite(m.group(0), rep, m.start()))
        last = m.end()
    out.append(text[last:])
    return "".join(out)


def _fmt(v: Fraction | int) -> str:
    f = Fraction(v)
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def preprocess_numbers(question: str) -> tuple[str, list[Rewrite]]:
    """Rewrite spelled-out and formatted numbers as plain digits.

    Handles thousands separators (``80,000`` -> ``80000``), vulgar fractions (``1½`` ->
    ``1 1/2``), scaled amounts (``$1.5 million`` -> ``$1500000``), number words
    (``twenty-five``, ``two hundred``), ``a dozen`` / ``half a dozen`` / ``dozen``, ``a pair of`` / ``a couple of``, fraction
    words (``half``, ``halfway`` -> ``1/2 way``, ``two thirds`` -> ``2/3``, ``four and a half`` ->
    ``4 1/2``), counting ordinals (``every third`` ->
    ``every 3rd``, ``every other`` -> ``every 2nd``), ``once a week`` (``1 time a week``),
    percents (``20%`` -> ``20/100``) and multiplier words (``twice`` -> ``2 times``).

    Args:
        question: the problem text.

    Returns:
        ``(text, rewrites)``: the rewritten text and what was rewritten, in order of
        application (offsets refer to the text each rewrite was applied to).
    """
    rewrites: list[Rewrite] = []
    base = [0]
    text = _sub(_THOUSANDS, question, lambda m: m.group(0).replace(",", ""), rewrites, base)

    def vulgar(m: re.Match[str]) -> str:
        whole = m.group("whole")
        return (f"{whole} " if whole else "") + _VULGAR[m.group("frac")]

    text = _sub(_VULGAR_RE, text, vulgar, rewrites, base)

    def digit_scale(m: re.Match[str]) -> str | None:
        value = Fraction(m.group("n")) * _SCALES[m.group("scale").lower()]
        return _fmt(value) if value.denominator == 1 else None

    text = _sub(_DIGIT_SCALE, text, digit_scale, rewrites, base)

    def dozen(m: re.Match[str]) -> str:
        if m.group("half"):
            return "6"
        if m.group("a"):
            return "12"
        return " 12" if m.group(0).startswith((" ", "\t")) else "12"

    text = _sub(_DOZEN, text, dozen, rewrites, base)

    def fraction(m: re.Match[str]) -> str:
        num = m.group("num").lower()
        n = 1 if num in ("a", "an", "one") else _UNITS[num]
        return _fmt(Fraction(n, 1)) + "/" + str(_ORD_FRACTIONS[m.group("den").lower()])

    text = _sub(_FRACTION_WORDS, text, fraction, rewrites, base)

    def words(m: re.Match[str]) -> str | None:
        value = _words_value(m.group("n"), m.group("scale") or m.group("bare"), m.group("a"))
        if value is None:
            return None
        return str(value)

    text = _sub(_NUMBER_WORDS, text, words, rewrites, base)
    text = _sub(_PAIR, text, lambda m: "2", rewrites, base)
    text = _sub(_HALF, text, lambda m: "1/2 " if m.string[m.end() : m.end() + 3] == "way" else "1/2",
                rewrites, base)  # fmt: skip

    def mixed(m: re.Match[str]) -> str | None:
        whole, num, den = m.groups()
        return f"{whole} {num}/{den}" if 0 < int(num) < int(den) else None

    text = _sub(_AND_FRACTION, text, mixed, rewrites, base)

    def ordinal(m: re.Match[str]) -> str:
        n = _ORDINALS[m.group("ord").lower()]
        return f"{m.group('every')} {n}{_SUFFIX.get(n, 'th')}"

    text = _sub(_EVERY_ORDINAL, text, ordinal, rewrites, base)
    text = _sub(_ONCE, text, lambda m: "1 time", rewrites, base)
    text = _sub(_PERCENT, text, lambda m: f"{m.group(1)}/100", rewrites, base)
    text = _sub(_MULT, text, lambda m: f"{_MULTIPLIERS[m.group(0).lower()]} times", rewrites, base)
    return text, rewrites


def find_numbers(text: str) -> list[NumberMention]:
    """Find plain numbers (``12``, ``1.5``, ``-3``, ``3/4``) in already preprocessed text.

    Args:
        text: text, usually the output of :func:`preprocess_numbers`.

    Returns:
        The mentions in order; a fraction ``p/q`` is one mention with value ``p/q``.
    """
    out = []
    for m in _NUMBER.finditer(text):
        raw = m.group(0)
        num, _, den = raw.partition("/")
        try:
            # "12.5/100" (a rewritten 12.5%): Fraction() reads no decimal numerator itself
            value = Fraction(num) / Fraction(den) if den else Fraction(num)
        except (ValueError, ZeroDivisionError):
            continue
        out.append(NumberMention(value, m.start(), m.end(), raw))
    return out
