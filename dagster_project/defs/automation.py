"""When the build runs: a daily schedule, and a sensor that builds as soon as a complete batch lands."""

import dagster as dg

from dagster_project.lib.batches import discover
from dagster_project.settings import Settings

BUILD_JOB = "vipwh_build"


def landed_batches_key(landing) -> str:
    """Identity of what has landed: every complete batch and its manifest hash."""
    return ",".join(f"{b.label}:{b.manifest_sha256[:12]}" for b in discover(landing))


@dg.sensor(
    job_name=BUILD_JOB,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Requests a build when a new complete batch (a folder with its _manifest.json) lands "
    "or a manifest changes.",
)
def new_batch_sensor(context: dg.SensorEvaluationContext, settings: Settings):
    landing = settings.landing_dir()
    key = landed_batches_key(landing)
    if not key or key == context.cursor:
        return dg.SkipReason(f"no new complete batch in {landing}")
    context.update_cursor(key)
    return dg.RunRequest(run_key=key)


daily_build = dg.ScheduleDefinition(
    name="daily_build",
    job_name=BUILD_JOB,
    cron_schedule="0 6 * * *",
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every morning at 06:00 Beijing time, after the core system's nightly extract.",
)
