import hashlib
import secrets
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models, transaction
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac

from shopsite import contracts
from shopsite.bus import models as bus
from shopsite.ids import uuid7
from shopsite.limits import (
    ADDRESS_CITY_LENGTH, ADDRESS_LINE_LENGTH, ADDRESS_NAME_LENGTH, ADDRESS_POSTAL_CODE_LENGTH, ADDRESS_REGION_LENGTH,
)


class OutboxMessage(bus.OutboxMessage):
    PUBLISHES = (
        contracts.UserRegistered,
        contracts.UserUpdated,
        contracts.UserRegistrationRepeated,
    )


class InboxMessage(bus.InboxMessage):
    pass


class UserManager(BaseUserManager):
    use_in_migrations = True

    def normalize_email(self, email):
        # Addresses are unique whatever their case, so they are stored lower-case.
        return super().normalize_email(email).strip().lower()

    def get_by_natural_key(self, username):
        # Every address is stored normalized (lower-case), so the normalized one finds it through the unique
        # index; a case-insensitive match (email__iexact) cannot use it and reads every user at each login.
        return self.get(email=self.normalize_email(username))

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        extra_fields.setdefault("role", User.Role.STAFF)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser has is_staff=True and is_superuser=True.")
        # `manage.py createsuperuser` comes here rather than through
        # accounts.services (django.contrib.auth's command wins over any
        # override), so the other services learn about this user here too.
        with transaction.atomic(using=self._db or "default"):
            user = self._create_user(email, password, **extra_fields)
            OutboxMessage.record(user.registered_message(version=UserVersion.next_for(user.pk)))
        return user

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user


class User(AbstractUser):
    class Role(models.TextChoices):
        CUSTOMER = "customer"
        MERCHANT = "merchant"
        STAFF = "staff"

    username = None
    first_name = None
    last_name = None
    email = models.EmailField("email address", unique=True)
    name = models.CharField(max_length=150)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CUSTOMER)
    # Raised by "log out everywhere". It is signed into every session (see
    # _get_session_auth_hash), so sessions opened before it changed are refused.
    login_generation = models.PositiveIntegerField(default=0, editable=False)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    objects = UserManager()

    class Meta:
        ordering = ["id"]
        constraints = [
            # Every address is stored as UserManager.normalize_email leaves it (lower-case), so logins and the
            # duplicate check find it by equality through the unique index; the database holds everyone to it.
            models.CheckConstraint(condition=Q(email=Lower("email")), name="accounts_user_email_lower"),
        ]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs):
        # A new password ends every API token of the user, whichever way it was set: the API, the pages, a
        # password reset, staff in the admin, or an operator's `manage.py changepassword` (Django's command,
        # which comes straight here). Sessions end by themselves: they are signed with the password's hash.
        new_password = self._password is not None and self.pk is not None
        if not new_password:
            return super().save(*args, **kwargs)
        with transaction.atomic(using=kwargs.get("using") or self._state.db or "default"):
            super().save(*args, **kwargs)
            ApiToken.objects.using(self._state.db).filter(user_id=self.pk).delete()

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name

    def _get_session_auth_hash(self, secret=None):
        # Django signs each session with a hash of the password, so a new
        # password ends every other session; the generation does the same for
        # "log out everywhere". Django's get_session_auth_hash and its
        # SECRET_KEY_FALLBACKS variant both come here.
        key_salt = "accounts.User.get_session_auth_hash"
        value = f"{self.password}:{self.login_generation}"
        return salted_hmac(key_salt, value, secret=secret, algorithm="sha256").hexdigest()

    def registered_message(self, *, version: int | None = None) -> contracts.UserRegistered:
        return contracts.UserRegistered(**self._details(), version=version)

    def updated_message(self, *, version: int | None = None) -> contracts.UserUpdated:
        return contracts.UserUpdated(**self._details(), version=version)

    def _details(self) -> dict:
        return {"user_id": self.pk, "email": self.email, "name": self.name, "is_staff": self.is_staff,
                "role": self.role, "is_active": self.is_active}


