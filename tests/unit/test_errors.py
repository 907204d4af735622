"""Domain errors: one base class, templates, public details, and one status table in HTTP."""

from __future__ import annotations

import pytest

from botgpt.domain import errors
from botgpt.domain.errors import (
    BotgptError,
    ConversationNotFound,
    DocumentNotReady,
    ErrorKind,
    InvalidRequest,
    ModelUnavailable,
    RateLimited,
)
from botgpt.entrypoints.http.errors import STATUS_OF_KIND, status_for


def domain_error_classes() -> list[type[BotgptError]]:
    return [
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, BotgptError) and value is not BotgptError
    ]


def test_every_kind_has_exactly_one_status() -> None:
    assert set(STATUS_OF_KIND) == set(ErrorKind)


@pytest.mark.parametrize("kind", list(ErrorKind))
def test_client_errors_are_4xx_and_dependency_failures_5xx(kind: ErrorKind) -> None:
    dependency_failures = {ErrorKind.UNAVAILABLE, ErrorKind.UPSTREAM_FAILED}
    assert (STATUS_OF_KIND[kind] >= 500) == (kind in dependency_failures)


def test_codes_are_unique_so_clients_can_tell_errors_apart() -> None:
    codes = [cls.code for cls in domain_error_classes()]
    assert len(codes) == len(set(codes))


def test_a_subclass_inherits_its_parents_kind_unless_it_names_one() -> None:
    assert status_for(ConversationNotFound()) == 404
    assert status_for(DocumentNotReady(document_id="d", status="pending")) == 409
    assert status_for(errors.MessageTooLarge("too long")) == 413
    assert status_for(InvalidRequest("bad")) == 422


def test_the_template_is_the_message_when_none_is_given() -> None:
    assert str(ConversationNotFound()) == "conversation not found"
    assert str(ConversationNotFound("gone away")) == "gone away"
    assert str(errors.InvalidId(what="conversation id")) == "conversation id is malformed"


def test_keyword_fields_become_attributes_and_only_public_ones_reach_clients() -> None:
    error = DocumentNotReady("document d is pending", document_id="d", status="pending")
    assert (error.document_id, error.status) == ("d", "pending")
    assert error.details() == {"document_id": "d", "status": "pending"}

    unavailable = ModelUnavailable("busy", retry_after=2.0, detail="engine exited with SIGILL")
    assert unavailable.retry_after == 2.0
    assert unavailable.details() == {}


def test_class_defaults_hold_until_a_field_overrides_them() -> None:
    assert RateLimited("spent").retry_after is None
    assert errors.EmbedderError("down").transient is True
    assert errors.EmbedderError("bad input", transient=False).transient is False
