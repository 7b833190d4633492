"""What the console stores: graphs and their immutable versions, deployments, metrics
history, the timeline of changes and recovery events, and the audit log."""

from __future__ import annotations

from django.conf import settings
from django.db import models

__all__ = ["AllowedCode", "AuditEntry", "Deployment", "DeploymentRevision", "FeedbackBatch", "FeedbackLabel",
           "GraphRecord", "GraphVersion", "MetricPoint", "QualitySnapshot", "TimelineEvent"]


class ImmutableError(Exception):
    """A graph version was saved twice or deleted: versions never change."""


class GraphRecord(models.Model):
    """A graph by name; its content lives in its versions."""

    name = models.CharField(max_length=200, unique=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def latest(self) -> "GraphVersion | None":
        return self.versions.order_by("-number").first()


class GraphVersion(models.Model):
    """One accepted upload, numbered from 1 within its graph; never changed once saved."""

    graph = models.ForeignKey(GraphRecord, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    source = models.TextField(help_text="the text as uploaded")
    source_format = models.CharField(max_length=8, choices=[("udgl", "UDGL"), ("earg", "EARG")])
    filename = models.CharField(max_length=255, blank=True)
    udgl = models.TextField(help_text="canonical UDGL text")
    earg = models.JSONField(help_text="the EARG document")
    warnings = models.JSONField(default=list)
    comment = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["graph", "-number"]
        constraints = [models.UniqueConstraint(fields=["graph", "number"], name="one_number_per_version")]

    def __str__(self) -> str:
        return f"{self.graph.name} v{self.number}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ImmutableError(f"{self} is immutable; upload a new version instead")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError(f"{self} is immutable and cannot be deleted")


class Deployment(models.Model):
    """A running graph the console watches: started here (``managed``) or registered by URL."""

    MANAGED, REGISTERED = "managed", "registered"
    EMBEDDED, RAY = "embedded", "ray"
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=[(MANAGED, "started here"), (REGISTERED, "registered URL")])
    backend = models.CharField(max_length=10, default=EMBEDDED,
                               choices=[(EMBEDDED, "embedded engine"), (RAY, "Ray Serve")])
    ray_address = models.CharField(max_length=200, blank=True,
                                   help_text="the Ray cluster to join (empty: the server starts a local Ray)")
    version = models.ForeignKey(GraphVersion, null=True, blank=True, on_delete=models.PROTECT)
    url = models.CharField(max_length=500, blank=True)
    earg = models.JSONField(default=dict, blank=True, help_text="the EARG document it runs")
    admin_token = models.CharField(max_length=200, blank=True)
    allow_faults = models.BooleanField(default=False)
    desired = models.CharField(max_length=10, default="running")  # running | stopped
    state = models.CharField(max_length=20, default="starting")
    error = models.TextField(blank=True)
    restarts = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return self.name


class DeploymentRevision(models.Model):
    """One version a deployment ran, numbered from 1: its first start and every later move
    to another version (a roll back included). Kept as long as the deployment is."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    version = models.ForeignKey(GraphVersion, on_delete=models.PROTECT, related_name="+")
    started = models.DateTimeField(auto_now_add=True)
    by = models.CharField(max_length=150)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["deployment", "-number"]
        constraints = [models.UniqueConstraint(fields=["deployment", "number"], name="one_number_per_revision")]

    def __str__(self) -> str:
        return f"{self.deployment.name} #{self.number}: {self.version}"


class MetricPoint(models.Model):
    """One downsampled row of a deployment's metrics (``data``: graph and per-node values)."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="points")
    time = models.FloatField(db_index=True)
    data = models.JSONField()

    class Meta:
        ordering = ["time"]
        indexes = [models.Index(fields=["deployment", "time"])]


class TimelineEvent(models.Model):
    """Something that happened to a deployment: a recovery, a reconfiguration, a start or stop."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="timeline")
    time = models.FloatField(db_index=True)
    kind = models.CharField(max_length=20)  # recovery | reconfigure | alert | fault | start | stop | restart
    node = models.CharField(max_length=200, blank=True)
    text = models.TextField()
    key = models.CharField(max_length=200, blank=True, help_text="deduplicates polled events")

    class Meta:
        ordering = ["time"]


class QualitySnapshot(models.Model):
    """A deployment's model quality as its server last reported it (``rows``: one per
    model node, as :func:`hogar_nb.console.quality.quality_rows` makes them); kept when
    it changes, so the page still shows it while the server restarts or is stopped."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="quality")
    time = models.FloatField(db_index=True)
    rows = models.JSONField()

    class Meta:
        ordering = ["time"]
        indexes = [models.Index(fields=["deployment", "time"])]


class FeedbackBatch(models.Model):
    """Delayed labels posted to the console for one deployment at once, and what the
    deployment's server made of them once they reached it (``counts``: matched,
    unknown, expired, duplicate, pending); ``delivered`` is None until then."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="feedback")
    time = models.FloatField(db_index=True)
    posted_by = models.CharField(max_length=150)
    size = models.PositiveIntegerField()
    delivered = models.FloatField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, help_text="why the last delivery failed")

    class Meta:
        ordering = ["time"]
        indexes = [models.Index(fields=["deployment", "delivered"])]


class FeedbackLabel(models.Model):
    """One delayed label: the true outcome of request ``request_id``."""

    batch = models.ForeignKey(FeedbackBatch, on_delete=models.CASCADE, related_name="labels")
    request_id = models.CharField(max_length=200, db_index=True)
    label = models.JSONField()

    class Meta:
        ordering = ["id"]


class AuditEntry(models.Model):
    """Who did what, when: uploads, deployments, stops, reconfigurations, user changes."""

    time = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.CharField(max_length=150)
    action = models.CharField(max_length=40)
    target = models.CharField(max_length=300)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-time"]
        verbose_name_plural = "audit entries"


def audit(user, action: str, target: str, **detail) -> AuditEntry:
    """Record one action by ``user`` (a User or a name)."""
    name = getattr(user, "get_username", lambda: str(user))()
    return AuditEntry.objects.create(user=name, action=action, target=str(target)[:300], detail=detail)


class AllowedCode(models.Model):
    """One allowlist entry: what operators may deploy (admins deploy anything)."""

    PYTHON, MODEL = "python", "model"
    kind = models.CharField(max_length=8, choices=[(PYTHON, "python module or module prefix"),
                                                   (MODEL, "model artifact directory")])
    entry = models.CharField(
        max_length=300,
        help_text="python: `pkg` allows pkg and pkg.*, `pkg.mod:name` allows that impl alone; "
                  "model: a directory whose artifacts may be loaded")
    note = models.CharField(max_length=300, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["kind", "entry"]
        verbose_name = "allowed code"
        verbose_name_plural = "allowed code"
        constraints = [models.UniqueConstraint(fields=["kind", "entry"], name="one_entry_per_kind")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.entry}"
