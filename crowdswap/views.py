from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def landing(request: HttpRequest) -> HttpResponse:
    """Explain the game in one screen."""
    return render(request, "landing.html")


def healthz(request: HttpRequest) -> JsonResponse:
    """Answer a load balancer's health check."""
    return JsonResponse({"status": "ok"})
