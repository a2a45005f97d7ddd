"""When the daily build runs and when its outputs count as stale: one place for both."""

from __future__ import annotations

import datetime as dt

import dagster as dg

DAILY_BUILD_CRON = "0 6 * * *"  # the daily build starts at 06:00 UTC
FRESHNESS_DEADLINE_CRON = "0 8 * * *"  # ... and its outputs must be in place by 08:00 UTC

# The marts judge "as of" the UTC day they are built on, so a mart is fresh
# when it was built on the current UTC day (from 00:00, 8 h before the
# deadline) by 08:00. Past 08:00 without such a build (the daily build did not
# run or failed) the UI marks it stale (freshness FAIL) until the next build.
BUILT_TODAY = dg.FreshnessPolicy.cron(
    deadline_cron=FRESHNESS_DEADLINE_CRON,
    lower_bound_delta=dt.timedelta(hours=8),
    timezone="UTC",
)
