from django.apps import AppConfig


class SwapsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "swaps"

    def ready(self) -> None:
        # Django imports models only after every app config exists, so registration waits for ready().
        from crowdswap.jobs import kinds
        from swaps.services.crowds import CROWD_JOB
        from swaps.services.swaps import SWAP_JOB

        kinds.register(CROWD_JOB)
        kinds.register(SWAP_JOB)
