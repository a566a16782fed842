"""The shell's own routers: health and the pages of the built web app. Each service's routers live in its
folder (`api/<service>/router.py` or `api/<service>/routers/`)."""
