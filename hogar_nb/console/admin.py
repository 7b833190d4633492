"""Django admin: users and groups (the roles), the allowlist of deployable code, and a
read-only audit log."""

from __future__ import annotations

from django.contrib import admin

from .models import AllowedCode, AuditEntry, audit


@admin.register(AllowedCode)
class AllowedCodeAdmin(admin.ModelAdmin):
    list_display = ("kind", "entry", "note", "created_by", "created")
    list_filter = ("kind",)
    search_fields = ("entry", "note")
    exclude = ("created_by",)

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        audit(request.user, "allow", str(obj), kind=obj.kind, entry=obj.entry, changed=change)

    def delete_model(self, request, obj) -> None:
        audit(request.user, "disallow", str(obj), kind=obj.kind, entry=obj.entry)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            audit(request.user, "disallow", str(obj), kind=obj.kind, entry=obj.entry)
        super().delete_queryset(request, queryset)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("time", "user", "action", "target")
    list_filter = ("action",)
    search_fields = ("user", "target")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
