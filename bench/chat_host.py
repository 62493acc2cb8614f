"""chat-svc for the report cell: the real app (`CHAT_*` settings from the environment), verifying the bench's
tokens against its JWKS file, served by uvicorn."""

import argparse
import sys
from pathlib import Path

import uvicorn

sys.path.insert(0, str(Path(__file__).parent))
from benchkeys import verifier_from
from chat_svc.main import create_app
from chat_svc.settings import Settings

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--jwks", required=True)
args = parser.parse_args()
app = create_app(Settings(log_level="WARNING"), jwt_verifier=verifier_from(args.jwks))
uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
