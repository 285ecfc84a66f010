"""Where a GSM8K init value comes from, when the question does not write it as a number.

An init is *grounded* when its value is written in the question (after
:func:`~trace_dsl.numbers.preprocess_numbers`). Two more sources are honest and are told apart
from it, so that a report can say exactly how much of a trace the question supplies:

* **counted** -- the question states the number by listing things rather than writing it:
  ``Ann, Bill, Cate and Dale`` (4), ``from Monday to Friday`` (5), ``both`` (2). The count is
  in the text; no outside knowledge but the order of weekdays and months is used.
* **constant** -- a unit constant that the question's own units call for: ``60`` where the
  question speaks of minutes and hours, ``7`` with days and weeks, ``25`` with quarters and
  cents. A constant is only recognised when *all* of its units appear in the question, so a
  ``3`` that counts bouquets is never called ``feet_per_yard``.

Everything else (two wheels on a bike, four legs on a dog, an algebra coefficient) is
*ungrounded*: it is knowledge the question leaves out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

__all__ = ["KINDS", "UNIT_CONSTANTS", "UnitConstant", "counted_values", "unit_constant"]

# the grounding kinds, from most to least supported by the question
KINDS = ("grounded", "counted", "constant", "ungrounded")


@dataclass(frozen=True, slots=True)
class UnitConstant:
    """A number that converts between units, e.g. 60 minutes per hour."""

    value: Fraction
    name: str  # the init's name, e.g. "minutes_per_hour"
    units: tuple[str, ...]  # one regex per unit involved; every one must appear in the problem
    # a stated quantity followed by one of these unit words may be converted by ``value``
    # (30 minutes -> 0.5 hours); False for constants that are not conversions of a quantity
    converts: bool = True

    def applies(self, text: str) -> bool:
        """Whether every unit of this constant is named in ``text``."""
        return all(p.search(text) for p in _PATTERNS[self])


_MINUTE = r"minutes?|mins?"
_PERCENT = r"percent(?:age)?s?|%"
_HOUR = r"hours?|hrs?|hourly"
_SECOND = r"seconds?|secs?"
_DAY = r"days?|daily"
_WEEK = r"weeks?|weekly"
# a month's name stands for the unit too ("April has 30 days")
_MONTH = (
    r"months?|monthly|january|february|march|april|june|july|august|september|october|november"
    r"|december"
)
_YEAR = r"years?|yearly|annual(?:ly)?"
_INCH = r"inch(?:es)?"
_FOOT = r"foot|feet"
_CENT = r"cents?|¢"
_DOLLAR = r"dollars?|\$"
_MONEY = r"cents?|¢|dollars?|\$|money|coins?|change"
_POUND = r"pounds?|lbs?"
_OUNCE = r"ounces?|oz"
_GALLON = r"gallons?"
_PINT = r"pints?"
_QUART = r"quarts?"
_CUP = r"cups?"
_METER = r"met(?:er|re)s?"
_LITER = r"lit(?:er|re)s?|(?<=\d)l"


def _c(value: int | str, name: str, *units: str, converts: bool = True) -> UnitConstant:
    return UnitConstant(Fraction(value), name, units, converts)


UNIT_CONSTANTS: tuple[UnitConstant, ...] = (
    _c(60, "minutes_per_hour", _MINUTE, _HOUR),
    _c(60, "seconds_per_minute", _SECOND, _MINUTE),
    _c(3600, "seconds_per_hour", _SECOND, _HOUR),
    _c(24, "hours_per_day", _HOUR, _DAY),
    _c(7, "days_per_week", _DAY, _WEEK),
    _c(5, "weekdays_per_week", r"week ?days?|work ?days?|school ?days?|business days?|work ?weeks?|school ?weeks?", converts=False),
    _c(2, "days_per_weekend", r"weekends?", converts=False),
    _c(12, "months_per_year", _MONTH, _YEAR),
    _c(4, "weeks_per_month", _WEEK, _MONTH),
    _c(52, "weeks_per_year", _WEEK, _YEAR),
    _c(365, "days_per_year", _DAY, _YEAR),
    _c(30, "days_per_month", _DAY, _MONTH),
    _c(31, "days_per_month", _DAY, _MONTH),
    _c(10, "years_per_decade", _YEAR, r"decades?", converts=False),
    _c(100, "years_per_century", _YEAR, r"century|centuries", converts=False),
    _c(12, "inches_per_foot", _INCH, _FOOT),
    _c(3, "feet_per_yard", _FOOT, r"yards?"),
    _c(36, "inches_per_yard", _INCH, r"yards?"),
    _c(5280, "feet_per_mile", _FOOT, r"miles?"),
    _c(12, "per_dozen", r"dozens?"),
    _c(2, "per_pair", r"pairs?"),
    _c(2, "per_couple", r"couples?"),
    _c(100, "percent", _PERCENT, converts=False),
    _c("1/100", "percent", _PERCENT, converts=False),
    _c(100, "cents_per_dollar", _CENT, _DOLLAR),
    _c("1/100", "dollars_per_cent", _CENT, _DOLLAR),
    _c(100, "cm_per_meter", r"centimet(?:er|re)s?|cm", _METER),
    _c(1000, "grams_per_kilogram", r"grams?", r"kilo\w*|kg"),
    _c(1000, "ml_per_liter", r"millilit(?:er|re)s?|ml", _LITER),
    _c(1000, "meters_per_km", _METER, r"kilomet(?:er|re)s?|km"),
    _c(16, "ounces_per_pound", _OUNCE, _POUND),
    _c(8, "pints_per_gallon", _PINT, _GALLON),
    _c(4, "quarts_per_gallon", _QUART, _GALLON),
    _c(2, "pints_per_quart", _PINT, _QUART),
    _c(2, "cups_per_pint", _CUP, _PINT),
    _c(16, "cups_per_gallon", _CUP, _GALLON),
    _c(8, "ounces_per_cup", _OUNCE, _CUP),
    _c(128, "ounces_per_gallon", _OUNCE, _GALLON),
    _c(3, "teaspoons_per_tablespoon", r"teaspoons?|tsp", r"tablespoons?|tbsp"),
    # coins: the US coin values a problem about quarters, dimes, nickels and pennies relies on
    _c(25, "cents_per_quarter", r"quarters?", _MONEY, converts=False),
    _c("1/4", "dollars_per_quarter", r"quarters?", _MONEY, converts=False),
    _c(4, "quarters_per_dollar", r"quarters?", _MONEY, converts=False),
    _c(10, "cents_per_dime", r"dimes?", converts=False),
    _c("1/10", "dollars_per_dime", r"dimes?", converts=False),
    _c(5, "cents_per_nickel", r"nickels?", converts=False),
    _c("1/20", "dollars_per_nickel", r"nickels?", converts=False),
    _c(1, "cents_per_penny", r"penny|pennies", converts=False),
    _c("1/100", "dollars_per_penny", r"penny|pennies", converts=False),
    _c(50, "cents_per_half_dollar", r"half[- ]dollars?", converts=False),
)  # fmt: skip

# each unit as a word of its own, or right after a number ("250ml", "1L")
_PATTERNS: dict[UnitConstant, tuple[re.Pattern[str], ...]] = {
    c: tuple(re.compile(rf"(?:\b|(?<=\d))(?:{u})(?!\w)", re.IGNORECASE) for u in c.units)
    for c in UNIT_CONSTANTS
}


_BY_VALUE: dict[Fraction, tuple[UnitConstant, ...]] = {}
for _const in UNIT_CONSTANTS:
    _BY_VALUE[_const.value] = (*_BY_VALUE.get(_const.value, ()), _const)


def unit_constant(value: Fraction, text: str) -> str | None:
    """The name of a unit constant equal to ``value`` whose units all appear in ``text``.

    Args:
        value: an init value.
        text: the question.

    Returns:
        The constant's name (``"minutes_per_hour"``), or None.
    """
    for const in _BY_VALUE.get(value, ()):
        if const.applies(text):
            return const.name
    return None


# ---------------------------------------------------------------------------------- counts
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)  # fmt: skip
_CALENDAR = "|".join(_DAYS + _MONTHS)
# "from Monday to Friday", "January through July", "Monday-Thursday"
_RANGE = re.compile(
    rf"\b({_CALENDAR})s?\s*(?:to|through|thru|till|until|-|–)\s*({_CALENDAR})s?\b", re.IGNORECASE
)
_DAY_NAME = re.compile(rf"\b({'|'.join(_DAYS)})s?\b", re.IGNORECASE)
_MONTH_NAME = re.compile(rf"\b({'|'.join(m for m in _MONTHS if m != 'may')})\b", re.IGNORECASE)
# a proper name: "Ann", "Mrs. Smith", "Mary Jane" is two names on purpose (rare in a list)
_NAME = r"(?:(?:Mr|Mrs|Ms|Dr)\.\s)?[A-Z][a-z]+"
_NAME_LIST = re.compile(rf"(?<![\w.])({_NAME})((?:,\s*{_NAME})*),?\s+and\s+({_NAME})\b")
# "Travis and his brother", "Jake ... with his friend": two people
_NAME_AND_KIN = re.compile(
    rf"(?<![\w.])({_NAME})\s+(?:and|with)\s+(?:his|her|their)\s+(?:brother|sister|friend|mother|father|"
    r"mom|dad|wife|husband|son|daughter|cousin|partner|roommate|neighbor|boss|coworker|classmate)\b"
)
# capitalised words that start sentences or clauses, never a listed name
_NOT_NAMES = frozenset(
    [
        "The",
        "Then",
        "If",
        "On",
        "In",
        "At",
        "After",
        "Before",
        "How",
        "What",
        "When",
        "Where",
        "Which",
        "Who",
        "Each",
        "Every",
        "Both",
        "She",
        "He",
        "They",
        "It",
        "This",
        "That",
        "These",
        "Those",
        "His",
        "Her",
        "Their",
        "There",
        "So",
        "But",
        "And",
        "Or",
        "For",
        "From",
        "With",
        "Without",
        "Also",
        "All",
        "Some",
        "One",
        "Two",
        "Three",
        "Four",
        "Five",
        "Six",
        "Seven",
        "Eight",
        "Nine",
        "Ten",
        "A",
        "An",
        "Since",
        "While",
        "During",
        "Today",
        "Yesterday",
        "Tomorrow",
        "Last",
        "Next",
    ]
)
# "apples, oranges, and pears": three or more things without numbers of their own
_ITEM = r"[a-z][a-z'\-]*(?:\s[a-z][a-z'\-]*){0,2}"
_ITEM_LIST = re.compile(rf"(?<![\w,])({_ITEM})((?:,\s*{_ITEM})+),?\s+and\s+({_ITEM})\b")
_STOP_ITEM = re.compile(
    r"\b(?:a|an|the|is|are|was|were|has|have|had|then|that|he|she|they|it|if|so)\b"
)
_COUNT_WORDS: dict[str, tuple[int, str]] = {
    "both": (2, "both"),
    "twins": (2, "twins"),
    "triplets": (3, "triplets"),
    "back and forth": (2, "ways"),
    "round trip": (2, "ways"),
    "round-trip": (2, "ways"),
    "there and back": (2, "ways"),
    "both ways": (2, "ways"),
}
_COUNT_WORD = re.compile(
    r"\b(" + "|".join(re.escape(w) for w in sorted(_COUNT_WORDS, key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)


def _calendar_span(first: str, last: str) -> tuple[int, str] | None:
    for names, unit in ((_DAYS, "days"), (_MONTHS, "months")):
        if first in names and last in names:
            return (names.index(last) - names.index(first)) % len(names) + 1, unit
    return None


def counted_values(question: str) -> dict[Fraction, str]:
    """Numbers a question states by listing or naming things instead of writing them.

    Args:
        question: the (preprocessed) problem text.

    Returns:
        value -> a name for an init of that value (``people``, ``days``, ``both``...). The
        first reading of a value wins.
    """
    found: dict[Fraction, str] = {}

    def add(n: int, name: str) -> None:
        if n >= 2:
            found.setdefault(Fraction(n), name)

    for m in _RANGE.finditer(question):
        span = _calendar_span(m.group(1).lower(), m.group(2).lower())
        if span is not None:
            add(*span)
    # days or months named one by one (a range names only its two ends)
    singles = _RANGE.sub(" ", question)
    for pattern, unit in ((_DAY_NAME, "days"), (_MONTH_NAME, "months")):
        add(len({m.group(1).lower() for m in pattern.finditer(singles)}), unit)
    for m in _NAME_LIST.finditer(question):
        names = [m.group(1), *(n.strip() for n in m.group(2).split(",") if n.strip()), m.group(3)]
        if not any(n in _NOT_NAMES for n in names) and len(set(names)) == len(names):
            calendar = all(n.lower().rstrip("s") in _DAYS + _MONTHS for n in names)
            add(len(names), "days" if calendar else "people")
    for m in _NAME_AND_KIN.finditer(question):
        if m.group(1) not in _NOT_NAMES:
            add(2, "people")
    for m in _ITEM_LIST.finditer(question):
        items = [m.group(1), *(i.strip() for i in m.group(2).split(",") if i.strip()), m.group(3)]
        if not any(_STOP_ITEM.search(i) for i in items):
            add(len(items), "kinds")
    for m in _COUNT_WORD.finditer(question):
        add(*_COUNT_WORDS[m.group(1).lower()])
    return found
