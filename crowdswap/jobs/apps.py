from django.apps import AppConfig


class JobsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "crowdswap.jobs"
    label = "jobs"
    verbose_name = "Background jobs"

    def ready(self) -> None:
        from crowdswap.jobs import kinds, ping

        kinds.register(ping.PING)
