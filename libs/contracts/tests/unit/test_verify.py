import re
from pathlib import Path

import pytest
from contracts.cli import verify

# Event names below are assembled at run time so that contracts-verify run over this repository does not
# flag this test file itself.
ON = "socket.on" + "("


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("bad", ["newMessage", "notification"])
def test_verify_fails_naming_file_line_and_reason(tmp_path, capsys, bad):
    path = _write(tmp_path, "client.js", "const s = io();\n" + ON + f"'{bad}', (d) => {{}});\n")
    assert verify.main([str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}:2: '{bad}'" in out
    assert "naming rule" in out and "module prefix" in out


def test_verify_reports_camel_case_and_unregistered_names_differently(tmp_path, capsys):
    _write(tmp_path, "a.ts", ON + "'newMessage')\n" + ON + "'chat:unknown_thing')\n")
    assert verify.main([str(tmp_path)]) == 1
    first, second = capsys.readouterr().out.splitlines()
    assert "camelCase" in first
    assert "well-formed but not in the contracts registry" in second


def test_verify_checks_python_socketio_calls(tmp_path, capsys):
    _write(tmp_path, "gw.py", "@sio.on" + '("chatMessage")\nasync def x(sid, data): ...\n')
    assert verify.main([str(tmp_path)]) == 1
    assert "gw.py:1: 'chatMessage'" in capsys.readouterr().out


def test_verify_checks_the_client_sdk_request_and_send_calls(tmp_path, capsys):
    _write(tmp_path, "page.js", "client.request" + "('chat:send_message', m);\n" + "client.send" + "('chatTyping', t);\n")
    assert verify.main([str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "page.js:2: 'chatTyping'" in out and "page.js:1" not in out


def test_verify_passes_registered_builtin_legacy_dynamic_and_ignored_names(tmp_path, capsys):
    text = "\n".join([
        "io.to(room).emit" + "('notification:new', n);",
        ON + '"connect", f);',
        ON + "'register_user', f);",
        ON + "`chat:typing`, f);",
        "socket.emit" + "(`chat:${action}`, f);",
        ON + "'oldThing', f); // contracts-verify" + ": ignore",
        "sio.emit" + "('chat:new_message', data, to=sid)",
    ])  # fmt: skip
    _write(tmp_path, "ok.js", text)
    (tmp_path / "node_modules").mkdir()
    _write(tmp_path / "node_modules", "lib.js", ON + "'badName')")
    assert verify.main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "1 files scanned" in out and "5 event names checked" in out


def test_verify_passes_on_every_javascript_snippet_of_the_spec(tmp_path, capsys, spec_text):
    snippets = re.findall(r"```javascript\n(.*?)```", spec_text, re.DOTALL)
    assert len(snippets) > 10
    for i, snippet in enumerate(snippets):
        _write(tmp_path, f"snippet_{i}.js", snippet)
    assert verify.main([str(tmp_path)]) == 0, capsys.readouterr().out
    assert all(name in spec_text for name in ("'register_user'", "'connection'", "socket.emit('message'"))


def test_verify_passes_on_the_docs_folder(repo_root, capsys):
    assert verify.main([str(repo_root / "docs")]) == 0, capsys.readouterr().out


def test_verify_checks_fenced_code_in_markdown_at_the_right_line(tmp_path, capsys):
    _write(tmp_path, "x.md", "# t\n`socket.on" + "('prose')`\n```js\n" + ON + "'newMessage')\n```\n")
    assert verify.main([str(tmp_path)]) == 1
    assert "x.md:4: 'newMessage'" in capsys.readouterr().out
