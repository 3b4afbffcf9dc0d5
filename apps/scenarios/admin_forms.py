"""Forms of the version page: the version itself and its assets.

An asset names its machine by name, so a machine file can target a machine added in the same save:
the names come from the machine rows of the same POST, and the admin resolves the name to the saved
machine after the machines are saved. A chosen file survives a failed save (``apps.scenarios.staging``).
"""

from __future__ import annotations

import json

from django import forms
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.scenarios import authoring, services, staging
from apps.scenarios.models import Machine, ScenarioAsset, ScenarioVersion
from apps.scenarios.validation import questions_errors
from rangex.core.errors import ApplicationError

QUESTIONS_HELP = _(
    "A JSON list. Each question: "
    '{"id": "q1", "type": "flag|single_choice|multiple_choice|numeric|free_text", "prompt": "...", '
    '"points": 10, "max_attempts": 3 or null}. Flag: "answer", "match": "exact|case_insensitive|regex", '
    'optional "dynamic": true with "flag_machine" and "flag_path". Choices: "options": [...], "correct": [0]. '
    'Numeric: "answer": 42, "tolerance": 0.'
)
HINTS_HELP = _('A JSON list. Each hint: {"id": "h1", "question_id": "q1", "text": "...", "cost": 5}.')
MACHINES_PREFIX = "machines"


class ExplainedJSONField(forms.JSONField):
    """A JSON box whose error says what is wrong and where, not just "Enter a valid JSON."."""

    def to_python(self, value):
        if not self.disabled and isinstance(value, str) and value.strip():
            try:
                json.loads(value, cls=self.decoder)
            except json.JSONDecodeError as exc:
                raise forms.ValidationError(
                    gettext("This is not valid JSON: %(problem)s at line %(line)d, column %(column)d.")
                    % {"problem": exc.msg.lower(), "line": exc.lineno, "column": exc.colno},
                    code="invalid",
                ) from None
        return super().to_python(value)


class PrettyJSONField(ExplainedJSONField):
    """A JSON textarea that shows the stored value indented, so creators can read and edit it."""

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False, cls=self.encoder)


class QuestionEditorWidget(forms.Textarea):
    """The JSON of the questions, edited through a form per question (``static/js/question_editor.js``).

    The textarea stays the field that is posted, so the stored shape and the bundle format are unchanged;
    without JavaScript it is the plain JSON box it always was.
    """

    template_name = "admin/scenarios/widgets/question_editor.html"

    def __init__(self, attrs=None):
        super().__init__({"rows": 16, "cols": 100, "class": "rx-json-source", **(attrs or {})})
        self.question_errors: dict[int, list[str]] = {}
        self.test_url = ""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["question_errors"] = {str(k): v for k, v in self.question_errors.items()}
        context["widget"]["test_url"] = self.test_url
        return context


class TagsField(forms.CharField):
    """Tags typed as words separated by commas, stored as the JSON list they always were."""

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return value

    def to_python(self, value):
        text = super().to_python(value)
        if isinstance(text, list):
            return text
        return [t.strip() for t in (text or "").split(",") if t.strip()]


class ScenarioVersionForm(forms.ModelForm):
    tags = TagsField(required=False, help_text=_("Words separated by commas, e.g. web, sql injection."))
    questions = PrettyJSONField(required=False, initial=list, help_text=QUESTIONS_HELP, widget=QuestionEditorWidget)
    hints = PrettyJSONField(
        required=False,
        initial=list,
        help_text=HINTS_HELP,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 100, "class": "rx-json-source"}),
    )

    class Meta:
        model = ScenarioVersion
        fields = list(services.EDITABLE_FIELDS)

    def clean(self):
        data = super().clean()
        for name in ("questions", "hints"):
            if name in data and data[name] is None:
                data[name] = []
        # An empty draft is fine until submit. Invalid JSON already has its error on the field; with bad
        # hints the questions are still checked (against no hints).
        if "questions" in data and (data.get("questions") or data.get("hints")):
            hints_ok = "hints" in data
            hints = data["hints"] if hints_ok else []
            questions = data["questions"]
            errors = questions_errors(
                questions,
                hints,
                scenario_type=data.get("scenario_type") or "challenge",
                validation_mode=data.get("validation_mode") or "instant",
            )
            widget = self.fields["questions"].widget
            for key, texts in authoring.humanize_errors(errors, questions, hints).items():
                field = "hints" if key.startswith("hints") else "questions"
                if field == "hints" and not hints_ok:
                    continue
                section, index, _ = authoring.humanize_key(key, questions, hints)
                if section == "hints" and index is not None and index < len(hints):
                    # A hint's problem is shown under the question it belongs to.
                    qids = [q.get("id") if isinstance(q, dict) else None for q in questions]
                    qid = hints[index].get("question_id") if isinstance(hints[index], dict) else None
                    index = qids.index(qid) if qid in qids else None
                if isinstance(widget, QuestionEditorWidget) and index is not None:
                    widget.question_errors.setdefault(index, []).extend(texts)
                for text in texts:
                    self.add_error(field, text)
        return data


