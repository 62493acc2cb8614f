import json
import shutil

from contracts.catalog import ALL_MODELS
from contracts.cli import generate
from contracts.socketio.events import SOCKET_EVENTS


def test_committed_generated_files_are_up_to_date(capsys):
    assert generate.DEFAULT_OUT.is_dir(), "run contracts-gen"
    assert generate.main(["--check"]) == 0, capsys.readouterr().out


def test_check_fails_on_a_modified_missing_or_extra_file_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "generated"
    shutil.copytree(generate.DEFAULT_OUT, out)
    assert generate.main(["--check", "--out", str(out)]) == 0
    (out / "schemas" / "NotificationData.json").write_text("{}\n")
    (out / "payloads.d.ts").unlink()
    (out / "schemas" / "Gone.json").write_text("{}\n")
    capsys.readouterr()
    assert generate.main(["--check", "--out", str(out)]) == 1
    report = capsys.readouterr().out
    assert "stale" in report and "NotificationData.json" in report
    assert "missing" in report and "payloads.d.ts" in report
    assert "extra" in report and "Gone.json" in report
    assert (out / "schemas" / "NotificationData.json").read_text() == "{}\n"
    assert generate.main(["--out", str(out)]) == 0
    assert generate.main(["--check", "--out", str(out)]) == 0
    assert not (out / "schemas" / "Gone.json").exists()


def test_output_is_deterministic_json_with_trailing_newline():
    first, second = generate.expected_files(), generate.expected_files()
    assert first == second
    for rel, text in first.items():
        assert text.endswith("\n")
        if rel.endswith(".json"):
            assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert {f"schemas/{m.__name__}.json" for m in ALL_MODELS} <= set(first)


def test_asyncapi_has_a_channel_and_operation_per_event_direction():
    doc = json.loads(generate.expected_files()["asyncapi.json"])
    assert doc["asyncapi"].startswith("3.")
    assert doc["servers"]["gateway"]["pathname"] == "/socket.io"
    assert "auth.token" in doc["servers"]["gateway"]["description"]
    addresses = {ch["address"] for ch in doc["channels"].values()}
    assert {name for name, _ in SOCKET_EVENTS} | {"register_user"} == addresses
    actions = {(op["channel"]["$ref"], op["action"]) for op in doc["operations"].values()}
    for (name, direction), spec in SOCKET_EVENTS.items():
        ref = "#/channels/" + name.replace(":", "-")
        assert (ref, "send" if direction == "server_to_client" else "receive") in actions
        assert spec.payload_model.__name__ in doc["components"]["schemas"]


def test_typescript_marks_optional_and_nullable_fields_like_the_spec():
    ts = generate.expected_files()["payloads.d.ts"]
    assert "  link?: string;" in ts
    assert "  target_user_id?: number;" in ts
    assert "  admin_id: number | null;" in ts
    assert '  type: "system" | "user" | "order" | "alert";' in ts
    assert '"notification:new": NotificationData;' in ts
    assert '"chat:typing": TypingPayload;' in ts and '"chat:typing": TypingData;' in ts
    assert "export interface EventMap" in ts


def test_schemas_show_optional_not_nullable_fields_without_null_or_default():
    schema = json.loads(generate.expected_files()["schemas/NotificationData.json"])
    assert "link" not in schema["required"]
    assert schema["properties"]["link"]["type"] == "string"
    assert "default" not in schema["properties"]["link"] and "anyOf" not in schema["properties"]["link"]
