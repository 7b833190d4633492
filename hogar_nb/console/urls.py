"""The console's URLs."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path, re_path

from .views import audit, changes, deployments, feedback, graphs, live, rollouts, traces, versions

urlpatterns = [
    path("", audit.home, name="home"),
    path("signin/", auth_views.LoginView.as_view(template_name="console/login.html"), name="login"),
    path("signout/", auth_views.LogoutView.as_view(), name="logout"),
    path("graphs/", graphs.graph_list, name="graphs"),
    path("graphs/upload/", graphs.graph_upload, name="graph-upload"),
    path("graphs/<int:pk>/", graphs.graph_detail, name="graph"),
    path("graphs/<int:pk>/diff/", graphs.graph_diff, name="graph-diff"),
    path("graphs/<int:pk>/v/<int:number>/", graphs.version_detail, name="version"),
    path("graphs/<int:pk>/v/<int:number>/download/<str:fmt>", graphs.version_download, name="version-download"),
    path("graphs/<int:pk>/v/<int:number>/deploy/", deployments.deployment_start, name="deployment-start"),
    path("deployments/", deployments.deployment_list, name="deployments"),
    path("deployments/register/", deployments.deployment_register, name="deployment-register"),
    path("deployments/<int:pk>/", deployments.deployment_detail, name="deployment"),
    path("deployments/<int:pk>/stop/", deployments.deployment_stop, name="deployment-stop"),
    path("deployments/<int:pk>/restart/", deployments.deployment_restart, name="deployment-restart"),
    path("deployments/<int:pk>/remove/", deployments.deployment_remove, name="deployment-remove"),
    path("deployments/<int:pk>/reconfigure/", changes.reconfigure, name="deployment-reconfigure"),
    path("deployments/<int:pk>/fault/", changes.fault, name="deployment-fault"),
    path("deployments/<int:pk>/versions/<int:number>/", versions.deployment_switch, name="deployment-switch"),
    path("deployments/<int:pk>/rollout/", rollouts.rollout, name="deployment-rollout"),
    path("deployments/<int:pk>/history", deployments.history, name="deployment-history"),
    path("deployments/<int:pk>/stream", live.stream, name="deployment-stream"),
    path("deployments/<int:pk>/feedback", feedback.feedback, name="deployment-feedback"),
    path("deployments/<int:pk>/traces/", traces.trace_list, name="deployment-traces"),
    re_path(r"^deployments/(?P<pk>[0-9]+)/traces/(?P<trace_id>[0-9a-f]{32})/$", traces.trace_detail,
            name="deployment-trace"),
    path("audit/", audit.audit_log, name="audit"),
    path("admin/", admin.site.urls),
]

handler403 = audit.forbidden

admin.site.site_header = "HOGAR console: users"
admin.site.site_title = "HOGAR console"
