from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET


def home(request):
    context = {}
    if request.user.is_authenticated:
        from apps.badges.home import learner_home_get

        context["learner"] = learner_home_get(user=request.user)
    return render(request, "home.html", context)


@require_GET
@cache_control(max_age=86400, public=True)
def favicon(request):
    """Send browsers that ask for ``/favicon.ico`` (every page, every browser) to the static icon."""
    return HttpResponseRedirect(static("img/favicon.ico"))
