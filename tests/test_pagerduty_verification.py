"""Webhooks V3 signature checks against vectors computed outside Relay (openssl dgst -hmac)."""

import pytest

from app.integrations.pagerduty.verification import InvalidSignature, sign, signatures, verify

BODY = b'{"event":{"id":"01TEST","event_type":"pagey.ping"}}'
OLD, NEW = "whsec-old-0001", "whsec-new-0002"
# printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$SECRET"
OLD_SIGNATURE = "v1=bbf65f53eea3764919017923c1ab15f655267cb219a83de41795a161a2b565f8"
NEW_SIGNATURE = "v1=f17e5fcc481550512d377c556ef25f1215242d6212e411cc417ac45018e25d01"


def test_sign_matches_the_vectors() -> None:
    assert sign(BODY, OLD) == OLD_SIGNATURE
    assert sign(BODY, NEW) == NEW_SIGNATURE
    # HMAC-SHA256 with key "key" over an empty message, a widely published value.
    assert sign(b"", "key") == "v1=5d5d139563c95b5967b9bd9a8c9b233a9dedb45072794cd232dc1b74832607d0"


def test_a_signature_under_either_secret_passes_while_they_rotate() -> None:
    verify(BODY, OLD_SIGNATURE, [OLD, NEW])
    verify(BODY, NEW_SIGNATURE, [OLD, NEW])
    verify(BODY, NEW_SIGNATURE, [NEW])
    with pytest.raises(InvalidSignature, match="matches"):
        verify(BODY, OLD_SIGNATURE, [NEW])  # the old secret is gone once rotation ends


def test_any_of_several_signatures_in_the_header_passes() -> None:
    verify(BODY, f"v1={'0' * 64},{NEW_SIGNATURE}", [NEW])
    verify(BODY, f"{OLD_SIGNATURE},{NEW_SIGNATURE}", [OLD])
    verify(BODY, f"v0=ignored, {NEW_SIGNATURE}", [NEW])
    assert signatures(f"{OLD_SIGNATURE},v2=abc,{NEW_SIGNATURE}") == [OLD_SIGNATURE[3:], NEW_SIGNATURE[3:]]


@pytest.mark.parametrize(
    ("body", "header", "reason"),
    [
        (BODY, None, "missing"),
        (BODY, "", "missing"),
        (BODY, "sha256=abc", "no v1 signature"),
        (BODY, "v1=" + "0" * 64, "matches"),
        (BODY, OLD_SIGNATURE.upper().replace("V1=", "v1="), "matches"),  # hex is lowercase
        (BODY + b" ", OLD_SIGNATURE, "matches"),  # one byte more than was signed
        (BODY.replace(b"ping", b"pong"), OLD_SIGNATURE, "matches"),
    ],
)
def test_forgeries_and_missing_signatures_are_refused(body: bytes, header: str | None, reason: str) -> None:
    with pytest.raises(InvalidSignature, match=reason):
        verify(body, header, [OLD, NEW])


def test_nothing_passes_without_a_configured_secret() -> None:
    with pytest.raises(InvalidSignature, match="no webhook secret"):
        verify(BODY, OLD_SIGNATURE, [])
