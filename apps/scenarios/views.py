"""Solver pages: the scenario catalog, a scenario's detail page, ratings and favourites."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from apps.scenarios import catalog, downloads, hooks, selectors, social
from apps.scenarios.models import Difficulty
from apps.scenarios.prerequisites import prerequisites_missing, prerequisites_of
from rangex.core.errors import ApplicationError
from rangex.core.markdown import render_markdown


class CatalogFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label=gettext_lazy("Search"))
    category = forms.ChoiceField(required=False)
    difficulty = forms.ChoiceField(required=False, choices=[("", gettext_lazy("Any difficulty")), *Difficulty.choices])
    type = forms.ChoiceField(
        required=False,
        label=gettext_lazy("Type"),
        choices=[("", gettext_lazy("Any type")), *[(t.value, t.label) for t in catalog.CATALOG_TYPES]],
    )
    tag = forms.MultipleChoiceField(required=False, label=gettext_lazy("Tags"))
    sort = forms.ChoiceField(required=False, choices=list(catalog.SORT_LABELS.items()))

    def __init__(self, *args, facets: dict[str, list[str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", gettext_lazy("Any category"))] + [(c, c) for c in facets["categories"]]
        self.fields["tag"].choices = [(t, t) for t in facets["tags"]]

    def filters(self) -> dict:
        return catalog.catalog_filters(self.cleaned_data if self.is_valid() else {})


def _mark_progress(user, versions) -> None:
    """Set ``progress_percent`` on each of ``versions``: the user's own progress (0 for visitors)."""
    versions = list(versions)
    found: dict = {}
    if user.is_authenticated and versions:
        for result in hooks.scenario_progress.send(user=user, versions=versions):
            found.update(result or {})
    for version in versions:
        version.progress_percent = found.get(version.scenario_id, 0)


def _query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@require_GET
def catalog_page(request: HttpRequest) -> HttpResponse:
    facets = catalog.catalog_facets()
    form = CatalogFilterForm(request.GET or None, facets=facets)
    filters = form.filters()
    versions = catalog.catalog_list(user=request.user, **filters)
    page = Paginator(versions, catalog.PAGE_SIZE).get_page(request.GET.get("page"))
    _mark_progress(request.user, page.object_list)
    context = {"form": form, "page": page, "query": _query_without_page(request), "filters": filters}
    if request.htmx and request.htmx.target == "catalog-results":
        return render(request, "scenarios/catalog_results.html", context)
    return render(request, "scenarios/catalog.html", context)


@login_required
@require_GET
def favorites_page(request: HttpRequest) -> HttpResponse:
    versions = catalog.catalog_list(user=request.user, favorites_only=True, sort="newest")
    page = Paginator(versions, catalog.PAGE_SIZE).get_page(request.GET.get("page"))
    _mark_progress(request.user, page.object_list)
    return render(request, "scenarios/favorites.html", {"page": page, "query": _query_without_page(request)})


@require_GET
def detail_page(request: HttpRequest, slug: str) -> HttpResponse:
    version = catalog.catalog_get(user=request.user, slug=slug)
    _mark_progress(request.user, [version])
    context = {
        "version": version,
        "scenario": version.scenario,
        "mission_html": render_markdown(version.mission_text),
        "outcomes_html": render_markdown(version.learning_outcomes or ""),
        "topology": catalog.catalog_topology(version),
        "prerequisites": prerequisites_of(version),
        "locked": prerequisites_missing(user=request.user, version=version),
        "played": social.scenario_played(user=request.user, scenario=version.scenario),
        "downloads": downloads.solver_downloads(version=version),
    }
    return render(request, "scenarios/detail.html", context)


@login_required
@require_GET
def preview_page(request: HttpRequest, version_id) -> HttpResponse:
    """The solver's page of any version, for its creator and reviewers, marked as a preview."""
    version = selectors.scenario_version_get_for_creator(user=request.user, pk=version_id)
    context = {
        "version": version,
        "scenario": version.scenario,
        "mission_html": render_markdown(version.mission_text),
        "outcomes_html": render_markdown(version.learning_outcomes or ""),
        "topology": catalog.catalog_topology(version),
        "prerequisites": [],
        "locked": [],
        "played": False,
        "preview": True,
    }
    return render(request, "scenarios/detail.html", context)


@login_required
@require_POST
def rate(request: HttpRequest, slug: str) -> HttpResponse:
    version = catalog.catalog_get(user=request.user, slug=slug)
    error = None
    try:
        rating = social.scenario_rate(user=request.user, scenario=version.scenario, rating=request.POST.get("rating"))
    except ApplicationError as exc:
        if not request.htmx:
            raise
        # htmx swaps only 2xx answers, so the refusal travels inside the re-rendered block.
        error = exc.message
    else:
        version.my_rating = rating.rating
    if request.htmx:
        played = social.scenario_played(user=request.user, scenario=version.scenario)
        context = {"version": version, "scenario": version.scenario, "rating_error": error, "played": played}
        return render(request, "scenarios/partials/detail_rating.html", context)
    return redirect("scenarios:detail", slug=slug)


@login_required
@require_POST
def favorite(request: HttpRequest, slug: str) -> HttpResponse:
    version = catalog.catalog_get(user=request.user, slug=slug)
    on = request.POST.get("on") in {"1", "true", "on"}
    version.is_favorite = social.scenario_favorite_set(user=request.user, scenario=version.scenario, on=on)
    if request.htmx:
        return render(request, "scenarios/partials/favorite_button.html", {"version": version})
    return redirect("scenarios:detail", slug=slug)
