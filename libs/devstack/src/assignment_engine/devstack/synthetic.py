"""Generate a synthetic incident trace shaped like the ServiceNow incident log.

The demo replays this trace when no copy of the log is available. It produces
the same `Incident` records as `incident_log.parse_log`, with names in the log's
style (`Group 3`, `Resolver 17`, `Category 5`), so the organisation, window and
trace functions run on it unchanged. The shape follows counts taken from the
log for 1 March to 31 May 2016:

- about 360 arrivals per weekday and 42 per weekend day (the log's medians are
  364 and 42), peaking 08:00-17:00;
- priorities 1% P1, 2% P2, 94% P3 and 3% P4;
- 58 categories and 70 groups, both skewed, with one group taking 38%;
- 230 resolvers, of whom 48 work in the largest group;
- handling times with a median of 22 h and a 90th percentile of 380 h;
- made_sla near 63%, falling with handling time as it does in the log.

Every random draw goes through `random.Random.random()`, the one method whose
sequence Python guarantees across versions, so a seed always gives the same trace.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from datetime import UTC, date, datetime, timedelta

from assignment_engine.devstack.incident_log import Incident

SYNTHETIC_START = date(2016, 3, 7)  # a Monday
WEEKDAY_ARRIVALS = (360, 35)  # mean and standard deviation per day
WEEKEND_ARRIVALS = (42, 10)
# Share of weekday arrivals by hour of day (UTC) in the log, in percent. Weekend
# days use the same profile.
HOURLY_PERCENT = (
    0.9, 0.7, 0.5, 0.4, 0.4, 0.4, 1.1, 2.2, 10.4, 12.4, 11.8, 10.1,
    5.5, 6.7, 9.3, 8.8, 7.6, 4.4, 1.8, 1.1, 0.8, 1.4, 0.8, 0.5,
)  # fmt: skip
PRIORITY_PERCENT = {1: 1.0, 2: 2.0, 3: 94.0, 4: 3.0}
CATEGORIES = 58
# Geometric weights: with ratio 0.86 the largest category has 14% and the top 20
# have 95%, against 14% and 97% in the log.
CATEGORY_RATIO = 0.86
GROUPS = 70
LARGEST_GROUP_SHARE = 0.38
# Ratio of the other groups' geometric weights, so that the top 20 groups hold
# about 78% of incidents, as in the log.
GROUP_RATIO = 0.946
RESOLVERS = 230
LARGEST_GROUP_RESOLVERS = 48
CATEGORIES_PER_GROUP = 7
OWN_CATEGORY_SHARE = 0.88
REASSIGNED_SHARE = 0.38
UNASSIGNED_SHARE = 0.03
# Lognormal handling time: median 22 h, 90th percentile 380 h (z = 1.2816),
# capped at the log's maximum of 8,070 h.
HANDLING_MEDIAN_H = 22.0
HANDLING_SIGMA = math.log(380.0 / 22.0) / 1.2816
HANDLING_MAX_H = 8070.0
CLOSE_DELAY = timedelta(days=5)


def _cumulative(weights: list[float]) -> list[float]:
    return list(itertools.accumulate(weights))


def _choose(rng: random.Random, cumulative: list[float]) -> int:
    """Draw an index with probability proportional to its weight."""
    index = bisect.bisect_right(cumulative, rng.random() * cumulative[-1])
    return min(index, len(cumulative) - 1)


def _normal(rng: random.Random) -> float:
    """Draw a standard normal value by the Box-Muller transform."""
    radius = math.sqrt(-2.0 * math.log(1.0 - rng.random()))
    return radius * math.cos(2.0 * math.pi * rng.random())


def _met_probability(priority: int, handling_h: float) -> float:
    """Return the chance of made_sla, read from the log's met rate by handling time."""
    if priority <= 2:
        return 0.02
    if priority == 4:
        # P4 met rates fall off after about two weeks instead of five days.
        handling_h /= 2.8
    if handling_h <= 72.0:
        return 0.86
    if handling_h <= 120.0:
        return 0.57
    if handling_h <= 168.0:
        return 0.10
    return 0.01


