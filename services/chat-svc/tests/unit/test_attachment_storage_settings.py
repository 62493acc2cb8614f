"""Which settings select the attachment store, and the refusals at start when the S3 store is half-configured."""

import pytest
from chat_svc.settings import Settings
from pydantic import ValidationError


def test_the_local_directory_is_the_default_store_and_needs_no_s3_setting(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("CHAT_ATTACHMENTS_STORAGE", raising=False)
    settings = Settings()
    assert (settings.attachments_storage, settings.s3_bucket) == ("local", None)


def test_chat_attachments_storage_s3_with_a_bucket_selects_the_s3_store(monkeypatch: pytest.MonkeyPatch):
    for name, value in {"CHAT_ATTACHMENTS_STORAGE": "s3", "CHAT_S3_BUCKET": "pictures",
                        "CHAT_S3_ENDPOINT_URL": "http://minio:9000", "CHAT_S3_ADDRESSING_STYLE": "path",
                        "CHAT_S3_ACCESS_KEY_ID": "key", "CHAT_S3_SECRET_ACCESS_KEY": "s3-secret-value"}.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert (settings.attachments_storage, settings.s3_bucket, settings.s3_endpoint_url) == (
        "s3", "pictures", "http://minio:9000")
    assert settings.s3_secret_access_key is not None
    assert settings.s3_secret_access_key.get_secret_value() == "s3-secret-value"
    assert "s3-secret-value" not in repr(settings)


def test_choosing_s3_without_a_bucket_fails_at_start_naming_chat_s3_bucket():
    with pytest.raises(ValidationError, match="CHAT_ATTACHMENTS_STORAGE=s3 needs CHAT_S3_BUCKET"):
        Settings(attachments_storage="s3")


def test_an_s3_access_key_without_its_secret_fails_at_start():
    with pytest.raises(ValidationError, match="both CHAT_S3_ACCESS_KEY_ID and CHAT_S3_SECRET_ACCESS_KEY"):
        Settings(attachments_storage="s3", s3_bucket="pictures", s3_access_key_id="key")


def test_an_unknown_store_name_is_refused():
    with pytest.raises(ValidationError, match="attachments_storage"):
        Settings(attachments_storage="ftp")
