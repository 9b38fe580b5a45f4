"""The short names on the wire: one each, and none a name the tag's objects already use."""

from __future__ import annotations

from consentpixel import demo, settings, tag, tagkeys


def test_every_short_name_is_used_once() -> None:
    assert len(set(tagkeys.SETTINGS.values())) == len(tagkeys.SETTINGS)
    assert len(set(tagkeys.SHARED.values())) == len(tagkeys.SHARED)


def test_shared_names_are_not_texts_or_settings() -> None:
    texts = tag.site_texts(demo.config().sites["demo"], "en")
    taken = set(texts) | {s.name for s in settings.TEXT} | set(tagkeys.SETTINGS)
    assert not taken & set(tagkeys.SHARED)


def test_settings_objects_are_named_so() -> None:
    assert tagkeys.holds_settings("settings") and tagkeys.holds_settings("receivedSettings")
    assert not tagkeys.holds_settings("core") and not tagkeys.holds_settings("settingsList")