class _Shape:
    """Groups, their resolvers and categories, drawn once per seed."""

    def __init__(self, rng: random.Random) -> None:
        category_weights = [CATEGORY_RATIO**k for k in range(CATEGORIES)]
        self.categories = _cumulative(category_weights)
        rest = [GROUP_RATIO**k for k in range(GROUPS - 1)]
        rest_scale = (1.0 - LARGEST_GROUP_SHARE) / sum(rest)
        group_weights = [LARGEST_GROUP_SHARE, *(w * rest_scale for w in rest)]
        self.groups = _cumulative(group_weights)
        self.group_categories = [
            sorted({_choose(rng, self.categories) for _ in range(CATEGORIES_PER_GROUP)})
            for _ in range(GROUPS)
        ]
        self.resolvers = self._assign_resolvers(group_weights)
        # Resolver workloads are skewed: the first members of a group take most
        # of its work.
        self.resolver_weights = [
            _cumulative([0.8**k for k in range(len(members))])
            for members in self.resolvers
        ]

    @staticmethod
    def _assign_resolvers(group_weights: list[float]) -> list[list[int]]:
        """Give every group at least one resolver and the largest group 48."""
        counts = [LARGEST_GROUP_RESOLVERS] + [1] * (GROUPS - 1)
        spare = RESOLVERS - sum(counts)
        others = sum(group_weights[1:])
        for group in range(1, GROUPS):
            counts[group] += int(spare * group_weights[group] / others)
        counts[1] += RESOLVERS - sum(counts)
        numbers = itertools.count(1)
        return [[next(numbers) for _ in range(count)] for count in counts]

    def category(self, rng: random.Random, group: int) -> int:
        own = self.group_categories[group]
        if rng.random() < OWN_CATEGORY_SHARE:
            return own[min(int(rng.random() * len(own)), len(own) - 1)]
        return _choose(rng, self.categories)

    def resolver(self, rng: random.Random, group: int) -> int:
        return self.resolvers[group][_choose(rng, self.resolver_weights[group])]


def _arrival_times(rng: random.Random, day: date) -> list[datetime]:
    mean, deviation = WEEKEND_ARRIVALS if day.weekday() >= 5 else WEEKDAY_ARRIVALS
    count = max(1, round(mean + deviation * _normal(rng)))
    hours = _cumulative(list(HOURLY_PERCENT))
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    times = [
        midnight + timedelta(hours=_choose(rng, hours), minutes=int(rng.random() * 60))
        for _ in range(count)
    ]
    return sorted(times)


def synthetic_trace(
    seed: int, days: int = 7, *, start: date = SYNTHETIC_START
) -> list[Incident]:
    """Generate `days` days of incidents from midnight UTC of `start`.

    Return them sorted by opened_at, numbered SYN0000001 upwards. The same seed
    always gives the same incidents. Raise ValueError when `days` is below 1.
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    rng = random.Random(seed)
    shape = _Shape(rng)
    priorities = list(PRIORITY_PERCENT)
    priority_weights = _cumulative(list(PRIORITY_PERCENT.values()))
    incidents: list[Incident] = []
    for offset in range(days):
        for opened_at in _arrival_times(rng, start + timedelta(days=offset)):
            group = _choose(rng, shape.groups)
            final_group = group
            if rng.random() < REASSIGNED_SHARE:
                final_group = _choose(rng, shape.groups)
            resolver = None
            if rng.random() >= UNASSIGNED_SHARE:
                resolver = f"Resolver {shape.resolver(rng, final_group)}"
            priority = priorities[_choose(rng, priority_weights)]
            handling_h = HANDLING_MEDIAN_H * math.exp(HANDLING_SIGMA * _normal(rng))
            handling_h = min(handling_h, HANDLING_MAX_H)
            handling_s = max(60.0, round(handling_h * 60) * 60.0)
            resolved_at = opened_at + timedelta(seconds=handling_s)
            incidents.append(
                Incident(
                    number=f"SYN{len(incidents) + 1:07d}",
                    opened_at=opened_at,
                    priority=priority,
                    category=f"Category {shape.category(rng, group) + 1}",
                    assignment_group=f"Group {group + 1}",
                    final_group=f"Group {final_group + 1}",
                    assigned_to=resolver,
                    resolved_at=resolved_at,
                    closed_at=resolved_at + CLOSE_DELAY,
                    made_sla=rng.random() < _met_probability(priority, handling_h),
                    handling_s=handling_s,
                    net_handling_s=None,
                )
            )
    return incidents
