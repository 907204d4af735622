# syntax=docker/dockerfile:1
# botgpt: the embedded defaults (SQLite, SmolLM2 through llama.cpp, MiniLM embeddings) in one image.
#   docker build -t botgpt .
#   docker run --rm -v botgpt-data:/data botgpt keys create --user alice   # first: a key (see README)
#   docker run -d -p 8000:8000 -v botgpt-data:/data botgpt

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential cmake git \
    && rm -rf /var/lib/apt/lists/*
# Extra index for a CPU-only torch wheel (PyPI's default torch wheel pulls in CUDA).
ARG PIP_EXTRA_INDEX_URL=""
ENV PIP_EXTRA_INDEX_URL=${PIP_EXTRA_INDEX_URL} \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # A portable llama.cpp: the x86-64-v3 baseline (AVX2, FMA, F16C), never -march=native for
    # the build host, so the image runs on any host it is copied to. No multimodal library.
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF"
RUN python -m venv /opt/botgpt
WORKDIR /src
COPY pyproject.toml README.md ./
COPY domain domain
COPY ports ports
COPY adapters adapters
COPY plugins plugins
COPY entrypoints entrypoints
RUN /opt/botgpt/bin/pip install --no-cache-dir .

FROM ${PYTHON_IMAGE} AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /data --no-create-home botgpt \
    && mkdir /data && chown botgpt:botgpt /data
COPY --from=build /opt/botgpt /opt/botgpt
ENV PATH=/opt/botgpt/bin:$PATH \
    BOTGPT_DATA_DIR=/data \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=180s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/ready', timeout=4).status != 200)"]
ENTRYPOINT ["botgpt"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
