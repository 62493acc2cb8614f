"""chat-svc for the report cell: the real app (`CHAT_*` settings from the environment), verifying the bench's
tokens against its JWKS file, served by uvicorn (the report cell and the chat path cell)."""

import argparse
import os
import sys
import time
from pathlib import Path

import uvicorn

sys.path.insert(0, str(Path(__file__).parent))
from benchkeys import verifier_from
from chat_svc.main import create_app
from chat_svc.settings import Settings

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--jwks", required=True)
parser.add_argument("--log-level", default="WARNING", help="the chat path cell (bench/chat_path.py) runs it at INFO too")
args = parser.parse_args()
app = create_app(Settings(log_level=args.log_level), jwt_verifier=verifier_from(args.jwks))
profile = os.environ.get("BENCH_CHAT_PROFILE")  # a file: cProfile of the whole run, written at exit (bench only)
if profile:
    import cProfile

    profiler = cProfile.Profile(time.process_time)  # CPU time: the box is shared, wall time would blame waits
    profiler.enable()
    try:
        uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
    finally:
        profiler.disable()
        profiler.dump_stats(f"{profile}.{os.getpid()}")
else:
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
