"""Writes of the accounts service: each one transaction, recording what others must learn."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from django.contrib.auth import authenticate, password_validation, user_logged_in
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from shopsite import contracts
from shopsite.addresses import address_parse
from shopsite.bus import statements
from shopsite.errors import ApplicationError, NotFound, TooManyRequests
from shopsite.limits import MAX_SAVED_ADDRESSES
from shopsite.replicas import replica_upsert
from shopsite.transactions import message_transaction

from .lockout import cooloff_seconds, lockout_message
from .models import Address, ApiToken, CustomerOrder, InboxItem, OutboxMessage, User, UserVersion
from .selectors import address_get

DB = "default"

DUPLICATE_EMAIL = "An account with this email already exists"
BAD_CREDENTIALS = "Unable to log in with the given email and password"
WRONG_OLD_PASSWORD = "Your old password was entered incorrectly"
#: What registering answers, whether the email was new or not (see user_sign_up).
REGISTERED = "Registered: log in with your email and password. If this email already had an account, we have emailed its owner."


def _check_email_free(email: str, *, user_id: int | None = None) -> None:
    # ``email`` is normalized, as every stored one is: equality uses the unique index (see UserManager).
    taken = User.objects.filter(email=User.objects.normalize_email(email)).exclude(pk=user_id)
    if taken.exists():
        raise ApplicationError(DUPLICATE_EMAIL)


def _check_password(password: str, *, user: User) -> None:
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as exc:
        raise ApplicationError("This password is not accepted", {"password": exc.messages}) from exc


def _check_role(role: str) -> None:
    if role not in User.Role.values:
        raise ApplicationError("Unknown role", {"role": role, "allowed": list(User.Role.values)})


def user_register(
    *, email: str, password: str, name: str, role: str = User.Role.CUSTOMER, is_staff: bool = False,
    is_superuser: bool = False,
) -> User:
    email = User.objects.normalize_email(email)
    _check_role(role)
    _check_password(password, user=User(email=email, name=name))
    _check_email_free(email)
    try:
        with transaction.atomic(using=DB):
            user = User.objects.create_user(
                email=email, password=password, name=name, role=role, is_staff=is_staff, is_superuser=is_superuser
            )
            _record_user_message(user, registered=True)
    except IntegrityError as exc:  # registered by a concurrent request since the check
        raise ApplicationError(DUPLICATE_EMAIL) from exc
    return user


def user_sign_up(*, email: str, password: str, name: str) -> User | None:
    """A customer's own registration: the new user, or None when the email already has an account.

    The caller answers the same either way, so registering says nothing about
    who has an account; the owner of a taken email is told by mail instead
    (notifications, on UserRegistrationRepeated). The password is checked
    first, so a weak one is refused for a taken email too.
    """
    try:
        return user_register(email=email, password=password, name=name)
    except ApplicationError as error:
        if error.message != DUPLICATE_EMAIL:
            raise
    # The password is hashed as a new account's would be: the time of the answer tells nothing either.
    User().set_password(password)
    with transaction.atomic(using=DB):
        owner = User.objects.get(email=User.objects.normalize_email(email))
        OutboxMessage.record(contracts.UserRegistrationRepeated(user_id=owner.id))
    return None


def user_update(
    *,
    user_id: int,
    name: str | None = None,
    email: str | None = None,
    role: str | None = None,
    is_staff: bool | None = None,
) -> User:
    with transaction.atomic(using=DB):
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if user is None:
            raise NotFound("Unknown user")
        before = user.updated_message()
        if email is not None:
            email = User.objects.normalize_email(email)
            _check_email_free(email, user_id=user_id)
            user.email = email
        if role is not None:
            _check_role(role)
            user.role = role
        if name is not None:
            user.name = name
        if is_staff is not None:
            user.is_staff = is_staff
        if user.updated_message() != before:
            user.save()
            _record_user_message(user)
    return user


def _record_user_message(user: User, *, registered: bool = False) -> None:
    """Tell the other services about the user as it is now, with the user's next version.

    The caller has written (or locked) the user's row in this transaction; see UserVersion.next_for.
    """
    version = UserVersion.next_for(user.pk)
    message = user.registered_message if registered else user.updated_message
    OutboxMessage.record(message(version=version))


def user_save_from_admin(*, user: User, created: bool) -> User:
    """Save a user edited in the Django admin, telling the other services."""
    with transaction.atomic(using=DB):
        user.email = User.objects.normalize_email(user.email)
        user.save()
        _record_user_message(user, registered=created)
    return user


def user_delete(*, user_id: int) -> None:
    # Replicas have no "deleted" message: an inactive user is the closest truth.
    with transaction.atomic(using=DB):
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if user is None:
            return
        user.is_active = False
        _record_user_message(user)
        user.delete()


def auth_token_obtain(*, email: str, password: str, request) -> tuple[ApiToken, str]:
    """A new API token of the user with this email and password, and its key.

    Each login gets a token of its own, so one client logging out leaves the
    others signed in. ``request`` is the HTTP request asking: the login
    lockout (django-axes, an authentication backend) counts failures per
    email and client address.
    """
    user = authenticate(request, email=User.objects.normalize_email(email), password=password)
    if user is None:
        if getattr(request, "axes_locked_out", False):
            raise TooManyRequests(lockout_message(), retry_after_seconds=cooloff_seconds())
        raise ApplicationError(BAD_CREDENTIALS)
    # A token handed out is a login: this clears the failures counted so far.
    user_logged_in.send(sender=type(user), request=request, user=user)
    with transaction.atomic(using=DB):
        # Expired tokens open nothing; this keeps them from piling up.
        user.api_tokens.filter(created_at__lte=ApiToken.oldest_valid()).delete()
        return ApiToken.issue(user=user)


def auth_token_revoke(*, token_id: int) -> None:
    ApiToken.objects.filter(pk=token_id).delete()


def auth_token_revoke_all(*, user_id: int) -> None:
    ApiToken.objects.filter(user_id=user_id).delete()


def user_logout_everywhere(*, user_id: int) -> None:
    """End every API token and every session of the user."""
    with transaction.atomic(using=DB):
        auth_token_revoke_all(user_id=user_id)
        # Part of the session auth hash: every session signed before is refused.
        User.objects.filter(pk=user_id).update(login_generation=F("login_generation") + 1)


def user_password_set(*, user: User, password: str) -> User:
    """Give ``user`` a new password, which revokes their API tokens (``User.save``).

    Their other sessions end by themselves: Django signs each session with a
    hash of the password. ``user`` itself is updated, so that a caller can keep
    its own session with update_session_auth_hash.
    """
    _check_password(password, user=user)
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


def user_password_change(*, user: User, old_password: str, new_password: str) -> User:
    if not user.check_password(old_password):
        raise ApplicationError(WRONG_OLD_PASSWORD, {"old_password": [WRONG_OLD_PASSWORD]})
    return user_password_set(user=user, password=new_password)


def customer_order_apply(
    *, order_id: uuid.UUID, user_id: int, status: str, total: Decimal, version: int | None = None
) -> bool:
    """Move the order's summary to ``status`` unless it is already there or further along; whether it moved.

    ``version`` is the status's place in the saga as orders sent it; a message
    from before it did gets the same number from our own RANKS. One statement:
    nothing reads the summary back.
    """
    if version is None:
        version = CustomerOrder.RANKS[status]
    with message_transaction(DB):
        return replica_upsert(CustomerOrder, using=DB, key={"order_id": order_id}, version=version,
                              values={"user_id": user_id, "status": status, "total": total})


def inbox_item_record(
    *,
    notification_id: uuid.UUID,
    user_id: int,
    order_id: uuid.UUID | None,
    kind: str,
    subject: str,
    body: str,
    sent_at: datetime,
) -> InboxItem:
    """The notification in the customer's inbox, once however often its message comes."""
    item = InboxItem(notification_id=notification_id, user_id=user_id, order_id=order_id, kind=kind,
                     subject=subject, body=body, sent_at=sent_at)
    with message_transaction(DB):
        if statements.create(DB, item, unless_exists=("notification_id",)):
            return item  # as written: every field is the item's own
        return statements.select_one(InboxItem, DB, pk=notification_id)


