"""Properties of the context packer."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from botgpt.domain.context import ContextBudget, newest_that_fit

costs = st.lists(st.integers(min_value=0, max_value=500), max_size=60)
budgets = st.integers(min_value=0, max_value=5000)
ceilings = st.none() | st.integers(min_value=1, max_value=80)


def identity(cost: int) -> int:
    return cost


@given(costs, budgets, ceilings)
def test_never_exceeds_the_budget(messages: list[int], budget: int, ceiling: int | None) -> None:
    assert sum(newest_that_fit(messages, budget, identity, ceiling)) <= budget


@given(costs, budgets, ceilings)
def test_keeps_the_newest_messages_in_order(messages: list[int], budget: int, ceiling: int | None) -> None:
    # Tag each message with its position so equal costs stay distinguishable.
    tagged = list(enumerate(messages))
    kept = newest_that_fit(tagged, budget, lambda m: m[1], ceiling)
    assert kept == tagged[len(tagged) - len(kept) :]


@given(costs, budgets, ceilings)
def test_is_the_longest_suffix_that_fits(messages: list[int], budget: int, ceiling: int | None) -> None:
    kept = newest_that_fit(messages, budget, identity, ceiling)
    limit = len(messages) if ceiling is None else min(ceiling, len(messages))
    if len(kept) < limit:
        one_more = messages[len(messages) - len(kept) - 1 :]
        assert sum(one_more) > budget


@given(costs, budgets, st.integers(min_value=1, max_value=80))
def test_respects_the_message_ceiling(messages: list[int], budget: int, ceiling: int) -> None:
    assert len(newest_that_fit(messages, budget, identity, ceiling)) <= ceiling


@given(
    st.integers(min_value=0, max_value=100_000),
    st.integers(min_value=0, max_value=100_000),
    st.floats(min_value=0.0, max_value=0.99),
)
def test_budget_leaves_room_for_the_answer(window: int, reserve: int, margin: float) -> None:
    budget = ContextBudget(window, reserve, margin)
    assert 0 <= budget.usable <= max(0, window - reserve)
