"""The foundation's one table: the data version that page caches are keyed on (isms/foundation/pagecache.py)."""

from django.db import models


class DataVersion(models.Model):
    """One row whose token changes after every committed write to the application's data.

    A cached page is stored under the token read before the page was built, so any write committed since makes
    it unreachable: a page is never served older than the data. A random token rather than a counter, so a
    rolled-back transaction can never bring back a token that pages were cached under."""

    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "data version"

    def __str__(self) -> str:
        return f"data version {self.token[:8]} ({self.changed_at:%Y-%m-%d %H:%M:%S})"