def inbox_mark_read(*, user_id: int, notification_id: uuid.UUID) -> InboxItem:
    with transaction.atomic(using=DB):
        item = InboxItem.objects.filter(notification_id=notification_id, user_id=user_id).first()
        if item is None:
            raise NotFound("Unknown notification")
        if item.read_at is None:
            item.read_at = timezone.now()
            item.save(update_fields=["read_at"])
    return item


def inbox_mark_all_read(*, user_id: int) -> int:
    """Mark every unread item of the user's inbox read; how many were."""
    with transaction.atomic(using=DB):
        return InboxItem.objects.filter(user_id=user_id, read_at__isnull=True).update(read_at=timezone.now())


# --- the address book ---------------------------------------------------------
#
# Invariant: a user with any address has exactly one default, a user without
# none. The first address added becomes the default, and deleting the default
# hands it to the oldest address left. Each write locks the user's row, so two
# requests of one user cannot both pass the book's limit or both make a default
# (the database's unique constraint on the default backs this up).


def _lock_address_book(user_id: int) -> None:
    if not User.objects.select_for_update().filter(pk=user_id).exists():
        raise NotFound("Unknown user")


def _make_default(address: Address) -> None:
    Address.objects.filter(user_id=address.user_id, is_default=True).exclude(pk=address.pk).update(is_default=False)
    Address.objects.filter(pk=address.pk).update(is_default=True)
    address.is_default = True


