# One image for every CrowdSwap host: web (the default command) and workers (override the command).
#   docker build -t crowdswap .
#   docker run --env-file crowdswap.env -p 8000:8000 crowdswap                                   # web
#   docker run --env-file crowdswap.env crowdswap python manage.py runworker crowdswap-jobs     # worker
#   docker run --rm --env-file crowdswap.env crowdswap python manage.py migrate --noinput      # once per deploy
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CROWDSWAP_VAR_DIR=/app/var

# The wheels bundle their own libraries (opencv-headless needs no libGL); the dlib-bin extension
# links only the C++ runtime, which slim images do not promise.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libstdc++6 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, so code changes do not reinstall them.
COPY requirements.txt ./
RUN pip install -r requirements.txt \
    # face_recognition declares "dlib"; the prebuilt dlib-bin wheel from requirements.txt provides it.
    && pip install --no-deps face_recognition==1.3.0 \
    && python -c "import dlib, face_recognition, face_recognition_models, cv2"

COPY . .

# Static files are baked into the image and served by whitenoise. DEBUG off selects the
# manifest storage used at run time; the key only satisfies the settings check for this step.
RUN DEBUG=false SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    python manage.py collectstatic --noinput \
    && rm -f "$CROWDSWAP_VAR_DIR/crowdswap.sqlite3"

RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home crowdswap \
    && mkdir -p "$CROWDSWAP_VAR_DIR/media" \
    && chown -R crowdswap:crowdswap "$CROWDSWAP_VAR_DIR"
USER crowdswap

ENV DEBUG=false
EXPOSE 8000
# No --proxy-headers: forwarded headers are believed from TRUSTED_PROXIES only (crowdswap/lib/clients.py).
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "crowdswap.asgi:application"]
