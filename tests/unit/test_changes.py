"""The change log a cached answer asks: did any batch between two positions change what it read?"""

from __future__ import annotations

from program.projections.changes import ChangeLog, payload, parse


def test_untouched_when_every_batch_between_changed_other_entities() -> None:
    log = ChangeLog()
    log.record("rm", 10, 12, frozenset({"a"}))
    log.record("rm", 12, 15, frozenset())
    assert log.untouched("rm", 10, 15, frozenset({"b"}))
    assert not log.untouched("rm", 10, 15, frozenset({"a"}))
    assert log.untouched("rm", 12, 15, None)  # nothing at all changed after 12


def test_a_gap_or_an_unknown_batch_counts_as_a_change() -> None:
    log = ChangeLog()
    log.record("rm", 10, 12, frozenset({"a"}))
    log.record("rm", 13, 15, frozenset({"a"}))
    assert not log.untouched("rm", 10, 15, frozenset({"b"}))  # 12..13 never heard of
    log.record("rm", 15, 16, None)
    assert not log.untouched("rm", 15, 16, frozenset({"b"}))
    assert not log.untouched("other", 1, 2, frozenset({"b"}))
    assert not log.untouched("rm", 16, 15, frozenset({"b"}))  # positions never go back


def test_the_notification_names_the_entities_or_says_all() -> None:
    assert parse(payload("rm", 1, 2, ["b", "a"])) == ("rm", 1, 2, frozenset({"a", "b"}))
    assert parse(payload("rm", 1, 2, [])) == ("rm", 1, 2, frozenset())
    assert parse(payload("rm", 1, 2, None)) == ("rm", 1, 2, None)
    assert parse(payload("rm", 1, 2, [str(i) for i in range(1000)]))[3] is None
    assert len(payload("rm", 1, 2, ["0" * 36] * 150)) < 8000


def test_change_log_when_past_its_size_forgets_the_oldest_and_treats_them_as_unknown() -> None:
    from program.projections.changes import ChangeLog

    log = ChangeLog(size=4)
    for n in range(12):  # batches (n, n+1], each changing entity "e{n}"
        log.record("rm", n, n + 1, frozenset({f"e{n}"}))
    assert len(log._log["rm"]) <= 8
    assert log.untouched("rm", 10, 12, frozenset({"e3"}))  # recent and unrelated
    assert not log.untouched("rm", 10, 12, frozenset({"e11"}))  # changed at 11..12
    assert not log.untouched("rm", 1, 12, frozenset({"x"}))  # older than what is kept