def address_create(*, user_id: int, address: contracts.Address, is_default: bool = False) -> Address:
    """Add an address to the user's book, as their default if they ask so or it is their first."""
    address = address_parse(address)
    with transaction.atomic(using=DB):
        _lock_address_book(user_id)
        count = Address.objects.filter(user_id=user_id).count()
        if count >= MAX_SAVED_ADDRESSES:
            raise ApplicationError(
                f"Your address book holds at most {MAX_SAVED_ADDRESSES} addresses: delete one first.",
                {"max_addresses": MAX_SAVED_ADDRESSES},
            )
        saved = Address.objects.create(user_id=user_id, **address.model_dump())
        if is_default or count == 0:
            _make_default(saved)
    return saved


def address_update(*, user_id: int, address_id: uuid.UUID, address: contracts.Address) -> Address:
    """Replace one of the user's addresses with ``address``; whether it is the default does not change."""
    address = address_parse(address)
    with transaction.atomic(using=DB):
        _lock_address_book(user_id)
        saved = address_get(user_id=user_id, address_id=address_id)
        for field, value in address.model_dump().items():
            setattr(saved, field, value)
        saved.save()
    return saved


def address_make_default(*, user_id: int, address_id: uuid.UUID) -> Address:
    with transaction.atomic(using=DB):
        _lock_address_book(user_id)
        saved = address_get(user_id=user_id, address_id=address_id)
        _make_default(saved)
    return saved


def address_delete(*, user_id: int, address_id: uuid.UUID) -> None:
    """Delete one of the user's addresses; if it was the default, the oldest one left becomes it."""
    with transaction.atomic(using=DB):
        _lock_address_book(user_id)
        saved = address_get(user_id=user_id, address_id=address_id)
        saved.delete()
        if saved.is_default:
            oldest = Address.objects.filter(user_id=user_id).order_by("created_at", "id").first()
            if oldest is not None:
                _make_default(oldest)
