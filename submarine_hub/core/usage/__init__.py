"""Resource usage, its cost and team budgets.

- :mod:`.meter`: records what every session, run replica, notebook job, endpoint and
  environment build held, and for how long (one row per object and interval);
- :mod:`.prices`: the admin's prices per resource unit, and a record's cost;
- :mod:`.budgets`: a team's budget per period, what it has spent, and what admission does
  once it is spent;
- :mod:`.reports`: usage and cost per team, user, kind and day or month (JSON, CSV);
- :mod:`.summary`: what a user sees of their teams (quota, usage, spend, free GPUs).
"""
