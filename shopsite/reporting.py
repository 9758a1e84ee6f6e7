"""What Django's debug pages and error mails may show: never a password."""

from __future__ import annotations

import re

from django.views.debug import SafeExceptionReporterFilter

#: The password of a URL with a login: amqp://shop:PASSWORD@broker, postgres://…, smtp+tls://…
#: Up to the host's "@", the last before the path: the login may hold an "@" (user@example.com).
URL_PASSWORD = re.compile(r"\b(?P<login>[a-z][a-z0-9+.-]*://[^\s:/]*:)[^\s/]*@", re.IGNORECASE)


class CredentialFilter(SafeExceptionReporterFilter):
    """Django's filter hides the settings named like a secret (``EMAIL_HOST_PASSWORD``,
    ``DATABASES[…]["PASSWORD"]``), but not a password inside a URL under an
    innocent name: ``BUS["URL"]``, or ``BUS_URL``, ``<SERVICE>_DATABASE_URL``
    and ``EMAIL_URL`` in the request's META, which holds the whole environment
    under runserver. This one hides that password wherever a URL appears: in
    the settings, in META, and in the variables of the traceback's frames. The
    host stays visible, since it is what a developer needs to see.
    """

    def cleanse_setting(self, key, value):
        cleansed = super().cleanse_setting(key, value)
        if type(cleansed) is str:  # a lazy object passes isinstance(…, str), but re cannot read it
            return URL_PASSWORD.sub(rf"\g<login>{self.cleansed_substitute}@", cleansed)
        return cleansed

    def get_traceback_frame_variables(self, request, tb_frame):
        # An empty name: a frame's variables are cleansed of URL passwords (and
        # of secret-named keys inside dicts), not hidden for their own names.
        variables = super().get_traceback_frame_variables(request, tb_frame)
        return [(name, self.cleanse_setting("", value)) for name, value in variables]
