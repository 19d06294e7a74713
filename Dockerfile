# The platform image: the app (`market serve`) and the worker (`market worker`) run from it.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    MARKET_VAR_DIR=/var/lib/market MARKET_UPLOAD_DIR=/var/lib/market/documents

# WeasyPrint's text layout (Pango), Chinese fonts for the PDFs, and HarfBuzz subsetting
# (without it a Chinese PDF takes ~10 s instead of ~0.3 s)
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      fonts-noto-cjk libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY . .
RUN pip install . \
 && pybabel compile -D messages -d "$(python -c 'import market, pathlib; print(pathlib.Path(market.__file__).parent / "translations")')" \
 && useradd --system --home /var/lib/market market \
 && mkdir -p /var/lib/market/documents /var/lib/market/keys && chown -R market /var/lib/market

USER market
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --retries=5 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz').status == 200 else 1)"
CMD ["sh", "-c", "market db upgrade && exec market serve --host 0.0.0.0 --port 8000 --no-worker"]
