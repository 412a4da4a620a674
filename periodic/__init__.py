"""Periodic jobs: the cron table (`schedule`), cron arithmetic (`cron`) and the scheduler."""