# --- Assets ------------------------------------------------------------------------------------------


class StagedFileInput(forms.ClearableFileInput):
    """A file input that also carries a file kept from a failed save, used unless another is chosen."""

    template_name = "admin/scenarios/widgets/staged_file.html"

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.user_id = None
        self.staged: tuple[str, str] | None = None
        self.used_token: str | None = None

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["staged"] = self.staged
        context["widget"]["staged_name"] = f"{name}-staged"
        return context

    def value_from_datadict(self, data, files, name):
        upload = super().value_from_datadict(data, files, name)
        if upload not in (None, False) or self.user_id is None:
            return upload
        token = data.get(f"{name}-staged") or ""
        kept = staging.staged_upload_open(token=token, user_id=self.user_id) if token else None
        if kept is None:
            return upload
        self.used_token = token
        self.staged = (token, kept.name)
        return kept


class ScenarioAssetForm(forms.ModelForm):
    machine_name = forms.CharField(
        required=False,
        label=_("Machine"),
        widget=forms.Select(attrs={"class": "rx-asset-machine"}),
        help_text=_("For a machine file: the machine it is copied into (machines added above count too)."),
    )
    # Set by the admin per request: whose kept uploads this form may use.
    user_id = None

    class Meta:
        model = ScenarioAsset
        fields = ["file", "file_name", "asset_type", "target_path", "permissions", "description"]
        widgets = {"file": StagedFileInput}

    def __init__(self, *args, machine_names: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.user_id = self.user_id
        if self.instance.pk and self.instance.machine_id:
            self.initial.setdefault("machine_name", self.instance.machine.name)
        self.set_machine_names(machine_names or [])

    def set_machine_names(self, names: list[str]) -> None:
        self.machine_names = names
        current = self["machine_name"].value() or ""
        choices = [("", "---------"), *((n, n) for n in names)]
        if current and current not in names:
            choices.append((current, current))
        self.fields["machine_name"].widget.choices = choices

    def clean_machine_name(self):
        name = (self.cleaned_data.get("machine_name") or "").strip()
        if name and name not in self.machine_names:
            raise forms.ValidationError(
                gettext("This version has no machine named %(name)r; choose one of its machines.") % {"name": name}
            )
        return name

    def _post_clean(self):
        super()._post_clean()
        if self.errors or not self.has_changed() or self.instance.scenario_version_id is None:
            return
        # The service's checks, run now so each message lands on its field before anything is saved.
        asset = self.instance
        name = self.cleaned_data.get("machine_name")
        asset.machine = Machine(name=name) if name else None
        try:
            services.asset_describe_upload(asset)
            services.asset_check(asset, actor=None)
        except ApplicationError as exc:
            for field, texts in exc.fields.items():
                target = "machine_name" if field == "machine" else field
                for text in texts:
                    self.add_error(target if target in self.fields else None, text)
        finally:
            asset.machine = None


def refusal_errors(refused) -> dict[str, list[str]]:
    return refused.fields or {"__all__": [refused.message]}


def formset_refusing(formset, refused) -> None:
    """Put a refusal raised while saving one row of ``formset`` next to that row's fields."""
    prefix = getattr(refused, "form_prefix", None)
    for form in formset.forms:
        if form.prefix != prefix:
            continue
        for field, texts in refusal_errors(refused).items():
            target = "machine_name" if field == "machine" else field
            for text in texts:
                form.add_error(target if target in form.fields else None, text)


class ScenarioAssetFormSet(BaseInlineFormSet):
    """Assets of a version; their machine choices are the machines of the same page, saved or not."""

    def __init__(self, *args, refused=None, **kwargs):
        self.refused = refused
        super().__init__(*args, **kwargs)

    def clean(self):
        super().clean()
        if self.refused is not None:
            formset_refusing(self, self.refused)

    def machine_names(self) -> list[str]:
        if not self.is_bound:
            return list(self.instance.machines.values_list("name", flat=True)) if self.instance.pk else []
        names = []
        try:
            total = int(self.data.get(f"{MACHINES_PREFIX}-TOTAL_FORMS", 0))
        except (TypeError, ValueError):
            total = 0
        for i in range(min(total, 1000)):
            if self.data.get(f"{MACHINES_PREFIX}-{i}-DELETE"):
                continue
            name = (self.data.get(f"{MACHINES_PREFIX}-{i}-name") or "").strip()
            if name and name not in names:
                names.append(name)
        return names

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "machine_names": self._names()}

    def _names(self) -> list[str]:
        if not hasattr(self, "_machine_names"):
            self._machine_names = self.machine_names()
        return self._machine_names

    @property
    def empty_form(self):
        form = super().empty_form
        form.set_machine_names(self._names())
        return form


def asset_machine_of(form: ScenarioAssetForm, version: ScenarioVersion) -> Machine | None:
    """Return the saved machine an asset form names, after the page's machines were saved."""
    name = form.cleaned_data.get("machine_name")
    if not name:
        return None
    return version.machines.filter(name=name).first()
