"""ASGI entry point: HTTP, WebSockets and the background-job channel, behind the client-address rewrite."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crowdswap.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ChannelNameRouter, ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from crowdswap.jobs.consumers import JobWorkerConsumer  # noqa: E402
from crowdswap.lib.clients import TrustedProxiesMiddleware  # noqa: E402
from crowdswap.lib.limits import limit_daphne_request_bodies  # noqa: E402
from crowdswap.routing import websocket_urlpatterns  # noqa: E402

# Daphne reads a body whole before the app runs: the limit must sit in the server's own request class.
limit_daphne_request_bodies(settings.MAX_REQUEST_BYTES)

application = TrustedProxiesMiddleware(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
            "channel": ChannelNameRouter({settings.JOBS_CHANNEL: JobWorkerConsumer.as_asgi()}),
        }
    ),
    settings.TRUSTED_PROXIES,
)
