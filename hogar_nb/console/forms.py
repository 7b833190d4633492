"""Forms: graph uploads, deployments, reconfiguration."""

from __future__ import annotations

from django import forms

from ..core.kinds import RECONFIGURABLE


class UploadForm(forms.Form):
    name = forms.CharField(max_length=200, required=False,
                           help_text="graph name in the console (default: the graph's own name)")
    file = forms.FileField(required=False)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false"}), required=False,
                           strip=False)
    format = forms.ChoiceField(choices=[("auto", "detect"), ("udgl", "UDGL"), ("earg", "EARG (YAML or JSON)")],
                               initial="auto")
    comment = forms.CharField(max_length=500, required=False)

    def clean(self):
        data = super().clean()
        if not data.get("file") and not (data.get("text") or "").strip():
            raise forms.ValidationError("choose a file or paste the graph's text")
        return data


class StartForm(forms.Form):
    name = forms.CharField(max_length=200, required=False)
    allow_faults = forms.BooleanField(required=False, label="allow fault injection")
    backend = forms.ChoiceField(choices=[("embedded", "embedded engine"), ("ray", "Ray Serve")], required=False)
    ray_address = forms.RegexField(
        r"^[A-Za-z0-9.\-]+:[0-9]{1,5}$", max_length=200, required=False,
        error_messages={"invalid": "give the Ray cluster's address as host:port, e.g. 127.0.0.1:6379, "
                                   "or leave it empty to start a local Ray"})

    def clean(self):
        data = super().clean()
        data["backend"] = data.get("backend") or "embedded"
        if data["backend"] != "ray" and data.get("ray_address"):
            raise forms.ValidationError("a Ray address is for the Ray backend: choose Ray Serve or leave it empty")
        return data


class RegisterForm(forms.Form):
    name = forms.CharField(max_length=200)
    url = forms.URLField(max_length=500, assume_scheme="http")
    admin_token = forms.CharField(max_length=200, required=False, widget=forms.PasswordInput)


class ReconfigureForm(forms.Form):
    node = forms.CharField(max_length=200)
    attr = forms.ChoiceField(choices=[(a, a) for a in RECONFIGURABLE])
    value = forms.CharField(max_length=100)


class FaultForm(forms.Form):
    node = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=[(k, k) for k in ("crash", "error", "hang", "slow")])
    rate = forms.FloatField(min_value=0.0, max_value=1.0, initial=1.0)


class RolloutForm(forms.Form):
    """A rollout action on a split; the candidate and policy only with ``start``."""

    split = forms.CharField(max_length=200)
    action = forms.ChoiceField(choices=[(a, a) for a in ("start", "pause", "resume", "promote", "abort")])
    candidate = forms.CharField(max_length=200, required=False)
    steps = forms.RegexField(r"^\s*\d+(\.\d+)?%?(\s*,\s*\d+(\.\d+)?%?)*\s*$", required=False,
                             error_messages={"invalid": "give the steps as shares, e.g. 5%%, 25%%, 50%%, 100%%"})
    step_time = forms.FloatField(min_value=0.01, required=False)
    quality_metric = forms.ChoiceField(choices=[("", "none"), *[(m, m) for m in (
        "accuracy", "f1", "precision", "recall", "mae", "rmse", "log_loss")]], required=False)

    def settings(self) -> dict:
        """The admin API's settings for ``start`` (none for the other actions)."""
        data = self.cleaned_data
        if data["action"] != "start":
            return {}
        out: dict = {"candidate": data.get("candidate") or None}
        if data.get("steps"):
            out["steps"] = [_share(s) for s in data["steps"].split(",")]
        if data.get("step_time"):
            out["step_time"] = data["step_time"]
        if data.get("quality_metric"):
            out["quality_metric"] = data["quality_metric"]
        return out


def _share(text: str) -> float:
    """``25%`` or ``0.25`` (a number above 1 is a percentage too) as a share."""
    text = text.strip()
    value = float(text.rstrip("%"))
    return value / 100.0 if text.endswith("%") or value > 1 else value
