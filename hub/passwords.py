"""The password policy, pure: what a new password must not be.

At least ``MIN_PASSWORD_CHARS`` and at most ``MAX_PASSWORD_CHARS`` characters; not the
account's email address (or its part before the @); not one of the passwords attackers try
first. Whether it repeats the old password needs the old hash, so ``hub.auth`` checks that.
"""

from __future__ import annotations

from hub.errors import InvalidInput

MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024

# The most common leaked passwords that are long enough to pass the length rule, compared
# case-insensitively: the ones a guesser tries first.
COMMON_PASSWORDS = frozenset(
    {
        "0123456789",
        "0987654321",
        "1111111111",
        "1234567890",
        "12345678910",
        "123456789a",
        "123456789q",
        "1q2w3e4r5t",
        "1qaz2wsx3edc",
        "aaaaaaaaaa",
        "abc1234567",
        "abcdefghij",
        "administrator",
        "changeme123",
        "football123",
        "iloveyou123",
        "letmein123",
        "password01",
        "password12",
        "password123",
        "password1234",
        "passw0rd123",
        "p@ssw0rd123",
        "qwerty1234",
        "qwerty12345",
        "qwertyuiop",
        "q1w2e3r4t5",
        "welcome123",
        "zaq12wsxcde",
        "contact-hub",
        "contacthub123",
    }
)


def check_password_policy(password: str, *, email: str | None = None) -> None:
    """InvalidInput naming the rule a new password breaks; nothing if it is acceptable."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidInput(f"password must be at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise InvalidInput(f"password must be at most {MAX_PASSWORD_CHARS} characters")
    folded = password.strip().casefold()
    if email:
        address = email.strip().casefold()
        if folded in (address, address.partition("@")[0]):
            raise InvalidInput("password must not be your email address")
    if folded in COMMON_PASSWORDS:
        raise InvalidInput("password is one of the most common passwords; choose another")