class UserVersion(models.Model):
    """How many messages accounts has published about a user: the ``version`` of the next one is one more.

    Replicas keep the user's newest message by it (shopsite/replicas.py). It
    is a table of its own rather than a field of User because every save of a
    User writes all its fields: a stale copy saved later (a password change,
    the admin) would put an old count back and the next message would repeat
    a version.
    """

    user = models.OneToOneField(User, primary_key=True, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"user {self.user_id} at version {self.version}"

    @classmethod
    def next_for(cls, user_id: int) -> int:
        """Count one more message about the user, in the caller's transaction; its version.

        Call it after writing the user's row in the same transaction: that
        write holds the row until commit, so two changes of one user count in
        the order they commit and the higher version carries the later state.
        """
        if not cls.objects.filter(user_id=user_id).update(version=F("version") + 1):
            cls.objects.create(user_id=user_id, version=1)  # a user from before versions, or made without a message
        return cls.objects.filter(user_id=user_id).values_list("version", flat=True).get()


def api_token_digest(key: str) -> str:
    # The keys are random 256-bit strings: a plain SHA-256 cannot be guessed
    # back, and unlike a password hash it is cheap enough for every request.
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """An API key handed out at login.

    Only its digest is stored, so a copy of the database opens no account.
    It expires API_TOKEN_TTL after it was made (the setting is read at each
    use, so shortening it takes effect at once) and is deleted when revoked.
    """

    digest = models.CharField(max_length=64, unique=True, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"token of {self.user_id} from {self.created_at:%Y-%m-%d %H:%M}"

    @classmethod
    def issue(cls, *, user: User) -> tuple["ApiToken", str]:
        """A new token of ``user`` and its key, which is never stored."""
        key = secrets.token_urlsafe(32)
        return cls.objects.create(digest=api_token_digest(key), user=user), key

    @staticmethod
    def oldest_valid() -> datetime:
        return timezone.now() - settings.API_TOKEN_TTL

    @property
    def expires_at(self) -> datetime:
        return self.created_at + settings.API_TOKEN_TTL


class CustomerOrder(models.Model):
    """The user's view of one of their orders, fed by the orders service."""

    class Status(models.TextChoices):
        PENDING = "pending"
        AWAITING_PAYMENT = "awaiting_payment"
        CONFIRMED = "confirmed"
        SHIPPED = "shipped"
        DELIVERED = "delivered"
        CANCELLED = "cancelled"

    #: Where each status stands in the saga, for messages from before orders sent it as their version.
    RANKS = contracts.ORDER_SAGA
    COMPLETED = (Status.CONFIRMED, Status.SHIPPED, Status.DELIVERED)

    order_id = models.UUIDField(primary_key=True)
    user_id = models.PositiveBigIntegerField(db_index=True)
    status = models.CharField(max_length=20, choices=Status.choices)
    # The status's place in the saga, as orders numbers it: messages may arrive late or twice, and the
    # summary only ever moves further along (shopsite/replicas.py).
    version = models.PositiveSmallIntegerField(editable=False)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"order {self.order_id} ({self.status})"


class InboxItem(models.Model):
    """A notification the user was sent, as shown in their inbox."""

    notification_id = models.UUIDField(primary_key=True)
    user_id = models.PositiveBigIntegerField()
    order_id = models.UUIDField(null=True, blank=True)
    kind = models.CharField(max_length=50)
    subject = models.CharField(max_length=255)
    body = models.TextField()
    sent_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_at", "-notification_id"]
        indexes = [models.Index(fields=["user_id", "-sent_at"], name="accounts_inbox_user_newest")]

    def __str__(self) -> str:
        return self.subject


class Address(models.Model):
    """An address in a customer's address book, to check out with; at most one is their default."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="addresses")
    name = models.CharField(max_length=ADDRESS_NAME_LENGTH)
    line1 = models.CharField(max_length=ADDRESS_LINE_LENGTH)
    line2 = models.CharField(max_length=ADDRESS_LINE_LENGTH, blank=True)
    city = models.CharField(max_length=ADDRESS_CITY_LENGTH)
    region = models.CharField(max_length=ADDRESS_REGION_LENGTH, blank=True)
    postal_code = models.CharField(max_length=ADDRESS_POSTAL_CODE_LENGTH)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_default", "created_at", "id"]
        verbose_name_plural = "addresses"
        constraints = [
            # The services keep to it; this makes two concurrent requests unable to break it either.
            models.UniqueConstraint(fields=["user"], condition=Q(is_default=True), name="accounts_address_one_default"),
        ]

    def __str__(self) -> str:
        return ", ".join(self.as_address().lines())

    def as_address(self) -> contracts.Address:
        # Saved through a contracts.Address, so it is one again without a second check.
        return contracts.Address.model_construct(
            name=self.name, line1=self.line1, line2=self.line2, city=self.city, region=self.region,
            postal_code=self.postal_code, country=self.country,
        )
