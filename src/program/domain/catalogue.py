"""The catalogue a programme declares: the consent purposes it may ask for, and the
outcome measures it evaluates, each with its instrument's valid score range.

Known instruments carry their published ranges, so ``outcomeMeasures: ["WEMWBS"]`` is
enough; any other measure must be declared with its range (``custom_measures``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from program.domain.errors import DomainError, InvalidInput
from program.domain.values import require_score, require_text

# Published ranges (lowest and highest possible total score).
INSTRUMENTS: dict[str, tuple[float, float]] = {
    "WEMWBS": (14.0, 70.0),  # Warwick-Edinburgh Mental Wellbeing Scale, 14 items 1-5
    "SWEMWBS": (7.0, 35.0),  # its short form, 7 items 1-5 (raw score)
    "HHI": (12.0, 48.0),  # Herth Hope Index, 12 items 1-4
    "HERTH": (12.0, 48.0),
    "CORE-10": (0.0, 40.0),
    "PHQ-9": (0.0, 27.0),
    "GAD-7": (0.0, 21.0),
}


class UnknownMeasure(DomainError):
    code = "UNKNOWN_MEASURE"
    template = "Measure {measure!r} is not evaluated by this programme (it uses: {allowed})."


class UnknownPurpose(DomainError):
    code = "UNKNOWN_PURPOSE"
    template = "Purpose {purpose!r} is not in the catalogue of the person's programmes ({allowed})."


class ScoreOutOfRange(DomainError):
    code = "SCORE_OUT_OF_RANGE"
    template = "A {measure} score must lie between {minimum:g} and {maximum:g}; got {score:g}."


Ranges = dict[str, list[float]]  # measure -> [minimum, maximum], JSON-plain for events


def measure_ranges(
    outcome_measures: Iterable[str], custom: Iterable[Mapping[str, Any]] | None = None
) -> Ranges:
    """Each measure's range: declared ones first, else the known instrument's."""
    declared: Ranges = {}
    for i, item in enumerate(custom or ()):
        code = require_text(item.get("code"), f"custom_measures[{i}].code", )
        low = require_score(item.get("min_score"), f"custom_measures[{i}].min_score")
        high = require_score(item.get("max_score"), f"custom_measures[{i}].max_score")
        if low >= high:
            raise InvalidInput(f"custom_measures[{i}].max_score", "must be above min_score")
        declared[code] = [low, high]
    ranges: Ranges = {}
    for measure in outcome_measures:
        if measure in declared:
            ranges[measure] = declared[measure]
        elif measure.upper() in INSTRUMENTS:
            ranges[measure] = list(INSTRUMENTS[measure.upper()])
        else:
            known = ", ".join(sorted(INSTRUMENTS))
            raise InvalidInput("outcome_measures", f"{measure!r} is not a known instrument "
                               f"({known}); declare its range in customMeasures")
    return ranges


def check_score(ranges: Mapping[str, list[float] | None], measure: str, score: float) -> None:
    """``ranges`` None for a measure means "declared before ranges existed": any score."""
    if measure not in ranges:
        raise UnknownMeasure(measure=measure, allowed=", ".join(ranges) or "none")
    bounds = ranges[measure]
    if bounds is not None and not bounds[0] <= score <= bounds[1]:
        raise ScoreOutOfRange(measure=measure, minimum=bounds[0], maximum=bounds[1], score=score)


def check_purpose(catalogue: Iterable[str], purpose: str) -> None:
    allowed = list(dict.fromkeys(catalogue))
    if purpose not in allowed:
        raise UnknownPurpose(purpose=purpose, allowed=", ".join(allowed) or "none")
