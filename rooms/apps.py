from django.apps import AppConfig


class RoomsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "rooms"

    def ready(self) -> None:
        # Django imports models only after every app config exists, so registration waits for ready().
        from crowdswap.jobs import kinds
        from rooms.services.faces import load_face_models
        from rooms.services.photos import PHOTO_JOB

        kinds.register(PHOTO_JOB)
        # Workers load the face models once, before their first job.
        kinds.register_warmup(load_face_models)
