"""Every state change of an environment session, one module per stage.

Intent and effect are separate: ``env_session_start`` writes the row as ``starting`` and queues
provisioning on commit; the provisioning task calls the runtime outside any transaction and then
reports back with ``env_session_mark_running`` or ``env_session_mark_failed``. Reconcilers use
conditional updates, so two workers racing on one session act once.

- ``start``: limits and ``env_session_start``;
- ``provision``: launching on the runtime, ``env_session_mark_running`` / ``_failed``;
- ``lifecycle``: pause, resume, extend, stop, teardown, activity, idle warnings;
- ``answers``: answers, hints, flag sharing, completion;
- ``reviews``: people accept or reject free-text answers;
- ``costs``: the hourly rate of a session;
- ``pools``: warm pools, parked environments that a start claims instead of launching.
"""

from apps.environments.services.answers import (
    env_session_grade_answer,
    env_session_submit_answer,
    env_session_take_hint,
)
from apps.environments.services.common import EXTEND_MINUTES, MIN_SESSION_MINUTES, session_duration_minutes
from apps.environments.services.costs import cost_rate_rm, runtime_rates_rm
from apps.environments.services.launches import env_session_launches_recover
from apps.environments.services.lifecycle import (
    STALE_STOPPING_MINUTES,
    env_runtime_release,
    env_session_extend,
    env_session_pause,
    env_session_refresh_machines,
    env_session_resume,
    env_session_stop,
    env_session_stop_for_platform,
    env_session_teardown,
    env_session_teardown_stale,
    env_session_touch,
    env_session_warn_idle,
    env_sessions_release_for_user,
)
from apps.environments.services.pools import (
    PoolBudget,
    pool_check,
    pool_claim,
    pool_claim_finish,
    pool_cost_accrue,
    pool_delete,
    pool_env_create,
    pool_env_launch,
    pool_env_remove,
    pool_machine_count,
    pool_prewarm,
    pool_save,
    pool_target,
    pool_window_delete,
    pool_window_save,
    pools_maintain,
    pools_summary,
    version_hourly_rm,
)
from apps.environments.services.provision import (
    env_session_launch_claim,
    env_session_mark_failed,
    env_session_mark_running,
    env_session_provision,
)
from apps.environments.services.recovery import env_session_fail_broken, env_session_mark_recovered
from apps.environments.services.reset import env_session_machine_reset, env_session_machine_reset_run
from apps.environments.services.reviews import env_answer_review
from apps.environments.services.start import env_session_start
from apps.environments.services.terminals import TerminalGrant, env_terminal_authorize, env_terminal_open

__all__ = [
    "EXTEND_MINUTES",
    "MIN_SESSION_MINUTES",
    "STALE_STOPPING_MINUTES",
    "PoolBudget",
    "TerminalGrant",
    "cost_rate_rm",
    "env_answer_review",
    "env_runtime_release",
    "env_session_extend",
    "env_session_fail_broken",
    "env_session_grade_answer",
    "env_session_launch_claim",
    "env_session_launches_recover",
    "env_session_machine_reset",
    "env_session_machine_reset_run",
    "env_session_mark_failed",
    "env_session_mark_recovered",
    "env_session_mark_running",
    "env_session_pause",
    "env_session_provision",
    "env_session_refresh_machines",
    "env_session_resume",
    "env_session_start",
    "env_session_stop",
    "env_session_stop_for_platform",
    "env_session_submit_answer",
    "env_session_take_hint",
    "env_session_teardown",
    "env_session_teardown_stale",
    "env_session_touch",
    "env_session_warn_idle",
    "env_sessions_release_for_user",
    "env_terminal_authorize",
    "env_terminal_open",
    "pool_check",
    "pool_claim",
    "pool_claim_finish",
    "pool_cost_accrue",
    "pool_delete",
    "pool_env_create",
    "pool_env_launch",
    "pool_env_remove",
    "pool_machine_count",
    "pool_prewarm",
    "pool_save",
    "pool_target",
    "pool_window_delete",
    "pool_window_save",
    "pools_maintain",
    "pools_summary",
    "runtime_rates_rm",
    "session_duration_minutes",
    "version_hourly_rm",
]
